//! Brute force and abuse: login throttling (per account and per address,
//! in the database), rate limits (429 with `Retry-After`), and the client
//! address and issuer that no request header can choose. Each test is
//! named after the attack it defeats. See docs/abuse.md.

use std::time::{Duration, Instant};

use oauth_core::throttle::{Counter, KeyKind, ThrottlePolicy, key_digest};
use oauth_server::client_ip::{Cidr, TrustedProxies};
use oauth_server::config::Config;
use oauth_store::test_support::TestDb;
use oauth_store::throttle;
use reqwest::StatusCode;

use crate::support::*;

oauth_store::test_on_both_backends!(
    password_burst_from_one_ip_is_slowed_then_locked,
    burst_from_one_ip_does_not_lock_the_owner_out_elsewhere,
    locked_account_owner_logs_in_after_lock_expires,
    wrong_username_and_wrong_password_answer_identically,
    throttle_counters_survive_a_restart,
    successful_login_resets_the_account_counter,
    spoofed_x_forwarded_for_does_not_bypass_rate_limit,
    trusted_proxy_forwarded_for_is_used,
    host_header_does_not_change_issuer,
    token_endpoint_burst_gets_429_with_retry_after,
    revocation_and_introspection_bursts_get_429_on_both_paths,
);

const INVALID: &str = "Invalid username or password.";
const ACCOUNT: ThrottlePolicy = ThrottlePolicy::ACCOUNT;
const ADDRESS: ThrottlePolicy = ThrottlePolicy::ADDRESS;

/// A login form, ready to post again and again.
struct LoginForm {
    browser: Browser,
    url: String,
    csrf: String,
}

impl LoginForm {
    async fn open(app: &TestServer) -> Self {
        let browser = app.browser();
        let page = browser.get("/login").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = page.field("csrf_token");
        Self {
            browser,
            url: app.url("/login"),
            csrf,
        }
    }

    /// Posts a login, said to come from `forwarded_for` if given.
    async fn attempt(&self, username: &str, password: &str, forwarded_for: Option<&str>) -> Reply {
        let mut req = self.browser.http.post(&self.url);
        if let Some(ip) = forwarded_for {
            req = req.header("x-forwarded-for", ip);
        }
        let form = [
            ("username", username),
            ("password", password),
            ("csrf_token", self.csrf.as_str()),
            ("next", ""),
        ];
        read(req.form(&form).send().await.unwrap()).await
    }

    /// A login that must fail with the generic answer.
    async fn refused(&self, username: &str, password: &str, forwarded_for: Option<&str>) {
        let reply = self.attempt(username, password, forwarded_for).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(reply.body.contains(INVALID), "{}", reply.body);
    }

    /// A login that must succeed.
    async fn accepted(&self, username: &str, forwarded_for: Option<&str>) {
        let reply = self.attempt(username, PASSWORD, forwarded_for).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        assert_eq!(reply.location(), "/");
    }
}

fn counter(app: &TestServer, kind: KeyKind, value: &str) -> Option<Counter> {
    throttle::find(&mut app.db.conn().unwrap(), &key_digest(kind, value)).unwrap()
}

/// The server believes X-Forwarded-For from the test client (loopback), as
/// it would from a load balancer, so tests can speak from many addresses.
fn behind_proxy(c: &mut Config) {
    c.abuse.trusted_proxies = TrustedProxies(vec!["127.0.0.1".parse::<Cidr>().unwrap()]);
}

