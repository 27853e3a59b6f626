//! Seed 002's external download and upload links, staff side: per client or matter (the
//! "work") one link of each kind, with its setup (enabled, message, expiry, upload folder
//! and limit), its status at a glance, its URL to copy, and a security code the server makes
//! and shows only when it is made. Regenerating the code (which unlocks a locked link) or
//! the URL ends every session opened with the old one.

use crate::routing::Routes;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::access_link::{LinkKind, LinkStatus};
use vestibule_domain::authz::{Action, authorize, matter_visibility};
use vestibule_domain::ids::{AccessLinkId, ClientId, FolderId, MatterId};
use vestibule_domain::principal::Principal;
use vestibule_domain::{ValidationErrors, text};
use vestibule_storage::access_links::{self, GuardRow, Link, LinkFilter, LinkRow};
use vestibule_storage::{DbConnection, StorageError, firms, write_tx};

use crate::audit::{self, Entry, Origin};
use crate::auth::link::{self as link_auth, LinkSecret};
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
use crate::routes::{created, utc};
use crate::state::{AppState, HttpSettings};
use vestibule_app::places::{Place, folder_in};
use vestibule_app::secrets;

pub(crate) const MESSAGE_LIMIT: usize = 4000;
const DEFAULT_MAX_UPLOADS: i32 = 50;
const MAX_UPLOADS_LIMIT: i32 = 1000;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(create_access_link)
        .service(list_access_links)
        .service(get_access_link)
        .service(update_access_link)
        .service(regenerate_access_link_code)
        .service(regenerate_access_link_url)
        .service(delete_access_link);
}

/// A link as staff see it. The security code is not here: it is shown once, when made.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessLink {
    pub id: AccessLinkId,
    pub client_id: ClientId,
    /// The matter whose work it opens; `null`: the client's own documents outside any matter.
    pub matter_id: Option<MatterId>,
    pub kind: LinkKind,
    /// Enabled, and neither expired nor locked, is what opens.
    pub status: LinkStatus,
    pub enabled: bool,
    /// Shown to the recipient when they open the link.
    pub message: String,
    pub expires_at: DateTime<Utc>,
    /// Upload links: where uploads land (`null`: the top level of the work).
    pub folder_id: Option<FolderId>,
    /// Upload links: how many files may come through the link in all.
    pub max_uploads: i32,
    /// Wrong codes since the last correct one or the last regeneration.
    pub failed_attempts: i32,
    pub locked_at: Option<DateTime<Utc>>,
    /// When someone last opened it with the right code or used its session.
    pub last_accessed_at: Option<DateTime<Utc>>,
    /// The address to pass on (by email, say); the code goes by another channel.
    pub url: String,
    pub created_by: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A link with its new security code, which is never shown again (regenerate it if lost).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessLinkWithCode {
    pub access_link: AccessLink,
    /// Eight digits. Pass it on by another channel than the URL (phone, text message).
    #[schema(example = "40718263")]
    pub security_code: String,
}

/// The address a recipient opens: the portal's page for links, which calls `GET /v1/links/{token}`.
pub fn url_of(settings: &HttpSettings, links: &LinkSecret, link: &Link) -> String {
    let token = links.token(&link.row.id, &link.guard.token_nonce);
    format!("{}/links/{token}", settings.app.public_base_url.trim_end_matches('/'))
}

