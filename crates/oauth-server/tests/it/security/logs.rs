//! Nothing secret reaches a log line: the real `oauth-server` binary runs
//! a whole flow at `RUST_LOG=trace`, in both log formats, and every secret
//! the flow used is searched for in everything it printed.
//!
//! Trace is where dependencies (the HTTP stack, the database driver) would
//! print headers, bodies and bound parameters; `telemetry.rs` caps them
//! whatever `RUST_LOG` says, and this test is what shows it.

use base64::Engine as _;
use oauth_store::test_support::TestDb;
use reqwest::StatusCode;
use serde_json::json;

use super::s;
use crate::process::{Server, strip_ansi};
use crate::support::*;

oauth_store::test_on_both_backends!(secrets_never_reach_the_logs_at_trace_level);

/// Registration accepts http redirect URIs only on loopback IP literals.
const REDIRECT: &str = "http://127.0.0.1:9/cb";

fn secrets_never_reach_the_logs_at_trace_level(t: &TestDb) {
    create_user(t.db(), "alice", |_| {});
    for format in ["human", "json"] {
        let dir = tempfile::tempdir().unwrap();
        let mut server = Server::start_with(
            dir.path(),
            &["--database-url", t.url(), "--log-format", format],
            &[
                ("RUST_LOG", "trace"),
                (
                    "OAUTH_SECRET_KEY",
                    "the server secret of the log test, long enough",
                ),
            ],
        );
        let mut secrets = block_on(full_flow(&server.base));
        secrets.push((
            "server secret",
            "the server secret of the log test, long enough".to_owned(),
        ));
        assert!(server.terminate().success());
        let log: Vec<String> = server.log.iter().map(|l| strip_ansi(l)).collect();
        // The run was logged at all, at trace: otherwise finding nothing
        // proves nothing.
        assert!(log.len() > 20, "{format}: too few lines: {log:?}");
        assert!(
            log.iter().any(|l| l.contains("/oauth/token")),
            "{format}: requests were not logged"
        );
        for (what, secret) in &secrets {
            assert!(secret.len() >= 8, "{what} is too short to search for");
            for candidate in [secret.clone(), enc(secret)] {
                if let Some(line) = log.iter().find(|l| l.contains(&candidate)) {
                    panic!("{format}: the {what} is in the log: {line}");
                }
            }
        }
    }
}

/// Registration, a failed and a good login, consent, code exchange,
/// refresh, introspection, userinfo, revocation, registration read: every
/// secret that crossed the wire, named.
async fn full_flow(base: &str) -> Vec<(&'static str, String)> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = |path: &str| format!("{base}{path}");
    let mut secrets = vec![("password", PASSWORD.to_owned())];

    let registered = read(
        http.post(url("/oauth/register"))
            .json(&json!({
                "redirect_uris": [REDIRECT],
                "client_name": "Logged App",
                "token_endpoint_auth_method": "client_secret_basic",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "scope": "openid profile",
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.body
    );
    let registered = registered.json();
    let (client_id, client_secret) = (s(&registered, "client_id"), s(&registered, "client_secret"));
    let registration_token = s(&registered, "registration_access_token");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        enc(&client_id),
        enc(&client_secret)
    ));
    secrets.extend([
        ("client secret", client_secret.clone()),
        ("registration access token", registration_token.clone()),
        ("Basic credentials", basic),
    ]);
    let read_back = read(
        http.get(url(&format!("/oauth/register/{client_id}")))
            .bearer_auth(&registration_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(read_back.status, StatusCode::OK, "{}", read_back.body);

    let browser = Browser::at(base);
    let authorize = format!(
        "/oauth/authorize?client_id={}&response_type=code&scope=openid%20profile&state=st&redirect_uri={}",
        enc(&client_id),
        enc(REDIRECT)
    );
    let page = browser
        .get(&format!("/login?next={}", enc(&authorize)))
        .await;
    let login_csrf = page.field("csrf_token");
    secrets.push(("login CSRF token", login_csrf.clone()));
    secrets.push(("session cookie before login", cookie_value(&browser)));
    let wrong = "a wrong password, also secret";
    secrets.push(("wrong password", wrong.to_owned()));
    let failed = browser
        .post(
            "/login",
            &[
                ("username", "alice"),
                ("password", wrong),
                ("csrf_token", &login_csrf),
                ("next", &authorize),
            ],
        )
        .await;
    assert_eq!(failed.status, StatusCode::OK);
    let login = browser
        .post(
            "/login",
            &[
                ("username", "alice"),
                ("password", PASSWORD),
                ("csrf_token", &login_csrf),
                ("next", &authorize),
            ],
        )
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    let consent = browser.get(&authorize).await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
    secrets.extend([
        ("session cookie after login", cookie_value(&browser)),
        ("consent page CSRF token", consent.field("csrf_token")),
        ("consent token", consent.field("consent_token")),
    ]);
    let allowed = browser.decide(&consent, "allow").await;
    let params = redirect_params(&allowed.location(), REDIRECT);
    let code = param(&params, "code").expect("a code").to_owned();
    secrets.push(("authorization code", code.clone()));

    let token = |form: Vec<(&'static str, String)>| {
        let req = http
            .post(url("/oauth/token"))
            .basic_auth(enc(&client_id), Some(enc(&client_secret)))
            .form(&form);
        async move { read(req.send().await.unwrap()).await }
    };
    let tokens = token(vec![
        ("grant_type", "authorization_code".into()),
        ("code", code),
        ("redirect_uri", REDIRECT.into()),
    ])
    .await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    let tokens = tokens.json();
    let refreshed = token(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", s(&tokens, "refresh_token")),
    ])
    .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    let refreshed = refreshed.json();
    secrets.extend([
        ("access token", s(&tokens, "access_token")),
        ("refresh token", s(&tokens, "refresh_token")),
        ("ID token", s(&tokens, "id_token")),
        ("rotated access token", s(&refreshed, "access_token")),
        ("rotated refresh token", s(&refreshed, "refresh_token")),
    ]);
    let access = s(&refreshed, "access_token");

    let introspected = read(
        http.post(url("/oauth/introspect"))
            .basic_auth(enc(&client_id), Some(enc(&client_secret)))
            .form(&[("token", &access)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(introspected.json()["active"], true, "{}", introspected.body);
    let info = read(
        http.get(url("/oauth/userinfo"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.body);
    // A refused reuse of the first refresh token is logged as a failure;
    // the token must not be in that line either.
    let reuse = token(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", s(&tokens, "refresh_token")),
    ])
    .await;
    assert_eq!(reuse.status, StatusCode::BAD_REQUEST, "{}", reuse.body);
    let revoked = read(
        http.post(url("/oauth/revoke"))
            .basic_auth(enc(&client_id), Some(enc(&client_secret)))
            .form(&[("token", s(&refreshed, "refresh_token"))])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    secrets
}

/// The session cookie's value, as the browser holds it now.
fn cookie_value(browser: &Browser) -> String {
    let header = browser.cookie_header();
    let (_, value) = header.split_once('=').expect("a session cookie");
    value.split(';').next().unwrap().to_owned()
}
