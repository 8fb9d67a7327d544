//! Redirect URI manipulation, open redirects and mix-up (RFC 9700 §4.1,
//! §4.11, §4.4): the attacker tries to make the server send a code, a
//! token or the user to a place the client did not register, or to make a
//! client believe a response came from another server.

use oauth_core::{GrantType, RedirectUri};
use oauth_store::test_support::TestDb;
use reqwest::StatusCode;

use crate::support::*;

oauth_store::test_on_both_backends!(
    redirect_uri_with_extra_path_is_refused,
    redirect_uri_with_different_port_is_refused_for_non_loopback,
    redirect_uri_open_redirect_via_error_page_does_not_redirect,
    open_redirect_login_next_is_refused,
    mix_up_iss_in_every_authorization_response,
    implicit_is_refused_unless_registered,
);

/// The request must stop at an error page: no `Location` at all, so
/// nothing (code, error, the user) leaves for the attacker's URI.
async fn assert_stops_at_a_page(browser: &Browser, query: &str) {
    let reply = browser.get(&format!("/oauth/authorize?{query}")).await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "{query}: {}",
        reply.body
    );
    assert!(
        reply.header("location").is_none(),
        "{query} redirected to {:?}",
        reply.header("location")
    );
}

fn redirect_uri_with_extra_path_is_refused(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        // Logged in and otherwise valid: only the redirect URI is wrong,
        // so a lax comparison would hand the code over.
        let browser = logged_in(&app, "alice").await;
        for tampered in [
            "http://localhost:3000/oauth_code/evil",
            "http://localhost:3000/oauth_code/../evil",
            "http://localhost:3000/oauth_code%2F..%2Fevil",
            "http://localhost:3000/oauth_codeevil",
            "http://localhost:3000/oauth_code?next=https://evil.example",
            "http://localhost:3000/oauth_code.evil.example",
            "http://localhost:3000@evil.example/oauth_code",
            "http://localhost:3000.evil.example/oauth_code",
            "http://evil.example/oauth_code",
        ] {
            let query = format!(
                "client_id={}&response_type=code&scope=openid&state=s&redirect_uri={}",
                enc(&client.id),
                enc(tampered)
            );
            assert_stops_at_a_page(&browser, &query).await;
        }
    });
}

fn redirect_uri_with_different_port_is_refused_for_non_loopback(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let registered = "https://app.example.com/cb";
        let client = app.client_with(|m| {
            m.redirect_uris = vec![RedirectUri::parse(registered).unwrap()];
            m.default_redirect_uri = None;
        });
        let browser = logged_in(&app, "alice").await;
        // RFC 8252 §7.3's any-port rule is for loopback IP literals only;
        // another port on a real host may be another service.
        for tampered in [
            "https://app.example.com:8443/cb",
            "https://app.example.com:443/cb",
            "http://app.example.com/cb",
        ] {
            let query = format!(
                "client_id={}&response_type=code&scope=openid&redirect_uri={}",
                enc(&client.id),
                enc(tampered)
            );
            assert_stops_at_a_page(&browser, &query).await;
        }
        // `localhost` is a name, not a loopback IP literal: exact match too.
        let test_client = app.client();
        let query = format!(
            "client_id={}&response_type=code&scope=openid&redirect_uri={}",
            enc(&test_client.id),
            enc("http://localhost:3001/oauth_code")
        );
        assert_stops_at_a_page(&browser, &query).await;
        // The registered URI itself works: the refusals were about the port.
        let query = format!(
            "client_id={}&response_type=code&scope=openid&redirect_uri={}",
            enc(&client.id),
            enc(registered)
        );
        let consent = browser.get(&format!("/oauth/authorize?{query}")).await;
        assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
    });
}

