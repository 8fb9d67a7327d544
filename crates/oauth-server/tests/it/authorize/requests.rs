//! The authorization request: the seed's flow end to end, errors shown
//! as a page or redirected to the client, the default scope, POST, and
//! PKCE for public clients.

use oauth_store::test_support::TestDb;
use reqwest::StatusCode;

use crate::support::*;

oauth_store::test_on_both_backends!(
    the_seed_flow_end_to_end,
    deny_redirects_with_access_denied_and_state,
    unknown_clients_get_a_page_and_no_redirect,
    bad_redirect_uris_get_a_page_and_no_redirect,
    later_errors_redirect_with_error_state_and_iss,
    scope_defaults_to_the_clients_scopes,
    post_authorize_reads_the_form_body,
    public_clients_must_use_pkce_s256,
);

fn the_seed_flow_end_to_end(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let browser = app.browser();
        let path = "/api/method/frappe.integrations.oauth2.authorize";
        let query = format!(
            "client_id={}&scope=openid%20project&response_type=code&redirect_uri={}&state=xyz",
            client.id,
            enc(CB)
        );
        // Not logged in: to the login page, carrying the request.
        let first = browser.get(&format!("{path}?{query}")).await;
        assert_eq!(first.status, StatusCode::SEE_OTHER);
        assert!(first.location().starts_with("/login?next="));
        // Logging in comes back to the very same request, byte for byte.
        let next = format!("{path}?{query}");
        let login = browser.login("alice", PASSWORD, &next).await;
        assert_eq!(login.status, StatusCode::SEE_OTHER);
        assert_eq!(login.location(), next);
        // The consent page names the client and each scope.
        let consent = browser.get(&next).await;
        assert_eq!(consent.status, StatusCode::OK);
        assert!(consent.body.contains("Demo App"));
        assert!(consent.body.contains("project"));
        assert!(consent.body.contains("id=\"allow\"") && consent.body.contains("id=\"deny\""));
        // Allow: back to the client with code, state and iss.
        let allowed = browser.decide(&consent, "allow").await;
        assert_eq!(allowed.status, StatusCode::SEE_OTHER);
        let params = redirect_params(&allowed.location(), CB);
        assert_eq!(param(&params, "state"), Some("xyz"));
        assert_eq!(param(&params, "iss"), Some(app.issuer()));
        let code = param(&params, "code").unwrap();
        // The token endpoint answers the seed's shape, uncached.
        let reply = exchange_code(&app, &client, code, &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));
        assert_eq!(reply.header("pragma").as_deref(), Some("no-cache"));
        let json = reply.json();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        // The seed's five members, and an ID token since openid was granted.
        assert_eq!(keys.len(), 6, "{json}");
        for k in [
            "access_token",
            "token_type",
            "expires_in",
            "refresh_token",
            "scope",
            "id_token",
        ] {
            assert!(keys.contains(&k), "{k} missing from {json}");
        }
        assert_eq!(json["token_type"], "Bearer");
        assert_eq!(json["expires_in"], 3600);
        assert_eq!(json["scope"], "openid project");
        // And the token opens userinfo.
        let info = userinfo(&app, json["access_token"].as_str().unwrap()).await;
        assert_eq!(info.status, StatusCode::OK, "{}", info.body);
        assert!(info.json()["sub"].is_string());
    });
}

fn deny_redirects_with_access_denied_and_state(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let browser = app.browser();
        let query = client.authorize_query("scope=project&state=abc");
        browser.login("alice", PASSWORD, "/").await;
        let consent = browser.get(&format!("/oauth/authorize?{query}")).await;
        let denied = browser.decide(&consent, "deny").await;
        assert_eq!(denied.status, StatusCode::SEE_OTHER);
        let params = redirect_params(&denied.location(), CB);
        assert_eq!(param(&params, "error"), Some("access_denied"));
        assert_eq!(param(&params, "state"), Some("abc"));
        assert_eq!(param(&params, "iss"), Some(app.issuer()));
        assert_eq!(param(&params, "code"), None);
    });
}

/// An authorize request that must render a 400 page and not redirect.
async fn assert_error_page(browser: &Browser, query: &str) {
    let reply = browser.get(&format!("/oauth/authorize?{query}")).await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "{query}: {}",
        reply.body
    );
    assert!(reply.header("location").is_none(), "{query} redirected");
    assert!(reply.body.contains("<html"), "{query}: not a page");
}

