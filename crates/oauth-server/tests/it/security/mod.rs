//! Attacks, one test each: the RFC 9700 (OAuth 2.0 Security Best Current
//! Practice) list walked through the attacker's eyes, plus the pages'
//! browser defences and a search of the server's own logs for secrets.
//!
//! Many of these behaviours also have functional tests next to the
//! feature; here each test is named after the attack it tries and asserts
//! that the attacker gets nothing. `docs/security.md` maps every defence to
//! the test that shows it.

mod browser;
mod codes;
mod logs;
mod redirects;
mod tokens;

use reqwest::StatusCode;

use crate::support::*;

/// An OAuth error response (RFC 6749 §5.2): the status and the code.
pub(super) fn assert_oauth_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "expected {code}: {}", reply.body);
    assert_eq!(reply.json()["error"], code, "{}", reply.body);
}

/// The access token is refused at userinfo: the attacker's token is dead.
pub(super) async fn assert_token_dead(app: &TestServer, access: &str) {
    let reply = userinfo(app, access).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
}

/// The access token works at userinfo.
pub(super) async fn assert_token_works(app: &TestServer, access: &str) {
    let reply = userinfo(app, access).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

/// A string member of a JSON object.
pub(super) fn s(json: &serde_json::Value, member: &str) -> String {
    json[member]
        .as_str()
        .unwrap_or_else(|| panic!("no {member} in {json}"))
        .to_owned()
}

/// Refreshes `refresh` as `client`.
pub(super) async fn refresh(app: &TestServer, client: &TestClient, refresh: &str) -> Reply {
    token_request(
        app,
        client,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await
}
