//! The test harness: a real server on a loopback port over a fresh
//! database, a cookie-keeping HTTP client that acts as the browser, and
//! builders for users and clients.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

use actix_web::dev::ServerHandle;
use actix_web::{HttpServer, web};
use oauth_core::authorize::ConsentMode;
use oauth_core::{
    Client, ClientMetadata, Email, FullName, GrantType, Password, PasswordHash, RedirectUri, Role,
    ScopeSet, Timestamp, TokenEndpointAuthMethod, User, UserId, Username,
};
use oauth_server::config::{Config, Lifetimes, LogFormat};
use oauth_server::keyring::KeyRing;
use oauth_server::state::AppState;
use oauth_server::templates::Templates;
use oauth_store::secret::SecretSource;
use oauth_store::secret::ServerSecret;
use oauth_store::test_support::TestDb;
use oauth_store::{clients, users};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION};

/// The redirect URI every test client registers.
pub const CB: &str = "http://localhost:3000/oauth_code";
/// The password every test user has.
pub const PASSWORD: &str = "correct horse battery";

/// Runs a test body on a fresh runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A running server.
pub struct TestServer {
    pub base: String,
    pub db: oauth_store::Db,
    handle: ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Seconds added to the system clock, for expiry tests.
    offset: Arc<AtomicI64>,
}

impl TestServer {
    pub fn start(t: &TestDb) -> Self {
        Self::start_with(t, |_| {})
    }

    /// Starts a server, letting the test adjust its configuration.
    pub fn start_with(t: &TestDb, tweak: impl FnOnce(&mut Config)) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = Config {
            bind: addr,
            database_url: t.url().to_owned(),
            issuer: format!("http://{addr}"),
            log_format: LogFormat::Human,
            lifetimes: Lifetimes::default(),
            consent_mode: ConsentMode::Force,
            templates_dir: None::<PathBuf>,
            secret: SecretSource::Given("test secret that is long enough for the rule".into()),
            registration: oauth_server::config::Registration::default(),
            signing_alg: oauth_core::jose::SigningAlg::Rs256,
            abuse: oauth_server::config::Abuse::default(),
        };
        tweak(&mut config);
        let secret = ServerSecret::load(&config.secret).unwrap();
        let key = actix_web::cookie::Key::from(&secret.session_key());
        let templates = Templates::load(config.templates_dir.as_deref()).unwrap();
        let offset = Arc::new(AtomicI64::new(0));
        let clock_offset = offset.clone();
        let state = web::Data::new(
            AppState::new(config, t.db().clone(), templates, KeyRing::new(secret)).with_clock(
                Arc::new(move || {
                    let now = Timestamp::from_system(SystemTime::now());
                    Timestamp::from_unix(now.unix() + clock_offset.load(Ordering::SeqCst))
                }),
            ),
        );
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let alg = state.config.signing_alg;
                state.keys.ensure_active(&state, alg).await.unwrap();
                let server =
                    HttpServer::new(move || oauth_server::app::app(state.clone(), key.clone()))
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
            base: format!("http://{addr}"),
            db: t.db().clone(),
            handle,
            thread: Some(thread),
            offset,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The issuer, as the server names itself.
    pub fn issuer(&self) -> &str {
        &self.base
    }

    /// Moves the server's clock forward.
    pub fn advance(&self, by: Duration) {
        self.offset
            .fetch_add(i64::try_from(by.as_secs()).unwrap(), Ordering::SeqCst);
    }

    pub fn browser(&self) -> Browser {
        Browser::at(&self.base)
    }

