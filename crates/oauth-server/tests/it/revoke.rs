//! Token revocation: RFC 7009 on `POST /oauth/revoke`, and Frappe's
//! `frappe.integrations.oauth2.revoke_token` with the seed's answers.

use oauth_store::test_support::TestDb;
use reqwest::StatusCode;

use crate::support::*;

oauth_store::test_on_both_backends!(
    revoking_an_access_token_ends_it_at_userinfo,
    revoking_an_access_token_twice_answers_200_both_times,
    revoking_a_refresh_token_ends_it_and_every_access_token_of_its_grant,
    every_hint_or_none_revokes_an_access_token,
    every_hint_or_none_revokes_a_refresh_token,
    client_secret_post_credentials_in_the_body_are_accepted,
    a_public_client_revokes_its_own_token_with_its_client_id,
    an_unknown_token_answers_200,
    another_clients_access_token_is_refused_and_still_works,
    another_clients_refresh_token_is_refused_and_still_works,
    no_client_authentication_is_invalid_client_401,
    a_wrong_client_secret_is_invalid_client_and_revokes_nothing,
    a_missing_token_parameter_is_invalid_request,
    revocation_responses_carry_cache_control_no_store,
    get_on_the_revocation_endpoint_is_405,
    frappe_path_revokes_an_access_token_sent_as_the_seed_writes_it,
    frappe_path_revokes_a_refresh_token_and_its_grant,
    frappe_path_without_a_token_is_bad_request,
    frappe_path_with_wrong_client_credentials_is_bad_request_and_revokes_nothing,
    frappe_path_with_another_clients_credentials_revokes_nothing,
);

const FRAPPE_REVOKE: &str = "/api/method/frappe.integrations.oauth2.revoke_token";

/// `POST /oauth/revoke` with HTTP Basic for `client`.
async fn revoke(app: &TestServer, client: &TestClient, form: &[(&str, &str)]) -> Reply {
    let secret = client.secret.as_deref().expect("a confidential client");
    let req = app
        .backend()
        .post(app.url("/oauth/revoke"))
        .basic_auth(enc(&client.id), Some(enc(secret)))
        .form(form);
    read(req.send().await.unwrap()).await
}

/// Exchanges a refresh token with HTTP Basic for `client`.
async fn refresh(app: &TestServer, client: &TestClient, refresh_token: &str) -> Reply {
    token_request(
        app,
        client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// A string member of a JSON object.
fn s(json: &serde_json::Value, key: &str) -> String {
    json[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {json}"))
        .to_owned()
}

/// The token's user can still read userinfo with it.
async fn assert_alive(app: &TestServer, access_token: &str) {
    let info = userinfo(app, access_token).await;
    assert_eq!(
        info.status,
        StatusCode::OK,
        "the token should still work: {}",
        info.body
    );
}

/// Userinfo refuses the token as RFC 6750 `invalid_token`.
async fn assert_dead(app: &TestServer, access_token: &str) {
    let info = userinfo(app, access_token).await;
    assert_eq!(
        info.status,
        StatusCode::UNAUTHORIZED,
        "the token should be revoked: {}",
        info.body
    );
    let challenge = info
        .header("www-authenticate")
        .expect("a WWW-Authenticate challenge");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
}

/// An RFC 6749 §5.2 error body with this code.
fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.json()["error"], code, "{}", reply.body);
}

fn revoking_an_access_token_ends_it_at_userinfo(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let tokens = tokens_for(&app, &client, "alice", "openid project").await;
        let access = s(&tokens, "access_token");
        assert_alive(&app, &access).await;
        let reply = revoke(&app, &client, &[("token", &access)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_dead(&app, &access).await;
    });
}

fn revoking_an_access_token_twice_answers_200_both_times(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let access = s(
            &tokens_for(&app, &client, "alice", "openid").await,
            "access_token",
        );
        for _ in 0..2 {
            let reply = revoke(
                &app,
                &client,
                &[("token", &access), ("token_type_hint", "access_token")],
            )
            .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        }
        assert_dead(&app, &access).await;
    });
}

