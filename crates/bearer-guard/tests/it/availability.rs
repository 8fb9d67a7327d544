//! When the token cannot be checked (issuer or database gone: 503 with
//! `Retry-After`, never a pass), how often upstream is asked (single
//! flight, negative caching), and the `Caller` extractor on routes without
//! the middleware.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use bearer_guard::{BearerGuard, CacheConfig, Caller, IntrospectionVerifier, JwtVerifier};
use oauth_store::test_support::TestDb;
use reqwest::StatusCode;

use crate::jwt::futures_join;
use crate::support::{
    Counting, Fixture, Mode, Served, assert_invalid_token, assert_unavailable, block_on,
    caller_json, free_port, get, get_with, guarded,
};

oauth_store::test_on_both_backends!(database_mode_is_503_when_the_database_is_unreachable);

fn no_cache() -> CacheConfig {
    CacheConfig {
        max_entries: 0,
        ..CacheConfig::default()
    }
}

#[test]
fn the_issuer_going_away_is_503_with_retry_after_never_a_pass() {
    let db = TestDb::sqlite();
    let mut fx = Fixture::start(db.url());
    block_on(async {
        let opaque = fx.cc_token(&fx.app).await;
        let jwt = fx.cc_token(&fx.jwt_app).await;
        let introspection = guarded(
            fx.builder(Mode::Introspection, None)
                .cache(no_cache())
                .build(),
        );
        let cached_introspection = guarded(fx.builder(Mode::Introspection, None).build());
        let jwt_warm = guarded(fx.builder(Mode::Jwt, None).cache(no_cache()).build());
        let jwt_cold = guarded(fx.builder(Mode::Jwt, None).build());
        for (app, token) in [(&introspection, &opaque), (&jwt_warm, &jwt)] {
            let reply = get_with(&app.url("/any"), token).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        }

        fx.issuer.kill();

        // Introspection: neither the token seen before nor a new one passes.
        for token in [opaque.as_str(), "never-seen-before"] {
            assert_unavailable(&get_with(&introspection.url("/any"), token).await);
        }
        // With the cache on, a failure is not remembered as an answer:
        // asked twice, 503 twice.
        for _ in 0..2 {
            assert_unavailable(&get_with(&cached_introspection.url("/any"), &opaque).await);
        }
        // JWT mode with no keys yet cannot verify anything.
        assert_unavailable(&get_with(&jwt_cold.url("/any"), &jwt).await);
        // JWT mode keeps the keys it already fetched: a token it can verify
        // locally still passes (README: revocation is seen only at expiry).
        let reply = get_with(&jwt_warm.url("/any"), &jwt).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    });
}

#[test]
fn an_issuer_that_never_answered_is_503_in_introspection_and_jwt_modes() {
    block_on(async {
        let fx = Fixture::shared();
        let opaque = fx.cc_token(&fx.app).await;
        let jwt = fx.cc_token(&fx.jwt_app).await;
        let closed = format!("http://127.0.0.1:{}", free_port());
        let introspection = guarded(
            BearerGuard::builder(
                IntrospectionVerifier::with_timeout(
                    &closed,
                    "rs",
                    "secret",
                    Duration::from_secs(2),
                )
                .unwrap(),
            )
            .build(),
        );
        let jwt_app = guarded(BearerGuard::builder(JwtVerifier::new(&closed).unwrap()).build());
        for (app, token) in [(&introspection, &opaque), (&jwt_app, &jwt)] {
            for _ in 0..2 {
                assert_unavailable(&get_with(&app.url("/project"), token).await);
            }
            // Without a token it is still the plain 401: nothing to check.
            assert_eq!(get(&app.url("/any")).await.status, StatusCode::UNAUTHORIZED);
        }
    });
}

