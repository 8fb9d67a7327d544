//! The refresh token grant (RFC 6749 §6, RFC 9700 §4.14.2): rotation,
//! reuse detection, scope narrowing and the absolute lifetime.

use std::time::Duration;

use oauth_store::test_support::TestDb;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

use super::{
    TOKEN, access_token, assert_dead, assert_error, assert_invalid_grant, assert_seed_shape,
    assert_works, code_for, exchange_at, ok, pkce, pkce_query, refresh, refresh_token, scope_of,
    scopes,
};

oauth_store::test_on_both_backends!(
    refresh_rotates_to_a_new_pair_in_the_seeds_shape,
    an_unknown_refresh_token_is_invalid_grant,
    a_rotated_refresh_token_is_invalid_grant_and_revokes_the_family,
    a_public_clients_refresh_token_rotates_with_reuse_detection,
    a_refresh_token_presented_by_another_client_is_invalid_grant,
    refresh_may_narrow_the_scope_but_not_widen_it,
    a_refresh_token_ends_at_the_absolute_lifetime_despite_rotation,
    refresh_accepts_the_seeds_redirect_uri_parameter,
);

// ---- refresh (RFC 6749 §6, RFC 9700 §4.14.2) ----

fn refresh_rotates_to_a_new_pair_in_the_seeds_shape(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let first = tokens_for(&app, &client, "alice", "openid profile project").await;
        let second = ok(&refresh(&app, &client, refresh_token(&first), &[]).await);
        assert_seed_shape(&second, true);
        assert_ne!(access_token(&second), access_token(&first));
        assert_ne!(refresh_token(&second), refresh_token(&first));
        assert_eq!(scope_of(&second), scopes("openid profile project"));
        assert_works(&app, access_token(&second)).await;
        // The new refresh token rotates in turn.
        let third = ok(&refresh(&app, &client, refresh_token(&second), &[]).await);
        assert_seed_shape(&third, true);
        assert_ne!(refresh_token(&third), refresh_token(&second));
        assert_works(&app, access_token(&third)).await;
    });
}

fn an_unknown_refresh_token_is_invalid_grant(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let made_up = oauth_core::Token::generate(&mut rand::rng());
        assert_invalid_grant(&refresh(&app, &client, made_up.expose_secret(), &[]).await);
        assert_invalid_grant(&refresh(&app, &client, "x", &[]).await);
        // An access token is not a refresh token.
        let json = tokens_for(&app, &client, "alice", "openid").await;
        assert_invalid_grant(&refresh(&app, &client, access_token(&json), &[]).await);
        // Nor is the code.
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        assert_invalid_grant(&refresh(&app, &client, &code, &[]).await);
    });
}

fn a_rotated_refresh_token_is_invalid_grant_and_revokes_the_family(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let first = tokens_for(&app, &client, "alice", "openid profile").await;
        let second = ok(&refresh(&app, &client, refresh_token(&first), &[]).await);
        assert_works(&app, access_token(&second)).await;
        // The old token again: someone else holds a copy.
        assert_invalid_grant(&refresh(&app, &client, refresh_token(&first), &[]).await);
        // The whole family ends: the successor and every access token.
        assert_invalid_grant(&refresh(&app, &client, refresh_token(&second), &[]).await);
        assert_dead(&app, access_token(&second)).await;
        assert_dead(&app, access_token(&first)).await;
    });
}

fn a_public_clients_refresh_token_rotates_with_reuse_detection(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.public_client();
        let (verifier, challenge) = pkce();
        let code = code_for(&app, &client, &pkce_query("openid", &challenge)).await;
        let first =
            ok(&exchange_at(&app, TOKEN, &client, &code, &[("code_verifier", &verifier)]).await);
        let second = ok(&refresh(&app, &client, refresh_token(&first), &[]).await);
        assert_seed_shape(&second, true);
        assert_ne!(refresh_token(&second), refresh_token(&first));
        assert_invalid_grant(&refresh(&app, &client, refresh_token(&first), &[]).await);
        assert_invalid_grant(&refresh(&app, &client, refresh_token(&second), &[]).await);
        assert_dead(&app, access_token(&second)).await;
    });
}

