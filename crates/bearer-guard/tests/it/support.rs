//! The real world the guard runs in: an `oauth-server` process over a test
//! database, clients made with `oauthctl`, tokens fetched over HTTP, and
//! the guarded app (or a fake issuer) served in process on a loopback port.
//!
//! `oauth-server` and `oauthctl` are other packages, so cargo does not hand
//! this test their binaries: they are built once per run into the same
//! target directory (see [`bins`]).

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use bearer_guard::{BearerGuard, Builder, Caller, IntrospectionVerifier, JwtVerifier};
use oauth_store::test_support::TestDb;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// Where the code flow sends users back to.
pub const CB: &str = "http://localhost:3000/oauth_code";
/// alice's password.
pub const PASSWORD: &str = "correct horse battery";
/// The resource indicator of the audience tests.
pub const API: &str = "https://api.example";
/// The challenge of every `invalid_token` refusal of a guard with the
/// default realm: one generic description, whatever the reason.
pub const INVALID_TOKEN_CHALLENGE: &str = r#"Bearer realm="api", error="invalid_token", error_description="the access token is invalid, expired or revoked""#;
/// The `resource_metadata` URL of guards that name one.
pub const METADATA: &str = "https://api.example/.well-known/oauth-protected-resource";

/// Variables the binaries read, removed so that the environment of whoever
/// runs the tests does not leak in.
const ENV_VARS: [&str; 7] = [
    "DATABASE_URL",
    "OAUTH_BIND",
    "OAUTH_ISSUER",
    "OAUTH_CONFIG",
    "OAUTH_LOG_FORMAT",
    "OAUTH_SECRET_KEY",
    "RUST_LOG",
];

/// Runs a future to completion on a fresh runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// The target directory and profile this test binary was built into.
fn profile_dir() -> PathBuf {
    // …/target/debug/deps/it-xxxx → …/target/debug
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/PROFILE/deps")
        .to_owned()
}

/// Runs `cargo build --quiet <what>` into the target directory and
/// profile this test binary was built with; returns that profile's
/// directory.
pub fn cargo_build(what: &[&str]) -> PathBuf {
    let profile = profile_dir();
    let target = profile.parent().expect("the target directory");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet"])
        .args(what)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CARGO_TARGET_DIR", target);
    match profile.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            cmd.arg("--release");
        }
        Some(other) => {
            cmd.args(["--profile", other]);
        }
    }
    let out = cmd.output().expect("run cargo build");
    assert!(
        out.status.success(),
        "cargo build {} failed:\n{}",
        what.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    profile
}

/// Builds `oauth-server` and `oauthctl` once.
fn bins() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| cargo_build(&["-p", "oauth-server", "-p", "oauthctl", "--bins"]))
}

