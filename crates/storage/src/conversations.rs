//! Conversations, their messages and who has read how far. Staff see a conversation when
//! they may see its matter (the rule of `matters::visible`); a contact sees their own
//! conversations of the clients and matters their portal still grants.

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use vestibule_domain::authz::MatterVisibility;

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::schema::{conversation_reads, conversations, messages, portal_grants};

pub const STAFF: &str = "staff";
pub const CONTACT: &str = "contact";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = conversations)]
pub struct ConversationRow {
    pub id: String,
    pub firm_id: String,
    pub client_id: String,
    pub matter_id: Option<String>,
    pub contact_id: String,
    pub channel: Option<String>,
    pub subject: String,
    pub started_by_kind: String,
    pub started_by_id: String,
    pub last_message_id: String,
    pub last_staff_message_id: Option<String>,
    pub last_contact_message_id: Option<String>,
    pub created_at: NaiveDateTime,
    /// How many messages each side wrote: with a read position's `read_other`, the unread
    /// count without counting messages.
    pub staff_messages: i64,
    pub contact_messages: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = messages)]
pub struct MessageRow {
    pub id: String,
    pub firm_id: String,
    pub conversation_id: String,
    /// `staff` or `contact`.
    pub author_kind: String,
    pub author_id: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

/// Who is looking, which decides what they see and which side's messages are "unread".
#[derive(Debug, Clone, Copy)]
pub enum Viewer<'a> {
    /// Staff or an integration: reads as `reader_id`, sees matters by `visibility`.
    Firm {
        reader_id: &'a str,
        visibility: &'a MatterVisibility,
    },
    Contact {
        contact_id: &'a str,
        portal_id: &'a str,
    },
}

impl Viewer<'_> {
    fn reader_id(&self) -> &str {
        match self {
            Self::Firm { reader_id, .. } => reader_id,
            Self::Contact { contact_id, .. } => contact_id,
        }
    }

    /// The side whose messages this viewer has to read.
    fn other_side(&self) -> (&'static str, &'static str) {
        match self {
            Self::Firm { .. } => (CONTACT, "conversations.last_contact_message_id"),
            Self::Contact { .. } => (STAFF, "conversations.last_staff_message_id"),
        }
    }
}

#[derive(Debug, Default)]
pub struct ConversationFilter {
    pub client_id: Option<String>,
    pub matter_id: Option<String>,
    pub contact_id: Option<String>,
    pub channel: Option<String>,
    /// Only conversations with messages from the other side the viewer has not read.
    pub unread: Option<bool>,
}

/// A conversation in a list, with what the viewer needs to render an inbox row.
#[derive(Debug, Clone)]
pub struct ConversationView {
    pub row: ConversationRow,
    pub last_message: Option<MessageRow>,
    pub unread_count: i64,
    pub last_read_message_id: Option<String>,
    /// How far the conversation's contact has read, and when.
    pub contact_read: Option<(String, NaiveDateTime)>,
}

type Boxed<'a> = conversations::BoxedQuery<'a, <DbConnection as diesel::Connection>::Backend>;

fn visible<'a>(query: Boxed<'a>, firm_id: &'a str, viewer: Viewer<'a>) -> Boxed<'a> {
    let query = query.filter(conversations::firm_id.eq(firm_id));
    match viewer {
        Viewer::Firm { visibility, .. } => {
            matter_visible!(query, conversations::matter_id, conversations::id, visibility)
        }
        Viewer::Contact { contact_id, portal_id } => {
            let clients = portal_grants::table
                .filter(portal_grants::portal_id.eq(portal_id).and(portal_grants::client_id.is_not_null()))
                .select(portal_grants::client_id.assume_not_null());
            let granted_matters = portal_grants::table
                .filter(portal_grants::portal_id.eq(portal_id).and(portal_grants::matter_id.is_not_null()))
                .select(portal_grants::matter_id);
            query
                .filter(conversations::contact_id.eq(contact_id))
                .filter(conversations::client_id.eq_any(clients).or(conversations::matter_id.eq_any(granted_matters)))
        }
    }
}

pub fn insert(conn: &mut DbConnection, row: &ConversationRow) -> StorageResult<()> {
    diesel::insert_into(conversations::table).values(row).execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, firm_id: &str, id: &str, viewer: Viewer<'_>) -> StorageResult<ConversationRow> {
    let query = conversations::table.filter(conversations::id.eq(id)).into_boxed();
    Ok(visible(query, firm_id, viewer).select(ConversationRow::as_select()).limit_literal(1).get_result(conn)?)
}

