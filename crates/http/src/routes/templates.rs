//! Firm-wide message templates (seed 001). Owners and admins keep them; every staff member
//! uses them. Placeholders are checked when a template is saved and filled when it is used.

use crate::routing::Routes;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::authz::{Action, authorize, matter_visibility};
use vestibule_domain::ids::{ClientId, ContactId, MatterId, TemplateId};
use vestibule_domain::principal::Principal;
use vestibule_domain::template::TemplateText;
use vestibule_domain::{ValidationErrors, text};
use vestibule_storage::templates::{self, TemplateChanges, TemplateRow};
use vestibule_storage::{contacts, matters, write_tx};

use crate::audit::{self, Entry, Origin};
use crate::auth::principal::Authenticated;
use crate::db;
use crate::error::{ApiError, OrUnknown};
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::{created, utc};
use crate::state::AppState;
use vestibule_app::messaging::{self, TemplateValues};

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_templates)
        .service(create_template)
        .service(get_template)
        .service(update_template)
        .service(delete_template)
        .service(render_template);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageTemplate {
    pub id: TemplateId,
    pub name: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<TemplateRow> for MessageTemplate {
    fn from(row: TemplateRow) -> Self {
        Self {
            id: TemplateId::from_trusted(row.id),
            name: row.name,
            subject: row.subject,
            body: row.body,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

/// `subject` and `body` may use `{{client.name}}`, `{{contact.first_name}}`,
/// `{{contact.last_name}}`, `{{contact.full_name}}`, `{{matter.title}}`,
/// `{{matter.reference}}`, `{{firm.name}}` and `{{staff.name}}` (the sender). Anything else
/// in double braces is refused with `unknown_placeholder`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTemplate {
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    pub subject: String,
    pub body: String,
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTemplate {
    #[schema(max_length = 120)]
    pub name: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
}

/// The conversation a template is rendered for, as the "import a template" step of the
/// message editor needs it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderTemplate {
    pub contact_id: ContactId,
    /// Defaults to the matter's client, or else the contact's client.
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RenderedTemplate {
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateListQuery {
    /// Case-insensitive substring of the name.
    pub q: Option<String>,
}

fn checked(errors: &mut ValidationErrors, pointer: &str, raw: &str, max: usize) -> Option<String> {
    let value = errors.check(pointer, text::required(raw, max))?;
    errors.check(pointer, TemplateText::parse(&value)).map(|_| value)
}

impl CreateTemplate {
    fn validate(self, firm_id: &str) -> Result<TemplateRow, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = errors.check("/name", text::required(&self.name, 120));
        let subject = checked(&mut errors, "/subject", &self.subject, messaging::MAX_SUBJECT_CHARS);
        let body = checked(&mut errors, "/body", &self.body, messaging::MAX_BODY_CHARS);
        errors.into_result()?;
        let now = vestibule_storage::now();
        Ok(TemplateRow {
            id: TemplateId::generate().into(),
            firm_id: firm_id.to_owned(),
            name: name.unwrap_or_default(),
            subject: subject.unwrap_or_default(),
            body: body.unwrap_or_default(),
            created_at: now,
            updated_at: now,
        })
    }
}

impl UpdateTemplate {
    fn into_changes(self) -> Result<TemplateChanges, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let changes = TemplateChanges {
            name: self.name.and_then(|v| errors.check("/name", text::required(&v, 120))),
            subject: self.subject.and_then(|v| checked(&mut errors, "/subject", &v, messaging::MAX_SUBJECT_CHARS)),
            body: self.body.and_then(|v| checked(&mut errors, "/body", &v, messaging::MAX_BODY_CHARS)),
            updated_at: vestibule_storage::now(),
        };
        errors.into_result().map(|()| changes)
    }
}

/// The firm's message templates.
#[utoipa::path(
    tag = "messages",
    params(TemplateListQuery, PageQuery),
    responses((status = 200, body = Paginated<MessageTemplate>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/message-templates")]
pub async fn list_templates(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    query: Query<TemplateListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<MessageTemplate>>, ApiError> {
    authorize(&principal, Action::UseTemplates)?;
    let page = page.page()?;
    let needle = query.into_inner().q.filter(|q| !q.trim().is_empty());
    db::run(&state, move |conn| {
        let firm_id = principal.firm_id().as_str();
        let rows = templates::list(conn, firm_id, needle.as_deref(), page.after.as_deref(), page.limit)?;
        Ok(web::Json(Paginated::from_rows(&page, rows, |r| r.id.clone(), MessageTemplate::from)))
    })
    .await
}

/// Create a message template.
#[utoipa::path(
    tag = "messages",
    request_body = CreateTemplate,
    responses(
        (status = 201, body = MessageTemplate, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/message-templates")]
pub async fn create_template(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<CreateTemplate>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::ManageTemplates)?;
    let row = body.validate(principal.firm_id().as_str())?;
    let row = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            templates::insert(conn, &row)?;
            audit::record(conn, &origin, &principal, Entry::success("template.created", "template", &row.id))?;
            Ok(row)
        })
    })
    .await?;
    Ok(created(format!("/v1/message-templates/{}", row.id), &MessageTemplate::from(row)))
}

/// One message template.
#[utoipa::path(
    tag = "messages",
    params(("template_id" = TemplateId, Path)),
    responses((status = 200, body = MessageTemplate), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/message-templates/{template_id}")]
pub async fn get_template(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<TemplateId>,
) -> Result<web::Json<MessageTemplate>, ApiError> {
    authorize(&principal, Action::UseTemplates)?;
    let id = path.into_inner();
    db::run(&state, move |conn| Ok(web::Json(templates::get(conn, principal.firm_id().as_str(), id.as_str())?.into())))
        .await
}

/// Change a message template.
#[utoipa::path(
    tag = "messages",
    params(("template_id" = TemplateId, Path)),
    request_body = UpdateTemplate,
    responses(
        (status = 200, body = MessageTemplate),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[patch("/message-templates/{template_id}")]
pub async fn update_template(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<TemplateId>,
    ApiJson(body): ApiJson<UpdateTemplate>,
) -> Result<web::Json<MessageTemplate>, ApiError> {
    authorize(&principal, Action::ManageTemplates)?;
    let changes = body.into_changes()?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            templates::get(conn, firm_id, id.as_str())?;
            let row = templates::update(conn, firm_id, id.as_str(), &changes)?;
            audit::record(conn, &origin, &principal, Entry::success("template.updated", "template", &row.id))?;
            Ok(web::Json(row.into()))
        })
    })
    .await
}

/// Delete a message template.
#[utoipa::path(
    tag = "messages",
    params(("template_id" = TemplateId, Path)),
    responses((status = 204, description = "Deleted."), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[delete("/message-templates/{template_id}")]
pub async fn delete_template(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<TemplateId>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::ManageTemplates)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            templates::delete(conn, principal.firm_id().as_str(), id.as_str())?;
            audit::record(conn, &origin, &principal, Entry::success("template.deleted", "template", id.as_str()))?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Fills the template for a contact (and client or matter) with the caller as sender, for
/// the editor to show before sending. A placeholder the conversation has no value for
/// (`{{matter.title}}` without a matter) is a 422 `placeholder_unavailable`.
#[utoipa::path(
    tag = "messages",
    params(("template_id" = TemplateId, Path)),
    request_body = RenderTemplate,
    responses(
        (status = 200, body = RenderedTemplate),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/message-templates/{template_id}/render")]
pub async fn render_template(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<TemplateId>,
    ApiJson(body): ApiJson<RenderTemplate>,
) -> Result<web::Json<RenderedTemplate>, ApiError> {
    authorize(&principal, Action::UseTemplates)?;
    let Principal::Staff(me) = &principal else {
        return Err(ApiError::Forbidden("templates are rendered for a sender".to_owned()));
    };
    let staff_id = me.staff_id.clone();
    let id = path.into_inner();
    db::run(&state, move |conn| {
        let firm_id = principal.firm_id().as_str();
        templates::get(conn, firm_id, id.as_str())?;
        let contact = contacts::get(conn, firm_id, body.contact_id.as_str())
            .or_unknown("/contact_id", "no such contact in this firm")?;
        let matter = match &body.matter_id {
            Some(matter) => Some(
                matters::get(conn, firm_id, matter.as_str(), &matter_visibility(&principal))
                    .or_unknown("/matter_id", "no such matter visible to you")?,
            ),
            None => None,
        };
        let client_id = matter
            .as_ref()
            .map(|m| m.client_id.clone())
            .or(body.client_id.map(String::from))
            .or(contact.client_id.clone())
            .ok_or_else(|| ApiError::field("/client_id", "required", "name the client or matter"))?;
        let values = TemplateValues::load(
            conn,
            firm_id,
            staff_id.as_str(),
            &client_id,
            &contact.id,
            matter.as_ref().map(|m| m.id.as_str()),
        )
        .map_err(ApiError::from)
        .or_unknown("/client_id", "no such client in this firm")?;
        let (subject, body) = messaging::render_template(conn, firm_id, id.as_str(), &values, "")?;
        Ok(web::Json(RenderedTemplate { subject, body }))
    })
    .await
}
