//! The token endpoint: client authentication (RFC 6749 §2.3, §3.2), the
//! authorization code grant (§4.1.3, RFC 7636 §4.6), refresh (§6, RFC 9700
//! §4.14.2), client credentials (§4.4), the error and response format (§5)
//! and single use under concurrency, on both the standard and the Frappe
//! path.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use oauth_core::{CodeChallenge, CodeVerifier, GrantType, ScopeSet, TokenEndpointAuthMethod};
use oauth_store::test_support::TestDb;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;

use crate::support::*;

oauth_store::test_on_both_backends!(
    // Client authentication.
    http_basic_authenticates_a_confidential_client,
    a_basic_client_may_send_its_secret_in_the_body,
    basic_and_a_body_secret_together_is_invalid_request,
    a_wrong_secret_is_401_invalid_client_with_a_basic_challenge,
    an_unknown_client_is_401_invalid_client_with_a_basic_challenge,
    a_request_without_client_credentials_is_401_invalid_client,
    a_client_secret_post_client_using_basic_is_401_invalid_client,
    a_public_client_sending_a_secret_is_401_invalid_client,
    // Code binding.
    a_code_presented_by_another_client_is_invalid_grant,
    a_different_redirect_uri_is_invalid_grant,
    a_missing_redirect_uri_is_invalid_grant_when_the_authorize_request_had_one,
    an_expired_code_is_invalid_grant,
    an_unknown_code_is_invalid_grant,
    a_replayed_code_is_invalid_grant_and_revokes_its_tokens,
    // PKCE.
    a_public_client_exchanges_its_code_with_the_right_verifier,
    a_wrong_code_verifier_is_invalid_grant,
    a_missing_code_verifier_is_invalid_grant_when_the_code_has_a_challenge,
    a_code_verifier_without_a_challenge_is_invalid_grant,
    // Refresh.
    refresh_rotates_to_a_new_pair_in_the_seeds_shape,
    an_unknown_refresh_token_is_invalid_grant,
    a_rotated_refresh_token_is_invalid_grant_and_revokes_the_family,
    a_public_clients_refresh_token_rotates_with_reuse_detection,
    a_refresh_token_presented_by_another_client_is_invalid_grant,
    refresh_may_narrow_the_scope_but_not_widen_it,
    a_refresh_token_ends_at_the_absolute_lifetime_despite_rotation,
    refresh_accepts_the_seeds_redirect_uri_parameter,
    // Response format.
    responses_are_uncacheable_json_on_success_and_on_every_error,
    // Form bodies and parameters.
    a_json_body_is_invalid_request,
    get_on_the_token_endpoint_is_405_with_allow_post,
    a_missing_grant_type_is_invalid_request,
    the_password_grant_is_unsupported_grant_type,
    client_credentials_for_a_client_without_the_grant_is_unauthorized_client,
    a_repeated_parameter_is_invalid_request,
    an_empty_parameter_counts_as_omitted,
    // Both paths.
    the_frappe_path_behaves_like_the_standard_path,
    // Client credentials.
    client_credentials_issue_an_access_token_without_a_refresh_token,
    client_credentials_beyond_the_clients_scopes_is_invalid_scope,
    // Concurrency.
    concurrent_redemptions_of_one_code_succeed_exactly_once,
    concurrent_refreshes_of_one_token_succeed_exactly_once,
);

const TOKEN: &str = "/oauth/token";
const FRAPPE_TOKEN: &str = "/api/method/frappe.integrations.oauth2.get_token";
const FRAPPE_AUTHORIZE: &str = "/api/method/frappe.integrations.oauth2.authorize";

// ---- helpers ----

/// Runs the front channel as alice (who must exist) and returns the code.
/// `extra` is appended to the authorization request, already encoded.
async fn code_for(app: &TestServer, client: &TestClient, extra: &str) -> String {
    code_at(app, "/oauth/authorize", client, extra).await
}

async fn code_at(app: &TestServer, path: &str, client: &TestClient, extra: &str) -> String {
    let browser = app.browser();
    let params = browser
        .authorize_and_allow(path, &client.authorize_query(extra), "alice")
        .await;
    param(&params, "code").expect("a code").to_owned()
}

/// A fresh PKCE verifier and its S256 challenge.
fn pkce() -> (String, String) {
    let verifier = CodeVerifier::generate(&mut rand::rng());
    let challenge = CodeChallenge::s256_of(&verifier);
    (
        verifier.expose_secret().to_owned(),
        challenge.as_str().to_owned(),
    )
}

