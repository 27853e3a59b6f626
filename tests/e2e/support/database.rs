//! A fresh database per test: a new SQLite file, or a PostgreSQL database cloned from a
//! template that was migrated once per test run.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The default turns TLS off: libpq does TLS through OpenSSL, whose exit handler frees its
/// state while a still-running thread (a listener, a pool's reaper) may be inside it, which
/// crashes the test process after the last test passed. Loopback needs no TLS.
pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned())
}

/// Whether PostgreSQL tests run. Under CI they must: an unreachable server fails the run
/// instead of silently testing one backend.
pub fn postgres_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| match PgConnection::establish(&admin_url()) {
        Ok(_) => true,
        Err(error) if std::env::var_os("CI").is_some() || std::env::var_os("TEST_DATABASE_URL").is_some() => {
            panic!("PostgreSQL is required here but unreachable at {}: {error}", admin_url())
        }
        Err(error) => {
            eprintln!("note: skipping PostgreSQL tests, {} is unreachable: {error}", admin_url());
            false
        }
    })
}

pub struct TestDatabase {
    pub url: String,
    scratch: PathBuf,
    postgres_name: Option<String>,
}

impl TestDatabase {
    pub fn create(backend: Backend) -> Self {
        let scratch = std::env::temp_dir().join("vestibule-tests").join(uuid::Uuid::new_v4().simple().to_string());
        std::fs::create_dir_all(&scratch).expect("scratch dir");
        match backend {
            Backend::Sqlite => Self {
                url: format!("sqlite://{}", scratch.join("vestibule.db").display()),
                scratch,
                postgres_name: None,
            },
            Backend::Postgres => {
                let name = format!("vt_{}", uuid::Uuid::new_v4().simple());
                let template = template();
                let mut admin = PgConnection::establish(&admin_url()).expect("PostgreSQL admin connection");
                // Cloning needs the template to have no other sessions; retry if one lingers.
                let mut attempts = 0;
                while let Err(error) =
                    diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}")).execute(&mut admin)
                {
                    attempts += 1;
                    assert!(attempts < 50, "creating {name}: {error}");
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Self { url: with_database(&admin_url(), &name), scratch, postgres_name: Some(name) }
            }
        }
    }

    pub fn scratch_dir(&self) -> &Path {
        &self.scratch
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
        if let Some(name) = self.postgres_name.take()
            && let Ok(mut admin) = PgConnection::establish(&admin_url())
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
        }
    }
}

fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("TEST_DATABASE_URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

/// The migrated template, named after the migrations so a changed schema gets a new one.
/// An advisory lock keeps parallel test processes from building it twice.
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("vt_template_{}", migrations_fingerprint());
        let mut admin = PgConnection::establish(&admin_url()).expect("PostgreSQL admin connection");
        diesel::sql_query("SELECT pg_advisory_lock(7219)").execute(&mut admin).expect("advisory lock");
        #[derive(diesel::QueryableByName)]
        struct Found {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let exists = diesel::sql_query(format!("SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'"))
            .get_result::<Found>(&mut admin)
            .expect("looking for the template")
            .n
            > 0;
        if !exists {
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("creating the template");
            let url = with_database(&admin_url(), &name);
            let mut conn = vestibule_storage::DbConnection::establish(&url).expect("template connection");
            vestibule_storage::db::run_migrations(&mut conn).expect("migrating the template");
        }
        diesel::sql_query("SELECT pg_advisory_unlock(7219)").execute(&mut admin).expect("advisory unlock");
        name
    })
}

fn migrations_fingerprint() -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/postgres");
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(&root).expect("migrations").filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for dir in entries {
        for file in ["up.sql", "down.sql"] {
            std::fs::read(dir.join(file)).unwrap_or_default().hash(&mut hasher);
        }
    }
    format!("{:016x}", hasher.finish())
}
