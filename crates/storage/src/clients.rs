use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::{StorageError, StorageResult};
use crate::limit::LimitLiteral;
use crate::schema::{client_assignees, client_emails, clients};

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clients)]
pub struct ClientRow {
    pub id: String,
    pub firm_id: String,
    pub kind: String,
    pub name: String,
    pub external_id: Option<String>,
    pub owner_staff_id: Option<String>,
    /// Where portal uploads without a folder of their own go.
    pub portal_inbox_folder_id: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A client with its emails (in the order given) and assignees.
#[derive(Debug, Clone)]
pub struct ClientRecord {
    pub row: ClientRow,
    pub emails: Vec<String>,
    pub assignees: Vec<String>,
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = clients)]
pub struct ClientChanges {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub external_id: Option<Option<String>>,
    pub owner_staff_id: Option<Option<String>>,
    pub portal_inbox_folder_id: Option<Option<String>>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default)]
pub struct ClientFilter {
    pub kind: Option<String>,
    pub owner_staff_id: Option<String>,
    pub assignee_staff_id: Option<String>,
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub name_contains: Option<String>,
}

pub fn insert(conn: &mut DbConnection, row: &ClientRow, emails: &[String], assignees: &[String]) -> StorageResult<()> {
    diesel::insert_into(clients::table).values(row).execute(conn)?;
    replace_emails(conn, &row.firm_id, &row.id, emails)?;
    replace_assignees(conn, &row.firm_id, &row.id, assignees)
}

pub fn get(conn: &mut DbConnection, firm_id: &str, id: &str) -> StorageResult<ClientRecord> {
    let row = clients::table
        .filter(clients::firm_id.eq(firm_id).and(clients::id.eq(id)))
        .select(ClientRow::as_select())
        .limit_literal(1)
        .get_result(conn)?;
    Ok(with_children(conn, vec![row])?.remove(0))
}

pub fn exists(conn: &mut DbConnection, firm_id: &str, id: &str) -> StorageResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(clients::table.filter(clients::firm_id.eq(firm_id).and(clients::id.eq(id)))))
        .get_result(conn)?)
}

pub fn find_by_external_id(
    conn: &mut DbConnection,
    firm_id: &str,
    external_id: &str,
) -> StorageResult<Option<ClientRecord>> {
    let row = clients::table
        .filter(clients::firm_id.eq(firm_id).and(clients::external_id.eq(external_id)))
        .select(ClientRow::as_select())
        .limit_literal(1)
        .get_result(conn)
        .optional()?;
    Ok(match row {
        Some(row) => Some(with_children(conn, vec![row])?.remove(0)),
        None => None,
    })
}

pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    filter: &ClientFilter,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<ClientRecord>> {
    let mut query = clients::table.filter(clients::firm_id.eq(firm_id)).into_boxed();
    if let Some(kind) = &filter.kind {
        query = query.filter(clients::kind.eq(kind));
    }
    if let Some(owner) = &filter.owner_staff_id {
        query = query.filter(clients::owner_staff_id.eq(owner));
    }
    if let Some(external_id) = &filter.external_id {
        query = query.filter(clients::external_id.eq(external_id));
    }
    if let Some(assignee) = &filter.assignee_staff_id {
        query = query.filter(clients::id.eq_any(
            client_assignees::table.filter(client_assignees::staff_id.eq(assignee)).select(client_assignees::client_id),
        ));
    }
    if let Some(email) = &filter.email {
        query = query.filter(
            clients::id.eq_any(
                client_emails::table
                    .filter(client_emails::firm_id.eq(firm_id).and(client_emails::email.eq(email)))
                    .select(client_emails::client_id),
            ),
        );
    }
    if let Some(needle) = &filter.name_contains {
        query = query.filter(lower(clients::name).like(crate::like_pattern(needle)).escape('\\'));
    }
    if let Some(after) = after {
        query = query.filter(clients::id.gt(after));
    }
    let rows = query.order(clients::id.asc()).select(ClientRow::as_select()).limit_literal(limit + 1).load(conn)?;
    with_children(conn, rows)
}

