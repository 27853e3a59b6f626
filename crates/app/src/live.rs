//! Who a live stream is for, and what it reads from the database while open: the events
//! it missed and whether its session still lives. Streaming itself is the caller's.

use vestibule_domain::principal::Principal;
use vestibule_storage::conversations::{CONTACT, STAFF};
use vestibule_storage::live::{self, LiveEventRow};
use vestibule_storage::{DbConnection, sessions};

use crate::error::{AppError, AppResult};

/// Events replayed at most on reconnect; older ones are gone from the table anyway.
const REPLAY_LIMIT: i64 = 500;

/// The person a stream is for, in the session that opened it.
#[derive(Debug, Clone)]
pub struct Listener {
    kind: &'static str,
    pub id: String,
    pub session_id: String,
}

impl Listener {
    /// Staff and contacts listen; integrations hear of events by webhook.
    pub fn of(principal: &Principal) -> AppResult<Self> {
        match principal {
            Principal::Staff(me) => {
                Ok(Self { kind: STAFF, id: me.staff_id.to_string(), session_id: me.session_id.to_string() })
            }
            Principal::Contact(me) => {
                Ok(Self { kind: CONTACT, id: me.contact_id.to_string(), session_id: me.session_id.to_string() })
            }
            Principal::Integration(_) => {
                Err(AppError::Forbidden("integrations receive events by webhook, not live streams".to_owned()))
            }
        }
    }

    pub fn is_staff(&self) -> bool {
        self.kind == STAFF
    }

    pub fn wants(&self, event: &LiveEventRow) -> bool {
        event.recipient_kind == self.kind && event.recipient_id == self.id
    }
}

/// What the listener missed after the event `after`, oldest first.
#[tracing::instrument(skip(conn))]
pub fn missed(conn: &mut DbConnection, listener: &Listener, after: &str) -> AppResult<Vec<LiveEventRow>> {
    let rows = live::missed(conn, &listener.id, after, REPLAY_LIMIT)?;
    Ok(rows.into_iter().filter(|event| listener.wants(event)).collect())
}

/// Whether the session that opened the stream is still active (not revoked, not expired).
#[tracing::instrument(skip(conn))]
pub fn session_alive(conn: &mut DbConnection, listener: &Listener) -> AppResult<bool> {
    Ok(sessions::get_active(conn, &listener.session_id, vestibule_storage::now())?.is_some())
}
