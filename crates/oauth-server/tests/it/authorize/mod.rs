//! The authorization endpoint, login and consent.

mod consent;
mod login;
mod prompts;
mod requests;

use reqwest::StatusCode;

use crate::support::*;

/// Follows an authorize request that must redirect to the client with an
/// error; returns the redirect's parameters.
pub(super) async fn redirected_error(browser: &Browser, query: &str) -> Vec<(String, String)> {
    let reply = browser.get(&format!("/oauth/authorize?{query}")).await;
    assert_eq!(
        reply.status,
        StatusCode::SEE_OTHER,
        "{query}: {}",
        reply.body
    );
    let params = redirect_params(&reply.location(), CB);
    assert!(
        param(&params, "error").is_some(),
        "{query}: no error in {params:?}"
    );
    params
}

pub async fn logged_in(app: &TestServer, username: &str) -> Browser {
    let browser = app.browser();
    let reply = browser.login(username, PASSWORD, "/").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    browser
}
