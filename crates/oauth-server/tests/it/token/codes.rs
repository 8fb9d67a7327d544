//! The authorization code grant: the code's bindings (RFC 6749 §4.1.3)
//! and PKCE (RFC 7636 §4.6, RFC 9700 §2.1.1).

use std::time::Duration;

use oauth_store::test_support::TestDb;

use crate::support::*;

use super::{
    TOKEN, access_token, assert_dead, assert_invalid_grant, assert_seed_shape, assert_works,
    code_for, creds, exchange_at, ok, pkce, pkce_query, post_form, refresh, refresh_token,
    scope_of, scopes,
};

oauth_store::test_on_both_backends!(
    // Code binding.
    a_code_presented_by_another_client_is_invalid_grant,
    a_different_redirect_uri_is_invalid_grant,
    a_missing_redirect_uri_is_invalid_grant_when_the_authorize_request_had_one,
    an_expired_code_is_invalid_grant,
    an_unknown_code_is_invalid_grant,
    a_replayed_code_is_invalid_grant_and_revokes_its_tokens,
    // PKCE.
    a_public_client_exchanges_its_code_with_the_right_verifier,
    a_wrong_code_verifier_is_invalid_grant,
    a_missing_code_verifier_is_invalid_grant_when_the_code_has_a_challenge,
    a_code_verifier_without_a_challenge_is_invalid_grant,
);

// ---- the code's bindings (RFC 6749 §4.1.3) ----

fn a_code_presented_by_another_client_is_invalid_grant(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let thief = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        assert_invalid_grant(&exchange_at(&app, TOKEN, &thief, &code, &[]).await);
        // A public client presenting it by client_id alone fares no better.
        let public = app.public_client();
        let (verifier, _) = pkce();
        assert_invalid_grant(
            &exchange_at(&app, TOKEN, &public, &code, &[("code_verifier", &verifier)]).await,
        );
    });
}

fn a_different_redirect_uri_is_invalid_grant(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client_with(|m| {
            m.redirect_uris
                .push(oauth_core::RedirectUri::parse("http://localhost:3000/other").unwrap());
        });
        // Even another of the client's own registered URIs.
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://localhost:3000/other"),
        ];
        assert_invalid_grant(&post_form(&app, TOKEN, creds(&client), &form).await);
        // An unregistered one.
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://localhost:3000/oauth_code/extra"),
        ];
        assert_invalid_grant(&post_form(&app, TOKEN, creds(&client), &form).await);
    });
}

fn a_missing_redirect_uri_is_invalid_grant_when_the_authorize_request_had_one(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
        ];
        assert_invalid_grant(&post_form(&app, TOKEN, creds(&client), &form).await);
    });
}

fn an_expired_code_is_invalid_grant(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        app.advance(Duration::from_secs(601));
        assert_invalid_grant(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
    });
}

fn an_unknown_code_is_invalid_grant(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.client();
        let made_up = oauth_core::Token::generate(&mut rand::rng());
        assert_invalid_grant(
            &exchange_at(&app, TOKEN, &client, made_up.expose_secret(), &[]).await,
        );
        assert_invalid_grant(&exchange_at(&app, TOKEN, &client, "x", &[]).await);
    });
}

fn a_replayed_code_is_invalid_grant_and_revokes_its_tokens(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid%20profile&state=s").await;
        let first = ok(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
        assert_works(&app, access_token(&first)).await;
        assert_invalid_grant(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
        // What the first exchange issued is revoked (RFC 6749 §4.1.2).
        assert_dead(&app, access_token(&first)).await;
        assert_invalid_grant(&refresh(&app, &client, refresh_token(&first), &[]).await);
        // And it stays used.
        assert_invalid_grant(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
    });
}

// ---- PKCE (RFC 7636 §4.6, RFC 9700 §2.1.1) ----

fn a_public_client_exchanges_its_code_with_the_right_verifier(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.public_client();
        let (verifier, challenge) = pkce();
        let code = code_for(&app, &client, &pkce_query("openid profile", &challenge)).await;
        let json =
            ok(&exchange_at(&app, TOKEN, &client, &code, &[("code_verifier", &verifier)]).await);
        assert_seed_shape(&json, true);
        assert_eq!(scope_of(&json), scopes("openid profile"));
        assert_works(&app, access_token(&json)).await;
    });
}

fn a_wrong_code_verifier_is_invalid_grant(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        for client in [app.public_client(), app.client()] {
            let (_, challenge) = pkce();
            let (other_verifier, _) = pkce();
            let code = code_for(&app, &client, &pkce_query("openid", &challenge)).await;
            let reply = exchange_at(
                &app,
                TOKEN,
                &client,
                &code,
                &[("code_verifier", &other_verifier)],
            )
            .await;
            assert_invalid_grant(&reply);
        }
        // The challenge itself is not the verifier of an S256 challenge.
        let client = app.public_client();
        let (_, challenge) = pkce();
        let code = code_for(&app, &client, &pkce_query("openid", &challenge)).await;
        assert_invalid_grant(
            &exchange_at(
                &app,
                TOKEN,
                &client,
                &code,
                &[("code_verifier", &challenge)],
            )
            .await,
        );
    });
}

fn a_missing_code_verifier_is_invalid_grant_when_the_code_has_a_challenge(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        for client in [app.public_client(), app.client()] {
            let (_, challenge) = pkce();
            let code = code_for(&app, &client, &pkce_query("openid", &challenge)).await;
            assert_invalid_grant(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
        }
    });
}

fn a_code_verifier_without_a_challenge_is_invalid_grant(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let (verifier, _) = pkce();
        // RFC 9700 §2.1.1: no PKCE downgrade.
        assert_invalid_grant(
            &exchange_at(&app, TOKEN, &client, &code, &[("code_verifier", &verifier)]).await,
        );
    });
}