    /// A client without cookies, as a client application's back end.
    pub fn backend(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    // ---- fixtures ----

    pub fn user(&self, username: &str) -> User {
        self.user_with(username, |_| {})
    }

    pub fn user_with(&self, username: &str, tweak: impl FnOnce(&mut User)) -> User {
        create_user(&self.db, username, tweak)
    }

    /// A confidential `client_secret_basic` client with the test redirect
    /// URI and scopes `openid profile email project`.
    pub fn client(&self) -> TestClient {
        self.client_with(|_| {})
    }

    pub fn client_with(&self, tweak: impl FnOnce(&mut ClientMetadata)) -> TestClient {
        let mut rng = rand::rng();
        let mut metadata = ClientMetadata::new(
            "Demo App",
            vec![RedirectUri::parse(CB).unwrap()],
            ScopeSet::parse("openid profile email project").unwrap(),
        );
        tweak(&mut metadata);
        let metadata = metadata.validate().unwrap();
        let (client, secret) = Client::create(
            metadata,
            &mut rng,
            Timestamp::from_system(SystemTime::now()),
        );
        clients::create(&mut self.db.conn().unwrap(), &client).unwrap();
        TestClient {
            id: client.id.to_string(),
            secret: secret.map(|s| s.expose_secret().to_owned()),
            client,
        }
    }

    /// A public client (no secret; PKCE required).
    pub fn public_client(&self) -> TestClient {
        self.client_with(|m| m.token_endpoint_auth_method = TokenEndpointAuthMethod::None)
    }

    /// A client that may also use client credentials.
    pub fn service_client(&self) -> TestClient {
        self.client_with(|m| m.grant_types.push(GrantType::ClientCredentials))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        // Stop without waiting for keep-alive connections.
        let _ = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(handle.stop(false));
        })
        .join();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Stores a user with [`PASSWORD`], for a server started by [`TestServer`]
/// or a process over the same database.
pub fn create_user(db: &oauth_store::Db, username: &str, tweak: impl FnOnce(&mut User)) -> User {
    let mut rng = rand::rng();
    let now = Timestamp::from_system(SystemTime::now());
    let mut user = User {
        id: UserId::generate(&mut rng),
        username: Username::parse(username).unwrap(),
        email: Some(Email::parse(&format!("{username}@example.com")).unwrap()),
        email_verified: false,
        full_name: Some(FullName::parse("Alice Liddell").unwrap()),
        picture: None,
        roles: vec![Role::parse("Projects User").unwrap()],
        enabled: true,
        password_hash: PasswordHash::hash(&Password::new(PASSWORD).unwrap(), &mut rng),
        created_at: now,
        updated_at: now,
    };
    tweak(&mut user);
    users::create(&mut db.conn().unwrap(), &user).unwrap();
    user
}

/// A registered client and its secret.
pub struct TestClient {
    pub id: String,
    pub secret: Option<String>,
    pub client: Client,
}

impl TestClient {
    /// The authorization request query for this client, with `extra`
    /// parameters appended as given (already encoded).
    pub fn authorize_query(&self, extra: &str) -> String {
        let mut q = format!(
            "client_id={}&response_type=code&redirect_uri={}",
            enc(&self.id),
            enc(CB)
        );
        if !extra.is_empty() {
            q.push('&');
            q.push_str(extra);
        }
        q
    }

