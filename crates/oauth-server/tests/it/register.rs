//! Dynamic client registration (RFC 7591) and its management (RFC 7592):
//! what a registration returns and stores, the rules it is held to, the
//! registration access token, the Frappe path, the switch and the rate
//! limit.

use std::time::SystemTime;

use oauth_core::{ClientId, CodeChallenge, CodeVerifier, SecretDigest, TokenEndpointAuthMethod};
use oauth_store::clients;
use oauth_store::test_support::TestDb;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::support::*;

oauth_store::test_on_both_backends!(
    // Registration.
    a_confidential_registration_returns_every_member_and_runs_the_code_flow,
    the_secret_and_the_registration_token_are_stored_only_as_digests,
    a_public_registration_gets_no_secret_and_uses_pkce,
    omitted_members_get_the_defaults,
    unknown_members_and_admin_only_settings_are_ignored,
    // Rules.
    http_on_a_host_that_is_not_a_loopback_ip_is_invalid_redirect_uri,
    a_redirect_uri_with_a_fragment_is_invalid_redirect_uri,
    a_missing_redirect_uri_is_invalid_redirect_uri,
    inconsistent_response_types_are_invalid_client_metadata,
    an_unknown_grant_type_is_invalid_client_metadata,
    client_credentials_is_not_open_to_registration,
    malformed_json_or_a_wrong_content_type_is_400,
    other_methods_on_the_registration_endpoint_are_405,
    // RFC 7592.
    read_update_and_delete_with_the_registration_token,
    an_update_must_name_the_client_and_its_secret,
    an_update_from_public_to_confidential_issues_a_secret,
    a_wrong_or_missing_registration_token_is_401,
    another_clients_token_is_401,
    deleting_a_client_ends_its_tokens,
    // Frappe path, switch, limit.
    the_frappe_path_registers_the_same_way,
    registration_disabled_is_404_on_every_route,
    registrations_beyond_the_limit_are_429_with_retry_after,
);

const REGISTER: &str = "/oauth/register";
const FRAPPE_REGISTER: &str = "/api/method/frappe.integrations.oauth2.register_client";
/// A redirect URI registration accepts: http on a loopback IP literal.
const LOOPBACK_CB: &str = "http://127.0.0.1:9/cb";
const HTTPS_CB: &str = "https://app.example/cb";

// ---- helpers ----

/// POSTs `body` as JSON to `path`.
async fn register_at(app: &TestServer, path: &str, body: &Value) -> Reply {
    post_raw(app, path, Some("application/json"), &body.to_string()).await
}

async fn register(app: &TestServer, body: &Value) -> Reply {
    register_at(app, REGISTER, body).await
}

/// POSTs a raw body with the given content type (none when `None`).
async fn post_raw(app: &TestServer, path: &str, content_type: Option<&str>, body: &str) -> Reply {
    let mut req = app.backend().post(app.url(path)).body(body.to_owned());
    if let Some(ct) = content_type {
        req = req.header(CONTENT_TYPE, ct);
    }
    read(req.send().await.unwrap()).await
}

/// A successful registration's JSON.
async fn registered(app: &TestServer, body: &Value) -> Value {
    let reply = register(app, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_uncacheable_json(&reply);
    reply.json()
}

/// An RFC 7592 request on `/oauth/register/{id}`, with the registration
/// access token when given, and a JSON body when given.
async fn manage(
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

fn s<'a>(json: &'a Value, member: &str) -> &'a str {
    json[member]
        .as_str()
        .unwrap_or_else(|| panic!("no {member} in {json}"))
}

fn assert_uncacheable_json(reply: &Reply) {
    assert_eq!(
        reply.header("cache-control").as_deref(),
        Some("no-store"),
        "{reply:?}"
    );
    let ct = reply.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("application/json"), "{ct:?}: {reply:?}");
}

/// A JSON error with `code` and a description, uncacheable.
fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "expected {code}: {}", reply.body);
    assert_uncacheable_json(reply);
    let json = reply.json();
    assert_eq!(json["error"], code, "{json}");
    assert!(
        !s(&json, "error_description").is_empty(),
        "no description: {json}"
    );
}

/// 401 with an RFC 6750 `invalid_token` challenge.
fn assert_invalid_token(reply: &Reply) {
    assert_error(reply, StatusCode::UNAUTHORIZED, "invalid_token");
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
}

