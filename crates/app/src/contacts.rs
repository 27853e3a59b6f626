//! Contacts: people linked to a client, a staff member or an office, kept in step with the
//! firm's other systems by their external id.

use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::cursor::Page;
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{ClientId, ContactId, OfficeId, StaffId};
use vestibule_domain::roles::ContactOfKind;
use vestibule_domain::{ValidationErrors, email, text};
use vestibule_storage::contacts::{self, ContactChanges, ContactFilter, ContactRow};
use vestibule_storage::{DbConnection, clients, offices, staff, write_tx};

use crate::audit::{self, Entry};
use crate::change::audited;
use crate::context::Context;
use crate::error::{AppError, AppResult, OrUnknown};
use crate::page::Listed;
use crate::upsert::Upserted;

/// Whom a contact belongs to, as the caller named it: checked against the firm's records.
#[derive(Debug, Clone)]
pub struct Of {
    pub kind: ContactOfKind,
    pub id: String,
}

/// A contact to create, or to become under an external id; values already validated.
#[derive(Debug, Clone)]
pub struct NewContact {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub external_id: Option<String>,
    pub of: Of,
}

/// Fields to change as sent, validated once the contact is known to exist: `None` keeps,
/// `Some(None)` clears.
#[derive(Debug, Clone, Default)]
pub struct ContactPatch {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub external_id: Option<Option<String>>,
    pub of: Option<Of>,
}

#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    filter: &ContactFilter,
    page: &Page,
) -> AppResult<Listed<ContactRow>> {
    authorize(&ctx.principal, Action::ReadContacts)?;
    let rows = contacts::list(conn, ctx.firm_id(), filter, page.after.as_deref(), page.limit)?;
    Ok(Listed::finish(page, rows, |r| r.id.clone()))
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, id: &ContactId) -> AppResult<ContactRow> {
    authorize(&ctx.principal, Action::ReadContacts)?;
    Ok(contacts::get(conn, ctx.firm_id(), id.as_str())?)
}

#[tracing::instrument(skip(conn, ctx))]
pub fn create(conn: &mut DbConnection, ctx: &Context, new: NewContact) -> AppResult<ContactRow> {
    authorize(&ctx.principal, Action::WriteContacts)?;
    write_tx(conn, |conn| insert(conn, ctx, new))
}

#[tracing::instrument(skip(conn, ctx))]
pub fn update(conn: &mut DbConnection, ctx: &Context, id: &ContactId, patch: ContactPatch) -> AppResult<ContactRow> {
    let entry = Entry::success("contact.updated", "contact", id.as_str()).publishes(EventType::ContactUpdated);
    audited(conn, ctx, Action::WriteContacts, entry, |conn, firm_id| {
        contacts::get(conn, firm_id, id.as_str())?;
        let changes = changes_for(conn, firm_id, patch)?;
        Ok(contacts::update(conn, firm_id, id.as_str(), &changes)?)
    })
}

#[tracing::instrument(skip(conn, ctx))]
pub fn delete(conn: &mut DbConnection, ctx: &Context, id: &ContactId) -> AppResult<()> {
    let entry = Entry::success("contact.deleted", "contact", id.as_str()).publishes(EventType::ContactDeleted);
    audited(conn, ctx, Action::WriteContacts, entry, |conn, firm_id| Ok(contacts::delete(conn, firm_id, id.as_str())?))
}

/// Creates or replaces the contact with this external id. The same values again change
/// nothing.
#[tracing::instrument(skip(conn, ctx))]
pub fn upsert(
    conn: &mut DbConnection,
    ctx: &Context,
    external_id: &str,
    new: NewContact,
) -> AppResult<Upserted<ContactRow>> {
    authorize(&ctx.principal, Action::WriteContacts)?;
    write_tx(conn, |conn| {
        let firm_id = ctx.firm_id();
        let Some(existing) = contacts::find_by_external_id(conn, firm_id, external_id)? else {
            return Ok(Upserted::Created(insert(conn, ctx, new)?));
        };
        let (client_id, staff_id, office_id) = resolve_of(conn, firm_id, &new.of)?;
        let unchanged = existing.first_name == new.first_name
            && existing.last_name == new.last_name
            && existing.email == new.email
            && existing.phone == new.phone
            && (&existing.client_id, &existing.staff_id, &existing.office_id) == (&client_id, &staff_id, &office_id);
        if unchanged {
            return Ok(Upserted::Existed(existing));
        }
        let changes = ContactChanges {
            external_id: None,
            first_name: Some(new.first_name),
            last_name: Some(new.last_name),
            email: Some(new.email),
            phone: Some(new.phone),
            client_id: Some(client_id),
            staff_id: Some(staff_id),
            office_id: Some(office_id),
            updated_at: vestibule_storage::now(),
        };
        let row = contacts::update(conn, firm_id, &existing.id, &changes)?;
        let entry = Entry::success("contact.updated", "contact", &row.id).publishes(EventType::ContactUpdated);
        audit::record(conn, ctx, entry)?;
        Ok(Upserted::Existed(row))
    })
}

