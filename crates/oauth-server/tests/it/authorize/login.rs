//! Login, logout and the session: returning to the request, failed and
//! forged logins, disabled users, open redirects and control characters.

use oauth_store::test_support::TestDb;
use reqwest::StatusCode;

use crate::support::*;

oauth_store::test_on_both_backends!(
    login_returns_to_the_request_byte_for_byte,
    disabled_users_cannot_log_in,
    wrong_password_and_unknown_user_get_the_same_answer,
    login_without_csrf_token_is_forbidden_and_changes_nothing,
    logout_ends_the_session,
    disabling_a_user_ends_their_session,
    login_never_redirects_off_this_origin,
    control_characters_in_login_and_request_are_clean_errors,
);

fn login_returns_to_the_request_byte_for_byte(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let browser = app.browser();
        // Unusual but valid encodings, and a state full of reserved characters.
        let query = format!(
            "scope=openid+project&state=a%2Fb%3Fc%3Dd%26e%20f%25&redirect_uri={}&response_type=code&client_id={}&nonce=n%2B1",
            enc(CB),
            client.id
        );
        let first = browser.get(&format!("/oauth/authorize?{query}")).await;
        let login_url = first.location();
        let page = browser.get(&login_url).await;
        let next = page.field("next");
        assert_eq!(next, format!("/oauth/authorize?{query}"));
        let login = browser.login("alice", PASSWORD, &next).await;
        assert_eq!(login.location(), next);
        let consent = browser.get(&next).await;
        let params = redirect_params(&browser.decide(&consent, "allow").await.location(), CB);
        assert_eq!(param(&params, "state"), Some("a/b?c=d&e f%"));
    });
}

fn disabled_users_cannot_log_in(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user_with("alice", |u| u.enabled = false);
        let reply = app.browser().login("alice", PASSWORD, "/").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.body.contains("Invalid username or password"));
    });
}

fn wrong_password_and_unknown_user_get_the_same_answer(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let browser = app.browser();
        let wrong = browser.login("alice", "not the password", "/").await;
        let unknown = app.browser().login("mallory", PASSWORD, "/").await;
        assert_eq!(wrong.status, unknown.status);
        assert!(wrong.body.contains("Invalid username or password."));
        assert!(unknown.body.contains("Invalid username or password."));
        // Still not logged in.
        assert!(browser.get("/").await.location().starts_with("/login"));
    });
}

fn login_without_csrf_token_is_forbidden_and_changes_nothing(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let browser = app.browser();
        browser.get("/login").await;
        for token in [None, Some("forged")] {
            let mut form = vec![("username", "alice"), ("password", PASSWORD), ("next", "/")];
            if let Some(token) = token {
                form.push(("csrf_token", token));
            }
            let reply = browser.post("/login", &form).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{token:?}");
        }
        assert!(
            browser.get("/").await.location().starts_with("/login"),
            "a forged login must not log in"
        );
    });
}

fn logout_ends_the_session(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let browser = logged_in(&app, "alice").await;
        let home = browser.get("/").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(
            browser
                .post("/logout", &[("csrf_token", "forged")])
                .await
                .status
                == StatusCode::FORBIDDEN
        );
        assert_eq!(
            browser.get("/").await.status,
            StatusCode::OK,
            "a forged logout changes nothing"
        );
        let out = browser
            .post("/logout", &[("csrf_token", &home.field("csrf_token"))])
            .await;
        assert_eq!(out.location(), "/login");
        assert!(browser.get("/").await.location().starts_with("/login"));
    });
}

fn disabling_a_user_ends_their_session(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let alice = app.user("alice");
        let client = app.client();
        let browser = logged_in(&app, "alice").await;
        oauth_store::users::set_enabled(
            &mut app.db.conn().unwrap(),
            &alice.id,
            false,
            oauth_core::Timestamp::from_unix(0),
        )
        .unwrap();
        let reply = browser
            .get(&format!("/oauth/authorize?{}", client.authorize_query("")))
            .await;
        assert!(
            reply.location().starts_with("/login"),
            "a disabled user's session must not authorize"
        );
    });
}

fn login_never_redirects_off_this_origin(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        for next in [
            "/\t/evil.example/x",
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "/\u{1}",
        ] {
            let reply = app.browser().login("alice", PASSWORD, next).await;
            assert_eq!(
                reply.status,
                StatusCode::SEE_OTHER,
                "{next:?}: {}",
                reply.body
            );
            assert_eq!(reply.location(), "/", "{next:?}");
        }
    });
}

fn control_characters_in_login_and_request_are_clean_errors(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        // A NUL in the username: the ordinary failure, not a database error.
        let reply = app.browser().login("al\u{0}ice", PASSWORD, "/").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.body.contains("Invalid username or password."));
        let browser = logged_in(&app, "alice").await;
        for extra in ["nonce=a%00b", "state=a%00b"] {
            let params = redirected_error(&browser, &client.authorize_query(extra)).await;
            assert_eq!(param(&params, "error"), Some("invalid_request"), "{extra}");
        }
    });
}
