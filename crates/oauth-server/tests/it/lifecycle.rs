//! Lifecycle that takes effect on the very next request: disabling or
//! deleting a user, deleting a client, rotating a client secret (with a
//! grace period), and server-side sessions that logout and the admin end.
//! The admin actions run through the `oauthctl` binary, across the process
//! boundary, as in production.

use std::time::Duration;

use oauth_core::AccessTokenFormat;
use oauth_store::sessions;
use oauth_store::test_support::TestDb;
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::Value;

use crate::introspect::describe;
use crate::support::*;

oauth_store::test_on_both_backends!(
    disabled_users_tokens_stop_working_on_next_request,
    deleted_users_tokens_stop_working_on_next_request,
    deleted_client_tokens_are_inactive,
    rotated_secret_old_one_works_only_within_grace,
    rotating_without_grace_ends_the_old_secret_and_any_earlier_grace,
    logout_ends_a_copied_session_cookie,
    disabling_a_user_ends_their_browser_sessions,
    deleting_a_user_ends_their_browser_sessions,
    a_consent_answer_from_an_ended_session_does_not_count,
    token_use_is_recorded_at_most_once_a_minute,
);

// ---- helpers, shared with `apps` ----

pub fn s(json: &Value, key: &str) -> String {
    json[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {json}"))
        .to_owned()
}

/// Userinfo refuses the token as RFC 6750 `invalid_token`.
pub async fn assert_userinfo_refuses(app: &TestServer, access_token: &str, what: &str) {
    let info = userinfo(app, access_token).await;
    assert_eq!(
        info.status,
        StatusCode::UNAUTHORIZED,
        "{what}: {}",
        info.body
    );
    let challenge = info.header("www-authenticate").expect("a challenge");
    assert!(
        challenge.contains("error=\"invalid_token\""),
        "{what}: {challenge}"
    );
}

/// Introspection says exactly `{"active":false}`.
pub async fn assert_inactive(app: &TestServer, rs: &TestClient, token: &str, what: &str) {
    assert_eq!(
        describe(app, rs, token).await,
        serde_json::json!({ "active": false }),
        "{what}"
    );
}

/// A refresh with `refresh_token` as `client` fails with this error.
pub async fn assert_refresh_fails(
    app: &TestServer,
    client: &TestClient,
    refresh_token: &str,
    status: StatusCode,
    error: &str,
) {
    let reply = token_request(
        app,
        client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await;
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.json()["error"], error, "{}", reply.body);
}

/// Sends a GET with a copied `Cookie` header from a client of its own.
async fn get_with_cookie(app: &TestServer, path: &str, cookie: &str) -> Reply {
    read(
        app.backend()
            .get(app.url(path))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn jwt_client(app: &TestServer) -> TestClient {
    app.client_with(|m| m.access_token_format = AccessTokenFormat::Jwt)
}

/// Everything alice holds for `client` before an admin action: an opaque
/// or JWT access token, a refresh token and an unredeemed code.
struct Held {
    access: String,
    refresh: String,
    code: String,
}

async fn hold(app: &TestServer, client: &TestClient) -> Held {
    let tokens = tokens_for(app, client, "alice", "openid profile").await;
    let held = Held {
        access: s(&tokens, "access_token"),
        refresh: s(&tokens, "refresh_token"),
        code: code_for(app, client, "scope=openid").await,
    };
    let info = userinfo(app, &held.access).await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.body);
    held
}

// ---- users ----

fn disabled_users_tokens_stop_working_on_next_request(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let rs = app.client();
        let (opaque, jwt) = (app.client(), jwt_client(&app));
        let held_opaque = hold(&app, &opaque).await;
        let held_jwt = hold(&app, &jwt).await;
        assert_eq!(describe(&app, &rs, &held_jwt.access).await["active"], true);

        oauthctl(t.url(), &["user", "disable", "alice"], None).ok();

        for (client, held) in [(&opaque, &held_opaque), (&jwt, &held_jwt)] {
            assert_userinfo_refuses(&app, &held.access, "a disabled user's access token").await;
            // A JWT access token is self-contained, yet introspection,
            // which looks it up, says it is over.
            assert_inactive(&app, &rs, &held.access, "a disabled user's access token").await;
            assert_inactive(&app, &rs, &held.refresh, "a disabled user's refresh token").await;
            assert_refresh_fails(
                &app,
                client,
                &held.refresh,
                StatusCode::BAD_REQUEST,
                "invalid_grant",
            )
            .await;
            let reply = exchange_code(&app, client, &held.code, &[]).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
            assert_eq!(reply.json()["error"], "invalid_grant");
        }
    });
}

