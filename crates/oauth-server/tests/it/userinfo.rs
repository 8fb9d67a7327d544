//! The UserInfo endpoint (OpenID Connect Core §5.3) as an RFC 6750
//! protected resource, at `/oauth/userinfo` and Frappe's
//! `frappe.integrations.oauth2.openid_profile`, on `GET` and `POST`.

use std::time::{Duration, SystemTime};

use oauth_core::{ScopeSet, Timestamp};
use oauth_store::test_support::TestDb;
use oauth_store::users;
use reqwest::StatusCode;

use crate::support::*;

oauth_store::test_on_both_backends!(
    a_bearer_header_opens_userinfo_on_get_and_post_at_both_paths,
    the_bearer_scheme_name_is_case_insensitive,
    a_form_body_token_opens_userinfo_on_post_at_both_paths,
    openid_alone_releases_only_sub,
    profile_adds_the_profile_claims,
    email_adds_email_and_email_verified,
    roles_adds_the_users_roles,
    sub_is_stable_for_a_user_across_logins_and_differs_between_users,
    no_credentials_get_a_bare_bearer_challenge_without_error,
    an_unknown_token_is_invalid_token,
    an_expired_token_is_invalid_token,
    a_revoked_token_is_invalid_token,
    a_malformed_authorization_header_is_invalid_request,
    a_token_in_both_header_and_body_is_invalid_request,
    a_token_sent_twice_in_the_body_is_invalid_request,
    a_token_in_the_query_string_is_invalid_request,
    a_token_without_openid_is_insufficient_scope_naming_openid,
    a_client_credentials_token_has_no_user_and_is_refused,
    a_disabled_users_token_is_refused,
    userinfo_responses_carry_cache_control_no_store,
);

const FRAPPE_USERINFO: &str = "/api/method/frappe.integrations.oauth2.openid_profile";
const PATHS: [&str; 2] = ["/oauth/userinfo", FRAPPE_USERINFO];

#[derive(Debug, Clone, Copy)]
enum Method {
    Get,
    Post,
}

const METHODS: [Method; 2] = [Method::Get, Method::Post];

/// A method, an `Authorization` header and a form body.
type Request<'a> = (Method, Option<&'a str>, Option<&'a [(&'a str, &'a str)]>);

/// Calls userinfo at `path` with `method`, an optional `Authorization`
/// header and an optional form body.
async fn call(
    app: &TestServer,
    method: Method,
    path: &str,
    authorization: Option<&str>,
    form: Option<&[(&str, &str)]>,
) -> Reply {
    let http = app.backend();
    let mut req = match method {
        Method::Get => http.get(app.url(path)),
        Method::Post => http.post(app.url(path)),
    };
    if let Some(value) = authorization {
        req = req.header("authorization", value);
    }
    if let Some(form) = form {
        req = req.form(form);
    }
    read(req.send().await.unwrap()).await
}

/// An access token of `username` (who must exist) for `scope`.
async fn access_token(
    app: &TestServer,
    client: &TestClient,
    username: &str,
    scope: &str,
) -> String {
    let tokens = tokens_for(app, client, username, scope).await;
    tokens["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

/// A client that may also ask for `roles`.
fn client_with_roles(app: &TestServer) -> TestClient {
    app.client_with(|m| m.scopes = ScopeSet::parse("openid profile email roles project").unwrap())
}

/// The claim names of a userinfo answer, sorted.
fn claim_names(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let mut names: Vec<String> = reply
        .json()
        .as_object()
        .expect("a JSON object")
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

/// An RFC 6750 error: the status, the challenge's `error` attribute and
/// realm, and the same error in the body.
fn assert_bearer_error(app: &TestServer, reply: &Reply, status: StatusCode, error: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    let challenge = reply
        .header("www-authenticate")
        .unwrap_or_else(|| panic!("no WWW-Authenticate: {reply:?}"));
    assert!(
        challenge.starts_with(&format!("Bearer realm=\"{}\"", app.issuer())),
        "{challenge}"
    );
    assert!(
        challenge.contains(&format!("error=\"{error}\"")),
        "{challenge}"
    );
    assert_eq!(reply.json()["error"], error, "{}", reply.body);
}

fn a_bearer_header_opens_userinfo_on_get_and_post_at_both_paths(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let alice = app.user("alice");
        let client = app.client();
        let token = access_token(&app, &client, "alice", "openid").await;
        let header = format!("Bearer {token}");
        for path in PATHS {
            for method in METHODS {
                let reply = call(&app, method, path, Some(&header), None).await;
                assert_eq!(
                    reply.status,
                    StatusCode::OK,
                    "{method:?} {path}: {}",
                    reply.body
                );
                assert_eq!(reply.json()["sub"], alice.id.as_str(), "{method:?} {path}");
                let content_type = reply.header("content-type").unwrap_or_default();
                assert!(
                    content_type.starts_with("application/json"),
                    "{method:?} {path}: {content_type}"
                );
            }
        }
    });
}

fn the_bearer_scheme_name_is_case_insensitive(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let alice = app.user("alice");
        let client = app.client();
        let token = access_token(&app, &client, "alice", "openid").await;
        for scheme in ["bearer", "BEARER", "BeArEr"] {
            for path in PATHS {
                let reply = call(
                    &app,
                    Method::Get,
                    path,
                    Some(&format!("{scheme} {token}")),
                    None,
                )
                .await;
                assert_eq!(
                    reply.status,
                    StatusCode::OK,
                    "{scheme} at {path}: {}",
                    reply.body
                );
                assert_eq!(reply.json()["sub"], alice.id.as_str());
            }
        }
    });
}

