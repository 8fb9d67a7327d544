//! Resource indicators (RFC 8707): the `resource` parameter at the
//! authorization and token endpoints becomes the access token's audience,
//! seen through introspection; and the implicit grant (RFC 6749 §4.2), whose
//! answers travel in the redirect URI's fragment.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth_core::{AccessTokenFormat, GrantType};
use oauth_store::test_support::TestDb;
use reqwest::StatusCode;
use serde_json::Value;

use crate::introspect::{audience, describe, set};
use crate::support::*;

oauth_store::test_on_both_backends!(
    // The authorization code grant.
    authorize_resources_become_the_access_tokens_audience,
    a_jwt_access_tokens_aud_claim_is_the_authorized_resources,
    a_token_request_may_narrow_the_audience_to_a_subset,
    a_token_request_for_a_resource_not_authorized_is_invalid_target,
    a_malformed_resource_at_authorize_redirects_invalid_target_with_state,
    a_malformed_resource_at_the_token_endpoint_is_invalid_target,
    // Refresh.
    refresh_keeps_the_grants_resources_and_may_narrow_but_not_widen,
    refresh_after_a_narrowed_code_exchange_may_reach_every_authorized_resource,
    // Client credentials.
    client_credentials_resources_become_the_audience,
    // The implicit grant.
    the_implicit_grant_answers_in_the_fragment_without_refresh_or_id_token,
    an_implicit_access_token_opens_userinfo_and_introspects_active,
    implicit_resources_become_the_audience,
    implicit_errors_go_in_the_fragment_with_state,
    response_type_token_without_the_implicit_grant_is_unsupported_response_type_in_the_query,
);

/// Two resource servers, and one never authorized.
const RS_A: &str = "https://a.example/api";
const RS_B: &str = "https://b.example/";
const RS_C: &str = "https://c.example/";
/// Resource indicators RFC 8707 §2 forbids: not absolute, or with a
/// fragment.
const MALFORMED: [&str; 3] = [
    "/relative/path",
    "https://a.example/api#section",
    "not a uri",
];

// ---- helpers, shared with the other modules of this binary ----

/// Runs the front channel of an authorization request at
/// `/oauth/authorize` as `username` (logging in when sent to the login
/// page, allowing the consent page) and returns the final redirect's
/// `Location`, untouched.
pub async fn final_redirect(browser: &Browser, query: &str, username: &str) -> String {
    let path = "/oauth/authorize";
    let next = format!("{path}?{query}");
    let mut reply = browser.get(&next).await;
    if reply.status == StatusCode::SEE_OTHER && reply.location().starts_with("/login") {
        let login = browser.login(username, PASSWORD, &next).await;
        assert_eq!(
            login.status,
            StatusCode::SEE_OTHER,
            "login failed: {}",
            login.body
        );
        reply = browser.get(&next).await;
    }
    if reply.status == StatusCode::OK {
        reply = browser.decide(&reply, "allow").await;
    }
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    reply.location()
}

/// The parameters of a redirect to [`CB`] that carries them in the
/// fragment, with nothing in the query (RFC 6749 §4.2.2).
pub fn fragment_params(location: &str) -> Vec<(String, String)> {
    let (base, fragment) = location
        .split_once('#')
        .unwrap_or_else(|| panic!("no fragment in {location}"));
    assert_eq!(
        base, CB,
        "redirected to the wrong place, or with a query: {location}"
    );
    url::form_urlencoded::parse(fragment.as_bytes())
        .into_owned()
        .collect()
}

/// The authorization request query of the implicit grant for `client`.
pub fn implicit_query(client: &TestClient, extra: &str) -> String {
    format!(
        "client_id={}&response_type=token&redirect_uri={}&{extra}",
        enc(&client.id),
        enc(CB)
    )
}

/// A client registered with the implicit grant as well.
pub fn implicit_client(app: &TestServer) -> TestClient {
    app.client_with(|m| m.grant_types.push(GrantType::Implicit))
}