/// The authorization request parameters of a PKCE flow with `scope`.
fn pkce_query(scope: &str, challenge: &str) -> String {
    format!(
        "scope={}&state=s&code_challenge={challenge}&code_challenge_method=S256",
        enc(scope)
    )
}

/// Posts a form to `path`, with HTTP Basic when `basic` is given (the id
/// and secret are form-encoded first, RFC 6749 §2.3.1).
async fn post_form(
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

/// Posts a raw `application/x-www-form-urlencoded` body to the token
/// endpoint, with HTTP Basic for `client`.
async fn post_raw(app: &TestServer, client: &TestClient, body: String) -> Reply {
    let req = app
        .backend()
        .post(app.url(TOKEN))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .basic_auth(
            enc(&client.id),
            Some(enc(client.secret.as_deref().unwrap())),
        )
        .body(body);
    read(req.send().await.unwrap()).await
}

/// The Basic credentials of a confidential client.
fn creds(client: &TestClient) -> Option<(&str, &str)> {
    Some((
        client.id.as_str(),
        client.secret.as_deref().expect("a confidential client"),
    ))
}

/// Exchanges a code at `path`: HTTP Basic for a confidential client,
/// `client_id` in the body for a public one.
async fn exchange_at(
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

async fn refresh(
    app: &TestServer,
    client: &TestClient,
    token: &str,
    extra: &[(&str, &str)],
) -> Reply {
    refresh_at(app, TOKEN, client, token, extra).await
}

/// A 200 token response; returns its JSON.
fn ok(reply: &Reply) -> Value {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_uncacheable_json(reply);
    reply.json()
}

fn access_token(json: &Value) -> &str {
    json["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token in {json}"))
}

fn refresh_token(json: &Value) -> &str {
    json["refresh_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no refresh_token in {json}"))
}

fn scopes(s: &str) -> BTreeSet<&str> {
    s.split_whitespace().collect()
}

fn scope_of(json: &Value) -> BTreeSet<&str> {
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
fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
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
fn assert_invalid_client(app: &TestServer, reply: &Reply) {
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

fn assert_invalid_grant(reply: &Reply) {
    assert_error(reply, StatusCode::BAD_REQUEST, "invalid_grant");
}

/// The seed's token response: `access_token`, `token_type: Bearer`,
/// `expires_in: 3600`, `scope`, and `refresh_token` when one is issued;
/// nothing else but an `id_token`.
fn assert_seed_shape(json: &Value, with_refresh: bool) {
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
async fn assert_works(app: &TestServer, token: &str) {
    let info = userinfo(app, token).await;
    assert_eq!(
        info.status,
        StatusCode::OK,
        "the access token should work: {}",
        info.body
    );
}

/// The access token no longer opens userinfo.
async fn assert_dead(app: &TestServer, token: &str) {
    let info = userinfo(app, token).await;
    assert_eq!(
        info.status,
        StatusCode::UNAUTHORIZED,
        "the access token should be dead: {}",
        info.body
    );
}

/// A confidential client that authenticates with `client_secret_post`.
fn post_client(app: &TestServer) -> TestClient {
    app.client_with(|m| m.token_endpoint_auth_method = TokenEndpointAuthMethod::ClientSecretPost)
}

/// Sends `n` copies of one form at once, each on its own connection, with
/// HTTP Basic for `client`; returns every reply.
async fn race(
    app: &TestServer,
    client: &TestClient,
    form: Vec<(String, String)>,
    n: usize,
) -> Vec<Reply> {
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let form = Arc::new(form);
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let http = app.backend();
            let url = app.url(TOKEN);
            let (id, secret) = (enc(&client.id), enc(client.secret.as_deref().unwrap()));
            let barrier = barrier.clone();
            let form = form.clone();
            tokio::spawn(async move {
                let req = http.post(url).basic_auth(id, Some(secret)).form(&*form);
                barrier.wait().await;
                read(req.send().await.unwrap()).await
            })
        })
        .collect();
    let mut replies = Vec::with_capacity(n);
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    replies
}

/// Exactly one 200; every other reply a 400 `invalid_grant`; no 5xx.
fn assert_exactly_one_success(replies: &[Reply]) {
    for r in replies {
        assert!(
            !r.status.is_server_error(),
            "a server error: {} {}",
            r.status,
            r.body
        );
    }
    let ok = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    let statuses: Vec<_> = replies
        .iter()
        .map(|r| (r.status.as_u16(), r.body.as_str()))
        .collect();
    assert_eq!(ok, 1, "expected exactly one success: {statuses:?}");
    for r in replies.iter().filter(|r| r.status != StatusCode::OK) {
        assert_invalid_grant(r);
    }
}

// ---- client authentication (RFC 6749 §2.3, §3.2.1, §5.2) ----

fn http_basic_authenticates_a_confidential_client(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid%20project&state=s").await;
        let json = ok(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
        assert_seed_shape(&json, true);
        assert_eq!(scope_of(&json), scopes("openid project"));
        assert_works(&app, access_token(&json)).await;
        // The scheme name is case-insensitive, and the user-id and password
        // are form-encoded before base64 (RFC 6749 §2.3.1): a server must
        // decode them, here with every byte percent-encoded.
        let pct = |s: &str| s.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
        let secret = client.secret.as_deref().unwrap();
        let credentials = STANDARD.encode(format!("{}:{}", pct(&client.id), pct(secret)));
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token(&json)),
        ];
        let req = app
            .backend()
            .post(app.url(TOKEN))
            .header(AUTHORIZATION, format!("basic {credentials}"))
            .form(&form);
        let json = ok(&read(req.send().await.unwrap()).await);
        assert_seed_shape(&json, true);
    });
}

