//! The user's browser on an attacker's page: cross-site request forgery
//! of login and consent, replayed decisions, clickjacking, markup
//! injection, and the cookie and transport rules (RFC 9700 §4.7, §4.13,
//! §4.16).

use oauth_store::test_support::TestDb;
use reqwest::StatusCode;

use crate::support::*;

oauth_store::test_on_both_backends!(
    login_csrf_missing_token_is_refused,
    consent_csrf_cross_session_decision_is_refused,
    consent_decision_replay_is_refused,
    clickjacking_pages_forbid_framing,
    script_injection_is_contained_by_a_csp_without_inline_script,
    referrer_leak_of_codes_is_prevented_by_no_referrer,
    cookie_tossing_is_blocked_by_host_prefix_and_hsts_on_https,
    client_name_html_is_escaped_on_consent,
    state_and_error_description_are_escaped,
);

/// The request that needs login: not logged in, it goes to `/login`.
async fn assert_not_logged_in(browser: &Browser, client: &TestClient) {
    let reply = browser
        .get(&format!(
            "/oauth/authorize?{}",
            client.authorize_query("scope=openid")
        ))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(
        reply.location().starts_with("/login"),
        "{}",
        reply.location()
    );
}

/// What the consent form would post, with `csrf_token` replaced.
fn decision_form(consent: &Reply, csrf: &str, decision: &str) -> Vec<(String, String)> {
    vec![
        ("csrf_token".to_owned(), csrf.to_owned()),
        ("consent_token".to_owned(), consent.field("consent_token")),
        ("request".to_owned(), consent.field("request")),
        ("decision".to_owned(), decision.to_owned()),
    ]
}

async fn post_decision(browser: &Browser, form: &[(String, String)]) -> Reply {
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    browser.post("/oauth/authorize/decision", &form).await
}

/// The pages a browser is shown, logged in or not.
async fn pages(app: &TestServer, client: &TestClient) -> Vec<(&'static str, Reply)> {
    let anonymous = app.browser();
    let login = anonymous.get("/login").await;
    let error = anonymous
        .get("/oauth/authorize?client_id=nope&response_type=code")
        .await;
    let browser = logged_in(app, "alice").await;
    let home = browser.get("/").await;
    let consent = browser
        .get(&format!(
            "/oauth/authorize?{}",
            client.authorize_query("scope=openid")
        ))
        .await;
    for (what, reply) in [("login", &login), ("home", &home), ("consent", &consent)] {
        assert_eq!(reply.status, StatusCode::OK, "{what}: {}", reply.body);
    }
    assert_eq!(error.status, StatusCode::BAD_REQUEST, "{}", error.body);
    vec![
        ("login", login),
        ("error", error),
        ("home", home),
        ("consent", consent),
    ]
}

fn login_csrf_missing_token_is_refused(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user_with("mallory", |u| u.email = None);
        let client = app.client();
        // Login CSRF (RFC 9700 §4.7): the attacker's page posts the
        // attacker's own credentials to our login form, so the victim
        // unknowingly grants access to, or types secrets into, the
        // attacker's account. Without the token the victim's browser
        // holds, and with a token from the attacker's own session, the
        // login is refused and nothing is logged in.
        let victim = app.browser();
        victim.get("/login").await;
        let attackers_page = app.browser().get("/login").await;
        for csrf in [None, Some(attackers_page.field("csrf_token"))] {
            let mut form = vec![
                ("username", "mallory"),
                ("password", PASSWORD),
                ("next", "/"),
            ];
            if let Some(csrf) = &csrf {
                form.push(("csrf_token", csrf));
            }
            let reply = victim.post("/login", &form).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{csrf:?}: {}",
                reply.body
            );
            assert!(reply.header("location").is_none());
            assert_not_logged_in(&victim, &client).await;
        }
    });
}

