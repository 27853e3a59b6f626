//! Firm-wide message templates. Owners and admins keep them; every staff member uses them.

use vestibule_domain::authz::{Action, authorize, matter_visibility};
use vestibule_domain::cursor::Page;
use vestibule_domain::ids::{ClientId, ContactId, MatterId, TemplateId};
use vestibule_domain::principal::Principal;
use vestibule_storage::templates::{self, TemplateChanges, TemplateRow};
use vestibule_storage::{DbConnection, contacts, matters};

use crate::audit::Entry;
use crate::change::audited;
use crate::context::Context;
use crate::error::{AppError, AppResult, OrUnknown};
use crate::messaging::{self, TemplateValues};
use crate::page::Listed;

/// A template to create; its texts already checked for known placeholders.
#[derive(Debug, Clone)]
pub struct NewTemplate {
    pub name: String,
    pub subject: String,
    pub body: String,
}

/// Fields to change; `None` keeps.
#[derive(Debug, Clone, Default)]
pub struct TemplateUpdate {
    pub name: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
}

/// The conversation a template is filled for; the client defaults to the matter's, or else
/// the contact's.
#[derive(Debug, Clone)]
pub struct RenderFor {
    pub contact_id: ContactId,
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
}

#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    name_contains: Option<&str>,
    page: &Page,
) -> AppResult<Listed<TemplateRow>> {
    authorize(&ctx.principal, Action::UseTemplates)?;
    let rows = templates::list(conn, ctx.firm_id(), name_contains, page.after.as_deref(), page.limit)?;
    Ok(Listed::finish(page, rows, |r| r.id.clone()))
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, id: &TemplateId) -> AppResult<TemplateRow> {
    authorize(&ctx.principal, Action::UseTemplates)?;
    Ok(templates::get(conn, ctx.firm_id(), id.as_str())?)
}

#[tracing::instrument(skip(conn, ctx))]
pub fn create(conn: &mut DbConnection, ctx: &Context, new: NewTemplate) -> AppResult<TemplateRow> {
    let now = vestibule_storage::now();
    let row = TemplateRow {
        id: TemplateId::generate().into(),
        firm_id: ctx.firm_id().to_owned(),
        name: new.name,
        subject: new.subject,
        body: new.body,
        created_at: now,
        updated_at: now,
    };
    let id = row.id.clone();
    audited(conn, ctx, Action::ManageTemplates, Entry::success("template.created", "template", &id), |conn, _| {
        templates::insert(conn, &row)?;
        Ok(row)
    })
}

#[tracing::instrument(skip(conn, ctx))]
pub fn update(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &TemplateId,
    update: TemplateUpdate,
) -> AppResult<TemplateRow> {
    let entry = Entry::success("template.updated", "template", id.as_str());
    audited(conn, ctx, Action::ManageTemplates, entry, |conn, firm_id| {
        templates::get(conn, firm_id, id.as_str())?;
        let changes = TemplateChanges {
            name: update.name,
            subject: update.subject,
            body: update.body,
            updated_at: vestibule_storage::now(),
        };
        Ok(templates::update(conn, firm_id, id.as_str(), &changes)?)
    })
}

#[tracing::instrument(skip(conn, ctx))]
pub fn delete(conn: &mut DbConnection, ctx: &Context, id: &TemplateId) -> AppResult<()> {
    let entry = Entry::success("template.deleted", "template", id.as_str());
    audited(conn, ctx, Action::ManageTemplates, entry, |conn, firm_id| {
        Ok(templates::delete(conn, firm_id, id.as_str())?)
    })
}

/// Fills the template with the caller as sender: `(subject, body)`. A placeholder the
/// conversation has no value for is refused.
#[tracing::instrument(skip(conn, ctx))]
pub fn render(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &TemplateId,
    about: RenderFor,
) -> AppResult<(String, String)> {
    authorize(&ctx.principal, Action::UseTemplates)?;
    let Principal::Staff(me) = &ctx.principal else {
        return Err(AppError::Forbidden("templates are rendered for a sender".to_owned()));
    };
    let firm_id = ctx.firm_id();
    templates::get(conn, firm_id, id.as_str())?;
    let contact = contacts::get(conn, firm_id, about.contact_id.as_str())
        .or_unknown("/contact_id", "no such contact in this firm")?;
    let matter = match &about.matter_id {
        Some(matter) => Some(
            matters::get(conn, firm_id, matter.as_str(), &matter_visibility(&ctx.principal))
                .or_unknown("/matter_id", "no such matter visible to you")?,
        ),
        None => None,
    };
    let client_id = matter
        .as_ref()
        .map(|m| m.client_id.clone())
        .or(about.client_id.map(String::from))
        .or(contact.client_id.clone())
        .ok_or_else(|| AppError::field("/client_id", "required", "name the client or matter"))?;
    let values = TemplateValues::load(
        conn,
        firm_id,
        me.staff_id.as_str(),
        &client_id,
        &contact.id,
        matter.as_ref().map(|m| m.id.as_str()),
    )
    .or_unknown("/client_id", "no such client in this firm")?;
    messaging::render_template(conn, firm_id, id.as_str(), &values, "")
}