fn a_basic_client_may_send_its_secret_in_the_body(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let secret = client.secret.as_deref().unwrap();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
            ("client_id", client.id.as_str()),
            ("client_secret", secret),
        ];
        let json = ok(&post_form(&app, TOKEN, None, &form).await);
        assert_seed_shape(&json, true);
        assert_works(&app, access_token(&json)).await;
        // And for refresh too.
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token(&json)),
            ("client_id", client.id.as_str()),
            ("client_secret", secret),
        ];
        assert_seed_shape(&ok(&post_form(&app, TOKEN, None, &form).await), true);
    });
}

fn basic_and_a_body_secret_together_is_invalid_request(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let secret = client.secret.as_deref().unwrap();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
            ("client_id", client.id.as_str()),
            ("client_secret", secret),
        ];
        let reply = post_form(&app, TOKEN, creds(&client), &form).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        // Basic for one client and another's client_id in the body: refused
        // too, never read as either client.
        let other = app.client();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
            ("client_id", other.id.as_str()),
        ];
        let reply = post_form(&app, TOKEN, creds(&client), &form).await;
        assert_ne!(reply.status, StatusCode::OK, "{}", reply.body);
        match reply.status {
            StatusCode::UNAUTHORIZED => assert_invalid_client(&app, &reply),
            _ => assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request"),
        }
    });
}

fn a_wrong_secret_is_401_invalid_client_with_a_basic_challenge(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let other = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
        ];
        // Another client's (real) secret, with HTTP Basic.
        let wrong = other.secret.as_deref().unwrap();
        let reply = post_form(&app, TOKEN, Some((&client.id, wrong)), &form).await;
        assert_invalid_client(&app, &reply);
        // A made-up secret, in the body.
        let mut body = form.to_vec();
        body.extend([
            ("client_id", client.id.as_str()),
            ("client_secret", "not-the-secret-at-all-0123456789"),
        ]);
        let reply = post_form(&app, TOKEN, None, &body).await;
        assert_invalid_client(&app, &reply);
        // The same request with the right secret goes through.
        ok(&post_form(&app, TOKEN, creds(&client), &form).await);
    });
}

fn an_unknown_client_is_401_invalid_client_with_a_basic_challenge(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
        ];
        let secret = client.secret.as_deref().unwrap();
        let reply = post_form(&app, TOKEN, Some(("no-such-client", secret)), &form).await;
        assert_invalid_client(&app, &reply);
        let mut body = form.to_vec();
        body.extend([("client_id", "no-such-client"), ("client_secret", secret)]);
        assert_invalid_client(&app, &post_form(&app, TOKEN, None, &body).await);
        // A client that was deleted is unknown too.
        let gone = app.client();
        oauth_store::clients::delete(&mut app.db.conn().unwrap(), &gone.client.id).unwrap();
        assert_invalid_client(&app, &post_form(&app, TOKEN, creds(&gone), &form).await);
    });
}

fn a_request_without_client_credentials_is_401_invalid_client(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
        ];
        // Nothing at all.
        assert_invalid_client(&app, &post_form(&app, TOKEN, None, &form).await);
        // A confidential client's client_id without its secret.
        let mut body = form.to_vec();
        body.push(("client_id", &client.id));
        assert_invalid_client(&app, &post_form(&app, TOKEN, None, &body).await);
        // The code was never at stake: with credentials it still works.
        let json = ok(&post_form(&app, TOKEN, creds(&client), &form).await);
        // Refresh needs the credentials as much.
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token(&json)),
        ];
        assert_invalid_client(&app, &post_form(&app, TOKEN, None, &form).await);
        let mut body = form.to_vec();
        body.push(("client_id", &client.id));
        assert_invalid_client(&app, &post_form(&app, TOKEN, None, &body).await);
    });
}