fn database_mode_is_503_when_the_database_is_unreachable(t: &TestDb) {
    // A pool of our own on the test database, so that breaking it breaks
    // only this guard.
    // A short checkout timeout: with the database gone, each request waits
    // that long for a connection before the 503.
    let options = oauth_store::PoolOptions {
        checkout_timeout: Duration::from_millis(500),
        ..oauth_store::PoolOptions::default()
    };
    let db = oauth_store::Db::open(t.url(), &options).unwrap();
    block_on(async {
        let app = guarded(BearerGuard::database(db));
        // Reachable: an unknown token is simply invalid.
        assert_invalid_token(&get_with(&app.url("/any"), "unknown-token-1").await);

        if let Some(path) = t.url().strip_prefix("sqlite://") {
            // Whatever the pool holds, the file is no database any more.
            std::fs::write(path, vec![0x5a; 8192]).unwrap();
        } else {
            let name = t.url().rsplit('/').next().unwrap().to_owned();
            let admin = std::env::var("TEST_DATABASE_URL").unwrap();
            let out = std::process::Command::new("psql")
                .arg(&admin)
                .args(["-c", &format!("DROP DATABASE {name} WITH (FORCE)")])
                .output()
                .expect("run psql");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for token in ["unknown-token-2", "unknown-token-2", "unknown-token-3"] {
            assert_unavailable(&get_with(&app.url("/any"), token).await);
        }
    });
}

#[test]
fn twenty_concurrent_requests_for_one_uncached_token_make_one_upstream_call() {
    block_on(async {
        let fx = Fixture::shared();
        let (counting, calls) = Counting::new(fx.introspection());
        let app = guarded(BearerGuard::builder(counting).build());
        let token = fx.cc_token(&fx.app).await;
        let url = app.url("/project");
        let replies = futures_join((0..20).map(|_| {
            let (url, token) = (url.clone(), token.clone());
            async move { get_with(&url, &token).await }
        }))
        .await;
        for reply in &replies {
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        }
        assert_eq!(*calls.lock().unwrap(), 1, "upstream verifications");
        // And the answer is cached afterwards.
        assert_eq!(get_with(&url, &token).await.status, StatusCode::OK);
        assert_eq!(*calls.lock().unwrap(), 1);
    });
}

#[test]
fn a_bad_token_is_asked_about_once_within_negative_ttl() {
    block_on(async {
        let fx = Fixture::shared();
        let (counting, calls) = Counting::new(fx.introspection());
        let negative_ttl = Duration::from_secs(1);
        let app = guarded(
            BearerGuard::builder(counting)
                .cache(CacheConfig {
                    negative_ttl,
                    ..CacheConfig::default()
                })
                .build(),
        );
        let first_sent = std::time::Instant::now();
        for _ in 0..3 {
            assert_invalid_token(&get_with(&app.url("/any"), "bad-token").await);
        }
        // (On a machine so slow that the three took longer than negative_ttl
        // the count proves nothing.)
        if first_sent.elapsed() < negative_ttl {
            assert_eq!(
                *calls.lock().unwrap(),
                1,
                "upstream calls within negative_ttl"
            );
        }
        let before = *calls.lock().unwrap();
        // Briefly: after negative_ttl the issuer is asked again.
        tokio::time::sleep(negative_ttl + Duration::from_millis(200)).await;
        assert_invalid_token(&get_with(&app.url("/any"), "bad-token").await);
        assert_eq!(*calls.lock().unwrap(), before + 1);
    });
}

async fn echo(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(caller_json(&caller))
}

#[test]
fn a_handler_taking_caller_on_an_unguarded_route_is_500_never_200() {
    block_on(async {
        let fx = Fixture::shared();
        let token = fx.cc_token(&fx.app).await;
        let app = Served::start(|cfg| {
            cfg.route("/open", web::get().to(echo));
        });
        for reply in [
            get(&app.url("/open")).await,
            get_with(&app.url("/open"), &token).await,
            get_with(&app.url("/open"), "garbage").await,
        ] {
            assert_eq!(
                reply.status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{}",
                reply.body
            );
            assert!(!reply.body.contains(&fx.app.id), "{}", reply.body);
        }
    });
}

#[test]
fn the_caller_extractor_verifies_by_itself_with_a_guard_in_app_data() {
    block_on(async {
        let fx = Fixture::shared();
        let token = fx.cc_token(&fx.app).await;
        let guard = fx.builder(Mode::Introspection, None).build();
        let app = Served::start(move |cfg| {
            cfg.app_data(guard.clone())
                .route("/extracted", web::get().to(echo));
        });
        let reply = get_with(&app.url("/extracted"), &token).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.json()["client_id"], fx.app.id.as_str());
        let none = get(&app.url("/extracted")).await;
        assert_eq!(none.status, StatusCode::UNAUTHORIZED);
        assert_eq!(none.challenge(), r#"Bearer realm="api""#);
        assert_invalid_token(&get_with(&app.url("/extracted"), "garbage").await);
    });
}

#[test]
fn refused_resource_server_credentials_are_503_never_a_pass() {
    block_on(async {
        let fx = Fixture::shared();
        let token = fx.cc_token(&fx.app).await;
        let app = guarded(
            BearerGuard::builder(
                IntrospectionVerifier::new(fx.base(), &fx.rs.id, "not-the-secret").unwrap(),
            )
            .build(),
        );
        for t in [token.as_str(), "garbage"] {
            assert_unavailable(&get_with(&app.url("/any"), t).await);
        }
    });
}

#[test]
fn a_guard_inside_another_verifies_once_and_adds_its_scope_check() {
    block_on(async {
        let fx = Fixture::shared();
        let (counting, calls) = Counting::new(fx.introspection());
        let guard = BearerGuard::builder(counting)
            .cache(CacheConfig {
                max_entries: 0,
                ..CacheConfig::default()
            })
            .build();
        let app = Served::start(move |cfg| {
            cfg.service(
                web::scope("/api")
                    .wrap(guard.clone())
                    .service(
                        web::resource("/project")
                            .wrap(guard.require_scope("project"))
                            .route(web::get().to(echo)),
                    )
                    .service(
                        web::resource("/files")
                            .wrap(guard.require_scope("files"))
                            .route(web::get().to(echo)),
                    ),
            );
        });
        let token = fx.cc_token(&fx.app).await;
        let reply = get_with(&app.url("/api/project"), &token).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(*calls.lock().unwrap(), 1, "verified once for both guards");
        let reply = get_with(&app.url("/api/files"), &token).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        assert!(
            reply.challenge().contains("scope=\"files\""),
            "{}",
            reply.challenge()
        );
        assert_eq!(*calls.lock().unwrap(), 2);
    });
}

#[test]
fn an_inner_guard_with_its_own_audience_does_not_trust_the_outer_guards_verdict() {
    // Two different guards on one route: the outer admits any valid token,
    // the inner only tokens for its audience. The inner one must judge the
    // token itself, not reuse the outer one's Caller.
    block_on(async {
        let fx = Fixture::shared();
        let outer = BearerGuard::builder(fx.introspection()).build();
        let inner = BearerGuard::builder(fx.introspection())
            .audience("https://only-this-api.example")
            .build();
        let app = Served::start(move |cfg| {
            cfg.service(
                web::scope("/api").wrap(outer.clone()).service(
                    web::resource("/strict")
                        .wrap(inner.clone())
                        .route(web::get().to(echo)),
                ),
            );
        });
        let token = fx.cc_token(&fx.app).await;
        let reply = get_with(&app.url("/api/strict"), &token).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        assert!(
            reply.challenge().contains("invalid_token"),
            "{}",
            reply.challenge()
        );
    });
}

/// A fake issuer: metadata naming `named` as the issuer, and an
/// introspection endpoint that answers 503 with `Retry-After: 17`.
fn fake_issuer(named: Option<&str>) -> Served {
    let base: std::sync::Arc<std::sync::Mutex<String>> = std::sync::Arc::default();
    let named = named.map(str::to_owned);
    let served = {
        let base = base.clone();
        Served::start(move |cfg| {
            let base = base.clone();
            let named = named.clone();
            cfg.route(
                "/.well-known/oauth-authorization-server",
                web::get().to(move || {
                    let b = base.lock().unwrap().clone();
                    let issuer = named.clone().unwrap_or_else(|| b.clone());
                    async move {
                        HttpResponse::Ok().json(serde_json::json!({
                            "issuer": issuer,
                            "introspection_endpoint": format!("{b}/introspect"),
                            "jwks_uri": format!("{b}/jwks"),
                        }))
                    }
                }),
            )
            .route(
                "/introspect",
                web::post().to(|| async {
                    HttpResponse::ServiceUnavailable()
                        .insert_header(("retry-after", "17"))
                        .finish()
                }),
            )
            .route(
                "/jwks",
                web::get()
                    .to(|| async { HttpResponse::Ok().json(serde_json::json!({"keys": []})) }),
            );
        })
    };
    *base.lock().unwrap() = served.base.clone();
    served
}

#[test]
fn the_issuers_retry_after_is_passed_on() {
    block_on(async {
        let issuer = fake_issuer(None);
        let app = guarded(
            BearerGuard::builder(IntrospectionVerifier::new(&issuer.base, "rs", "s").unwrap())
                .build(),
        );
        let reply = get_with(&app.url("/any"), "some-token").await;
        assert_unavailable(&reply);
        assert_eq!(reply.header("retry-after").as_deref(), Some("17"));
    });
}

#[test]
fn metadata_naming_another_issuer_is_never_used() {
    // RFC 8414 §3.3: metadata must name the issuer it was fetched for, or
    // an attacker's metadata could point the guard at its own endpoints.
    block_on(async {
        let issuer = fake_issuer(Some("https://evil.example"));
        let introspection = guarded(
            BearerGuard::builder(IntrospectionVerifier::new(&issuer.base, "rs", "s").unwrap())
                .build(),
        );
        let jwt = guarded(BearerGuard::builder(JwtVerifier::new(&issuer.base).unwrap()).build());
        // A JWS header JWT mode would look a key up for.
        let b64 = |s: &str| {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
        };
        let jws = format!(
            "{}.{}.c2ln",
            b64(r#"{"alg":"ES256","typ":"at+jwt","kid":"k1"}"#),
            b64(r#"{"sub":"u"}"#)
        );
        for (app, token) in [(&introspection, "some-token"), (&jwt, jws.as_str())] {
            assert_unavailable(&get_with(&app.url("/any"), token).await);
        }
    });
}
