//! Connections: one code path over SQLite and PostgreSQL.
//!
//! [`DbConnection`] is a diesel `MultiConnection`; the backend is chosen from
//! the URL's scheme, and an unknown scheme is an error rather than a guess
//! (diesel's derived `establish` tries each backend in turn and would make a
//! SQLite file out of a mistyped PostgreSQL URL). SQLite connections get
//! WAL, a busy timeout and foreign keys on every checkout from the pool.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection as _, TransactionManager};
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection as _, ConnectionError};

use crate::error::StoreError;

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl fmt::Debug for DbConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DbConnection::Sqlite(_) => "DbConnection::Sqlite",
            DbConnection::Postgres(_) => "DbConnection::Postgres",
        })
    }
}

/// Runs one expression against the backend's own connection, for the few
/// queries diesel's MultiConnection cannot express (upserts): the same
/// code is compiled once per backend.
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::pool::DbConnection::Sqlite($c) => $body,
            $crate::pool::DbConnection::Postgres($c) => $body,
        }
    };
}
pub(crate) use per_backend;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed database URL. `Display` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: Backend,
    url: String,
}

impl DatabaseUrl {
    /// Accepts `sqlite://PATH` (relative or, with a third slash, absolute)
    /// and `postgres://…` / `postgresql://…`; rejects everything else.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let backend = if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreError::UnsupportedUrl(url.to_owned()));
            }
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        Ok(Self {
            backend,
            url: url.to_owned(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The SQLite file, for `sqlite://` URLs.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.url.strip_prefix("sqlite://").map(PathBuf::from)
    }

    /// The URL with its password, for the driver only.
    pub fn expose_secret(&self) -> &str {
        &self.url
    }

    /// Opens one connection, with the per-connection settings applied.
    pub fn establish(&self) -> Result<DbConnection, StoreError> {
        let unavailable = |e: ConnectionError| StoreError::Unavailable {
            url: self.to_string(),
            // Drivers answer over several lines; one line reads better in
            // logs and CLI errors.
            reason: e
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        };
        let mut conn = match self.backend {
            Backend::Sqlite => {
                let path = self.url.trim_start_matches("sqlite://");
                DbConnection::Sqlite(SqliteConnection::establish(path).map_err(unavailable)?)
            }
            Backend::Postgres => {
                DbConnection::Postgres(PgConnection::establish(&self.url).map_err(unavailable)?)
            }
        };
        configure(&mut conn).map_err(|e| StoreError::Unavailable {
            url: self.to_string(),
            reason: e.to_string(),
        })?;
        Ok(conn)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.url))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// The URL with any password replaced by `***`.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Settings every connection needs. SQLite: wait up to five seconds for a
/// lock instead of failing at once, write-ahead logging so readers do not
/// block the writer, and foreign keys (off by default in SQLite).
fn configure(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    match conn {
        DbConnection::Sqlite(c) => c.batch_execute(
            "PRAGMA busy_timeout = 5000;
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;",
        ),
        DbConnection::Postgres(_) => Ok(()),
    }
}

/// The r2d2 manager: opens connections for one [`DatabaseUrl`].
#[derive(Debug)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<DbConnection, StoreError> {
        self.url.establish()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), StoreError> {
        conn.batch_execute("SELECT 1").map_err(StoreError::from)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// A pooled connection.
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// How to open the pool.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// Most connections open at once.
    pub max_size: u32,
    /// How long a checkout waits for a free connection.
    pub checkout_timeout: Duration,
    /// Apply pending migrations when opening.
    pub migrate: bool,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 16,
            checkout_timeout: Duration::from_secs(10),
            migrate: true,
        }
    }
}

/// The database: a connection pool over one URL. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<ConnectionManager>,
    url: DatabaseUrl,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Opens the database: one connection is made at once, so a wrong URL
    /// or a database that is down fails here with the driver's own reason;
    /// then migrations run (when asked) and the pool is built.
    pub fn open(url: &str, options: &PoolOptions) -> Result<Self, StoreError> {
        let url = DatabaseUrl::parse(url)?;
        let mut first = url.establish()?;
        if options.migrate {
            crate::migrations::run_pending(&mut first)?;
        }
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(options.max_size)
            .min_idle(Some(0))
            .connection_timeout(options.checkout_timeout)
            .build_unchecked(ConnectionManager { url: url.clone() });
        Ok(Self { pool, url })
    }

    /// A connection from the pool. Blocking: on an async runtime, call it
    /// from a blocking thread.
    pub fn conn(&self) -> Result<PooledConnection, StoreError> {
        Ok(self.pool.get()?)
    }

    /// Does the database answer? For readiness checks.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.conn()?.batch_execute("SELECT 1")?;
        Ok(())
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        self.url.backend
    }
}

/// Runs `f` in a transaction that takes the write lock at its start.
///
/// On SQLite this is `BEGIN IMMEDIATE`: a plain (deferred) transaction that
/// reads and then writes fails at once with `SQLITE_BUSY` when another
/// writer got there first, while an immediate one waits its turn under the
/// busy timeout. On PostgreSQL it is an ordinary transaction; row locks and
/// conditional updates settle races there.
pub fn write_transaction<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<StoreError>,
{
    let begin = match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
        }
        DbConnection::Postgres(c) => AnsiTransactionManager::begin_transaction(c),
    };
    begin.map_err(|e| E::from(StoreError::from(e)))?;
    type Manager = <DbConnection as diesel::Connection>::TransactionManager;
    match f(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn).map_err(|e| E::from(StoreError::from(e)))?;
            Ok(value)
        }
        Err(e) => {
            // The transaction failed already; a failed rollback adds nothing
            // the caller can act on, and diesel marks the connection broken.
            let _ = Manager::rollback_transaction(conn);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_their_backend() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://oauth.db").unwrap().backend(),
            Backend::Sqlite
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/oauth.db")
                .unwrap()
                .sqlite_path()
                .unwrap(),
            PathBuf::from("/var/lib/oauth.db")
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
    }

    #[test]
    fn unknown_schemes_are_rejected_not_guessed() {
        for bad in [
            "oauth.db",
            "host=localhost user=postgres",
            "mysql://u@h/db",
            "sqlite://",
            "sqlite:x.db",
        ] {
            assert!(
                matches!(DatabaseUrl::parse(bad), Err(StoreError::UnsupportedUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn passwords_never_print() {
        let url = DatabaseUrl::parse("postgres://user:hunter2@db.example/oauth").unwrap();
        assert_eq!(url.to_string(), "postgres://user:***@db.example/oauth");
        assert!(!format!("{url:?}").contains("hunter2"));
        let err = DatabaseUrl::parse("mysql://user:hunter2@db/x").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
