//! What a registration (RFC 7591 §3.2.1) returns and stores: every member,
//! digests only, the public-client case, defaults and ignored members.

use std::time::SystemTime;

use oauth_core::{CodeChallenge, CodeVerifier, SecretDigest, TokenEndpointAuthMethod};
use oauth_store::clients;
use oauth_store::test_support::TestDb;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

use super::{HTTPS_CB, LOOPBACK_CB, REGISTER, code_flow, manage, post_raw, registered, s, stored};

oauth_store::test_on_both_backends!(
    a_confidential_registration_returns_every_member_and_runs_the_code_flow,
    the_secret_and_the_registration_token_are_stored_only_as_digests,
    a_public_registration_gets_no_secret_and_uses_pkce,
    omitted_members_get_the_defaults,
    unknown_members_and_admin_only_settings_are_ignored,
);

fn now() -> i64 {
    oauth_core::Timestamp::from_system(SystemTime::now()).unix()
}

// ---- registration ----

fn a_confidential_registration_returns_every_member_and_runs_the_code_flow(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let before = now();
        let json = registered(
            &app,
            &json!({
                "redirect_uris": [LOOPBACK_CB, HTTPS_CB],
                "client_name": "Example App",
                "token_endpoint_auth_method": "client_secret_basic",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "scope": "openid profile email",
                "client_uri": "https://app.example/",
                "logo_uri": "https://app.example/logo.png",
                "contacts": ["ops@app.example"],
            }),
        )
        .await;
        let id = s(&json, "client_id");
        let members: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = vec![
            "client_id",
            "client_secret",
            "client_id_issued_at",
            "client_secret_expires_at",
            "registration_access_token",
            "registration_client_uri",
            "redirect_uris",
            "token_endpoint_auth_method",
            "grant_types",
            "response_types",
            "client_name",
            "scope",
            "client_uri",
            "logo_uri",
            "contacts",
        ];
        let mut members_sorted = members.clone();
        members_sorted.sort_unstable();
        expected.sort_unstable();
        assert_eq!(members_sorted, expected, "{json}");
        assert_eq!(s(&json, "client_secret").len(), 43);
        assert_eq!(s(&json, "registration_access_token").len(), 43);
        let issued = json["client_id_issued_at"].as_i64().unwrap();
        assert!(issued >= before && issued <= now(), "{json}");
        assert_eq!(json["client_secret_expires_at"], 0);
        assert_eq!(
            s(&json, "registration_client_uri"),
            format!("{}/oauth/register/{id}", app.issuer())
        );
        assert_eq!(json["redirect_uris"], json!([LOOPBACK_CB, HTTPS_CB]));
        assert_eq!(json["token_endpoint_auth_method"], "client_secret_basic");
        assert_eq!(
            json["grant_types"],
            json!(["authorization_code", "refresh_token"])
        );
        assert_eq!(json["response_types"], json!(["code"]));
        assert_eq!(json["client_name"], "Example App");
        assert_eq!(json["scope"], "email openid profile");
        assert_eq!(json["client_uri"], "https://app.example/");
        assert_eq!(json["logo_uri"], "https://app.example/logo.png");
        assert_eq!(json["contacts"], json!(["ops@app.example"]));

        // The new client runs the whole code flow, refresh included.
        let secret = s(&json, "client_secret");
        let tokens = code_flow(&app, id, Some(secret), LOOPBACK_CB, "openid profile").await;
        assert!(tokens["id_token"].is_string(), "{tokens}");
        let info = userinfo(&app, s(&tokens, "access_token")).await;
        assert_eq!(info.status, StatusCode::OK, "{}", info.body);
        let refreshed = read(
            app.backend()
                .post(app.url("/oauth/token"))
                .basic_auth(enc(id), Some(enc(secret)))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", s(&tokens, "refresh_token")),
                ])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
        // The consent page names the client as it registered itself, and
        // the https redirect URI is accepted as well.
        let browser = app.browser();
        let path = format!(
            "/oauth/authorize?client_id={}&response_type=code&redirect_uri={}&scope=openid",
            enc(id),
            enc(HTTPS_CB)
        );
        browser.login("alice", PASSWORD, &path).await;
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("Example App"), "{}", page.body);
    });
}