/// `resource=…` for each of `resources`, encoded.
fn resource_params(resources: &[&str]) -> String {
    resources
        .iter()
        .map(|r| format!("resource={}", enc(r)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Runs the code flow's front channel as alice with `resources` and returns
/// the code.
async fn code_for(app: &TestServer, client: &TestClient, resources: &[&str]) -> String {
    let extra = format!("scope=openid&state=s&{}", resource_params(resources));
    let params = app
        .browser()
        .authorize_and_allow("/oauth/authorize", &client.authorize_query(&extra), "alice")
        .await;
    param(&params, "code").expect("a code").to_owned()
}

/// Exchanges `code` asking for `resources` (none: all that were
/// authorized).
async fn exchange(app: &TestServer, client: &TestClient, code: &str, resources: &[&str]) -> Reply {
    let extra: Vec<(&str, &str)> = resources.iter().map(|r| ("resource", *r)).collect();
    exchange_code(app, client, code, &extra).await
}

async fn refresh(app: &TestServer, client: &TestClient, token: &str, resources: &[&str]) -> Reply {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    form.extend(resources.iter().map(|r| ("resource", *r)));
    token_request(app, client, &form).await
}

/// A 200 token response's JSON.
fn ok(reply: &Reply) -> Value {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()
}

fn s(json: &Value, key: &str) -> String {
    json[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {json}"))
        .to_owned()
}

/// 400 `invalid_target` (RFC 8707 §2).
fn assert_invalid_target(reply: &Reply, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "{what}: {}",
        reply.body
    );
    assert_eq!(
        reply.json()["error"],
        "invalid_target",
        "{what}: {}",
        reply.body
    );
}

/// The audience of an access token, as a resource server learns it.
async fn aud_of(app: &TestServer, resource_server: &TestClient, access: &str) -> BTreeSet<String> {
    let json = describe(app, resource_server, access).await;
    assert_eq!(json["active"], true, "{json}");
    audience(&json)
}

fn keys(params: &[(String, String)]) -> BTreeSet<&str> {
    params.iter().map(|(k, _)| k.as_str()).collect()
}

// ---- the authorization code grant ----

fn authorize_resources_become_the_access_tokens_audience(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let rs = app.client();
        // Repeated, and one of them twice.
        let code = code_for(&app, &client, &[RS_B, RS_A, RS_B]).await;
        let tokens = ok(&exchange(&app, &client, &code, &[]).await);
        assert_eq!(
            aud_of(&app, &rs, &s(&tokens, "access_token")).await,
            set(&[RS_A, RS_B])
        );
    });
}

fn a_jwt_access_tokens_aud_claim_is_the_authorized_resources(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client_with(|m| m.access_token_format = AccessTokenFormat::Jwt);
        let rs = app.client();
        let code = code_for(&app, &client, &[RS_A, RS_B]).await;
        let access = s(
            &ok(&exchange(&app, &client, &code, &[]).await),
            "access_token",
        );
        let payload = access.split('.').nth(1).expect("a JWT");
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(audience(&claims), set(&[RS_A, RS_B]), "{claims}");
        assert_eq!(aud_of(&app, &rs, &access).await, set(&[RS_A, RS_B]));
    });
}

fn a_token_request_may_narrow_the_audience_to_a_subset(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let rs = app.client();
        let code = code_for(&app, &client, &[RS_A, RS_B]).await;
        let tokens = ok(&exchange(&app, &client, &code, &[RS_A]).await);
        assert_eq!(
            aud_of(&app, &rs, &s(&tokens, "access_token")).await,
            set(&[RS_A])
        );
    });
}

fn a_token_request_for_a_resource_not_authorized_is_invalid_target(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        for asked in [&[RS_C][..], &[RS_A, RS_C][..]] {
            let code = code_for(&app, &client, &[RS_A, RS_B]).await;
            let reply = exchange(&app, &client, &code, asked).await;
            assert_invalid_target(&reply, &format!("asking for {asked:?}"));
        }
    });
}

fn a_malformed_resource_at_authorize_redirects_invalid_target_with_state(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let browser = app.browser();
        for bad in MALFORMED {
            let query = client.authorize_query(&format!(
                "scope=openid&state=xyz&resource={}&resource={}",
                enc(RS_A),
                enc(bad)
            ));
            let reply = browser.get(&format!("/oauth/authorize?{query}")).await;
            assert_eq!(reply.status, StatusCode::SEE_OTHER, "{bad}: {}", reply.body);
            let params = redirect_params(&reply.location(), CB);
            assert_eq!(
                param(&params, "error"),
                Some("invalid_target"),
                "{bad}: {params:?}"
            );
            assert_eq!(param(&params, "state"), Some("xyz"), "{bad}: {params:?}");
            assert_eq!(
                param(&params, "iss"),
                Some(app.issuer()),
                "{bad}: {params:?}"
            );
            assert_eq!(param(&params, "code"), None, "{bad}: {params:?}");
        }
    });
}

fn a_malformed_resource_at_the_token_endpoint_is_invalid_target(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let service = app.service_client();
        for bad in MALFORMED {
            let code = code_for(&app, &client, &[]).await;
            let reply = exchange(&app, &client, &code, &[bad]).await;
            assert_invalid_target(&reply, &format!("code exchange with {bad:?}"));

            let code = code_for(&app, &client, &[RS_A]).await;
            let tokens = ok(&exchange(&app, &client, &code, &[]).await);
            let reply = refresh(&app, &client, &s(&tokens, "refresh_token"), &[bad]).await;
            assert_invalid_target(&reply, &format!("refresh with {bad:?}"));

            let reply = token_request(
                &app,
                &service,
                &[("grant_type", "client_credentials"), ("resource", bad)],
            )
            .await;
            assert_invalid_target(&reply, &format!("client credentials with {bad:?}"));
        }
    });
}

