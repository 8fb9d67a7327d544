//! The real binaries as processes: `oauth-server` started on a free port
//! over a SQLite file in a temporary directory, stopped with SIGTERM, and
//! `oauthctl` working on the same database. SQLite only: what is under test
//! here is the process (flags, logs, signals), not the storage.
//!
//! Cargo hands an integration test only the binaries of its own package
//! (`CARGO_BIN_EXE_oauth-server`); `oauthctl` is another package, so it is
//! built once per run into the same target directory (see
//! `support::oauthctl_bin`).

use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::support::{
    Browser, CB, ENV_VARS, PASSWORD, Reply, SERVER_BIN, block_on, enc, oauthctl, param, read,
    redirect_params,
};

/// How long the server may take to log that it listens.
const STARTUP: Duration = Duration::from_secs(30);
/// How long the server may take to exit after SIGTERM.
const SHUTDOWN: Duration = Duration::from_secs(10);

#[test]
fn the_server_starts_on_sqlite_and_logs_its_url_and_database() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = sqlite_url(dir.path());
    let mut server = Server::start(dir.path(), &["--database-url", &db_url]);
    let line = strip_ansi(server.startup_line());
    assert!(
        line.contains(&server.base),
        "the startup line does not name {}: {line}",
        server.base
    );
    assert!(
        line.contains(&db_url),
        "the startup line does not name {db_url}: {line}"
    );
    assert!(line.contains("INFO"), "{line}");
    assert!(server.terminate().success());
}

#[test]
fn health_and_readiness_answer_ok_and_ready() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &["--database-url", &sqlite_url(dir.path())]);
    block_on(async {
        for (path, expected) in [("/healthz", "ok"), ("/readyz", "ready")] {
            let reply = read(
                reqwest::get(format!("{}{path}", server.base))
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
            assert_eq!(reply.body.trim(), expected, "{path}");
        }
    });
    assert!(server.terminate().success());
}

#[test]
fn the_database_file_is_created_migrated_and_shared_with_oauthctl() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = sqlite_url(dir.path());
    let mut server = Server::start(dir.path(), &["--database-url", &db_url]);
    assert!(
        dir.path().join("x.db").is_file(),
        "no database file in {}",
        dir.path().display()
    );
    // The server migrated it: oauthctl finds nothing left to apply…
    let migrate = oauthctl(&db_url, &["migrate", "--json"], None).ok();
    assert_eq!(
        migrate.json()["applied"],
        serde_json::json!([]),
        "{}",
        migrate.stdout
    );
    // …and reads its (empty) tables while the server runs.
    assert_eq!(
        oauthctl(&db_url, &["client", "list", "--json"], None)
            .ok()
            .json(),
        serde_json::json!([])
    );
    assert_eq!(
        oauthctl(&db_url, &["user", "list", "--json"], None)
            .ok()
            .json(),
        serde_json::json!([])
    );
    assert!(server.terminate().success());
}

#[test]
fn sigterm_shuts_the_server_down_gracefully_with_status_0() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &["--database-url", &sqlite_url(dir.path())]);
    block_on(async {
        // A client that keeps its connection open: shutting down must not
        // wait for it to go away.
        let http = reqwest::Client::new();
        let reply = read(
            http.get(format!("{}/healthz", server.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK);
        let started = Instant::now();
        let status = server.terminate();
        assert_eq!(
            status.code(),
            Some(0),
            "exit status after SIGTERM: {status}\n{}",
            server.log.join("\n")
        );
        assert!(started.elapsed() < SHUTDOWN);
        drop(http);
    });
    let log = server
        .log
        .iter()
        .map(|l| strip_ansi(l))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        log.contains("oauth-server stopped"),
        "no shutdown line in:\n{log}"
    );
    // And the port is free again.
    assert!(TcpListener::bind(server.base.trim_start_matches("http://")).is_ok());
}

