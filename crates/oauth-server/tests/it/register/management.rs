//! Client management with the registration access token (RFC 7592):
//! read, update and delete, and who may do them.

use oauth_core::SecretDigest;
use oauth_store::test_support::TestDb;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::json;

use crate::support::*;

use super::{
    HTTPS_CB, LOOPBACK_CB, REGISTER, assert_error, assert_uncacheable_json, code_flow, manage,
    registered, s, stored,
};

oauth_store::test_on_both_backends!(
    read_update_and_delete_with_the_registration_token,
    an_update_must_name_the_client_and_its_secret,
    an_update_from_public_to_confidential_issues_a_secret,
    a_wrong_or_missing_registration_token_is_401,
    another_clients_token_is_401,
    deleting_a_client_ends_its_tokens,
);

/// 401 with an RFC 6750 `invalid_token` challenge.
fn assert_invalid_token(reply: &Reply) {
    assert_error(reply, StatusCode::UNAUTHORIZED, "invalid_token");
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
}

// ---- RFC 7592 ----

fn read_update_and_delete_with_the_registration_token(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let created = registered(
            &app,
            &json!({
                "redirect_uris": [HTTPS_CB],
                "client_name": "Before",
                "client_uri": "https://app.example/",
                "scope": "openid profile",
            }),
        )
        .await;
        let id = s(&created, "client_id");
        let token = s(&created, "registration_access_token");
        let secret = s(&created, "client_secret");

        // Read: the registration as created, without the secret.
        let reply = manage(&app, reqwest::Method::GET, id, Some(token), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_uncacheable_json(&reply);
        let mut expected = created.clone();
        expected.as_object_mut().unwrap().remove("client_secret");
        assert_eq!(reply.json(), expected);

        // Update: the body replaces the metadata; what it omits reverts.
        let body = json!({
            "client_id": id,
            "client_secret": secret,
            "redirect_uris": [LOOPBACK_CB],
            "client_name": "After",
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "client_secret_post",
        });
        let reply = manage(&app, reqwest::Method::PUT, id, Some(token), Some(&body)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_uncacheable_json(&reply);
        let json = reply.json();
        assert_eq!(json["client_id"], id);
        assert_eq!(json["client_name"], "After");
        assert_eq!(json["redirect_uris"], json!([LOOPBACK_CB]));
        assert_eq!(json["token_endpoint_auth_method"], "client_secret_post");
        assert_eq!(
            json["grant_types"],
            json!(["authorization_code", "refresh_token"])
        );
        assert_eq!(json["scope"], "openid");
        assert!(json.get("client_uri").is_none(), "{json}");
        assert!(json.get("client_secret").is_none(), "{json}");
        assert_eq!(json["registration_access_token"], token);
        assert_eq!(json["client_id_issued_at"], created["client_id_issued_at"]);
        let client = stored(&app, id).unwrap();
        assert_eq!(client.metadata.name, "After");
        assert_eq!(client.secret_digest, Some(SecretDigest::of(secret)));
        // The same token still reads it.
        let reply = manage(&app, reqwest::Method::GET, id, Some(token), None).await;
        assert_eq!(reply.json()["client_name"], "After");

        // A bad update changes nothing.
        let bad = json!({ "client_id": id, "redirect_uris": ["http://app.example/cb"] });
        let reply = manage(&app, reqwest::Method::PUT, id, Some(token), Some(&bad)).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_redirect_uri");
        assert_eq!(stored(&app, id).unwrap(), client);
        let reply = read(
            app.backend()
                .put(app.url(&format!("{REGISTER}/{id}")))
                .bearer_auth(token)
                .header(CONTENT_TYPE, "text/plain")
                .body(body.to_string())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_client_metadata");

        // Delete: 204, and the client and its token are gone.
        let reply = manage(&app, reqwest::Method::DELETE, id, Some(token), None).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
        assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));
        assert!(stored(&app, id).is_none());
        let reply = manage(&app, reqwest::Method::GET, id, Some(token), None).await;
        assert_invalid_token(&reply);
        let reply = manage(&app, reqwest::Method::DELETE, id, Some(token), None).await;
        assert_invalid_token(&reply);
    });
}

fn an_update_must_name_the_client_and_its_secret(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let created = registered(&app, &json!({ "redirect_uris": [HTTPS_CB] })).await;
        let id = s(&created, "client_id");
        let token = s(&created, "registration_access_token");
        for body in [
            json!({ "redirect_uris": [HTTPS_CB] }),
            json!({ "client_id": "someone-else", "redirect_uris": [HTTPS_CB] }),
            json!({ "client_id": id, "client_secret": "wrong", "redirect_uris": [HTTPS_CB] }),
            json!({ "client_id": id, "redirect_uris": [HTTPS_CB], "grant_types": ["client_credentials"] }),
        ] {
            let reply = manage(&app, reqwest::Method::PUT, id, Some(token), Some(&body)).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_client_metadata");
        }
    });
}

