//! Folders of a client's or matter's documents (seed 002's work folders, seed 003's target
//! folder). They nest; names are unique among siblings, ignoring case; a folder is deleted
//! only when empty.

use vestibule_domain::authz::{Action, authorize, matter_visibility};
use vestibule_domain::cursor::Page;
use vestibule_domain::ids::{ClientId, FolderId, MatterId};
use vestibule_storage::folders::{self, FolderFilter, FolderRow};
use vestibule_storage::{DbConnection, StorageError, write_tx};

use crate::audit::{self, Entry};
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::page::Listed;
use crate::places::{Place, folder_in, visible_folder};

/// A new folder, its name already validated: in a parent folder (and so its client or
/// matter), or at the top of a client's or matter's documents.
#[derive(Debug, Clone)]
pub struct NewFolder {
    pub name: String,
    pub parent: Option<FolderId>,
    pub client: Option<ClientId>,
    pub matter: Option<MatterId>,
}

/// Fields to change: `None` keeps; `parent: Some(None)` moves to the top.
#[derive(Debug, Clone, Default)]
pub struct FolderChanges {
    pub name: Option<String>,
    pub parent: Option<Option<FolderId>>,
}

#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    filter: &FolderFilter,
    page: &Page,
) -> AppResult<Listed<FolderRow>> {
    authorize(&ctx.principal, Action::ReadDocuments)?;
    let visibility = matter_visibility(&ctx.principal);
    let rows = folders::list(conn, ctx.firm_id(), &visibility, filter, page.after.as_deref(), page.limit)?;
    Ok(Listed::finish(page, rows, |r| r.id.clone()))
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, id: &FolderId) -> AppResult<FolderRow> {
    authorize(&ctx.principal, Action::ReadDocuments)?;
    visible_folder(conn, &ctx.principal, &matter_visibility(&ctx.principal), id.as_str())
}

#[tracing::instrument(skip(conn, ctx))]
pub fn create(conn: &mut DbConnection, ctx: &Context, new: NewFolder) -> AppResult<FolderRow> {
    authorize(&ctx.principal, Action::WriteDocuments)?;
    write_tx(conn, |conn| {
        let place = Place::resolve(
            conn,
            &ctx.principal,
            new.client.as_ref(),
            new.matter.as_ref(),
            ("parent_id", new.parent.as_ref()),
            "",
        )?;
        let now = vestibule_storage::now();
        let row = FolderRow {
            id: FolderId::generate().into(),
            firm_id: ctx.firm_id().to_owned(),
            client_id: place.client_id,
            matter_id: place.matter_id,
            parent_id: place.folder_id,
            name: new.name,
            created_at: now,
            updated_at: now,
        };
        check_name(conn, &row)?;
        folders::insert(conn, &row)?;
        audit::record(conn, ctx, Entry::success("folder.created", "folder", &row.id))?;
        Ok(row)
    })
}

/// Renames or moves a folder within its client or matter (not into itself or below).
#[tracing::instrument(skip(conn, ctx))]
pub fn update(conn: &mut DbConnection, ctx: &Context, id: &FolderId, changes: FolderChanges) -> AppResult<FolderRow> {
    authorize(&ctx.principal, Action::WriteDocuments)?;
    write_tx(conn, |conn| {
        let visibility = matter_visibility(&ctx.principal);
        let mut row = visible_folder(conn, &ctx.principal, &visibility, id.as_str())?;
        if let Some(parent) = changes.parent {
            if let Some(parent) = &parent {
                let place = (row.client_id.as_str(), row.matter_id.as_deref());
                let target = folder_in(conn, &ctx.principal, parent, place, "/parent_id")?;
                if folders::is_within(conn, &row.id, &target.id)? {
                    return Err(AppError::field("/parent_id", "cycle", "a folder cannot move into itself"));
                }
            }
            row.parent_id = parent.map(String::from);
        }
        if let Some(name) = changes.name {
            row.name = name;
        }
        row.updated_at = vestibule_storage::now();
        check_name(conn, &row)?;
        folders::update(conn, &row)?;
        audit::record(conn, ctx, Entry::success("folder.updated", "folder", &row.id))?;
        Ok(row)
    })
}

/// Deletes an empty folder: `folder_not_empty` while it holds folders or documents.
#[tracing::instrument(skip(conn, ctx))]
pub fn delete(conn: &mut DbConnection, ctx: &Context, id: &FolderId) -> AppResult<()> {
    authorize(&ctx.principal, Action::WriteDocuments)?;
    write_tx(conn, |conn| {
        let visibility = matter_visibility(&ctx.principal);
        let row = visible_folder(conn, &ctx.principal, &visibility, id.as_str())?;
        folders::delete_empty(conn, &row.id).map_err(|error| match error {
            StorageError::Conflict(_) => {
                AppError::conflict("folder_not_empty", "move or delete its folders and documents first")
            }
            other => other.into(),
        })?;
        audit::record(conn, ctx, Entry::success("folder.deleted", "folder", &row.id))?;
        Ok(())
    })
}

fn check_name(conn: &mut DbConnection, row: &FolderRow) -> AppResult<()> {
    if folders::name_taken(conn, row)? {
        return Err(AppError::conflict("folder_name_taken", "a folder of this name is already there"));
    }
    Ok(())
}
