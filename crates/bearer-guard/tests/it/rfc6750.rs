//! How a request carries its token, and how refusals are written (RFC 6750
//! §2 and §3, RFC 9728 §5.1). The rules are the guard's, before any
//! verifier is asked, so most run in introspection mode only.

use reqwest::StatusCode;

use crate::support::{
    Fixture, METADATA, Mode, Reply, assert_invalid_request, assert_invalid_token, block_on, get,
    get_with, guarded, read,
};

fn introspection_app(fx: &Fixture) -> crate::support::Served {
    guarded(fx.builder(Mode::Introspection, None).build())
}

#[test]
fn no_credentials_is_401_with_a_realm_and_no_error_code() {
    block_on(async {
        let fx = Fixture::shared();
        let app = guarded(
            fx.builder(Mode::Introspection, None)
                .realm("projects")
                .build(),
        );
        for reply in [
            get(&app.url("/any")).await,
            // Another scheme is not bearer credentials (§3.1).
            read(
                reqwest::Client::new()
                    .get(app.url("/any"))
                    .basic_auth("user", Some("pass"))
                    .send()
                    .await
                    .unwrap(),
            )
            .await,
        ] {
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
            let challenge = reply.challenge();
            assert_eq!(challenge, r#"Bearer realm="projects""#);
            assert!(!challenge.contains("error"), "{challenge}");
        }
    });
}

#[test]
fn the_bearer_scheme_is_case_insensitive() {
    block_on(async {
        let fx = Fixture::shared();
        let app = introspection_app(fx);
        let token = fx.cc_token(&fx.app).await;
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            let reply = read(
                reqwest::Client::new()
                    .get(app.url("/any"))
                    .header("authorization", format!("{scheme} {token}"))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(reply.status, StatusCode::OK, "{scheme}: {}", reply.body);
        }
    });
}

#[test]
fn a_token_that_is_not_b64token_is_400_invalid_request() {
    block_on(async {
        let fx = Fixture::shared();
        let app = introspection_app(fx);
        let http = reqwest::Client::new();
        for value in [
            "Bearer a b".as_bytes(),
            "Bearer ä".as_bytes(),
            "Bearer a,b".as_bytes(),
            "Bearer".as_bytes(),
            "Bearer ".as_bytes(),
            b"Bearer a\xffb",
        ] {
            let reply = read(
                http.get(app.url("/any"))
                    .header(
                        "authorization",
                        reqwest::header::HeaderValue::from_bytes(value).unwrap(),
                    )
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_invalid_request(&reply);
        }
    });
}

#[test]
fn two_authorization_headers_are_400_invalid_request() {
    block_on(async {
        let fx = Fixture::shared();
        let app = introspection_app(fx);
        let token = fx.cc_token(&fx.app).await;
        let reply = read(
            reqwest::Client::new()
                .get(app.url("/any"))
                .header("authorization", format!("Bearer {token}"))
                .header("authorization", format!("Bearer {token}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_invalid_request(&reply);
    });
}

#[test]
fn a_query_token_is_400_by_default_and_accepted_when_enabled_with_cache_control_private() {
    block_on(async {
        let fx = Fixture::shared();
        let token = fx.cc_token(&fx.app).await;
        let default = introspection_app(fx);
        let reply = get(&default.url(&format!("/any?access_token={token}"))).await;
        assert_invalid_request(&reply);

        let enabled = guarded(
            fx.builder(Mode::Introspection, None)
                .query_tokens(true)
                .build(),
        );
        let reply = get(&enabled.url(&format!("/any?access_token={token}"))).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.json()["client_id"], fx.app.id.as_str());
        assert_eq!(reply.header("cache-control").as_deref(), Some("private"));
        // Query and header at once: two methods.
        let reply = get_with(&enabled.url(&format!("/any?access_token={token}")), &token).await;
        assert_invalid_request(&reply);
        // Twice in the query.
        let reply =
            get(&enabled.url(&format!("/any?access_token={token}&access_token={token}"))).await;
        assert_invalid_request(&reply);
    });
}

async fn post_form(url: &str, form: &[(&str, &str)], bearer: Option<&str>) -> Reply {
    let mut req = reqwest::Client::new().post(url).form(form);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    read(req.send().await.unwrap()).await
}

#[test]
fn a_form_body_token_is_ignored_unless_enabled() {
    block_on(async {
        let fx = Fixture::shared();
        let token = fx.cc_token(&fx.app).await;
        let app = introspection_app(fx);
        let reply = post_form(&app.url("/form"), &[("access_token", &token)], None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        assert!(
            !reply.challenge().contains("error"),
            "{}",
            reply.challenge()
        );
    });
}

#[test]
fn a_form_body_token_is_accepted_when_enabled_and_the_handler_still_reads_the_body() {
    block_on(async {
        let fx = Fixture::shared();
        let token = fx.cc_token(&fx.app).await;
        let app = guarded(
            fx.builder(Mode::Introspection, None)
                .form_body_tokens(true)
                .build(),
        );
        let reply = post_form(
            &app.url("/form"),
            &[("access_token", &token), ("name", "Apollo")],
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let json = reply.json();
        assert_eq!(json["client_id"], fx.app.id.as_str());
        assert_eq!(
            json["body"],
            format!("access_token={token}&name=Apollo"),
            "the handler did not get the body the guard read"
        );

        // Header and form at once: two methods.
        let reply = post_form(&app.url("/form"), &[("access_token", &token)], Some(&token)).await;
        assert_invalid_request(&reply);
        // A header token with an ordinary form body is fine.
        let reply = post_form(&app.url("/form"), &[("name", "x")], Some(&token)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.json()["body"], "name=x");

        // Never on GET (§2.2), even with a form content type.
        let reply = read(
            reqwest::Client::new()
                .get(app.url("/form"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("access_token={token}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        // Nor in a body that is not form-encoded.
        let reply = read(
            reqwest::Client::new()
                .post(app.url("/form"))
                .header("content-type", "application/json")
                .body(format!("access_token={token}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    });
}

#[test]
fn resource_metadata_is_named_on_401_and_403_only_when_configured() {
    block_on(async {
        let fx = Fixture::shared();
        let token = fx.cc_token(&fx.other).await;
        let with = guarded(
            fx.builder(Mode::Introspection, None)
                .resource_metadata(METADATA)
                .build(),
        );
        let without = introspection_app(fx);
        let attribute = format!("resource_metadata=\"{METADATA}\"");
        for (app, expected) in [(&with, true), (&without, false)] {
            let none = get(&app.url("/project")).await;
            let bad = get_with(&app.url("/project"), "no-such-token").await;
            let scope = get_with(&app.url("/project"), &token).await;
            assert_eq!(none.status, StatusCode::UNAUTHORIZED);
            assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
            assert_eq!(scope.status, StatusCode::FORBIDDEN, "{}", scope.body);
            for reply in [&none, &bad, &scope] {
                assert_eq!(
                    reply.challenge().contains(&attribute),
                    expected,
                    "{}",
                    reply.challenge()
                );
                assert_eq!(
                    reply.challenge().contains("resource_metadata"),
                    expected,
                    "{}",
                    reply.challenge()
                );
            }
        }
    });
}

#[test]
fn a_garbage_token_is_401_invalid_token_in_every_mode() {
    block_on(async {
        let fx = Fixture::shared();
        for mode in [Mode::Introspection, Mode::Jwt] {
            let app = guarded(fx.builder(mode, None).build());
            for token in ["garbage", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.sig"] {
                let reply = get_with(&app.url("/any"), token).await;
                let challenge = assert_invalid_token(&reply);
                assert_eq!(
                    challenge,
                    r#"Bearer realm="api", error="invalid_token", error_description="the access token is invalid, expired or revoked""#,
                    "{mode:?}"
                );
            }
        }
    });
}

#[test]
fn another_scheme_with_non_ascii_bytes_is_still_no_bearer_credentials() {
    // `Authorization: Basic` with a Latin-1 password is not a bearer
    // credential at all: 401 with a bare challenge, like any other scheme.
    block_on(async {
        let fx = Fixture::shared();
        let app = introspection_app(fx);
        let reply = read(
            reqwest::Client::new()
                .get(app.url("/any"))
                .header(
                    "authorization",
                    reqwest::header::HeaderValue::from_bytes(b"Basic \xe4lice:pw").unwrap(),
                )
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        assert_eq!(reply.challenge(), r#"Bearer realm="api""#);
    });
}

#[test]
fn a_large_form_body_still_reaches_a_streaming_handler_when_form_tokens_are_on() {
    use actix_web::{HttpResponse, web};

    async fn count(body: web::Payload) -> HttpResponse {
        match body.to_bytes_limited(1 << 20).await {
            Ok(Ok(bytes)) => HttpResponse::Ok().body(bytes.len().to_string()),
            Ok(Err(e)) => HttpResponse::BadRequest().body(format!("payload: {e}")),
            Err(_) => HttpResponse::PayloadTooLarge().finish(),
        }
    }

    block_on(async {
        let fx = Fixture::shared();
        let token = fx.cc_token(&fx.app).await;
        let guard = fx
            .builder(Mode::Introspection, None)
            .form_body_tokens(true)
            .build();
        let app = crate::support::Served::start(move |cfg| {
            cfg.service(
                web::resource("/upload")
                    .wrap(guard.clone())
                    .route(web::post().to(count)),
            );
        });
        // Larger than actix's default 256 KiB payload limit.
        let body = format!("data={}", "a".repeat(300_000));
        let reply = read(
            reqwest::Client::new()
                .post(app.url("/upload"))
                .bearer_auth(&token)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.clone())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(
            reply.body,
            body.len().to_string(),
            "the handler lost the body"
        );
    });
}
