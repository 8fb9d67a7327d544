//! Token introspection (RFC 7662) on `POST /oauth/introspect` and Frappe's
//! `frappe.integrations.oauth2.introspect_token`: who may ask (§2.1), what
//! an active token's description holds (§2.2), and that every token that
//! cannot be used answers exactly `{"active":false}`.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use oauth_core::{AccessTokenFormat, Timestamp, TokenEndpointAuthMethod};
use oauth_store::test_support::TestDb;
use oauth_store::users;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

oauth_store::test_on_both_backends!(
    // Who may introspect.
    introspection_without_client_authentication_is_401_invalid_client,
    a_wrong_client_secret_or_an_unknown_client_is_401_invalid_client,
    a_public_client_may_not_introspect,
    a_resource_server_client_may_introspect_a_token_issued_to_another_client,
    a_caller_may_authenticate_with_client_secret_post,
    // Active tokens.
    an_active_access_token_is_described_with_every_member,
    a_jwt_access_token_is_described_like_an_opaque_one,
    a_client_credentials_token_has_the_client_as_subject_and_no_username,
    a_refresh_token_is_active_with_token_type_refresh_token,
    a_token_type_hint_does_not_change_the_answer,
    // Tokens that cannot be used.
    an_expired_access_token_is_exactly_inactive,
    an_expired_refresh_token_is_exactly_inactive,
    a_revoked_access_token_is_exactly_inactive,
    a_revoked_refresh_token_and_the_access_tokens_of_its_grant_are_exactly_inactive,
    a_rotated_refresh_token_is_exactly_inactive_and_its_successor_active,
    unknown_and_malformed_tokens_are_exactly_inactive,
    codes_and_id_tokens_are_not_tokens_to_introspect,
    a_disabled_users_tokens_are_exactly_inactive,
    // Request format.
    a_missing_empty_or_repeated_token_parameter_is_400_invalid_request,
    every_introspection_response_carries_cache_control_no_store,
    get_on_the_introspection_endpoint_is_405_with_allow_post,
);

pub const INTROSPECT: &str = "/oauth/introspect";
pub const FRAPPE_INTROSPECT: &str = "/api/method/frappe.integrations.oauth2.introspect_token";
/// Both paths behave the same; every test runs on each.
pub const PATHS: [&str; 2] = [INTROSPECT, FRAPPE_INTROSPECT];

// ---- helpers, shared with the other modules of this binary ----

/// `POST` of `form` to `path` with HTTP Basic for `caller` (a confidential
/// client), the id and secret form-encoded first (RFC 6749 §2.3.1).
pub async fn introspect_at(
    app: &TestServer,
    path: &str,
    caller: &TestClient,
    form: &[(&str, &str)],
) -> Reply {
    let secret = caller.secret.as_deref().expect("a confidential caller");
    let req = app
        .backend()
        .post(app.url(path))
        .basic_auth(enc(&caller.id), Some(enc(secret)))
        .form(form);
    read(req.send().await.unwrap()).await
}