fn the_secret_and_the_registration_token_are_stored_only_as_digests(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let json = registered(&app, &json!({ "redirect_uris": [HTTPS_CB] })).await;
        let (id, secret, token) = (
            s(&json, "client_id"),
            s(&json, "client_secret"),
            s(&json, "registration_access_token"),
        );
        let client = stored(&app, id).expect("stored");
        let digest = client.secret_digest.as_ref().expect("a secret digest");
        assert_eq!(*digest, SecretDigest::of(secret));
        assert_ne!(digest.as_str(), secret);
        assert!(!digest.as_str().contains(secret));
        let mut conn = app.db.conn().unwrap();
        let found = clients::find_by_registration_token(&mut conn, &SecretDigest::of(token))
            .unwrap()
            .expect("found by the token's digest");
        assert_eq!(found.id.as_str(), id);
        // Only the registration token's digest finds the client.
        assert!(
            clients::find_by_registration_token(&mut conn, &SecretDigest::of(secret))
                .unwrap()
                .is_none()
        );
        // Reading the registration back never shows the secret.
        let read_back = manage(&app, reqwest::Method::GET, id, Some(token), None).await;
        assert_eq!(read_back.status, StatusCode::OK, "{}", read_back.body);
        assert!(!read_back.body.contains(secret));
        assert!(read_back.json().get("client_secret").is_none());
    });
}

fn a_public_registration_gets_no_secret_and_uses_pkce(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let json = registered(
            &app,
            &json!({
                "redirect_uris": ["http://[::1]:8765/callback"],
                "token_endpoint_auth_method": "none",
                "client_name": "CLI tool",
            }),
        )
        .await;
        assert!(json.get("client_secret").is_none(), "{json}");
        assert!(json.get("client_secret_expires_at").is_none(), "{json}");
        assert_eq!(json["token_endpoint_auth_method"], "none");
        let id = s(&json, "client_id");
        let client = stored(&app, id).unwrap();
        assert_eq!(client.secret_digest, None);
        assert_eq!(
            client.metadata.token_endpoint_auth_method,
            TokenEndpointAuthMethod::None
        );
        let tokens = code_flow(&app, id, None, "http://[::1]:8765/callback", "openid").await;
        assert!(tokens["access_token"].is_string(), "{tokens}");
    });
}

fn omitted_members_get_the_defaults(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let json = registered(&app, &json!({ "redirect_uris": [HTTPS_CB] })).await;
        assert_eq!(json["client_name"], "Unnamed client");
        assert_eq!(json["token_endpoint_auth_method"], "client_secret_basic");
        assert_eq!(json["grant_types"], json!(["authorization_code"]));
        assert_eq!(json["response_types"], json!(["code"]));
        assert_eq!(json["scope"], "openid");
        for absent in ["client_uri", "logo_uri", "contacts"] {
            assert!(json.get(absent).is_none(), "{absent} in {json}");
        }
        assert!(json["client_secret"].is_string());
        // A charset parameter on the content type is fine.
        let reply = post_raw(
            &app,
            REGISTER,
            Some("application/json; charset=utf-8"),
            &json!({ "redirect_uris": [HTTPS_CB] }).to_string(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    });
}

fn unknown_members_and_admin_only_settings_are_ignored(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let json = registered(
            &app,
            &json!({
                "redirect_uris": [LOOPBACK_CB],
                "software_id": "4NRB1-0XZABZI9E6-5SM3R",
                "software_version": "2.1",
                "jwks": { "keys": [] },
                "tos_uri": "https://app.example/tos",
                "client_name#fr": "Appli",
                "skip_authorization": true,
                "allowed_roles": ["System Manager"],
                "access_token_format": "jwt",
                "allow_plain_pkce": true,
                "client_id": "chosen-by-me",
                "logo_uri": null,
            }),
        )
        .await;
        let id = s(&json, "client_id");
        assert_ne!(id, "chosen-by-me");
        for absent in [
            "software_id",
            "jwks",
            "tos_uri",
            "skip_authorization",
            "allowed_roles",
            "logo_uri",
        ] {
            assert!(json.get(absent).is_none(), "{absent} in {json}");
        }
        let m = stored(&app, id).unwrap().metadata;
        assert!(!m.skip_authorization);
        assert!(m.allowed_roles.is_empty());
        assert_eq!(m.access_token_format, oauth_core::AccessTokenFormat::Opaque);
        assert!(!m.allow_plain_pkce);
        // skip_authorization was not taken: the user is asked.
        let browser = app.browser();
        let path = format!(
            "/oauth/authorize?client_id={}&response_type=code&redirect_uri={}&scope=openid\
             &code_challenge={}&code_challenge_method=S256",
            enc(id),
            enc(LOOPBACK_CB),
            CodeChallenge::s256_of(&CodeVerifier::generate(&mut rand::rng())).as_str()
        );
        browser.login("alice", PASSWORD, &path).await;
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("id=\"allow\""), "{}", page.body);
    });
}