fn stored(app: &TestServer, id: &str) -> Option<oauth_core::Client> {
    clients::find(&mut app.db.conn().unwrap(), &ClientId::parse(id).unwrap()).unwrap()
}

/// The code flow for a registered client, with PKCE, as alice (who must
/// exist): authorize up to the redirect, then the token request (HTTP
/// Basic when there is a secret). Returns the token response.
async fn code_flow(
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

fn now() -> i64 {
    oauth_core::Timestamp::from_system(SystemTime::now()).unix()
}

// ---- registration ----

fn a_confidential_registration_returns_every_member_and_runs_the_code_flow(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let before = now();
        let json = registered(
            &app,
            &json!({
                "redirect_uris": [LOOPBACK_CB, HTTPS_CB],
                "client_name": "Example App",
                "token_endpoint_auth_method": "client_secret_basic",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "scope": "openid profile email",
                "client_uri": "https://app.example/",
                "logo_uri": "https://app.example/logo.png",
                "contacts": ["ops@app.example"],
            }),
        )
        .await;
        let id = s(&json, "client_id");
        let members: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = vec![
            "client_id",
            "client_secret",
            "client_id_issued_at",
            "client_secret_expires_at",
            "registration_access_token",
            "registration_client_uri",
            "redirect_uris",
            "token_endpoint_auth_method",
            "grant_types",
            "response_types",
            "client_name",
            "scope",
            "client_uri",
            "logo_uri",
            "contacts",
        ];
        let mut members_sorted = members.clone();
        members_sorted.sort_unstable();
        expected.sort_unstable();
        assert_eq!(members_sorted, expected, "{json}");
        assert_eq!(s(&json, "client_secret").len(), 43);
        assert_eq!(s(&json, "registration_access_token").len(), 43);
        let issued = json["client_id_issued_at"].as_i64().unwrap();
        assert!(issued >= before && issued <= now(), "{json}");
        assert_eq!(json["client_secret_expires_at"], 0);
        assert_eq!(
            s(&json, "registration_client_uri"),
            format!("{}/oauth/register/{id}", app.issuer())
        );
        assert_eq!(json["redirect_uris"], json!([LOOPBACK_CB, HTTPS_CB]));
        assert_eq!(json["token_endpoint_auth_method"], "client_secret_basic");
        assert_eq!(
            json["grant_types"],
            json!(["authorization_code", "refresh_token"])
        );
        assert_eq!(json["response_types"], json!(["code"]));
        assert_eq!(json["client_name"], "Example App");
        assert_eq!(json["scope"], "email openid profile");
        assert_eq!(json["client_uri"], "https://app.example/");
        assert_eq!(json["logo_uri"], "https://app.example/logo.png");
        assert_eq!(json["contacts"], json!(["ops@app.example"]));

        // The new client runs the whole code flow, refresh included.
        let secret = s(&json, "client_secret");
        let tokens = code_flow(&app, id, Some(secret), LOOPBACK_CB, "openid profile").await;
        assert!(tokens["id_token"].is_string(), "{tokens}");
        let info = userinfo(&app, s(&tokens, "access_token")).await;
        assert_eq!(info.status, StatusCode::OK, "{}", info.body);
        let refreshed = read(
            app.backend()
                .post(app.url("/oauth/token"))
                .basic_auth(enc(id), Some(enc(secret)))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", s(&tokens, "refresh_token")),
                ])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
        // The consent page names the client as it registered itself, and
        // the https redirect URI is accepted as well.
        let browser = app.browser();
        let path = format!(
            "/oauth/authorize?client_id={}&response_type=code&redirect_uri={}&scope=openid",
            enc(id),
            enc(HTTPS_CB)
        );
        browser.login("alice", PASSWORD, &path).await;
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("Example App"), "{}", page.body);
    });
}

fn the_secret_and_the_registration_token_are_stored_only_as_digests(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let json = registered(&app, &json!({ "redirect_uris": [HTTPS_CB] })).await;
        let (id, secret, token) = (
            s(&json, "client_id"),
            s(&json, "client_secret"),
            s(&json, "registration_access_token"),
        );
        let client = stored(&app, id).expect("stored");
        let digest = client.secret_digest.as_ref().expect("a secret digest");
        assert_eq!(*digest, SecretDigest::of(secret));
        assert_ne!(digest.as_str(), secret);
        assert!(!digest.as_str().contains(secret));
        let mut conn = app.db.conn().unwrap();
        let found = clients::find_by_registration_token(&mut conn, &SecretDigest::of(token))
            .unwrap()
            .expect("found by the token's digest");
        assert_eq!(found.id.as_str(), id);
        // Only the registration token's digest finds the client.
        assert!(
            clients::find_by_registration_token(&mut conn, &SecretDigest::of(secret))
                .unwrap()
                .is_none()
        );
        // Reading the registration back never shows the secret.
        let read_back = manage(&app, reqwest::Method::GET, id, Some(token), None).await;
        assert_eq!(read_back.status, StatusCode::OK, "{}", read_back.body);
        assert!(!read_back.body.contains(secret));
        assert!(read_back.json().get("client_secret").is_none());
    });
}