/// Introspects `token` at `path` as `caller`; asserts a 200 uncacheable
/// JSON answer and returns its body.
pub async fn describe_at(app: &TestServer, path: &str, caller: &TestClient, token: &str) -> Value {
    let reply = introspect_at(app, path, caller, &[("token", token)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
    assert_no_store(&reply);
    reply.json()
}

/// Introspects `token` at the standard path as `caller`.
pub async fn describe(app: &TestServer, caller: &TestClient, token: &str) -> Value {
    describe_at(app, INTROSPECT, caller, token).await
}

/// The `aud` member as a set: RFC 7662 §2.2 allows one string or an array.
pub fn audience(json: &Value) -> BTreeSet<String> {
    match &json["aud"] {
        Value::String(s) => BTreeSet::from([s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .unwrap_or_else(|| panic!("aud holds a non-string: {json}"))
                    .to_owned()
            })
            .collect(),
        other => panic!("no aud (found {other}) in {json}"),
    }
}

/// A set of strings, for comparing with [`audience`].
pub fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// `Cache-Control: no-store` (RFC 7662 §2.2 answers are token responses).
pub fn assert_no_store(reply: &Reply) {
    assert_eq!(
        reply.header("cache-control").as_deref(),
        Some("no-store"),
        "{reply:?}"
    );
}

/// The answer is exactly `{"active":false}`: nothing else, so it reveals
/// nothing about why (RFC 7662 §2.2).
fn assert_inactive(reply: &Reply, what: &str) {
    assert_eq!(reply.status, StatusCode::OK, "{what}: {}", reply.body);
    assert_no_store(reply);
    assert_eq!(
        reply.json(),
        json!({ "active": false }),
        "{what}: the body must be exactly {{\"active\":false}}"
    );
}

/// `token` answers exactly `{"active":false}` at both paths.
async fn assert_inactive_everywhere(
    app: &TestServer,
    caller: &TestClient,
    token: &str,
    what: &str,
) {
    for path in PATHS {
        let reply = introspect_at(app, path, caller, &[("token", token)]).await;
        assert_inactive(&reply, &format!("{what} at {path}"));
    }
}

/// 401 `invalid_client` with a `WWW-Authenticate: Basic` challenge, and no
/// word about the token (RFC 6749 §5.2, RFC 7662 §2.3).
fn assert_invalid_client(reply: &Reply, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "{what}: {}",
        reply.body
    );
    let json = reply.json();
    assert_eq!(json["error"], "invalid_client", "{what}: {json}");
    assert!(json.get("active").is_none(), "{what}: {json}");
    let challenge = reply
        .header("www-authenticate")
        .unwrap_or_else(|| panic!("{what}: no WWW-Authenticate: {reply:?}"));
    assert!(challenge.starts_with("Basic "), "{what}: {challenge}");
}

/// An RFC 6749 §5.2 error with this status and code.
fn assert_error(reply: &Reply, status: StatusCode, code: &str, what: &str) {
    assert_eq!(reply.status, status, "{what}: {}", reply.body);
    assert_eq!(reply.json()["error"], code, "{what}: {}", reply.body);
}

/// A string member of a JSON object.
fn s(json: &Value, key: &str) -> String {
    json[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {json}"))
        .to_owned()
}

fn now() -> i64 {
    Timestamp::from_system(SystemTime::now()).unix()
}

async fn revoke(app: &TestServer, client: &TestClient, token: &str) {
    let secret = client.secret.as_deref().expect("a confidential client");
    let reply = read(
        app.backend()
            .post(app.url("/oauth/revoke"))
            .basic_auth(enc(&client.id), Some(enc(secret)))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "revoke: {}", reply.body);
}

async fn refresh(app: &TestServer, client: &TestClient, token: &str) -> Value {
    let reply = token_request(
        app,
        client,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "refresh: {}", reply.body);
    reply.json()
}

// ---- who may introspect ----

fn introspection_without_client_authentication_is_401_invalid_client(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let tokens = tokens_for(&app, &client, "alice", "openid").await;
        let access = s(&tokens, "access_token");
        for path in PATHS {
            let reply = post_anonymous(&app, path, &[("token", &access)]).await;
            assert_invalid_client(&reply, path);
        }
    });
}

fn a_wrong_client_secret_or_an_unknown_client_is_401_invalid_client(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let rs = app.client();
        let access = s(
            &tokens_for(&app, &client, "alice", "openid").await,
            "access_token",
        );
        for path in PATHS {
            // Basic with a wrong secret.
            let reply = read(
                app.backend()
                    .post(app.url(path))
                    .basic_auth(enc(&rs.id), Some("not-the-secret"))
                    .form(&[("token", access.as_str())])
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_invalid_client(&reply, &format!("{path}, Basic with a wrong secret"));
            // The body with a wrong secret.
            let reply = post_anonymous(
                &app,
                path,
                &[
                    ("token", &access),
                    ("client_id", &rs.id),
                    ("client_secret", "not-the-secret"),
                ],
            )
            .await;
            assert_invalid_client(&reply, &format!("{path}, a wrong secret in the body"));
            // A client that does not exist.
            let reply = read(
                app.backend()
                    .post(app.url(path))
                    .basic_auth("no-such-client", Some("whatever"))
                    .form(&[("token", access.as_str())])
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_invalid_client(&reply, &format!("{path}, an unknown client"));
        }
    });
}

fn a_public_client_may_not_introspect(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let public = app.public_client();
        let access = s(
            &tokens_for(&app, &client, "alice", "openid").await,
            "access_token",
        );
        for path in PATHS {
            let reply =
                post_anonymous(&app, path, &[("token", &access), ("client_id", &public.id)]).await;
            assert_invalid_client(&reply, &format!("{path}, a public client"));
        }
    });
}

fn a_resource_server_client_may_introspect_a_token_issued_to_another_client(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let resource_server = app.client();
        let access = s(
            &tokens_for(&app, &client, "alice", "openid project").await,
            "access_token",
        );
        for path in PATHS {
            let json = describe_at(&app, path, &resource_server, &access).await;
            assert_eq!(json["active"], true, "{path}: {json}");
            // The token's client, not the one asking.
            assert_eq!(json["client_id"], client.id.as_str(), "{path}: {json}");
            assert_eq!(json["username"], "alice", "{path}: {json}");
        }
    });
}

