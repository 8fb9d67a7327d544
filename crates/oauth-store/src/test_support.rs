//! A fresh database per test, on SQLite always and on PostgreSQL when
//! `TEST_DATABASE_URL` names a server (behind the `test-support` feature).
//!
//! Each PostgreSQL test gets a database of its own, created from the server
//! at `TEST_DATABASE_URL` and dropped when the test ends, so tests run in
//! parallel without seeing each other's rows.

use diesel::connection::SimpleConnection as _;
use rand::RngExt as _;

use crate::pool::{Db, PoolOptions};

/// The environment variable naming the PostgreSQL server for tests.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// A migrated, empty database that is removed when dropped.
#[derive(Debug)]
pub struct TestDb {
    db: Db,
    url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(
        #[expect(
            dead_code,
            reason = "held only for its Drop, which removes the directory"
        )]
        tempfile::TempDir,
    ),
    Postgres {
        admin_url: String,
        name: String,
    },
}

impl TestDb {
    /// A SQLite file in a new temporary directory.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let db = Db::open(&url, &options()).expect("open the test SQLite database");
        Self {
            db,
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A new database on the server at `TEST_DATABASE_URL`, or `None` when
    /// the variable is unset.
    pub fn postgres() -> Option<Self> {
        let admin_url = std::env::var(TEST_DATABASE_URL)
            .ok()
            .filter(|u| !u.is_empty())?;
        let name = format!("oauth_test_{:016x}", rand::rng().random::<u64>());
        let admin = crate::DatabaseUrl::parse(&admin_url)
            .expect("TEST_DATABASE_URL must be a postgres:// URL");
        let mut conn = admin.establish().expect("connect to TEST_DATABASE_URL");
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a test database");
        let url = with_database(&admin_url, &name);
        let db = Db::open(&url, &options()).expect("open the test PostgreSQL database");
        Some(Self {
            db,
            url,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The database's URL, for handing to a process under test.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup
            && let Ok(mut conn) = crate::DatabaseUrl::parse(admin_url).and_then(|u| u.establish())
        {
            // FORCE ends connections the pool still holds (PostgreSQL 13+).
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// Called by a PostgreSQL test when `TEST_DATABASE_URL` is unset. Under CI
/// that is a misconfiguration and fails the test; elsewhere the test is
/// skipped with a note.
pub fn skip_postgres(test: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: CI is set but {TEST_DATABASE_URL} is not; PostgreSQL tests must run in CI"
    );
    eprintln!("{test}: skipped on PostgreSQL ({TEST_DATABASE_URL} is not set)");
}

fn options() -> PoolOptions {
    PoolOptions {
        max_size: 8,
        ..PoolOptions::default()
    }
}

/// `admin_url` with its database name replaced by `name`.
fn with_database(admin_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin_url).expect("TEST_DATABASE_URL must be a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Runs each named test function (`fn(&TestDb)`) once on SQLite and once on
/// PostgreSQL, as `sqlite::NAME` and `postgres::NAME`.
#[macro_export]
macro_rules! test_on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name(&$crate::test_support::TestDb::sqlite());
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    match $crate::test_support::TestDb::postgres() {
                        Some(db) => super::$name(&db),
                        None => $crate::test_support::skip_postgres(stringify!($name)),
                    }
                }
            )*
        }
    };
}
