//! Persistence: the diesel schema shared by SQLite and PostgreSQL, repositories that take
//! a connection (so callers choose the transaction), and embedded migrations.
//!
//! Every function that takes a tenant-owned id also takes the caller's `firm_id`.

pub mod api_keys;
pub mod audit;
pub mod clients;
pub mod contacts;
pub mod conversations;
pub mod credentials;
pub mod db;
pub mod deliveries;
pub mod error;
pub mod firms;
pub mod idempotency;
pub mod invitations;
pub mod invoices;
pub mod live;
pub mod matters;
pub mod notifications;
pub mod offices;
pub mod outbox;
pub mod portals;
pub mod schema;
pub mod sessions;
pub mod staff;
pub mod templates;
pub mod webhooks;

pub use db::{Backend, DbConnection, DbPool, PoolOptions, PooledDb, write_tx};
pub use error::{StorageError, StorageResult};

/// The current time as both backends store it (UTC, microseconds).
pub fn now() -> chrono::NaiveDateTime {
    vestibule_domain::audit::storable_time(chrono::Utc::now().naive_utc())
}

/// Escapes `%`, `_` and `\` so user input matches literally inside a LIKE pattern.
fn like_pattern(needle: &str) -> String {
    let escaped = needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{}%", escaped.to_lowercase())
}

pub use diesel::result::Error as DieselError;
