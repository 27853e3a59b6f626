//! Seed 002's external download and upload links, staff side: one link of each kind per
//! client or matter (the "work"), its setup, its URL and a security code made by the server
//! and shown only when made. Regenerating the code (which unlocks a locked link) or the URL
//! ends every session opened with the old one.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use vestibule_domain::access_link::LinkKind;
use vestibule_domain::audit::storable_time;
use vestibule_domain::authz::{Action, authorize, matter_visibility};
use vestibule_domain::cursor::Page;
use vestibule_domain::ids::{AccessLinkId, ClientId, FolderId, MatterId};
use vestibule_domain::principal::Principal;
use vestibule_domain::{FieldError, ValidationErrors};
use vestibule_storage::access_links::{self, GuardRow, Link, LinkFilter, LinkRow};
use vestibule_storage::{DbConnection, StorageError, firms, write_tx};

use crate::audit::{self, Entry};
use crate::context::{Context, Settings};
use crate::error::{AppError, AppResult};
use crate::link_secret::{LinkSecret, new_code};
use crate::page::Listed;
use crate::places::{Place, folder_in};

/// A link to set up; values already validated.
#[derive(Debug, Clone)]
pub struct NewAccessLink {
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    pub kind: LinkKind,
    pub enabled: bool,
    pub message: String,
    /// `None`: the firm's default expiry from now.
    pub expires_at: Option<DateTime<Utc>>,
    pub folder_id: Option<FolderId>,
    pub max_uploads: i32,
}

/// Changes to a link's setup: `None` keeps; `folder_id: Some(None)` puts uploads at the top
/// level of the work.
#[derive(Debug, Clone, Default)]
pub struct AccessLinkUpdate {
    pub enabled: Option<bool>,
    pub message: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub folder_id: Option<Option<FolderId>>,
    pub max_uploads: Option<i32>,
}

/// A link with the security code just made for it, which is never shown again.
pub struct WithCode {
    pub link: Link,
    pub code: String,
}

/// The address a recipient opens: the portal's page for links, which calls `GET /v1/links/{token}`.
pub fn url_of(settings: &Settings, links: &LinkSecret, link: &Link) -> String {
    settings.link(&format!("/links/{}", links.token(&link.row.id, &link.guard.token_nonce)))
}

/// Refuses, at `pointer`, setup that only upload links have.
pub fn upload_only(errors: &mut ValidationErrors, kind: LinkKind, pointer: &str, given: bool) {
    if given && kind != LinkKind::Upload {
        errors.push(FieldError::new(pointer, "upload_links_only", "only upload links have this"));
    }
}

/// A link the caller may see (its matter too), or `NotFound`.
pub fn visible(conn: &mut DbConnection, principal: &Principal, id: &AccessLinkId) -> AppResult<Link> {
    Ok(access_links::get(conn, principal.firm_id().as_str(), id.as_str(), &matter_visibility(principal))?)
}

/// Sets up a link for a work; `access_link_exists` if it already has one of the kind.
#[tracing::instrument(skip(conn, ctx, links))]
pub fn create(conn: &mut DbConnection, ctx: &Context, links: &LinkSecret, new: NewAccessLink) -> AppResult<WithCode> {
    authorize(&ctx.principal, Action::WriteDocuments)?;
    let code = new_code();
    let link = write_tx(conn, |conn| {
        let principal = &ctx.principal;
        let folder = ("folder_id", new.folder_id.as_ref());
        let place = Place::resolve(conn, principal, new.client_id.as_ref(), new.matter_id.as_ref(), folder, "")?;
        let firm_id = ctx.firm_id().to_owned();
        let now = vestibule_storage::now();
        let expires_at = match new.expires_at {
            Some(at) => storable_time(at.naive_utc()),
            None => now + Duration::days(i64::from(firms::get(conn, &firm_id)?.default_link_expiry_days)),
        };
        let id = AccessLinkId::generate().to_string();
        let (token_nonce, token_hash) = links.new_token(&id);
        let link = Link {
            guard: GuardRow {
                access_link_id: id.clone(),
                token_nonce,
                token_hash,
                code_hash: links.code_hash(&id, &code),
                failed_attempts: 0,
                locked_at: None,
            },
            row: LinkRow {
                id,
                firm_id,
                work_id: place.matter_id.clone().unwrap_or_else(|| place.client_id.clone()),
                client_id: place.client_id,
                matter_id: place.matter_id,
                kind: new.kind.as_str().to_owned(),
                enabled: new.enabled,
                message: new.message,
                expires_at,
                folder_id: place.folder_id,
                max_uploads: new.max_uploads,
                last_accessed_at: None,
                created_by: principal.actor().1.to_owned(),
                version: 1,
                created_at: now,
                updated_at: now,
            },
        };
        access_links::insert(conn, &link).map_err(|e| match e {
            StorageError::Conflict(_) => AppError::conflict(
                "access_link_exists",
                "this client or matter already has a link of this kind; change or regenerate that one",
            ),
            other => other.into(),
        })?;
        let entry = Entry::success("access_link.created", "access_link", &link.row.id)
            .with_details(json!({ "kind": link.row.kind, "expires_at": link.row.expires_at.and_utc() }));
        audit::record(conn, ctx, entry)?;
        Ok::<_, AppError>(link)
    })?;
    Ok(WithCode { link, code })
}