fn consent_csrf_cross_session_decision_is_refused(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        // A dialog shown to one session, answered from another session of
        // the same user (a leaked form, an attacker who planted a cookie):
        // the CSRF token is right for the answering session, so only the
        // consent token's binding to the session that saw the dialog
        // stands in the way.
        let shown = logged_in(&app, "alice").await;
        let other = logged_in(&app, "alice").await;
        let consent = shown
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query("scope=openid")
            ))
            .await;
        let others_csrf = other.get("/").await.field("csrf_token");
        let reply = post_decision(&other, &decision_form(&consent, &others_csrf, "allow")).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        assert!(reply.header("location").is_none());
        // And a decision posted by the attacker's page without any CSRF
        // token, in the session that saw the dialog, is refused too.
        let mut form = decision_form(&consent, "", "allow");
        form.remove(0);
        let reply = post_decision(&shown, &form).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        assert!(reply.header("location").is_none());
    });
}

fn consent_decision_replay_is_refused(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let browser = logged_in(&app, "alice").await;
        let consent = browser
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query("scope=openid&state=s")
            ))
            .await;
        // The user denies; the attacker (or a back button) resubmits the
        // same dialog with "allow".
        let denied = browser.decide(&consent, "deny").await;
        let params = redirect_params(&denied.location(), CB);
        assert_eq!(param(&params, "error"), Some("access_denied"));
        let replay = browser.decide(&consent, "allow").await;
        assert_eq!(replay.status, StatusCode::FORBIDDEN, "{}", replay.body);
        assert!(replay.header("location").is_none());
        // An allowed dialog cannot be replayed for a second code either.
        let consent = browser
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query("scope=openid&state=s")
            ))
            .await;
        let copied = browser.cookie_header();
        assert_eq!(
            browser.decide(&consent, "allow").await.status,
            StatusCode::SEE_OTHER
        );
        let form = decision_form(&consent, &consent.field("csrf_token"), "allow");
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

fn clickjacking_pages_forbid_framing(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        // An attacker's page frames the consent dialog invisibly over a
        // decoy button (RFC 9700 §4.16). Every page forbids framing, by
        // the CSP for today's browsers and X-Frame-Options for old ones.
        for (what, reply) in pages(&app, &client).await {
            assert_eq!(
                reply.header("x-frame-options").as_deref(),
                Some("DENY"),
                "{what}"
            );
            let csp = reply.header("content-security-policy").unwrap_or_default();
            assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        }
    });
}

fn script_injection_is_contained_by_a_csp_without_inline_script(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        // Should markup ever slip past escaping, the policy leaves it
        // nothing to run: no script source at all, no inline style, no
        // <base> to redirect relative form actions, nosniff for the rest.
        for (what, reply) in pages(&app, &client).await {
            let csp = reply.header("content-security-policy").unwrap_or_default();
            let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
            for expected in ["default-src 'none'", "style-src 'self'", "base-uri 'none'"] {
                assert!(
                    directives.contains(&expected),
                    "{what}: {expected} not in {csp}"
                );
            }
            assert!(!csp.contains("unsafe-"), "{what}: {csp}");
            assert!(
                !csp.contains("script-src"),
                "{what}: scripts allowed by {csp}"
            );
            assert_eq!(
                reply.header("x-content-type-options").as_deref(),
                Some("nosniff")
            );
            // And the pages need nothing the policy forbids: no script,
            // no inline style or event handler.
            let body = reply.body.to_ascii_lowercase();
            for forbidden in [
                "<script",
                "style=",
                "<style",
                " onload=",
                " onclick=",
                "javascript:",
            ] {
                assert!(
                    !body.contains(forbidden),
                    "{what} has {forbidden}: {}",
                    reply.body
                );
            }
        }
        // The stylesheet the policy allows is served, as CSS, by us.
        let css = app.browser().get("/static/style.css").await;
        assert_eq!(css.status, StatusCode::OK);
        assert!(
            css.header("content-type")
                .unwrap_or_default()
                .starts_with("text/css")
        );
    });
}

fn referrer_leak_of_codes_is_prevented_by_no_referrer(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        // A page whose URL holds an authorization request (or that links
        // out, like the client's logo and URI on the consent page) must
        // not tell third parties where the user was (RFC 9700 §4.2).
        for (what, reply) in pages(&app, &client).await {
            assert_eq!(
                reply.header("referrer-policy").as_deref(),
                Some("no-referrer"),
                "{what}"
            );
            // A <meta> policy would override the header: it must agree.
            if reply.body.contains("name=\"referrer\"") {
                assert!(reply.body.contains("content=\"no-referrer\""), "{what}");
            }
        }
    });
}

