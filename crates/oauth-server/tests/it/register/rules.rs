//! The rules a registration is held to (RFC 7591 §2, §3.2.2): redirect
//! URIs, response and grant types, the request's format and method.

use oauth_store::clients;
use oauth_store::test_support::TestDb;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::json;

use crate::support::*;

use super::{
    FRAPPE_REGISTER, HTTPS_CB, REGISTER, assert_error, manage, post_raw, register, registered,
};

oauth_store::test_on_both_backends!(
    http_on_a_host_that_is_not_a_loopback_ip_is_invalid_redirect_uri,
    a_redirect_uri_with_a_fragment_is_invalid_redirect_uri,
    a_missing_redirect_uri_is_invalid_redirect_uri,
    inconsistent_response_types_are_invalid_client_metadata,
    an_unknown_grant_type_is_invalid_client_metadata,
    client_credentials_is_not_open_to_registration,
    malformed_json_or_a_wrong_content_type_is_400,
    other_methods_on_the_registration_endpoint_are_405,
);

// ---- rules ----

fn http_on_a_host_that_is_not_a_loopback_ip_is_invalid_redirect_uri(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        for uri in [
            "http://app.example/cb",
            CB,
            "http://localhost/cb",
            "http://10.0.0.1/cb",
            "com.example.app:/cb",
        ] {
            let reply = register(&app, &json!({ "redirect_uris": [HTTPS_CB, uri] })).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_redirect_uri");
        }
        assert!(
            clients::list(&mut app.db.conn().unwrap())
                .unwrap()
                .is_empty()
        );
    });
}

fn a_redirect_uri_with_a_fragment_is_invalid_redirect_uri(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        for uri in ["https://app.example/cb#frag", "http://127.0.0.1/cb#"] {
            let reply = register(&app, &json!({ "redirect_uris": [uri] })).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_redirect_uri");
        }
    });
}

fn a_missing_redirect_uri_is_invalid_redirect_uri(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        for body in [
            json!({}),
            json!({ "redirect_uris": [] }),
            json!({ "redirect_uris": HTTPS_CB }),
            json!({ "response_types": ["token"] }),
        ] {
            let reply = register(&app, &body).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_redirect_uri");
        }
    });
}

fn inconsistent_response_types_are_invalid_client_metadata(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        for (grants, responses) in [
            (json!(["authorization_code"]), json!(["token"])),
            (json!(["implicit"]), json!(["code"])),
            (json!(["authorization_code", "implicit"]), json!(["code"])),
            (json!(["authorization_code"]), json!(["code id_token"])),
            (json!(["authorization_code"]), json!([])),
        ] {
            let body = json!({
                "redirect_uris": [HTTPS_CB],
                "grant_types": grants,
                "response_types": responses,
            });
            let reply = register(&app, &body).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_client_metadata");
        }
        // Consistent ones pass, and an omitted list follows the other.
        let json = registered(
            &app,
            &json!({ "redirect_uris": [HTTPS_CB], "response_types": ["code", "token"] }),
        )
        .await;
        assert_eq!(
            json["grant_types"],
            json!(["authorization_code", "implicit"])
        );
    });
}

fn an_unknown_grant_type_is_invalid_client_metadata(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        for grants in [
            json!(["password"]),
            json!([
                "authorization_code",
                "urn:ietf:params:oauth:grant-type:device_code"
            ]),
            json!(["refresh_token"]),
            json!([]),
            json!("authorization_code"),
        ] {
            let body = json!({ "redirect_uris": [HTTPS_CB], "grant_types": grants });
            let reply = register(&app, &body).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_client_metadata");
        }
        for body in [
            json!({ "redirect_uris": [HTTPS_CB], "token_endpoint_auth_method": "private_key_jwt" }),
            json!({ "redirect_uris": [HTTPS_CB], "scope": "openid \"quoted\"" }),
            json!({ "redirect_uris": [HTTPS_CB], "client_uri": "ftp://app.example/" }),
            json!({ "redirect_uris": [HTTPS_CB], "client_name": "" }),
        ] {
            let reply = register(&app, &body).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_client_metadata");
        }
    });
}

fn client_credentials_is_not_open_to_registration(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        for grants in [
            json!(["client_credentials"]),
            json!(["authorization_code", "client_credentials"]),
        ] {
            let body = json!({ "redirect_uris": [HTTPS_CB], "grant_types": grants });
            let reply = register(&app, &body).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_client_metadata");
        }
    });
}

fn malformed_json_or_a_wrong_content_type_is_400(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let good = json!({ "redirect_uris": [HTTPS_CB] }).to_string();
        for (content_type, body) in [
            (Some("application/json"), "{"),
            (Some("application/json"), ""),
            (Some("application/json"), "[]"),
            (Some("application/json"), "null"),
            (Some("application/json"), "\u{feff}{}"),
            (Some("application/json"), "{\"redirect_uris\": [\"\u{0}\"]"),
            (Some("text/plain"), good.as_str()),
            (
                Some("application/x-www-form-urlencoded"),
                "redirect_uris=https%3A%2F%2Fapp.example%2Fcb",
            ),
            (None, good.as_str()),
        ] {
            let reply = post_raw(&app, REGISTER, content_type, body).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_client_metadata");
        }
        // Not UTF-8.
        let reply = read(
            app.backend()
                .post(app.url(REGISTER))
                .header(CONTENT_TYPE, "application/json")
                .body(vec![b'{', 0xff, b'}'])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_client_metadata");
        // Far too large: refused before it is read whole.
        let huge = json!({ "redirect_uris": [HTTPS_CB], "client_name": "x".repeat(100_000) });
        let reply = register(&app, &huge).await;
        assert_eq!(
            reply.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            reply.body
        );
        assert!(
            clients::list(&mut app.db.conn().unwrap())
                .unwrap()
                .is_empty()
        );
    });
}

fn other_methods_on_the_registration_endpoint_are_405(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        for path in [REGISTER, FRAPPE_REGISTER] {
            let reply = read(app.backend().get(app.url(path)).send().await.unwrap()).await;
            assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, "invalid_request");
            assert_eq!(reply.header("allow").as_deref(), Some("POST"));
        }
        let reply = manage(&app, reqwest::Method::POST, "x", None, None).await;
        assert_eq!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{}",
            reply.body
        );
    });
}