pub fn present(state: &AppState, link: Link) -> AccessLink {
    let now = vestibule_storage::now();
    let status = link.status(now);
    let url = url_of(&state.settings, &state.links, &link);
    let (row, guard) = (link.row, link.guard);
    AccessLink {
        id: AccessLinkId::from_trusted(row.id),
        client_id: ClientId::from_trusted(row.client_id),
        matter_id: row.matter_id.map(MatterId::from_trusted),
        kind: LinkKind::from_stored(&row.kind),
        status,
        enabled: row.enabled,
        message: row.message,
        expires_at: utc(row.expires_at),
        folder_id: row.folder_id.map(FolderId::from_trusted),
        max_uploads: row.max_uploads,
        failed_attempts: guard.failed_attempts,
        locked_at: guard.locked_at.map(utc),
        last_accessed_at: row.last_accessed_at.map(utc),
        url,
        created_by: row.created_by,
        version: row.version,
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccessLink {
    /// The work: a client (its own documents), or one of its matters.
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    pub kind: LinkKind,
    /// Default `true`.
    pub enabled: Option<bool>,
    /// Up to 4000 characters; default empty.
    #[schema(max_length = 4000)]
    pub message: Option<String>,
    /// In the future; default the firm's `default_link_expiry_days` from now.
    pub expires_at: Option<DateTime<Utc>>,
    /// Upload links only: a folder of the work where uploads land.
    pub folder_id: Option<FolderId>,
    /// Upload links only: 1–1000 files through the link in all (default 50).
    pub max_uploads: Option<i32>,
}

/// Changes to the setup; absent fields stay. Disabling ends the link's open sessions.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccessLink {
    pub enabled: Option<bool>,
    #[schema(max_length = 4000)]
    pub message: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<FolderId>)]
    pub folder_id: Option<Option<FolderId>>,
    pub max_uploads: Option<i32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccessLinkListQuery {
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    pub kind: Option<LinkKind>,
}

fn check_expiry(errors: &mut ValidationErrors, expires_at: DateTime<Utc>) {
    if expires_at <= Utc::now() {
        errors.push(vestibule_domain::FieldError::new(
            "/expires_at",
            "in_the_past",
            "the expiry must be in the future",
        ));
    }
}

fn check_max_uploads(errors: &mut ValidationErrors, max: i32) {
    if !(1..=MAX_UPLOADS_LIMIT).contains(&max) {
        let detail = format!("between 1 and {MAX_UPLOADS_LIMIT}");
        errors.push(vestibule_domain::FieldError::new("/max_uploads", "out_of_range", detail));
    }
}

fn upload_only(errors: &mut ValidationErrors, kind: LinkKind, pointer: &str, given: bool) {
    if given && kind != LinkKind::Upload {
        errors.push(vestibule_domain::FieldError::new(pointer, "upload_links_only", "only upload links have this"));
    }
}

