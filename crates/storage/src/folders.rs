//! Folders of a client's or matter's documents; they nest.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use vestibule_domain::authz::MatterVisibility;

use crate::db::DbConnection;
use crate::error::{StorageError, StorageResult};
use crate::limit::LimitLiteral;
use crate::schema::{access_links, documents, folders};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = folders)]
pub struct FolderRow {
    pub id: String,
    pub firm_id: String,
    pub client_id: String,
    pub matter_id: Option<String>,
    pub parent_id: Option<String>,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default)]
pub struct FolderFilter {
    pub client_id: Option<String>,
    pub matter_id: Option<String>,
    /// `Some(None)`: top-level folders only.
    pub parent_id: Option<Option<String>>,
}

type Boxed<'a> = folders::BoxedQuery<'a, <DbConnection as diesel::Connection>::Backend>;

fn visible<'a>(query: Boxed<'a>, visibility: &'a MatterVisibility) -> Boxed<'a> {
    matter_visible!(query, folders::matter_id, folders::id, visibility)
}

pub fn insert(conn: &mut DbConnection, row: &FolderRow) -> StorageResult<()> {
    diesel::insert_into(folders::table).values(row).execute(conn)?;
    Ok(())
}

pub fn get(
    conn: &mut DbConnection,
    firm_id: &str,
    id: &str,
    visibility: &MatterVisibility,
) -> StorageResult<FolderRow> {
    let query = folders::table.filter(folders::firm_id.eq(firm_id).and(folders::id.eq(id))).into_boxed();
    Ok(visible(query, visibility).select(FolderRow::as_select()).limit_literal(1).get_result(conn)?)
}

pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    visibility: &MatterVisibility,
    filter: &FolderFilter,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<FolderRow>> {
    let mut query = visible(folders::table.filter(folders::firm_id.eq(firm_id)).into_boxed(), visibility);
    if let Some(client) = &filter.client_id {
        query = query.filter(folders::client_id.eq(client));
    }
    if let Some(matter) = &filter.matter_id {
        query = query.filter(folders::matter_id.eq(matter));
    }
    match &filter.parent_id {
        Some(Some(parent)) => query = query.filter(folders::parent_id.eq(parent)),
        Some(None) => query = query.filter(folders::parent_id.is_null()),
        None => {}
    }
    if let Some(after) = after {
        query = query.filter(folders::id.gt(after));
    }
    Ok(query.order(folders::id.asc()).select(FolderRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

/// Whether a sibling (same client, matter and parent) already has this name, ignoring case.
pub fn name_taken(conn: &mut DbConnection, row: &FolderRow) -> StorageResult<bool> {
    let mut query = folders::table
        .filter(folders::client_id.eq(&row.client_id).and(folders::id.ne(&row.id)))
        .filter(crate::clients::lower(folders::name).eq(row.name.to_lowercase()))
        .into_boxed();
    query = match &row.matter_id {
        Some(matter) => query.filter(folders::matter_id.eq(matter)),
        None => query.filter(folders::matter_id.is_null()),
    };
    query = match &row.parent_id {
        Some(parent) => query.filter(folders::parent_id.eq(parent)),
        None => query.filter(folders::parent_id.is_null()),
    };
    Ok(query.count().get_result::<i64>(conn)? > 0)
}

/// Whether `candidate` is `folder` or lies inside it (a move there would make a cycle).
pub fn is_within(conn: &mut DbConnection, folder: &str, candidate: &str) -> StorageResult<bool> {
    let mut current = Some(candidate.to_owned());
    while let Some(id) = current {
        if id == folder {
            return Ok(true);
        }
        current =
            folders::table.find(&id).select(folders::parent_id).limit_literal(1).get_result(conn).optional()?.flatten();
    }
    Ok(false)
}

pub fn update(conn: &mut DbConnection, row: &FolderRow) -> StorageResult<()> {
    diesel::update(folders::table.find(&row.id))
        .set((
            folders::name.eq(&row.name),
            folders::parent_id.eq(&row.parent_id),
            folders::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes an empty folder: no subfolders and no documents but deleted ones, which move to
/// the top level of their client or matter. Upload links that put files there put them at
/// the top level from now on.
pub fn delete_empty(conn: &mut DbConnection, id: &str) -> StorageResult<()> {
    let children: i64 = folders::table.filter(folders::parent_id.eq(id)).count().get_result(conn)?;
    let documents: i64 = documents::table
        .filter(documents::folder_id.eq(id).and(documents::deleted_at.is_null()))
        .count()
        .get_result(conn)?;
    if children > 0 || documents > 0 {
        return Err(StorageError::Conflict("folder_not_empty".to_owned()));
    }
    diesel::update(documents::table.filter(documents::folder_id.eq(id)))
        .set(documents::folder_id.eq(None::<String>))
        .execute(conn)?;
    diesel::update(access_links::table.filter(access_links::folder_id.eq(id)))
        .set(access_links::folder_id.eq(None::<String>))
        .execute(conn)?;
    diesel::delete(folders::table.find(id)).execute(conn)?;
    Ok(())
}