fn insert(conn: &mut DbConnection, ctx: &Context, new: NewContact) -> AppResult<ContactRow> {
    let firm_id = ctx.firm_id();
    let (client_id, staff_id, office_id) = resolve_of(conn, firm_id, &new.of)?;
    let now = vestibule_storage::now();
    let row = ContactRow {
        id: ContactId::generate().into(),
        firm_id: firm_id.to_owned(),
        external_id: new.external_id,
        first_name: new.first_name,
        last_name: new.last_name,
        email: new.email,
        phone: new.phone,
        client_id,
        staff_id,
        office_id,
        disabled_at: None,
        created_at: now,
        updated_at: now,
    };
    contacts::insert(conn, &row)?;
    audit::record(
        conn,
        ctx,
        Entry::success("contact.created", "contact", &row.id).publishes(EventType::ContactCreated),
    )?;
    Ok(row)
}

fn changes_for(conn: &mut DbConnection, firm_id: &str, patch: ContactPatch) -> AppResult<ContactChanges> {
    let mut errors = ValidationErrors::default();
    let first_name = patch.first_name.as_deref().and_then(|n| errors.check("/first_name", text::required(n, 100)));
    let last_name = patch.last_name.as_deref().and_then(|n| errors.check("/last_name", text::required(n, 100)));
    let email = patch.email.map(|e| errors.check("/email", email::optional(e.as_deref())).flatten().map(String::from));
    let phone = patch.phone.map(|p| errors.check("/phone", text::optional_phone(p.as_deref())).flatten());
    let external_id =
        patch.external_id.map(|e| e.as_deref().and_then(|id| errors.check("/external_id", text::external_id(id))));
    errors.into_result()?;
    let of = patch.of.as_ref().map(|of| resolve_of(conn, firm_id, of)).transpose()?;
    Ok(ContactChanges {
        external_id,
        first_name,
        last_name,
        email,
        phone,
        client_id: of.as_ref().map(|(client, _, _)| client.clone()),
        staff_id: of.as_ref().map(|(_, staff, _)| staff.clone()),
        office_id: of.map(|(_, _, office)| office),
        updated_at: vestibule_storage::now(),
    })
}

/// The three link columns for `of`, after checking the id has the kind's type and exists in
/// the caller's firm.
type OfColumns = (Option<String>, Option<String>, Option<String>);

fn resolve_of(conn: &mut DbConnection, firm_id: &str, of: &Of) -> AppResult<OfColumns> {
    const UNKNOWN: &str = "no such record of this kind in this firm";
    let unknown = || AppError::field("/of/id", "unknown_reference", UNKNOWN);
    Ok(match of.kind {
        ContactOfKind::Client => {
            let id = ClientId::parse(&of.id).map_err(|_| unknown())?;
            if !clients::exists(conn, firm_id, id.as_str())? {
                return Err(unknown());
            }
            (Some(id.into()), None, None)
        }
        ContactOfKind::Staff => {
            let id = StaffId::parse(&of.id).map_err(|_| unknown())?;
            staff::get(conn, firm_id, id.as_str()).or_unknown("/of/id", UNKNOWN)?;
            (None, Some(id.into()), None)
        }
        ContactOfKind::Office => {
            let id = OfficeId::parse(&of.id).map_err(|_| unknown())?;
            offices::get(conn, firm_id, id.as_str()).or_unknown("/of/id", UNKNOWN)?;
            (None, None, Some(id.into()))
        }
    })
}