// ---- refresh ----

fn refresh_keeps_the_grants_resources_and_may_narrow_but_not_widen(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let rs = app.client();
        let code = code_for(&app, &client, &[RS_A, RS_B]).await;
        let tokens = ok(&exchange(&app, &client, &code, &[]).await);

        // No resource: the grant's.
        let first = ok(&refresh(&app, &client, &s(&tokens, "refresh_token"), &[]).await);
        assert_eq!(
            aud_of(&app, &rs, &s(&first, "access_token")).await,
            set(&[RS_A, RS_B])
        );
        // One of them: narrowed.
        let second = ok(&refresh(&app, &client, &s(&first, "refresh_token"), &[RS_B]).await);
        assert_eq!(
            aud_of(&app, &rs, &s(&second, "access_token")).await,
            set(&[RS_B])
        );
        // Narrowing one access token leaves the grant whole.
        let third = ok(&refresh(&app, &client, &s(&second, "refresh_token"), &[]).await);
        assert_eq!(
            aud_of(&app, &rs, &s(&third, "access_token")).await,
            set(&[RS_A, RS_B])
        );
        // Another resource: refused.
        let reply = refresh(&app, &client, &s(&third, "refresh_token"), &[RS_A, RS_C]).await;
        assert_invalid_target(&reply, "refresh beyond the grant");
    });
}

/// RFC 8707 §2.2: "In the authorization_code case where the requested
/// resources are a subset of the set of resources originally granted, the
/// authorization server will issue an access token based on that subset of
/// requested resources, whereas any refresh token that is returned is bound
/// to the full original grant."
fn refresh_after_a_narrowed_code_exchange_may_reach_every_authorized_resource(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let rs = app.client();
        let code = code_for(&app, &client, &[RS_A, RS_B]).await;
        let tokens = ok(&exchange(&app, &client, &code, &[RS_A]).await);
        assert_eq!(
            aud_of(&app, &rs, &s(&tokens, "access_token")).await,
            set(&[RS_A])
        );
        let reply = refresh(&app, &client, &s(&tokens, "refresh_token"), &[RS_B]).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "the refresh token should be bound to the full original grant [{RS_A}, {RS_B}], \
             not to the narrowed first access token: {}",
            reply.body
        );
        let refreshed = reply.json();
        assert_eq!(
            aud_of(&app, &rs, &s(&refreshed, "access_token")).await,
            set(&[RS_B])
        );
        let whole = ok(&refresh(&app, &client, &s(&refreshed, "refresh_token"), &[]).await);
        assert_eq!(
            aud_of(&app, &rs, &s(&whole, "access_token")).await,
            set(&[RS_A, RS_B])
        );
    });
}

// ---- client credentials ----

fn client_credentials_resources_become_the_audience(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let service = app.service_client();
        let rs = app.client();
        let reply = token_request(
            &app,
            &service,
            &[
                ("grant_type", "client_credentials"),
                ("resource", RS_A),
                ("resource", RS_B),
            ],
        )
        .await;
        let access = s(&ok(&reply), "access_token");
        assert_eq!(aud_of(&app, &rs, &access).await, set(&[RS_A, RS_B]));

        let reply = token_request(&app, &service, &[("grant_type", "client_credentials")]).await;
        let access = s(&ok(&reply), "access_token");
        assert_eq!(aud_of(&app, &rs, &access).await, set(&[app.issuer()]));
    });
}

// ---- the implicit grant ----

fn the_implicit_grant_answers_in_the_fragment_without_refresh_or_id_token(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = implicit_client(&app);
        let location = final_redirect(
            &app.browser(),
            &implicit_query(&client, "scope=openid%20profile&state=xyz&nonce=n-1"),
            "alice",
        )
        .await;
        assert!(
            location.starts_with(&format!("{CB}#")),
            "not in the fragment: {location}"
        );
        assert!(
            !location.contains('?'),
            "something in the query: {location}"
        );
        let params = fragment_params(&location);
        assert_eq!(
            keys(&params),
            BTreeSet::from([
                "access_token",
                "token_type",
                "expires_in",
                "scope",
                "state",
                "iss"
            ]),
            "{params:?}"
        );
        assert!(param(&params, "access_token").is_some_and(|t| !t.is_empty()));
        assert_eq!(param(&params, "token_type"), Some("Bearer"));
        assert_eq!(param(&params, "expires_in"), Some("3600"));
        let scopes: BTreeSet<&str> = param(&params, "scope").unwrap().split(' ').collect();
        assert_eq!(scopes, BTreeSet::from(["openid", "profile"]));
        assert_eq!(param(&params, "state"), Some("xyz"));
        assert_eq!(param(&params, "iss"), Some(app.issuer()));
    });
}

