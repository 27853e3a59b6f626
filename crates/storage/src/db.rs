//! One connection type over SQLite and PostgreSQL, chosen by the URL scheme.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::result::{DatabaseErrorKind, Error};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{StorageError, StorageResult};

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

/// The turn of this process's SQLite writers. SQLite has one writer per file, and a writer
/// that finds the lock taken sleeps in its busy handler (1, 2, 5 … 100 ms) and tries again, so
/// under load writes wait far longer than the lock is held and not in order (post p99 was 20
/// times its half-load value). Waiting here instead wakes the next writer as soon as the
/// last one commits. One gate for the process: a server has one SQLite file; test processes
/// with many files only serialise their writes. The busy handler still covers other
/// processes on the file (the CLI beside a running server).
static SQLITE_WRITER: Mutex<()> = Mutex::new(());

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
    let _turn = match conn {
        DbConnection::Sqlite(sqlite) if outermost => {
            let turn = SQLITE_WRITER.lock().unwrap_or_else(PoisonError::into_inner);
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
            Some(turn)
        }
        _ => {
            <DbConnection as TransactionManager<DbConnection>>::begin_transaction(conn)?;
            None
        }
    };
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

pub const IDLE_CHECK: Duration = Duration::from_secs(30);

/// The connection pool's manager: opens connections like diesel's, but does not run a test
/// query on every checkout. A checkout test is a round trip per request (`SELECT 1` was a
/// statement in every request); instead each connection watches its own queries, the pool
/// drops a connection once one of them found it closed (a database restart, a killed
/// backend), and a PostgreSQL connection idle for longer than [`IDLE_CHECK`] is tested before
/// use, so a restart during a quiet spell costs no request. Under load a restart fails at most
/// one request per pooled connection. SQLite connections are files and do not break that way.
pub struct Manager {
    inner: ConnectionManager<DbConnection>,
    statements: Arc<AtomicU64>,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager").finish_non_exhaustive()
    }
}

impl Manager {
    /// `url` names the database for [`statements_run`]; `target` is what the driver opens.
    pub fn new(url: &str, target: String) -> Self {
        Self { inner: ConnectionManager::new(target), statements: counter(url) }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        let mut conn = self.inner.connect()?;
        conn.set_instrumentation(Watch { closed: false, used: Instant::now(), statements: self.statements.clone() });
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        let idle = conn.instrumentation().downcast_ref::<Watch>().is_none_or(|watch| watch.used.elapsed() > IDLE_CHECK);
        if matches!(conn, DbConnection::Postgres(_)) && idle {
            return self.inner.is_valid(conn);
        }
        Ok(())
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking()
            || conn.is_broken()
            || conn.instrumentation().downcast_ref::<Watch>().is_some_and(|watch| watch.closed)
    }
}

/// What a connection saw of its own queries.
struct Watch {
    closed: bool,
    used: Instant,
    statements: Arc<AtomicU64>,
}

impl Instrumentation for Watch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => {
                self.statements.fetch_add(1, Ordering::Relaxed);
            }
            InstrumentationEvent::FinishQuery {
                error: Some(Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)),
                ..
            } => {
                self.closed = true;
            }
            _ => {}
        }
    }
}

fn counter(url: &str) -> Arc<AtomicU64> {
    static COUNTERS: OnceLock<Mutex<HashMap<String, Arc<AtomicU64>>>> = OnceLock::new();
    let mut counters = COUNTERS.get_or_init(Mutex::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    counters.entry(url.to_owned()).or_default().clone()
}

/// How many statements the pools of this process have run on the database at `url` (the
/// URL given to [`connect`]), for tests that count the statements of a request.
pub fn statements_run(url: &str) -> u64 {
    counter(url).load(Ordering::Relaxed)
}
