//! Integration API keys: the secret is shown once, at creation; only its digest is stored.

use crate::routing::Routes;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::ids::{ApiKeyId, StaffId};
use vestibule_domain::scope::ApiScope;
use vestibule_domain::{FieldError, ValidationErrors, text};
use vestibule_storage::api_keys::{self, ApiKeyRow};
use vestibule_storage::write_tx;

use crate::audit::{self, Entry, Origin};
use crate::auth::principal::StaffUser;
use crate::db;
use crate::error::ApiError;
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::routes::{created, utc};
use crate::state::AppState;
use vestibule_app::secrets;

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
    StaffUser(me): StaffUser,
    query: Query<ApiKeyListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<ApiKey>>, ApiError> {
    let principal = vestibule_domain::principal::Principal::Staff(me);
    authorize(&principal, Action::ManageApiKeys)?;
    let page = page.page()?;
    let include_revoked = query.include_revoked;
    db::run(&state, move |conn| {
        let rows =
            api_keys::list(conn, principal.firm_id().as_str(), include_revoked, page.after.as_deref(), page.limit)?;
        Ok(web::Json(Paginated::from_rows(&page, rows, |r| r.id.clone(), ApiKey::from)))
    })
    .await
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
    origin: Origin,
    StaffUser(me): StaffUser,
    ApiJson(body): ApiJson<CreateApiKey>,
) -> Result<HttpResponse, ApiError> {
    let principal = vestibule_domain::principal::Principal::Staff(me.clone());
    authorize(&principal, Action::ManageApiKeys)?;
    let mut errors = ValidationErrors::default();
    let name = errors.check("/name", text::required(&body.name, 100));
    if body.scopes.is_empty() {
        errors.push(FieldError::new("/scopes", "required", "grant at least one scope"));
    }
    errors.into_result()?;
    let mut scopes = body.scopes;
    scopes.sort_by_key(|s| s.as_str());
    scopes.dedup();
    let id = ApiKeyId::generate();
    let secret = secrets::random_secret();
    let row = ApiKeyRow {
        id: id.to_string(),
        firm_id: me.firm_id.to_string(),
        name: name.unwrap_or_default(),
        secret_hash: secrets::digest(&secret),
        scopes: scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
        created_by: me.staff_id.to_string(),
        created_at: vestibule_storage::now(),
        last_used_at: None,
        revoked_at: None,
    };
    let row = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            api_keys::insert(conn, &row)?;
            let entry = Entry::success("api_key.created", "api_key", &row.id)
                .with_details(serde_json::json!({ "scopes": row.scopes }));
            audit::record(conn, &origin, &principal, entry)?;
            Ok(row)
        })
    })
    .await?;
    let body = CreatedApiKey { secret: secrets::format_api_key(&row.id, &secret), key: row.into() };
    let mut response = created(format!("/v1/api-keys/{id}"), &body);
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
    StaffUser(me): StaffUser,
    path: web::Path<ApiKeyId>,
) -> Result<web::Json<ApiKey>, ApiError> {
    authorize(&vestibule_domain::principal::Principal::Staff(me.clone()), Action::ManageApiKeys)?;
    let id = path.into_inner();
    db::run(&state, move |conn| Ok(web::Json(api_keys::get(conn, me.firm_id.as_str(), id.as_str())?.into()))).await
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
    origin: Origin,
    StaffUser(me): StaffUser,
    path: web::Path<ApiKeyId>,
) -> Result<web::Json<ApiKey>, ApiError> {
    let principal = vestibule_domain::principal::Principal::Staff(me);
    authorize(&principal, Action::ManageApiKeys)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let row = api_keys::revoke(conn, principal.firm_id().as_str(), id.as_str(), vestibule_storage::now())?;
            audit::record(conn, &origin, &principal, Entry::success("api_key.revoked", "api_key", id.as_str()))?;
            Ok(web::Json(row.into()))
        })
    })
    .await
}
