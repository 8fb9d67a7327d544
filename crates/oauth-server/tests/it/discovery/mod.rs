//! Metadata: OpenID Connect Discovery 1.0 (`/.well-known/openid-
//! configuration`), RFC 8414 (`/.well-known/oauth-authorization-server`)
//! and RFC 9728 (`/.well-known/oauth-protected-resource`). Each test takes
//! what the document advertises and checks that the server really does it.

mod authorization;
mod documents;
mod grants;
mod tokens;

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

pub(super) const OIDC: &str = "/.well-known/openid-configuration";

// ---- helpers ----

/// GETs an absolute URL without cookies.
pub(super) async fn get(app: &TestServer, url: &str) -> Reply {
    read(app.backend().get(url).send().await.unwrap()).await
}

/// A metadata document at `path` on the server: 200 JSON.
pub(super) async fn document(app: &TestServer, path: &str) -> Value {
    let reply = get(app, &app.url(path)).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
    let ct = reply.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("application/json"), "{path}: {ct}");
    reply.json()
}

pub(super) async fn metadata(app: &TestServer) -> Value {
    document(app, OIDC).await
}

/// A string member.
pub(super) fn s<'a>(json: &'a Value, key: &str) -> &'a str {
    json[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {json}"))
}

/// An array-of-strings member.
pub(super) fn list<'a>(json: &'a Value, key: &str) -> Vec<&'a str> {
    json[key]
        .as_array()
        .unwrap_or_else(|| panic!("no array {key} in {json}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_else(|| panic!("{key}: {v}")))
        .collect()
}

/// The access token opens userinfo.
pub(super) async fn assert_works(app: &TestServer, token: &str, what: &str) {
    let info = userinfo(app, token).await;
    assert_eq!(info.status, StatusCode::OK, "{what}: {}", info.body);
}