/// Newest activity first; the cursor is the last row's `last_message_id`.
pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    viewer: Viewer<'_>,
    filter: &ConversationFilter,
    before: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<ConversationRow>> {
    let mut query = visible(conversations::table.into_boxed(), firm_id, viewer);
    if let Some(client) = &filter.client_id {
        query = query.filter(conversations::client_id.eq(client));
    }
    if let Some(matter) = &filter.matter_id {
        query = query.filter(conversations::matter_id.eq(matter));
    }
    if let Some(contact) = &filter.contact_id {
        query = query.filter(conversations::contact_id.eq(contact));
    }
    if let Some(channel) = &filter.channel {
        query = query.filter(conversations::channel.eq(channel));
    }
    if let Some(unread) = filter.unread {
        let (_, other_last) = viewer.other_side();
        // Correlated on the outer row, which diesel's typed subqueries cannot express.
        let read_up_to_date = sql::<Bool>(
            "EXISTS (SELECT 1 FROM conversation_reads r WHERE r.conversation_id = conversations.id AND r.reader_id = ",
        )
        .bind::<Text, _>(viewer.reader_id().to_owned())
        .sql(&format!(" AND r.last_read_message_id >= {other_last})"));
        let has_other = sql::<Bool>(&format!("{other_last} IS NOT NULL"));
        query = if unread {
            query.filter(has_other.and(diesel::dsl::not(read_up_to_date)))
        } else {
            query.filter(diesel::dsl::not(has_other).or(read_up_to_date))
        };
    }
    if let Some(before) = before {
        query = query.filter(conversations::last_message_id.lt(before));
    }
    Ok(query
        .order(conversations::last_message_id.desc())
        .select(ConversationRow::as_select())
        .limit_literal(limit + 1)
        .load(conn)?)
}

/// Adds last message, unread count and read positions to a page of conversations, in two
/// queries whatever the page size and however long the threads.
pub fn with_details(
    conn: &mut DbConnection,
    viewer: Viewer<'_>,
    rows: Vec<ConversationRow>,
) -> StorageResult<Vec<ConversationView>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let last_ids: Vec<&str> = rows.iter().map(|r| r.last_message_id.as_str()).collect();
    let reader = viewer.reader_id().to_owned();
    let last_messages: Vec<MessageRow> =
        messages::table.filter(messages::id.eq_any(&last_ids)).select(MessageRow::as_select()).load(conn)?;
    let contact_ids: Vec<&str> = rows.iter().map(|r| r.contact_id.as_str()).collect();
    let reads: Vec<(String, String, String, NaiveDateTime, i64)> = conversation_reads::table
        .filter(conversation_reads::conversation_id.eq_any(&ids))
        .filter(conversation_reads::reader_id.eq(&reader).or(conversation_reads::reader_id.eq_any(&contact_ids)))
        .select((
            conversation_reads::conversation_id,
            conversation_reads::reader_id,
            conversation_reads::last_read_message_id,
            conversation_reads::read_at,
            conversation_reads::read_other,
        ))
        .load(conn)?;
    let read_by = |conversation: &str, reader: &str| reads.iter().find(|r| r.0 == conversation && r.1 == reader);
    Ok(rows
        .into_iter()
        .map(|row| {
            let mine = read_by(&row.id, viewer.reader_id());
            let written = match viewer {
                Viewer::Firm { .. } => row.contact_messages,
                Viewer::Contact { .. } => row.staff_messages,
            };
            ConversationView {
                last_message: last_messages.iter().find(|m| m.id == row.last_message_id).cloned(),
                unread_count: (written - mine.map_or(0, |r| r.4)).max(0),
                last_read_message_id: mine.map(|r| r.2.clone()),
                contact_read: read_by(&row.id, &row.contact_id).map(|r| (r.2.clone(), r.3)),
                row,
            }
        })
        .collect())
}

