//! The end-to-end test in a real browser: the `oauth-server` binary, a
//! user and a client made with the `oauthctl` binary, and headless Chromium
//! driven over WebDriver through the login page and the consent dialog, to
//! a small capture server standing in for the client application.
//!
//! Ignored by default: it needs Debian's `chromium` and `chromium-driver`.
//! `cargo xtask e2e` runs it. Every byte goes to 127.0.0.1.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use oauth_store::test_support::TestDb;

use crate::support::oauthctl;
use reqwest::StatusCode;
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const PASSWORD: &str = "correct horse battery staple";
const SECRET_KEY: &str = "browser end-to-end test secret, long enough";
/// How long any one step (a page load, a redirect) may take.
const STEP: Duration = Duration::from_secs(30);

#[test]
#[ignore = "needs Chromium; run with cargo xtask e2e"]
fn a_user_signs_in_allows_then_denies_in_chromium() {
    for tool in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is missing: apt-get install chromium chromium-driver"
        );
    }
    let db = TestDb::sqlite();
    let work = tempfile::tempdir().expect("create a temporary directory");
    let capture = CaptureServer::start();
    let server = start_server(db.url(), work.path());
    let redirect_uri = format!("http://{}/oauth_code", capture.addr);

    oauthctl(
        db.url(),
        &[
            "user",
            "add",
            "alice",
            "--full-name",
            "Alice Liddell",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    )
    .ok();
    let client: Value = oauthctl(
        db.url(),
        &[
            "client",
            "add",
            "--name",
            "Demo App",
            "--redirect-uri",
            &redirect_uri,
            "--scope",
            "openid profile project",
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

    let driver = Chromedriver::start(work.path());
    let flow = Flow {
        server: server.base.clone(),
        capture: capture.requests.clone(),
        capture_base: format!("http://{}", capture.addr),
        redirect_uri,
        client_id,
        client_secret,
        profile_dir: work.path().join("chromium-profile"),
        webdriver: format!("http://127.0.0.1:{}", driver.port),
    };
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(flow.run());
    // The guards end chromedriver (and with it Chromium), the server and
    // the capture server as they go out of scope, on a panic too.
}

/// What the browser part of the test needs, owned, so it can run as a task.
struct Flow {
    server: String,
    capture: Captured,
    capture_base: String,
    redirect_uri: String,
    client_id: String,
    client_secret: String,
    profile_dir: PathBuf,
    webdriver: String,
}

impl Flow {
    async fn run(self) {
        let browser = connect(&self.webdriver, &self.profile_dir).await;
        // The steps run as a task so that a failed assertion still lets us
        // quit the WebDriver session before the panic goes on.
        let outcome = tokio::spawn(self.steps(browser.clone())).await;
        if let Err(e) = browser.close().await {
            eprintln!("closing the WebDriver session: {e}");
        }
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    }

    fn authorize_url(&self, state: &str) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!(
            "{}/oauth/authorize?client_id={}&response_type=code&scope=openid%20profile%20project\
             &redirect_uri={}&state={}",
            self.server,
            enc(&self.client_id),
            enc(&self.redirect_uri),
            enc(state),
        )
    }

    async fn steps(self, browser: Client) {
        browser
            .set_window_size(1280, 900)
            .await
            .expect("set the window size");

        // Not signed in: authorize sends the browser to the login page.
        browser
            .goto(&self.authorize_url("e2e-state"))
            .await
            .expect("open the authorize URL");
        let form = wait_for(&browser, "#login-form").await;
        form.find(Locator::Css("#username"))
            .await
            .expect("#username in #login-form")
            .send_keys("alice")
            .await
            .expect("type the username");
        form.find(Locator::Css("#password"))
            .await
            .expect("#password in #login-form")
            .send_keys(PASSWORD)
            .await
            .expect("type the password");
        form.find(Locator::Css("#sign-in"))
            .await
            .expect("#sign-in in #login-form")
            .click()
            .await
            .expect("click Sign in");

        // Back to authorize, which now asks for consent.
        let allow = wait_for(&browser, "#allow").await;
        let client_name = browser
            .find(Locator::Css(".client-name"))
            .await
            .expect("the consent page names the client")
            .text()
            .await
            .expect("client name text");
        assert_eq!(client_name.trim(), "Demo App");
        let mut scopes = Vec::new();
        for scope in browser
            .find_all(Locator::Css(".scope-name"))
            .await
            .expect("scope names")
        {
            scopes.push(scope.text().await.expect("scope text").trim().to_owned());
        }
        assert!(
            scopes.iter().any(|s| s == "project"),
            "the consent page lists scope project, got {scopes:?}"
        );
        let body = browser
            .find(Locator::Css("body"))
            .await
            .expect("body")
            .text()
            .await
            .expect("body text");
        assert!(body.contains("Demo App"), "consent page text: {body}");
        assert!(
            body.contains("Allow") && body.contains("Deny"),
            "consent page text: {body}"
        );

        let png = browser.screenshot().await.expect("take a screenshot");
        let shot = std::env::temp_dir().join("oauth-server-e2e-consent.png");
        std::fs::write(&shot, png).expect("save the screenshot");
        // Straight to stderr, past the test harness's capture, so the path
        // shows on a passing run too.
        let _ = writeln!(
            std::io::stderr(),
            "consent page screenshot: {}",
            shot.display()
        );

        // Allow: the browser lands on the client's redirect URI with a code.
        let seen = self.capture.len();
        allow.click().await.expect("click Allow");
        let query = self.capture.wait_for("/oauth_code", seen).await;
        self.browser_ended_on_capture(&browser).await;
        assert_eq!(
            query.get("state").map(String::as_str),
            Some("e2e-state"),
            "{query:?}"
        );
        assert_eq!(
            query.get("iss").map(String::as_str),
            Some(self.server.as_str()),
            "{query:?}"
        );
        let code = query.get("code").expect("a code on the redirect").clone();

        // The client application's back end: code → tokens → userinfo.
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        let res = http
            .post(format!("{}/oauth/token", self.server))
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", self.redirect_uri.as_str()),
                ("client_id", self.client_id.as_str()),
            ])
            .send()
            .await
            .expect("POST /oauth/token");
        let status = res.status();
        let tokens: Value = res.json().await.expect("token response JSON");
        assert_eq!(status, StatusCode::OK, "{tokens}");
        let access = tokens["access_token"].as_str().expect("access_token");
        assert!(tokens["refresh_token"].is_string(), "{tokens}");
        assert_eq!(tokens["token_type"], "Bearer", "{tokens}");

        let res = http
            .get(format!("{}/oauth/userinfo", self.server))
            .bearer_auth(access)
            .send()
            .await
            .expect("GET /oauth/userinfo");
        let status = res.status();
        let info: Value = res.json().await.expect("userinfo JSON");
        assert_eq!(status, StatusCode::OK, "{info}");
        assert!(
            info["sub"].as_str().is_some_and(|s| !s.is_empty()),
            "{info}"
        );
        assert_eq!(info["name"], "Alice Liddell", "{info}");

        // Again, still signed in: straight to consent, and Deny.
        browser
            .goto(&self.authorize_url("e2e-state-deny"))
            .await
            .expect("open the authorize URL again");
        let deny = wait_for(&browser, "#deny").await;
        assert!(
            browser.find(Locator::Css("#login-form")).await.is_err(),
            "a signed-in user is not asked to sign in again"
        );
        let seen = self.capture.len();
        deny.click().await.expect("click Deny");
        let query = self.capture.wait_for("/oauth_code", seen).await;
        self.browser_ended_on_capture(&browser).await;
        assert_eq!(
            query.get("error").map(String::as_str),
            Some("access_denied"),
            "{query:?}"
        );
        assert_eq!(
            query.get("state").map(String::as_str),
            Some("e2e-state-deny"),
            "{query:?}"
        );
        assert!(!query.contains_key("code"), "{query:?}");
    }

    async fn browser_ended_on_capture(&self, browser: &Client) {
        let want = format!("{}/oauth_code?", self.capture_base);
        let deadline = Instant::now() + STEP;
        loop {
            let at = browser.current_url().await.expect("current URL");
            if at.as_str().starts_with(&want) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the browser is at {at}, not at {want}…"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn connect(webdriver: &str, profile_dir: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                // Nothing but 127.0.0.1: no proxy from the environment, no
                // reporting, no phishing or translation look-ups.
                "--no-proxy-server",
                "--no-default-browser-check",
                "--disable-domain-reliability",
                "--disable-client-side-phishing-detection",
                "--disable-features=Translate,OptimizationHints,MediaRouter",
                "--window-size=1280,900",
                format!("--user-data-dir={}", profile_dir.display()),
            ],
        }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(webdriver)
        .await
        .expect("start a Chromium session through chromedriver")
}

