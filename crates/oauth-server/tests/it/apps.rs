//! The user's "Authorized apps" page (`/account/apps`, Frappe's
//! `/third_party_apps`): what it lists, that it escapes what clients
//! chose, and that revoking an app ends its tokens and consent at once,
//! for the logged-in user only.

use oauth_core::authorize::ConsentMode;
use oauth_store::consents;
use oauth_store::test_support::TestDb;
use reqwest::StatusCode;

use crate::lifecycle::{assert_inactive, assert_refresh_fails, assert_userinfo_refuses, s};
use crate::support::*;

oauth_store::test_on_both_backends!(
    apps_page_requires_login,
    apps_page_lists_granted_apps_with_scopes_and_last_use,
    apps_page_escapes_client_name,
    revoking_an_app_deletes_its_tokens_and_consent,
    apps_revoke_requires_csrf,
    user_cannot_revoke_another_users_app,
    the_home_page_links_to_authorized_apps,
);

const PATHS: [&str; 2] = ["/account/apps", "/third_party_apps"];

fn auto_consent(t: &TestDb) -> TestServer {
    TestServer::start_with(t, |c| c.consent_mode = ConsentMode::Auto)
}

/// Posts the revoke form of the page for `client_id`.
async fn revoke(browser: &Browser, path: &str, client_id: &str) -> Reply {
    let page = browser.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    browser
        .post(
            path,
            &[
                ("csrf_token", &page.field("csrf_token")),
                ("client_id", client_id),
            ],
        )
        .await
}

fn apps_page_requires_login(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        for path in PATHS {
            let reply = app.browser().get(path).await;
            assert_eq!(reply.status, StatusCode::SEE_OTHER);
            assert_eq!(
                reply.location(),
                format!("/login?next={}", enc(path)),
                "back to the page after login"
            );
            // A POST without a session has no CSRF token to match.
            let reply = app
                .browser()
                .post(path, &[("csrf_token", "x"), ("client_id", "y")])
                .await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN);
        }
    });
}

fn apps_page_lists_granted_apps_with_scopes_and_last_use(t: &TestDb) {
    block_on(async {
        let app = auto_consent(t);
        app.user("alice");
        let used = app.client_with(|m| m.name = "Used App".into());
        let unused = app.client_with(|m| m.name = "Unused App".into());
        let never = app.client_with(|m| m.name = "Never Granted".into());
        let tokens = tokens_for(&app, &used, "alice", "openid email").await;
        tokens_for(&app, &unused, "alice", "openid profile").await;
        assert_eq!(
            userinfo(&app, &s(&tokens, "access_token")).await.status,
            StatusCode::OK
        );

        let browser = logged_in(&app, "alice").await;
        for path in PATHS {
            let page = browser.get(path).await;
            assert_eq!(page.status, StatusCode::OK);
            let body = &page.body;
            assert!(body.contains("Used App") && body.contains("Unused App"));
            assert!(!body.contains("Never Granted"), "{body}");
            assert!(body.contains(&format!("id=\"revoke-{}\"", used.id)));
            assert!(body.contains(&format!("id=\"revoke-{}\"", unused.id)));
            assert!(!body.contains(&never.id));
            // Each app's scopes and last use, in its own entry.
            let entry = |id: &str| {
                let start = body.find(&format!("id=\"app-{id}\"")).unwrap();
                let end = start + body[start..].find("</form>").unwrap();
                body[start..end].to_owned()
            };
            let (u, n) = (entry(&used.id), entry(&unused.id));
            assert!(u.contains(">email<") && !u.contains(">profile<"), "{u}");
            assert!(n.contains(">profile<") && !n.contains(">email<"), "{n}");
            assert!(u.contains("Last used <time datetime="), "{u}");
            assert!(n.contains("Not used yet"), "{n}");
        }
    });
}

fn apps_page_escapes_client_name(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let evil = app.client_with(|m| m.name = "<script>alert(1)</script>".into());
        tokens_for(&app, &evil, "alice", "openid").await;
        let browser = logged_in(&app, "alice").await;
        let page = browser.get("/account/apps").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("<script"), "{}", page.body);
        assert!(
            page.body
                .contains("<h2 class=\"client-name\">&lt;script&gt;alert(1)&lt;/script&gt;</h2>"),
            "the name shows as text: {}",
            page.body
        );
        // The confirmation after revoking escapes it too.
        let reply = revoke(&browser, "/account/apps", &evil.id).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        let page = browser.get(&reply.location()).await;
        assert!(!page.body.contains("<script"), "{}", page.body);
        assert!(page.body.contains("id=\"revoked\""), "{}", page.body);
    });
}

