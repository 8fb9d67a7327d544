//! The token request and response format (RFC 6749 §3.2, §5): uncacheable
//! JSON, form bodies and their parameters, and Frappe's path.

use oauth_store::test_support::TestDb;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;

use crate::support::*;

use super::{
    TOKEN, access_token, assert_dead, assert_error, assert_invalid_client, assert_invalid_grant,
    assert_seed_shape, assert_works, code_at, code_for, creds, exchange_at, ok, post_client,
    post_form, refresh, refresh_token, scope_of, scopes,
};

oauth_store::test_on_both_backends!(
    // Response format.
    responses_are_uncacheable_json_on_success_and_on_every_error,
    // Form bodies and parameters.
    a_json_body_is_invalid_request,
    get_on_the_token_endpoint_is_405_with_allow_post,
    a_missing_grant_type_is_invalid_request,
    the_password_grant_is_unsupported_grant_type,
    client_credentials_for_a_client_without_the_grant_is_unauthorized_client,
    a_repeated_parameter_is_invalid_request,
    an_empty_parameter_counts_as_omitted,
    // Both paths.
    the_frappe_path_behaves_like_the_standard_path,
);

const FRAPPE_TOKEN: &str = "/api/method/frappe.integrations.oauth2.get_token";
const FRAPPE_AUTHORIZE: &str = "/api/method/frappe.integrations.oauth2.authorize";

/// Posts a raw `application/x-www-form-urlencoded` body to the token
/// endpoint, with HTTP Basic for `client`.
async fn post_raw(app: &TestServer, client: &TestClient, body: String) -> Reply {
    let req = app
        .backend()
        .post(app.url(TOKEN))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .basic_auth(
            enc(&client.id),
            Some(enc(client.secret.as_deref().unwrap())),
        )
        .body(body);
    read(req.send().await.unwrap()).await
}

// ---- response format (RFC 6749 §5) ----

fn responses_are_uncacheable_json_on_success_and_on_every_error(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        // Success (checked by `ok`).
        let json = ok(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
        ok(&refresh(&app, &client, refresh_token(&json), &[]).await);
        // 400s, each checked by `assert_error` for the headers and body.
        assert_invalid_grant(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
        let reply = token_request(&app, &client, &[("grant_type", "password")]).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "unsupported_grant_type");
        let reply = token_request(&app, &client, &[("grant_type", "refresh_token")]).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        // 401.
        assert_invalid_client(
            &app,
            &post_form(&app, TOKEN, None, &[("grant_type", "client_credentials")]).await,
        );
        // 405.
        let reply = read(app.backend().get(app.url(TOKEN)).send().await.unwrap()).await;
        assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, "invalid_request");
    });
}

// ---- form bodies and parameters (RFC 6749 §3.2, §5.2) ----

fn a_json_body_is_invalid_request(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let body = serde_json::json!({ "grant_type": "authorization_code", "code": code, "redirect_uri": CB });
        let req = app
            .backend()
            .post(app.url(TOKEN))
            .basic_auth(
                enc(&client.id),
                Some(enc(client.secret.as_deref().unwrap())),
            )
            .json(&body);
        let reply = read(req.send().await.unwrap()).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        // No body at all.
        let req = app.backend().post(app.url(TOKEN)).basic_auth(
            enc(&client.id),
            Some(enc(client.secret.as_deref().unwrap())),
        );
        assert_error(
            &read(req.send().await.unwrap()).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
    });
}

fn get_on_the_token_endpoint_is_405_with_allow_post(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.client();
        for path in [TOKEN, FRAPPE_TOKEN] {
            let query = format!(
                "?grant_type=client_credentials&client_id={}",
                enc(&client.id)
            );
            let reply = read(
                app.backend()
                    .get(app.url(&format!("{path}{query}")))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, "invalid_request");
            assert_eq!(reply.header("allow").as_deref(), Some("POST"), "{path}");
        }
    });
}

fn a_missing_grant_type_is_invalid_request(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let reply = token_request(
            &app,
            &client,
            &[("code", code.as_str()), ("redirect_uri", CB)],
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        // Empty counts as missing.
        let reply = token_request(
            &app,
            &client,
            &[("grant_type", ""), ("code", code.as_str())],
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
    });
}

fn the_password_grant_is_unsupported_grant_type(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let form = [
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", PASSWORD),
        ];
        let reply = token_request(&app, &client, &form).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "unsupported_grant_type");
        let reply = token_request(&app, &client, &[("grant_type", "urn:example:made-up")]).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "unsupported_grant_type");
    });
}