/// Keeps a response with a code or a fresh URL out of caches and `Idempotency-Key` replays.
fn shown_once(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A new token for the link's URL: the nonce it derives from, and the hash stored for lookups.
fn new_token(links: &LinkSecret, link_id: &str) -> (String, String) {
    let nonce = link_auth::new_nonce();
    let hash = secrets::digest(&links.token(link_id, &nonce));
    (nonce, hash)
}

/// Sets up a link for a work; 409 `access_link_exists` if it already has one of the kind
/// (change that one instead). The answer carries the security code, this once.
#[utoipa::path(
    tag = "access-links",
    request_body = CreateAccessLink,
    responses(
        (status = 201, body = AccessLinkWithCode, headers(("Location" = String), ("ETag" = String), ("Cache-Control" = String, description = "`no-store`: the code is shown once"))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/access-links")]
pub async fn create_access_link(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<CreateAccessLink>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteDocuments)?;
    let mut errors = ValidationErrors::default();
    let message = errors.check("/message", text::optional(body.message.as_deref(), MESSAGE_LIMIT)).flatten();
    if let Some(expires_at) = body.expires_at {
        check_expiry(&mut errors, expires_at);
    }
    let max_uploads = body.max_uploads.unwrap_or(DEFAULT_MAX_UPLOADS);
    check_max_uploads(&mut errors, max_uploads);
    upload_only(&mut errors, body.kind, "/folder_id", body.folder_id.is_some());
    upload_only(&mut errors, body.kind, "/max_uploads", body.max_uploads.is_some());
    errors.into_result()?;
    let code = link_auth::new_code();
    let (app, shown) = (state.clone(), code.clone());
    let link = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let place = Place::resolve(
                conn,
                &principal,
                body.client_id.as_ref(),
                body.matter_id.as_ref(),
                ("folder_id", body.folder_id.as_ref()),
                "",
            )?;
            let firm_id = principal.firm_id().to_string();
            let expires_at = match body.expires_at {
                Some(at) => vestibule_domain::audit::storable_time(at.naive_utc()),
                None => {
                    let days = firms::get(conn, &firm_id)?.default_link_expiry_days;
                    vestibule_storage::now() + Duration::days(i64::from(days))
                }
            };
            let id = AccessLinkId::generate().to_string();
            let (token_nonce, token_hash) = new_token(&app.links, &id);
            let now = vestibule_storage::now();
            let link = Link {
                guard: GuardRow {
                    access_link_id: id.clone(),
                    token_nonce,
                    token_hash,
                    code_hash: app.links.code_hash(&id, &code),
                    failed_attempts: 0,
                    locked_at: None,
                },
                row: LinkRow {
                    id,
                    firm_id,
                    work_id: place.matter_id.clone().unwrap_or_else(|| place.client_id.clone()),
                    client_id: place.client_id,
                    matter_id: place.matter_id,
                    kind: body.kind.as_str().to_owned(),
                    enabled: body.enabled.unwrap_or(true),
                    message: message.unwrap_or_default(),
                    expires_at,
                    folder_id: place.folder_id,
                    max_uploads,
                    last_accessed_at: None,
                    created_by: principal.actor().1.to_owned(),
                    version: 1,
                    created_at: now,
                    updated_at: now,
                },
            };
            access_links::insert(conn, &link).map_err(|e| match e {
                StorageError::Conflict(_) => ApiError::conflict(
                    "access_link_exists",
                    "this client or matter already has a link of this kind; change or regenerate that one",
                ),
                other => other.into(),
            })?;
            let entry = Entry::success("access_link.created", "access_link", &link.row.id)
                .with_details(serde_json::json!({ "kind": link.row.kind, "expires_at": utc(link.row.expires_at) }));
            audit::record(conn, &origin, &principal, entry)?;
            Ok(link)
        })
    })
    .await?;
    let version = link.row.version;
    let body = AccessLinkWithCode { access_link: present(&state, link), security_code: shown };
    Ok(shown_once(with_etag(created(format!("/v1/access-links/{}", body.access_link.id), &body), version)))
}