fn a_client_secret_post_client_using_basic_is_401_invalid_client(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = post_client(&app);
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
        ];
        assert_invalid_client(&app, &post_form(&app, TOKEN, creds(&client), &form).await);
        // Its own method works.
        let mut body = form.to_vec();
        body.extend([
            ("client_id", client.id.as_str()),
            ("client_secret", client.secret.as_deref().unwrap()),
        ]);
        assert_seed_shape(&ok(&post_form(&app, TOKEN, None, &body).await), true);
    });
}

fn a_public_client_sending_a_secret_is_401_invalid_client(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.public_client();
        let (verifier, challenge) = pkce();
        let code = code_for(&app, &client, &pkce_query("openid", &challenge)).await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
            ("code_verifier", verifier.as_str()),
        ];
        // A secret in the body.
        let mut body = form.to_vec();
        body.extend([
            ("client_id", client.id.as_str()),
            ("client_secret", "a-secret-it-was-never-issued-0123"),
        ]);
        assert_invalid_client(&app, &post_form(&app, TOKEN, None, &body).await);
        // A secret with HTTP Basic.
        let reply = post_form(
            &app,
            TOKEN,
            Some((&client.id, "a-secret-it-was-never-issued-0123")),
            &form,
        )
        .await;
        assert_invalid_client(&app, &reply);
        // Only its client_id: fine.
        let mut body = form.to_vec();
        body.push(("client_id", &client.id));
        assert_seed_shape(&ok(&post_form(&app, TOKEN, None, &body).await), true);
    });
}

// ---- the code's bindings (RFC 6749 §4.1.3) ----

fn a_code_presented_by_another_client_is_invalid_grant(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let thief = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        assert_invalid_grant(&exchange_at(&app, TOKEN, &thief, &code, &[]).await);
        // A public client presenting it by client_id alone fares no better.
        let public = app.public_client();
        let (verifier, _) = pkce();
        assert_invalid_grant(
            &exchange_at(&app, TOKEN, &public, &code, &[("code_verifier", &verifier)]).await,
        );
    });
}

fn a_different_redirect_uri_is_invalid_grant(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client_with(|m| {
            m.redirect_uris
                .push(oauth_core::RedirectUri::parse("http://localhost:3000/other").unwrap());
        });
        // Even another of the client's own registered URIs.
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://localhost:3000/other"),
        ];
        assert_invalid_grant(&post_form(&app, TOKEN, creds(&client), &form).await);
        // An unregistered one.
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://localhost:3000/oauth_code/extra"),
        ];
        assert_invalid_grant(&post_form(&app, TOKEN, creds(&client), &form).await);
    });
}

fn a_missing_redirect_uri_is_invalid_grant_when_the_authorize_request_had_one(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
        ];
        assert_invalid_grant(&post_form(&app, TOKEN, creds(&client), &form).await);
    });
}

fn an_expired_code_is_invalid_grant(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        app.advance(Duration::from_secs(601));
        assert_invalid_grant(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
    });
}

fn an_unknown_code_is_invalid_grant(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.client();
        let made_up = oauth_core::Token::generate(&mut rand::rng());
        assert_invalid_grant(
            &exchange_at(&app, TOKEN, &client, made_up.expose_secret(), &[]).await,
        );
        assert_invalid_grant(&exchange_at(&app, TOKEN, &client, "x", &[]).await);
    });
}

fn a_replayed_code_is_invalid_grant_and_revokes_its_tokens(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid%20profile&state=s").await;
        let first = ok(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
        assert_works(&app, access_token(&first)).await;
        assert_invalid_grant(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
        // What the first exchange issued is revoked (RFC 6749 §4.1.2).
        assert_dead(&app, access_token(&first)).await;
        assert_invalid_grant(&refresh(&app, &client, refresh_token(&first), &[]).await);
        // And it stays used.
        assert_invalid_grant(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
    });
}

// ---- PKCE (RFC 7636 §4.6, RFC 9700 §2.1.1) ----

fn a_public_client_exchanges_its_code_with_the_right_verifier(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.public_client();
        let (verifier, challenge) = pkce();
        let code = code_for(&app, &client, &pkce_query("openid profile", &challenge)).await;
        let json =
            ok(&exchange_at(&app, TOKEN, &client, &code, &[("code_verifier", &verifier)]).await);
        assert_seed_shape(&json, true);
        assert_eq!(scope_of(&json), scopes("openid profile"));
        assert_works(&app, access_token(&json)).await;
    });
}