fn a_form_body_token_opens_userinfo_on_post_at_both_paths(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let alice = app.user("alice");
        let client = app.client();
        let token = access_token(&app, &client, "alice", "openid profile").await;
        for path in PATHS {
            let reply = call(
                &app,
                Method::Post,
                path,
                None,
                Some(&[("access_token", &token)]),
            )
            .await;
            assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
            assert_eq!(reply.json()["sub"], alice.id.as_str());
            assert_eq!(reply.json()["preferred_username"], "alice");
        }
    });
}

fn openid_alone_releases_only_sub(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let alice = app.user("alice");
        let client = client_with_roles(&app);
        // `project` is no claim scope: it adds nothing either.
        for scope in ["openid", "openid project"] {
            let token = access_token(&app, &client, "alice", scope).await;
            let reply = userinfo(&app, &token).await;
            assert_eq!(claim_names(&reply), ["sub"], "{scope}: {}", reply.body);
            assert_eq!(reply.json()["sub"], alice.id.as_str());
        }
    });
}

fn profile_adds_the_profile_claims(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let alice = app.user("alice");
        let client = client_with_roles(&app);
        let token = access_token(&app, &client, "alice", "openid profile").await;
        let reply = userinfo(&app, &token).await;
        assert_eq!(
            claim_names(&reply),
            [
                "family_name",
                "given_name",
                "name",
                "preferred_username",
                "sub",
                "updated_at"
            ],
            "{}",
            reply.body
        );
        let json = reply.json();
        assert_eq!(json["sub"], alice.id.as_str());
        assert_eq!(json["name"], "Alice Liddell");
        assert_eq!(json["given_name"], "Alice");
        assert_eq!(json["family_name"], "Liddell");
        assert_eq!(json["preferred_username"], "alice");
        assert_eq!(
            json["updated_at"],
            alice.updated_at.unix(),
            "updated_at is seconds since the epoch"
        );
    });
}

fn email_adds_email_and_email_verified(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        app.user_with("bob", |u| u.email_verified = true);
        let client = client_with_roles(&app);

        let token = access_token(&app, &client, "alice", "openid email").await;
        let reply = userinfo(&app, &token).await;
        assert_eq!(
            claim_names(&reply),
            ["email", "email_verified", "sub"],
            "{}",
            reply.body
        );
        assert_eq!(reply.json()["email"], "alice@example.com");
        assert_eq!(reply.json()["email_verified"], false);

        let token = access_token(&app, &client, "bob", "openid email").await;
        let reply = userinfo(&app, &token).await;
        assert_eq!(reply.json()["email"], "bob@example.com", "{}", reply.body);
        assert_eq!(reply.json()["email_verified"], true);

        // Every claim scope at once.
        let token = access_token(&app, &client, "alice", "openid profile email").await;
        let reply = userinfo(&app, &token).await;
        assert_eq!(
            claim_names(&reply),
            [
                "email",
                "email_verified",
                "family_name",
                "given_name",
                "name",
                "preferred_username",
                "sub",
                "updated_at"
            ],
            "{}",
            reply.body
        );
    });
}

fn roles_adds_the_users_roles(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user_with("alice", |u| {
            u.roles = vec![
                oauth_core::Role::parse("Projects User").unwrap(),
                oauth_core::Role::parse("System Manager").unwrap(),
            ];
        });
        let client = client_with_roles(&app);
        let token = access_token(&app, &client, "alice", "openid roles").await;
        let reply = userinfo(&app, &token).await;
        assert_eq!(claim_names(&reply), ["roles", "sub"], "{}", reply.body);
        let mut roles: Vec<String> = serde_json::from_value(reply.json()["roles"].clone()).unwrap();
        roles.sort();
        assert_eq!(roles, ["Projects User", "System Manager"]);
    });
}

