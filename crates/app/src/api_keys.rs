//! Integration API keys: the secret is shown once, at creation; only its digest is stored.

use serde_json::json;
use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::cursor::Page;
use vestibule_domain::ids::ApiKeyId;
use vestibule_domain::principal::Principal;
use vestibule_domain::scope::ApiScope;
use vestibule_storage::DbConnection;
use vestibule_storage::api_keys::{self, ApiKeyRow};

use crate::audit::Entry;
use crate::change::audited;
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::page::Listed;
use crate::secrets;

/// A new key and the secret to send with it, which nothing keeps.
pub struct CreatedKey {
    pub row: ApiKeyRow,
    pub secret: String,
}

#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    include_revoked: bool,
    page: &Page,
) -> AppResult<Listed<ApiKeyRow>> {
    authorize(&ctx.principal, Action::ManageApiKeys)?;
    let rows = api_keys::list(conn, ctx.firm_id(), include_revoked, page.after.as_deref(), page.limit)?;
    Ok(Listed::finish(page, rows, |r| r.id.clone()))
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, id: &ApiKeyId) -> AppResult<ApiKeyRow> {
    authorize(&ctx.principal, Action::ManageApiKeys)?;
    Ok(api_keys::get(conn, ctx.firm_id(), id.as_str())?)
}

/// Creates a key with these scopes (given at least one), created by the calling staff member.
#[tracing::instrument(skip(conn, ctx))]
pub fn create(
    conn: &mut DbConnection,
    ctx: &Context,
    name: String,
    mut scopes: Vec<ApiScope>,
) -> AppResult<CreatedKey> {
    let Principal::Staff(me) = &ctx.principal else {
        return Err(AppError::Forbidden("only staff members signed in with a password may do this".to_owned()));
    };
    scopes.sort_by_key(|s| s.as_str());
    scopes.dedup();
    let secret = secrets::random_secret();
    let row = ApiKeyRow {
        id: ApiKeyId::generate().into(),
        firm_id: ctx.firm_id().to_owned(),
        name,
        secret_hash: secrets::digest(&secret),
        scopes: scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
        created_by: me.staff_id.to_string(),
        created_at: vestibule_storage::now(),
        last_used_at: None,
        revoked_at: None,
    };
    let id = row.id.clone();
    let entry = Entry::success("api_key.created", "api_key", &id).with_details(json!({ "scopes": row.scopes }));
    let row = audited(conn, ctx, Action::ManageApiKeys, entry, |conn, _| {
        api_keys::insert(conn, &row)?;
        Ok(row)
    })?;
    let secret = secrets::format_api_key(&row.id, &secret);
    Ok(CreatedKey { row, secret })
}

/// Revokes a key: requests with it fail from now on.
#[tracing::instrument(skip(conn, ctx))]
pub fn revoke(conn: &mut DbConnection, ctx: &Context, id: &ApiKeyId) -> AppResult<ApiKeyRow> {
    let entry = Entry::success("api_key.revoked", "api_key", id.as_str());
    audited(conn, ctx, Action::ManageApiKeys, entry, |conn, firm_id| {
        Ok(api_keys::revoke(conn, firm_id, id.as_str(), vestibule_storage::now())?)
    })
}
