//! The consent dialog: allowed roles, trusted clients, the consent modes,
//! and the decision's CSRF protection and single use.

use oauth_store::test_support::TestDb;
use reqwest::StatusCode;

use crate::support::*;

oauth_store::test_on_both_backends!(
    users_without_an_allowed_role_are_denied,
    trusted_clients_skip_the_dialog,
    consent_mode_force_asks_every_time,
    consent_mode_auto_asks_once_and_again_for_new_scopes,
    consent_without_csrf_token_is_forbidden_and_issues_nothing,
    a_consent_decision_is_single_use,
    a_consent_decision_from_another_session_is_refused,
    a_consent_decision_replayed_with_a_copied_cookie_is_refused,
);

fn users_without_an_allowed_role_are_denied(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client_with(|m| {
            m.allowed_roles = vec![oauth_core::Role::parse("System Manager").unwrap()]
        });
        let browser = logged_in(&app, "alice").await;
        let params = redirected_error(&browser, &client.authorize_query("state=r")).await;
        assert_eq!(param(&params, "error"), Some("access_denied"));
        assert_eq!(param(&params, "state"), Some("r"));
        // A user holding the role gets through.
        app.user_with("root", |u| {
            u.roles
                .push(oauth_core::Role::parse("System Manager").unwrap())
        });
        let admin = logged_in(&app, "root").await;
        let consent = admin
            .get(&format!("/oauth/authorize?{}", client.authorize_query("")))
            .await;
        assert_eq!(consent.status, StatusCode::OK);
    });
}

fn trusted_clients_skip_the_dialog(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client_with(|m| m.skip_authorization = true);
        let browser = logged_in(&app, "alice").await;
        let reply = browser
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query("state=t")
            ))
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        let params = redirect_params(&reply.location(), CB);
        assert!(param(&params, "code").is_some());
        assert_eq!(param(&params, "state"), Some("t"));
    });
}

fn consent_mode_force_asks_every_time(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let browser = logged_in(&app, "alice").await;
        for _ in 0..2 {
            let consent = browser
                .get(&format!(
                    "/oauth/authorize?{}",
                    client.authorize_query("scope=project")
                ))
                .await;
            assert_eq!(
                consent.status,
                StatusCode::OK,
                "the dialog is shown every time"
            );
            browser.decide(&consent, "allow").await;
        }
    });
}

fn consent_mode_auto_asks_once_and_again_for_new_scopes(t: &TestDb) {
    block_on(async {
        let app = TestServer::start_with(t, |c| {
            c.consent_mode = oauth_core::authorize::ConsentMode::Auto
        });
        app.user("alice");
        let client = app.client();
        let browser = logged_in(&app, "alice").await;
        let ask = |scope: &str| {
            format!(
                "/oauth/authorize?{}",
                client.authorize_query(&format!("scope={}", enc(scope)))
            )
        };
        let consent = browser.get(&ask("openid project")).await;
        assert_eq!(consent.status, StatusCode::OK);
        browser.decide(&consent, "allow").await;
        // Approved before: straight back with a code, also for a subset.
        for scope in ["openid project", "project"] {
            let reply = browser.get(&ask(scope)).await;
            assert_eq!(reply.status, StatusCode::SEE_OTHER, "{scope}");
            assert!(param(&redirect_params(&reply.location(), CB), "code").is_some());
        }
        // A new scope asks again, listing it.
        let again = browser.get(&ask("openid project email")).await;
        assert_eq!(again.status, StatusCode::OK);
        assert!(again.body.contains("email"));
        // Denying does not remember anything.
        browser.decide(&again, "deny").await;
        assert_eq!(browser.get(&ask("email")).await.status, StatusCode::OK);
        // prompt=consent asks even when remembered.
        assert_eq!(
            browser
                .get(&format!("{}&prompt=consent", ask("project")))
                .await
                .status,
            StatusCode::OK
        );
    });
}

fn consent_without_csrf_token_is_forbidden_and_issues_nothing(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let browser = logged_in(&app, "alice").await;
        let consent = browser
            .get(&format!("/oauth/authorize?{}", client.authorize_query("")))
            .await;
        let reply = browser
            .post(
                "/oauth/authorize/decision",
                &[
                    ("csrf_token", "forged"),
                    ("consent_token", &consent.field("consent_token")),
                    ("request", &consent.field("request")),
                    ("decision", "allow"),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert!(reply.header("location").is_none());
        // The genuine form still works afterwards.
        let ok = browser.decide(&consent, "allow").await;
        assert!(param(&redirect_params(&ok.location(), CB), "code").is_some());
    });
}

fn a_consent_decision_is_single_use(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let browser = logged_in(&app, "alice").await;
        let consent = browser
            .get(&format!("/oauth/authorize?{}", client.authorize_query("")))
            .await;
        assert_eq!(
            browser.decide(&consent, "allow").await.status,
            StatusCode::SEE_OTHER
        );
        let again = browser.decide(&consent, "allow").await;
        assert_eq!(again.status, StatusCode::FORBIDDEN);
        assert!(again.header("location").is_none());
    });
}

fn a_consent_decision_from_another_session_is_refused(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        app.user_with("mallory", |u| u.email = None);
        let client = app.client();
        let victim = logged_in(&app, "alice").await;
        let attacker = logged_in(&app, "mallory").await;
        // The attacker's own dialog, submitted from the victim's session.
        let consent = attacker
            .get(&format!("/oauth/authorize?{}", client.authorize_query("")))
            .await;
        let reply = victim
            .post(
                "/oauth/authorize/decision",
                &[
                    ("csrf_token", &consent.field("csrf_token")),
                    ("consent_token", &consent.field("consent_token")),
                    ("request", &consent.field("request")),
                    ("decision", "allow"),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert!(reply.header("location").is_none());
    });
}

fn a_consent_decision_replayed_with_a_copied_cookie_is_refused(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let browser = logged_in(&app, "alice").await;
        let consent = browser
            .get(&format!("/oauth/authorize?{}", client.authorize_query("")))
            .await;
        // The cookie as it was when the dialog was shown, before answering.
        let copied = browser.cookie_header();
        assert_eq!(
            browser.decide(&consent, "allow").await.status,
            StatusCode::SEE_OTHER
        );
        let form = [
            ("csrf_token", consent.field("csrf_token")),
            ("consent_token", consent.field("consent_token")),
            ("request", consent.field("request")),
            ("decision", "allow".to_owned()),
        ];
        let replay = read(
            app.backend()
                .post(app.url("/oauth/authorize/decision"))
                .header("cookie", copied)
                .form(&form)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(replay.status, StatusCode::FORBIDDEN, "{}", replay.body);
        assert!(replay.header("location").is_none());
    });
}