fn client_credentials_for_a_client_without_the_grant_is_unauthorized_client(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.client();
        let reply = token_request(&app, &client, &[("grant_type", "client_credentials")]).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "unauthorized_client");
        let reply = token_request(
            &app,
            &client,
            &[("grant_type", "client_credentials"), ("scope", "project")],
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "unauthorized_client");
    });
}

fn a_repeated_parameter_is_invalid_request(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let (c, cb, id) = (enc(&code), enc(CB), enc(&client.id));
        let bodies = [
            format!(
                "grant_type=authorization_code&grant_type=authorization_code&code={c}&redirect_uri={cb}"
            ),
            format!("grant_type=authorization_code&code={c}&code={c}&redirect_uri={cb}"),
            format!("grant_type=authorization_code&code={c}&redirect_uri={cb}&redirect_uri={cb}"),
            format!(
                "grant_type=authorization_code&code={c}&redirect_uri={cb}&client_id={id}&client_id={id}"
            ),
            format!(
                "grant_type=authorization_code&code={c}&redirect_uri={cb}&scope=openid&scope=openid"
            ),
        ];
        for body in bodies {
            let reply = post_raw(&app, &client, body.clone()).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        }
        // The code survived those malformed requests.
        let json = ok(&post_raw(
            &app,
            &client,
            format!("grant_type=authorization_code&code={c}&redirect_uri={cb}"),
        )
        .await);
        let rt = enc(refresh_token(&json));
        let body = format!("grant_type=refresh_token&refresh_token={rt}&refresh_token={rt}");
        assert_error(
            &post_raw(&app, &client, body).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
        // A client_secret_post client repeating its secret.
        let post = post_client(&app);
        let secret = enc(post.secret.as_deref().unwrap());
        let body = format!(
            "grant_type=refresh_token&refresh_token=x&client_id={}&client_secret={secret}&client_secret={secret}",
            enc(&post.id)
        );
        let req = app
            .backend()
            .post(app.url(TOKEN))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        assert_error(
            &read(req.send().await.unwrap()).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
    });
}

fn an_empty_parameter_counts_as_omitted(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        // An empty code_verifier is no verifier: no downgrade error.
        let code = code_for(&app, &client, "scope=openid%20profile&state=s").await;
        let json = ok(&exchange_at(&app, TOKEN, &client, &code, &[("code_verifier", "")]).await);
        // An empty scope on refresh is the granted scope.
        let json = ok(&refresh(&app, &client, refresh_token(&json), &[("scope", "")]).await);
        assert_eq!(scope_of(&json), scopes("openid profile"));
        // An empty client_secret beside HTTP Basic is not a second method.
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token(&json)),
            ("client_secret", ""),
        ];
        ok(&post_form(&app, TOKEN, creds(&client), &form).await);
    });
}

// ---- Frappe's path ----

fn the_frappe_path_behaves_like_the_standard_path(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        // The seed's flow, entirely on Frappe's paths.
        let code = code_at(
            &app,
            FRAPPE_AUTHORIZE,
            &client,
            "scope=openid%20project&state=s",
        )
        .await;
        let json = ok(&exchange_at(&app, FRAPPE_TOKEN, &client, &code, &[]).await);
        assert_seed_shape(&json, true);
        assert_eq!(scope_of(&json), scopes("openid project"));
        assert_works(&app, access_token(&json)).await;
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token(&json)),
            ("redirect_uri", CB),
        ];
        let next = ok(&post_form(&app, FRAPPE_TOKEN, creds(&client), &form).await);
        assert_seed_shape(&next, true);
        assert_works(&app, access_token(&next)).await;
        // Errors, the same as on the standard path.
        assert_invalid_grant(&exchange_at(&app, FRAPPE_TOKEN, &client, &code, &[]).await);
        assert_dead(&app, access_token(&json)).await;
        assert_invalid_client(
            &app,
            &post_form(&app, FRAPPE_TOKEN, None, &[("grant_type", "refresh_token")]).await,
        );
        let reply = post_form(
            &app,
            FRAPPE_TOKEN,
            creds(&client),
            &[("grant_type", "password")],
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "unsupported_grant_type");
        // A code from the standard path redeems on Frappe's and vice versa:
        // one endpoint, two names.
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        ok(&exchange_at(&app, FRAPPE_TOKEN, &client, &code, &[]).await);
        assert_invalid_grant(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
    });
}