fn a_wrong_code_verifier_is_invalid_grant(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        for client in [app.public_client(), app.client()] {
            let (_, challenge) = pkce();
            let (other_verifier, _) = pkce();
            let code = code_for(&app, &client, &pkce_query("openid", &challenge)).await;
            let reply = exchange_at(
                &app,
                TOKEN,
                &client,
                &code,
                &[("code_verifier", &other_verifier)],
            )
            .await;
            assert_invalid_grant(&reply);
        }
        // The challenge itself is not the verifier of an S256 challenge.
        let client = app.public_client();
        let (_, challenge) = pkce();
        let code = code_for(&app, &client, &pkce_query("openid", &challenge)).await;
        assert_invalid_grant(
            &exchange_at(
                &app,
                TOKEN,
                &client,
                &code,
                &[("code_verifier", &challenge)],
            )
            .await,
        );
    });
}

fn a_missing_code_verifier_is_invalid_grant_when_the_code_has_a_challenge(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        for client in [app.public_client(), app.client()] {
            let (_, challenge) = pkce();
            let code = code_for(&app, &client, &pkce_query("openid", &challenge)).await;
            assert_invalid_grant(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
        }
    });
}

fn a_code_verifier_without_a_challenge_is_invalid_grant(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let (verifier, _) = pkce();
        // RFC 9700 §2.1.1: no PKCE downgrade.
        assert_invalid_grant(
            &exchange_at(&app, TOKEN, &client, &code, &[("code_verifier", &verifier)]).await,
        );
    });
}

// ---- refresh (RFC 6749 §6, RFC 9700 §4.14.2) ----

fn refresh_rotates_to_a_new_pair_in_the_seeds_shape(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let first = tokens_for(&app, &client, "alice", "openid profile project").await;
        let second = ok(&refresh(&app, &client, refresh_token(&first), &[]).await);
        assert_seed_shape(&second, true);
        assert_ne!(access_token(&second), access_token(&first));
        assert_ne!(refresh_token(&second), refresh_token(&first));
        assert_eq!(scope_of(&second), scopes("openid profile project"));
        assert_works(&app, access_token(&second)).await;
        // The new refresh token rotates in turn.
        let third = ok(&refresh(&app, &client, refresh_token(&second), &[]).await);
        assert_seed_shape(&third, true);
        assert_ne!(refresh_token(&third), refresh_token(&second));
        assert_works(&app, access_token(&third)).await;
    });
}

fn an_unknown_refresh_token_is_invalid_grant(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let made_up = oauth_core::Token::generate(&mut rand::rng());
        assert_invalid_grant(&refresh(&app, &client, made_up.expose_secret(), &[]).await);
        assert_invalid_grant(&refresh(&app, &client, "x", &[]).await);
        // An access token is not a refresh token.
        let json = tokens_for(&app, &client, "alice", "openid").await;
        assert_invalid_grant(&refresh(&app, &client, access_token(&json), &[]).await);
        // Nor is the code.
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        assert_invalid_grant(&refresh(&app, &client, &code, &[]).await);
    });
}

fn a_rotated_refresh_token_is_invalid_grant_and_revokes_the_family(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let first = tokens_for(&app, &client, "alice", "openid profile").await;
        let second = ok(&refresh(&app, &client, refresh_token(&first), &[]).await);
        assert_works(&app, access_token(&second)).await;
        // The old token again: someone else holds a copy.
        assert_invalid_grant(&refresh(&app, &client, refresh_token(&first), &[]).await);
        // The whole family ends: the successor and every access token.
        assert_invalid_grant(&refresh(&app, &client, refresh_token(&second), &[]).await);
        assert_dead(&app, access_token(&second)).await;
        assert_dead(&app, access_token(&first)).await;
    });
}

fn a_public_clients_refresh_token_rotates_with_reuse_detection(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.public_client();
        let (verifier, challenge) = pkce();
        let code = code_for(&app, &client, &pkce_query("openid", &challenge)).await;
        let first =
            ok(&exchange_at(&app, TOKEN, &client, &code, &[("code_verifier", &verifier)]).await);
        let second = ok(&refresh(&app, &client, refresh_token(&first), &[]).await);
        assert_seed_shape(&second, true);
        assert_ne!(refresh_token(&second), refresh_token(&first));
        assert_invalid_grant(&refresh(&app, &client, refresh_token(&first), &[]).await);
        assert_invalid_grant(&refresh(&app, &client, refresh_token(&second), &[]).await);
        assert_dead(&app, access_token(&second)).await;
    });
}

