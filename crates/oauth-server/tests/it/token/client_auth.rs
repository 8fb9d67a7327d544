//! Client authentication at the token endpoint (RFC 6749 §2.3, §3.2.1,
//! §5.2): HTTP Basic, a secret in the body, and the 401 `invalid_client`
//! answers.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use oauth_store::test_support::TestDb;
use reqwest::StatusCode;
use reqwest::header::AUTHORIZATION;

use crate::support::*;

use super::{
    TOKEN, access_token, assert_error, assert_invalid_client, assert_seed_shape, assert_works,
    code_for, creds, exchange_at, ok, pkce, pkce_query, post_client, post_form, refresh_token,
    scope_of, scopes,
};

oauth_store::test_on_both_backends!(
    http_basic_authenticates_a_confidential_client,
    a_basic_client_may_send_its_secret_in_the_body,
    basic_and_a_body_secret_together_is_invalid_request,
    a_wrong_secret_is_401_invalid_client_with_a_basic_challenge,
    an_unknown_client_is_401_invalid_client_with_a_basic_challenge,
    a_request_without_client_credentials_is_401_invalid_client,
    a_client_secret_post_client_using_basic_is_401_invalid_client,
    a_public_client_sending_a_secret_is_401_invalid_client,
);

// ---- client authentication (RFC 6749 §2.3, §3.2.1, §5.2) ----

fn http_basic_authenticates_a_confidential_client(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid%20project&state=s").await;
        let json = ok(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
        assert_seed_shape(&json, true);
        assert_eq!(scope_of(&json), scopes("openid project"));
        assert_works(&app, access_token(&json)).await;
        // The scheme name is case-insensitive, and the user-id and password
        // are form-encoded before base64 (RFC 6749 §2.3.1): a server must
        // decode them, here with every byte percent-encoded.
        let pct = |s: &str| s.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
        let secret = client.secret.as_deref().unwrap();
        let credentials = STANDARD.encode(format!("{}:{}", pct(&client.id), pct(secret)));
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token(&json)),
        ];
        let req = app
            .backend()
            .post(app.url(TOKEN))
            .header(AUTHORIZATION, format!("basic {credentials}"))
            .form(&form);
        let json = ok(&read(req.send().await.unwrap()).await);
        assert_seed_shape(&json, true);
    });
}

fn a_basic_client_may_send_its_secret_in_the_body(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let secret = client.secret.as_deref().unwrap();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
            ("client_id", client.id.as_str()),
            ("client_secret", secret),
        ];
        let json = ok(&post_form(&app, TOKEN, None, &form).await);
        assert_seed_shape(&json, true);
        assert_works(&app, access_token(&json)).await;
        // And for refresh too.
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token(&json)),
            ("client_id", client.id.as_str()),
            ("client_secret", secret),
        ];
        assert_seed_shape(&ok(&post_form(&app, TOKEN, None, &form).await), true);
    });
}

fn basic_and_a_body_secret_together_is_invalid_request(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let secret = client.secret.as_deref().unwrap();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
            ("client_id", client.id.as_str()),
            ("client_secret", secret),
        ];
        let reply = post_form(&app, TOKEN, creds(&client), &form).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        // Basic for one client and another's client_id in the body: refused
        // too, never read as either client.
        let other = app.client();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
            ("client_id", other.id.as_str()),
        ];
        let reply = post_form(&app, TOKEN, creds(&client), &form).await;
        assert_ne!(reply.status, StatusCode::OK, "{}", reply.body);
        match reply.status {
            StatusCode::UNAUTHORIZED => assert_invalid_client(&app, &reply),
            _ => assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_request"),
        }
    });
}

fn a_wrong_secret_is_401_invalid_client_with_a_basic_challenge(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let other = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
        ];
        // Another client's (real) secret, with HTTP Basic.
        let wrong = other.secret.as_deref().unwrap();
        let reply = post_form(&app, TOKEN, Some((&client.id, wrong)), &form).await;
        assert_invalid_client(&app, &reply);
        // A made-up secret, in the body.
        let mut body = form.to_vec();
        body.extend([
            ("client_id", client.id.as_str()),
            ("client_secret", "not-the-secret-at-all-0123456789"),
        ]);
        let reply = post_form(&app, TOKEN, None, &body).await;
        assert_invalid_client(&app, &reply);
        // The same request with the right secret goes through.
        ok(&post_form(&app, TOKEN, creds(&client), &form).await);
    });
}

fn an_unknown_client_is_401_invalid_client_with_a_basic_challenge(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
        ];
        let secret = client.secret.as_deref().unwrap();
        let reply = post_form(&app, TOKEN, Some(("no-such-client", secret)), &form).await;
        assert_invalid_client(&app, &reply);
        let mut body = form.to_vec();
        body.extend([("client_id", "no-such-client"), ("client_secret", secret)]);
        assert_invalid_client(&app, &post_form(&app, TOKEN, None, &body).await);
        // A client that was deleted is unknown too.
        let gone = app.client();
        oauth_store::clients::delete(&mut app.db.conn().unwrap(), &gone.client.id).unwrap();
        assert_invalid_client(&app, &post_form(&app, TOKEN, creds(&gone), &form).await);
    });
}

fn a_request_without_client_credentials_is_401_invalid_client(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
        ];
        // Nothing at all.
        assert_invalid_client(&app, &post_form(&app, TOKEN, None, &form).await);
        // A confidential client's client_id without its secret.
        let mut body = form.to_vec();
        body.push(("client_id", &client.id));
        assert_invalid_client(&app, &post_form(&app, TOKEN, None, &body).await);
        // The code was never at stake: with credentials it still works.
        let json = ok(&post_form(&app, TOKEN, creds(&client), &form).await);
        // Refresh needs the credentials as much.
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token(&json)),
        ];
        assert_invalid_client(&app, &post_form(&app, TOKEN, None, &form).await);
        let mut body = form.to_vec();
        body.push(("client_id", &client.id));
        assert_invalid_client(&app, &post_form(&app, TOKEN, None, &body).await);
    });
}

fn a_client_secret_post_client_using_basic_is_401_invalid_client(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = post_client(&app);
        let code = code_for(&app, &client, "scope=openid&state=s").await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
        ];
        assert_invalid_client(&app, &post_form(&app, TOKEN, creds(&client), &form).await);
        // Its own method works.
        let mut body = form.to_vec();
        body.extend([
            ("client_id", client.id.as_str()),
            ("client_secret", client.secret.as_deref().unwrap()),
        ]);
        assert_seed_shape(&ok(&post_form(&app, TOKEN, None, &body).await), true);
    });
}

fn a_public_client_sending_a_secret_is_401_invalid_client(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.public_client();
        let (verifier, challenge) = pkce();
        let code = code_for(&app, &client, &pkce_query("openid", &challenge)).await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
            ("code_verifier", verifier.as_str()),
        ];
        // A secret in the body.
        let mut body = form.to_vec();
        body.extend([
            ("client_id", client.id.as_str()),
            ("client_secret", "a-secret-it-was-never-issued-0123"),
        ]);
        assert_invalid_client(&app, &post_form(&app, TOKEN, None, &body).await);
        // A secret with HTTP Basic.
        let reply = post_form(
            &app,
            TOKEN,
            Some((&client.id, "a-secret-it-was-never-issued-0123")),
            &form,
        )
        .await;
        assert_invalid_client(&app, &reply);
        // Only its client_id: fine.
        let mut body = form.to_vec();
        body.push(("client_id", &client.id));
        assert_seed_shape(&ok(&post_form(&app, TOKEN, None, &body).await), true);
    });
}