fn a_public_registration_gets_no_secret_and_uses_pkce(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let json = registered(
            &app,
            &json!({
                "redirect_uris": ["http://[::1]:8765/callback"],
                "token_endpoint_auth_method": "none",
                "client_name": "CLI tool",
            }),
        )
        .await;
        assert!(json.get("client_secret").is_none(), "{json}");
        assert!(json.get("client_secret_expires_at").is_none(), "{json}");
        assert_eq!(json["token_endpoint_auth_method"], "none");
        let id = s(&json, "client_id");
        let client = stored(&app, id).unwrap();
        assert_eq!(client.secret_digest, None);
        assert_eq!(
            client.metadata.token_endpoint_auth_method,
            TokenEndpointAuthMethod::None
        );
        let tokens = code_flow(&app, id, None, "http://[::1]:8765/callback", "openid").await;
        assert!(tokens["access_token"].is_string(), "{tokens}");
    });
}

fn omitted_members_get_the_defaults(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let json = registered(&app, &json!({ "redirect_uris": [HTTPS_CB] })).await;
        assert_eq!(json["client_name"], "Unnamed client");
        assert_eq!(json["token_endpoint_auth_method"], "client_secret_basic");
        assert_eq!(json["grant_types"], json!(["authorization_code"]));
        assert_eq!(json["response_types"], json!(["code"]));
        assert_eq!(json["scope"], "openid");
        for absent in ["client_uri", "logo_uri", "contacts"] {
            assert!(json.get(absent).is_none(), "{absent} in {json}");
        }
        assert!(json["client_secret"].is_string());
        // A charset parameter on the content type is fine.
        let reply = post_raw(
            &app,
            REGISTER,
            Some("application/json; charset=utf-8"),
            &json!({ "redirect_uris": [HTTPS_CB] }).to_string(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    });
}

fn unknown_members_and_admin_only_settings_are_ignored(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let json = registered(
            &app,
            &json!({
                "redirect_uris": [LOOPBACK_CB],
                "software_id": "4NRB1-0XZABZI9E6-5SM3R",
                "software_version": "2.1",
                "jwks": { "keys": [] },
                "tos_uri": "https://app.example/tos",
                "client_name#fr": "Appli",
                "skip_authorization": true,
                "allowed_roles": ["System Manager"],
                "access_token_format": "jwt",
                "allow_plain_pkce": true,
                "client_id": "chosen-by-me",
                "logo_uri": null,
            }),
        )
        .await;
        let id = s(&json, "client_id");
        assert_ne!(id, "chosen-by-me");
        for absent in [
            "software_id",
            "jwks",
            "tos_uri",
            "skip_authorization",
            "allowed_roles",
            "logo_uri",
        ] {
            assert!(json.get(absent).is_none(), "{absent} in {json}");
        }
        let m = stored(&app, id).unwrap().metadata;
        assert!(!m.skip_authorization);
        assert!(m.allowed_roles.is_empty());
        assert_eq!(m.access_token_format, oauth_core::AccessTokenFormat::Opaque);
        assert!(!m.allow_plain_pkce);
        // skip_authorization was not taken: the user is asked.
        let browser = app.browser();
        let path = format!(
            "/oauth/authorize?client_id={}&response_type=code&redirect_uri={}&scope=openid\
             &code_challenge={}&code_challenge_method=S256",
            enc(id),
            enc(LOOPBACK_CB),
            CodeChallenge::s256_of(&CodeVerifier::generate(&mut rand::rng())).as_str()
        );
        browser.login("alice", PASSWORD, &path).await;
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("id=\"allow\""), "{}", page.body);
    });
}

// ---- rules ----

