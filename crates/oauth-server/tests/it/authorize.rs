//! The authorization endpoint, login and consent.

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
    login_returns_to_the_request_byte_for_byte,
    users_without_an_allowed_role_are_denied,
    trusted_clients_skip_the_dialog,
    consent_mode_force_asks_every_time,
    consent_mode_auto_asks_once_and_again_for_new_scopes,
    public_clients_must_use_pkce_s256,
    prompt_none_without_a_session_is_login_required,
    prompt_none_needing_consent_is_consent_required,
    prompt_login_asks_again_then_proceeds,
    max_age_zero_forces_a_new_login,
    disabled_users_cannot_log_in,
    wrong_password_and_unknown_user_get_the_same_answer,
    login_without_csrf_token_is_forbidden_and_changes_nothing,
    consent_without_csrf_token_is_forbidden_and_issues_nothing,
    a_consent_decision_is_single_use,
    a_consent_decision_from_another_session_is_refused,
    logout_ends_the_session,
    disabling_a_user_ends_their_session,
    a_consent_decision_replayed_with_a_copied_cookie_is_refused,
    login_never_redirects_off_this_origin,
    control_characters_in_login_and_request_are_clean_errors,
    login_hint_prefills_the_login_page,
    id_token_hint_is_checked_against_the_logged_in_user,
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

/// Follows an authorize request that must redirect to the client with an
/// error; returns the redirect's parameters.
async fn redirected_error(browser: &Browser, query: &str) -> Vec<(String, String)> {
    let reply = browser.get(&format!("/oauth/authorize?{query}")).await;
    assert_eq!(
        reply.status,
        StatusCode::SEE_OTHER,
        "{query}: {}",
        reply.body
    );
    let params = redirect_params(&reply.location(), CB);
    assert!(
        param(&params, "error").is_some(),
        "{query}: no error in {params:?}"
    );
    params
}

async fn logged_in(app: &TestServer, username: &str) -> Browser {
    let browser = app.browser();
    let reply = browser.login(username, PASSWORD, "/").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    browser
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