#[test]
fn sigterm_right_after_the_startup_line_still_exits_0() {
    // A supervisor may stop the server as soon as it says it listens (a
    // rolling deploy that is cancelled, a test harness): that SIGTERM must
    // be a graceful shutdown too, not death by the signal.
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::spawn(dir.path(), &["--database-url", &sqlite_url(dir.path())]);
    let status = server.terminate();
    assert_eq!(
        status.code(),
        Some(0),
        "SIGTERM just after the startup line ended the process with {status}; log:\n{}",
        server
            .log
            .iter()
            .map(|l| strip_ansi(l))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn json_log_format_makes_every_stderr_line_json() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = sqlite_url(dir.path());
    let mut server = Server::start(
        dir.path(),
        &["--database-url", &db_url, "--log-format", "json"],
    );
    let startup: serde_json::Value =
        serde_json::from_str(server.startup_line()).expect("a JSON startup line");
    assert_eq!(startup["level"], "INFO", "{startup}");
    assert!(
        startup["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&server.base),
        "{startup}"
    );
    assert_eq!(startup["database"], db_url.as_str(), "{startup}");
    block_on(async {
        let http = reqwest::Client::new();
        for path in ["/healthz", "/readyz", "/no-such-page", "/oauth/userinfo"] {
            http.get(format!("{}{path}", server.base))
                .send()
                .await
                .unwrap();
        }
        // A failed client authentication is logged.
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", "nobody"),
            ("client_secret", "x"),
        ];
        http.post(format!("{}/oauth/token", server.base))
            .form(&form)
            .send()
            .await
            .unwrap();
    });
    assert!(server.terminate().success());
    assert!(server.log.len() >= 2, "{:?}", server.log);
    for line in &server.log {
        let json: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"));
        assert!(
            json.is_object() && json["level"].is_string() && json["timestamp"].is_string(),
            "{line}"
        );
    }
    assert!(
        server
            .log
            .iter()
            .any(|l| l.contains("oauth-server stopped")),
        "{:?}",
        server.log
    );

    // A failure at start (the port is taken) is a JSON line too.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let out = server_command(dir.path())
        .args([
            "--bind",
            &taken.local_addr().unwrap().to_string(),
            "--database-url",
            &db_url,
        ])
        .args(["--log-format", "json"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(!lines.is_empty(), "no error logged");
    for line in &lines {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"));
    }
    assert!(stderr.contains("cannot listen"), "{stderr}");
}

#[test]
fn bad_flag_values_exit_non_zero_with_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = sqlite_url(dir.path());
    let missing_config = dir.path().join("missing.toml");
    // Values the server refuses once it has read them: one line exactly.
    for (args, needle) in [
        (vec!["--issuer", "ftp://x"], "ftp://x"),
        (vec!["--issuer", "https://auth.example/?q=1"], "query"),
        (
            vec!["--config", missing_config.to_str().unwrap()],
            "missing.toml",
        ),
    ] {
        let out = server_command(dir.path())
            .args(["--database-url", &db_url])
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(!out.status.success(), "{args:?} was accepted");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "{args:?}: expected one line, got {stderr:?}"
        );
        assert!(
            lines[0].starts_with("oauth-server: error: "),
            "{args:?}: {}",
            lines[0]
        );
        assert!(
            lines[0].contains(needle),
            "{args:?}: {} does not mention {needle}",
            lines[0]
        );
    }
    // Values clap refuses: the reason on the first line (clap adds a hint
    // to --help after it).
    for (args, needle) in [
        (vec!["--bind", "nonsense"], "--bind"),
        (vec!["--log-format", "xml"], "--log-format"),
    ] {
        let out = server_command(dir.path())
            .args(["--database-url", &db_url])
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        let first = stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error: ") && first.contains(needle),
            "{args:?}: {stderr:?}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // Nothing was written: no database, no secret file.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "refused runs left files behind: {left:?}");
}

#[test]
fn help_shows_usage_examples() {
    let out = Command::new(SERVER_BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("Examples:"), "{help}");
    assert!(help.contains("oauth-server --bind"), "{help}");
    for flag in [
        "--bind",
        "--database-url",
        "--issuer",
        "--config",
        "--log-format",
    ] {
        assert!(help.contains(flag), "--help does not mention {flag}");
    }
}

#[test]
fn the_seed_flow_runs_across_oauthctl_and_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = sqlite_url(dir.path());
    // The server first, so that it sees rows the CLI writes while it runs.
    let mut server = Server::start(dir.path(), &["--database-url", &db_url]);
    oauthctl(
        &db_url,
        &[
            "user",
            "add",
            "alice",
            "--email",
            "alice@example.com",
            "--full-name",
            "Alice Liddell",
            "--password-stdin",
        ],
        Some(PASSWORD),
    )
    .ok();
    let client = oauthctl(
        &db_url,
        &[
            "client",
            "add",
            "--name",
            "Demo",
            "--redirect-uri",
            CB,
            "--scope",
            "openid profile email project",
            "--json",
        ],
        None,
    )
    .ok()
    .json();
    let client_id = client["client_id"].as_str().expect("client_id").to_owned();
    let client_secret = client["client_secret"]
        .as_str()
        .expect("client_secret")
        .to_owned();

    block_on(async {
        let browser = Browser::at(&server.base);
        let authorize = format!(
            "/api/method/frappe.integrations.oauth2.authorize?client_id={}&scope={}&response_type=code\
             &redirect_uri={}&state=xyz",
            enc(&client_id),
            enc("openid profile project"),
            enc(CB)
        );
        // Not logged in: to the login page and back.
        let first = browser.get(&authorize).await;
        assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
        assert!(
            first.location().starts_with("/login"),
            "{}",
            first.location()
        );
        let login_page = browser.get(&first.location()).await;
        assert_eq!(login_page.status, StatusCode::OK);
        assert!(login_page.body.contains("id=\"login-form\""));
        let login = browser
            .post(
                "/login",
                &[
                    ("username", "alice"),
                    ("password", PASSWORD),
                    ("csrf_token", &login_page.field("csrf_token")),
                    ("next", &authorize),
                ],
            )
            .await;
        assert_eq!(
            login.status,
            StatusCode::SEE_OTHER,
            "login failed: {}",
            login.body
        );
        assert_eq!(login.location(), authorize);
        // Consent names the client; Allow sends the code back.
        let consent = browser.get(&authorize).await;
        assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
        assert!(
            consent.body.contains("Demo") && consent.body.contains("id=\"allow\""),
            "{}",
            consent.body
        );
        let allowed = browser
            .post(
                "/oauth/authorize/decision",
                &[
                    ("csrf_token", &consent.field("csrf_token")),
                    ("consent_token", &consent.field("consent_token")),
                    ("request", &consent.field("request")),
                    ("decision", "allow"),
                ],
            )
            .await;
        assert_eq!(allowed.status, StatusCode::SEE_OTHER, "{}", allowed.body);
        let params = redirect_params(&allowed.location(), CB);
        assert_eq!(param(&params, "state"), Some("xyz"));
        let code = param(&params, "code").expect("a code").to_owned();

        // The client's back end: the seed's token request (+ its secret).
        let backend = reqwest::Client::new();
        let token = read(
            backend
                .post(format!(
                    "{}/api/method/frappe.integrations.oauth2.get_token",
                    server.base
                ))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", CB),
                    ("client_id", &client_id),
                    ("client_secret", &client_secret),
                ])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(token.status, StatusCode::OK, "{}", token.body);
        let tokens = token.json();
        assert_eq!(tokens["token_type"], "Bearer");
        assert_eq!(tokens["expires_in"], 3600);
        assert_eq!(tokens["scope"], "openid profile project");
        let access = tokens["access_token"].as_str().unwrap().to_owned();

        let info = userinfo_at(&server.base, &access).await;
        assert_eq!(info.status, StatusCode::OK, "{}", info.body);
        assert_eq!(info.json()["preferred_username"], "alice");
        assert_eq!(info.json()["name"], "Alice Liddell");
        assert!(info.json()["sub"].is_string());

        // The CLI disables alice: her token stops working at once.
        oauthctl(&db_url, &["user", "disable", "alice"], None).ok();
        let info = userinfo_at(&server.base, &access).await;
        assert_eq!(info.status, StatusCode::UNAUTHORIZED, "{}", info.body);
    });
    assert!(server.terminate().success());
}