fn revoking_an_app_deletes_its_tokens_and_consent(t: &TestDb) {
    block_on(async {
        let app = auto_consent(t);
        let alice = app.user("alice");
        let rs = app.client();
        let client = app.client();
        let kept = app.client();
        let first = tokens_for(&app, &client, "alice", "openid profile").await;
        let second = tokens_for(&app, &client, "alice", "openid").await;
        let other = tokens_for(&app, &kept, "alice", "openid").await;
        let remembered =
            || consents::find(&mut app.db.conn().unwrap(), &alice.id, &client.client.id).unwrap();
        assert!(remembered().is_some());

        let browser = logged_in(&app, "alice").await;
        let reply = revoke(&browser, "/third_party_apps", &client.id).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        assert_eq!(reply.location(), "/account/apps");

        for tokens in [&first, &second] {
            let (access, refresh) = (s(tokens, "access_token"), s(tokens, "refresh_token"));
            assert_userinfo_refuses(&app, &access, "a revoked app's access token").await;
            assert_inactive(&app, &rs, &access, "a revoked app's access token").await;
            assert_inactive(&app, &rs, &refresh, "a revoked app's refresh token").await;
            assert_refresh_fails(
                &app,
                &client,
                &refresh,
                StatusCode::BAD_REQUEST,
                "invalid_grant",
            )
            .await;
        }
        assert_eq!(remembered(), None, "the remembered consent is gone");
        // The page no longer lists it, and says what was revoked.
        let page = browser.get("/account/apps").await;
        assert!(!page.body.contains(&format!("revoke-{}", client.id)));
        assert!(page.body.contains(&format!("revoke-{}", kept.id)));
        assert!(page.body.contains("id=\"revoked\""));
        // The next authorization asks again.
        let dialog = browser
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query("scope=openid&state=s")
            ))
            .await;
        assert!(dialog.body.contains("id=\"allow\""), "{}", dialog.body);
        // Another app is untouched.
        assert_eq!(
            userinfo(&app, &s(&other, "access_token")).await.status,
            StatusCode::OK
        );
        // Revoking it again: nothing to revoke, a clear 404.
        let again = revoke(&browser, "/account/apps", &client.id).await;
        assert_eq!(again.status, StatusCode::NOT_FOUND);
    });
}

fn apps_revoke_requires_csrf(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let tokens = tokens_for(&app, &client, "alice", "openid").await;
        let browser = logged_in(&app, "alice").await;
        browser.get("/account/apps").await;
        for form in [
            vec![("client_id", client.id.as_str())],
            vec![("client_id", client.id.as_str()), ("csrf_token", "forged")],
            vec![("client_id", client.id.as_str()), ("csrf_token", "")],
        ] {
            let reply = browser.post("/account/apps", &form).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{form:?}");
        }
        assert_eq!(
            userinfo(&app, &s(&tokens, "access_token")).await.status,
            StatusCode::OK,
            "nothing was revoked"
        );
        // Malformed client ids are refused without a change.
        let page = browser.get("/account/apps").await;
        for bad in ["", "no such client", "\u{0}"] {
            let reply = browser
                .post(
                    "/account/apps",
                    &[
                        ("csrf_token", &page.field("csrf_token")),
                        ("client_id", bad),
                    ],
                )
                .await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{bad:?}");
        }
        assert_eq!(
            userinfo(&app, &s(&tokens, "access_token")).await.status,
            StatusCode::OK
        );
    });
}

fn user_cannot_revoke_another_users_app(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        app.user_with("bob", |u| {
            u.email = Some(oauth_core::Email::parse("bob@example.com").unwrap());
        });
        let shared = app.client();
        let alices_only = app.client();
        let alice_shared = tokens_for(&app, &shared, "alice", "openid").await;
        let alice_own = tokens_for(&app, &alices_only, "alice", "openid").await;
        let bob_shared = tokens_for(&app, &shared, "bob", "openid").await;

        let bob = logged_in(&app, "bob").await;
        let page = bob.get("/account/apps").await;
        assert!(!page.body.contains(&alices_only.id), "bob sees alice's app");
        // Bob names alice's app: nothing of his to revoke, nothing happens.
        let reply = bob
            .post(
                "/account/apps",
                &[
                    ("csrf_token", &page.field("csrf_token")),
                    ("client_id", &alices_only.id),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        // Bob revokes the app they share: his grant only.
        let reply = revoke(&bob, "/account/apps", &shared.id).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        assert_userinfo_refuses(&app, &s(&bob_shared, "access_token"), "bob's token").await;
        for tokens in [&alice_shared, &alice_own] {
            assert_eq!(
                userinfo(&app, &s(tokens, "access_token")).await.status,
                StatusCode::OK,
                "alice's tokens stay"
            );
        }
    });
}

fn the_home_page_links_to_authorized_apps(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let browser = logged_in(&app, "alice").await;
        let home = browser.get("/").await;
        assert!(
            home.body.contains("href=\"/account/apps\""),
            "{}",
            home.body
        );
        let page = browser.get("/account/apps").await;
        assert!(page.body.contains("id=\"no-apps\""), "{}", page.body);
    });
}