fn an_implicit_access_token_opens_userinfo_and_introspects_active(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let alice = app.user("alice");
        let client = implicit_client(&app);
        let rs = app.client();
        let location = final_redirect(
            &app.browser(),
            &implicit_query(&client, "scope=openid%20email&state=xyz"),
            "alice",
        )
        .await;
        let params = fragment_params(&location);
        let access = param(&params, "access_token").expect("an access token");
        let info = userinfo(&app, access).await;
        assert_eq!(info.status, StatusCode::OK, "{}", info.body);
        let info = info.json();
        assert_eq!(info["sub"], alice.id.to_string(), "{info}");
        assert_eq!(info["email"], "alice@example.com", "{info}");
        let json = describe(&app, &rs, access).await;
        assert_eq!(json["active"], true, "{json}");
        assert_eq!(json["client_id"], client.id.as_str(), "{json}");
        assert_eq!(json["token_type"], "Bearer", "{json}");
        assert_eq!(audience(&json), set(&[app.issuer()]), "{json}");
    });
}

fn implicit_resources_become_the_audience(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = implicit_client(&app);
        let rs = app.client();
        let extra = format!("scope=openid&state=xyz&{}", resource_params(&[RS_A, RS_B]));
        let location =
            final_redirect(&app.browser(), &implicit_query(&client, &extra), "alice").await;
        let params = fragment_params(&location);
        let access = param(&params, "access_token").expect("an access token");
        assert_eq!(aud_of(&app, &rs, access).await, set(&[RS_A, RS_B]));
    });
}

fn implicit_errors_go_in_the_fragment_with_state(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = implicit_client(&app);
        let browser = app.browser();
        // Errors found while validating: redirected at once.
        let relative = format!("scope=openid&state=xyz&resource={}", enc("/relative"));
        let cases = [
            ("scope=admin&state=xyz", "invalid_scope"),
            (relative.as_str(), "invalid_target"),
            (
                "scope=openid&state=xyz&response_mode=query",
                "invalid_request",
            ),
        ];
        for (extra, error) in cases {
            let reply = browser
                .get(&format!(
                    "/oauth/authorize?{}",
                    implicit_query(&client, extra)
                ))
                .await;
            assert_eq!(
                reply.status,
                StatusCode::SEE_OTHER,
                "{extra}: {}",
                reply.body
            );
            let location = reply.location();
            assert!(!location.contains('?'), "{extra}: in the query: {location}");
            let params = fragment_params(&location);
            assert_eq!(param(&params, "error"), Some(error), "{extra}: {params:?}");
            assert_eq!(param(&params, "state"), Some("xyz"), "{extra}: {params:?}");
            assert_eq!(
                param(&params, "iss"),
                Some(app.issuer()),
                "{extra}: {params:?}"
            );
            assert_eq!(param(&params, "access_token"), None, "{extra}: {params:?}");
        }
        // The user's refusal.
        let query = implicit_query(&client, "scope=openid&state=xyz");
        let next = format!("/oauth/authorize?{query}");
        let login = browser.login("alice", PASSWORD, &next).await;
        assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
        let consent = browser.get(&next).await;
        let reply = browser.decide(&consent, "deny").await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let location = reply.location();
        assert!(!location.contains('?'), "in the query: {location}");
        let params = fragment_params(&location);
        assert_eq!(param(&params, "error"), Some("access_denied"), "{params:?}");
        assert_eq!(param(&params, "state"), Some("xyz"), "{params:?}");
        assert_eq!(param(&params, "iss"), Some(app.issuer()), "{params:?}");
    });
}

fn response_type_token_without_the_implicit_grant_is_unsupported_response_type_in_the_query(
    t: &TestDb,
) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let browser = app.browser();
        let query = implicit_query(&client, "scope=openid&state=xyz");
        let reply = browser.get(&format!("/oauth/authorize?{query}")).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let location = reply.location();
        assert!(!location.contains('#'), "in the fragment: {location}");
        let params = redirect_params(&location, CB);
        assert_eq!(
            param(&params, "error"),
            Some("unsupported_response_type"),
            "{params:?}"
        );
        assert_eq!(param(&params, "state"), Some("xyz"), "{params:?}");
        assert_eq!(param(&params, "iss"), Some(app.issuer()), "{params:?}");
        assert_eq!(param(&params, "access_token"), None, "{params:?}");
        // Logged in, the answer is the same: no token is issued.
        let next = format!("/oauth/authorize?{query}");
        let login = browser.login("alice", PASSWORD, &next).await;
        assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
        let reply = browser.get(&next).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let params = redirect_params(&reply.location(), CB);
        assert_eq!(param(&params, "error"), Some("unsupported_response_type"));
    });
}
