use std::path::Path;

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use oauth_store::test_support::TestDb;
use oauth_store::{Db, DbConnection, PoolOptions, StoreError, migrations};

oauth_store::test_on_both_backends!(
    migrations_are_applied_once,
    foreign_keys_cascade_on_delete,
    failed_write_transactions_leave_nothing,
);

#[derive(QueryableByName)]
struct Value {
    #[diesel(sql_type = Text)]
    value: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn migrations_are_applied_once(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    assert!(migrations::pending(&mut conn).unwrap().is_empty());
    assert!(migrations::run_pending(&mut conn).unwrap().is_empty());
    // Opening again (as a second server would) applies nothing and fails on
    // nothing.
    Db::open(t.url(), &PoolOptions::default()).unwrap();
}

fn foreign_keys_cascade_on_delete(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    conn.batch_execute(
        "INSERT INTO users (id, username, password_hash, roles, enabled, created_at, updated_at)
             VALUES ('u1', 'alice', 'x', '[]', TRUE, 0, 0);
         INSERT INTO clients (client_id, name, redirect_uris, scopes, grant_types, response_types,
                              token_endpoint_auth_method, contacts, created_at, updated_at)
             VALUES ('c1', 'Demo', '[]', 'openid', '[]', '[]', 'none', '[]', 0, 0);
         INSERT INTO grants (id, client_id, user_id, scopes, created_at, expires_at)
             VALUES ('g1', 'c1', 'u1', 'openid', 0, 10);
         INSERT INTO access_tokens (token_hash, grant_id, scopes, created_at, expires_at)
             VALUES ('h1', 'g1', 'openid', 0, 10);",
    )
    .unwrap();
    conn.batch_execute("DELETE FROM users WHERE id = 'u1'")
        .unwrap();
    let left: Count = diesel::sql_query("SELECT COUNT(*) AS n FROM access_tokens")
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(left.n, 0, "deleting a user must delete its tokens");
    // A token for a grant that does not exist is refused.
    assert!(
        conn.batch_execute(
            "INSERT INTO access_tokens (token_hash, grant_id, scopes, created_at, expires_at)
                 VALUES ('h2', 'nope', 'openid', 0, 10)"
        )
        .is_err()
    );
}

fn failed_write_transactions_leave_nothing(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let result: Result<(), StoreError> =
        oauth_store::write_transaction(&mut conn, |c: &mut DbConnection| {
            c.batch_execute(
            "INSERT INTO users (id, username, password_hash, roles, enabled, created_at, updated_at)
                 VALUES ('u1', 'alice', 'x', '[]', TRUE, 0, 0)",
        )?;
            Err(StoreError::Conflict("test"))
        });
    assert!(result.is_err());
    let n: Count = diesel::sql_query("SELECT COUNT(*) AS n FROM users")
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(n.n, 0);
    // The connection is usable afterwards.
    oauth_store::write_transaction(&mut conn, |c: &mut DbConnection| {
        c.batch_execute("DELETE FROM users")
            .map_err(StoreError::from)
    })
    .unwrap();
}

#[test]
fn sqlite_connections_use_wal_busy_timeout_and_foreign_keys() {
    let t = TestDb::sqlite();
    // Check several pooled connections, not only the first.
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut conn = t.db().conn().unwrap();
        let mode: Value =
            diesel::sql_query("SELECT journal_mode AS value FROM pragma_journal_mode")
                .get_result(&mut *conn)
                .unwrap();
        assert_eq!(mode.value, "wal");
        let fk: Count = diesel::sql_query("SELECT foreign_keys AS n FROM pragma_foreign_keys")
            .get_result(&mut *conn)
            .unwrap();
        assert_eq!(fk.n, 1);
        let busy: Count = diesel::sql_query("SELECT timeout AS n FROM pragma_busy_timeout")
            .get_result(&mut *conn)
            .unwrap();
        assert_eq!(busy.n, 5000);
        held.push(conn);
    }
}

#[test]
fn unknown_url_schemes_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let stray = dir.path().join("host=localhost user=postgres");
    let err = Db::open(&stray.display().to_string(), &PoolOptions::default()).unwrap_err();
    assert!(matches!(err, StoreError::UnsupportedUrl(_)), "{err}");
    assert!(!Path::new(&stray).exists());
}

#[test]
fn an_unreachable_postgres_fails_fast_with_the_reason() {
    // Port 1 on loopback: nothing listens there.
    let err = Db::open(
        "postgres://postgres:pw@127.0.0.1:1/nope",
        &PoolOptions::default(),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{text}");
    assert!(text.contains("127.0.0.1"), "{text}");
    assert!(
        !text.contains(":pw@"),
        "the password must not be shown: {text}"
    );
}

#[test]
fn a_missing_sqlite_directory_is_an_error() {
    let err = Db::open(
        "sqlite:///nonexistent-dir-for-test/x.db",
        &PoolOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err}");
}

#[test]
fn migration_trees_match() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let names = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"));
    assert!(!names("sqlite").is_empty());
}
