//! What the documents claim of the authorization endpoint: PKCE methods,
//! response types and modes, the scopes on the consent page, and `iss` on
//! redirects (RFC 9207).

use std::collections::{BTreeMap, BTreeSet};

use oauth_core::ScopeSet;
use oauth_store::test_support::TestDb;
use reqwest::StatusCode;

use crate::resources::{final_redirect, fragment_params, implicit_client, implicit_query};
use crate::support::*;

use super::{assert_works, list, metadata, s};

oauth_store::test_on_both_backends!(
    every_supported_code_challenge_method_works,
    response_types_and_modes_are_what_the_authorization_endpoint_does,
    every_supported_scope_is_described_on_the_consent_page,
    redirects_carry_iss_as_advertised,
);

/// The parts of the consent page's scope list: name → description.
fn consent_scopes(html: &str) -> BTreeMap<String, String> {
    let between = |text: &str, start: &str, end: &str| -> Option<String> {
        let at = text.find(start)? + start.len();
        let stop = text[at..].find(end)? + at;
        Some(text[at..stop].trim().to_owned())
    };
    html.split("<li")
        .filter_map(|item| {
            let name = between(item, "class=\"scope-name\">", "</code>")?;
            let description = between(item, "class=\"scope-description\">", "</span>")?;
            Some((name, description))
        })
        .collect()
}

fn every_supported_code_challenge_method_works(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let doc = metadata(&app).await;
        let methods = list(&doc, "code_challenge_methods_supported");
        assert!(methods.contains(&"S256"), "{doc}");
        for method in methods {
            let (client, verifier, challenge) = match method {
                "S256" => {
                    let (verifier, challenge) = pkce();
                    (app.public_client(), verifier, challenge)
                }
                "plain" => {
                    let (verifier, _) = pkce();
                    let client = app.client_with(|m| m.allow_plain_pkce = true);
                    (client, verifier.clone(), verifier)
                }
                other => panic!("code challenge method {other} is advertised but not tested"),
            };
            let extra = format!(
                "scope=openid&state=s&code_challenge={challenge}&code_challenge_method={method}"
            );
            // The right verifier works.
            let code = code_for(&app, &client, &extra).await;
            let reply = exchange_code(&app, &client, &code, &[("code_verifier", &verifier)]).await;
            assert_eq!(reply.status, StatusCode::OK, "{method}: {}", reply.body);
            assert_works(&app, s(&reply.json(), "access_token"), method).await;
            // A wrong one does not: the method is really checked.
            let code = code_for(&app, &client, &extra).await;
            let (wrong, _) = pkce();
            let reply = exchange_code(&app, &client, &code, &[("code_verifier", &wrong)]).await;
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "{method}: {}",
                reply.body
            );
            assert_eq!(reply.json()["error"], "invalid_grant", "{method}");
        }
    });
}

fn response_types_and_modes_are_what_the_authorization_endpoint_does(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let doc = metadata(&app).await;
        let types = list(&doc, "response_types_supported");
        let modes: BTreeSet<&str> = list(&doc, "response_modes_supported").into_iter().collect();
        let mut used = BTreeSet::new();
        for response_type in types {
            let mode = match response_type {
                "code" => "query",
                "token" => "fragment",
                other => panic!("response type {other} is advertised but not tested"),
            };
            assert!(
                modes.contains(mode),
                "{response_type}'s mode {mode} is not in {modes:?}"
            );
            used.insert(mode);
            let client = implicit_client(&app);
            let query = format!(
                "client_id={}&response_type={response_type}&redirect_uri={}&scope=openid&state=s&response_mode={mode}",
                enc(&client.id),
                enc(CB)
            );
            let location = final_redirect(&app.browser(), &query, "alice").await;
            match mode {
                "query" => {
                    assert!(!location.contains('#'), "{location}");
                    let params = redirect_params(&location, CB);
                    let code = param(&params, "code").expect("a code in the query");
                    let reply = exchange_code(&app, &client, code, &[]).await;
                    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
                }
                _ => {
                    let params = fragment_params(&location);
                    let token = param(&params, "access_token").expect("a token in the fragment");
                    assert_works(&app, token, response_type).await;
                }
            }
        }
        assert_eq!(used, modes, "a response mode is advertised but never used");
    });
}

fn every_supported_scope_is_described_on_the_consent_page(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let doc = metadata(&app).await;
        let scopes = list(&doc, "scopes_supported").join(" ");
        assert!(scopes.split(' ').any(|s| s == "openid"), "{doc}");
        let client = app.client_with(|m| m.scopes = ScopeSet::parse(&scopes).unwrap());
        let browser = app.browser();
        let next = format!(
            "/oauth/authorize?{}",
            client.authorize_query(&format!("scope={}&state=s", enc(&scopes)))
        );
        let login = browser.login("alice", PASSWORD, &next).await;
        assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
        let page = browser.get(&next).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let shown = consent_scopes(&page.body);
        let mut descriptions = BTreeSet::new();
        for scope in scopes.split(' ') {
            let description = shown
                .get(scope)
                .unwrap_or_else(|| panic!("{scope} is not on the consent page: {shown:?}"));
            assert!(!description.is_empty(), "{scope} has no description");
            assert!(
                descriptions.insert(description.clone()),
                "{scope} shares its description {description:?} with another scope"
            );
        }
    });
}

fn redirects_carry_iss_as_advertised(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let doc = metadata(&app).await;
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        let issuer = app.issuer();
        let client = app.client();
        let browser = app.browser();

        // A validation error, before anyone logs in.
        let reply = browser
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query("scope=admin&state=s")
            ))
            .await;
        let params = redirect_params(&reply.location(), CB);
        assert_eq!(param(&params, "error"), Some("invalid_scope"));
        assert_eq!(param(&params, "iss"), Some(issuer), "{params:?}");
        // prompt=none without a login.
        let reply = browser
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query("scope=openid&state=s&prompt=none")
            ))
            .await;
        let params = redirect_params(&reply.location(), CB);
        assert_eq!(param(&params, "error"), Some("login_required"));
        assert_eq!(param(&params, "iss"), Some(issuer), "{params:?}");
        // A code.
        let params = browser
            .authorize_and_allow(
                "/oauth/authorize",
                &client.authorize_query("scope=openid&state=s"),
                "alice",
            )
            .await;
        assert!(param(&params, "code").is_some());
        assert_eq!(param(&params, "iss"), Some(issuer), "{params:?}");
        // A refusal.
        let consent = browser
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query("scope=openid&state=s")
            ))
            .await;
        let reply = browser.decide(&consent, "deny").await;
        let params = redirect_params(&reply.location(), CB);
        assert_eq!(param(&params, "error"), Some("access_denied"));
        assert_eq!(param(&params, "iss"), Some(issuer), "{params:?}");
        // The implicit grant's fragment.
        let implicit = implicit_client(&app);
        let location = final_redirect(
            &browser,
            &implicit_query(&implicit, "scope=openid&state=s"),
            "alice",
        )
        .await;
        let params = fragment_params(&location);
        assert_eq!(param(&params, "iss"), Some(issuer), "{params:?}");
    });
}