fn cookie_tossing_is_blocked_by_host_prefix_and_hsts_on_https(t: &TestDb) {
    block_on(async {
        // On https the session cookie is `__Host-`: Secure, host-only and
        // path `/`, so a sibling subdomain cannot plant (toss) a session
        // of its own; HSTS keeps the browser from ever asking over http,
        // where a network attacker could strip or set it.
        let app = TestServer::start_with(t, |c| c.issuer = "https://auth.example.com".into());
        let login = app.browser().get("/login").await;
        let cookie = login.header("set-cookie").expect("a session cookie");
        let attributes: Vec<String> = cookie
            .split(';')
            .map(|a| a.trim().to_ascii_lowercase())
            .collect();
        assert!(cookie.starts_with("__Host-oauth_session="), "{cookie}");
        for expected in ["secure", "httponly", "path=/", "samesite=lax"] {
            assert!(
                attributes.iter().any(|a| a == expected),
                "{expected} missing: {cookie}"
            );
        }
        assert!(
            !attributes.iter().any(|a| a.starts_with("domain")),
            "{cookie}"
        );
        assert_eq!(
            login.header("strict-transport-security").as_deref(),
            Some("max-age=63072000; includeSubDomains")
        );
        drop(app);
        // On plain http (development) neither applies: a browser would
        // drop a Secure cookie there, and HSTS over http is meaningless.
        let app = TestServer::start(t);
        let login = app.browser().get("/login").await;
        let cookie = login.header("set-cookie").expect("a session cookie");
        assert!(cookie.starts_with("oauth_session="), "{cookie}");
        assert!(login.header("strict-transport-security").is_none());
    });
}

fn client_name_html_is_escaped_on_consent(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        // Anyone may register a client (RFC 7591) and name it: a name that
        // is markup must show as text, not become part of the dialog.
        let name = "<script>alert(1)</script><b onmouseover=x>Bank</b>\"'&";
        let client = app.client_with(|m| m.name = name.to_owned());
        let browser = logged_in(&app, "alice").await;
        let consent = browser
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query("scope=openid")
            ))
            .await;
        assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
        assert!(!consent.body.contains("<script>alert"), "{}", consent.body);
        assert!(!consent.body.contains("<b onmouseover"), "{}", consent.body);
        assert!(
            consent
                .body
                .contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
                || consent
                    .body
                    .contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "the name is not shown as text: {}",
            consent.body
        );
    });
}

fn state_and_error_description_are_escaped(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let evil = "\"><script>alert(1)</script>";
        // In a redirect: `state` comes back byte for byte and cannot add
        // parameters (a second `code` or `iss` for a mix-up).
        let browser = logged_in(&app, "alice").await;
        let state = format!("{evil}&code=injected&iss=https://evil.example#x");
        let params = redirected_error(
            &browser,
            &client.authorize_query(&format!("scope=admin&state={}", enc(&state))),
        )
        .await;
        assert_eq!(param(&params, "state"), Some(state.as_str()));
        assert_eq!(param(&params, "code"), None, "{params:?}");
        let isses: Vec<_> = params.iter().filter(|(k, _)| k == "iss").collect();
        assert_eq!(isses.len(), 1, "{params:?}");
        assert!(param(&params, "error_description").is_some());
        // On the consent page: the request (state included) is a hidden
        // field. Sent raw, as a non-browser client can.
        let raw = format!("{}&scope=openid&state={evil}", client.authorize_query(""));
        let consent = read(
            browser
                .http
                .post(app.url("/oauth/authorize"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(raw.clone())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
        assert!(!consent.body.contains(evil), "{}", consent.body);
        assert_eq!(consent.field("request"), raw);
        // On the login page: the request to return to, and the username
        // typed, both shown back.
        let anonymous = app.browser();
        let next = format!("/oauth/authorize?state={evil}");
        let page = anonymous.get(&format!("/login?next={}", enc(&next))).await;
        assert!(!page.body.contains(evil), "{}", page.body);
        assert_eq!(page.field("next"), next);
        let failed = anonymous
            .post(
                "/login",
                &[
                    ("username", evil),
                    ("password", "wrong"),
                    ("csrf_token", &page.field("csrf_token")),
                    ("next", &next),
                ],
            )
            .await;
        assert!(!failed.body.contains(evil), "{}", failed.body);
    });
}
