//! Contacts: people linked to a client, a staff member or an office (the *of* field of
//! seed 000). Portal access for contacts arrives with the portals issue.

use crate::routing::Routes;
use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::ids::{ClientId, ContactId, OfficeId, StaffId};
use vestibule_domain::principal::Principal;
use vestibule_domain::roles::ContactOfKind;
use vestibule_domain::{ValidationErrors, text};
use vestibule_storage::contacts::{self, ContactChanges, ContactFilter, ContactRow};
use vestibule_storage::{DbConnection, clients, offices, staff, write_tx};

use crate::audit::{self, Entry, Origin};
use crate::auth::principal::Authenticated;
use crate::db;
use crate::error::{ApiError, OrUnknown};
use crate::json::{ApiJson, Query, nullable};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::fields::{optional_email, optional_phone};
use crate::routes::{created, upsert_external_id, upserted, utc};
use crate::state::AppState;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_contacts)
        .service(create_contact)
        .service(get_contact)
        .service(update_contact)
        .service(delete_contact)
        .service(upsert_contact);
}

/// Whom the contact belongs to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactOf {
    pub kind: ContactOfKind,
    /// A client (`cli_…`), staff (`stf_…`) or office (`ofc_…`) id, matching `kind`.
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Contact {
    pub id: ContactId,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub external_id: Option<String>,
    pub of: ContactOf,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ContactRow> for Contact {
    fn from(row: ContactRow) -> Self {
        let of = match (row.client_id, row.staff_id, row.office_id) {
            (Some(id), _, _) => ContactOf { kind: ContactOfKind::Client, id },
            (_, Some(id), _) => ContactOf { kind: ContactOfKind::Staff, id },
            (_, _, Some(id)) => ContactOf { kind: ContactOfKind::Office, id },
            (None, None, None) => ContactOf { kind: ContactOfKind::Client, id: String::new() },
        };
        Self {
            id: ContactId::from_trusted(row.id),
            first_name: row.first_name,
            last_name: row.last_name,
            email: row.email,
            phone: row.phone,
            external_id: row.external_id,
            of,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContact {
    #[schema(min_length = 1, max_length = 100)]
    pub first_name: String,
    #[schema(min_length = 1, max_length = 100)]
    pub last_name: String,
    /// Unique among the firm's contacts; needed for portal access.
    pub email: Option<String>,
    pub phone: Option<String>,
    pub external_id: Option<String>,
    pub of: ContactOf,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateContact {
    #[schema(max_length = 100)]
    pub first_name: Option<String>,
    #[schema(max_length = 100)]
    pub last_name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
    pub of: Option<ContactOf>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactListQuery {
    pub client_id: Option<ClientId>,
    pub staff_id: Option<StaffId>,
    pub office_id: Option<OfficeId>,
    pub email: Option<String>,
    pub external_id: Option<String>,
    /// Contacts whose first or last name contains this text.
    pub q: Option<String>,
}

/// The three link columns for `of`, after checking the id has the kind's type and exists in
/// the caller's firm.
type OfColumns = (Option<String>, Option<String>, Option<String>);

fn resolve_of(conn: &mut DbConnection, firm_id: &str, of: &ContactOf) -> Result<OfColumns, ApiError> {
    const UNKNOWN: &str = "no such record of this kind in this firm";
    let unknown = || ApiError::field("/of/id", "unknown_reference", UNKNOWN);
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

struct NewContact {
    first_name: String,
    last_name: String,
    email: Option<String>,
    phone: Option<String>,
    external_id: Option<String>,
    of: ContactOf,
}

impl CreateContact {
    fn validate(self) -> Result<NewContact, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let first_name = errors.check("/first_name", text::required(&self.first_name, 100));
        let last_name = errors.check("/last_name", text::required(&self.last_name, 100));
        let email = optional_email(&mut errors, "/email", self.email.as_deref());
        let phone = optional_phone(&mut errors, "/phone", self.phone.as_deref());
        let external_id =
            self.external_id.as_deref().and_then(|id| errors.check("/external_id", text::external_id(id)));
        errors.into_result()?;
        Ok(NewContact {
            first_name: first_name.unwrap_or_default(),
            last_name: last_name.unwrap_or_default(),
            email,
            phone,
            external_id,
            of: self.of,
        })
    }
}

fn insert_contact(
    conn: &mut DbConnection,
    origin: &Origin,
    principal: &Principal,
    new: NewContact,
) -> Result<ContactRow, ApiError> {
    let firm_id = principal.firm_id().as_str();
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
    audit::record(conn, origin, principal, Entry::success("contact.created", "contact", &row.id))?;
    Ok(row)
}

fn changes_for(conn: &mut DbConnection, firm_id: &str, body: UpdateContact) -> Result<ContactChanges, ApiError> {
    let mut errors = ValidationErrors::default();
    let first_name = body.first_name.as_deref().and_then(|n| errors.check("/first_name", text::required(n, 100)));
    let last_name = body.last_name.as_deref().and_then(|n| errors.check("/last_name", text::required(n, 100)));
    let email = body.email.map(|e| optional_email(&mut errors, "/email", e.as_deref()));
    let phone = body.phone.map(|p| optional_phone(&mut errors, "/phone", p.as_deref()));
    let external_id =
        body.external_id.map(|e| e.as_deref().and_then(|id| errors.check("/external_id", text::external_id(id))));
    errors.into_result()?;
    let of = body.of.as_ref().map(|of| resolve_of(conn, firm_id, of)).transpose()?;
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

/// Contacts, oldest first, with filters.
#[utoipa::path(
    tag = "contacts",
    params(ContactListQuery, PageQuery),
    responses((status = 200, body = Paginated<Contact>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/contacts")]
pub async fn list_contacts(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    query: Query<ContactListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Contact>>, ApiError> {
    authorize(&principal, Action::ReadContacts)?;
    let page = page.page()?;
    let query = query.into_inner();
    let filter = ContactFilter {
        client_id: query.client_id.map(String::from),
        staff_id: query.staff_id.map(String::from),
        office_id: query.office_id.map(String::from),
        email: query.email.map(|e| e.trim().to_lowercase()),
        external_id: query.external_id,
        name_contains: query.q.filter(|q| !q.trim().is_empty()).map(|q| q.trim().to_owned()),
    };
    db::run(&state, move |conn| {
        let rows = contacts::list(conn, principal.firm_id().as_str(), &filter, page.after.as_deref(), page.limit)?;
        Ok(web::Json(Paginated::from_rows(&page, rows, |r| r.id.clone(), Contact::from)))
    })
    .await
}

/// Create a contact of a client, a staff member or an office.
#[utoipa::path(
    tag = "contacts",
    request_body = CreateContact,
    responses(
        (status = 201, body = Contact, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/contacts")]
pub async fn create_contact(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<CreateContact>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteContacts)?;
    let new = body.validate()?;
    let row =
        db::run(&state, move |conn| write_tx(conn, |conn| insert_contact(conn, &origin, &principal, new))).await?;
    Ok(created(format!("/v1/contacts/{}", row.id), &Contact::from(row)))
}

/// One contact.
#[utoipa::path(
    tag = "contacts",
    params(("contact_id" = ContactId, Path)),
    responses((status = 200, body = Contact), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/contacts/{contact_id}")]
pub async fn get_contact(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<ContactId>,
) -> Result<web::Json<Contact>, ApiError> {
    authorize(&principal, Action::ReadContacts)?;
    let id = path.into_inner();
    db::run(&state, move |conn| Ok(web::Json(contacts::get(conn, principal.firm_id().as_str(), id.as_str())?.into())))
        .await
}

/// Change a contact.
#[utoipa::path(
    tag = "contacts",
    params(("contact_id" = ContactId, Path)),
    request_body = UpdateContact,
    responses(
        (status = 200, body = Contact),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[patch("/contacts/{contact_id}")]
pub async fn update_contact(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<ContactId>,
    ApiJson(body): ApiJson<UpdateContact>,
) -> Result<web::Json<Contact>, ApiError> {
    authorize(&principal, Action::WriteContacts)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            contacts::get(conn, firm_id, id.as_str())?;
            let changes = changes_for(conn, firm_id, body)?;
            let row = contacts::update(conn, firm_id, id.as_str(), &changes)?;
            audit::record(conn, &origin, &principal, Entry::success("contact.updated", "contact", id.as_str()))?;
            Ok(web::Json(row.into()))
        })
    })
    .await
}

/// Delete a contact.
#[utoipa::path(
    tag = "contacts",
    params(("contact_id" = ContactId, Path)),
    responses((status = 204, description = "Deleted."), Unauthorized, Forbidden, NotFound, Conflict, InternalError),
    security(("bearer" = []))
)]
#[delete("/contacts/{contact_id}")]
pub async fn delete_contact(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<ContactId>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteContacts)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            contacts::delete(conn, principal.firm_id().as_str(), id.as_str())?;
            audit::record(conn, &origin, &principal, Entry::success("contact.deleted", "contact", id.as_str()))?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Creates or replaces the contact with this `external_id` (201 created, 200 existed).
#[utoipa::path(
    tag = "contacts",
    params(("external_id" = String, Path, description = "The contact's id in the calling system", min_length = 1, max_length = 128, pattern = r"^[A-Za-z0-9._:@-]+$")),
    request_body = CreateContact,
    responses(
        (status = 200, body = Contact),
        (status = 201, body = Contact, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[put("/contacts/external/{external_id}")]
pub async fn upsert_contact(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<String>,
    ApiJson(mut body): ApiJson<CreateContact>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteContacts)?;
    let external_id = upsert_external_id(&path.into_inner(), &mut body.external_id)?;
    let new = body.validate()?;
    let (row, was_created) = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            let Some(existing) = contacts::find_by_external_id(conn, firm_id, &external_id)? else {
                return Ok((insert_contact(conn, &origin, &principal, new)?, true));
            };
            let (client_id, staff_id, office_id) = resolve_of(conn, firm_id, &new.of)?;
            let unchanged = existing.first_name == new.first_name
                && existing.last_name == new.last_name
                && existing.email == new.email
                && existing.phone == new.phone
                && (&existing.client_id, &existing.staff_id, &existing.office_id)
                    == (&client_id, &staff_id, &office_id);
            if unchanged {
                return Ok((existing, false));
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
            audit::record(conn, &origin, &principal, Entry::success("contact.updated", "contact", &row.id))?;
            Ok((row, false))
        })
    })
    .await?;
    Ok(upserted(was_created, format!("/v1/contacts/{}", row.id), &Contact::from(row)))
}
