//! The connection pool's manager: opens connections like diesel's, but does not run a test
//! query on every checkout. A checkout test is a round trip per request (`SELECT 1` was a
//! statement in every request); instead each connection watches its own queries, the pool
//! drops a connection once one of them found it closed (a database restart, a killed
//! backend), and a PostgreSQL connection idle for longer than [`IDLE_CHECK`] is tested before
//! use, so a restart during a quiet spell costs no request. Under load a restart fails at most
//! one request per pooled connection. SQLite connections are files and do not break that way.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::r2d2::{ConnectionManager, ManageConnection, R2D2Connection};
use diesel::result::{DatabaseErrorKind, Error};

use crate::db::DbConnection;

pub const IDLE_CHECK: Duration = Duration::from_secs(30);

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
/// URL given to [`crate::db::connect`]), for tests that count the statements of a request.
pub fn statements_run(url: &str) -> u64 {
    counter(url).load(Ordering::Relaxed)
}
