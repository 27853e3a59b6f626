//! Seed 002's external download and upload links, staff side: per client or matter (the
//! "work") one link of each kind, with its setup (enabled, message, expiry, upload folder
//! and limit), its status at a glance, its URL to copy, and a security code the server makes
//! and shows only when it is made. Regenerating the code (which unlocks a locked link) or
//! the URL ends every session opened with the old one.

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::access_links::{self, AccessLinkUpdate, NewAccessLink, WithCode, upload_only, url_of};
use vestibule_domain::access_link::{LinkKind, LinkStatus};
use vestibule_domain::authz::Action;
use vestibule_domain::ids::{AccessLinkId, ClientId, FolderId, MatterId};
use vestibule_domain::{FieldError, ValidationErrors, text};
use vestibule_storage::access_links::{Link, LinkFilter};

use crate::auth::principal::Caller;
use crate::error::ApiError;
use crate::etag::{if_match, with_etag};
use crate::json::{ApiJson, Query, nullable};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, PreconditionFailed, Unauthorized,
    Unprocessable, UnsupportedMediaType,
};
use crate::routes::{created, utc};
use crate::routing::Routes;
use crate::state::AppState;

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

fn present(state: &AppState, link: Link) -> AccessLink {
    let now = vestibule_storage::now();
    let status = link.status(now);
    let url = url_of(&state.settings.app, &state.links, &link);
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
        errors.push(FieldError::new("/expires_at", "in_the_past", "the expiry must be in the future"));
    }
}

fn check_max_uploads(errors: &mut ValidationErrors, max: i32) {
    if !(1..=MAX_UPLOADS_LIMIT).contains(&max) {
        let detail = format!("between 1 and {MAX_UPLOADS_LIMIT}");
        errors.push(FieldError::new("/max_uploads", "out_of_range", detail));
    }
}

impl CreateAccessLink {
    fn command(self) -> Result<NewAccessLink, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let message = errors.check("/message", text::optional(self.message.as_deref(), MESSAGE_LIMIT)).flatten();
        if let Some(expires_at) = self.expires_at {
            check_expiry(&mut errors, expires_at);
        }
        let max_uploads = self.max_uploads.unwrap_or(DEFAULT_MAX_UPLOADS);
        check_max_uploads(&mut errors, max_uploads);
        upload_only(&mut errors, self.kind, "/folder_id", self.folder_id.is_some());
        upload_only(&mut errors, self.kind, "/max_uploads", self.max_uploads.is_some());
        errors.into_result()?;
        Ok(NewAccessLink {
            client_id: self.client_id,
            matter_id: self.matter_id,
            kind: self.kind,
            enabled: self.enabled.unwrap_or(true),
            message: message.unwrap_or_default(),
            expires_at: self.expires_at,
            folder_id: self.folder_id,
            max_uploads,
        })
    }
}

impl UpdateAccessLink {
    /// Checks what needs no link; what depends on the link's kind is the use case's check.
    fn command(self) -> Result<AccessLinkUpdate, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let message =
            self.message.as_deref().and_then(|m| errors.check("/message", text::optional(Some(m), MESSAGE_LIMIT)));
        if let Some(expires_at) = self.expires_at {
            check_expiry(&mut errors, expires_at);
        }
        if let Some(max) = self.max_uploads {
            check_max_uploads(&mut errors, max);
        }
        errors.into_result()?;
        Ok(AccessLinkUpdate {
            enabled: self.enabled,
            message: message.map(Option::unwrap_or_default),
            expires_at: self.expires_at,
            folder_id: self.folder_id,
            max_uploads: self.max_uploads,
        })
    }
}

/// Keeps a response with a code or a fresh URL out of caches and `Idempotency-Key` replays.
fn shown_once(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn answer(state: &AppState, link: Link) -> HttpResponse {
    let version = link.row.version;
    with_etag(HttpResponse::Ok().json(present(state, link)), version)
}

fn with_code(state: &AppState, WithCode { link, code }: WithCode) -> (AccessLinkWithCode, i64) {
    let version = link.row.version;
    (AccessLinkWithCode { access_link: present(state, link), security_code: code }, version)
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
    caller: Caller,
    ApiJson(body): ApiJson<CreateAccessLink>,
) -> Result<HttpResponse, ApiError> {
    let new = body.command()?;
    let links = state.links.clone();
    let made = caller
        .must(Action::WriteDocuments)
        .call(&state, move |conn, ctx| access_links::create(conn, ctx, &links, new))
        .await?;
    let (body, version) = with_code(&state, made);
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
    caller: Caller,
    query: Query<AccessLinkListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<AccessLink>>, ApiError> {
    let page = page.page()?;
    let query = query.into_inner();
    let filter = LinkFilter {
        client_id: query.client_id.map(String::from),
        matter_id: query.matter_id.map(String::from),
        kind: query.kind.map(|k| k.as_str().to_owned()),
    };
    let listed = caller
        .must(Action::ReadDocuments)
        .call(&state, move |conn, ctx| access_links::list(conn, ctx, &filter, &page))
        .await?;
    Ok(web::Json(Paginated::of(listed, |l| present(&state, l))))
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
    caller: Caller,
    path: web::Path<AccessLinkId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let link = caller.call(&state, move |conn, ctx| access_links::get(conn, ctx, &id)).await?;
    Ok(answer(&state, link))
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
    caller: Caller,
    path: web::Path<AccessLinkId>,
    ApiJson(body): ApiJson<UpdateAccessLink>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(&req)?;
    let update = body.command()?;
    let id = path.into_inner();
    let link = caller
        .must(Action::WriteDocuments)
        .call(&state, move |conn, ctx| access_links::update(conn, ctx, &id, expected, update))
        .await?;
    Ok(answer(&state, link))
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
    caller: Caller,
    path: web::Path<AccessLinkId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let links = state.links.clone();
    let made = caller.call(&state, move |conn, ctx| access_links::regenerate_code(conn, ctx, &links, &id)).await?;
    let (body, version) = with_code(&state, made);
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
    caller: Caller,
    path: web::Path<AccessLinkId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let links = state.links.clone();
    let link = caller.call(&state, move |conn, ctx| access_links::regenerate_url(conn, ctx, &links, &id)).await?;
    Ok(shown_once(answer(&state, link)))
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
    caller: Caller,
    path: web::Path<AccessLinkId>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(&req)?;
    let id = path.into_inner();
    caller
        .must(Action::WriteDocuments)
        .call(&state, move |conn, ctx| access_links::delete(conn, ctx, &id, expected))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
