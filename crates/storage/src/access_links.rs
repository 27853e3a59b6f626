//! Access links (seed 002), their short-lived sessions, downloads through them and the
//! contact log of emails that carried them.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use vestibule_domain::access_link::{LinkStatus, MAX_FAILED_CODES};
use vestibule_domain::authz::MatterVisibility;

use crate::db::DbConnection;
use crate::documents::DocumentRow;
use crate::error::{StorageError, StorageResult};
use crate::limit::LimitLiteral;
use crate::schema::{access_links, documents, link_downloads, link_emails, link_guards, link_sessions};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = access_links)]
pub struct LinkRow {
    pub id: String,
    pub firm_id: String,
    pub client_id: String,
    pub matter_id: Option<String>,
    pub work_id: String,
    pub kind: String,
    pub enabled: bool,
    pub message: String,
    pub expires_at: NaiveDateTime,
    pub folder_id: Option<String>,
    pub max_uploads: i32,
    pub last_accessed_at: Option<NaiveDateTime>,
    pub created_by: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What guards a link: its URL's token and its code, as stored, and the wrong codes so far.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = link_guards)]
pub struct GuardRow {
    pub access_link_id: String,
    pub token_nonce: String,
    pub token_hash: String,
    pub code_hash: String,
    pub failed_attempts: i32,
    pub locked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
pub struct Link {
    #[diesel(embed)]
    pub row: LinkRow,
    #[diesel(embed)]
    pub guard: GuardRow,
}

impl Link {
    pub fn status(&self, now: NaiveDateTime) -> LinkStatus {
        LinkStatus::of(self.row.enabled, self.guard.locked_at, self.row.expires_at, now)
    }
}

#[derive(Debug, Default)]
pub struct LinkFilter {
    pub client_id: Option<String>,
    pub matter_id: Option<String>,
    pub kind: Option<String>,
}

type Backend = <DbConnection as diesel::Connection>::Backend;
type Boxed<'a> = diesel::dsl::IntoBoxed<'a, diesel::dsl::InnerJoin<access_links::table, link_guards::table>, Backend>;

fn links<'a>() -> Boxed<'a> {
    access_links::table.inner_join(link_guards::table).into_boxed()
}

fn visible<'a>(query: Boxed<'a>, firm_id: &'a str, visibility: &'a MatterVisibility) -> Boxed<'a> {
    let query = query.filter(access_links::firm_id.eq(firm_id));
    matter_visible!(query, access_links::matter_id, access_links::id, visibility)
}

pub fn insert(conn: &mut DbConnection, link: &Link) -> StorageResult<()> {
    diesel::insert_into(access_links::table).values(&link.row).execute(conn)?;
    diesel::insert_into(link_guards::table).values(&link.guard).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, firm_id: &str, id: &str, visibility: &MatterVisibility) -> StorageResult<Link> {
    let query = links().filter(access_links::id.eq(id));
    Ok(visible(query, firm_id, visibility).select(Link::as_select()).limit_literal(1).get_result(conn)?)
}

pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    visibility: &MatterVisibility,
    filter: &LinkFilter,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<Link>> {
    let mut query = visible(links(), firm_id, visibility);
    if let Some(client) = &filter.client_id {
        query = query.filter(access_links::client_id.eq(client));
    }
    if let Some(matter) = &filter.matter_id {
        query = query.filter(access_links::matter_id.eq(matter));
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(access_links::kind.eq(kind));
    }
    if let Some(after) = after {
        query = query.filter(access_links::id.gt(after));
    }
    Ok(query.order(access_links::id.asc()).select(Link::as_select()).limit_literal(limit + 1).load(conn)?)
}