fn http_on_a_host_that_is_not_a_loopback_ip_is_invalid_redirect_uri(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        for uri in [
            "http://app.example/cb",
            CB,
            "http://localhost/cb",
            "http://10.0.0.1/cb",
            "com.example.app:/cb",
        ] {
            let reply = register(&app, &json!({ "redirect_uris": [HTTPS_CB, uri] })).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_redirect_uri");
        }
        assert!(
            clients::list(&mut app.db.conn().unwrap())
                .unwrap()
                .is_empty()
        );
    });
}

fn a_redirect_uri_with_a_fragment_is_invalid_redirect_uri(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        for uri in ["https://app.example/cb#frag", "http://127.0.0.1/cb#"] {
            let reply = register(&app, &json!({ "redirect_uris": [uri] })).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_redirect_uri");
        }
    });
}

fn a_missing_redirect_uri_is_invalid_redirect_uri(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        for body in [
            json!({}),
            json!({ "redirect_uris": [] }),
            json!({ "redirect_uris": HTTPS_CB }),
            json!({ "response_types": ["token"] }),
        ] {
            let reply = register(&app, &body).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_redirect_uri");
        }
    });
}

fn inconsistent_response_types_are_invalid_client_metadata(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        for (grants, responses) in [
            (json!(["authorization_code"]), json!(["token"])),
            (json!(["implicit"]), json!(["code"])),
            (json!(["authorization_code", "implicit"]), json!(["code"])),
            (json!(["authorization_code"]), json!(["code id_token"])),
            (json!(["authorization_code"]), json!([])),
        ] {
            let body = json!({
                "redirect_uris": [HTTPS_CB],
                "grant_types": grants,
                "response_types": responses,
            });
            let reply = register(&app, &body).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_client_metadata");
        }
        // Consistent ones pass, and an omitted list follows the other.
        let json = registered(
            &app,
            &json!({ "redirect_uris": [HTTPS_CB], "response_types": ["code", "token"] }),
        )
        .await;
        assert_eq!(
            json["grant_types"],
            json!(["authorization_code", "implicit"])
        );
    });
}

fn an_unknown_grant_type_is_invalid_client_metadata(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        for grants in [
            json!(["password"]),
            json!([
                "authorization_code",
                "urn:ietf:params:oauth:grant-type:device_code"
            ]),
            json!(["refresh_token"]),
            json!([]),
            json!("authorization_code"),
        ] {
            let body = json!({ "redirect_uris": [HTTPS_CB], "grant_types": grants });
            let reply = register(&app, &body).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_client_metadata");
        }
        for body in [
            json!({ "redirect_uris": [HTTPS_CB], "token_endpoint_auth_method": "private_key_jwt" }),
            json!({ "redirect_uris": [HTTPS_CB], "scope": "openid \"quoted\"" }),
            json!({ "redirect_uris": [HTTPS_CB], "client_uri": "ftp://app.example/" }),
            json!({ "redirect_uris": [HTTPS_CB], "client_name": "" }),
        ] {
            let reply = register(&app, &body).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_client_metadata");
        }
    });
}

fn client_credentials_is_not_open_to_registration(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        for grants in [
            json!(["client_credentials"]),
            json!(["authorization_code", "client_credentials"]),
        ] {
            let body = json!({ "redirect_uris": [HTTPS_CB], "grant_types": grants });
            let reply = register(&app, &body).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_client_metadata");
        }
    });
}

fn malformed_json_or_a_wrong_content_type_is_400(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let good = json!({ "redirect_uris": [HTTPS_CB] }).to_string();
        for (content_type, body) in [
            (Some("application/json"), "{"),
            (Some("application/json"), ""),
            (Some("application/json"), "[]"),
            (Some("application/json"), "null"),
            (Some("application/json"), "\u{feff}{}"),
            (Some("application/json"), "{\"redirect_uris\": [\"\u{0}\"]"),
            (Some("text/plain"), good.as_str()),
            (
                Some("application/x-www-form-urlencoded"),
                "redirect_uris=https%3A%2F%2Fapp.example%2Fcb",
            ),
            (None, good.as_str()),
        ] {
            let reply = post_raw(&app, REGISTER, content_type, body).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_client_metadata");
        }
        // Not UTF-8.
        let reply = read(
            app.backend()
                .post(app.url(REGISTER))
                .header(CONTENT_TYPE, "application/json")
                .body(vec![b'{', 0xff, b'}'])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_client_metadata");
        // Far too large: refused before it is read whole.
        let huge = json!({ "redirect_uris": [HTTPS_CB], "client_name": "x".repeat(100_000) });
        let reply = register(&app, &huge).await;
        assert_eq!(
            reply.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            reply.body
        );
        assert!(
            clients::list(&mut app.db.conn().unwrap())
                .unwrap()
                .is_empty()
        );
    });
}