fn a_caller_may_authenticate_with_client_secret_post(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let rs = app.client_with(|m| {
            m.token_endpoint_auth_method = TokenEndpointAuthMethod::ClientSecretPost;
        });
        let access = s(
            &tokens_for(&app, &client, "alice", "openid").await,
            "access_token",
        );
        for path in PATHS {
            let mut form = vec![("token".to_owned(), access.clone())];
            form.extend(rs.body_auth());
            let reply = read(
                app.backend()
                    .post(app.url(path))
                    .form(&form)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
            assert_eq!(reply.json()["active"], true, "{path}: {}", reply.body);
        }
    });
}

// ---- active tokens ----

fn an_active_access_token_is_described_with_every_member(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let alice = app.user("alice");
        let client = app.client();
        let rs = app.client();
        let before = now();
        let tokens = tokens_for(&app, &client, "alice", "openid profile project").await;
        let after = now();
        let access = s(&tokens, "access_token");
        for path in PATHS {
            let json = describe_at(&app, path, &rs, &access).await;
            assert_eq!(json["active"], true, "{path}: {json}");
            let scopes: BTreeSet<&str> = json["scope"].as_str().unwrap().split(' ').collect();
            assert_eq!(
                scopes,
                BTreeSet::from(["openid", "profile", "project"]),
                "{path}: {json}"
            );
            assert_eq!(json["client_id"], client.id.as_str(), "{path}: {json}");
            assert_eq!(json["username"], "alice", "{path}: {json}");
            assert_eq!(json["token_type"], "Bearer", "{path}: {json}");
            // `sub` is the user's id, the same as the OIDC `sub`.
            assert_eq!(json["sub"], alice.id.to_string(), "{path}: {json}");
            let info = userinfo(&app, &access).await;
            assert_eq!(info.status, StatusCode::OK, "{}", info.body);
            assert_eq!(json["sub"], info.json()["sub"], "{path}: {json}");
            let iat = json["iat"]
                .as_i64()
                .unwrap_or_else(|| panic!("iat: {json}"));
            let exp = json["exp"]
                .as_i64()
                .unwrap_or_else(|| panic!("exp: {json}"));
            assert!(
                (before - 1..=after + 1).contains(&iat),
                "{path}: iat {iat} not in [{before}, {after}]"
            );
            assert_eq!(exp - iat, 3600, "{path}: {json}");
            // Without resource indicators the audience is the issuer.
            assert_eq!(audience(&json), set(&[app.issuer()]), "{path}: {json}");
            assert_eq!(json["iss"], app.issuer(), "{path}: {json}");
        }
    });
}

fn a_jwt_access_token_is_described_like_an_opaque_one(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let alice = app.user("alice");
        let client = app.client_with(|m| m.access_token_format = AccessTokenFormat::Jwt);
        let rs = app.client();
        let tokens = tokens_for(&app, &client, "alice", "openid").await;
        let access = s(&tokens, "access_token");
        assert_eq!(access.matches('.').count(), 2, "not a JWT: {access}");
        let json = describe(&app, &rs, &access).await;
        assert_eq!(json["active"], true, "{json}");
        assert_eq!(json["token_type"], "Bearer", "{json}");
        assert_eq!(json["client_id"], client.id.as_str(), "{json}");
        assert_eq!(json["sub"], alice.id.to_string(), "{json}");
        assert_eq!(json["iss"], app.issuer(), "{json}");
        revoke(&app, &client, &access).await;
        assert_inactive_everywhere(&app, &rs, &access, "a revoked JWT access token").await;
    });
}

fn a_client_credentials_token_has_the_client_as_subject_and_no_username(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let service = app.service_client();
        let rs = app.client();
        let reply = token_request(
            &app,
            &service,
            &[("grant_type", "client_credentials"), ("scope", "project")],
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let access = s(&reply.json(), "access_token");
        let json = describe(&app, &rs, &access).await;
        assert_eq!(json["active"], true, "{json}");
        assert_eq!(json["client_id"], service.id.as_str(), "{json}");
        assert_eq!(json["sub"], service.id.as_str(), "{json}");
        assert!(json.get("username").is_none(), "{json}");
        assert_eq!(json["scope"], "project", "{json}");
        assert_eq!(audience(&json), set(&[app.issuer()]), "{json}");
    });
}