fn revoking_a_refresh_token_ends_it_and_every_access_token_of_its_grant(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let first = tokens_for(&app, &client, "alice", "openid project").await;
        // A second pair of the same grant, by refreshing.
        let second = refresh(&app, &client, &s(&first, "refresh_token")).await;
        assert_eq!(second.status, StatusCode::OK, "{}", second.body);
        let second = second.json();
        assert_alive(&app, &s(&first, "access_token")).await;
        assert_alive(&app, &s(&second, "access_token")).await;

        let reply = revoke(&app, &client, &[("token", &s(&second, "refresh_token"))]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

        assert_error(
            &refresh(&app, &client, &s(&second, "refresh_token")).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        );
        assert_dead(&app, &s(&first, "access_token")).await;
        assert_dead(&app, &s(&second, "access_token")).await;
    });
}

fn every_hint_or_none_revokes_an_access_token(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        // The right hint, the wrong one (a refresh hint on an access token),
        // one the server does not know, and none at all.
        for hint in [
            Some("access_token"),
            Some("refresh_token"),
            Some("id_token"),
            None,
        ] {
            let tokens = tokens_for(&app, &client, "alice", "openid").await;
            let access = s(&tokens, "access_token");
            let mut form = vec![("token", access.as_str())];
            form.extend(hint.map(|h| ("token_type_hint", h)));
            let reply = revoke(&app, &client, &form).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "hint {hint:?}: {}",
                reply.body
            );
            assert_dead(&app, &access).await;
        }
    });
}

fn every_hint_or_none_revokes_a_refresh_token(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        for hint in [
            Some("refresh_token"),
            Some("access_token"),
            Some("id_token"),
            None,
        ] {
            let tokens = tokens_for(&app, &client, "alice", "openid").await;
            let refresh_token = s(&tokens, "refresh_token");
            let mut form = vec![("token", refresh_token.as_str())];
            form.extend(hint.map(|h| ("token_type_hint", h)));
            let reply = revoke(&app, &client, &form).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "hint {hint:?}: {}",
                reply.body
            );
            let again = refresh(&app, &client, &refresh_token).await;
            assert_error(&again, StatusCode::BAD_REQUEST, "invalid_grant");
            assert_dead(&app, &s(&tokens, "access_token")).await;
        }
    });
}

fn client_secret_post_credentials_in_the_body_are_accepted(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let access = s(
            &tokens_for(&app, &client, "alice", "openid").await,
            "access_token",
        );
        let mut form: Vec<(String, String)> = client.body_auth();
        form.push(("token".into(), access.clone()));
        let reply = read(
            app.backend()
                .post(app.url("/oauth/revoke"))
                .form(&form)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_dead(&app, &access).await;
    });
}

fn a_public_client_revokes_its_own_token_with_its_client_id(t: &TestDb) {
    block_on(async {
        use base64::Engine as _;
        use sha2::Digest as _;

        let app = TestServer::start(t);
        app.user("alice");
        let client = app.public_client();
        let verifier = "a-code-verifier-that-is-long-enough-for-rfc-7636-rules";
        let challenge =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier));
        let query = client.authorize_query(&format!(
            "scope=openid&state=s&code_challenge={challenge}&code_challenge_method=S256"
        ));
        let params = app
            .browser()
            .authorize_and_allow("/oauth/authorize", &query, "alice")
            .await;
        let code = param(&params, "code").expect("a code");
        let tokens = exchange_code(&app, &client, code, &[("code_verifier", verifier)]).await;
        assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
        let access = s(&tokens.json(), "access_token");

        let reply = post_anonymous(
            &app,
            "/oauth/revoke",
            &[("token", &access), ("client_id", &client.id)],
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_dead(&app, &access).await;
    });
}

