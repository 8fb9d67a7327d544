//! Single use under concurrency: one code or refresh token, redeemed by
//! many requests at once, succeeds exactly once.

use std::sync::Arc;

use oauth_store::test_support::TestDb;
use reqwest::StatusCode;

use crate::support::*;

use super::{TOKEN, assert_invalid_grant, code_for, exchange_at, refresh, refresh_token};

oauth_store::test_on_both_backends!(
    concurrent_redemptions_of_one_code_succeed_exactly_once,
    concurrent_refreshes_of_one_token_succeed_exactly_once,
);

/// Sends `n` copies of one form at once, each on its own connection, with
/// HTTP Basic for `client`; returns every reply.
async fn race(
    app: &TestServer,
    client: &TestClient,
    form: Vec<(String, String)>,
    n: usize,
) -> Vec<Reply> {
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let form = Arc::new(form);
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let http = app.backend();
            let url = app.url(TOKEN);
            let (id, secret) = (enc(&client.id), enc(client.secret.as_deref().unwrap()));
            let barrier = barrier.clone();
            let form = form.clone();
            tokio::spawn(async move {
                let req = http.post(url).basic_auth(id, Some(secret)).form(&*form);
                barrier.wait().await;
                read(req.send().await.unwrap()).await
            })
        })
        .collect();
    let mut replies = Vec::with_capacity(n);
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    replies
}

/// Exactly one 200; every other reply a 400 `invalid_grant`; no 5xx.
fn assert_exactly_one_success(replies: &[Reply]) {
    for r in replies {
        assert!(
            !r.status.is_server_error(),
            "a server error: {} {}",
            r.status,
            r.body
        );
    }
    let ok = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    let statuses: Vec<_> = replies
        .iter()
        .map(|r| (r.status.as_u16(), r.body.as_str()))
        .collect();
    assert_eq!(ok, 1, "expected exactly one success: {statuses:?}");
    for r in replies.iter().filter(|r| r.status != StatusCode::OK) {
        assert_invalid_grant(r);
    }
}

// ---- single use under concurrency ----

fn concurrent_redemptions_of_one_code_succeed_exactly_once(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        for _ in 0..2 {
            let code = code_for(&app, &client, "scope=openid&state=s").await;
            let form = vec![
                ("grant_type".to_owned(), "authorization_code".to_owned()),
                ("code".to_owned(), code.clone()),
                ("redirect_uri".to_owned(), CB.to_owned()),
            ];
            let replies = race(&app, &client, form, 10).await;
            assert_exactly_one_success(&replies);
            // And the code stays spent.
            assert_invalid_grant(&exchange_at(&app, TOKEN, &client, &code, &[]).await);
        }
    });
}

fn concurrent_refreshes_of_one_token_succeed_exactly_once(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let client = app.client();
        for _ in 0..2 {
            let json = tokens_for(&app, &client, "alice", "openid").await;
            let form = vec![
                ("grant_type".to_owned(), "refresh_token".to_owned()),
                ("refresh_token".to_owned(), refresh_token(&json).to_owned()),
            ];
            let replies = race(&app, &client, form, 10).await;
            assert_exactly_one_success(&replies);
            // And the token stays spent.
            assert_invalid_grant(&refresh(&app, &client, refresh_token(&json), &[]).await);
        }
    });
}