/// Applies `changes` if the stored version is still `expected_version` (when given), and
/// bumps the version. Emails and assignees are replaced when given.
pub fn update(
    conn: &mut DbConnection,
    firm_id: &str,
    id: &str,
    expected_version: Option<i64>,
    changes: &ClientChanges,
    emails: Option<&[String]>,
    assignees: Option<&[String]>,
) -> StorageResult<ClientRecord> {
    let current: i64 = clients::table
        .filter(clients::firm_id.eq(firm_id).and(clients::id.eq(id)))
        .select(clients::version)
        .limit_literal(1)
        .get_result(conn)?;
    if expected_version.is_some_and(|expected| expected != current) {
        return Err(StorageError::VersionMismatch);
    }
    let updated = diesel::update(clients::table.filter(clients::id.eq(id).and(clients::version.eq(current))))
        .set((changes, clients::version.eq(current + 1)))
        .execute(conn)?;
    if updated == 0 {
        return Err(StorageError::VersionMismatch);
    }
    if let Some(emails) = emails {
        replace_emails(conn, firm_id, id, emails)?;
    }
    if let Some(assignees) = assignees {
        replace_assignees(conn, firm_id, id, assignees)?;
    }
    get(conn, firm_id, id)
}

/// Fails with [`StorageError::ForeignKey`] while matters or contacts still belong to the client.
pub fn delete(conn: &mut DbConnection, firm_id: &str, id: &str, expected_version: Option<i64>) -> StorageResult<()> {
    let current: i64 = clients::table
        .filter(clients::firm_id.eq(firm_id).and(clients::id.eq(id)))
        .select(clients::version)
        .limit_literal(1)
        .get_result(conn)?;
    if expected_version.is_some_and(|expected| expected != current) {
        return Err(StorageError::VersionMismatch);
    }
    diesel::delete(clients::table.find(id)).execute(conn)?;
    Ok(())
}

fn replace_emails(conn: &mut DbConnection, firm_id: &str, client_id: &str, emails: &[String]) -> StorageResult<()> {
    diesel::delete(client_emails::table.filter(client_emails::client_id.eq(client_id))).execute(conn)?;
    // One statement per row: the multi-backend connection has no portable batch insert.
    for (email, position) in emails.iter().zip(0_i32..) {
        diesel::insert_into(client_emails::table)
            .values((
                client_emails::client_id.eq(client_id),
                client_emails::position.eq(position),
                client_emails::firm_id.eq(firm_id),
                client_emails::email.eq(email),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn replace_assignees(
    conn: &mut DbConnection,
    firm_id: &str,
    client_id: &str,
    staff_ids: &[String],
) -> StorageResult<()> {
    diesel::delete(client_assignees::table.filter(client_assignees::client_id.eq(client_id))).execute(conn)?;
    for staff_id in staff_ids {
        diesel::insert_into(client_assignees::table)
            .values((
                client_assignees::client_id.eq(client_id),
                client_assignees::staff_id.eq(staff_id),
                client_assignees::firm_id.eq(firm_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Loads the emails and assignees of a page of clients in two queries, not two per client.
fn with_children(conn: &mut DbConnection, rows: Vec<ClientRow>) -> StorageResult<Vec<ClientRecord>> {
    let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
    let mut emails: HashMap<String, Vec<String>> = HashMap::new();
    for (client_id, email) in client_emails::table
        .filter(client_emails::client_id.eq_any(&ids))
        .order((client_emails::client_id, client_emails::position))
        .select((client_emails::client_id, client_emails::email))
        .load::<(String, String)>(conn)?
    {
        emails.entry(client_id).or_default().push(email);
    }
    let mut assignees: HashMap<String, Vec<String>> = HashMap::new();
    for (client_id, staff_id) in client_assignees::table
        .filter(client_assignees::client_id.eq_any(&ids))
        .order((client_assignees::client_id, client_assignees::staff_id))
        .select((client_assignees::client_id, client_assignees::staff_id))
        .load::<(String, String)>(conn)?
    {
        assignees.entry(client_id).or_default().push(staff_id);
    }
    Ok(rows
        .into_iter()
        .map(|row| ClientRecord {
            emails: emails.remove(&row.id).unwrap_or_default(),
            assignees: assignees.remove(&row.id).unwrap_or_default(),
            row,
        })
        .collect())
}

/// Client names by id, for lists that show them next to other records.
pub fn names(
    conn: &mut DbConnection,
    firm_id: &str,
    ids: &[&str],
) -> StorageResult<std::collections::HashMap<String, String>> {
    Ok(clients::table
        .filter(clients::firm_id.eq(firm_id).and(clients::id.eq_any(ids)))
        .select((clients::id, clients::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}