/// Access links of the firm, oldest first, with filters.
#[utoipa::path(
    tag = "access-links",
    params(AccessLinkListQuery, PageQuery),
    responses((status = 200, body = Paginated<AccessLink>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/access-links")]
pub async fn list_access_links(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    query: Query<AccessLinkListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<AccessLink>>, ApiError> {
    authorize(&principal, Action::ReadDocuments)?;
    let page = page.page()?;
    let query = query.into_inner();
    let filter = LinkFilter {
        client_id: query.client_id.map(String::from),
        matter_id: query.matter_id.map(String::from),
        kind: query.kind.map(|k| k.as_str().to_owned()),
    };
    let app = state.clone();
    db::run(&state, move |conn| {
        let visibility = matter_visibility(&principal);
        let firm_id = principal.firm_id().as_str();
        let rows = access_links::list(conn, firm_id, &visibility, &filter, page.after.as_deref(), page.limit)?;
        Ok(web::Json(Paginated::from_rows(&page, rows, |l| l.row.id.clone(), |l| present(&app, l))))
    })
    .await
}

/// A link the caller may see (its matter too), or 404.
pub fn visible_link(conn: &mut DbConnection, principal: &Principal, id: &str) -> Result<Link, ApiError> {
    Ok(access_links::get(conn, principal.firm_id().as_str(), id, &matter_visibility(principal))?)
}

/// One access link, with its status.
#[utoipa::path(
    tag = "access-links",
    params(("access_link_id" = AccessLinkId, Path)),
    responses((status = 200, body = AccessLink, headers(("ETag" = String))), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/access-links/{access_link_id}")]
pub async fn get_access_link(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<AccessLinkId>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::ReadDocuments)?;
    let id = path.into_inner();
    let link = db::run(&state, move |conn| visible_link(conn, &principal, id.as_str())).await?;
    let version = link.row.version;
    Ok(with_etag(HttpResponse::Ok().json(present(&state, link)), version))
}

/// Changes the setup; `If-Match` guards against lost updates. Disabling ends open sessions
/// at once; a disabled, expired or locked link answers its recipient `410 link_unavailable`.
#[utoipa::path(
    tag = "access-links",
    params(("access_link_id" = AccessLinkId, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdateAccessLink,
    responses(
        (status = 200, body = AccessLink, headers(("ETag" = String))),
        BadRequest, Unauthorized, Forbidden, NotFound, PreconditionFailed, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[patch("/access-links/{access_link_id}")]
pub async fn update_access_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<AccessLinkId>,
    ApiJson(body): ApiJson<UpdateAccessLink>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteDocuments)?;
    let expected = if_match(&req)?;
    let mut errors = ValidationErrors::default();
    let message =
        body.message.as_deref().and_then(|m| errors.check("/message", text::optional(Some(m), MESSAGE_LIMIT)));
    if let Some(expires_at) = body.expires_at {
        check_expiry(&mut errors, expires_at);
    }
    if let Some(max) = body.max_uploads {
        check_max_uploads(&mut errors, max);
    }
    errors.into_result()?;
    let id = path.into_inner();
    let link = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let mut link = visible_link(conn, &principal, id.as_str())?;
            let version = link.row.version;
            if expected.is_some_and(|e| e != version) {
                return Err(ApiError::PreconditionFailed);
            }
            let kind = LinkKind::from_stored(&link.row.kind);
            let mut errors = ValidationErrors::default();
            upload_only(&mut errors, kind, "/folder_id", body.folder_id.as_ref().is_some_and(Option::is_some));
            upload_only(&mut errors, kind, "/max_uploads", body.max_uploads.is_some());
            errors.into_result()?;
            let row = &mut link.row;
            let disabling = row.enabled && body.enabled == Some(false);
            if let Some(enabled) = body.enabled {
                row.enabled = enabled;
            }
            if let Some(message) = message {
                row.message = message.unwrap_or_default();
            }
            if let Some(expires_at) = body.expires_at {
                row.expires_at = vestibule_domain::audit::storable_time(expires_at.naive_utc());
            }
            if let Some(folder) = &body.folder_id {
                let place = (row.client_id.as_str(), row.matter_id.as_deref());
                row.folder_id = match folder {
                    Some(folder) => Some(folder_in(conn, &principal, folder, place, "/folder_id")?.id),
                    None => None,
                };
            }
            if let Some(max) = body.max_uploads {
                row.max_uploads = max;
            }
            row.updated_at = vestibule_storage::now();
            access_links::update_setup(conn, row, version)?;
            row.version = version + 1;
            if disabling {
                access_links::end_sessions(conn, &row.id)?;
            }
            let entry = Entry::success("access_link.updated", "access_link", &row.id)
                .with_details(serde_json::json!({ "enabled": row.enabled, "expires_at": utc(row.expires_at) }));
            audit::record(conn, &origin, &principal, entry)?;
            Ok(link)
        })
    })
    .await?;
    let version = link.row.version;
    Ok(with_etag(HttpResponse::Ok().json(present(&state, link)), version))
}

/// A change to what guards a link (its code or its URL), made, audited and read back in one
/// transaction.
struct Rekey {
    origin: Origin,
    principal: Principal,
    id: AccessLinkId,
    action: &'static str,
}