fn deleted_users_tokens_stop_working_on_next_request(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let rs = app.client();
        let client = jwt_client(&app);
        let held = hold(&app, &client).await;

        oauthctl(t.url(), &["user", "delete", "alice"], None).ok();

        assert_userinfo_refuses(&app, &held.access, "a deleted user's access token").await;
        assert_inactive(&app, &rs, &held.access, "a deleted user's JWT access token").await;
        assert_inactive(&app, &rs, &held.refresh, "a deleted user's refresh token").await;
        assert_refresh_fails(
            &app,
            &client,
            &held.refresh,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;
        let reply = exchange_code(&app, &client, &held.code, &[]).await;
        assert_eq!(reply.json()["error"], "invalid_grant", "{}", reply.body);
    });
}

// ---- clients ----

fn deleted_client_tokens_are_inactive(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let rs = app.client();
        let (opaque, jwt) = (app.client(), jwt_client(&app));
        let held_opaque = hold(&app, &opaque).await;
        let held_jwt = hold(&app, &jwt).await;
        let other = hold(&app, &app.client()).await;

        for client in [&opaque, &jwt] {
            oauthctl(t.url(), &["client", "delete", &client.id], None).ok();
        }

        for (client, held) in [(&opaque, &held_opaque), (&jwt, &held_jwt)] {
            assert_inactive(&app, &rs, &held.access, "a deleted client's access token").await;
            assert_inactive(&app, &rs, &held.refresh, "a deleted client's refresh token").await;
            assert_userinfo_refuses(&app, &held.access, "a deleted client's access token").await;
            // The client itself is gone: it cannot even authenticate.
            assert_refresh_fails(
                &app,
                client,
                &held.refresh,
                StatusCode::UNAUTHORIZED,
                "invalid_client",
            )
            .await;
        }
        // Another client's tokens are untouched.
        assert_eq!(describe(&app, &rs, &other.access).await["active"], true);
    });
}

/// A client credentials request with these credentials.
async fn client_credentials(app: &TestServer, id: &str, secret: &str) -> Reply {
    read(
        app.backend()
            .post(app.url("/oauth/token"))
            .basic_auth(enc(id), Some(enc(secret)))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn rotate(t: &TestDb, id: &str, grace: Option<&str>) -> (String, Value) {
    let mut args = vec!["--json", "client", "rotate-secret", id];
    if let Some(g) = grace {
        args.extend(["--grace", g]);
    }
    let run = oauthctl(t.url(), &args, None).ok();
    let json = run.json();
    (s(&json, "client_secret"), json)
}

fn rotated_secret_old_one_works_only_within_grace(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.service_client();
        let old = client.secret.clone().unwrap();

        let (new, json) = rotate(t, &client.id, Some("1h"));
        assert!(
            json["previous_secret_expires_at"].is_string(),
            "the grace period's end is shown: {json}"
        );
        for (secret, what) in [(&old, "the old secret"), (&new, "the new secret")] {
            let reply = client_credentials(&app, &client.id, secret).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{what} in grace: {}",
                reply.body
            );
        }

        // A minute before the end the old secret still works; after the end
        // it stops, and the new one goes on. (oauthctl took the grace's start
        // from the wall clock, so the test keeps a margin for a slow machine;
        // the exact boundary is oauth-core's unit test
        // `a_rotated_secret_works_only_within_its_grace_period`.)
        app.advance(Duration::from_secs(3600 - 60));
        let reply = client_credentials(&app, &client.id, &old).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        app.advance(Duration::from_secs(61));
        let reply = client_credentials(&app, &client.id, &old).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        assert_eq!(reply.json()["error"], "invalid_client");
        let reply = client_credentials(&app, &client.id, &new).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    });
}

fn rotating_without_grace_ends_the_old_secret_and_any_earlier_grace(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.service_client();
        let first = client.secret.clone().unwrap();
        let (second, _) = rotate(t, &client.id, Some("1h"));
        let (third, json) = rotate(t, &client.id, None);
        assert!(json.get("previous_secret_expires_at").is_none(), "{json}");
        for (secret, what) in [(&first, "the first secret"), (&second, "the second secret")] {
            let reply = client_credentials(&app, &client.id, secret).await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{what}: {}",
                reply.body
            );
        }
        let reply = client_credentials(&app, &client.id, &third).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        // A bad duration is refused and changes nothing.
        let run = oauthctl(
            t.url(),
            &[
                "client",
                "rotate-secret",
                &client.id,
                "--grace",
                "1 fortnight",
            ],
            None,
        );
        assert!(!run.status.success());
        assert!(run.stderr.contains("grace"), "{}", run.stderr);
        let reply = client_credentials(&app, &client.id, &third).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    });
}

