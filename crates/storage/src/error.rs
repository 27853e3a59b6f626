use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What a repository call can fail with. A row of another firm is reported exactly like a
/// missing row, so callers cannot tell the two apart.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("not found")]
    NotFound,
    #[error("conflict on {0}")]
    Conflict(String),
    #[error("a referenced row does not exist")]
    ForeignKey,
    #[error("the row changed since it was read")]
    VersionMismatch,
    #[error("database error: {0}")]
    Database(#[source] DieselError),
    #[error("connection pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("migrations: {0}")]
    Migration(String),
    /// A stored secret does not open: its key is not configured, or the value was altered.
    #[error("secrets at rest: {0}")]
    Sealing(String),
    #[error(transparent)]
    Mail(#[from] vestibule_domain::mail::MailError),
}

impl From<DieselError> for StorageError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => Self::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                Self::Conflict(info.constraint_name().unwrap_or_else(|| info.message()).to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => Self::ForeignKey,
            other => Self::Database(other),
        }
    }
}

pub type StorageResult<T> = Result<T, StorageError>;