fn password_burst_from_one_ip_is_slowed_then_locked(t: &TestDb) {
    let app = TestServer::start(t);
    app.user("alice");
    block_on(async {
        let form = LoginForm::open(&app).await;
        // The free attempts are checked; the first failure past them makes
        // the account wait.
        for _ in 0..=ACCOUNT.free_attempts {
            form.refused("alice", "wrong", None).await;
        }
        let slowed = counter(&app, KeyKind::Account, "alice").unwrap();
        assert_eq!(slowed.failures, ACCOUNT.free_attempts + 1);
        assert!(slowed.next_allowed_at > slowed.last_failure);
        assert_eq!(slowed.locked_until, None);

        let started = Instant::now();
        for _ in ACCOUNT.free_attempts + 1..1000 {
            form.refused("alice", "wrong", None).await;
        }
        let elapsed = started.elapsed();
        // The address locked at its threshold; the other attempts were
        // refused without being counted, let alone hashed.
        let address = counter(&app, KeyKind::Address, "127.0.0.1").unwrap();
        assert_eq!(address.failures, ADDRESS.lock_after);
        assert!(address.locked_until.is_some());
        let account = counter(&app, KeyKind::Account, "alice").unwrap();
        assert_eq!(account.failures, ADDRESS.lock_after);
        // It locked before the account would have.
        assert_eq!(account.locked_until, None);
        // The right password from this address is refused too, unchecked.
        form.refused("alice", PASSWORD, None).await;
        assert!(
            elapsed < Duration::from_secs(60),
            "994 refused attempts took {elapsed:?}: are they hashing?"
        );
    });
}

fn burst_from_one_ip_does_not_lock_the_owner_out_elsewhere(t: &TestDb) {
    let app = TestServer::start_with(t, behind_proxy);
    app.user("alice");
    block_on(async {
        let form = LoginForm::open(&app).await;
        for _ in 0..200 {
            form.refused("alice", "wrong", Some("198.51.100.66")).await;
        }
        assert!(
            counter(&app, KeyKind::Address, "198.51.100.66")
                .unwrap()
                .locked_until
                .is_some()
        );
        // The account only waits (at most max_delay); its owner, elsewhere,
        // gets in once that has passed while the attacker stays locked.
        app.advance(ACCOUNT.max_delay + Duration::from_secs(1));
        form.refused("alice", PASSWORD, Some("198.51.100.66")).await;
        form.accepted("alice", Some("203.0.113.5")).await;
    });
}

fn locked_account_owner_logs_in_after_lock_expires(t: &TestDb) {
    let app = TestServer::start_with(t, behind_proxy);
    app.user("alice");
    block_on(async {
        let form = LoginForm::open(&app).await;
        // A distributed guess: each address stays under its own limit.
        for i in 0..ACCOUNT.lock_after {
            let ip = format!("198.51.100.{i}");
            form.refused("alice", "wrong", Some(&ip)).await;
        }
        let locked = counter(&app, KeyKind::Account, "alice").unwrap();
        assert_eq!(locked.failures, ACCOUNT.lock_after);
        let until = locked.locked_until.expect("the account is locked");
        // Attempts during the lock do not prolong it.
        for i in 0..50 {
            form.refused("alice", "wrong", Some(&format!("192.0.2.{i}")))
                .await;
        }
        assert_eq!(
            counter(&app, KeyKind::Account, "alice")
                .unwrap()
                .locked_until,
            Some(until)
        );
        // The owner, from a fresh address, is refused while it lasts (a
        // minute before its end: the wall clock moved on during the 50
        // attempts, and a loaded machine is slow) ...
        form.refused("alice", PASSWORD, Some("203.0.113.5")).await;
        app.advance(ACCOUNT.lock_duration - Duration::from_secs(60));
        form.refused("alice", PASSWORD, Some("203.0.113.5")).await;
        // ... and gets in once it has expired; the counter is gone.
        app.advance(Duration::from_secs(61));
        form.accepted("alice", Some("203.0.113.5")).await;
        assert_eq!(counter(&app, KeyKind::Account, "alice"), None);
    });
}