fn a_refresh_token_is_active_with_token_type_refresh_token(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let alice = app.user("alice");
        let client = app.client();
        let rs = app.client();
        let tokens = tokens_for(&app, &client, "alice", "openid project").await;
        let refresh_token = s(&tokens, "refresh_token");
        for path in PATHS {
            let json = describe_at(&app, path, &rs, &refresh_token).await;
            assert_eq!(json["active"], true, "{path}: {json}");
            assert_eq!(json["token_type"], "refresh_token", "{path}: {json}");
            assert_eq!(json["client_id"], client.id.as_str(), "{path}: {json}");
            assert_eq!(json["username"], "alice", "{path}: {json}");
            assert_eq!(json["sub"], alice.id.to_string(), "{path}: {json}");
            assert_eq!(json["iss"], app.issuer(), "{path}: {json}");
            let scopes: BTreeSet<&str> = json["scope"].as_str().unwrap().split(' ').collect();
            assert_eq!(scopes, BTreeSet::from(["openid", "project"]), "{json}");
            let exp = json["exp"]
                .as_i64()
                .unwrap_or_else(|| panic!("exp: {json}"));
            assert!(exp > now() + 3600, "{path}: {json}");
        }
    });
}

fn a_token_type_hint_does_not_change_the_answer(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let rs = app.client();
        let tokens = tokens_for(&app, &client, "alice", "openid").await;
        let cases = [
            (s(&tokens, "access_token"), "Bearer"),
            (s(&tokens, "refresh_token"), "refresh_token"),
        ];
        for (token, token_type) in &cases {
            for hint in ["access_token", "refresh_token", "id_token"] {
                let reply = introspect_at(
                    &app,
                    INTROSPECT,
                    &rs,
                    &[("token", token), ("token_type_hint", hint)],
                )
                .await;
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
                let json = reply.json();
                assert_eq!(json["active"], true, "hint {hint}: {json}");
                assert_eq!(json["token_type"], *token_type, "hint {hint}: {json}");
            }
        }
    });
}

// ---- tokens that cannot be used ----

fn an_expired_access_token_is_exactly_inactive(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let rs = app.client();
        let tokens = tokens_for(&app, &client, "alice", "openid").await;
        let access = s(&tokens, "access_token");
        assert_eq!(describe(&app, &rs, &access).await["active"], true);
        app.advance(Duration::from_secs(3601));
        assert_inactive_everywhere(&app, &rs, &access, "an expired access token").await;
        // The refresh token outlives it.
        let json = describe(&app, &rs, &s(&tokens, "refresh_token")).await;
        assert_eq!(json["active"], true, "{json}");
    });
}

fn an_expired_refresh_token_is_exactly_inactive(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let rs = app.client();
        let tokens = tokens_for(&app, &client, "alice", "openid").await;
        let refresh_token = s(&tokens, "refresh_token");
        app.advance(Duration::from_secs(30 * 24 * 3600 + 1));
        assert_inactive_everywhere(&app, &rs, &refresh_token, "an expired refresh token").await;
    });
}

fn a_revoked_access_token_is_exactly_inactive(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let rs = app.client();
        let tokens = tokens_for(&app, &client, "alice", "openid").await;
        let access = s(&tokens, "access_token");
        revoke(&app, &client, &access).await;
        assert_inactive_everywhere(&app, &rs, &access, "a revoked access token").await;
        // Revoking the access token leaves the refresh token alone.
        let json = describe(&app, &rs, &s(&tokens, "refresh_token")).await;
        assert_eq!(json["active"], true, "{json}");
    });
}

fn a_revoked_refresh_token_and_the_access_tokens_of_its_grant_are_exactly_inactive(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let rs = app.client();
        let tokens = tokens_for(&app, &client, "alice", "openid").await;
        let refresh_token = s(&tokens, "refresh_token");
        revoke(&app, &client, &refresh_token).await;
        assert_inactive_everywhere(&app, &rs, &refresh_token, "a revoked refresh token").await;
        assert_inactive_everywhere(
            &app,
            &rs,
            &s(&tokens, "access_token"),
            "the access token of a revoked grant",
        )
        .await;
    });
}

fn a_rotated_refresh_token_is_exactly_inactive_and_its_successor_active(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let rs = app.client();
        let first = tokens_for(&app, &client, "alice", "openid").await;
        let old = s(&first, "refresh_token");
        let second = refresh(&app, &client, &old).await;
        assert_inactive_everywhere(&app, &rs, &old, "a rotated refresh token").await;
        let json = describe(&app, &rs, &s(&second, "refresh_token")).await;
        assert_eq!(json["active"], true, "{json}");
        assert_eq!(json["token_type"], "refresh_token", "{json}");
        let json = describe(&app, &rs, &s(&second, "access_token")).await;
        assert_eq!(json["active"], true, "{json}");
    });
}

