//! One connection type over SQLite and PostgreSQL, chosen by the URL scheme.

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{StorageError, StorageResult};
use crate::pool::Manager;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

pub type DbPool = Pool<Manager>;
pub type PooledDb = PooledConnection<Manager>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") { Self::Postgres } else { Self::Sqlite }
    }
}

/// Normalises `sqlite://path`, `sqlite:path` and plain paths to what the SQLite driver opens.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url)
}

#[derive(Debug)]
struct ConnectionSetup;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        if let DbConnection::Sqlite(sqlite) = conn {
            // Per connection: SQLite forgets these pragmas when a connection closes. The
            // journal mode is not among them: `switch_to_wal` set it in the file once.
            sqlite
                .batch_execute("PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_size: u32,
    pub connect_timeout: Duration,
}

pub fn connect(url: &str, options: &PoolOptions) -> StorageResult<DbPool> {
    let target = match Backend::of_url(url) {
        Backend::Postgres => url.to_owned(),
        Backend::Sqlite => {
            let path = sqlite_path(url);
            if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| StorageError::Migration(format!("{}: {e}", parent.display())))?;
            }
            switch_to_wal(path)?;
            path.to_owned()
        }
    };
    let pool = Pool::builder()
        .max_size(options.max_size)
        .connection_timeout(options.connect_timeout)
        // The manager's check runs a query only on a long-idle PostgreSQL connection.
        .test_on_check_out(true)
        .connection_customizer(Box::new(ConnectionSetup))
        .build(Manager::new(url, target))?;
    Ok(pool)
}

/// WAL is a property of the database file, so one connection sets it before the pool opens
/// its connections together: switching needs an exclusive lock, and each pooled connection
/// asking for it at once made all but one fail with "database is locked".
fn switch_to_wal(path: &str) -> StorageResult<()> {
    let mut conn = SqliteConnection::establish(path).map_err(|e| StorageError::Migration(format!("{path}: {e}")))?;
    conn.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")
        .map_err(|e| StorageError::Migration(format!("{path}: switching to WAL: {e}")))?;
    Ok(())
}

pub fn run_migrations(conn: &mut DbConnection) -> StorageResult<usize> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        DbConnection::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
    };
    applied.map_err(|e| StorageError::Migration(e.to_string()))
}

pub fn ping(conn: &mut DbConnection) -> StorageResult<()> {
    diesel::sql_query("SELECT 1").execute(conn)?;
    Ok(())
}

/// Runs `work` in a write transaction. On SQLite the transaction starts `IMMEDIATE`, taking
/// the write lock up front: a deferred transaction that reads and then writes can fail with
/// SQLITE_BUSY without waiting when another writer got in between. Nested calls use savepoints.
pub fn write_tx<T, E>(conn: &mut DbConnection, work: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let outermost = matches!(
        <DbConnection as TransactionManager<DbConnection>>::transaction_manager_status_mut(conn).transaction_depth(),
        Ok(None)
    );
    match conn {
        DbConnection::Sqlite(sqlite) if outermost => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
        }
        _ => <DbConnection as TransactionManager<DbConnection>>::begin_transaction(conn)?,
    }
    match work(conn) {
        Ok(value) => {
            <DbConnection as TransactionManager<DbConnection>>::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            <DbConnection as TransactionManager<DbConnection>>::rollback_transaction(conn)?;
            Err(error)
        }
    }
}
