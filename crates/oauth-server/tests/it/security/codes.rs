//! Authorization codes: injection, replay and PKCE downgrade (RFC 9700
//! §4.5, §2.1.1, §4.8). The attacker holds a code (stolen from a log, a
//! referrer, a malicious app on the device) and tries to redeem it.

use oauth_store::test_support::TestDb;
use reqwest::StatusCode;

use super::{assert_oauth_error, assert_token_dead, assert_token_works, refresh, s};
use crate::support::*;

oauth_store::test_on_both_backends!(
    authorization_code_injection_into_other_client_fails,
    authorization_code_replay_revokes_issued_tokens,
    pkce_downgrade_verifier_without_challenge_is_refused,
    pkce_downgrade_challenge_dropped_at_the_token_endpoint_is_refused,
    pkce_plain_refused_unless_opted_in,
);

fn authorization_code_injection_into_other_client_fails(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let victim_client = app.client();
        let attacker_client = app.client();
        let code = code_for(&app, &victim_client, "scope=openid%20profile&state=s").await;
        // The attacker redeems the victim client's code with their own
        // (valid) credentials, and with the public variant of it.
        let reply = exchange_code(&app, &attacker_client, &code, &[]).await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant");
        let public = app.public_client();
        let reply =
            exchange_code(&app, &public, &code, &[("code_verifier", &"v".repeat(43))]).await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant");
        // The attempts did not burn the code (that would let anyone who
        // sees a code cancel the victim's login): its client redeems it,
        // and the ID token is for that client.
        let owner = exchange_code(&app, &victim_client, &code, &[]).await;
        assert_eq!(owner.status, StatusCode::OK, "{}", owner.body);
        let claims = jwt_part(&s(&owner.json(), "id_token"), 1);
        assert_eq!(claims["aud"], victim_client.id.as_str(), "{claims}");
    });
}

fn authorization_code_replay_revokes_issued_tokens(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let first = exchange_code(&app, &client, &code, &[]).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        let (access, refresh_token) = (
            s(&first.json(), "access_token"),
            s(&first.json(), "refresh_token"),
        );
        assert_token_works(&app, &access).await;
        // A second redemption means the code leaked: one of the two
        // holders is an attacker, so neither keeps the tokens (RFC 6749
        // §4.1.2).
        let replay = exchange_code(&app, &client, &code, &[]).await;
        assert_oauth_error(&replay, StatusCode::BAD_REQUEST, "invalid_grant");
        assert_token_dead(&app, &access).await;
        let reply = refresh(&app, &client, &refresh_token).await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant");
    });
}

fn pkce_downgrade_verifier_without_challenge_is_refused(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        // RFC 9700 §4.8.2: the attacker starts a flow without a challenge
        // and injects the resulting code into a victim's session whose
        // client sends a verifier. A verifier for a code that had no
        // challenge must be refused, or PKCE protects nothing.
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let (verifier, _) = pkce();
        let reply = exchange_code(&app, &client, &code, &[("code_verifier", &verifier)]).await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant");
    });
}

fn pkce_downgrade_challenge_dropped_at_the_token_endpoint_is_refused(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        // The attacker stole a code issued with a challenge but does not
        // know the verifier: leaving the verifier out must not help.
        let (_, challenge) = pkce();
        let code = code_for(
            &app,
            &client,
            &format!("scope=openid&code_challenge={challenge}&code_challenge_method=S256"),
        )
        .await;
        let reply = exchange_code(&app, &client, &code, &[]).await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant");
    });
}

fn pkce_plain_refused_unless_opted_in(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let browser = logged_in(&app, "alice").await;
        // `plain` puts the verifier itself in the front channel, where the
        // attacker who sees the code sees it too (RFC 9700 §2.1.1).
        let verifier = "a".repeat(43);
        let plain =
            format!("scope=openid&state=s&code_challenge={verifier}&code_challenge_method=plain");
        let client = app.client();
        let params = redirected_error(&browser, &client.authorize_query(&plain)).await;
        assert_eq!(
            param(&params, "error"),
            Some("invalid_request"),
            "{params:?}"
        );
        // A client that opted in (an old app that cannot do S256) may.
        let legacy = app.client_with(|m| m.allow_plain_pkce = true);
        let code = code_for(&app, &legacy, &plain).await;
        let reply = exchange_code(&app, &legacy, &code, &[("code_verifier", &verifier)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    });
}