/// Display names of message authors: staff by name, contacts by first and last name.
pub fn author_names(
    conn: &mut DbConnection,
    firm_id: &str,
    messages: &[&MessageRow],
) -> StorageResult<std::collections::HashMap<String, String>> {
    use crate::schema::{contacts, staff};
    let ids: Vec<&str> = messages.iter().map(|m| m.author_id.as_str()).collect();
    let mut names: std::collections::HashMap<String, String> = staff::table
        .filter(staff::firm_id.eq(firm_id).and(staff::id.eq_any(&ids)))
        .select((staff::id, staff::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let people: Vec<(String, String, String)> = contacts::table
        .filter(contacts::firm_id.eq(firm_id).and(contacts::id.eq_any(&ids)))
        .select((contacts::id, contacts::first_name, contacts::last_name))
        .load(conn)?;
    names.extend(people.into_iter().map(|(id, first, last)| (id, format!("{first} {last}"))));
    Ok(names)
}

/// Stores a message: the conversation's counters and last messages move first, so the
/// message takes its place among its side's messages from the returned count.
pub fn insert_message(conn: &mut DbConnection, message: &MessageRow) -> StorageResult<()> {
    let conversation = conversations::table.find(&message.conversation_id);
    let counts = (conversations::staff_messages, conversations::contact_messages);
    let (staff_written, contact_written): (i64, i64) = if message.author_kind == CONTACT {
        diesel::update(conversation)
            .set((
                conversations::last_message_id.eq(&message.id),
                conversations::last_contact_message_id.eq(Some(&message.id)),
                conversations::contact_messages.eq(conversations::contact_messages + 1),
            ))
            .returning(counts)
            .get_result(conn)?
    } else {
        diesel::update(conversation)
            .set((
                conversations::last_message_id.eq(&message.id),
                conversations::last_staff_message_id.eq(Some(&message.id)),
                conversations::staff_messages.eq(conversations::staff_messages + 1),
            ))
            .returning(counts)
            .get_result(conn)?
    };
    let (own, other) = if message.author_kind == CONTACT {
        (contact_written, staff_written)
    } else {
        (staff_written, contact_written)
    };
    diesel::insert_into(messages::table).values((message, messages::side_seq.eq(own))).execute(conn)?;
    // Writing a message means having read everything before it.
    move_read_position(conn, &message.firm_id, &message.conversation_id, &message.author_id, &message.id, other)
}

/// Oldest first; the cursor is the last message id of the previous page.
pub fn messages(
    conn: &mut DbConnection,
    conversation_id: &str,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<MessageRow>> {
    let mut query = messages::table.filter(messages::conversation_id.eq(conversation_id)).into_boxed();
    if let Some(after) = after {
        query = query.filter(messages::id.gt(after));
    }
    Ok(query.order(messages::id.asc()).select(MessageRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

pub fn message_in(conn: &mut DbConnection, conversation_id: &str, id: &str) -> StorageResult<MessageRow> {
    Ok(messages::table
        .filter(messages::conversation_id.eq(conversation_id).and(messages::id.eq(id)))
        .select(MessageRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

/// Moves the viewer's read position forward to `message_id`; never backwards.
pub fn mark_read(
    conn: &mut DbConnection,
    firm_id: &str,
    conversation_id: &str,
    viewer: Viewer<'_>,
    message_id: &str,
) -> StorageResult<()> {
    let (other_kind, _) = viewer.other_side();
    let covered: i64 = messages::table
        .filter(messages::conversation_id.eq(conversation_id))
        .filter(messages::author_kind.eq(other_kind).and(messages::id.le(message_id)))
        .order(messages::id.desc())
        .select(messages::side_seq)
        .limit_literal(1)
        .get_result(conn)
        .optional()?
        .unwrap_or(0);
    move_read_position(conn, firm_id, conversation_id, viewer.reader_id(), message_id, covered)
}

/// One upsert that only ever moves forward.
fn move_read_position(
    conn: &mut DbConnection,
    firm_id: &str,
    conversation_id: &str,
    reader_id: &str,
    message_id: &str,
    read_other: i64,
) -> StorageResult<()> {
    use diesel::query_dsl::methods::FilterDsl;
    use diesel::upsert::excluded;
    let upsert = diesel::insert_into(conversation_reads::table)
        .values((
            conversation_reads::conversation_id.eq(conversation_id),
            conversation_reads::reader_id.eq(reader_id),
            conversation_reads::firm_id.eq(firm_id),
            conversation_reads::last_read_message_id.eq(message_id),
            conversation_reads::read_at.eq(crate::now()),
            conversation_reads::read_other.eq(read_other),
        ))
        .on_conflict((conversation_reads::conversation_id, conversation_reads::reader_id))
        .do_update()
        .set((
            conversation_reads::last_read_message_id.eq(excluded(conversation_reads::last_read_message_id)),
            conversation_reads::read_at.eq(excluded(conversation_reads::read_at)),
            conversation_reads::read_other.eq(excluded(conversation_reads::read_other)),
        ))
        .filter(conversation_reads::last_read_message_id.lt(excluded(conversation_reads::last_read_message_id)));
    execute_upsert!(conn, upsert)?;
    Ok(())
}

/// How far `reader_id` has read, and when.
pub fn read_position(
    conn: &mut DbConnection,
    conversation_id: &str,
    reader_id: &str,
) -> StorageResult<Option<(String, NaiveDateTime)>> {
    Ok(conversation_reads::table
        .find((conversation_id, reader_id))
        .select((conversation_reads::last_read_message_id, conversation_reads::read_at))
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}