fn sub_is_stable_for_a_user_across_logins_and_differs_between_users(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        app.user("bob");
        let client = app.client();
        let other_client = app.client();
        let sub = |reply: Reply| {
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            reply.json()["sub"]
                .as_str()
                .expect("sub is a string")
                .to_owned()
        };
        // Each `tokens_for` is a new browser, so a new login.
        let first = access_token(&app, &client, "alice", "openid").await;
        let second = access_token(&app, &client, "alice", "openid profile").await;
        let third = access_token(&app, &other_client, "alice", "openid").await;
        let bobs = access_token(&app, &client, "bob", "openid").await;
        assert_ne!(first, second, "two logins should give two tokens");
        let alice_sub = sub(userinfo(&app, &first).await);
        assert!(!alice_sub.is_empty());
        assert_eq!(sub(userinfo(&app, &second).await), alice_sub);
        assert_eq!(sub(userinfo(&app, &third).await), alice_sub);
        assert_ne!(sub(userinfo(&app, &bobs).await), alice_sub);
    });
}

fn no_credentials_get_a_bare_bearer_challenge_without_error(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let expected = format!("Bearer realm=\"{}\"", app.issuer());
        for path in PATHS {
            // Nothing at all; an empty form; another authentication scheme
            // (RFC 6750 §3.1: no error code when the request has no bearer
            // credential).
            let cases: [Request<'_>; 4] = [
                (Method::Get, None, None),
                (Method::Post, None, None),
                (Method::Post, None, Some(&[("foo", "bar")])),
                (Method::Get, Some("Basic YWxpY2U6c2VjcmV0"), None),
            ];
            for (method, authorization, form) in cases {
                let reply = call(&app, method, path, authorization, form).await;
                let what = format!("{method:?} {path} {authorization:?} {form:?}");
                assert_eq!(
                    reply.status,
                    StatusCode::UNAUTHORIZED,
                    "{what}: {}",
                    reply.body
                );
                assert_eq!(
                    reply.header("www-authenticate").as_deref(),
                    Some(expected.as_str()),
                    "{what}"
                );
            }
        }
    });
}

fn an_unknown_token_is_invalid_token(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        for path in PATHS {
            for method in METHODS {
                let reply = call(&app, method, path, Some("Bearer no-such-token"), None).await;
                assert_bearer_error(&app, &reply, StatusCode::UNAUTHORIZED, "invalid_token");
            }
            let reply = call(
                &app,
                Method::Post,
                path,
                None,
                Some(&[("access_token", "no-such-token")]),
            )
            .await;
            assert_bearer_error(&app, &reply, StatusCode::UNAUTHORIZED, "invalid_token");
        }
    });
}

fn an_expired_token_is_invalid_token(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let token = access_token(&app, &client, "alice", "openid").await;
        app.advance(Duration::from_secs(3500));
        assert_eq!(
            userinfo(&app, &token).await.status,
            StatusCode::OK,
            "still valid before 3600 s"
        );
        app.advance(Duration::from_secs(101));
        for path in PATHS {
            let reply = call(
                &app,
                Method::Get,
                path,
                Some(&format!("Bearer {token}")),
                None,
            )
            .await;
            assert_bearer_error(&app, &reply, StatusCode::UNAUTHORIZED, "invalid_token");
        }
    });
}

fn a_revoked_token_is_invalid_token(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let token = access_token(&app, &client, "alice", "openid").await;
        assert_eq!(userinfo(&app, &token).await.status, StatusCode::OK);
        let secret = client.secret.as_deref().unwrap();
        let revoked = app
            .backend()
            .post(app.url("/oauth/revoke"))
            .basic_auth(enc(&client.id), Some(enc(secret)))
            .form(&[("token", &token)])
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), StatusCode::OK);
        for path in PATHS {
            for method in METHODS {
                let reply = call(&app, method, path, Some(&format!("Bearer {token}")), None).await;
                assert_bearer_error(&app, &reply, StatusCode::UNAUTHORIZED, "invalid_token");
            }
        }
    });
}

fn a_malformed_authorization_header_is_invalid_request(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        for header in ["Bearer", "Bearer ", "Bearer a b", "Bearer a\"b"] {
            let reply = call(&app, Method::Get, "/oauth/userinfo", Some(header), None).await;
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "{header:?}: {}",
                reply.body
            );
            let challenge = reply.header("www-authenticate").unwrap_or_default();
            assert!(
                challenge.contains("error=\"invalid_request\""),
                "{header:?}: {challenge}"
            );
        }
    });
}