fn unknown_clients_get_a_page_and_no_redirect(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let browser = app.browser();
        assert_error_page(
            &browser,
            &format!("client_id=nope&response_type=code&redirect_uri={}", enc(CB)),
        )
        .await;
        assert_error_page(
            &browser,
            &format!("response_type=code&redirect_uri={}", enc(CB)),
        )
        .await;
        let client = app.client();
        assert_error_page(
            &browser,
            &format!("client_id={0}&client_id={0}&response_type=code", client.id),
        )
        .await;
    });
}

fn bad_redirect_uris_get_a_page_and_no_redirect(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.client();
        let browser = app.browser();
        for redirect in [
            "https://evil.example/oauth_code",
            "http://localhost:3000/oauth_code/",
            "http://localhost:3000/oauth_code?x=1",
            "http://LOCALHOST:3000/oauth_code",
            "http://localhost:3000/oauth_code#frag",
            "not a uri",
        ] {
            assert_error_page(
                &browser,
                &format!(
                    "client_id={}&response_type=code&redirect_uri={}",
                    client.id,
                    enc(redirect)
                ),
            )
            .await;
        }
        // Repeated, even with the same value.
        assert_error_page(
            &browser,
            &format!("{}&redirect_uri={}", client.authorize_query(""), enc(CB)),
        )
        .await;
    });
}

fn later_errors_redirect_with_error_state_and_iss(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.client();
        let browser = app.browser();
        let base = format!("client_id={}&redirect_uri={}&state=st", client.id, enc(CB));
        for (extra, error) in [
            ("", "invalid_request"),
            ("&response_type=token", "unsupported_response_type"),
            ("&response_type=code&scope=admin", "invalid_scope"),
            (
                "&response_type=code&scope=openid&scope=project",
                "invalid_request",
            ),
            (
                "&response_type=code&request=eyJhbGciOiJub25lIn0",
                "request_not_supported",
            ),
            (
                "&response_type=code&request_uri=https%3A%2F%2Fx.example%2Fr",
                "request_uri_not_supported",
            ),
            (
                "&response_type=code&code_challenge_method=S256",
                "invalid_request",
            ),
        ] {
            let params = redirected_error(&browser, &format!("{base}{extra}")).await;
            assert_eq!(param(&params, "error"), Some(error), "{extra}");
            assert!(param(&params, "error_description").is_some(), "{extra}");
            assert_eq!(param(&params, "state"), Some("st"), "{extra}");
            assert_eq!(param(&params, "iss"), Some(app.issuer()), "{extra}");
        }
    });
}

fn scope_defaults_to_the_clients_scopes(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let browser = logged_in(&app, "alice").await;
        let consent = browser
            .get(&format!("/oauth/authorize?{}", client.authorize_query("")))
            .await;
        for scope in ["openid", "profile", "email", "project"] {
            assert!(
                consent
                    .body
                    .contains(&format!("<code class=\"scope-name\">{scope}</code>")),
                "{scope}"
            );
        }
        let params = redirect_params(&browser.decide(&consent, "allow").await.location(), CB);
        let reply = exchange_code(&app, &client, param(&params, "code").unwrap(), &[]).await;
        assert_eq!(reply.json()["scope"], "email openid profile project");
    });
}

fn post_authorize_reads_the_form_body(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let browser = logged_in(&app, "alice").await;
        let consent = browser
            .post(
                "/oauth/authorize",
                &[
                    ("client_id", client.id.as_str()),
                    ("response_type", "code"),
                    ("redirect_uri", CB),
                    ("scope", "project"),
                    ("state", "p"),
                ],
            )
            .await;
        assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
        let params = redirect_params(&browser.decide(&consent, "allow").await.location(), CB);
        assert_eq!(param(&params, "state"), Some("p"));
        assert!(param(&params, "code").is_some());
    });
}

fn public_clients_must_use_pkce_s256(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.public_client();
        let browser = logged_in(&app, "alice").await;
        let params = redirected_error(&browser, &client.authorize_query("state=x")).await;
        assert_eq!(param(&params, "error"), Some("invalid_request"));
        let plain = "p".repeat(43);
        let params = redirected_error(
            &browser,
            &client.authorize_query(&format!(
                "code_challenge={plain}&code_challenge_method=plain"
            )),
        )
        .await;
        assert_eq!(param(&params, "error"), Some("invalid_request"));
        let verifier = oauth_core::CodeVerifier::generate(&mut rand::rng());
        let challenge = oauth_core::CodeChallenge::s256_of(&verifier);
        let query = client.authorize_query(&format!(
            "code_challenge={}&code_challenge_method=S256",
            challenge.as_str()
        ));
        let params = browser
            .authorize_and_allow("/oauth/authorize", &query, "alice")
            .await;
        let reply = exchange_code(
            &app,
            &client,
            param(&params, "code").unwrap(),
            &[("code_verifier", verifier.expose_secret())],
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    });
}