fn a_refresh_token_presented_by_another_client_is_invalid_grant(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let thief = app.client();
        let public = app.public_client();
        let json = tokens_for(&app, &client, "alice", "openid").await;
        assert_invalid_grant(&refresh(&app, &thief, refresh_token(&json), &[]).await);
        assert_invalid_grant(&refresh(&app, &public, refresh_token(&json), &[]).await);
    });
}

fn refresh_may_narrow_the_scope_but_not_widen_it(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let first = tokens_for(&app, &client, "alice", "openid profile email").await;
        let info = userinfo(&app, access_token(&first)).await.json();
        assert!(
            info["email"].is_string() && info["preferred_username"].is_string(),
            "{info}"
        );

        // Narrower: the new access token has only what was asked for.
        let narrow =
            ok(&refresh(&app, &client, refresh_token(&first), &[("scope", "openid")]).await);
        assert_eq!(scope_of(&narrow), scopes("openid"));
        let info = userinfo(&app, access_token(&narrow)).await;
        assert_eq!(info.status, StatusCode::OK, "{}", info.body);
        let info = info.json();
        assert!(
            info.get("email").is_none_or(Value::is_null),
            "narrowed token still reads email: {info}"
        );
        assert!(
            info.get("preferred_username").is_none_or(Value::is_null),
            "narrowed token still reads the profile: {info}"
        );

        // Wider than the grant, even within the client's scopes: refused.
        let wide = refresh(
            &app,
            &client,
            refresh_token(&narrow),
            &[("scope", "openid profile email project")],
        )
        .await;
        assert_error(&wide, StatusCode::BAD_REQUEST, "invalid_scope");
        let wide = refresh(
            &app,
            &client,
            refresh_token(&narrow),
            &[("scope", "openid admin")],
        )
        .await;
        assert_error(&wide, StatusCode::BAD_REQUEST, "invalid_scope");

        // Omitted scope means the scope the resource owner granted
        // (RFC 6749 §6), not the narrowed one: the grant did not shrink.
        let back = ok(&refresh(&app, &client, refresh_token(&narrow), &[]).await);
        assert_eq!(scope_of(&back), scopes("openid profile email"));
        let info = userinfo(&app, access_token(&back)).await.json();
        assert!(info["email"].is_string(), "{info}");
        // And asking for all of it explicitly is not widening either.
        let all = ok(&refresh(
            &app,
            &client,
            refresh_token(&back),
            &[("scope", "email openid profile")],
        )
        .await);
        assert_eq!(scope_of(&all), scopes("openid profile email"));
    });
}

fn a_refresh_token_ends_at_the_absolute_lifetime_despite_rotation(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let first = tokens_for(&app, &client, "alice", "openid").await;
        app.advance(Duration::from_secs(20 * 24 * 3600));
        let second = ok(&refresh(&app, &client, refresh_token(&first), &[]).await);
        // 31 days after the user authorized: over, rotation or not.
        app.advance(Duration::from_secs(11 * 24 * 3600));
        assert_invalid_grant(&refresh(&app, &client, refresh_token(&second), &[]).await);

        // And an unrotated one, simply past 30 days.
        let other = tokens_for(&app, &client, "alice", "openid").await;
        app.advance(Duration::from_secs(30 * 24 * 3600 + 1));
        assert_invalid_grant(&refresh(&app, &client, refresh_token(&other), &[]).await);
    });
}

fn refresh_accepts_the_seeds_redirect_uri_parameter(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let first = tokens_for(&app, &client, "alice", "openid project").await;
        // The seed's refresh request also carries redirect_uri.
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token(&first)),
            ("redirect_uri", CB),
        ];
        let json = ok(&token_request(&app, &client, &form).await);
        assert_seed_shape(&json, true);
        assert_eq!(scope_of(&json), scopes("openid project"));
        assert_works(&app, access_token(&json)).await;
    });
}

// ---- response format (RFC 6749 §5) ----

fn responses_are_uncacheable_json_on_success_and_on_every_error(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        // Success (checked by `ok`).
        let json = ok(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
        ok(&refresh(&app, &client, refresh_token(&json), &[]).await);
        // 400s, each checked by `assert_error` for the headers and body.
        assert_invalid_grant(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
        let reply = token_request(&app, &client, &[("grant_type", "password")]).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "unsupported_grant_type");
        let reply = token_request(&app, &client, &[("grant_type", "refresh_token")]).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        // 401.
        assert_invalid_client(
            &app,
            &post_form(&app, TOKEN, None, &[("grant_type", "client_credentials")]).await,
        );
        // 405.
        let reply = read(app.backend().get(app.url(TOKEN)).send().await.unwrap()).await;
        assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, "invalid_request");
    });
}

// ---- form bodies and parameters (RFC 6749 §3.2, §5.2) ----

