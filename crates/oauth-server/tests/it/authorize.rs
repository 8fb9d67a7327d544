//! The authorization endpoint, login and consent.

use oauth_store::test_support::TestDb;
use reqwest::StatusCode;

use crate::support::*;

oauth_store::test_on_both_backends!(
    the_seed_flow_end_to_end,
    deny_redirects_with_access_denied_and_state,
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
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 5, "{json}");
        for k in ["access_token", "token_type", "expires_in", "refresh_token", "scope"] {
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