fn other_methods_on_the_registration_endpoint_are_405(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        for path in [REGISTER, FRAPPE_REGISTER] {
            let reply = read(app.backend().get(app.url(path)).send().await.unwrap()).await;
            assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, "invalid_request");
            assert_eq!(reply.header("allow").as_deref(), Some("POST"));
        }
        let reply = manage(&app, reqwest::Method::POST, "x", None, None).await;
        assert_eq!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{}",
            reply.body
        );
    });
}

// ---- RFC 7592 ----

fn read_update_and_delete_with_the_registration_token(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let created = registered(
            &app,
            &json!({
                "redirect_uris": [HTTPS_CB],
                "client_name": "Before",
                "client_uri": "https://app.example/",
                "scope": "openid profile",
            }),
        )
        .await;
        let id = s(&created, "client_id");
        let token = s(&created, "registration_access_token");
        let secret = s(&created, "client_secret");

        // Read: the registration as created, without the secret.
        let reply = manage(&app, reqwest::Method::GET, id, Some(token), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_uncacheable_json(&reply);
        let mut expected = created.clone();
        expected.as_object_mut().unwrap().remove("client_secret");
        assert_eq!(reply.json(), expected);

        // Update: the body replaces the metadata; what it omits reverts.
        let body = json!({
            "client_id": id,
            "client_secret": secret,
            "redirect_uris": [LOOPBACK_CB],
            "client_name": "After",
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "client_secret_post",
        });
        let reply = manage(&app, reqwest::Method::PUT, id, Some(token), Some(&body)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_uncacheable_json(&reply);
        let json = reply.json();
        assert_eq!(json["client_id"], id);
        assert_eq!(json["client_name"], "After");
        assert_eq!(json["redirect_uris"], json!([LOOPBACK_CB]));
        assert_eq!(json["token_endpoint_auth_method"], "client_secret_post");
        assert_eq!(
            json["grant_types"],
            json!(["authorization_code", "refresh_token"])
        );
        assert_eq!(json["scope"], "openid");
        assert!(json.get("client_uri").is_none(), "{json}");
        assert!(json.get("client_secret").is_none(), "{json}");
        assert_eq!(json["registration_access_token"], token);
        assert_eq!(json["client_id_issued_at"], created["client_id_issued_at"]);
        let client = stored(&app, id).unwrap();
        assert_eq!(client.metadata.name, "After");
        assert_eq!(client.secret_digest, Some(SecretDigest::of(secret)));
        // The same token still reads it.
        let reply = manage(&app, reqwest::Method::GET, id, Some(token), None).await;
        assert_eq!(reply.json()["client_name"], "After");

        // A bad update changes nothing.
        let bad = json!({ "client_id": id, "redirect_uris": ["http://app.example/cb"] });
        let reply = manage(&app, reqwest::Method::PUT, id, Some(token), Some(&bad)).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_redirect_uri");
        assert_eq!(stored(&app, id).unwrap(), client);
        let reply = read(
            app.backend()
                .put(app.url(&format!("{REGISTER}/{id}")))
                .bearer_auth(token)
                .header(CONTENT_TYPE, "text/plain")
                .body(body.to_string())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_client_metadata");

        // Delete: 204, and the client and its token are gone.
        let reply = manage(&app, reqwest::Method::DELETE, id, Some(token), None).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
        assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));
        assert!(stored(&app, id).is_none());
        let reply = manage(&app, reqwest::Method::GET, id, Some(token), None).await;
        assert_invalid_token(&reply);
        let reply = manage(&app, reqwest::Method::DELETE, id, Some(token), None).await;
        assert_invalid_token(&reply);
    });
}

fn an_update_must_name_the_client_and_its_secret(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let created = registered(&app, &json!({ "redirect_uris": [HTTPS_CB] })).await;
        let id = s(&created, "client_id");
        let token = s(&created, "registration_access_token");
        for body in [
            json!({ "redirect_uris": [HTTPS_CB] }),
            json!({ "client_id": "someone-else", "redirect_uris": [HTTPS_CB] }),
            json!({ "client_id": id, "client_secret": "wrong", "redirect_uris": [HTTPS_CB] }),
            json!({ "client_id": id, "redirect_uris": [HTTPS_CB], "grant_types": ["client_credentials"] }),
        ] {
            let reply = manage(&app, reqwest::Method::PUT, id, Some(token), Some(&body)).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_client_metadata");
        }
    });
}

