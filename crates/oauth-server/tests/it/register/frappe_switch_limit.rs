//! Registration on the Frappe path, the switch that disables it, and the
//! rate limit.

use oauth_store::clients;
use oauth_store::test_support::TestDb;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::json;

use crate::support::*;

use super::{
    FRAPPE_REGISTER, HTTPS_CB, LOOPBACK_CB, REGISTER, assert_error, assert_uncacheable_json,
    code_flow, manage, post_raw, register, register_at, registered, s,
};

oauth_store::test_on_both_backends!(
    the_frappe_path_registers_the_same_way,
    registration_disabled_is_404_on_every_route,
    registrations_beyond_the_limit_are_429_with_retry_after,
);

// ---- Frappe path, switch, limit ----

fn the_frappe_path_registers_the_same_way(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let reply = register_at(
            &app,
            FRAPPE_REGISTER,
            &json!({ "redirect_uris": [LOOPBACK_CB], "client_name": "Via Frappe" }),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        assert_uncacheable_json(&reply);
        let json = reply.json();
        let id = s(&json, "client_id");
        assert_eq!(json["client_name"], "Via Frappe");
        assert_eq!(
            s(&json, "registration_client_uri"),
            format!("{}/oauth/register/{id}", app.issuer())
        );
        let tokens = code_flow(
            &app,
            id,
            Some(s(&json, "client_secret")),
            LOOPBACK_CB,
            "openid",
        )
        .await;
        assert!(tokens["access_token"].is_string());
        let reply = manage(
            &app,
            reqwest::Method::GET,
            id,
            Some(s(&json, "registration_access_token")),
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        // Errors are the same too.
        let reply = register_at(
            &app,
            FRAPPE_REGISTER,
            &json!({ "redirect_uris": ["http://app.example/cb"] }),
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_redirect_uri");
        let reply = post_raw(&app, FRAPPE_REGISTER, Some("text/plain"), "{}").await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_client_metadata");
    });
}

fn registration_disabled_is_404_on_every_route(t: &TestDb) {
    block_on(async {
        let app = TestServer::start_with(t, |c| c.registration.enabled = false);
        let body = json!({ "redirect_uris": [HTTPS_CB] });
        for path in [REGISTER, FRAPPE_REGISTER] {
            let reply = register_at(&app, path, &body).await;
            assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
            let reply = read(app.backend().get(app.url(path)).send().await.unwrap()).await;
            assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
        }
        for method in [
            reqwest::Method::GET,
            reqwest::Method::PUT,
            reqwest::Method::DELETE,
            reqwest::Method::POST,
        ] {
            let reply = manage(&app, method, "some-client", Some("token"), Some(&body)).await;
            assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
        }
        assert!(
            clients::list(&mut app.db.conn().unwrap())
                .unwrap()
                .is_empty()
        );
    });
}

fn registrations_beyond_the_limit_are_429_with_retry_after(t: &TestDb) {
    block_on(async {
        let app = TestServer::start_with(t, |c| c.registration.per_minute = 2);
        let body = json!({ "redirect_uris": [HTTPS_CB] });
        // The allowance is per address, across both paths.
        let first = registered(&app, &body).await;
        let reply = register_at(&app, FRAPPE_REGISTER, &body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        for path in [REGISTER, FRAPPE_REGISTER] {
            let reply = register_at(&app, path, &body).await;
            assert_error(&reply, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
            let retry: u64 = reply
                .header("retry-after")
                .expect("Retry-After")
                .parse()
                .expect("Retry-After in seconds");
            assert!((1..=60).contains(&retry), "Retry-After: {retry}");
        }
        // A forged X-Forwarded-For does not buy a new allowance.
        let reply = read(
            app.backend()
                .post(app.url(REGISTER))
                .header(CONTENT_TYPE, "application/json")
                .header("X-Forwarded-For", "203.0.113.7")
                .body(body.to_string())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            reply.body
        );
        assert_eq!(clients::list(&mut app.db.conn().unwrap()).unwrap().len(), 2);
        // Managing a registration is not limited.
        let reply = manage(
            &app,
            reqwest::Method::GET,
            s(&first, "client_id"),
            Some(s(&first, "registration_access_token")),
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        // Another server's allowance is its own.
        let other = TestServer::start_with(t, |c| c.registration.per_minute = 2);
        let reply = register(&other, &body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    });
}
