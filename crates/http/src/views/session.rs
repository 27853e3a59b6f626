//! A signed-in session as its owner sees it: staff and contacts alike.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use vestibule_domain::device;
use vestibule_domain::ids::SessionId;
use vestibule_storage::sessions::SessionRow;

use crate::routes::utc;

#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    pub id: SessionId,
    /// Browser and system read from the user agent, as `Firefox on Linux`.
    #[schema(example = "Firefox on Linux")]
    pub device: String,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The last request with one of its access tokens, to the minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    /// The session of the request that lists them.
    pub current: bool,
}

/// The caller's live sessions, newest first. Not paginated: a person has a handful.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub data: Vec<Session>,
}

impl SessionList {
    pub fn of(rows: Vec<SessionRow>, current: &str) -> Self {
        let data = rows
            .into_iter()
            .map(|row| Session {
                device: device::describe(row.user_agent.as_deref()),
                current: row.id == current,
                id: SessionId::from_trusted(row.id),
                user_agent: row.user_agent,
                ip_address: row.ip,
                created_at: utc(row.created_at),
                last_used_at: row.last_used_at.map(utc),
                expires_at: utc(row.expires_at),
            })
            .collect();
        Self { data }
    }
}