fn a_json_body_is_invalid_request(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let body = serde_json::json!({ "grant_type": "authorization_code", "code": code, "redirect_uri": CB });
        let req = app
            .backend()
            .post(app.url(TOKEN))
            .basic_auth(
                enc(&client.id),
                Some(enc(client.secret.as_deref().unwrap())),
            )
            .json(&body);
        let reply = read(req.send().await.unwrap()).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        // No body at all.
        let req = app.backend().post(app.url(TOKEN)).basic_auth(
            enc(&client.id),
            Some(enc(client.secret.as_deref().unwrap())),
        );
        assert_error(
            &read(req.send().await.unwrap()).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
    });
}

fn get_on_the_token_endpoint_is_405_with_allow_post(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.client();
        for path in [TOKEN, FRAPPE_TOKEN] {
            let query = format!(
                "?grant_type=client_credentials&client_id={}",
                enc(&client.id)
            );
            let reply = read(
                app.backend()
                    .get(app.url(&format!("{path}{query}")))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, "invalid_request");
            assert_eq!(reply.header("allow").as_deref(), Some("POST"), "{path}");
        }
    });
}

fn a_missing_grant_type_is_invalid_request(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let reply = token_request(
            &app,
            &client,
            &[("code", code.as_str()), ("redirect_uri", CB)],
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        // Empty counts as missing.
        let reply = token_request(
            &app,
            &client,
            &[("grant_type", ""), ("code", code.as_str())],
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
    });
}

fn the_password_grant_is_unsupported_grant_type(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let form = [
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", PASSWORD),
        ];
        let reply = token_request(&app, &client, &form).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "unsupported_grant_type");
        let reply = token_request(&app, &client, &[("grant_type", "urn:example:made-up")]).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "unsupported_grant_type");
    });
}

fn client_credentials_for_a_client_without_the_grant_is_unauthorized_client(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.client();
        let reply = token_request(&app, &client, &[("grant_type", "client_credentials")]).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "unauthorized_client");
        let reply = token_request(
            &app,
            &client,
            &[("grant_type", "client_credentials"), ("scope", "project")],
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "unauthorized_client");
    });
}

fn a_repeated_parameter_is_invalid_request(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let (c, cb, id) = (enc(&code), enc(CB), enc(&client.id));
        let bodies = [
            format!(
                "grant_type=authorization_code&grant_type=authorization_code&code={c}&redirect_uri={cb}"
            ),
            format!("grant_type=authorization_code&code={c}&code={c}&redirect_uri={cb}"),
            format!("grant_type=authorization_code&code={c}&redirect_uri={cb}&redirect_uri={cb}"),
            format!(
                "grant_type=authorization_code&code={c}&redirect_uri={cb}&client_id={id}&client_id={id}"
            ),
            format!(
                "grant_type=authorization_code&code={c}&redirect_uri={cb}&scope=openid&scope=openid"
            ),
        ];
        for body in bodies {
            let reply = post_raw(&app, &client, body.clone()).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        }
        // The code survived those malformed requests.
        let json = ok(&post_raw(
            &app,
            &client,
            format!("grant_type=authorization_code&code={c}&redirect_uri={cb}"),
        )
        .await);
        let rt = enc(refresh_token(&json));
        let body = format!("grant_type=refresh_token&refresh_token={rt}&refresh_token={rt}");
        assert_error(
            &post_raw(&app, &client, body).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
        // A client_secret_post client repeating its secret.
        let post = post_client(&app);
        let secret = enc(post.secret.as_deref().unwrap());
        let body = format!(
            "grant_type=refresh_token&refresh_token=x&client_id={}&client_secret={secret}&client_secret={secret}",
            enc(&post.id)
        );
        let req = app
            .backend()
            .post(app.url(TOKEN))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        assert_error(
            &read(req.send().await.unwrap()).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
    });
}

fn an_empty_parameter_counts_as_omitted(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        // An empty code_verifier is no verifier: no downgrade error.
        let code = code_for(&app, &client, "scope=openid%20profile&state=s").await;
        let json = ok(&exchange_at(&app, TOKEN, &client, &code, &[("code_verifier", "")]).await);
        // An empty scope on refresh is the granted scope.
        let json = ok(&refresh(&app, &client, refresh_token(&json), &[("scope", "")]).await);
        assert_eq!(scope_of(&json), scopes("openid profile"));
        // An empty client_secret beside HTTP Basic is not a second method.
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token(&json)),
            ("client_secret", ""),
        ];
        ok(&post_form(&app, TOKEN, creds(&client), &form).await);
    });
}

// ---- Frappe's path ----