async fn wait_for(browser: &Client, css: &str) -> fantoccini::elements::Element {
    match browser
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css(css))
        .await
    {
        Ok(element) => element,
        Err(e) => {
            let at = browser.current_url().await.map(|u| u.to_string());
            let page = browser.source().await.unwrap_or_default();
            panic!("no {css} on the page ({e}); at {at:?}:\n{page}");
        }
    }
}

// ---- processes ----

/// A child process that is killed when dropped; its output goes to a log
/// file, shown when the test fails.
struct ChildGuard {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl ChildGuard {
    fn spawn(name: &'static str, mut command: Command, dir: &Path) -> Self {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("create a log file");
        command
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("clone the log file"))
            .stderr(file);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        Self { name, child, log }
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("---- last lines of {} ----", self.name);
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

struct Server {
    base: String,
    _process: ChildGuard,
}

fn start_server(database_url: &str, dir: &Path) -> Server {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_oauth-server"));
    command
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .args(["--database-url", database_url])
        .env("OAUTH_SECRET_KEY", SECRET_KEY)
        .env_remove("OAUTH_CONFIG")
        .env_remove("OAUTH_ISSUER")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1");
    let mut process = ChildGuard::spawn("oauth-server", command, dir);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + STEP;
    while http_get(addr, "/healthz") != Some(200) {
        if let Some(status) = process.exited() {
            panic!("oauth-server exited early ({status})");
        }
        assert!(
            Instant::now() < deadline,
            "oauth-server never became healthy"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Server {
        base: format!("http://{addr}"),
        _process: process,
    }
}

/// chromedriver, told to quit its sessions (and so Chromium) when dropped
/// before it is killed.
struct Chromedriver {
    port: u16,
    process: ChildGuard,
}

impl Chromedriver {
    fn start(dir: &Path) -> Self {
        let port = free_port();
        let mut command = Command::new(CHROMEDRIVER);
        command.arg(format!("--port={port}"));
        let mut process = ChildGuard::spawn("chromedriver", command, dir);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + STEP;
        while http_get(addr, "/status") != Some(200) {
            if let Some(status) = process.exited() {
                panic!("chromedriver exited early ({status})");
            }
            assert!(Instant::now() < deadline, "chromedriver never became ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { port, process }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // chromedriver's own shutdown command closes every browser it
        // started; killing it alone would leave Chromium running.
        let _ = http_get(SocketAddr::from(([127, 0, 0, 1], self.port)), "/shutdown");
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.process.exited().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// The status code of a plain `GET path`, or `None` when nothing answers.
fn http_get(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut status_line = String::new();
    BufReader::new(stream).read_line(&mut status_line).ok()?;
    status_line.split_whitespace().nth(1)?.parse().ok()
}

// ---- the client application's redirect URI ----

/// The request targets (`/path?query`) the capture server has received.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<String>>>);

impl Captured {
    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// The query of the first request to `path` after the first `seen`.
    async fn wait_for(&self, path: &str, seen: usize) -> std::collections::HashMap<String, String> {
        let deadline = Instant::now() + STEP;
        loop {
            let found = self.0.lock().unwrap()[seen..]
                .iter()
                .find(|t| t.split('?').next() == Some(path))
                .cloned();
            if let Some(target) = found {
                let url =
                    url::Url::parse(&format!("http://capture{target}")).expect("a request target");
                return url.query_pairs().into_owned().collect();
            }
            assert!(
                Instant::now() < deadline,
                "no request to {path} reached the client application; it saw {:?}",
                self.0.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A tiny HTTP server on 127.0.0.1 answering 200 "ok" to everything and
/// recording the request targets, stopped when dropped.
struct CaptureServer {
    addr: SocketAddr,
    requests: Captured,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CaptureServer {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the capture server");
        let addr = listener.local_addr().expect("capture server address");
        let requests = Captured::default();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let requests = requests.clone();
            let stop = stop.clone();
            move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let requests = requests.clone();
                    // One thread each: Chromium opens speculative
                    // connections that may never carry a request.
                    std::thread::spawn(move || answer(stream, &requests));
                }
            }
        });
        Self {
            addr,
            requests,
            stop,
            thread: Some(thread),
        }
    }
}

fn answer(mut stream: TcpStream, requests: &Captured) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
        line.clear();
    }
    if let Some(target) = request_line.split_whitespace().nth(1) {
        requests.0.lock().unwrap().push(target.to_owned());
    }
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\
          Connection: close\r\n\r\nok",
    );
    let _ = stream.flush();
    // Let the peer read the answer before the socket closes.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = reader.read(&mut [0; 64]);
}

impl Drop for CaptureServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