    /// Form fields authenticating this client in the body.
    pub fn body_auth(&self) -> Vec<(String, String)> {
        let mut v = vec![("client_id".to_owned(), self.id.clone())];
        if let Some(s) = &self.secret {
            v.push(("client_secret".to_owned(), s.clone()));
        }
        v
    }
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A browser: keeps cookies, does not follow redirects.
pub struct Browser {
    pub http: reqwest::Client,
    base: String,
    jar: Arc<reqwest::cookie::Jar>,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn location(&self) -> String {
        self.headers
            .get(LOCATION)
            .unwrap_or_else(|| panic!("no Location; status {} body {}", self.status, self.body))
            .to_str()
            .unwrap()
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The value of a hidden (or any) input named `name`, unescaped.
    pub fn field(&self, name: &str) -> String {
        field(&self.body, name).unwrap_or_else(|| panic!("no field {name} in {}", self.body))
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

impl Browser {
    /// A browser for a server at `base` (one not started by [`TestServer`]).
    pub fn at(base: &str) -> Self {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        Self {
            http: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
            jar,
        }
    }

    /// The `Cookie` header this browser would send now, to replay later
    /// from another client (a copied or stolen cookie).
    pub fn cookie_header(&self) -> String {
        use reqwest::cookie::CookieStore as _;
        let url = reqwest::Url::parse(&self.base).unwrap();
        self.jar
            .cookies(&url)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    fn abs(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        read(self.http.get(self.abs(path)).send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        read(
            self.http
                .post(self.abs(path))
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Logs in through the login page; returns the login POST's reply.
    pub async fn login(&self, username: &str, password: &str, next: &str) -> Reply {
        let page = self.get(&format!("/login?next={}", enc(next))).await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = page.field("csrf_token");
        self.post(
            "/login",
            &[
                ("username", username),
                ("password", password),
                ("csrf_token", &csrf),
                ("next", next),
            ],
        )
        .await
    }

    /// Answers a consent page with `allow` or `deny`.
    pub async fn decide(&self, consent: &Reply, decision: &str) -> Reply {
        assert!(
            consent.body.contains("id=\"allow\""),
            "not a consent page: {} {}",
            consent.status,
            consent.body
        );
        self.post(
            "/oauth/authorize/decision",
            &[
                ("csrf_token", &consent.field("csrf_token")),
                ("consent_token", &consent.field("consent_token")),
                ("request", &consent.field("request")),
                ("decision", decision),
            ],
        )
        .await
    }

    /// Logs in (if needed) and approves: the whole front channel of the
    /// code flow. Returns the final redirect's query parameters.
    pub async fn authorize_and_allow(
        &self,
        path: &str,
        query: &str,
        username: &str,
    ) -> Vec<(String, String)> {
        let mut reply = self.get(&format!("{path}?{query}")).await;
        if reply.status == StatusCode::SEE_OTHER && reply.location().starts_with("/login") {
            let next = format!("{path}?{query}");
            let login = self.login(username, PASSWORD, &next).await;
            assert_eq!(
                login.status,
                StatusCode::SEE_OTHER,
                "login failed: {}",
                login.body
            );
            assert_eq!(login.location(), next);
            reply = self.get(&next).await;
        }
        if reply.status == StatusCode::OK {
            reply = self.decide(&reply, "allow").await;
        }
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        redirect_params(&reply.location(), CB)
    }
}

/// The query parameters of a redirect to `expected_base`.
pub fn redirect_params(location: &str, expected_base: &str) -> Vec<(String, String)> {
    let (base, query) = location.split_once('?').unwrap_or((location, ""));
    assert_eq!(
        base, expected_base,
        "redirected to the wrong place: {location}"
    );
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// One parameter of a list.
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The value attribute of the input named `name`, HTML-unescaped.
pub fn field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"");
    let at = html.find(&marker)?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let v = tag.find("value=\"")? + 7;
    let end = tag[v..].find('"')? + v;
    Some(unescape(&tag[v..end]))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2F;", "/")
        .replace("&amp;", "&")
}

/// Exchanges a code at the token endpoint with HTTP Basic.
pub async fn exchange_code(
    app: &TestServer,
    client: &TestClient,
    code: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CB),
    ];
    form.extend_from_slice(extra);
    let mut req = app.backend().post(app.url("/oauth/token")).form(&form);
    if let Some(secret) = &client.secret {
        req = req.basic_auth(enc(&client.id), Some(enc(secret)));
    } else {
        let mut form = form.clone();
        form.push(("client_id", &client.id));
        req = app.backend().post(app.url("/oauth/token")).form(&form);
    }
    read(req.send().await.unwrap()).await
}

/// Posts a form to the token endpoint with HTTP Basic for `client`.
pub async fn token_request(app: &TestServer, client: &TestClient, form: &[(&str, &str)]) -> Reply {
    let mut req = app.backend().post(app.url("/oauth/token")).form(form);
    match &client.secret {
        Some(secret) => req = req.basic_auth(enc(&client.id), Some(enc(secret))),
        None => {
            let mut form = form.to_vec();
            form.push(("client_id", &client.id));
            req = app.backend().post(app.url("/oauth/token")).form(&form);
        }
    }
    read(req.send().await.unwrap()).await
}

/// Runs the code flow for `client` and `username` (who must exist) and
/// returns the token response JSON.
pub async fn tokens_for(
    app: &TestServer,
    client: &TestClient,
    username: &str,
    scope: &str,
) -> serde_json::Value {
    let browser = app.browser();
    let query = client.authorize_query(&format!("scope={}&state=s", enc(scope)));
    let params = browser
        .authorize_and_allow("/oauth/authorize", &query, username)
        .await;
    let code = param(&params, "code").expect("a code").to_owned();
    let reply = exchange_code(app, client, &code, &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()
}

/// GET userinfo with a bearer token.
pub async fn userinfo(app: &TestServer, token: &str) -> Reply {
    read(
        app.backend()
            .get(app.url("/oauth/userinfo"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The `oauth-server` binary of this package.
pub const SERVER_BIN: &str = env!("CARGO_BIN_EXE_oauth-server");

/// Variables the binaries read, removed when they are run so that the
/// environment of whoever runs the tests does not leak in.
pub const ENV_VARS: [&str; 7] = [
    "DATABASE_URL",
    "OAUTH_BIND",
    "OAUTH_ISSUER",
    "OAUTH_CONFIG",
    "OAUTH_LOG_FORMAT",
    "OAUTH_SECRET_KEY",
    "RUST_LOG",
];

/// The `oauthctl` binary. Cargo hands an integration test only the
/// binaries of its own package, and `oauthctl` is another package, so it
/// is built once per run into the same target directory and profile.
pub fn oauthctl_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let profile_dir = Path::new(SERVER_BIN)
            .parent()
            .expect("the binary's directory");
        let target_dir = profile_dir.parent().expect("the target directory");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "-p", "oauthctl", "--bin", "oauthctl"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("CARGO_TARGET_DIR", target_dir);
        match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => {}
            Some("release") => {
                cmd.arg("--release");
            }
            Some(profile) => {
                cmd.args(["--profile", profile]);
            }
        }
        let out = cmd.output().expect("run cargo build -p oauthctl");
        assert!(
            out.status.success(),
            "cargo build -p oauthctl failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bin = profile_dir.join(format!("oauthctl{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.is_file(), "no oauthctl at {}", bin.display());
        bin
    })
}

/// One `oauthctl` run.
pub struct CliRun {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl CliRun {
    pub fn ok(self) -> Self {
        assert!(
            self.status.success(),
            "oauthctl failed ({}): {}",
            self.status,
            self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// Runs `oauthctl --database-url URL ARGS…`, with `stdin` as its input.
pub fn oauthctl(db_url: &str, args: &[&str], stdin: Option<&str>) -> CliRun {
    let mut cmd = Command::new(oauthctl_bin());
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
    CliRun {
        status: out.status,
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A fresh PKCE verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = oauth_core::CodeVerifier::generate(&mut rand::rng());
    let challenge = oauth_core::CodeChallenge::s256_of(&verifier);
    (
        verifier.expose_secret().to_owned(),
        challenge.as_str().to_owned(),
    )
}

/// The decoded JSON of part `i` (0 header, 1 payload) of a compact JWS.
/// Decoding only: verification is for the server or an independent library.
pub fn jwt_part(jwt: &str, i: usize) -> serde_json::Value {
    use base64::Engine as _;
    let part = jwt.split('.').nth(i).expect("a compact JWS");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// Runs the code flow's front channel as alice and returns the code.
pub async fn code_for(app: &TestServer, client: &TestClient, extra: &str) -> String {
    let params = app
        .browser()
        .authorize_and_allow("/oauth/authorize", &client.authorize_query(extra), "alice")
        .await;
    param(&params, "code").expect("a code").to_owned()
}

/// POSTs a form to a path (or an absolute URL) without client
/// authentication.
pub async fn post_anonymous(app: &TestServer, path_or_url: &str, form: &[(&str, &str)]) -> Reply {
    let url = if path_or_url.starts_with("http") {
        path_or_url.to_owned()
    } else {
        app.url(path_or_url)
    };
    read(app.backend().post(url).form(form).send().await.unwrap()).await
}

/// A browser logged in as `username` (with [`PASSWORD`]).
pub async fn logged_in(app: &TestServer, username: &str) -> Browser {
    let browser = app.browser();
    let reply = browser.login(username, PASSWORD, "/").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    browser
}

/// Follows an authorize request that must redirect to the client with an
/// error; returns the redirect's parameters.
pub async fn redirected_error(browser: &Browser, query: &str) -> Vec<(String, String)> {
    let reply = browser.get(&format!("/oauth/authorize?{query}")).await;
    assert_eq!(
        reply.status,
        StatusCode::SEE_OTHER,
        "{query}: {}",
        reply.body
    );
    let params = redirect_params(&reply.location(), CB);
    assert!(
        param(&params, "error").is_some(),
        "{query}: no error in {params:?}"
    );
    params
}