fn redirect_uri_open_redirect_via_error_page_does_not_redirect(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.client();
        let browser = app.browser();
        // RFC 9700 §4.11.1: an attacker crafts a request that is sure to
        // fail (bad response_type, bad scope) with their own redirect URI,
        // hoping the error is "returned" there: a redirector on our name.
        let evil = enc("https://evil.example/phish");
        for query in [
            format!(
                "client_id={}&response_type=bogus&redirect_uri={evil}",
                client.id
            ),
            format!(
                "client_id={}&response_type=code&scope=admin&redirect_uri={evil}",
                client.id
            ),
            format!("client_id=no-such-client&response_type=code&redirect_uri={evil}"),
            format!("response_type=code&redirect_uri={evil}"),
        ] {
            assert_stops_at_a_page(&browser, &query).await;
        }
        // With the registered URI, the same failure redirects there (and
        // only there): the client asked for it.
        let params = redirected_error(&browser, &client.authorize_query("scope=admin")).await;
        assert_eq!(param(&params, "error"), Some("invalid_scope"));
    });
}

fn open_redirect_login_next_is_refused(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        // A link to our login page that continues to the attacker's site
        // after a genuine login: the user trusts the page, then lands on a
        // phishing copy.
        for next in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example/",
            "/\t/evil.example/",
            "http:evil.example",
            "javascript:alert(1)",
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

fn mix_up_iss_in_every_authorization_response(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        // RFC 9207: a client talking to several servers tells which one
        // answered by `iss`; every response must carry ours, success and
        // failure alike.
        let browser = logged_in(&app, "alice").await;
        let consent = browser
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query("scope=openid&state=a")
            ))
            .await;
        let allowed = browser.decide(&consent, "allow").await;
        let consent = browser
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query("scope=openid&state=d")
            ))
            .await;
        let denied = browser.decide(&consent, "deny").await;
        let error = browser
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query("scope=admin&state=e")
            ))
            .await;
        let none = app
            .browser()
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query("scope=openid&state=n&prompt=none")
            ))
            .await;
        for (what, reply, expect_error) in [
            ("allow", &allowed, None),
            ("deny", &denied, Some("access_denied")),
            ("error", &error, Some("invalid_scope")),
            ("prompt=none", &none, Some("login_required")),
        ] {
            assert_eq!(
                reply.status,
                StatusCode::SEE_OTHER,
                "{what}: {}",
                reply.body
            );
            let params = redirect_params(&reply.location(), CB);
            assert_eq!(
                param(&params, "iss"),
                Some(app.issuer()),
                "{what}: {params:?}"
            );
            assert_eq!(param(&params, "error"), expect_error, "{what}: {params:?}");
        }
        // The implicit grant's fragment too.
        let implicit = app.client_with(|m| m.grant_types.push(GrantType::Implicit));
        let query = format!(
            "client_id={}&response_type=token&scope=openid&state=i&redirect_uri={}",
            enc(&implicit.id),
            enc(CB)
        );
        let consent = browser.get(&format!("/oauth/authorize?{query}")).await;
        let reply = browser.decide(&consent, "allow").await;
        let location = reply.location();
        let fragment = location.split_once('#').expect("a fragment").1;
        let params: Vec<(String, String)> = url::form_urlencoded::parse(fragment.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(param(&params, "iss"), Some(app.issuer()), "{location}");
        assert!(param(&params, "access_token").is_some(), "{location}");
    });
}

fn implicit_is_refused_unless_registered(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let browser = logged_in(&app, "alice").await;
        // RFC 9700 §2.1.2: a token in the front channel leaks through
        // history, referrers and logs. A client that did not register the
        // implicit grant gets no token, whatever the attacker asks for, and
        // the error goes in the query, where its code would go.
        for response_type in ["token", "id_token%20token", "code%20token"] {
            let reply = browser
                .get(&format!(
                    "/oauth/authorize?client_id={}&response_type={response_type}&scope=openid&state=s&redirect_uri={}",
                    enc(&client.id),
                    enc(CB)
                ))
                .await;
            assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
            let location = reply.location();
            assert!(!location.contains('#'), "{response_type}: {location}");
            assert!(!location.contains("access_token"), "{location}");
            let params = redirect_params(&location, CB);
            assert_eq!(
                param(&params, "error"),
                Some("unsupported_response_type"),
                "{response_type}: {params:?}"
            );
        }
    });
}