fn a_refresh_token_presented_by_another_client_is_invalid_grant(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let thief = app.client();
        let public = app.public_client();
        let json = tokens_for(&app, &client, "alice", "openid").await;
        assert_invalid_grant(&refresh(&app, &thief, refresh_token(&json), &[]).await);
        assert_invalid_grant(&refresh(&app, &public, refresh_token(&json), &[]).await);
    });
}

fn refresh_may_narrow_the_scope_but_not_widen_it(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let first = tokens_for(&app, &client, "alice", "openid profile email").await;
        let info = userinfo(&app, access_token(&first)).await.json();
        assert!(
            info["email"].is_string() && info["preferred_username"].is_string(),
            "{info}"
        );

        // Narrower: the new access token has only what was asked for.
        let narrow =
            ok(&refresh(&app, &client, refresh_token(&first), &[("scope", "openid")]).await);
        assert_eq!(scope_of(&narrow), scopes("openid"));
        let info = userinfo(&app, access_token(&narrow)).await;
        assert_eq!(info.status, StatusCode::OK, "{}", info.body);
        let info = info.json();
        assert!(
            info.get("email").is_none_or(Value::is_null),
            "narrowed token still reads email: {info}"
        );
        assert!(
            info.get("preferred_username").is_none_or(Value::is_null),
            "narrowed token still reads the profile: {info}"
        );

        // Wider than the grant, even within the client's scopes: refused.
        let wide = refresh(
            &app,
            &client,
            refresh_token(&narrow),
            &[("scope", "openid profile email project")],
        )
        .await;
        assert_error(&wide, StatusCode::BAD_REQUEST, "invalid_scope");
        let wide = refresh(
            &app,
            &client,
            refresh_token(&narrow),
            &[("scope", "openid admin")],
        )
        .await;
        assert_error(&wide, StatusCode::BAD_REQUEST, "invalid_scope");

        // Omitted scope means the scope the resource owner granted
        // (RFC 6749 §6), not the narrowed one: the grant did not shrink.
        let back = ok(&refresh(&app, &client, refresh_token(&narrow), &[]).await);
        assert_eq!(scope_of(&back), scopes("openid profile email"));
        let info = userinfo(&app, access_token(&back)).await.json();
        assert!(info["email"].is_string(), "{info}");
        // And asking for all of it explicitly is not widening either.
        let all = ok(&refresh(
            &app,
            &client,
            refresh_token(&back),
            &[("scope", "email openid profile")],
        )
        .await);
        assert_eq!(scope_of(&all), scopes("openid profile email"));
    });
}

fn a_refresh_token_ends_at_the_absolute_lifetime_despite_rotation(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let first = tokens_for(&app, &client, "alice", "openid").await;
        app.advance(Duration::from_secs(20 * 24 * 3600));
        let second = ok(&refresh(&app, &client, refresh_token(&first), &[]).await);
        // 31 days after the user authorized: over, rotation or not.
        app.advance(Duration::from_secs(11 * 24 * 3600));
        assert_invalid_grant(&refresh(&app, &client, refresh_token(&second), &[]).await);

        // And an unrotated one, simply past 30 days.
        let other = tokens_for(&app, &client, "alice", "openid").await;
        app.advance(Duration::from_secs(30 * 24 * 3600 + 1));
        assert_invalid_grant(&refresh(&app, &client, refresh_token(&other), &[]).await);
    });
}

fn refresh_accepts_the_seeds_redirect_uri_parameter(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let first = tokens_for(&app, &client, "alice", "openid project").await;
        // The seed's refresh request also carries redirect_uri.
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token(&first)),
            ("redirect_uri", CB),
        ];
        let json = ok(&token_request(&app, &client, &form).await);
        assert_seed_shape(&json, true);
        assert_eq!(scope_of(&json), scopes("openid project"));
        assert_works(&app, access_token(&json)).await;
    });
}