fn wrong_username_and_wrong_password_answer_identically(t: &TestDb) {
    let app = TestServer::start(t);
    app.user("alice");
    block_on(async {
        let form = LoginForm::open(&app).await;
        let mut wrong_password = Vec::new();
        let mut wrong_username = Vec::new();
        // Fewer than the free attempts of either key, so every attempt is
        // really checked.
        for _ in 0..4 {
            let started = Instant::now();
            let a = form.attempt("alice", "wrong", None).await;
            wrong_password.push(started.elapsed());
            let started = Instant::now();
            let b = form.attempt("alicx", "wrong", None).await;
            wrong_username.push(started.elapsed());
            assert_eq!(a.status, b.status);
            assert_eq!(
                a.body.replace("alice", "NAME"),
                b.body.replace("alicx", "NAME")
            );
            assert!(a.body.contains(INVALID));
        }
        // Both run argon2 (a decoy hash for the unknown name): without it
        // the unknown name would answer many times faster.
        let fastest = |v: &[Duration]| v.iter().min().copied().unwrap();
        assert!(
            fastest(&wrong_username) * 3 > fastest(&wrong_password),
            "unknown user {wrong_username:?} vs wrong password {wrong_password:?}"
        );
        // Both count alike: an unknown name has a counter too.
        assert_eq!(
            counter(&app, KeyKind::Account, "alicx").unwrap().failures,
            4
        );
        assert_eq!(
            counter(&app, KeyKind::Account, "alice").unwrap().failures,
            4
        );
    });
}

fn throttle_counters_survive_a_restart(t: &TestDb) {
    let first = TestServer::start(t);
    first.user("alice");
    block_on(async {
        let form = LoginForm::open(&first).await;
        for _ in 0..ADDRESS.lock_after {
            form.refused("alice", "wrong", None).await;
        }
    });
    drop(first);
    let second = TestServer::start(t);
    block_on(async {
        let form = LoginForm::open(&second).await;
        // Still locked on the new instance: the right password is refused.
        form.refused("alice", PASSWORD, None).await;
        second.advance(ADDRESS.lock_duration + Duration::from_secs(1));
        form.accepted("alice", None).await;
    });
}

fn successful_login_resets_the_account_counter(t: &TestDb) {
    let app = TestServer::start(t);
    app.user("alice");
    block_on(async {
        let form = LoginForm::open(&app).await;
        for _ in 0..ACCOUNT.free_attempts {
            form.refused("Alice", "wrong", None).await;
        }
        // Case does not make a new counter.
        assert_eq!(
            counter(&app, KeyKind::Account, "alice").unwrap().failures,
            ACCOUNT.free_attempts
        );
        form.accepted("alice", None).await;
        assert_eq!(counter(&app, KeyKind::Account, "alice"), None);
        // The address keeps its count: logging in to one's own account
        // must not wipe the record of guesses at others.
        assert_eq!(
            counter(&app, KeyKind::Address, "127.0.0.1")
                .unwrap()
                .failures,
            ACCOUNT.free_attempts
        );
    });
}

/// A token request that fails cheaply (no such client) but counts.
async fn poke(app: &TestServer, path: &str, forwarded_for: &str) -> Reply {
    read(
        app.backend()
            .post(app.url(path))
            .header("x-forwarded-for", forwarded_for)
            .form(&[("grant_type", "client_credentials"), ("token", "x")])
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn assert_rate_limited(reply: &Reply) {
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.body
    );
    let retry: u64 = reply
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(reply.json()["error"], "too_many_requests");
    assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));
}

fn spoofed_x_forwarded_for_does_not_bypass_rate_limit(t: &TestDb) {
    // No trusted proxies: the header is the client's own say-so.
    let app = TestServer::start_with(t, |c| c.abuse.rate_limits.token_per_minute = 3);
    block_on(async {
        for i in 0..3 {
            let r = poke(&app, "/oauth/token", &format!("198.51.100.{i}")).await;
            assert_ne!(r.status, StatusCode::TOO_MANY_REQUESTS);
        }
        assert_rate_limited(&poke(&app, "/oauth/token", "203.0.113.77").await);
    });
    // Nor does it escape a login lock.
    let app = TestServer::start(t);
    app.user("alice");
    block_on(async {
        let form = LoginForm::open(&app).await;
        for i in 0..ADDRESS.lock_after + 5 {
            form.refused("alice", "wrong", Some(&format!("198.51.100.{i}")))
                .await;
        }
        form.refused("alice", PASSWORD, Some("203.0.113.5")).await;
    });
}

