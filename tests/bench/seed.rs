//! Rows written straight through storage, so a firm of a realistic size exists in seconds.

use diesel::RunQueryDsl;
use vestibule_domain::ids::{ClientId, ConversationId, MessageId};
use vestibule_storage::clients::{self, ClientRow};
use vestibule_storage::conversations::{self, ConversationRow, MessageRow};
use vestibule_storage::{DbConnection, StorageError, write_tx};

/// Clients with two emails each and the owner as owner and assignee.
pub fn clients(conn: &mut DbConnection, firm_id: &str, owner_id: &str, count: usize) {
    let now = vestibule_storage::now();
    write_tx(conn, |conn| {
        for n in 0..count {
            let row = ClientRow {
                id: ClientId::generate().into(),
                firm_id: firm_id.to_owned(),
                kind: "person".to_owned(),
                name: format!("Client {n}"),
                external_id: Some(format!("EXT-{n}")),
                portal_inbox_folder_id: None,
                owner_staff_id: Some(owner_id.to_owned()),
                version: 1,
                created_at: now,
                updated_at: now,
            };
            clients::insert(
                conn,
                &row,
                &[format!("c{n}@bench.test"), format!("c{n}@home.test")],
                &[owner_id.to_owned()],
            )?;
        }
        Ok::<_, StorageError>(())
    })
    .unwrap();
}

/// Who talks in the seeded conversations.
pub struct Parties<'a> {
    pub firm_id: &'a str,
    pub owner_id: &'a str,
    pub client_id: &'a str,
    pub contact_id: &'a str,
}

fn conversation(parties: &Parties<'_>, n: usize) -> ConversationRow {
    ConversationRow {
        id: ConversationId::generate().into(),
        firm_id: parties.firm_id.to_owned(),
        client_id: parties.client_id.to_owned(),
        matter_id: None,
        contact_id: parties.contact_id.to_owned(),
        channel: None,
        subject: format!("Conversation {n}"),
        started_by_kind: conversations::STAFF.to_owned(),
        started_by_id: parties.owner_id.to_owned(),
        last_message_id: String::new(),
        last_staff_message_id: None,
        last_contact_message_id: None,
        created_at: vestibule_storage::now(),
        staff_messages: 0,
        contact_messages: 0,
    }
}

/// Staff and contact take turns, the staff member first.
fn message(parties: &Parties<'_>, conversation_id: &str, conversation: usize, m: usize) -> MessageRow {
    let (kind, author) = if m.is_multiple_of(2) {
        (conversations::STAFF, parties.owner_id)
    } else {
        (conversations::CONTACT, parties.contact_id)
    };
    MessageRow {
        id: MessageId::generate().into(),
        firm_id: parties.firm_id.to_owned(),
        conversation_id: conversation_id.to_owned(),
        author_kind: kind.to_owned(),
        author_id: author.to_owned(),
        body: format!("Message {m} of conversation {conversation}"),
        created_at: vestibule_storage::now(),
    }
}

/// Conversations of a few messages, each stored as the application stores a post.
pub fn short_threads(conn: &mut DbConnection, parties: &Parties<'_>, count: usize, messages: usize) {
    write_tx(conn, |conn| {
        for n in 0..count {
            let row = conversation(parties, n);
            conversations::insert(conn, &row)?;
            for m in 0..messages {
                conversations::insert_message(conn, &message(parties, &row.id, n, m))?;
            }
        }
        Ok::<_, StorageError>(())
    })
    .unwrap();
}

/// Conversations of thousands of messages, inserted many rows per statement with the
/// counters and last messages a post would have left.
pub fn long_threads(conn: &mut DbConnection, parties: &Parties<'_>, count: usize, messages: usize) {
    const ROWS_PER_INSERT: usize = 500;
    write_tx(conn, |conn| {
        for n in 0..count {
            let rows: Vec<MessageRow> = (0..messages).map(|m| message(parties, "", n, m)).collect();
            let mut row = conversation(parties, n);
            let last = |kind: &str| rows.iter().filter(|m| m.author_kind == kind).map(|m| m.id.clone()).max();
            row.last_staff_message_id = last(conversations::STAFF);
            row.last_contact_message_id = last(conversations::CONTACT);
            row.last_message_id = rows.iter().map(|m| m.id.clone()).max().unwrap_or_default();
            row.staff_messages = rows.iter().filter(|m| m.author_kind == conversations::STAFF).count() as i64;
            row.contact_messages = rows.len() as i64 - row.staff_messages;
            conversations::insert(conn, &row)?;
            for (chunk_index, chunk) in rows.chunks(ROWS_PER_INSERT).enumerate() {
                let values: Vec<String> = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, m)| {
                        let side_seq = (chunk_index * ROWS_PER_INSERT + i) / 2 + 1;
                        format!(
                            "('{}', '{}', '{}', '{}', '{}', '{}', '{}', {side_seq})",
                            m.id,
                            m.firm_id,
                            row.id,
                            m.author_kind,
                            m.author_id,
                            m.body,
                            m.created_at.format("%Y-%m-%d %H:%M:%S%.6f")
                        )
                    })
                    .collect();
                diesel::sql_query(format!(
                    "INSERT INTO messages (id, firm_id, conversation_id, author_kind, author_id, body, created_at, side_seq) VALUES {}",
                    values.join(", ")
                ))
                .execute(conn)?;
            }
        }
        Ok::<_, StorageError>(())
    })
    .unwrap();
}
