//! The client credentials grant (RFC 6749 §4.4).

use oauth_core::{GrantType, ScopeSet};
use oauth_store::test_support::TestDb;
use reqwest::StatusCode;

use crate::support::*;

use super::{
    TOKEN, assert_error, assert_invalid_client, assert_seed_shape, ok, post_form, scope_of, scopes,
};

oauth_store::test_on_both_backends!(
    client_credentials_issue_an_access_token_without_a_refresh_token,
    client_credentials_beyond_the_clients_scopes_is_invalid_scope,
);

// ---- client credentials (RFC 6749 §4.4) ----

fn client_credentials_issue_an_access_token_without_a_refresh_token(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.service_client();
        let json = ok(&token_request(
            &app,
            &client,
            &[("grant_type", "client_credentials"), ("scope", "project")],
        )
        .await);
        assert_seed_shape(&json, false);
        assert_eq!(scope_of(&json), scopes("project"));
        // No scope: the client's own.
        let json = ok(&token_request(&app, &client, &[("grant_type", "client_credentials")]).await);
        assert_seed_shape(&json, false);
        assert!(
            scope_of(&json).is_subset(&scopes("openid profile email project")),
            "{json}"
        );
        assert!(!scope_of(&json).is_empty(), "{json}");
        // With the secret in the body, too.
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client.id.as_str()),
            ("client_secret", client.secret.as_deref().unwrap()),
        ];
        assert_seed_shape(&ok(&post_form(&app, TOKEN, None, &form).await), false);
        // A wrong secret gets nothing.
        let form = [("grant_type", "client_credentials")];
        assert_invalid_client(
            &app,
            &post_form(
                &app,
                TOKEN,
                Some((&client.id, "wrong-secret-0123456789abcdef")),
                &form,
            )
            .await,
        );
    });
}

fn client_credentials_beyond_the_clients_scopes_is_invalid_scope(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let client = app.service_client();
        let reply = token_request(
            &app,
            &client,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "project admin"),
            ],
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_scope");
        // A service client registered for `project` only.
        let narrow = app.client_with(|m| {
            m.grant_types.push(GrantType::ClientCredentials);
            m.scopes = ScopeSet::parse("project").unwrap();
        });
        let reply = token_request(
            &app,
            &narrow,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "project email"),
            ],
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_scope");
        let json = ok(&token_request(&app, &narrow, &[("grant_type", "client_credentials")]).await);
        assert_eq!(scope_of(&json), scopes("project"));
    });
}