fn an_unknown_token_answers_200(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.client();
        for hint in [None, Some("access_token"), Some("refresh_token")] {
            let mut form = vec![("token", "no-such-token-was-ever-issued")];
            form.extend(hint.map(|h| ("token_type_hint", h)));
            let reply = revoke(&app, &client, &form).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "hint {hint:?}: {}",
                reply.body
            );
        }
    });
}

fn another_clients_access_token_is_refused_and_still_works(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let owner = app.client();
        let other = app.client();
        let access = s(
            &tokens_for(&app, &owner, "alice", "openid").await,
            "access_token",
        );
        for hint in [None, Some("access_token"), Some("refresh_token")] {
            let mut form = vec![("token", access.as_str())];
            form.extend(hint.map(|h| ("token_type_hint", h)));
            let reply = revoke(&app, &other, &form).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "unauthorized_client");
        }
        assert_alive(&app, &access).await;
    });
}

fn another_clients_refresh_token_is_refused_and_still_works(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let owner = app.client();
        let other = app.client();
        let tokens = tokens_for(&app, &owner, "alice", "openid").await;
        let refresh_token = s(&tokens, "refresh_token");
        let reply = revoke(
            &app,
            &other,
            &[
                ("token", &refresh_token),
                ("token_type_hint", "refresh_token"),
            ],
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "unauthorized_client");
        assert_alive(&app, &s(&tokens, "access_token")).await;
        let refreshed = refresh(&app, &owner, &refresh_token).await;
        assert_eq!(
            refreshed.status,
            StatusCode::OK,
            "the refresh token should still work: {}",
            refreshed.body
        );
    });
}

fn no_client_authentication_is_invalid_client_401(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let access = s(
            &tokens_for(&app, &client, "alice", "openid").await,
            "access_token",
        );
        let reply = post_anonymous(&app, "/oauth/revoke", &[("token", &access)]).await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client");
        assert!(
            reply.header("www-authenticate").is_some(),
            "401 without WWW-Authenticate"
        );
        assert_alive(&app, &access).await;
    });
}

fn a_wrong_client_secret_is_invalid_client_and_revokes_nothing(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let access = s(
            &tokens_for(&app, &client, "alice", "openid").await,
            "access_token",
        );
        // Wrong secret with HTTP Basic…
        let basic = app
            .backend()
            .post(app.url("/oauth/revoke"))
            .basic_auth(enc(&client.id), Some("not-the-secret"))
            .form(&[("token", &access)]);
        let reply = read(basic.send().await.unwrap()).await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client");
        // …and in the body.
        let reply = post_anonymous(
            &app,
            "/oauth/revoke",
            &[
                ("token", &access),
                ("client_id", &client.id),
                ("client_secret", "not-the-secret"),
            ],
        )
        .await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "invalid_client");
        assert_alive(&app, &access).await;
    });
}

fn a_missing_token_parameter_is_invalid_request(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.client();
        let reply = revoke(&app, &client, &[("token_type_hint", "access_token")]).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        let reply = revoke(&app, &client, &[]).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
    });
}

fn revocation_responses_carry_cache_control_no_store(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let other = app.client();
        let access = s(
            &tokens_for(&app, &client, "alice", "openid").await,
            "access_token",
        );
        let replies = [
            ("refused", revoke(&app, &other, &[("token", &access)]).await),
            (
                "revoked",
                revoke(&app, &client, &[("token", &access)]).await,
            ),
            (
                "unknown",
                revoke(&app, &client, &[("token", "unknown")]).await,
            ),
            ("missing token", revoke(&app, &client, &[]).await),
            (
                "no client",
                post_anonymous(&app, "/oauth/revoke", &[("token", &access)]).await,
            ),
            (
                "frappe success",
                post_anonymous(&app, FRAPPE_REVOKE, &[("token", "unknown")]).await,
            ),
            (
                "frappe bad request",
                post_anonymous(&app, FRAPPE_REVOKE, &[]).await,
            ),
        ];
        for (what, reply) in replies {
            assert_eq!(
                reply.header("cache-control").as_deref(),
                Some("no-store"),
                "{what}: {reply:?}"
            );
        }
    });
}