// ---- browser sessions ----

fn logout_ends_a_copied_session_cookie(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let browser = logged_in(&app, "alice").await;
        let copied = browser.cookie_header();
        let home = get_with_cookie(&app, "/", &copied).await;
        assert_eq!(
            home.status,
            StatusCode::OK,
            "the copy works while logged in"
        );

        let home = browser.get("/").await;
        let out = browser
            .post("/logout", &[("csrf_token", &home.field("csrf_token"))])
            .await;
        assert_eq!(out.location(), "/login");

        let replay = get_with_cookie(&app, "/", &copied).await;
        assert_eq!(replay.status, StatusCode::SEE_OTHER);
        assert_eq!(
            replay.location(),
            "/login",
            "a copied cookie outlived logout"
        );
        let replay = get_with_cookie(&app, "/account/apps", &copied).await;
        assert!(replay.location().starts_with("/login"), "{replay:?}");
    });
}

fn disabling_a_user_ends_their_browser_sessions(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let alice = app.user("alice");
        app.user("bob");
        let (one, two) = (
            logged_in(&app, "alice").await,
            logged_in(&app, "alice").await,
        );
        let bob = logged_in(&app, "bob").await;
        let count = || sessions::count_for_user(&mut app.db.conn().unwrap(), &alice.id).unwrap();
        assert_eq!(count(), 2);

        oauthctl(t.url(), &["user", "disable", "alice"], None).ok();
        assert_eq!(count(), 0, "disabling deletes the user's sessions");
        // Enabling again does not bring them back.
        oauthctl(t.url(), &["user", "enable", "alice"], None).ok();
        for browser in [&one, &two] {
            assert_eq!(browser.get("/").await.location(), "/login");
        }
        assert_eq!(bob.get("/").await.status, StatusCode::OK, "bob stays");
    });
}

fn deleting_a_user_ends_their_browser_sessions(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let alice = app.user("alice");
        let browser = logged_in(&app, "alice").await;
        oauthctl(t.url(), &["user", "delete", "alice"], None).ok();
        let count = sessions::count_for_user(&mut app.db.conn().unwrap(), &alice.id).unwrap();
        assert_eq!(count, 0);
        assert_eq!(browser.get("/").await.location(), "/login");
    });
}

fn a_consent_answer_from_an_ended_session_does_not_count(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let browser = logged_in(&app, "alice").await;
        let dialog = browser
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query("scope=openid&state=s")
            ))
            .await;
        assert!(dialog.body.contains("id=\"allow\""), "{}", dialog.body);
        let copied = browser.cookie_header();
        let home = browser.get("/").await;
        browser
            .post("/logout", &[("csrf_token", &home.field("csrf_token"))])
            .await;

        // The dialog's form, answered with the cookie of the ended session.
        let reply = read(
            app.backend()
                .post(app.url("/oauth/authorize/decision"))
                .header(COOKIE, &copied)
                .form(&[
                    ("csrf_token", dialog.field("csrf_token").as_str()),
                    ("consent_token", &dialog.field("consent_token")),
                    ("request", &dialog.field("request")),
                    ("decision", "allow"),
                ])
                .send()
                .await
                .unwrap(),
        )
        .await;
        let location = reply.header("location").unwrap_or_default();
        assert!(
            !location.starts_with(CB),
            "an ended session's answer reached the client: {location}"
        );
    });
}

fn token_use_is_recorded_at_most_once_a_minute(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let tokens = tokens_for(&app, &client, "alice", "openid").await;
        let access = s(&tokens, "access_token");
        let grant = |app: &TestServer| {
            let mut conn = app.db.conn().unwrap();
            let list = oauth_store::grants::list_active(
                &mut conn,
                None,
                None,
                oauth_core::Timestamp::from_unix(0),
            )
            .unwrap();
            let id = list[0].grant.id.clone();
            oauth_store::grants::last_used(&mut conn, &id).unwrap()
        };
        assert_eq!(grant(&app), None, "not used yet");
        assert_eq!(userinfo(&app, &access).await.status, StatusCode::OK);
        let first = grant(&app).expect("a use is recorded");
        app.advance(Duration::from_secs(30));
        assert_eq!(userinfo(&app, &access).await.status, StatusCode::OK);
        assert_eq!(grant(&app), Some(first), "no write within the minute");
        app.advance(Duration::from_secs(31));
        assert_eq!(userinfo(&app, &access).await.status, StatusCode::OK);
        let later = grant(&app).expect("recorded");
        assert!(
            later.unix() >= first.unix() + 61,
            "{later:?} after {first:?}"
        );
    });
}