fn unknown_and_malformed_tokens_are_exactly_inactive(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let rs = app.client();
        let long = "x".repeat(20_000);
        let cases = [
            (
                "an unknown token",
                "J8mYkq2xNnV0p4Zb7cQeT1rLw9sHdUa3fGiOyKjXhEo",
            ),
            (
                "a JWT-shaped string",
                "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
            ),
            ("punctuation", "!!! not a token ;--"),
            ("a control character", "abc\u{0}def"),
            ("non-ASCII text", "jeton-été-🙂"),
            ("a token longer than any issued", long.as_str()),
        ];
        for (what, token) in cases {
            assert_inactive_everywhere(&app, &rs, token, what).await;
        }
    });
}

fn codes_and_id_tokens_are_not_tokens_to_introspect(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let rs = app.client();
        let params = app
            .browser()
            .authorize_and_allow(
                "/oauth/authorize",
                &client.authorize_query("scope=openid&state=s"),
                "alice",
            )
            .await;
        let code = param(&params, "code").expect("a code").to_owned();
        assert_inactive_everywhere(&app, &rs, &code, "an authorization code").await;
        let reply = exchange_code(&app, &client, &code, &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let id_token = s(&reply.json(), "id_token");
        assert_inactive_everywhere(&app, &rs, &id_token, "an ID token").await;
    });
}

fn a_disabled_users_tokens_are_exactly_inactive(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let alice = app.user("alice");
        let client = app.client();
        let rs = app.client();
        let tokens = tokens_for(&app, &client, "alice", "openid").await;
        let (access, refresh_token) = (s(&tokens, "access_token"), s(&tokens, "refresh_token"));
        assert_eq!(describe(&app, &rs, &access).await["active"], true);
        let when = Timestamp::from_system(SystemTime::now());
        users::set_enabled(&mut app.db.conn().unwrap(), &alice.id, false, when).unwrap();
        assert_inactive_everywhere(&app, &rs, &access, "a disabled user's access token").await;
        assert_inactive_everywhere(&app, &rs, &refresh_token, "a disabled user's refresh token")
            .await;
    });
}

// ---- request format ----

fn a_missing_empty_or_repeated_token_parameter_is_400_invalid_request(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let rs = app.client();
        let forms: [(&str, Vec<(&str, &str)>); 4] = [
            ("no token", vec![]),
            ("only a hint", vec![("token_type_hint", "access_token")]),
            ("an empty token", vec![("token", "")]),
            ("two tokens", vec![("token", "a"), ("token", "b")]),
        ];
        for path in PATHS {
            for (what, form) in &forms {
                let reply = introspect_at(&app, path, &rs, form).await;
                assert_error(
                    &reply,
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    &format!("{path}, {what}"),
                );
                assert_no_store(&reply);
            }
        }
    });
}

fn every_introspection_response_carries_cache_control_no_store(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let rs = app.client();
        let access = s(
            &tokens_for(&app, &client, "alice", "openid").await,
            "access_token",
        );
        for path in PATHS {
            let active = introspect_at(&app, path, &rs, &[("token", &access)]).await;
            let inactive = introspect_at(&app, path, &rs, &[("token", "unknown")]).await;
            let no_client = post_anonymous(&app, path, &[("token", &access)]).await;
            let no_token = introspect_at(&app, path, &rs, &[]).await;
            for reply in [active, inactive, no_client, no_token] {
                assert_no_store(&reply);
                let ct = reply.header("content-type").unwrap_or_default();
                assert!(ct.starts_with("application/json"), "{path}: {reply:?}");
            }
        }
    });
}

fn get_on_the_introspection_endpoint_is_405_with_allow_post(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let rs = app.client();
        let access = s(
            &tokens_for(&app, &client, "alice", "openid").await,
            "access_token",
        );
        for path in PATHS {
            let reply = read(
                app.backend()
                    .get(app.url(&format!("{path}?token={access}")))
                    .basic_auth(enc(&rs.id), Some(enc(rs.secret.as_deref().unwrap())))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{path}: {}",
                reply.body
            );
            assert_eq!(reply.header("allow").as_deref(), Some("POST"), "{path}");
            assert!(!reply.body.contains("\"active\""), "{path}: {}", reply.body);
        }
    });
}
