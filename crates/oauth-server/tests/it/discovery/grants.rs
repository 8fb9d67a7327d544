//! What the documents claim of grants and client authentication: every
//! advertised grant type and auth method works, at the token endpoint and
//! at revocation and introspection.

use oauth_core::TokenEndpointAuthMethod;
use oauth_store::test_support::TestDb;
use reqwest::StatusCode;

use crate::introspect::{describe, introspect_at};
use crate::resources::{final_redirect, fragment_params, implicit_client, implicit_query};
use crate::support::*;

use super::{assert_works, list, metadata, s};

oauth_store::test_on_both_backends!(
    every_supported_grant_type_works_end_to_end,
    every_supported_token_endpoint_auth_method_works,
    revocation_and_introspection_auth_methods_work_as_advertised,
);

/// Alice's access token for `client` (scope `openid`): the code flow with
/// PKCE, exchanged with the client's credentials in the body, which every
/// kind of client may use.
async fn access_token_of(app: &TestServer, client: &TestClient) -> String {
    let (verifier, challenge) = pkce();
    let code = code_for(
        app,
        client,
        &format!("scope=openid&code_challenge={challenge}&code_challenge_method=S256"),
    )
    .await;
    let mut form: Vec<(String, String)> = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
        ("code_verifier", verifier.as_str()),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    form.extend(client.body_auth());
    let reply = read(
        app.backend()
            .post(app.url("/oauth/token"))
            .form(&form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    s(&reply.json(), "access_token").to_owned()
}

// ---- what they claim ----

fn every_supported_grant_type_works_end_to_end(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let doc = metadata(&app).await;
        let grants = list(&doc, "grant_types_supported");
        assert!(grants.contains(&"authorization_code"), "{doc}");
        for grant in grants {
            match grant {
                "authorization_code" => {
                    let client = app.client();
                    let tokens = tokens_for(&app, &client, "alice", "openid").await;
                    assert_works(&app, s(&tokens, "access_token"), grant).await;
                }
                "refresh_token" => {
                    let client = app.client();
                    let tokens = tokens_for(&app, &client, "alice", "openid").await;
                    let reply = token_request(
                        &app,
                        &client,
                        &[
                            ("grant_type", "refresh_token"),
                            ("refresh_token", s(&tokens, "refresh_token")),
                        ],
                    )
                    .await;
                    assert_eq!(reply.status, StatusCode::OK, "{grant}: {}", reply.body);
                    assert_works(&app, s(&reply.json(), "access_token"), grant).await;
                }
                "client_credentials" => {
                    let service = app.service_client();
                    let reply =
                        token_request(&app, &service, &[("grant_type", "client_credentials")])
                            .await;
                    assert_eq!(reply.status, StatusCode::OK, "{grant}: {}", reply.body);
                    let rs = app.client();
                    let json = describe(&app, &rs, s(&reply.json(), "access_token")).await;
                    assert_eq!(json["active"], true, "{grant}: {json}");
                    assert_eq!(json["client_id"], service.id.as_str(), "{grant}: {json}");
                }
                "implicit" => {
                    let client = implicit_client(&app);
                    let location = final_redirect(
                        &app.browser(),
                        &implicit_query(&client, "scope=openid&state=s"),
                        "alice",
                    )
                    .await;
                    let params = fragment_params(&location);
                    let token = param(&params, "access_token").expect("an access token");
                    assert_works(&app, token, grant).await;
                }
                other => panic!("grant type {other} is advertised but this test cannot run it"),
            }
        }
    });
}

