//! Contacts: people linked to a client, a staff member or an office (the *of* field of
//! seed 000). Portal access for contacts arrives with the portals issue.

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use vestibule_app::contacts::{self, ContactPatch, NewContact, Of};
use vestibule_domain::authz::Action;
use vestibule_domain::ids::{ClientId, ContactId, OfficeId, StaffId};
use vestibule_domain::{ValidationErrors, email, text};
use vestibule_storage::contacts::ContactFilter;

use crate::auth::principal::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, Query, nullable};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::{created, upsert_external_id, upserted};
use crate::routing::Routes;
use crate::state::AppState;
use crate::views::contact::ContactOf;
// Until routes/portal.rs names the view itself.
use crate::views::contact::Contact;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_contacts)
        .service(create_contact)
        .service(get_contact)
        .service(update_contact)
        .service(delete_contact)
        .service(upsert_contact);
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

impl From<ContactOf> for Of {
    fn from(of: ContactOf) -> Self {
        Self { kind: of.kind, id: of.id }
    }
}

impl CreateContact {
    fn command(self) -> Result<NewContact, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let first_name = errors.check("/first_name", text::required(&self.first_name, 100));
        let last_name = errors.check("/last_name", text::required(&self.last_name, 100));
        let email = errors.check("/email", email::optional(self.email.as_deref())).flatten();
        let phone = errors.check("/phone", text::optional_phone(self.phone.as_deref())).flatten();
        let external_id =
            self.external_id.as_deref().and_then(|id| errors.check("/external_id", text::external_id(id)));
        errors.into_result()?;
        Ok(NewContact {
            first_name: first_name.unwrap_or_default(),
            last_name: last_name.unwrap_or_default(),
            email: email.map(String::from),
            phone,
            external_id,
            of: self.of.into(),
        })
    }
}

impl UpdateContact {
    /// The fields as sent: the use case checks them once it knows the contact exists.
    fn patch(self) -> ContactPatch {
        ContactPatch {
            first_name: self.first_name,
            last_name: self.last_name,
            email: self.email,
            phone: self.phone,
            external_id: self.external_id,
            of: self.of.map(Of::from),
        }
    }
}

impl ContactListQuery {
    fn filter(self) -> ContactFilter {
        ContactFilter {
            client_id: self.client_id.map(String::from),
            staff_id: self.staff_id.map(String::from),
            office_id: self.office_id.map(String::from),
            email: self.email.map(|e| e.trim().to_lowercase()),
            external_id: self.external_id,
            name_contains: self.q.filter(|q| !q.trim().is_empty()).map(|q| q.trim().to_owned()),
        }
    }
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
    caller: Caller,
    query: Query<ContactListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Contact>>, ApiError> {
    let page = page.page()?;
    let filter = query.into_inner().filter();
    let listed = caller
        .must(Action::ReadContacts)
        .call(&state, move |conn, ctx| contacts::list(conn, ctx, &filter, &page))
        .await?;
    Ok(web::Json(Paginated::of(listed, Contact::from)))
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
    caller: Caller,
    ApiJson(body): ApiJson<CreateContact>,
) -> Result<HttpResponse, ApiError> {
    let new = body.command()?;
    let row =
        caller.must(Action::WriteContacts).call(&state, move |conn, ctx| contacts::create(conn, ctx, new)).await?;
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
    caller: Caller,
    path: web::Path<ContactId>,
) -> Result<web::Json<Contact>, ApiError> {
    let id = path.into_inner();
    Ok(web::Json(caller.call(&state, move |conn, ctx| contacts::get(conn, ctx, &id)).await?.into()))
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
    caller: Caller,
    path: web::Path<ContactId>,
    ApiJson(body): ApiJson<UpdateContact>,
) -> Result<web::Json<Contact>, ApiError> {
    let (id, patch) = (path.into_inner(), body.patch());
    Ok(web::Json(
        caller
            .must(Action::WriteContacts)
            .call(&state, move |conn, ctx| contacts::update(conn, ctx, &id, patch))
            .await?
            .into(),
    ))
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
    caller: Caller,
    path: web::Path<ContactId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    caller.call(&state, move |conn, ctx| contacts::delete(conn, ctx, &id)).await?;
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
    caller: Caller,
    path: web::Path<String>,
    ApiJson(mut body): ApiJson<CreateContact>,
) -> Result<HttpResponse, ApiError> {
    let external_id = upsert_external_id(&path.into_inner(), &mut body.external_id)?;
    let new = body.command()?;
    let (row, was_created) = caller
        .must(Action::WriteContacts)
        .call(&state, move |conn, ctx| contacts::upsert(conn, ctx, &external_id, new))
        .await?
        .into_parts();
    Ok(upserted(was_created, format!("/v1/contacts/{}", row.id), &Contact::from(row)))
}
