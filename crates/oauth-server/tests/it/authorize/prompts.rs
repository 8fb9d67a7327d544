//! The OpenID Connect request parameters that steer login and consent:
//! `prompt`, `max_age`, `login_hint` and `id_token_hint`.

use oauth_store::test_support::TestDb;
use reqwest::StatusCode;

use crate::support::*;

oauth_store::test_on_both_backends!(
    prompt_none_without_a_session_is_login_required,
    prompt_none_needing_consent_is_consent_required,
    prompt_login_asks_again_then_proceeds,
    max_age_zero_forces_a_new_login,
    login_hint_prefills_the_login_page,
    id_token_hint_is_checked_against_the_logged_in_user,
);

fn prompt_none_without_a_session_is_login_required(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.client();
        let params = redirected_error(
            &app.browser(),
            &client.authorize_query("prompt=none&state=n"),
        )
        .await;
        assert_eq!(param(&params, "error"), Some("login_required"));
        assert_eq!(param(&params, "state"), Some("n"));
    });
}

fn prompt_none_needing_consent_is_consent_required(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let browser = logged_in(&app, "alice").await;
        let params = redirected_error(&browser, &client.authorize_query("prompt=none")).await;
        assert_eq!(param(&params, "error"), Some("consent_required"));
        // A trusted client needs no consent: prompt=none yields a code.
        let trusted = app.client_with(|m| m.skip_authorization = true);
        let reply = browser
            .get(&format!(
                "/oauth/authorize?{}",
                trusted.authorize_query("prompt=none")
            ))
            .await;
        assert!(param(&redirect_params(&reply.location(), CB), "code").is_some());
    });
}

fn prompt_login_asks_again_then_proceeds(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let browser = logged_in(&app, "alice").await;
        let next = format!(
            "/oauth/authorize?{}",
            client.authorize_query("prompt=login")
        );
        let reply = browser.get(&next).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        assert!(
            reply.location().starts_with("/login"),
            "already logged in, but prompt=login must ask again"
        );
        let login = browser.login("alice", PASSWORD, &next).await;
        assert_eq!(login.location(), next);
        // Back from the login page: no loop, the dialog shows.
        let consent = browser.get(&next).await;
        assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
        // The fresh login counts once: the same request later asks again.
        assert!(browser.get(&next).await.location().starts_with("/login"));
    });
}

fn max_age_zero_forces_a_new_login(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let browser = logged_in(&app, "alice").await;
        app.advance(std::time::Duration::from_secs(5));
        let next = format!("/oauth/authorize?{}", client.authorize_query("max_age=0"));
        assert!(browser.get(&next).await.location().starts_with("/login"));
        let relaxed = format!(
            "/oauth/authorize?{}",
            client.authorize_query("max_age=3600")
        );
        assert_eq!(browser.get(&relaxed).await.status, StatusCode::OK);
    });
}

fn login_hint_prefills_the_login_page(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.client();
        let browser = app.browser();
        let first = browser
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query("login_hint=alice%40example.com")
            ))
            .await;
        let page = browser.get(&first.location()).await;
        assert_eq!(page.field("username"), "alice@example.com");
    });
}

fn id_token_hint_is_checked_against_the_logged_in_user(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        app.user_with("bob", |u| u.email = None);
        let client = app.client_with(|m| m.skip_authorization = true);
        // An ID token for alice.
        let alice_tokens = tokens_for(&app, &client, "alice", "openid").await;
        let hint = alice_tokens["id_token"].as_str().unwrap().to_owned();
        // Alice logged in: the hint matches, a code comes back.
        let alice = logged_in(&app, "alice").await;
        let ok = alice
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query(&format!("prompt=none&id_token_hint={hint}"))
            ))
            .await;
        assert!(param(&redirect_params(&ok.location(), CB), "code").is_some());
        // Bob logged in, the client expects alice.
        let bob = logged_in(&app, "bob").await;
        let params = redirected_error(
            &bob,
            &client.authorize_query(&format!("prompt=none&id_token_hint={hint}")),
        )
        .await;
        assert_eq!(param(&params, "error"), Some("login_required"));
        let reply = bob
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query(&format!("id_token_hint={hint}"))
            ))
            .await;
        assert!(
            reply.location().starts_with("/login"),
            "bob must log in as the expected user"
        );
        // Not one of ours.
        let params = redirected_error(
            &alice,
            &client.authorize_query("id_token_hint=eyJhbGciOiJub25lIn0.e30."),
        )
        .await;
        assert_eq!(param(&params, "error"), Some("invalid_request"));
    });
}