fn every_supported_token_endpoint_auth_method_works(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let doc = metadata(&app).await;
        let token_endpoint = s(&doc, "token_endpoint").to_owned();
        for method in list(&doc, "token_endpoint_auth_methods_supported") {
            let reply = match method {
                "client_secret_basic" => {
                    let client = app.client();
                    let code = code_for(&app, &client, "scope=openid").await;
                    let secret = client.secret.as_deref().unwrap();
                    read(
                        app.backend()
                            .post(&token_endpoint)
                            .basic_auth(enc(&client.id), Some(enc(secret)))
                            .form(&[
                                ("grant_type", "authorization_code"),
                                ("code", &code),
                                ("redirect_uri", CB),
                            ])
                            .send()
                            .await
                            .unwrap(),
                    )
                    .await
                }
                "client_secret_post" => {
                    let client = app.client_with(|m| {
                        m.token_endpoint_auth_method = TokenEndpointAuthMethod::ClientSecretPost;
                    });
                    let code = code_for(&app, &client, "scope=openid").await;
                    let secret = client.secret.as_deref().unwrap();
                    post_anonymous(
                        &app,
                        &token_endpoint,
                        &[
                            ("grant_type", "authorization_code"),
                            ("code", &code),
                            ("redirect_uri", CB),
                            ("client_id", &client.id),
                            ("client_secret", secret),
                        ],
                    )
                    .await
                }
                "none" => {
                    let client = app.public_client();
                    let (verifier, challenge) = pkce();
                    let code = code_for(
                        &app,
                        &client,
                        &format!(
                            "scope=openid&code_challenge={challenge}&code_challenge_method=S256"
                        ),
                    )
                    .await;
                    post_anonymous(
                        &app,
                        &token_endpoint,
                        &[
                            ("grant_type", "authorization_code"),
                            ("code", &code),
                            ("redirect_uri", CB),
                            ("client_id", &client.id),
                            ("code_verifier", &verifier),
                        ],
                    )
                    .await
                }
                other => panic!("auth method {other} is advertised but this test cannot use it"),
            };
            assert_eq!(reply.status, StatusCode::OK, "{method}: {}", reply.body);
            assert_works(&app, s(&reply.json(), "access_token"), method).await;
        }
    });
}

fn revocation_and_introspection_auth_methods_work_as_advertised(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let doc = metadata(&app).await;
        let revocation = s(&doc, "revocation_endpoint").to_owned();
        for method in list(&doc, "revocation_endpoint_auth_methods_supported") {
            let (client, form_auth) = match method {
                "client_secret_basic" => (app.client(), false),
                "client_secret_post" => (
                    app.client_with(|m| {
                        m.token_endpoint_auth_method = TokenEndpointAuthMethod::ClientSecretPost;
                    }),
                    true,
                ),
                "none" => (app.public_client(), true),
                other => panic!("revocation auth method {other} is advertised but not tested"),
            };
            let token = access_token_of(&app, &client).await;
            let reply = if form_auth {
                let mut form = vec![("token".to_owned(), token.clone())];
                form.extend(client.body_auth());
                read(
                    app.backend()
                        .post(&revocation)
                        .form(&form)
                        .send()
                        .await
                        .unwrap(),
                )
                .await
            } else {
                let secret = client.secret.as_deref().unwrap();
                read(
                    app.backend()
                        .post(&revocation)
                        .basic_auth(enc(&client.id), Some(enc(secret)))
                        .form(&[("token", token.as_str())])
                        .send()
                        .await
                        .unwrap(),
                )
                .await
            };
            assert_eq!(reply.status, StatusCode::OK, "{method}: {}", reply.body);
            let info = userinfo(&app, &token).await;
            assert_eq!(
                info.status,
                StatusCode::UNAUTHORIZED,
                "{method}: not revoked"
            );
        }

        let introspection = s(&doc, "introspection_endpoint").to_owned();
        let issuer_client = app.client();
        let token = s(
            &tokens_for(&app, &issuer_client, "alice", "openid").await,
            "access_token",
        )
        .to_owned();
        let methods = list(&doc, "introspection_endpoint_auth_methods_supported");
        assert!(!methods.contains(&"none"), "{doc}");
        for method in methods {
            let reply = match method {
                "client_secret_basic" => {
                    let rs = app.client();
                    assert_eq!(introspection, app.url("/oauth/introspect"));
                    introspect_at(&app, "/oauth/introspect", &rs, &[("token", &token)]).await
                }
                "client_secret_post" => {
                    let rs = app.client_with(|m| {
                        m.token_endpoint_auth_method = TokenEndpointAuthMethod::ClientSecretPost;
                    });
                    let mut form = vec![("token".to_owned(), token.clone())];
                    form.extend(rs.body_auth());
                    read(
                        app.backend()
                            .post(&introspection)
                            .form(&form)
                            .send()
                            .await
                            .unwrap(),
                    )
                    .await
                }
                other => panic!("introspection auth method {other} is advertised but not tested"),
            };
            assert_eq!(reply.status, StatusCode::OK, "{method}: {}", reply.body);
            assert_eq!(reply.json()["active"], true, "{method}: {}", reply.body);
        }
    });
}