fn an_update_from_public_to_confidential_issues_a_secret(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let created = registered(
            &app,
            &json!({ "redirect_uris": [LOOPBACK_CB], "token_endpoint_auth_method": "none" }),
        )
        .await;
        let id = s(&created, "client_id");
        let token = s(&created, "registration_access_token");
        let body = json!({ "client_id": id, "redirect_uris": [LOOPBACK_CB] });
        let reply = manage(&app, reqwest::Method::PUT, id, Some(token), Some(&body)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let json = reply.json();
        assert_eq!(json["token_endpoint_auth_method"], "client_secret_basic");
        assert_eq!(json["client_secret_expires_at"], 0);
        let secret = s(&json, "client_secret");
        assert_eq!(
            stored(&app, id).unwrap().secret_digest,
            Some(SecretDigest::of(secret))
        );
        let tokens = code_flow(&app, id, Some(secret), LOOPBACK_CB, "openid").await;
        assert!(tokens["access_token"].is_string());

        // And back: public again, the secret forgotten.
        let body = json!({
            "client_id": id,
            "redirect_uris": [LOOPBACK_CB],
            "token_endpoint_auth_method": "none",
        });
        let reply = manage(&app, reqwest::Method::PUT, id, Some(token), Some(&body)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(reply.json().get("client_secret").is_none());
        assert_eq!(stored(&app, id).unwrap().secret_digest, None);
    });
}

fn a_wrong_or_missing_registration_token_is_401(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let created = registered(&app, &json!({ "redirect_uris": [HTTPS_CB] })).await;
        let id = s(&created, "client_id");
        let secret = s(&created, "client_secret");
        let before = stored(&app, id).unwrap();
        let body = json!({ "client_id": id, "redirect_uris": [LOOPBACK_CB] });
        let url = app.url(&format!("{REGISTER}/{id}"));
        for method in [
            reqwest::Method::GET,
            reqwest::Method::PUT,
            reqwest::Method::DELETE,
        ] {
            for authorization in [
                None,
                Some("Bearer wrong-token".to_owned()),
                Some(format!("Bearer {secret}")),
                Some("Bearer".to_owned()),
                Some("Bearer a b".to_owned()),
                Some(format!(
                    "Basic {}",
                    s(&created, "registration_access_token")
                )),
            ] {
                let mut req = app
                    .backend()
                    .request(method.clone(), &url)
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.to_string());
                if let Some(value) = &authorization {
                    req = req.header(AUTHORIZATION, value);
                }
                let reply = read(req.send().await.unwrap()).await;
                assert_invalid_token(&reply);
            }
        }
        // An unknown client is 401 as well, not 404 (RFC 7592 §2.1).
        let reply = manage(
            &app,
            reqwest::Method::GET,
            "no-such-client",
            Some("x"),
            None,
        )
        .await;
        assert_invalid_token(&reply);
        // A bad body does not get past a bad token.
        let reply = manage(
            &app,
            reqwest::Method::PUT,
            id,
            Some("wrong"),
            Some(&json!({ "redirect_uris": ["http://app.example/cb"] })),
        )
        .await;
        assert_invalid_token(&reply);
        assert_eq!(stored(&app, id).unwrap(), before);
    });
}

fn another_clients_token_is_401(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let one = registered(&app, &json!({ "redirect_uris": [HTTPS_CB] })).await;
        let two = registered(&app, &json!({ "redirect_uris": [HTTPS_CB] })).await;
        let (id_one, token_two) = (s(&one, "client_id"), s(&two, "registration_access_token"));
        let reply = manage(&app, reqwest::Method::GET, id_one, Some(token_two), None).await;
        assert_invalid_token(&reply);
        let reply = manage(&app, reqwest::Method::DELETE, id_one, Some(token_two), None).await;
        assert_invalid_token(&reply);
        assert!(stored(&app, id_one).is_some());
        // A client registered by an administrator has no registration
        // token at all.
        let admin = app.client();
        let reply = manage(&app, reqwest::Method::GET, &admin.id, Some(token_two), None).await;
        assert_invalid_token(&reply);
    });
}