fn the_frappe_path_behaves_like_the_standard_path(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        // The seed's flow, entirely on Frappe's paths.
        let code = code_at(
            &app,
            FRAPPE_AUTHORIZE,
            &client,
            "scope=openid%20project&state=s",
        )
        .await;
        let json = ok(&exchange_at(&app, FRAPPE_TOKEN, &client, &code, &[]).await);
        assert_seed_shape(&json, true);
        assert_eq!(scope_of(&json), scopes("openid project"));
        assert_works(&app, access_token(&json)).await;
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token(&json)),
            ("redirect_uri", CB),
        ];
        let next = ok(&post_form(&app, FRAPPE_TOKEN, creds(&client), &form).await);
        assert_seed_shape(&next, true);
        assert_works(&app, access_token(&next)).await;
        // Errors, the same as on the standard path.
        assert_invalid_grant(&exchange_at(&app, FRAPPE_TOKEN, &client, &code, &[]).await);
        assert_dead(&app, access_token(&json)).await;
        assert_invalid_client(
            &app,
            &post_form(&app, FRAPPE_TOKEN, None, &[("grant_type", "refresh_token")]).await,
        );
        let reply = post_form(
            &app,
            FRAPPE_TOKEN,
            creds(&client),
            &[("grant_type", "password")],
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "unsupported_grant_type");
        // A code from the standard path redeems on Frappe's and vice versa:
        // one endpoint, two names.
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        ok(&exchange_at(&app, FRAPPE_TOKEN, &client, &code, &[]).await);
        assert_invalid_grant(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
    });
}

// ---- client credentials (RFC 6749 §4.4) ----

fn client_credentials_issue_an_access_token_without_a_refresh_token(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.service_client();
        let json = ok(&token_request(
            &app,
            &client,
            &[("grant_type", "client_credentials"), ("scope", "project")],
        )
        .await);
        assert_seed_shape(&json, false);
        assert_eq!(scope_of(&json), scopes("project"));
        // No scope: the client's own.
        let json = ok(&token_request(&app, &client, &[("grant_type", "client_credentials")]).await);
        assert_seed_shape(&json, false);
        assert!(
            scope_of(&json).is_subset(&scopes("openid profile email project")),
            "{json}"
        );
        assert!(!scope_of(&json).is_empty(), "{json}");
        // With the secret in the body, too.
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client.id.as_str()),
            ("client_secret", client.secret.as_deref().unwrap()),
        ];
        assert_seed_shape(&ok(&post_form(&app, TOKEN, None, &form).await), false);
        // A wrong secret gets nothing.
        let form = [("grant_type", "client_credentials")];
        assert_invalid_client(
            &app,
            &post_form(
                &app,
                TOKEN,
                Some((&client.id, "wrong-secret-0123456789abcdef")),
                &form,
            )
            .await,
        );
    });
}

fn client_credentials_beyond_the_clients_scopes_is_invalid_scope(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.service_client();
        let reply = token_request(
            &app,
            &client,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "project admin"),
            ],
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_scope");
        // A service client registered for `project` only.
        let narrow = app.client_with(|m| {
            m.grant_types.push(GrantType::ClientCredentials);
            m.scopes = ScopeSet::parse("project").unwrap();
        });
        let reply = token_request(
            &app,
            &narrow,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "project email"),
            ],
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_scope");
        let json = ok(&token_request(&app, &narrow, &[("grant_type", "client_credentials")]).await);
        assert_eq!(scope_of(&json), scopes("project"));
    });
}

// ---- single use under concurrency ----

fn concurrent_redemptions_of_one_code_succeed_exactly_once(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        for _ in 0..2 {
            let code = code_for(&app, &client, "scope=openid&state=s").await;
            let form = vec![
                ("grant_type".to_owned(), "authorization_code".to_owned()),
                ("code".to_owned(), code.clone()),
                ("redirect_uri".to_owned(), CB.to_owned()),
            ];
            let replies = race(&app, &client, form, 10).await;
            assert_exactly_one_success(&replies);
            // And the code stays spent.
            assert_invalid_grant(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
        }
    });
}

fn concurrent_refreshes_of_one_token_succeed_exactly_once(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        for _ in 0..2 {
            let json = tokens_for(&app, &client, "alice", "openid").await;
            let form = vec![
                ("grant_type".to_owned(), "refresh_token".to_owned()),
                ("refresh_token".to_owned(), refresh_token(&json).to_owned()),
            ];
            let replies = race(&app, &client, form, 10).await;
            assert_exactly_one_success(&replies);
            // And the token stays spent.
            assert_invalid_grant(&refresh(&app, &client, refresh_token(&json), &[]).await);
        }
    });
}