fn a_token_in_both_header_and_body_is_invalid_request(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let token = access_token(&app, &client, "alice", "openid").await;
        for path in PATHS {
            let reply = call(
                &app,
                Method::Post,
                path,
                Some(&format!("Bearer {token}")),
                Some(&[("access_token", &token)]),
            )
            .await;
            assert_bearer_error(&app, &reply, StatusCode::BAD_REQUEST, "invalid_request");
        }
    });
}

fn a_token_sent_twice_in_the_body_is_invalid_request(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let token = access_token(&app, &client, "alice", "openid").await;
        let reply = call(
            &app,
            Method::Post,
            "/oauth/userinfo",
            None,
            Some(&[("access_token", &token), ("access_token", &token)]),
        )
        .await;
        assert_bearer_error(&app, &reply, StatusCode::BAD_REQUEST, "invalid_request");
    });
}

fn a_token_in_the_query_string_is_invalid_request(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let token = access_token(&app, &client, "alice", "openid").await;
        for path in PATHS {
            let with_query = format!("{path}?access_token={}", enc(&token));
            for method in METHODS {
                // Alone, and even beside a good header.
                let alone = call(&app, method, &with_query, None, None).await;
                assert_bearer_error(&app, &alone, StatusCode::BAD_REQUEST, "invalid_request");
                let beside = call(
                    &app,
                    method,
                    &with_query,
                    Some(&format!("Bearer {token}")),
                    None,
                )
                .await;
                assert_bearer_error(&app, &beside, StatusCode::BAD_REQUEST, "invalid_request");
            }
        }
    });
}

fn a_token_without_openid_is_insufficient_scope_naming_openid(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let token = access_token(&app, &client, "alice", "project").await;
        for path in PATHS {
            for method in METHODS {
                let reply = call(&app, method, path, Some(&format!("Bearer {token}")), None).await;
                assert_bearer_error(&app, &reply, StatusCode::FORBIDDEN, "insufficient_scope");
                let challenge = reply.header("www-authenticate").unwrap();
                assert!(challenge.contains("scope=\"openid\""), "{challenge}");
            }
        }
    });
}

fn a_client_credentials_token_has_no_user_and_is_refused(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.service_client();
        let reply = token_request(
            &app,
            &client,
            &[("grant_type", "client_credentials"), ("scope", "project")],
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let token = reply.json()["access_token"].as_str().unwrap().to_owned();
        let reply = userinfo(&app, &token).await;
        assert!(
            reply.status == StatusCode::UNAUTHORIZED || reply.status == StatusCode::FORBIDDEN,
            "a token with no end-user opened userinfo: {} {}",
            reply.status,
            reply.body
        );
        assert!(!reply.body.contains("\"sub\""), "{}", reply.body);
    });
}

fn a_disabled_users_token_is_refused(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let alice = app.user("alice");
        let client = app.client();
        let token = access_token(&app, &client, "alice", "openid profile").await;
        assert_eq!(userinfo(&app, &token).await.status, StatusCode::OK);
        let now = Timestamp::from_system(SystemTime::now());
        users::set_enabled(&mut app.db.conn().unwrap(), &alice.id, false, now).unwrap();
        for path in PATHS {
            for method in METHODS {
                let reply = call(&app, method, path, Some(&format!("Bearer {token}")), None).await;
                assert_bearer_error(&app, &reply, StatusCode::UNAUTHORIZED, "invalid_token");
            }
        }
    });
}

fn userinfo_responses_carry_cache_control_no_store(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        let good = access_token(&app, &client, "alice", "openid").await;
        let narrow = access_token(&app, &client, "alice", "project").await;
        let bearer = |t: &str| format!("Bearer {t}");
        for path in PATHS {
            let query = format!("{path}?access_token={good}");
            let replies = [
                (
                    "ok",
                    call(&app, Method::Get, path, Some(&bearer(&good)), None).await,
                ),
                (
                    "ok post",
                    call(
                        &app,
                        Method::Post,
                        path,
                        None,
                        Some(&[("access_token", &good)]),
                    )
                    .await,
                ),
                (
                    "no credentials",
                    call(&app, Method::Get, path, None, None).await,
                ),
                (
                    "invalid token",
                    call(&app, Method::Get, path, Some("Bearer nope"), None).await,
                ),
                (
                    "insufficient scope",
                    call(&app, Method::Get, path, Some(&bearer(&narrow)), None).await,
                ),
                (
                    "query token",
                    call(&app, Method::Get, &query, None, None).await,
                ),
            ];
            for (what, reply) in replies {
                assert_eq!(
                    reply.header("cache-control").as_deref(),
                    Some("no-store"),
                    "{what} at {path}: {reply:?}"
                );
            }
        }
    });
}
