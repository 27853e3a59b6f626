//! Matters of clients, their members (case handlers and assistants, seed 003) and access:
//! a restricted matter is visible only to its members and the firm's admins; to anyone
//! else it does not exist (404).

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::matters::{self, MatterUpdate, NewMatter};
use vestibule_domain::authz::Action;
use vestibule_domain::ids::{ClientId, MatterId, StaffId};
use vestibule_domain::roles::MatterRole;
use vestibule_domain::{ValidationErrors, email, text};
use vestibule_storage::matters::{MatterFilter, MatterRow, MemberRow};

use crate::auth::principal::Caller;
use crate::error::ApiError;
use crate::etag::{if_match, with_etag};
use crate::json::{ApiJson, Query, nullable};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, PreconditionFailed, Unauthorized,
    Unprocessable, UnsupportedMediaType,
};
use crate::routes::{created, upsert_external_id, upserted, utc};
use crate::routing::Routes;
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

fn optional_email(errors: &mut ValidationErrors, raw: Option<&str>) -> Option<String> {
    errors.check("/email", email::optional(raw)).flatten().map(String::from)
}

impl CreateMatter {
    fn command(self) -> Result<NewMatter, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let title = errors.check("/title", text::required(&self.title, 300));
        let reference = errors.check("/reference", text::optional(self.reference.as_deref(), 100)).flatten();
        let email = optional_email(&mut errors, self.email.as_deref());
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

impl UpdateMatter {
    fn command(self) -> Result<MatterUpdate, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let title = self.title.as_deref().and_then(|t| errors.check("/title", text::required(t, 300)));
        let reference = self.reference.map(|r| errors.check("/reference", text::optional(r.as_deref(), 100)).flatten());
        let email = self.email.map(|e| optional_email(&mut errors, e.as_deref()));
        let external_id =
            self.external_id.map(|e| e.as_deref().and_then(|id| errors.check("/external_id", text::external_id(id))));
        errors.into_result()?;
        Ok(MatterUpdate {
            client_id: self.client_id,
            title,
            reference,
            email,
            restricted: self.restricted,
            external_id,
        })
    }
}

impl MatterListQuery {
    fn filter(self) -> MatterFilter {
        MatterFilter {
            client_id: self.client_id.map(String::from),
            member_staff_id: self.member_staff_id.map(String::from),
            restricted: self.restricted,
            external_id: self.external_id,
            title_contains: self.q.filter(|q| !q.trim().is_empty()).map(|q| q.trim().to_owned()),
        }
    }
}

/// `200` with the matter and its ETag.
fn ok(row: MatterRow) -> HttpResponse {
    let version = row.version;
    with_etag(HttpResponse::Ok().json(Matter::from(row)), version)
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
    caller: Caller,
    query: Query<MatterListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Matter>>, ApiError> {
    let page = page.page()?;
    let filter = query.into_inner().filter();
    let listed = caller
        .must(Action::ReadMatters)
        .call(&state, move |conn, ctx| matters::list(conn, ctx, &filter, &page))
        .await?;
    Ok(web::Json(Paginated::of(listed, Matter::from)))
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
    caller: Caller,
    ApiJson(body): ApiJson<CreateMatter>,
) -> Result<HttpResponse, ApiError> {
    let new = body.command()?;
    let row = caller.must(Action::WriteMatters).call(&state, move |conn, ctx| matters::create(conn, ctx, new)).await?;
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
    caller: Caller,
    path: web::Path<MatterId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    Ok(ok(caller.call(&state, move |conn, ctx| matters::get(conn, ctx, &id)).await?))
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
    caller: Caller,
    path: web::Path<MatterId>,
    ApiJson(body): ApiJson<UpdateMatter>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(&req)?;
    let id = path.into_inner();
    let update = body.command()?;
    Ok(ok(caller
        .must(Action::WriteMatters)
        .call(&state, move |conn, ctx| matters::update(conn, ctx, &id, expected, update))
        .await?))
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
    caller: Caller,
    path: web::Path<MatterId>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(&req)?;
    let id = path.into_inner();
    caller.must(Action::WriteMatters).call(&state, move |conn, ctx| matters::delete(conn, ctx, &id, expected)).await?;
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
    caller: Caller,
    path: web::Path<String>,
    ApiJson(mut body): ApiJson<CreateMatter>,
) -> Result<HttpResponse, ApiError> {
    let external_id = upsert_external_id(&path.into_inner(), &mut body.external_id)?;
    let new = body.command()?;
    let (row, was_created) = caller
        .must(Action::WriteMatters)
        .call(&state, move |conn, ctx| matters::upsert(conn, ctx, &external_id, new))
        .await?
        .into_parts();
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
    caller: Caller,
    path: web::Path<MatterId>,
) -> Result<web::Json<Vec<MatterMember>>, ApiError> {
    let id = path.into_inner();
    let members = caller.call(&state, move |conn, ctx| matters::members(conn, ctx, &id)).await?;
    Ok(web::Json(members.into_iter().map(MatterMember::from).collect()))
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
    caller: Caller,
    path: web::Path<(MatterId, StaffId)>,
    ApiJson(body): ApiJson<PutMember>,
) -> Result<web::Json<MatterMember>, ApiError> {
    let (matter_id, staff_id) = path.into_inner();
    let row = caller
        .must(Action::WriteMatters)
        .call(&state, move |conn, ctx| matters::put_member(conn, ctx, &matter_id, &staff_id, body.role))
        .await?;
    Ok(web::Json(row.into()))
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
    caller: Caller,
    path: web::Path<(MatterId, StaffId)>,
) -> Result<HttpResponse, ApiError> {
    let (matter_id, staff_id) = path.into_inner();
    caller.call(&state, move |conn, ctx| matters::remove_member(conn, ctx, &matter_id, &staff_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