fn get_on_the_revocation_endpoint_is_405(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        for path in ["/oauth/revoke", FRAPPE_REVOKE] {
            let reply = read(app.backend().get(app.url(path)).send().await.unwrap()).await;
            assert_eq!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{path}: {}",
                reply.body
            );
            assert_eq!(reply.header("allow").as_deref(), Some("POST"), "{path}");
        }
    });
}

fn frappe_path_revokes_an_access_token_sent_as_the_seed_writes_it(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let access = s(
            &tokens_for(&app, &client, "alice", "openid project").await,
            "access_token",
        );
        assert_alive(&app, &access).await;
        let reply = post_anonymous(&app, FRAPPE_REVOKE, &[("token", &access)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.json(), serde_json::json!({ "message": "success" }));
        assert_dead(&app, &access).await;
    });
}

fn frappe_path_revokes_a_refresh_token_and_its_grant(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let tokens = tokens_for(&app, &client, "alice", "openid project").await;
        let reply = post_anonymous(
            &app,
            FRAPPE_REVOKE,
            &[
                ("token", &s(&tokens, "refresh_token")),
                ("token_type_hint", "refresh_token"),
            ],
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.json(), serde_json::json!({ "message": "success" }));
        let again = refresh(&app, &client, &s(&tokens, "refresh_token")).await;
        assert_error(&again, StatusCode::BAD_REQUEST, "invalid_grant");
        assert_dead(&app, &s(&tokens, "access_token")).await;
    });
}

fn frappe_path_without_a_token_is_bad_request(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        for form in [
            &[][..],
            &[("token_type_hint", "access_token")][..],
            &[("token", "")][..],
        ] {
            let reply = post_anonymous(&app, FRAPPE_REVOKE, form).await;
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "{form:?}: {}",
                reply.body
            );
            assert_eq!(
                reply.json(),
                serde_json::json!({ "message": "bad request" }),
                "{form:?}"
            );
        }
    });
}

fn frappe_path_with_wrong_client_credentials_is_bad_request_and_revokes_nothing(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let access = s(
            &tokens_for(&app, &client, "alice", "openid").await,
            "access_token",
        );
        // A wrong secret in the body, then with HTTP Basic, then an unknown
        // client id.
        let body = post_anonymous(
            &app,
            FRAPPE_REVOKE,
            &[
                ("token", &access),
                ("client_id", &client.id),
                ("client_secret", "not-the-secret"),
            ],
        )
        .await;
        let basic = read(
            app.backend()
                .post(app.url(FRAPPE_REVOKE))
                .basic_auth(enc(&client.id), Some("not-the-secret"))
                .form(&[("token", &access)])
                .send()
                .await
                .unwrap(),
        )
        .await;
        let unknown = post_anonymous(
            &app,
            FRAPPE_REVOKE,
            &[("token", &access), ("client_id", "no-such-client")],
        )
        .await;
        for (what, reply) in [
            ("body", body),
            ("basic", basic),
            ("unknown client", unknown),
        ] {
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "{what}: {}",
                reply.body
            );
            assert_eq!(
                reply.json(),
                serde_json::json!({ "message": "bad request" }),
                "{what}"
            );
        }
        assert_alive(&app, &access).await;
    });
}

fn frappe_path_with_another_clients_credentials_revokes_nothing(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let owner = app.client();
        let other = app.client();
        let access = s(
            &tokens_for(&app, &owner, "alice", "openid").await,
            "access_token",
        );
        let other_secret = other.secret.as_deref().unwrap();
        let reply = post_anonymous(
            &app,
            FRAPPE_REVOKE,
            &[
                ("token", &access),
                ("client_id", &other.id),
                ("client_secret", other_secret),
            ],
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert_eq!(
            reply.json(),
            serde_json::json!({ "message": "bad request" })
        );
        assert_alive(&app, &access).await;
    });
}
