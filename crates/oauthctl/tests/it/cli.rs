//! Running the binary and reading what it left in the database.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use oauth_store::test_support::TestDb;
use oauth_store::{clients, users};

/// The outcome of one `oauthctl` run.
pub(crate) struct Run {
    pub(crate) status: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn ok(self) -> Self {
        assert_eq!(self.status, 0, "oauthctl failed: {}", self.stderr);
        self
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }

    /// Asserts a usage error from the argument parser (exit status 2).
    pub(crate) fn fails_usage(self) {
        assert_eq!(self.status, 2, "expected a usage error: {}", self.stderr);
    }

    /// Asserts a failure with a one-line reason on stderr containing `needle`.
    pub(crate) fn fails_with(self, needle: &str) {
        assert_ne!(self.status, 0, "expected failure, got: {}", self.stdout);
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "expected one line on stderr, got: {:?}",
            self.stderr
        );
        assert!(lines[0].starts_with("oauthctl: error: "), "{}", lines[0]);
        assert!(
            lines[0].contains(needle),
            "{:?} does not mention {needle:?}",
            lines[0]
        );
    }
}

/// Runs `oauthctl --database-url URL ARGS…` with `stdin` as its input.
pub(crate) fn oauthctl_at(url: &str, args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oauthctl"));
    cmd.arg("--database-url")
        .arg(url)
        .args(args)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start oauthctl");
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        status: status.code().unwrap_or(-1),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

pub(crate) fn oauthctl(t: &TestDb, args: &[&str]) -> Run {
    oauthctl_at(t.url(), args, None)
}

pub(crate) fn oauthctl_stdin(t: &TestDb, args: &[&str], stdin: &str) -> Run {
    oauthctl_at(t.url(), args, Some(stdin))
}

/// Everything stored about users and clients, to show a failed command
/// changed nothing.
pub(crate) fn snapshot(t: &TestDb) -> String {
    let mut conn = t.db().conn().unwrap();
    format!(
        "{:?}\n{:?}",
        users::list(&mut conn).unwrap(),
        clients::list(&mut conn).unwrap()
    )
}

/// Does `needle` appear anywhere in the stored data? On SQLite the files
/// themselves are searched (the database and its write-ahead log); on
/// PostgreSQL every row of every table, as text.
pub(crate) fn database_contains(t: &TestDb, needle: &str) -> bool {
    use diesel::prelude::*;
    if let Some(path) = t.url().strip_prefix("sqlite://") {
        return ["", "-wal"].iter().any(|suffix| {
            std::fs::read(format!("{path}{suffix}"))
                .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
                .unwrap_or(false)
        });
    }
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let mut conn = t.db().conn().unwrap();
    [
        "users",
        "clients",
        "grants",
        "authorization_codes",
        "access_tokens",
        "refresh_tokens",
        "consents",
    ]
    .iter()
    .any(|table| {
        diesel::sql_query(format!("SELECT t::text AS row FROM {table} t"))
            .load::<Row>(&mut *conn)
            .unwrap()
            .iter()
            .any(|r| r.row.contains(needle))
    })
}
