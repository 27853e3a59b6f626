//! Integration API keys: the secret is shown once, at creation; only its digest is stored.

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::api_keys;
use vestibule_domain::authz::Action;
use vestibule_domain::ids::{ApiKeyId, StaffId};
use vestibule_domain::scope::ApiScope;
use vestibule_domain::{FieldError, ValidationErrors, text};
use vestibule_storage::api_keys::ApiKeyRow;

use crate::auth::principal::{Caller, StaffUser};
use crate::error::ApiError;
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::routes::{created, utc};
use crate::routing::Routes;
use crate::state::AppState;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_api_keys).service(create_api_key).service(get_api_key).service(revoke_api_key);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub scopes: Vec<ApiScope>,
    pub created_by: StaffId,
    pub created_at: DateTime<Utc>,
    /// Updated at most once a minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKeyRow> for ApiKey {
    fn from(row: ApiKeyRow) -> Self {
        Self {
            id: ApiKeyId::from_trusted(row.id),
            name: row.name,
            scopes: row.scopes.split_whitespace().filter_map(ApiScope::from_stored).collect(),
            created_by: StaffId::from_trusted(row.created_by),
            created_at: utc(row.created_at),
            last_used_at: row.last_used_at.map(utc),
            revoked_at: row.revoked_at.map(utc),
        }
    }
}

/// A new key with its secret. Store `secret` now: it cannot be shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// Send as `Authorization: Bearer <secret>`.
    #[schema(example = "vsk_0193a3b2c4d57e8f9a0b1c2d3e4f5a6b_5e3bQ…")]
    pub secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    #[schema(example = "Practice management sync", min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(min_items = 1)]
    pub scopes: Vec<ApiScope>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApiKeyListQuery {
    /// Include revoked keys (default false).
    #[serde(default)]
    pub include_revoked: bool,
}

// Each handler takes `StaffUser` first so that any other caller is refused before its
// query or body is read, as before; the use cases refuse them again.

/// The firm's integration API keys (never their secrets).
#[utoipa::path(
    tag = "api-keys",
    params(ApiKeyListQuery, PageQuery),
    responses((status = 200, body = Paginated<ApiKey>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/api-keys")]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    _: StaffUser,
    caller: Caller,
    query: Query<ApiKeyListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<ApiKey>>, ApiError> {
    let page = page.page()?;
    let include_revoked = query.include_revoked;
    let listed = caller
        .must(Action::ManageApiKeys)
        .call(&state, move |conn, ctx| api_keys::list(conn, ctx, include_revoked, &page))
        .await?;
    Ok(web::Json(Paginated::of(listed, ApiKey::from)))
}

/// Creates a key with the given scopes (owners and admins). The response holds the secret,
/// once.
#[utoipa::path(
    tag = "api-keys",
    request_body = CreateApiKey,
    responses(
        (status = 201, body = CreatedApiKey, headers(("Location" = String), ("Cache-Control" = String, description = "`no-store`: the secret is shown once"))),
        BadRequest, Unauthorized, Forbidden, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/api-keys")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    _: StaffUser,
    caller: Caller,
    ApiJson(body): ApiJson<CreateApiKey>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = ValidationErrors::default();
    let name = errors.check("/name", text::required(&body.name, 100));
    if body.scopes.is_empty() {
        errors.push(FieldError::new("/scopes", "required", "grant at least one scope"));
    }
    errors.into_result()?;
    let (name, scopes) = (name.unwrap_or_default(), body.scopes);
    let created_key = caller
        .must(Action::ManageApiKeys)
        .call(&state, move |conn, ctx| api_keys::create(conn, ctx, name, scopes))
        .await?;
    let location = format!("/v1/api-keys/{}", created_key.row.id);
    let body = CreatedApiKey { secret: created_key.secret, key: created_key.row.into() };
    let mut response = created(location, &body);
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// One integration API key.
#[utoipa::path(
    tag = "api-keys",
    params(("api_key_id" = ApiKeyId, Path)),
    responses((status = 200, body = ApiKey), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/api-keys/{api_key_id}")]
pub async fn get_api_key(
    state: web::Data<AppState>,
    _: StaffUser,
    caller: Caller,
    path: web::Path<ApiKeyId>,
) -> Result<web::Json<ApiKey>, ApiError> {
    let id = path.into_inner();
    Ok(web::Json(
        caller.must(Action::ManageApiKeys).call(&state, move |conn, ctx| api_keys::get(conn, ctx, &id)).await?.into(),
    ))
}

/// Revokes a key: requests with it fail from now on.
#[utoipa::path(
    tag = "api-keys",
    params(("api_key_id" = ApiKeyId, Path)),
    responses((status = 200, body = ApiKey), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[delete("/api-keys/{api_key_id}")]
pub async fn revoke_api_key(
    state: web::Data<AppState>,
    _: StaffUser,
    caller: Caller,
    path: web::Path<ApiKeyId>,
) -> Result<web::Json<ApiKey>, ApiError> {
    let id = path.into_inner();
    Ok(web::Json(
        caller
            .must(Action::ManageApiKeys)
            .call(&state, move |conn, ctx| api_keys::revoke(conn, ctx, &id))
            .await?
            .into(),
    ))
}