fn deleting_a_client_ends_its_tokens(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let created = registered(&app, &json!({ "redirect_uris": [LOOPBACK_CB] })).await;
        let id = s(&created, "client_id");
        let tokens = code_flow(
            &app,
            id,
            Some(s(&created, "client_secret")),
            LOOPBACK_CB,
            "openid",
        )
        .await;
        let access = s(&tokens, "access_token");
        assert_eq!(userinfo(&app, access).await.status, StatusCode::OK);
        let reply = manage(
            &app,
            reqwest::Method::DELETE,
            id,
            Some(s(&created, "registration_access_token")),
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
        assert_eq!(
            userinfo(&app, access).await.status,
            StatusCode::UNAUTHORIZED
        );
    });
}

// ---- Frappe path, switch, limit ----

fn the_frappe_path_registers_the_same_way(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let reply = register_at(
            &app,
            FRAPPE_REGISTER,
            &json!({ "redirect_uris": [LOOPBACK_CB], "client_name": "Via Frappe" }),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        assert_uncacheable_json(&reply);
        let json = reply.json();
        let id = s(&json, "client_id");
        assert_eq!(json["client_name"], "Via Frappe");
        assert_eq!(
            s(&json, "registration_client_uri"),
            format!("{}/oauth/register/{id}", app.issuer())
        );
        let tokens = code_flow(
            &app,
            id,
            Some(s(&json, "client_secret")),
            LOOPBACK_CB,
            "openid",
        )
        .await;
        assert!(tokens["access_token"].is_string());
        let reply = manage(
            &app,
            reqwest::Method::GET,
            id,
            Some(s(&json, "registration_access_token")),
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        // Errors are the same too.
        let reply = register_at(
            &app,
            FRAPPE_REGISTER,
            &json!({ "redirect_uris": ["http://app.example/cb"] }),
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_redirect_uri");
        let reply = post_raw(&app, FRAPPE_REGISTER, Some("text/plain"), "{}").await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_client_metadata");
    });
}

fn registration_disabled_is_404_on_every_route(t: &TestDb) {
    block_on(async {
        let app = TestServer::start_with(t, |c| c.registration.enabled = false);
        let body = json!({ "redirect_uris": [HTTPS_CB] });
        for path in [REGISTER, FRAPPE_REGISTER] {
            let reply = register_at(&app, path, &body).await;
            assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
            let reply = read(app.backend().get(app.url(path)).send().await.unwrap()).await;
            assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
        }
        for method in [
            reqwest::Method::GET,
            reqwest::Method::PUT,
            reqwest::Method::DELETE,
            reqwest::Method::POST,
        ] {
            let reply = manage(&app, method, "some-client", Some("token"), Some(&body)).await;
            assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
        }
        assert!(
            clients::list(&mut app.db.conn().unwrap())
                .unwrap()
                .is_empty()
        );
    });
}

fn registrations_beyond_the_limit_are_429_with_retry_after(t: &TestDb) {
    block_on(async {
        let app = TestServer::start_with(t, |c| c.registration.per_minute = 2);
        let body = json!({ "redirect_uris": [HTTPS_CB] });
        // The allowance is per address, across both paths.
        let first = registered(&app, &body).await;
        let reply = register_at(&app, FRAPPE_REGISTER, &body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        for path in [REGISTER, FRAPPE_REGISTER] {
            let reply = register_at(&app, path, &body).await;
            assert_error(&reply, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
            let retry: u64 = reply
                .header("retry-after")
                .expect("Retry-After")
                .parse()
                .expect("Retry-After in seconds");
            assert!((1..=60).contains(&retry), "Retry-After: {retry}");
        }
        // A forged X-Forwarded-For does not buy a new allowance.
        let reply = read(
            app.backend()
                .post(app.url(REGISTER))
                .header(CONTENT_TYPE, "application/json")
                .header("X-Forwarded-For", "203.0.113.7")
                .body(body.to_string())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            reply.body
        );
        assert_eq!(clients::list(&mut app.db.conn().unwrap()).unwrap().len(), 2);
        // Managing a registration is not limited.
        let reply = manage(
            &app,
            reqwest::Method::GET,
            s(&first, "client_id"),
            Some(s(&first, "registration_access_token")),
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        // Another server's allowance is its own.
        let other = TestServer::start_with(t, |c| c.registration.per_minute = 2);
        let reply = register(&other, &body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    });
}
