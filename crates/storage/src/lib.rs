//! Persistence: the diesel schema shared by SQLite and PostgreSQL, repositories that take
//! a connection (so callers choose the transaction), and embedded migrations.
//!
//! Every function that takes a tenant-owned id also takes the caller's `firm_id`.

/// Narrows a boxed query of records that may belong to a matter (`$matter_id`, nullable) to
/// those `$visibility` allows: records without a matter, of unrestricted matters, or of
/// matters the staff member belongs to. One rule for every such table, the rule of
/// `matters::visible`, so no record can reveal a restricted matter.
macro_rules! matter_visible {
    ($query:expr, $matter_id:expr, $id:expr, $visibility:expr) => {{
        use vestibule_domain::authz::MatterVisibility;
        use $crate::schema::{matter_members, matters};
        match $visibility {
            MatterVisibility::All => $query,
            MatterVisibility::UnrestrictedOrMemberOf(staff_id) => $query.filter(
                $matter_id
                    .is_null()
                    .or($matter_id
                        .eq_any(matters::table.filter(matters::restricted.eq(false)).select(matters::id.nullable())))
                    .or($matter_id.eq_any(
                        matter_members::table
                            .filter(matter_members::staff_id.eq(staff_id.as_str()))
                            .select(matter_members::matter_id.nullable()),
                    )),
            ),
            MatterVisibility::None => $query.filter($id.is_null()),
        }
    }};
}

/// The filter a portal's view of a table shares: rows of a client the portal grants, or of a
/// matter it grants.
macro_rules! granted_to_portal {
    ($client_id:expr, $matter_id:expr, $portal_id:expr) => {{
        use $crate::schema::portal_grants;
        let portal_id: &str = $portal_id;
        let clients = portal_grants::table
            .filter(portal_grants::portal_id.eq(portal_id).and(portal_grants::client_id.is_not_null()))
            .select(portal_grants::client_id.assume_not_null());
        let matters = portal_grants::table
            .filter(portal_grants::portal_id.eq(portal_id).and(portal_grants::matter_id.is_not_null()))
            .select(portal_grants::matter_id);
        $client_id.eq_any(clients).or($matter_id.eq_any(matters))
    }};
}

/// Executes an `ON CONFLICT` statement: a dialect feature, which the two-backend connection
/// does not declare, so the query runs on whichever backend the connection is.
macro_rules! execute_upsert {
    ($conn:expr, $upsert:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgres(pg) => $upsert.execute(pg),
            $crate::db::DbConnection::Sqlite(sqlite) => $upsert.execute(sqlite),
        }
    };
}

pub mod access_links;
pub mod api_keys;
pub mod audit;
pub mod audit_checkpoints;
pub mod clients;
pub mod contacts;
pub mod conversations;
pub mod credentials;
pub mod db;
pub mod deliveries;
pub mod document_requests;
pub mod documents;
pub mod error;
pub mod file_transfers;
pub mod firms;
pub mod folders;
pub mod idempotency;
pub mod invitations;
pub mod invoices;
mod limit;
pub mod live;
pub mod login_challenges;
pub mod matters;
pub mod notifications;
pub mod offices;
pub mod outbox;
pub mod outstanding;
pub mod payment_methods;
pub mod payments;
pub mod portals;
pub mod rate_limits;
pub mod reminders;
pub mod scans;
pub mod schema;
pub mod sealing;
pub mod sessions;
pub mod shares;
pub mod signature_certificates;
pub mod signatures;
pub mod staff;
pub mod staff_invitations;
pub mod statement;
pub mod templates;
pub mod two_factor;
pub mod wake;
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