// ---- helpers ----

/// `sqlite://DIR/x.db`.
fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("x.db").display())
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `oauth-server` in `dir`, with a clean environment.
fn server_command(dir: &Path) -> Command {
    let mut cmd = Command::new(SERVER_BIN);
    cmd.current_dir(dir).stdin(Stdio::null());
    for var in ENV_VARS {
        cmd.env_remove(var);
    }
    cmd
}

/// Sends each line of `output` to `tx`, on a thread of its own.
fn forward_lines(output: impl std::io::Read + Send + 'static, tx: mpsc::Sender<String>) {
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
}

/// Removes ANSI escape sequences (the human log format colours its lines).
pub fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A running `oauth-server` whose stderr (and stdout) is read line by line.
pub struct Server {
    child: Child,
    pub base: String,
    lines: mpsc::Receiver<String>,
    /// Every output line read so far, stderr and stdout interleaved.
    pub log: Vec<String>,
    /// Index in `log` of the "listening" line.
    startup: usize,
}

impl Server {
    /// Starts the server in `dir` on a free loopback port with `args`, and
    /// waits until it logs that it listens and answers `/healthz`.
    fn start(dir: &Path, args: &[&str]) -> Self {
        Self::start_with(dir, args, &[])
    }

    /// [`Server::start`] with extra environment variables (`RUST_LOG` is
    /// `info` unless one of them says otherwise).
    pub fn start_with(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Self {
        let server = Self::spawn_with(dir, args, envs);
        let url = format!("{}/healthz", server.base);
        block_on(async {
            let deadline = Instant::now() + STARTUP;
            loop {
                if let Ok(r) = reqwest::get(&url).await
                    && r.status() == StatusCode::OK
                {
                    break;
                }
                assert!(Instant::now() < deadline, "{url} never answered 200");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        server
    }

    /// Starts the server and waits only for the line saying it listens.
    fn spawn(dir: &Path, args: &[&str]) -> Self {
        Self::spawn_with(dir, args, &[])
    }

    fn spawn_with(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Self {
        let mut failures = Vec::new();
        // Another process may take the free port first; try a few.
        for _ in 0..5 {
            let bind = format!("127.0.0.1:{}", free_port());
            let mut child = server_command(dir)
                .args(["--bind", &bind])
                .args(args)
                .env("RUST_LOG", "info")
                .envs(envs.iter().copied())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start oauth-server");
            let (tx, lines) = mpsc::channel();
            // Nothing should go to stdout, but whatever does is read too,
            // so that a test searching the output misses nothing.
            forward_lines(child.stderr.take().unwrap(), tx.clone());
            forward_lines(child.stdout.take().unwrap(), tx);
            let mut server = Self {
                child,
                base: format!("http://{bind}"),
                lines,
                log: Vec::new(),
                startup: 0,
            };
            if let Some(at) = server.wait_for(|l| strip_ansi(l).contains("listening on"), STARTUP) {
                server.startup = at;
                return server;
            }
            let log = server.log.join("\n");
            assert!(
                log.contains("cannot listen"),
                "oauth-server did not start:\n{log}"
            );
            failures.push(log);
        }
        panic!(
            "oauth-server found no free port:\n{}",
            failures.join("\n---\n")
        );
    }

    fn startup_line(&self) -> &str {
        &self.log[self.startup]
    }

    /// Reads stderr until a line matches; its index in `log`, or `None` at
    /// the end of the output or the timeout.
    fn wait_for(&mut self, matches: impl Fn(&str) -> bool, timeout: Duration) -> Option<usize> {
        let deadline = Instant::now() + timeout;
        loop {
            let line = self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .ok()?;
            self.log.push(line);
            if matches(self.log.last().unwrap()) {
                return Some(self.log.len() - 1);
            }
        }
    }

    /// Sends SIGTERM and waits for the process to exit; the rest of its
    /// stderr is in `log` afterwards.
    pub fn terminate(&mut self) -> ExitStatus {
        let kill = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success(), "kill -TERM failed");
        let deadline = Instant::now() + SHUTDOWN;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "oauth-server still runs {SHUTDOWN:?} after SIGTERM:\n{}",
                self.log.join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.log.push(line);
        }
        status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `GET` Frappe's userinfo path with a bearer token.
async fn userinfo_at(base: &str, token: &str) -> Reply {
    let url = format!("{base}/api/method/frappe.integrations.oauth2.openid_profile");
    read(
        reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}