#[tracing::instrument(skip(conn, ctx))]
pub fn list(conn: &mut DbConnection, ctx: &Context, filter: &LinkFilter, page: &Page) -> AppResult<Listed<Link>> {
    authorize(&ctx.principal, Action::ReadDocuments)?;
    let visibility = matter_visibility(&ctx.principal);
    let rows = access_links::list(conn, ctx.firm_id(), &visibility, filter, page.after.as_deref(), page.limit)?;
    Ok(Listed::finish(page, rows, |l| l.row.id.clone()))
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, id: &AccessLinkId) -> AppResult<Link> {
    authorize(&ctx.principal, Action::ReadDocuments)?;
    visible(conn, &ctx.principal, id)
}

/// Changes the setup if the link is still at `expected_version`; disabling ends its open
/// sessions at once.
#[tracing::instrument(skip(conn, ctx))]
pub fn update(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &AccessLinkId,
    expected_version: Option<i64>,
    update: AccessLinkUpdate,
) -> AppResult<Link> {
    authorize(&ctx.principal, Action::WriteDocuments)?;
    write_tx(conn, |conn| {
        let mut link = visible(conn, &ctx.principal, id)?;
        let version = link.row.version;
        if expected_version.is_some_and(|e| e != version) {
            return Err(AppError::PreconditionFailed);
        }
        let kind = LinkKind::from_stored(&link.row.kind);
        let mut errors = ValidationErrors::default();
        upload_only(&mut errors, kind, "/folder_id", update.folder_id.as_ref().is_some_and(Option::is_some));
        upload_only(&mut errors, kind, "/max_uploads", update.max_uploads.is_some());
        errors.into_result()?;
        let row = &mut link.row;
        let disabling = row.enabled && update.enabled == Some(false);
        if let Some(enabled) = update.enabled {
            row.enabled = enabled;
        }
        if let Some(message) = update.message {
            row.message = message;
        }
        if let Some(expires_at) = update.expires_at {
            row.expires_at = storable_time(expires_at.naive_utc());
        }
        if let Some(folder) = &update.folder_id {
            let place = (row.client_id.as_str(), row.matter_id.as_deref());
            row.folder_id = match folder {
                Some(folder) => Some(folder_in(conn, &ctx.principal, folder, place, "/folder_id")?.id),
                None => None,
            };
        }
        if let Some(max) = update.max_uploads {
            row.max_uploads = max;
        }
        row.updated_at = vestibule_storage::now();
        access_links::update_setup(conn, row, version)?;
        row.version = version + 1;
        if disabling {
            access_links::end_sessions(conn, &row.id)?;
        }
        let entry = Entry::success("access_link.updated", "access_link", &row.id)
            .with_details(json!({ "enabled": row.enabled, "expires_at": row.expires_at.and_utc() }));
        audit::record(conn, ctx, entry)?;
        Ok(link)
    })
}

/// Makes a new security code: the old one stops working, wrong attempts start again from
/// zero, a locked link is unlocked and open sessions end.
#[tracing::instrument(skip(conn, ctx, links))]
pub fn regenerate_code(
    conn: &mut DbConnection,
    ctx: &Context,
    links: &LinkSecret,
    id: &AccessLinkId,
) -> AppResult<WithCode> {
    let code = new_code();
    let link = rekey(conn, ctx, id, "access_link.code_regenerated", |conn, link| {
        let hash = links.code_hash(&link.row.id, &code);
        access_links::replace_code(conn, &link.row.id, &hash, vestibule_storage::now())?;
        Ok(json!({ "unlocked": link.guard.locked_at.is_some() }))
    })?;
    Ok(WithCode { link, code })
}

/// Gives the link a new URL: the old one stops working and open sessions end. The code stays.
#[tracing::instrument(skip(conn, ctx, links))]
pub fn regenerate_url(
    conn: &mut DbConnection,
    ctx: &Context,
    links: &LinkSecret,
    id: &AccessLinkId,
) -> AppResult<Link> {
    rekey(conn, ctx, id, "access_link.url_regenerated", |conn, link| {
        let (nonce, hash) = links.new_token(&link.row.id);
        access_links::replace_token(conn, &link.row.id, &nonce, &hash, vestibule_storage::now())?;
        Ok(json!({}))
    })
}

/// A change to what guards a link (its code or its URL), made, audited and read back in one
/// transaction.
fn rekey(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &AccessLinkId,
    action: &str,
    change: impl FnOnce(&mut DbConnection, &Link) -> AppResult<Value>,
) -> AppResult<Link> {
    authorize(&ctx.principal, Action::WriteDocuments)?;
    write_tx(conn, |conn| {
        let link = visible(conn, &ctx.principal, id)?;
        let details = change(conn, &link)?;
        audit::record(conn, ctx, Entry::success(action, "access_link", &link.row.id).with_details(details))?;
        visible(conn, &ctx.principal, id)
    })
}

/// Removes a link with its download records and contact log (the audit log keeps what
/// happened).
#[tracing::instrument(skip(conn, ctx))]
pub fn delete(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &AccessLinkId,
    expected_version: Option<i64>,
) -> AppResult<()> {
    authorize(&ctx.principal, Action::WriteDocuments)?;
    write_tx(conn, |conn| {
        let link = visible(conn, &ctx.principal, id)?;
        if expected_version.is_some_and(|e| e != link.row.version) {
            return Err(AppError::PreconditionFailed);
        }
        access_links::delete(conn, &link.row.id)?;
        let entry = Entry::success("access_link.deleted", "access_link", &link.row.id)
            .with_details(json!({ "kind": link.row.kind, "work_id": link.row.work_id }));
        audit::record(conn, ctx, entry)?;
        Ok(())
    })
}