fn trusted_proxy_forwarded_for_is_used(t: &TestDb) {
    let app = TestServer::start_with(t, |c| {
        behind_proxy(c);
        c.abuse.rate_limits.token_per_minute = 2;
    });
    block_on(async {
        // The right-most entry the proxy added is the client; what the
        // client wrote to its left is not believed.
        for spoof in ["1.1.1.1", "2.2.2.2"] {
            let r = poke(&app, "/oauth/token", &format!("{spoof}, 198.51.100.1")).await;
            assert_ne!(r.status, StatusCode::TOO_MANY_REQUESTS);
        }
        assert_rate_limited(&poke(&app, "/oauth/token", "3.3.3.3, 198.51.100.1").await);
        // Another client behind the same proxy has its own allowance.
        let r = poke(&app, "/oauth/token", "198.51.100.2").await;
        assert_ne!(r.status, StatusCode::TOO_MANY_REQUESTS);
    });
}

fn host_header_does_not_change_issuer(t: &TestDb) {
    let app = TestServer::start(t);
    block_on(async {
        for path in [
            "/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server",
        ] {
            let reply = read(
                app.backend()
                    .get(app.url(path))
                    .header("host", "evil.example")
                    .header("x-forwarded-host", "evil.example")
                    .header("x-forwarded-proto", "https")
                    .header("forwarded", "host=evil.example;proto=https")
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            assert!(!reply.body.contains("evil.example"), "{}", reply.body);
            let meta = reply.json();
            assert_eq!(meta["issuer"], app.issuer());
            assert_eq!(
                meta["token_endpoint"],
                format!("{}/oauth/token", app.issuer())
            );
        }
    });
}

fn token_endpoint_burst_gets_429_with_retry_after(t: &TestDb) {
    let app = TestServer::start_with(t, |c| c.abuse.rate_limits.token_per_minute = 5);
    let client = app.service_client();
    block_on(async {
        // The allowance is shared by both token paths.
        for path in [
            "/oauth/token",
            "/api/method/frappe.integrations.oauth2.get_token",
        ]
        .iter()
        .cycle()
        .take(5)
        {
            let r = poke(&app, path, "").await;
            assert_ne!(r.status, StatusCode::TOO_MANY_REQUESTS);
        }
        // A valid request is refused too, and issues nothing.
        let reply = token_request(&app, &client, &[("grant_type", "client_credentials")]).await;
        assert_rate_limited(&reply);
        assert_rate_limited(
            &poke(&app, "/api/method/frappe.integrations.oauth2.get_token", "").await,
        );
        // Other endpoints have their own allowance.
        let r = poke(&app, "/oauth/revoke", "").await;
        assert_ne!(r.status, StatusCode::TOO_MANY_REQUESTS);
    });
}

fn revocation_and_introspection_bursts_get_429_on_both_paths(t: &TestDb) {
    let app = TestServer::start_with(t, |c| {
        c.abuse.rate_limits.revocation_per_minute = 2;
        c.abuse.rate_limits.introspection_per_minute = 2;
    });
    block_on(async {
        for paths in [
            [
                "/oauth/revoke",
                "/api/method/frappe.integrations.oauth2.revoke_token",
            ],
            [
                "/oauth/introspect",
                "/api/method/frappe.integrations.oauth2.introspect_token",
            ],
        ] {
            for path in paths {
                let r = poke(&app, path, "").await;
                assert_ne!(r.status, StatusCode::TOO_MANY_REQUESTS, "{path}");
            }
            for path in paths {
                assert_rate_limited(&poke(&app, path, "").await);
            }
        }
        // The token endpoint is untouched by them.
        let r = poke(&app, "/oauth/token", "").await;
        assert_ne!(r.status, StatusCode::TOO_MANY_REQUESTS);
    });
}
