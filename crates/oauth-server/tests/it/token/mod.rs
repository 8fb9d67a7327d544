//! The token endpoint: client authentication (RFC 6749 §2.3, §3.2), the
//! authorization code grant (§4.1.3, RFC 7636 §4.6), refresh (§6, RFC 9700
//! §4.14.2), client credentials (§4.4), the error and response format (§5)
//! and single use under concurrency, on both the standard and the Frappe
//! path.

mod client_auth;
mod client_credentials;
mod codes;
mod concurrency;
mod refresh;
mod requests;

use std::collections::BTreeSet;

use oauth_core::TokenEndpointAuthMethod;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

pub(super) const TOKEN: &str = "/oauth/token";

// ---- helpers ----

pub(super) async fn code_at(
    app: &TestServer,
    path: &str,
    client: &TestClient,
    extra: &str,
) -> String {
    let browser = app.browser();
    let params = browser
        .authorize_and_allow(path, &client.authorize_query(extra), "alice")
        .await;
    param(&params, "code").expect("a code").to_owned()
}

/// The authorization request parameters of a PKCE flow with `scope`.
pub(super) fn pkce_query(scope: &str, challenge: &str) -> String {
    format!(
        "scope={}&state=s&code_challenge={challenge}&code_challenge_method=S256",
        enc(scope)
    )
}

/// Posts a form to `path`, with HTTP Basic when `basic` is given (the id
/// and secret are form-encoded first, RFC 6749 §2.3.1).
pub(super) async fn post_form(
    app: &TestServer,
    path: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> Reply {
    let mut req = app.backend().post(app.url(path)).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(enc(id), Some(enc(secret)));
    }
    read(req.send().await.unwrap()).await
}

/// The Basic credentials of a confidential client.
pub(super) fn creds(client: &TestClient) -> Option<(&str, &str)> {
    Some((
        client.id.as_str(),
        client.secret.as_deref().expect("a confidential client"),
    ))
}

/// Exchanges a code at `path`: HTTP Basic for a confidential client,
/// `client_id` in the body for a public one.
pub(super) async fn exchange_at(
    app: &TestServer,
    path: &str,
    client: &TestClient,
    code: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CB),
    ];
    form.extend_from_slice(extra);
    match &client.secret {
        Some(_) => post_form(app, path, creds(client), &form).await,
        None => {
            form.push(("client_id", &client.id));
            post_form(app, path, None, &form).await
        }
    }
}

/// A refresh request at `path`, authenticated as `client` is.
async fn refresh_at(
    app: &TestServer,
    path: &str,
    client: &TestClient,
    token: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    form.extend_from_slice(extra);
    match &client.secret {
        Some(_) => post_form(app, path, creds(client), &form).await,
        None => {
            form.push(("client_id", &client.id));
            post_form(app, path, None, &form).await
        }
    }
}

pub(super) async fn refresh(
    app: &TestServer,
    client: &TestClient,
    token: &str,
    extra: &[(&str, &str)],
) -> Reply {
    refresh_at(app, TOKEN, client, token, extra).await
}

/// A 200 token response; returns its JSON.
pub(super) fn ok(reply: &Reply) -> Value {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_uncacheable_json(reply);
    reply.json()
}

pub(super) fn access_token(json: &Value) -> &str {
    json["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token in {json}"))
}

pub(super) fn refresh_token(json: &Value) -> &str {
    json["refresh_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no refresh_token in {json}"))
}

pub(super) fn scopes(s: &str) -> BTreeSet<&str> {
    s.split_whitespace().collect()
}

pub(super) fn scope_of(json: &Value) -> BTreeSet<&str> {
    scopes(
        json["scope"]
            .as_str()
            .unwrap_or_else(|| panic!("no scope in {json}")),
    )
}

/// `Cache-Control: no-store`, `Pragma: no-cache`, and a JSON body
/// (RFC 6749 §5.1).
fn assert_uncacheable_json(reply: &Reply) {
    assert_eq!(
        reply.header("cache-control").as_deref(),
        Some("no-store"),
        "{reply:?}"
    );
    assert_eq!(
        reply.header("pragma").as_deref(),
        Some("no-cache"),
        "{reply:?}"
    );
    let ct = reply.header("content-type").unwrap_or_default();
    assert!(
        ct.starts_with("application/json"),
        "content type {ct:?}: {reply:?}"
    );
}

/// An RFC 6749 §5.2 error: the status, JSON with `error` and a non-empty
/// `error_description`, uncacheable.
pub(super) fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "expected {code}: {}", reply.body);
    assert_uncacheable_json(reply);
    let json = reply.json();
    assert_eq!(json["error"], code, "{json}");
    assert!(
        json["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "no error_description: {json}"
    );
}

/// 401 `invalid_client` with `WWW-Authenticate: Basic realm="<issuer>"`.
pub(super) fn assert_invalid_client(app: &TestServer, reply: &Reply) {
    assert_error(reply, StatusCode::UNAUTHORIZED, "invalid_client");
    let challenge = reply
        .header("www-authenticate")
        .unwrap_or_else(|| panic!("no WWW-Authenticate: {reply:?}"));
    assert!(challenge.starts_with("Basic "), "{challenge}");
    assert!(
        challenge.contains(&format!("realm=\"{}\"", app.issuer())),
        "{challenge}"
    );
}

pub(super) fn assert_invalid_grant(reply: &Reply) {
    assert_error(reply, StatusCode::BAD_REQUEST, "invalid_grant");
}

/// The seed's token response: `access_token`, `token_type: Bearer`,
/// `expires_in: 3600`, `scope`, and `refresh_token` when one is issued;
/// nothing else but an `id_token`.
pub(super) fn assert_seed_shape(json: &Value, with_refresh: bool) {
    let obj = json
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {json}"));
    assert!(
        obj.get("access_token")
            .and_then(Value::as_str)
            .is_some_and(|t| !t.is_empty()),
        "{json}"
    );
    assert_eq!(json["token_type"], "Bearer", "{json}");
    assert_eq!(json["expires_in"], 3600, "{json}");
    assert!(json["scope"].is_string(), "{json}");
    assert_eq!(
        obj.get("refresh_token").and_then(Value::as_str).is_some(),
        with_refresh,
        "{json}"
    );
    for key in obj.keys() {
        assert!(
            [
                "access_token",
                "token_type",
                "expires_in",
                "refresh_token",
                "scope",
                "id_token"
            ]
            .contains(&key.as_str()),
            "unexpected {key} in {json}"
        );
    }
}

/// The access token opens userinfo.
pub(super) async fn assert_works(app: &TestServer, token: &str) {
    let info = userinfo(app, token).await;
    assert_eq!(
        info.status,
        StatusCode::OK,
        "the access token should work: {}",
        info.body
    );
}

/// The access token no longer opens userinfo.
pub(super) async fn assert_dead(app: &TestServer, token: &str) {
    let info = userinfo(app, token).await;
    assert_eq!(
        info.status,
        StatusCode::UNAUTHORIZED,
        "the access token should be dead: {}",
        info.body
    );
}

/// A confidential client that authenticates with `client_secret_post`.
pub(super) fn post_client(app: &TestServer) -> TestClient {
    app.client_with(|m| m.token_endpoint_auth_method = TokenEndpointAuthMethod::ClientSecretPost)
}
