//! Stolen and misused tokens (RFC 9700 §4.14, §4.9, §2.4, §2.5): refresh
//! token reuse, one client's token at another, tokens in URLs, and grants
//! that should not exist.

use oauth_store::test_support::TestDb;
use reqwest::StatusCode;

use super::{assert_oauth_error, assert_token_dead, assert_token_works, refresh, s};
use crate::support::*;

oauth_store::test_on_both_backends!(
    refresh_token_reuse_revokes_family,
    cross_client_refresh_token_use_fails,
    cross_client_introspection_of_foreign_token_requires_a_confidential_client,
    access_token_in_query_is_refused_at_userinfo,
    token_endpoint_refuses_get,
    resource_owner_password_grant_is_not_supported,
);

fn refresh_token_reuse_revokes_family(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        // A public client: no secret stands between a stolen refresh
        // token and new access tokens, only rotation does (RFC 9700 §4.14.2).
        let client = app.public_client();
        let (verifier, challenge) = pkce();
        let code = code_for(
            &app,
            &client,
            &format!("scope=openid&code_challenge={challenge}&code_challenge_method=S256"),
        )
        .await;
        let tokens = exchange_code(&app, &client, &code, &[("code_verifier", &verifier)]).await;
        assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
        let stolen = s(&tokens.json(), "refresh_token");
        // The legitimate client rotates; the attacker then uses the old one.
        let rotated = refresh(&app, &client, &stolen).await;
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
        let (access, current) = (
            s(&rotated.json(), "access_token"),
            s(&rotated.json(), "refresh_token"),
        );
        assert_token_works(&app, &access).await;
        let reuse = refresh(&app, &client, &stolen).await;
        assert_oauth_error(&reuse, StatusCode::BAD_REQUEST, "invalid_grant");
        // The server cannot tell thief from owner: the whole family ends.
        assert_token_dead(&app, &access).await;
        let reply = refresh(&app, &client, &current).await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant");
    });
}

fn cross_client_refresh_token_use_fails(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let victim_client = app.client();
        let attacker_client = app.client();
        let tokens = tokens_for(&app, &victim_client, "alice", "openid profile").await;
        let refresh_token = s(&tokens, "refresh_token");
        // The attacker redeems a stolen refresh token with their own
        // client's credentials (RFC 6749 §6: bound to its client).
        let reply = refresh(&app, &attacker_client, &refresh_token).await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant");
        // The victim's client is unaffected.
        let reply = refresh(&app, &victim_client, &refresh_token).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    });
}

fn cross_client_introspection_of_foreign_token_requires_a_confidential_client(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let access = s(
            &tokens_for(&app, &client, "alice", "openid").await,
            "access_token",
        );
        // RFC 7662 §4: introspection tells who a token belongs to, so the
        // caller must authenticate. A resource server (a confidential
        // client) checks tokens issued to other clients, so that is
        // allowed; anyone else who found a token learns nothing.
        let public = app.public_client();
        let anonymous = post_anonymous(&app, "/oauth/introspect", &[("token", &access)]).await;
        assert_oauth_error(&anonymous, StatusCode::UNAUTHORIZED, "invalid_client");
        let as_public = post_anonymous(
            &app,
            "/oauth/introspect",
            &[("token", &access), ("client_id", &public.id)],
        )
        .await;
        assert_oauth_error(&as_public, StatusCode::UNAUTHORIZED, "invalid_client");
        let wrong_secret = read(
            app.backend()
                .post(app.url("/oauth/introspect"))
                .basic_auth(enc(&client.id), Some("not-the-secret"))
                .form(&[("token", &access)])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_oauth_error(&wrong_secret, StatusCode::UNAUTHORIZED, "invalid_client");
        for reply in [&anonymous, &as_public, &wrong_secret] {
            assert!(!reply.body.contains("alice"), "{}", reply.body);
        }
        // The token with itself as the credential opens nothing either.
        let bearer = read(
            app.backend()
                .post(app.url("/oauth/introspect"))
                .bearer_auth(&access)
                .form(&[("token", &access)])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(bearer.status, StatusCode::UNAUTHORIZED, "{}", bearer.body);
        // A resource server with its own credentials is told.
        let resource_server = app.client();
        let reply = read(
            app.backend()
                .post(app.url("/oauth/introspect"))
                .basic_auth(
                    enc(&resource_server.id),
                    resource_server.secret.as_deref().map(enc),
                )
                .form(&[("token", &access)])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.json()["active"], true, "{}", reply.body);
        assert_eq!(reply.json()["client_id"], client.id.as_str());
    });
}

fn access_token_in_query_is_refused_at_userinfo(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let access = s(
            &tokens_for(&app, &client, "alice", "openid").await,
            "access_token",
        );
        // RFC 9700 §2.5: a token in a URL ends up in logs, history and
        // referrers; a server that accepted it would invite clients to
        // leak tokens that way.
        for path in [
            "/oauth/userinfo",
            "/api/method/frappe.integrations.oauth2.openid_profile",
        ] {
            let reply = read(
                app.backend()
                    .get(format!("{}?access_token={}", app.url(path), enc(&access)))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_ne!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
            assert!(!reply.body.contains("\"sub\""), "{path}: {}", reply.body);
        }
    });
}

fn token_endpoint_refuses_get(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid").await;
        // Credentials and codes in a query string end up in logs; the
        // token endpoint takes POST only (RFC 6749 §3.2).
        let url = format!(
            "{}?grant_type=authorization_code&code={}&redirect_uri={}&client_id={}&client_secret={}",
            app.url("/oauth/token"),
            enc(&code),
            enc(CB),
            enc(&client.id),
            enc(client.secret.as_deref().unwrap())
        );
        let reply = read(app.backend().get(url).send().await.unwrap()).await;
        assert_eq!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{}",
            reply.body
        );
        assert!(reply.json()["access_token"].is_null());
        // And the same for the code parameters sent on a POST's query.
        let url = format!(
            "{}?grant_type=authorization_code&code={}&redirect_uri={}",
            app.url("/oauth/token"),
            enc(&code),
            enc(CB),
        );
        let reply = read(
            app.backend()
                .post(url)
                .basic_auth(enc(&client.id), client.secret.as_deref().map(enc))
                .form(&[("unused", "x")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert!(reply.json()["access_token"].is_null());
    });
}

fn resource_owner_password_grant_is_not_supported(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        // RFC 9700 §2.4: the password grant hands the user's password to
        // the client. Even with the right password it yields nothing.
        let reply = token_request(
            &app,
            &client,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", PASSWORD),
                ("scope", "openid"),
            ],
        )
        .await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "unsupported_grant_type");
        assert!(reply.json()["access_token"].is_null());
    });
}
