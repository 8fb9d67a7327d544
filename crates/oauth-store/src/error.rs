//! The storage layer's one error type.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What can go wrong in storage, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key is taken (a username, an email, ...). The text names
    /// what, not the value.
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// The row asked for does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The database cannot be reached or refused the connection.
    #[error("cannot connect to the database at {url}: {reason}")]
    Unavailable { url: String, reason: String },
    /// The URL names no backend this build supports.
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    /// A stored value does not parse: the database was changed behind our
    /// back, or a bug wrote it.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Database(#[source] DieselError),
    #[error("timed out waiting for a database connection: {0}")]
    Pool(#[from] r2d2::Error),
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => StoreError::NotFound("row"),
            other => StoreError::Database(other),
        }
    }
}

impl StoreError {
    /// Is this a unique-constraint violation? Callers map it to a
    /// [`StoreError::Conflict`] naming what was taken.
    pub(crate) fn is_unique_violation(e: &DieselError) -> bool {
        matches!(
            e,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
        )
    }

    /// A corrupt-row error for a value that failed to parse.
    pub(crate) fn corrupt(table: &str, column: &str, err: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(format!("{table}.{column}: {err}"))
    }
}