pub fn bin(name: &str) -> PathBuf {
    bins().join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process that dies with this test: it runs under `sh`, which
/// kills it when its stdin (our end of a pipe) closes, so even a static
/// fixture that is never dropped leaves nothing running when the test
/// binary exits.
pub struct Process {
    sh: Child,
    stdin: Option<ChildStdin>,
}

impl Process {
    pub fn spawn(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(r#"prog="$1"; shift; "$prog" "$@" </dev/null & pid=$!; cat >/dev/null; kill $pid 2>/dev/null; wait $pid"#)
            .arg("sh")
            .arg(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for var in ENV_VARS {
            cmd.env_remove(var);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut sh = cmd.spawn().expect("spawn sh");
        let stdin = sh.stdin.take();
        Self { sh, stdin }
    }

    /// Stops the process and waits until it is gone.
    pub fn stop(&mut self) {
        drop(self.stdin.take());
        let _ = self.sh.wait();
    }

    pub fn exited(&mut self) -> bool {
        matches!(self.sh.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Polls `url` until it answers 200, or panics after `timeout`.
pub async fn wait_ready(url: &str, process: &mut Process, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let http = reqwest::Client::new();
    loop {
        if let Ok(r) = http.get(url).send().await
            && r.status() == StatusCode::OK
        {
            return;
        }
        assert!(!process.exited(), "{url}: the process exited");
        assert!(Instant::now() < deadline, "{url} never answered 200");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A running `oauth-server` over a test database.
pub struct Issuer {
    pub base: String,
    pub db_url: String,
    process: Process,
}

impl Issuer {
    pub fn start(db_url: &str) -> Self {
        let port = free_port();
        let bind = format!("127.0.0.1:{port}");
        let base = format!("http://{bind}");
        let mut process = Process::spawn(
            &bin("oauth-server"),
            &["--bind", &bind, "--database-url", db_url, "--issuer", &base],
            &[(
                "OAUTH_SECRET_KEY",
                "bearer-guard-tests-secret-key-0123456789",
            )],
        );
        // Fixtures are set up from inside tests' runtimes: wait on another
        // thread, which may start its own.
        std::thread::scope(|s| {
            s.spawn(|| {
                block_on(wait_ready(
                    &format!("{base}/readyz"),
                    &mut process,
                    Duration::from_secs(30),
                ));
            })
            .join()
            .unwrap();
        });
        Self {
            base,
            db_url: db_url.to_owned(),
            process,
        }
    }

    /// Kills the server: from now on its port refuses connections.
    pub fn kill(&mut self) {
        self.process.stop();
    }
}

/// Runs `oauthctl --database-url URL ARGS…` and returns its JSON output.
pub fn oauthctl(db_url: &str, args: &[&str], stdin: Option<&str>) -> serde_json::Value {
    let mut cmd = Command::new(bin("oauthctl"));
    cmd.arg("--database-url").arg(db_url).args(args);
    for var in ENV_VARS {
        cmd.env_remove(var);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "oauthctl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null)
}

/// A client registered with `oauthctl`.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub secret: String,
}

fn add_client(db_url: &str, args: &[&str]) -> Client {
    let mut all = vec!["client", "add", "--json"];
    all.extend_from_slice(args);
    let json = oauthctl(db_url, &all, None);
    Client {
        id: json["client_id"].as_str().expect("client_id").to_owned(),
        secret: json["client_secret"]
            .as_str()
            .expect("client_secret")
            .to_owned(),
    }
}

/// A server and the clients the tests use.
pub struct Fixture {
    pub issuer: Issuer,
    /// The resource server's own confidential client, for introspection.
    pub rs: Client,
    /// Client credentials, scopes `project reports`, opaque tokens.
    pub app: Client,
    /// Client credentials without `project`.
    pub other: Client,
    /// Client credentials and the code flow, JWT access tokens.
    pub jwt_app: Client,
    /// The code flow for alice, opaque tokens, no consent page.
    pub web: Client,
}

impl Fixture {
    pub fn start(db_url: &str) -> Self {
        let issuer = Issuer::start(db_url);
        for user in ["alice", "bob"] {
            let email = format!("{user}@example.com");
            oauthctl(
                db_url,
                &["user", "add", user, "--email", &email, "--password-stdin"],
                Some(PASSWORD),
            );
        }
        let cc = ["--grant-type", "client_credentials"];
        let rs = add_client(
            db_url,
            &[
                &["--name", "resource server"][..],
                &cc,
                &["--scope", "project"],
            ]
            .concat(),
        );
        let app = add_client(
            db_url,
            &[&["--name", "app"][..], &cc, &["--scope", "project reports"]].concat(),
        );
        let other = add_client(
            db_url,
            &[&["--name", "other"][..], &cc, &["--scope", "reports"]].concat(),
        );
        let code = [
            "--grant-type",
            "authorization_code,refresh_token,client_credentials",
            "--redirect-uri",
            CB,
            "--skip-authorization",
            "--scope",
            "openid profile project",
        ];
        let jwt_app = add_client(
            db_url,
            &[
                &["--name", "jwt app", "--access-token-format", "jwt"][..],
                &code,
            ]
            .concat(),
        );
        let web = add_client(db_url, &[&["--name", "web"][..], &code].concat());
        Self {
            issuer,
            rs,
            app,
            other,
            jwt_app,
            web,
        }
    }

    /// The fixture most tests share: one server on SQLite for the whole
    /// run (the server's backend does not matter to introspection and JWT
    /// modes).
    pub fn shared() -> &'static Fixture {
        static SHARED: OnceLock<(TestDb, Fixture)> = OnceLock::new();
        let (_, fx) = SHARED.get_or_init(|| {
            let db = TestDb::sqlite();
            let fx = Fixture::start(db.url());
            (db, fx)
        });
        fx
    }

    pub fn base(&self) -> &str {
        &self.issuer.base
    }

    /// `POST /oauth/token` with client_secret_basic; the JSON answer.
    pub async fn token(&self, client: &Client, form: &[(&str, &str)]) -> serde_json::Value {
        let reply = read(
            reqwest::Client::new()
                .post(format!("{}/oauth/token", self.base()))
                .basic_auth(&client.id, Some(&client.secret))
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "token request {form:?}: {}",
            reply.body
        );
        reply.json()
    }

    /// A client-credentials access token.
    pub async fn cc_token(&self, client: &Client) -> String {
        access(
            &self
                .token(client, &[("grant_type", "client_credentials")])
                .await,
        )
    }

    /// alice's tokens from the code flow (`scope` asked for).
    pub async fn user_tokens(&self, client: &Client, scope: &str) -> serde_json::Value {
        self.user_tokens_as("alice", client, scope).await
    }

    /// `username`'s tokens from the code flow (`scope` asked for).
    pub async fn user_tokens_as(
        &self,
        username: &str,
        client: &Client,
        scope: &str,
    ) -> serde_json::Value {
        let browser = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let verifier = oauth_core::CodeVerifier::generate(&mut rand::rng());
        let challenge = oauth_core::CodeChallenge::s256_of(&verifier);
        let path = format!(
            "/oauth/authorize?client_id={}&response_type=code&redirect_uri={}&scope={}&state=s\
             &nonce=n&code_challenge={}&code_challenge_method=S256",
            enc(&client.id),
            enc(CB),
            enc(scope),
            challenge.as_str()
        );
        let get = |p: String| {
            let browser = browser.clone();
            let base = self.base().to_owned();
            async move { read(browser.get(format!("{base}{p}")).send().await.unwrap()).await }
        };
        let first = get(path.clone()).await;
        assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
        let page = get(format!("/login?next={}", enc(&path))).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let csrf = field(&page.body, "csrf_token").expect("a csrf_token field");
        let login = read(
            browser
                .post(format!("{}/login", self.base()))
                .form(&[
                    ("username", username),
                    ("password", PASSWORD),
                    ("csrf_token", &csrf),
                    ("next", &path),
                ])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(login.status, StatusCode::SEE_OTHER, "login: {}", login.body);
        let back = get(path).await;
        assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
        let location = back.header("location").unwrap();
        let query = location
            .strip_prefix(&format!("{CB}?"))
            .unwrap_or_else(|| panic!("not back at the client: {location}"));
        let code = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no code: {location}"));
        self.token(
            client,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CB),
                ("code_verifier", verifier.expose_secret()),
            ],
        )
        .await
    }

    /// Revokes a token at the issuer (RFC 7009), as the client it was
    /// issued to.
    pub async fn revoke(&self, client: &Client, token: &str) {
        let reply = read(
            reqwest::Client::new()
                .post(format!("{}/oauth/revoke", self.base()))
                .basic_auth(&client.id, Some(&client.secret))
                .form(&[("token", token)])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "revoke: {}", reply.body);
    }

    /// An introspection verifier as the resource server.
    pub fn introspection(&self) -> IntrospectionVerifier {
        IntrospectionVerifier::new(self.base(), &self.rs.id, &self.rs.secret).unwrap()
    }

    /// A guard builder for `mode` against this fixture's server.
    pub fn builder(&self, mode: Mode, db: Option<&TestDb>) -> Builder {
        match mode {
            Mode::Introspection => BearerGuard::builder(self.introspection()),
            Mode::Jwt => BearerGuard::builder(JwtVerifier::new(self.base()).unwrap()),
            Mode::Database => BearerGuard::builder(bearer_guard::DatabaseVerifier::new(
                db.expect("database mode needs the TestDb").db().clone(),
            )),
        }
    }
}

/// How the guard checks tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Introspection,
    Jwt,
    Database,
}

pub fn access(tokens: &serde_json::Value) -> String {
    tokens["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token in {tokens}"))
        .to_owned()
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The value attribute of the input named `name`, HTML-unescaped enough
/// for tokens.
fn field(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let v = tag.find("value=\"")? + 7;
    let close = tag[v..].find('"')? + v;
    Some(tag[v..close].replace("&amp;", "&"))
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// The `WWW-Authenticate` challenge (panics if there is none).
    pub fn challenge(&self) -> String {
        self.header("www-authenticate")
            .unwrap_or_else(|| panic!("no WWW-Authenticate; {} {}", self.status, self.body))
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
}

pub async fn read(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.text().await.unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

/// An actix app served in process on a loopback port, stopped on drop.
pub struct Served {
    pub base: String,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Served {
    /// Serves the routes `configure` mounts.
    pub fn start(configure: impl Fn(&mut web::ServiceConfig) + Send + Clone + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || App::new().configure(configure.clone()))
                    .workers(2)
                    .disable_signals()
                    .listen(listener)
                    .unwrap()
                    .run();
                tx.send(server.handle()).unwrap();
                server.await.unwrap();
            });
        });
        let handle = rx.recv().unwrap();
        Self {
            base,
            handle,
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(handle.stop(false));
        })
        .join()
        .ok();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What the echo handlers answer: the caller as the handler sees it.
pub fn caller_json(caller: &Caller) -> serde_json::Value {
    let mut scopes: Vec<&str> = caller.scopes().iter().map(|s| s.as_str()).collect();
    scopes.sort_unstable();
    serde_json::json!({
        "subject": caller.subject(),
        "username": caller.username(),
        "client_id": caller.client_id(),
        "scopes": scopes,
        "audience": caller.audience(),
        "expires_at": caller.expires_at().map(|t| t.unix()),
        "is_user": caller.is_user(),
    })
}

async fn echo(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(caller_json(&caller))
}

/// Echoes the caller and the form body the handler still received.
async fn echo_form(caller: Caller, body: web::Bytes) -> HttpResponse {
    let mut json = caller_json(&caller);
    json["body"] = String::from_utf8_lossy(&body).into_owned().into();
    HttpResponse::Ok().json(json)
}

/// The guarded test app:
///
/// - `GET /any`: any valid token
/// - `GET /project`: `require_scope("project")`
/// - `GET /all`: `require_all(["project", "reports"])`
/// - `GET /all-files`: `require_all(["project", "files"])`
/// - `GET /any-of`: `require_any(["files", "project"])`
/// - `GET /none-of`: `require_any(["files", "admin"])`
/// - `GET|POST /form`: any valid token; echoes the body too
pub fn guarded(guard: BearerGuard) -> Served {
    Served::start(move |cfg| {
        let g = &guard;
        cfg.service(
            web::resource("/any")
                .wrap(g.clone())
                .route(web::get().to(echo)),
        )
        .service(
            web::resource("/project")
                .wrap(g.require_scope("project"))
                .route(web::get().to(echo)),
        )
        .service(
            web::resource("/all")
                .wrap(g.require_all(["project", "reports"]))
                .route(web::get().to(echo)),
        )
        .service(
            web::resource("/all-files")
                .wrap(g.require_all(["project", "files"]))
                .route(web::get().to(echo)),
        )
        .service(
            web::resource("/any-of")
                .wrap(g.require_any(["files", "project"]))
                .route(web::get().to(echo)),
        )
        .service(
            web::resource("/none-of")
                .wrap(g.require_any(["files", "admin"]))
                .route(web::get().to(echo)),
        )
        .service(
            web::resource("/form")
                .wrap(g.clone())
                .route(web::post().to(echo_form))
                .route(web::get().to(echo_form)),
        );
    })
}

/// `GET url` with `Authorization: Bearer token`.
pub async fn get_with(url: &str, token: &str) -> Reply {
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

/// `GET url` with no credentials.
pub async fn get(url: &str) -> Reply {
    read(reqwest::get(url).await.unwrap()).await
}

/// A verifier that counts its calls and delegates, to see how often the
/// guard reaches upstream.
pub struct Counting<V> {
    pub inner: V,
    pub calls: Arc<Mutex<u32>>,
}

impl<V> Counting<V> {
    pub fn new(inner: V) -> (Self, Arc<Mutex<u32>>) {
        let calls = Arc::new(Mutex::new(0));
        (
            Self {
                inner,
                calls: Arc::clone(&calls),
            },
            calls,
        )
    }
}

impl<V: bearer_guard::TokenVerifier> bearer_guard::TokenVerifier for Counting<V> {
    fn verify<'a>(
        &'a self,
        token: &'a str,
    ) -> bearer_guard::BoxFuture<'a, Result<bearer_guard::TokenInfo, bearer_guard::VerifyError>>
    {
        *self.calls.lock().unwrap() += 1;
        self.inner.verify(token)
    }
}

/// Asserts an RFC 6750 `invalid_token` answer and returns its challenge.
pub fn assert_invalid_token(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    let challenge = reply.challenge();
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains("error=\"invalid_token\""),
        "{challenge}"
    );
    assert_eq!(reply.json()["error"], "invalid_token");
    challenge
}

/// Asserts a 400 `invalid_request`.
pub fn assert_invalid_request(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(
        reply.challenge().contains("error=\"invalid_request\""),
        "{}",
        reply.challenge()
    );
    assert_eq!(reply.json()["error"], "invalid_request");
}

/// Asserts a 503 with `Retry-After`, never a pass.
pub fn assert_unavailable(reply: &Reply) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    let retry = reply.header("retry-after").expect("a Retry-After header");
    assert!(retry.parse::<u64>().is_ok_and(|s| s >= 1), "{retry}");
}