fn an_update_from_public_to_confidential_issues_a_secret(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let created = registered(
            &app,
            &json!({ "redirect_uris": [LOOPBACK_CB], "token_endpoint_auth_method": "none" }),
        )
        .await;
        let id = s(&created, "client_id");
        let token = s(&created, "registration_access_token");
        let body = json!({ "client_id": id, "redirect_uris": [LOOPBACK_CB] });
        let reply = manage(&app, reqwest::Method::PUT, id, Some(token), Some(&body)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let json = reply.json();
        assert_eq!(json["token_endpoint_auth_method"], "client_secret_basic");
        assert_eq!(json["client_secret_expires_at"], 0);
        let secret = s(&json, "client_secret");
        assert_eq!(
            stored(&app, id).unwrap().secret_digest,
            Some(SecretDigest::of(secret))
        );
        let tokens = code_flow(&app, id, Some(secret), LOOPBACK_CB, "openid").await;
        assert!(tokens["access_token"].is_string());

        // And back: public again, the secret forgotten.
        let body = json!({
            "client_id": id,
            "redirect_uris": [LOOPBACK_CB],
            "token_endpoint_auth_method": "none",
        });
        let reply = manage(&app, reqwest::Method::PUT, id, Some(token), Some(&body)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(reply.json().get("client_secret").is_none());
        assert_eq!(stored(&app, id).unwrap().secret_digest, None);
    });
}

fn a_wrong_or_missing_registration_token_is_401(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let created = registered(&app, &json!({ "redirect_uris": [HTTPS_CB] })).await;
        let id = s(&created, "client_id");
        let secret = s(&created, "client_secret");
        let before = stored(&app, id).unwrap();
        let body = json!({ "client_id": id, "redirect_uris": [LOOPBACK_CB] });
        let url = app.url(&format!("{REGISTER}/{id}"));
        for method in [
            reqwest::Method::GET,
            reqwest::Method::PUT,
            reqwest::Method::DELETE,
        ] {
            for authorization in [
                None,
                Some("Bearer wrong-token".to_owned()),
                Some(format!("Bearer {secret}")),
                Some("Bearer".to_owned()),
                Some("Bearer a b".to_owned()),
                Some(format!(
                    "Basic {}",
                    s(&created, "registration_access_token")
                )),
            ] {
                let mut req = app
                    .backend()
                    .request(method.clone(), &url)
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.to_string());
                if let Some(value) = &authorization {
                    req = req.header(AUTHORIZATION, value);
                }
                let reply = read(req.send().await.unwrap()).await;
                assert_invalid_token(&reply);
            }
        }
        // An unknown client is 401 as well, not 404 (RFC 7592 §2.1).
        let reply = manage(
            &app,
            reqwest::Method::GET,
            "no-such-client",
            Some("x"),
            None,
        )
        .await;
        assert_invalid_token(&reply);
        // A bad body does not get past a bad token.
        let reply = manage(
            &app,
            reqwest::Method::PUT,
            id,
            Some("wrong"),
            Some(&json!({ "redirect_uris": ["http://app.example/cb"] })),
        )
        .await;
        assert_invalid_token(&reply);
        assert_eq!(stored(&app, id).unwrap(), before);
    });
}

fn another_clients_token_is_401(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let one = registered(&app, &json!({ "redirect_uris": [HTTPS_CB] })).await;
        let two = registered(&app, &json!({ "redirect_uris": [HTTPS_CB] })).await;
        let (id_one, token_two) = (s(&one, "client_id"), s(&two, "registration_access_token"));
        let reply = manage(&app, reqwest::Method::GET, id_one, Some(token_two), None).await;
        assert_invalid_token(&reply);
        let reply = manage(&app, reqwest::Method::DELETE, id_one, Some(token_two), None).await;
        assert_invalid_token(&reply);
        assert!(stored(&app, id_one).is_some());
        // A client registered by an administrator has no registration
        // token at all.
        let admin = app.client();
        let reply = manage(&app, reqwest::Method::GET, &admin.id, Some(token_two), None).await;
        assert_invalid_token(&reply);
    });
}

fn deleting_a_client_ends_its_tokens(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let created = registered(&app, &json!({ "redirect_uris": [LOOPBACK_CB] })).await;
        let id = s(&created, "client_id");
        let tokens = code_flow(
            &app,
            id,
            Some(s(&created, "client_secret")),
            LOOPBACK_CB,
            "openid",
        )
        .await;
        let access = s(&tokens, "access_token");
        assert_eq!(userinfo(&app, access).await.status, StatusCode::OK);
        let reply = manage(
            &app,
            reqwest::Method::DELETE,
            id,
            Some(s(&created, "registration_access_token")),
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
        assert_eq!(
            userinfo(&app, access).await.status,
            StatusCode::UNAUTHORIZED
        );
    });
}
