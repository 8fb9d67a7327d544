//! The guard's per-request cost, in process: a route behind the guard with
//! a warm cache against the same route without it, and the uncached path
//! (a database lookup per request, SQLite). `cargo bench -p bearer-guard
//! --features database`; `cargo xtask bench` runs it with the load test.

use std::hint::black_box;

use actix_web::dev::Service as _;
use actix_web::{App, HttpResponse, test, web};
use bearer_guard::{BearerGuard, CacheConfig, Caller, DatabaseVerifier};
use criterion::{Criterion, criterion_group, criterion_main};
use oauth_core::{Client, ClientMetadata, ScopeSet, Timestamp, Token};
use oauth_store::test_support::TestDb;
use oauth_store::{clients, grants, tokens};

/// A real client, grant and access token (scope `project`) in a fresh
/// SQLite database; returns the token.
fn seed(t: &TestDb) -> String {
    let mut rng = rand::rng();
    let now = Timestamp::from_system(std::time::SystemTime::now());
    let scopes = ScopeSet::parse("project").expect("scope");
    let (client, _) = Client::create(
        ClientMetadata::new("bench", Vec::new(), scopes.clone()),
        &mut rng,
        now,
    );
    let mut conn = t.db().conn().expect("connection");
    clients::create(&mut conn, &client).expect("client");
    let grant = grants::Grant {
        id: "bench-grant".into(),
        client_id: client.id.clone(),
        user_id: None,
        scopes: scopes.clone(),
        resources: Vec::new(),
        auth_time: None,
        created_at: now,
        expires_at: now.plus(std::time::Duration::from_secs(86_400)),
        revoked_at: None,
    };
    grants::create(&mut conn, &grant).expect("grant");
    let token = Token::generate(&mut rng);
    tokens::insert_access(
        &mut conn,
        tokens::NewToken {
            digest: &token.digest(),
            grant_id: &grant.id,
            scopes: &scopes,
            audience: &[],
            created_at: now,
            expires_at: now.plus(std::time::Duration::from_secs(86_400)),
        },
    )
    .expect("token");
    token.expose_secret().to_owned()
}

async fn guarded(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().body(caller.subject().to_owned())
}

async fn open() -> HttpResponse {
    HttpResponse::Ok().body("client")
}

fn bench(c: &mut Criterion) {
    let t = TestDb::sqlite();
    let token = seed(&t);
    let header = format!("Bearer {token}");
    let rt = actix_web::rt::Runtime::new().expect("runtime");
    let cached = BearerGuard::database(t.db().clone());
    let uncached = BearerGuard::builder(DatabaseVerifier::new(t.db().clone()))
        .cache(CacheConfig {
            max_entries: 0,
            ..CacheConfig::default()
        })
        .build();
    let app = rt.block_on(test::init_service(
        App::new()
            .service(
                web::resource("/cached")
                    .wrap(cached.require_scope("project"))
                    .to(guarded),
            )
            .service(
                web::resource("/uncached")
                    .wrap(uncached.require_scope("project"))
                    .to(guarded),
            )
            .route("/open", web::get().to(open)),
    ));
    let call = |path: &str, auth: bool| {
        let mut req = test::TestRequest::get().uri(path);
        if auth {
            req = req.insert_header(("authorization", header.as_str()));
        }
        let response = rt.block_on(app.call(req.to_request())).expect("response");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        black_box(response);
    };
    call("/cached", true); // warm the cache

    let mut group = c.benchmark_group("request");
    group.bench_function("unguarded", |b| b.iter(|| call("/open", false)));
    group.bench_function("guarded, warm cache", |b| b.iter(|| call("/cached", true)));
    group.bench_function("guarded, no cache (SQLite lookup)", |b| {
        b.iter(|| call("/uncached", true))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
