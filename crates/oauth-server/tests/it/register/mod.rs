//! Dynamic client registration (RFC 7591) and its management (RFC 7592):
//! what a registration returns and stores, the rules it is held to, the
//! registration access token, the Frappe path, the switch and the rate
//! limit.

mod frappe_switch_limit;
mod management;
mod registration;
mod rules;

use oauth_core::{ClientId, CodeChallenge, CodeVerifier};
use oauth_store::clients;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

use crate::support::*;

pub(super) const REGISTER: &str = "/oauth/register";
pub(super) const FRAPPE_REGISTER: &str = "/api/method/frappe.integrations.oauth2.register_client";
/// A redirect URI registration accepts: http on a loopback IP literal.
pub(super) const LOOPBACK_CB: &str = "http://127.0.0.1:9/cb";
pub(super) const HTTPS_CB: &str = "https://app.example/cb";

// ---- helpers ----

/// POSTs `body` as JSON to `path`.
pub(super) async fn register_at(app: &TestServer, path: &str, body: &Value) -> Reply {
    post_raw(app, path, Some("application/json"), &body.to_string()).await
}

pub(super) async fn register(app: &TestServer, body: &Value) -> Reply {
    register_at(app, REGISTER, body).await
}

/// POSTs a raw body with the given content type (none when `None`).
pub(super) async fn post_raw(
    app: &TestServer,
    path: &str,
    content_type: Option<&str>,
    body: &str,
) -> Reply {
    let mut req = app.backend().post(app.url(path)).body(body.to_owned());
    if let Some(ct) = content_type {
        req = req.header(CONTENT_TYPE, ct);
    }
    read(req.send().await.unwrap()).await
}

/// A successful registration's JSON.
pub(super) async fn registered(app: &TestServer, body: &Value) -> Value {
    let reply = register(app, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_uncacheable_json(&reply);
    reply.json()
}

/// An RFC 7592 request on `/oauth/register/{id}`, with the registration
/// access token when given, and a JSON body when given.
pub(super) async fn manage(
    app: &TestServer,
    method: reqwest::Method,
    id: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let mut req = app
        .backend()
        .request(method, app.url(&format!("{REGISTER}/{id}")));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
    }
    read(req.send().await.unwrap()).await
}

pub(super) fn s<'a>(json: &'a Value, member: &str) -> &'a str {
    json[member]
        .as_str()
        .unwrap_or_else(|| panic!("no {member} in {json}"))
}

pub(super) fn assert_uncacheable_json(reply: &Reply) {
    assert_eq!(
        reply.header("cache-control").as_deref(),
        Some("no-store"),
        "{reply:?}"
    );
    let ct = reply.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("application/json"), "{ct:?}: {reply:?}");
}

/// A JSON error with `code` and a description, uncacheable.
pub(super) fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "expected {code}: {}", reply.body);
    assert_uncacheable_json(reply);
    let json = reply.json();
    assert_eq!(json["error"], code, "{json}");
    assert!(
        !s(&json, "error_description").is_empty(),
        "no description: {json}"
    );
}

pub(super) fn stored(app: &TestServer, id: &str) -> Option<oauth_core::Client> {
    clients::find(&mut app.db.conn().unwrap(), &ClientId::parse(id).unwrap()).unwrap()
}

/// The code flow for a registered client, with PKCE, as alice (who must
/// exist): authorize up to the redirect, then the token request (HTTP
/// Basic when there is a secret). Returns the token response.
pub(super) async fn code_flow(
    app: &TestServer,
    client_id: &str,
    secret: Option<&str>,
    redirect_uri: &str,
    scope: &str,
) -> Value {
    let verifier = CodeVerifier::generate(&mut rand::rng());
    let challenge = CodeChallenge::s256_of(&verifier);
    let browser = app.browser();
    let path = format!(
        "/oauth/authorize?client_id={}&response_type=code&redirect_uri={}&scope={}\
         &state=xyz&code_challenge={}&code_challenge_method=S256",
        enc(client_id),
        enc(redirect_uri),
        enc(scope),
        challenge.as_str()
    );
    let mut reply = browser.get(&path).await;
    if reply.status == StatusCode::SEE_OTHER && reply.location().starts_with("/login") {
        let login = browser.login("alice", PASSWORD, &path).await;
        assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
        reply = browser.get(&path).await;
    }
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "no consent page: {}",
        reply.body
    );
    let reply = browser.decide(&reply, "allow").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let params = redirect_params(&reply.location(), redirect_uri);
    assert_eq!(param(&params, "state"), Some("xyz"));
    let code = param(&params, "code").expect("a code");
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier.expose_secret()),
    ];
    let mut req = app.backend().post(app.url("/oauth/token"));
    match secret {
        Some(secret) => req = req.basic_auth(enc(client_id), Some(enc(secret))),
        None => form.push(("client_id", client_id)),
    }
    let reply = read(req.form(&form).send().await.unwrap()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()
}