/// The link a presented token names, of any firm: the token is the only key a recipient has.
pub fn by_token_hash(conn: &mut DbConnection, token_hash: &str) -> StorageResult<Link> {
    Ok(links()
        .filter(link_guards::token_hash.eq(token_hash))
        .select(Link::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

/// Writes the setup (enabled, message, expiry, folder, upload limit) if the version is
/// still `expected`, and bumps it.
pub fn update_setup(conn: &mut DbConnection, row: &LinkRow, expected: i64) -> StorageResult<()> {
    let updated = diesel::update(
        access_links::table.filter(access_links::id.eq(&row.id).and(access_links::version.eq(expected))),
    )
    .set((
        access_links::enabled.eq(row.enabled),
        access_links::message.eq(&row.message),
        access_links::expires_at.eq(row.expires_at),
        access_links::folder_id.eq(&row.folder_id),
        access_links::max_uploads.eq(row.max_uploads),
        access_links::version.eq(expected + 1),
        access_links::updated_at.eq(row.updated_at),
    ))
    .execute(conn)?;
    if updated == 0 { Err(StorageError::VersionMismatch) } else { Ok(()) }
}

/// A new code: the old one stops working, the count of wrong codes starts again and a lock
/// is lifted. Open sessions end too, since whoever held the old code opened them.
pub fn replace_code(conn: &mut DbConnection, id: &str, code_hash: &str, at: NaiveDateTime) -> StorageResult<()> {
    diesel::update(link_guards::table.find(id))
        .set((
            link_guards::code_hash.eq(code_hash),
            link_guards::failed_attempts.eq(0),
            link_guards::locked_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    changed(conn, id, at)?;
    end_sessions(conn, id)
}

fn changed(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> StorageResult<()> {
    diesel::update(access_links::table.find(id))
        .set((access_links::version.eq(access_links::version + 1), access_links::updated_at.eq(at)))
        .execute(conn)?;
    Ok(())
}

/// A new URL: the old one stops working, and so do the sessions opened through it.
pub fn replace_token(
    conn: &mut DbConnection,
    id: &str,
    nonce: &str,
    token_hash: &str,
    at: NaiveDateTime,
) -> StorageResult<()> {
    diesel::update(link_guards::table.find(id))
        .set((link_guards::token_nonce.eq(nonce), link_guards::token_hash.eq(token_hash)))
        .execute(conn)?;
    changed(conn, id, at)?;
    end_sessions(conn, id)
}

/// Counts an attempt at the code before it is checked, and returns the guard as it is now.
/// `None`: the link is locked, or its attempts are used up. Counting first takes the row's
/// lock, so concurrent guesses are checked one after another and never pass the limit.
pub fn reserve_attempt(conn: &mut DbConnection, id: &str) -> StorageResult<Option<GuardRow>> {
    let open = link_guards::table.filter(
        link_guards::access_link_id
            .eq(id)
            .and(link_guards::locked_at.is_null())
            .and(link_guards::failed_attempts.lt(MAX_FAILED_CODES)),
    );
    if diesel::update(open).set(link_guards::failed_attempts.eq(link_guards::failed_attempts + 1)).execute(conn)? == 0 {
        return Ok(None);
    }
    Ok(Some(link_guards::table.find(id).select(GuardRow::as_select()).limit_literal(1).get_result(conn)?))
}

/// The attempt was the right code: the count starts again, unless the code was replaced or
/// the link locked meanwhile (then `false`).
pub fn accept_code(conn: &mut DbConnection, id: &str, code_hash: &str, at: NaiveDateTime) -> StorageResult<bool> {
    let same = link_guards::table.filter(
        link_guards::access_link_id
            .eq(id)
            .and(link_guards::code_hash.eq(code_hash))
            .and(link_guards::locked_at.is_null()),
    );
    if diesel::update(same).set(link_guards::failed_attempts.eq(0)).execute(conn)? == 0 {
        return Ok(false);
    }
    touch(conn, id, at)?;
    Ok(true)
}

/// Locks the link unless it already is; returns whether this call locked it.
pub fn lock(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> StorageResult<bool> {
    let unlocked = link_guards::table.filter(link_guards::access_link_id.eq(id).and(link_guards::locked_at.is_null()));
    let locked = diesel::update(unlocked).set(link_guards::locked_at.eq(Some(at))).execute(conn)?;
    end_sessions(conn, id)?;
    Ok(locked == 1)
}

/// Records that the link was used now. It also takes the link's row lock, which callers use
/// to run counting work (uploads against the limit, first downloads) one request at a time.
pub fn touch(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> StorageResult<()> {
    diesel::update(access_links::table.find(id)).set(access_links::last_accessed_at.eq(Some(at))).execute(conn)?;
    Ok(())
}

/// Removes a link with its sessions, its download records and its contact log; the audit log
/// keeps its history.
pub fn delete(conn: &mut DbConnection, id: &str) -> StorageResult<()> {
    end_sessions(conn, id)?;
    diesel::delete(link_downloads::table.filter(link_downloads::access_link_id.eq(id))).execute(conn)?;
    diesel::delete(link_emails::table.filter(link_emails::access_link_id.eq(id))).execute(conn)?;
    diesel::delete(link_guards::table.find(id)).execute(conn)?;
    diesel::delete(access_links::table.find(id)).execute(conn)?;
    Ok(())
}

pub fn start_session(
    conn: &mut DbConnection,
    link: &LinkRow,
    token_hash: &str,
    expires_at: NaiveDateTime,
) -> StorageResult<()> {
    diesel::insert_into(link_sessions::table)
        .values((
            link_sessions::token_hash.eq(token_hash),
            link_sessions::access_link_id.eq(&link.id),
            link_sessions::firm_id.eq(&link.firm_id),
            link_sessions::expires_at.eq(expires_at),
            link_sessions::created_at.eq(crate::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The link of an unexpired session; whether the link still opens is the caller's check.
pub fn session_link(conn: &mut DbConnection, token_hash: &str, now: NaiveDateTime) -> StorageResult<Link> {
    let session = link_sessions::table
        .filter(link_sessions::token_hash.eq(token_hash).and(link_sessions::expires_at.gt(now)))
        .select(link_sessions::access_link_id);
    Ok(links().filter(access_links::id.eq_any(session)).select(Link::as_select()).limit_literal(1).get_result(conn)?)
}

pub fn end_sessions(conn: &mut DbConnection, link_id: &str) -> StorageResult<()> {
    diesel::delete(link_sessions::table.filter(link_sessions::access_link_id.eq(link_id))).execute(conn)?;
    Ok(())
}

/// Removes sessions that expired before `cutoff`; returns how many.
pub fn sweep_sessions(conn: &mut DbConnection, cutoff: NaiveDateTime) -> StorageResult<usize> {
    Ok(diesel::delete(link_sessions::table.filter(link_sessions::expires_at.lt(cutoff))).execute(conn)?)
}

/// What a link's recipient sees: the documents of its work (the matter's, or the client's
/// own outside any matter) that the firm made visible to the client.
fn of_link(link: &LinkRow) -> documents::BoxedQuery<'_, <DbConnection as diesel::Connection>::Backend> {
    let query = documents::table
        .filter(documents::firm_id.eq(&link.firm_id).and(documents::client_id.eq(&link.client_id)))
        .filter(documents::deleted_at.is_null().and(documents::visible_to_client.eq(true)))
        .filter(documents::scan_status.eq_any(crate::documents::shown_to_clients()))
        .into_boxed();
    match &link.matter_id {
        Some(matter) => query.filter(documents::matter_id.eq(matter)),
        None => query.filter(documents::matter_id.is_null()),
    }
}

pub fn documents(
    conn: &mut DbConnection,
    link: &LinkRow,
    folder_id: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<DocumentRow>> {
    let mut query = of_link(link);
    if let Some(folder) = folder_id {
        query = query.filter(documents::folder_id.eq(folder));
    }
    if let Some(after) = after {
        query = query.filter(documents::id.gt(after));
    }
    Ok(query.order(documents::id.asc()).select(DocumentRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

/// The documents among `ids` that the link shows, in one query (order not kept).
pub fn documents_among(conn: &mut DbConnection, link: &LinkRow, ids: &[&str]) -> StorageResult<Vec<DocumentRow>> {
    Ok(of_link(link).filter(documents::id.eq_any(ids)).select(DocumentRow::as_select()).load(conn)?)
}

pub fn document(conn: &mut DbConnection, link: &LinkRow, id: &str) -> StorageResult<DocumentRow> {
    Ok(of_link(link).filter(documents::id.eq(id)).select(DocumentRow::as_select()).limit_literal(1).get_result(conn)?)
}

/// Files uploaded through the link so far, deleted ones included: the limit is on uploads.
pub fn uploads(conn: &mut DbConnection, link: &LinkRow) -> StorageResult<i64> {
    Ok(documents::table
        .filter(documents::uploaded_by.eq(&link.id).and(documents::firm_id.eq(&link.firm_id)))
        .count()
        .get_result(conn)?)
}

/// Counts a download through the link at `at`, keeping the first and last time; returns the
/// last time before this one, if the link downloaded the document before. One upsert, so two
/// first downloads at once both count.
pub fn record_download(
    conn: &mut DbConnection,
    document: &DocumentRow,
    link_id: &str,
    at: NaiveDateTime,
) -> StorageResult<Option<NaiveDateTime>> {
    use diesel::upsert::excluded;
    let before = link_downloads::table
        .find((document.id.as_str(), link_id))
        .select(link_downloads::last_at)
        .get_result(conn)
        .optional()?;
    let upsert = diesel::insert_into(link_downloads::table)
        .values((
            link_downloads::document_id.eq(&document.id),
            link_downloads::access_link_id.eq(link_id),
            link_downloads::firm_id.eq(&document.firm_id),
            link_downloads::first_at.eq(at),
            link_downloads::last_at.eq(at),
            link_downloads::downloads.eq(1_i64),
        ))
        .on_conflict((link_downloads::document_id, link_downloads::access_link_id))
        .do_update()
        .set((
            link_downloads::last_at.eq(excluded(link_downloads::last_at)),
            link_downloads::downloads.eq(link_downloads::downloads + 1),
        ));
    execute_upsert!(conn, upsert)?;
    Ok(before)
}

/// One link's downloads of a document.
#[derive(Debug, Clone, Queryable)]
pub struct LinkReceipt {
    pub access_link_id: String,
    pub first_at: NaiveDateTime,
    pub last_at: NaiveDateTime,
    pub downloads: i64,
}

pub fn receipts(conn: &mut DbConnection, document_id: &str) -> StorageResult<Vec<LinkReceipt>> {
    Ok(link_downloads::table
        .filter(link_downloads::document_id.eq(document_id))
        .order(link_downloads::first_at.asc())
        .select((
            link_downloads::access_link_id,
            link_downloads::first_at,
            link_downloads::last_at,
            link_downloads::downloads,
        ))
        .load(conn)?)
}

/// When each of these documents was first downloaded through any link, for those that were.
pub fn first_downloads(conn: &mut DbConnection, document_ids: &[&str]) -> StorageResult<Vec<(String, NaiveDateTime)>> {
    let rows: Vec<(String, Option<NaiveDateTime>)> = link_downloads::table
        .filter(link_downloads::document_id.eq_any(document_ids))
        .group_by(link_downloads::document_id)
        .select((link_downloads::document_id, diesel::dsl::min(link_downloads::first_at)))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(id, at)| at.map(|at| (id, at))).collect())
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = link_emails)]
pub struct LinkEmailRow {
    pub id: String,
    pub firm_id: String,
    pub access_link_id: String,
    pub contact_id: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// JSON: `[{"document_id", "name"}]`.
    pub files: String,
    pub sent_by: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_email(conn: &mut DbConnection, row: &LinkEmailRow) -> StorageResult<()> {
    diesel::insert_into(link_emails::table).values(row).execute(conn)?;
    Ok(())
}

pub fn email(conn: &mut DbConnection, link_id: &str, id: &str) -> StorageResult<LinkEmailRow> {
    Ok(link_emails::table
        .filter(link_emails::access_link_id.eq(link_id).and(link_emails::id.eq(id)))
        .select(LinkEmailRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

/// The contact log of one link, newest first.
pub fn emails(
    conn: &mut DbConnection,
    link_id: &str,
    before: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<LinkEmailRow>> {
    let mut query = link_emails::table.filter(link_emails::access_link_id.eq(link_id)).into_boxed();
    if let Some(before) = before {
        query = query.filter(link_emails::id.lt(before));
    }
    Ok(query.order(link_emails::id.desc()).select(LinkEmailRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

/// Links that work (enabled, not expired, not locked) and were emailed to someone, with the
/// addresses they were emailed to: what the reminder pass looks at, across firms.
pub fn emailed_and_working(conn: &mut DbConnection, now: NaiveDateTime) -> StorageResult<Vec<(Link, Vec<String>)>> {
    let emailed = link_emails::table.select(link_emails::access_link_id);
    let rows: Vec<Link> = links()
        .filter(access_links::enabled.eq(true).and(access_links::expires_at.gt(now)))
        .filter(link_guards::locked_at.is_null())
        .filter(access_links::id.eq_any(emailed))
        .order(access_links::id.asc())
        .select(Link::as_select())
        .load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|l| l.row.id.as_str()).collect();
    let mut recipients: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    let sent: Vec<(String, String)> = link_emails::table
        .filter(link_emails::access_link_id.eq_any(&ids))
        .select((link_emails::access_link_id, link_emails::recipient))
        .distinct()
        .load(conn)?;
    for (link, recipient) in sent {
        recipients.entry(link).or_default().push(recipient);
    }
    Ok(rows
        .into_iter()
        .map(|link| {
            let to = recipients.remove(&link.row.id).unwrap_or_default();
            (link, to)
        })
        .collect())
}

/// Files uploaded through each of the links, deleted ones included, in one query.
pub fn uploads_of(conn: &mut DbConnection, link_ids: &[&str]) -> StorageResult<std::collections::HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = documents::table
        .filter(documents::uploaded_by.eq_any(link_ids))
        .group_by(documents::uploaded_by)
        .select((documents::uploaded_by, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}