impl Rekey {
    async fn run<F>(self, state: &AppState, change: F) -> Result<Link, ApiError>
    where
        F: FnOnce(&mut DbConnection, &Link) -> Result<serde_json::Value, ApiError> + Send + 'static,
    {
        let Self { origin, principal, id, action } = self;
        db::run(state, move |conn| {
            write_tx(conn, |conn| {
                let link = visible_link(conn, &principal, id.as_str())?;
                let details = change(conn, &link)?;
                let entry = Entry::success(action, "access_link", &link.row.id).with_details(details);
                audit::record(conn, &origin, &principal, entry)?;
                visible_link(conn, &principal, id.as_str())
            })
        })
        .await
    }
}

/// Makes a new security code, shown this once: the old code stops working, wrong attempts
/// start again from zero, a locked link is unlocked and open sessions end.
#[utoipa::path(
    tag = "access-links",
    params(("access_link_id" = AccessLinkId, Path)),
    responses(
        (status = 200, body = AccessLinkWithCode, headers(("ETag" = String), ("Cache-Control" = String, description = "`no-store`: the code is shown once"))),
        Unauthorized, Forbidden, NotFound, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/access-links/{access_link_id}/code")]
pub async fn regenerate_access_link_code(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<AccessLinkId>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteDocuments)?;
    let code = link_auth::new_code();
    let (app, shown) = (state.clone(), code.clone());
    let rekeyed = Rekey { origin, principal, id: path.into_inner(), action: "access_link.code_regenerated" };
    let link = rekeyed
        .run(&state, move |conn, link| {
            let hash = app.links.code_hash(&link.row.id, &code);
            access_links::replace_code(conn, &link.row.id, &hash, vestibule_storage::now())?;
            Ok(serde_json::json!({ "unlocked": link.guard.locked_at.is_some() }))
        })
        .await?;
    let version = link.row.version;
    let body = AccessLinkWithCode { access_link: present(&state, link), security_code: shown };
    Ok(shown_once(with_etag(HttpResponse::Ok().json(body), version)))
}

/// Gives the link a new URL: the old one stops working and open sessions end. The code stays.
#[utoipa::path(
    tag = "access-links",
    params(("access_link_id" = AccessLinkId, Path)),
    responses(
        (status = 200, body = AccessLink, headers(("ETag" = String), ("Cache-Control" = String, description = "`no-store`"))),
        Unauthorized, Forbidden, NotFound, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/access-links/{access_link_id}/url")]
pub async fn regenerate_access_link_url(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<AccessLinkId>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteDocuments)?;
    let app = state.clone();
    let rekeyed = Rekey { origin, principal, id: path.into_inner(), action: "access_link.url_regenerated" };
    let link = rekeyed
        .run(&state, move |conn, link| {
            let (nonce, hash) = new_token(&app.links, &link.row.id);
            access_links::replace_token(conn, &link.row.id, &nonce, &hash, vestibule_storage::now())?;
            Ok(serde_json::json!({}))
        })
        .await?;
    let version = link.row.version;
    Ok(shown_once(with_etag(HttpResponse::Ok().json(present(&state, link)), version)))
}

/// Removes a link: its URL and code stop working at once, and its download records and
/// contact log go with it (the audit log keeps what happened). Disabling keeps them.
#[utoipa::path(
    tag = "access-links",
    params(("access_link_id" = AccessLinkId, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204, description = "Deleted."), Unauthorized, Forbidden, NotFound, PreconditionFailed, InternalError),
    security(("bearer" = []))
)]
#[delete("/access-links/{access_link_id}")]
pub async fn delete_access_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<AccessLinkId>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteDocuments)?;
    let expected = if_match(&req)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let link = visible_link(conn, &principal, id.as_str())?;
            if expected.is_some_and(|e| e != link.row.version) {
                return Err(ApiError::PreconditionFailed);
            }
            access_links::delete(conn, &link.row.id)?;
            let entry = Entry::success("access_link.deleted", "access_link", &link.row.id)
                .with_details(serde_json::json!({ "kind": link.row.kind, "work_id": link.row.work_id }));
            Ok(audit::record(conn, &origin, &principal, entry)?)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
