//! Matters of clients, their members (case handlers and assistants, seed 003) and access:
//! a restricted matter is visible only to its members and the firm's admins; to anyone
//! else it does not exist (404).

use crate::routing::Routes;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::authz::{Action, MatterVisibility, authorize, matter_visibility, may_manage_matter_members};
use vestibule_domain::ids::{ClientId, MatterId, StaffId};
use vestibule_domain::principal::Principal;
use vestibule_domain::roles::MatterRole;
use vestibule_domain::{ValidationErrors, text};
use vestibule_storage::matters::{self, MatterChanges, MatterFilter, MatterRow, MemberRow};
use vestibule_storage::{DbConnection, clients, staff, write_tx};

use crate::audit::{self, Entry, Origin};
use crate::auth::principal::Authenticated;
use crate::db;
use crate::error::ApiError;
use crate::etag::{if_match, with_etag};
use crate::json::{ApiJson, Query, nullable};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, PreconditionFailed, Unauthorized,
    Unprocessable, UnsupportedMediaType,
};
use crate::routes::fields::optional_email;
use crate::routes::{created, upsert_external_id, upserted, utc};
use crate::state::AppState;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_matters)
        .service(create_matter)
        .service(get_matter)
        .service(update_matter)
        .service(delete_matter)
        .service(upsert_matter)
        .service(list_matter_members)
        .service(put_matter_member)
        .service(remove_matter_member);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Matter {
    pub id: MatterId,
    pub client_id: ClientId,
    pub title: String,
    /// The firm's file reference.
    pub reference: Option<String>,
    /// When set, correspondence about this matter goes here instead of the client's email.
    pub email: Option<String>,
    /// Only members and the firm's admins can see a restricted matter.
    pub restricted: bool,
    pub external_id: Option<String>,
    /// Increases with every change; also sent as `ETag`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<MatterRow> for Matter {
    fn from(row: MatterRow) -> Self {
        Self {
            id: MatterId::from_trusted(row.id),
            client_id: ClientId::from_trusted(row.client_id),
            title: row.title,
            reference: row.reference,
            email: row.email,
            restricted: row.restricted,
            external_id: row.external_id,
            version: row.version,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatterMember {
    pub staff_id: StaffId,
    pub role: MatterRole,
    pub added_at: DateTime<Utc>,
}

impl From<MemberRow> for MatterMember {
    fn from(row: MemberRow) -> Self {
        Self {
            staff_id: StaffId::from_trusted(row.staff_id),
            role: MatterRole::from_stored(&row.role).unwrap_or(MatterRole::Assistant),
            added_at: utc(row.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMatter {
    pub client_id: ClientId,
    #[schema(min_length = 1, max_length = 300)]
    pub title: String,
    #[schema(max_length = 100)]
    pub reference: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub restricted: bool,
    pub external_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMatter {
    pub client_id: Option<ClientId>,
    #[schema(max_length = 300)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub reference: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    pub restricted: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutMember {
    pub role: MatterRole,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MatterListQuery {
    pub client_id: Option<ClientId>,
    /// Matters this staff member works on.
    pub member_staff_id: Option<StaffId>,
    pub restricted: Option<bool>,
    pub external_id: Option<String>,
    /// Matters whose title contains this text.
    pub q: Option<String>,
}

fn check_client(conn: &mut DbConnection, firm_id: &str, client: &ClientId) -> Result<(), ApiError> {
    if clients::exists(conn, firm_id, client.as_str())? {
        Ok(())
    } else {
        Err(ApiError::field("/client_id", "unknown_reference", "no such client in this firm"))
    }
}

struct NewMatter {
    client_id: ClientId,
    title: String,
    reference: Option<String>,
    email: Option<String>,
    restricted: bool,
    external_id: Option<String>,
}

impl CreateMatter {
    fn validate(self) -> Result<NewMatter, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let title = errors.check("/title", text::required(&self.title, 300));
        let reference = errors.check("/reference", text::optional(self.reference.as_deref(), 100)).flatten();
        let email = optional_email(&mut errors, "/email", self.email.as_deref());
        let external_id =
            self.external_id.as_deref().and_then(|id| errors.check("/external_id", text::external_id(id)));
        errors.into_result()?;
        Ok(NewMatter {
            client_id: self.client_id,
            title: title.unwrap_or_default(),
            reference,
            email,
            restricted: self.restricted,
            external_id,
        })
    }
}

/// Inserts the matter; a staff creator becomes its case handler, so restricting it never
/// locks out the person who opened it.
fn insert_matter(
    conn: &mut DbConnection,
    origin: &Origin,
    principal: &Principal,
    new: NewMatter,
) -> Result<MatterRow, ApiError> {
    let firm_id = principal.firm_id().as_str();
    check_client(conn, firm_id, &new.client_id)?;
    let now = vestibule_storage::now();
    let row = MatterRow {
        id: MatterId::generate().into(),
        firm_id: firm_id.to_owned(),
        client_id: new.client_id.into(),
        title: new.title,
        reference: new.reference,
        email: new.email,
        restricted: new.restricted,
        external_id: new.external_id,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    matters::insert(conn, &row)?;
    if let Principal::Staff(me) = principal {
        let member = MemberRow {
            matter_id: row.id.clone(),
            staff_id: me.staff_id.to_string(),
            firm_id: firm_id.to_owned(),
            role: MatterRole::CaseHandler.as_str().to_owned(),
            created_at: now,
        };
        matters::put_member(conn, &member)?;
    }
    audit::record(conn, origin, principal, Entry::success("matter.created", "matter", &row.id))?;
    Ok(row)
}

/// Matters visible to the caller, oldest first.
#[utoipa::path(
    tag = "matters",
    params(MatterListQuery, PageQuery),
    responses((status = 200, body = Paginated<Matter>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/matters")]
pub async fn list_matters(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    query: Query<MatterListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Matter>>, ApiError> {
    authorize(&principal, Action::ReadMatters)?;
    let page = page.page()?;
    let query = query.into_inner();
    let filter = MatterFilter {
        client_id: query.client_id.map(String::from),
        member_staff_id: query.member_staff_id.map(String::from),
        restricted: query.restricted,
        external_id: query.external_id,
        title_contains: query.q.filter(|q| !q.trim().is_empty()).map(|q| q.trim().to_owned()),
    };
    db::run(&state, move |conn| {
        let visibility = matter_visibility(&principal);
        let rows =
            matters::list(conn, principal.firm_id().as_str(), &visibility, &filter, page.after.as_deref(), page.limit)?;
        Ok(web::Json(Paginated::from_rows(&page, rows, |r| r.id.clone(), Matter::from)))
    })
    .await
}

/// Create a matter; a staff member who creates it becomes its case handler.
#[utoipa::path(
    tag = "matters",
    request_body = CreateMatter,
    responses(
        (status = 201, body = Matter, headers(("Location" = String), ("ETag" = String))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/matters")]
pub async fn create_matter(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<CreateMatter>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteMatters)?;
    let new = body.validate()?;
    let row = db::run(&state, move |conn| write_tx(conn, |conn| insert_matter(conn, &origin, &principal, new))).await?;
    let version = row.version;
    Ok(with_etag(created(format!("/v1/matters/{}", row.id), &Matter::from(row)), version))
}

/// One matter, with its ETag.
#[utoipa::path(
    tag = "matters",
    params(("matter_id" = MatterId, Path)),
    responses((status = 200, body = Matter, headers(("ETag" = String))), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/matters/{matter_id}")]
pub async fn get_matter(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<MatterId>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::ReadMatters)?;
    let id = path.into_inner();
    let row = db::run(&state, move |conn| {
        Ok(matters::get(conn, principal.firm_id().as_str(), id.as_str(), &matter_visibility(&principal))?)
    })
    .await?;
    let version = row.version;
    Ok(with_etag(HttpResponse::Ok().json(Matter::from(row)), version))
}

/// Changes a matter. `If-Match` guards against lost updates (412).
#[utoipa::path(
    tag = "matters",
    params(("matter_id" = MatterId, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = UpdateMatter,
    responses(
        (status = 200, body = Matter, headers(("ETag" = String))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed, PayloadTooLarge, UnsupportedMediaType,
        Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[patch("/matters/{matter_id}")]
pub async fn update_matter(
    req: HttpRequest,
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<MatterId>,
    ApiJson(body): ApiJson<UpdateMatter>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteMatters)?;
    let expected = if_match(&req)?;
    let id = path.into_inner();
    let mut errors = ValidationErrors::default();
    let title = body.title.as_deref().and_then(|t| errors.check("/title", text::required(t, 300)));
    let reference = body.reference.map(|r| errors.check("/reference", text::optional(r.as_deref(), 100)).flatten());
    let email = body.email.map(|e| optional_email(&mut errors, "/email", e.as_deref()));
    let external_id =
        body.external_id.map(|e| e.as_deref().and_then(|id| errors.check("/external_id", text::external_id(id))));
    errors.into_result()?;
    let row = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            let visibility = matter_visibility(&principal);
            matters::get(conn, firm_id, id.as_str(), &visibility)?;
            if let Some(client) = &body.client_id {
                check_client(conn, firm_id, client)?;
            }
            let changes = MatterChanges {
                client_id: body.client_id.map(String::from),
                title,
                reference,
                email,
                restricted: body.restricted,
                external_id,
                updated_at: vestibule_storage::now(),
            };
            let row = matters::update(conn, firm_id, id.as_str(), &visibility, expected, &changes)?;
            audit::record(conn, &origin, &principal, Entry::success("matter.updated", "matter", id.as_str()))?;
            Ok(row)
        })
    })
    .await?;
    let version = row.version;
    Ok(with_etag(HttpResponse::Ok().json(Matter::from(row)), version))
}

/// Delete a matter.
#[utoipa::path(
    tag = "matters",
    params(("matter_id" = MatterId, Path), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    responses(
        (status = 204, description = "Deleted."),
        Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed, InternalError
    ),
    security(("bearer" = []))
)]
#[delete("/matters/{matter_id}")]
pub async fn delete_matter(
    req: HttpRequest,
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<MatterId>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteMatters)?;
    let expected = if_match(&req)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            matters::delete(conn, principal.firm_id().as_str(), id.as_str(), &matter_visibility(&principal), expected)?;
            audit::record(conn, &origin, &principal, Entry::success("matter.deleted", "matter", id.as_str()))?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Creates or replaces the matter with this `external_id` (201 created, 200 existed).
#[utoipa::path(
    tag = "matters",
    params(("external_id" = String, Path, description = "The matter's id in the calling system", min_length = 1, max_length = 128, pattern = r"^[A-Za-z0-9._:@-]+$")),
    request_body = CreateMatter,
    responses(
        (status = 200, body = Matter, headers(("ETag" = String))),
        (status = 201, body = Matter, headers(("Location" = String), ("ETag" = String))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[put("/matters/external/{external_id}")]
pub async fn upsert_matter(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<String>,
    ApiJson(mut body): ApiJson<CreateMatter>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteMatters)?;
    let external_id = upsert_external_id(&path.into_inner(), &mut body.external_id)?;
    let new = body.validate()?;
    let (row, was_created) = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            let Some(existing) = matters::find_by_external_id(conn, firm_id, &external_id)? else {
                return Ok((insert_matter(conn, &origin, &principal, new)?, true));
            };
            let visibility = matter_visibility(&principal);
            // A matter the caller cannot see stays invisible, even through its external id.
            matters::get(conn, firm_id, &existing.id, &visibility)?;
            let unchanged = existing.client_id == new.client_id.as_str()
                && existing.title == new.title
                && existing.reference == new.reference
                && existing.email == new.email
                && existing.restricted == new.restricted;
            if unchanged {
                return Ok((existing, false));
            }
            check_client(conn, firm_id, &new.client_id)?;
            let changes = MatterChanges {
                client_id: Some(new.client_id.into()),
                title: Some(new.title),
                reference: Some(new.reference),
                email: Some(new.email),
                restricted: Some(new.restricted),
                external_id: None,
                updated_at: vestibule_storage::now(),
            };
            let row = matters::update(conn, firm_id, &existing.id, &visibility, None, &changes)?;
            audit::record(conn, &origin, &principal, Entry::success("matter.updated", "matter", &row.id))?;
            Ok((row, false))
        })
    })
    .await?;
    let version = row.version;
    let location = format!("/v1/matters/{}", row.id);
    Ok(with_etag(upserted(was_created, location, &Matter::from(row)), version))
}

/// Staff members of a matter and their roles.
#[utoipa::path(
    tag = "matters",
    params(("matter_id" = MatterId, Path)),
    responses((status = 200, body = Vec<MatterMember>), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/matters/{matter_id}/members")]
pub async fn list_matter_members(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<MatterId>,
) -> Result<web::Json<Vec<MatterMember>>, ApiError> {
    authorize(&principal, Action::ReadMatters)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        matters::get(conn, principal.firm_id().as_str(), id.as_str(), &matter_visibility(&principal))?;
        Ok(web::Json(
            matters::members(conn, principal.firm_id().as_str(), id.as_str())?
                .into_iter()
                .map(MatterMember::from)
                .collect(),
        ))
    })
    .await
}

/// The caller's role on the matter, after checking they can see it at all.
fn caller_role(
    conn: &mut DbConnection,
    principal: &Principal,
    matter: &MatterId,
) -> Result<Option<MatterRole>, ApiError> {
    let visibility: MatterVisibility = matter_visibility(principal);
    matters::get(conn, principal.firm_id().as_str(), matter.as_str(), &visibility)?;
    Ok(match principal {
        Principal::Staff(me) => {
            matters::role_of(conn, principal.firm_id().as_str(), matter.as_str(), me.staff_id.as_str())?
                .as_deref()
                .and_then(MatterRole::from_stored)
        }
        _ => None,
    })
}

/// Adds a staff member to the matter or changes their role (case handlers and admins).
#[utoipa::path(
    tag = "matters",
    params(("matter_id" = MatterId, Path), ("staff_id" = StaffId, Path)),
    request_body = PutMember,
    responses(
        (status = 200, body = MatterMember),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[put("/matters/{matter_id}/members/{staff_id}")]
pub async fn put_matter_member(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<(MatterId, StaffId)>,
    ApiJson(body): ApiJson<PutMember>,
) -> Result<web::Json<MatterMember>, ApiError> {
    authorize(&principal, Action::WriteMatters)?;
    let (matter_id, staff_id) = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            let role = caller_role(conn, &principal, &matter_id)?;
            may_manage_matter_members(&principal, role)?;
            if staff::count_active(conn, firm_id, &[staff_id.to_string()])? != 1 {
                return Err(ApiError::NotFound);
            }
            let row = MemberRow {
                matter_id: matter_id.to_string(),
                staff_id: staff_id.to_string(),
                firm_id: firm_id.to_owned(),
                role: body.role.as_str().to_owned(),
                created_at: vestibule_storage::now(),
            };
            matters::put_member(conn, &row)?;
            let entry = Entry::success("matter.member_set", "matter", matter_id.as_str())
                .with_details(serde_json::json!({ "staff_id": staff_id, "role": row.role }));
            audit::record(conn, &origin, &principal, entry)?;
            let stored = matters::members(conn, firm_id, matter_id.as_str())?
                .into_iter()
                .find(|m| m.staff_id == staff_id.as_str());
            Ok(web::Json(stored.unwrap_or(row).into()))
        })
    })
    .await
}

/// Remove a staff member from a matter.
#[utoipa::path(
    tag = "matters",
    params(("matter_id" = MatterId, Path), ("staff_id" = StaffId, Path)),
    responses((status = 204, description = "Removed."), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[delete("/matters/{matter_id}/members/{staff_id}")]
pub async fn remove_matter_member(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<(MatterId, StaffId)>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteMatters)?;
    let (matter_id, staff_id) = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let role = caller_role(conn, &principal, &matter_id)?;
            may_manage_matter_members(&principal, role)?;
            matters::remove_member(conn, principal.firm_id().as_str(), matter_id.as_str(), staff_id.as_str())?;
            let entry = Entry::success("matter.member_removed", "matter", matter_id.as_str())
                .with_details(serde_json::json!({ "staff_id": staff_id }));
            audit::record(conn, &origin, &principal, entry)?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
