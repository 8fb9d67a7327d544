//! Metadata: OpenID Connect Discovery 1.0 (`/.well-known/openid-
//! configuration`), RFC 8414 (`/.well-known/oauth-authorization-server`)
//! and RFC 9728 (`/.well-known/oauth-protected-resource`). Each test takes
//! what the document advertises and checks that the server really does it.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth_core::jose::SigningAlg;
use oauth_core::{CodeChallenge, CodeVerifier, Picture, ScopeSet, TokenEndpointAuthMethod};
use oauth_store::test_support::TestDb;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::introspect::{describe, introspect_at};
use crate::resources::{final_redirect, fragment_params, implicit_client, implicit_query};
use crate::support::*;

oauth_store::test_on_both_backends!(
    // The documents.
    both_well_known_documents_are_equal,
    the_issuer_is_byte_identical_to_the_configured_one_everywhere,
    every_advertised_endpoint_answers_its_method,
    every_advertised_frappe_endpoint_answers_its_method,
    registration_endpoint_is_advertised_only_when_registration_is_enabled,
    // What they claim.
    every_supported_grant_type_works_end_to_end,
    every_supported_token_endpoint_auth_method_works,
    revocation_and_introspection_auth_methods_work_as_advertised,
    every_supported_code_challenge_method_works,
    response_types_and_modes_are_what_the_authorization_endpoint_does,
    every_supported_scope_is_described_on_the_consent_page,
    claims_supported_covers_every_claim_of_id_tokens_and_userinfo,
    signing_algs_are_those_of_the_jwks_and_never_none,
    with_es256_configured_the_signing_algs_still_match_the_jwks,
    rs256_is_advertised_and_published_even_with_es256_configured,
    redirects_carry_iss_as_advertised,
    protected_resource_metadata_names_the_issuer_as_its_authorization_server,
);

const OIDC: &str = "/.well-known/openid-configuration";
const RFC8414: &str = "/.well-known/oauth-authorization-server";
const PROTECTED_RESOURCE: &str = "/.well-known/oauth-protected-resource";

// ---- helpers ----

/// GETs an absolute URL without cookies.
async fn get(app: &TestServer, url: &str) -> Reply {
    read(app.backend().get(url).send().await.unwrap()).await
}

/// A metadata document at `path` on the server: 200 JSON.
async fn document(app: &TestServer, path: &str) -> Value {
    let reply = get(app, &app.url(path)).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
    let ct = reply.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("application/json"), "{path}: {ct}");
    reply.json()
}

async fn metadata(app: &TestServer) -> Value {
    document(app, OIDC).await
}

/// A string member.
fn s<'a>(json: &'a Value, key: &str) -> &'a str {
    json[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {json}"))
}

/// An array-of-strings member.
fn list<'a>(json: &'a Value, key: &str) -> Vec<&'a str> {
    json[key]
        .as_array()
        .unwrap_or_else(|| panic!("no array {key} in {json}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_else(|| panic!("{key}: {v}")))
        .collect()
}

/// A JWT's header (0) or payload (1), decoded.
fn jwt_part(jwt: &str, index: usize) -> Value {
    let part = jwt.split('.').nth(index).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

/// A fresh PKCE verifier and its S256 challenge.
fn pkce() -> (String, String) {
    let verifier = CodeVerifier::generate(&mut rand::rng());
    let challenge = CodeChallenge::s256_of(&verifier);
    (
        verifier.expose_secret().to_owned(),
        challenge.as_str().to_owned(),
    )
}

/// Runs the code flow's front channel as alice and returns the code.
async fn code_for(app: &TestServer, client: &TestClient, extra: &str) -> String {
    let params = app
        .browser()
        .authorize_and_allow("/oauth/authorize", &client.authorize_query(extra), "alice")
        .await;
    param(&params, "code").expect("a code").to_owned()
}

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

/// POSTs a form to `url` with no client authentication.
async fn post_form(app: &TestServer, url: &str, form: &[(&str, &str)]) -> Reply {
    read(app.backend().post(url).form(form).send().await.unwrap()).await
}

/// The access token opens userinfo.
async fn assert_works(app: &TestServer, token: &str, what: &str) {
    let info = userinfo(app, token).await;
    assert_eq!(info.status, StatusCode::OK, "{what}: {}", info.body);
}

/// What an endpoint should answer to a bare request.
#[derive(Debug, Clone, Copy)]
enum Endpoint {
    /// GET with a valid request: the login page or a redirect to it.
    Authorization,
    /// POST without client authentication: a 400/401 JSON error.
    Token,
    /// GET without a token: 401 with a Bearer challenge.
    Userinfo,
    /// GET: 200 with keys.
    Jwks,
    /// POST without client authentication: 401 `invalid_client`.
    Revocation,
    /// Frappe's revocation: open, answers the seed's `{"message": …}`.
    FrappeRevocation,
    /// POST without client authentication: 401 `invalid_client`.
    Introspection,
    /// POST of client metadata: 201.
    Registration,
}

/// Checks one advertised URL; `None` when it answers as it should, else
/// what went wrong.
async fn problem(
    app: &TestServer,
    client: &TestClient,
    kind: Endpoint,
    url: &str,
) -> Option<String> {
    let reply = match kind {
        Endpoint::Authorization => {
            let query = client.authorize_query("scope=openid&state=s");
            get(app, &format!("{url}?{query}")).await
        }
        Endpoint::Userinfo | Endpoint::Jwks => get(app, url).await,
        Endpoint::Token => {
            post_form(
                app,
                url,
                &[("grant_type", "authorization_code"), ("code", "abc")],
            )
            .await
        }
        Endpoint::Revocation | Endpoint::FrappeRevocation | Endpoint::Introspection => {
            post_form(app, url, &[("token", "abc")]).await
        }
        Endpoint::Registration => {
            read(
                app.backend()
                    .post(url)
                    .json(&json!({ "redirect_uris": ["https://app.example/cb"] }))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let json = || serde_json::from_str::<Value>(&reply.body).unwrap_or(Value::Null);
    let ok = match kind {
        Endpoint::Authorization => {
            reply.status == StatusCode::OK
                || (reply.status == StatusCode::SEE_OTHER && reply.location().contains("login"))
        }
        Endpoint::Token => {
            matches!(
                reply.status,
                StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED
            ) && json()["error"].is_string()
        }
        Endpoint::Userinfo => {
            reply.status == StatusCode::UNAUTHORIZED
                && reply
                    .header("www-authenticate")
                    .is_some_and(|c| c.starts_with("Bearer"))
        }
        Endpoint::Jwks => {
            reply.status == StatusCode::OK
                && json()["keys"].as_array().is_some_and(|k| !k.is_empty())
        }
        Endpoint::Revocation | Endpoint::Introspection => {
            reply.status == StatusCode::UNAUTHORIZED
                && json()["error"] == "invalid_client"
                && reply.header("www-authenticate").is_some()
        }
        Endpoint::FrappeRevocation => {
            reply.status == StatusCode::OK && json() == json!({ "message": "success" })
        }
        Endpoint::Registration => {
            reply.status == StatusCode::CREATED && json()["client_id"].is_string()
        }
    };
    (!ok).then(|| {
        let body: String = reply.body.chars().take(200).collect();
        format!("{kind:?} at {url}: {} {body}", reply.status)
    })
}

/// Which kind each URL member of the metadata is.
fn kind_of(member: &str) -> Option<Endpoint> {
    Some(match member {
        "authorization_endpoint" => Endpoint::Authorization,
        "token_endpoint" => Endpoint::Token,
        "userinfo_endpoint" => Endpoint::Userinfo,
        "jwks_uri" => Endpoint::Jwks,
        "revocation_endpoint" => Endpoint::Revocation,
        "introspection_endpoint" => Endpoint::Introspection,
        "registration_endpoint" => Endpoint::Registration,
        _ => return None,
    })
}

/// Every URL member of `doc` (`*_endpoint`, `jwks_uri`), checked; returns
/// the problems found. A member this test does not know is a problem too,
/// so a new endpoint cannot be advertised untested.
async fn endpoint_problems(app: &TestServer, doc: &Value, issuer: &str) -> Vec<String> {
    let client = app.client();
    let mut problems = Vec::new();
    for (member, value) in doc.as_object().expect("an object") {
        if !(member.ends_with("_endpoint") || member == "jwks_uri") {
            continue;
        }
        let Some(kind) = kind_of(member) else {
            problems.push(format!("{member} is advertised but not tested"));
            continue;
        };
        let url = value
            .as_str()
            .unwrap_or_else(|| panic!("{member} is not a string: {value}"));
        if !url.starts_with(issuer) {
            problems.push(format!("{member} {url} is not under the issuer {issuer}"));
        }
        problems.extend(problem(app, &client, kind, url).await);
    }
    problems
}

/// The parts of the consent page's scope list: name → description.
fn consent_scopes(html: &str) -> BTreeMap<String, String> {
    let between = |text: &str, start: &str, end: &str| -> Option<String> {
        let at = text.find(start)? + start.len();
        let stop = text[at..].find(end)? + at;
        Some(text[at..stop].trim().to_owned())
    };
    html.split("<li")
        .filter_map(|item| {
            let name = between(item, "class=\"scope-name\">", "</code>")?;
            let description = between(item, "class=\"scope-description\">", "</span>")?;
            Some((name, description))
        })
        .collect()
}

/// Checks that `issuer` is named byte for byte by both metadata documents,
/// the protected resource metadata, the `iss` of a code redirect, the ID
/// token and introspection.
async fn assert_issuer_everywhere(app: &TestServer, issuer: &str) {
    for path in [OIDC, RFC8414] {
        let doc = document(app, path).await;
        assert_eq!(s(&doc, "issuer"), issuer, "{path}");
    }
    let prm = document(app, PROTECTED_RESOURCE).await;
    assert!(
        list(&prm, "authorization_servers").contains(&issuer),
        "{prm}"
    );

    app.user("alice");
    let client = app.client();
    let params = app
        .browser()
        .authorize_and_allow(
            "/oauth/authorize",
            &client.authorize_query("scope=openid&state=s"),
            "alice",
        )
        .await;
    assert_eq!(param(&params, "iss"), Some(issuer), "{params:?}");
    let code = param(&params, "code").expect("a code");
    let reply = exchange_code(app, &client, code, &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let tokens = reply.json();
    let id_token = jwt_part(s(&tokens, "id_token"), 1);
    assert_eq!(id_token["iss"], issuer, "{id_token}");
    let rs = app.client();
    let json = describe(app, &rs, s(&tokens, "access_token")).await;
    assert_eq!(json["iss"], issuer, "{json}");
}

// ---- the documents ----

fn both_well_known_documents_are_equal(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let oidc = document(&app, OIDC).await;
        let oauth = document(&app, RFC8414).await;
        assert_eq!(oidc, oauth);
        // The members both specifications require.
        for member in [
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
            "response_types_supported",
            "subject_types_supported",
            "id_token_signing_alg_values_supported",
        ] {
            assert!(oidc.get(member).is_some(), "no {member} in {oidc}");
        }
    });
}

fn the_issuer_is_byte_identical_to_the_configured_one_everywhere(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let issuer = app.issuer().to_owned();
        assert!(!issuer.ends_with('/'));
        assert_issuer_everywhere(&app, &issuer).await;
    });
}

fn every_advertised_endpoint_answers_its_method(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let doc = metadata(&app).await;
        let problems = endpoint_problems(&app, &doc, app.issuer()).await;
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        for member in [
            "authorization_endpoint",
            "token_endpoint",
            "userinfo_endpoint",
            "jwks_uri",
            "revocation_endpoint",
            "introspection_endpoint",
            "registration_endpoint",
        ] {
            assert!(doc[member].is_string(), "{member} is not advertised: {doc}");
        }
    });
}

fn every_advertised_frappe_endpoint_answers_its_method(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let doc = metadata(&app).await;
        let frappe = doc["frappe_endpoints"]
            .as_object()
            .unwrap_or_else(|| panic!("no frappe_endpoints in {doc}"));
        let client = app.client();
        let mut problems = Vec::new();
        for (member, url) in frappe {
            let url = url.as_str().unwrap();
            let kind = match member.as_str() {
                "revocation_endpoint" => Endpoint::FrappeRevocation,
                other => match kind_of(other) {
                    Some(kind) => kind,
                    None => {
                        problems.push(format!("frappe {member} is advertised but not tested"));
                        continue;
                    }
                },
            };
            assert!(url.contains("/api/method/frappe."), "{member}: {url}");
            problems.extend(problem(&app, &client, kind, url).await);
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        assert!(frappe.len() >= 5, "{doc}");
    });
}

fn registration_endpoint_is_advertised_only_when_registration_is_enabled(t: &TestDb) {
    block_on(async {
        {
            let app = TestServer::start_with(t, |c| c.registration.enabled = false);
            for path in [OIDC, RFC8414] {
                let doc = document(&app, path).await;
                assert!(doc.get("registration_endpoint").is_none(), "{path}: {doc}");
            }
        }
        let app = TestServer::start(t);
        for path in [OIDC, RFC8414] {
            let doc = document(&app, path).await;
            assert_eq!(
                doc["registration_endpoint"],
                format!("{}/oauth/register", app.issuer()),
                "{path}: {doc}"
            );
        }
    });
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
                    post_form(
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
                    post_form(
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

fn every_supported_code_challenge_method_works(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let doc = metadata(&app).await;
        let methods = list(&doc, "code_challenge_methods_supported");
        assert!(methods.contains(&"S256"), "{doc}");
        for method in methods {
            let (client, verifier, challenge) = match method {
                "S256" => {
                    let (verifier, challenge) = pkce();
                    (app.public_client(), verifier, challenge)
                }
                "plain" => {
                    let (verifier, _) = pkce();
                    let client = app.client_with(|m| m.allow_plain_pkce = true);
                    (client, verifier.clone(), verifier)
                }
                other => panic!("code challenge method {other} is advertised but not tested"),
            };
            let extra = format!(
                "scope=openid&state=s&code_challenge={challenge}&code_challenge_method={method}"
            );
            // The right verifier works.
            let code = code_for(&app, &client, &extra).await;
            let reply = exchange_code(&app, &client, &code, &[("code_verifier", &verifier)]).await;
            assert_eq!(reply.status, StatusCode::OK, "{method}: {}", reply.body);
            assert_works(&app, s(&reply.json(), "access_token"), method).await;
            // A wrong one does not: the method is really checked.
            let code = code_for(&app, &client, &extra).await;
            let (wrong, _) = pkce();
            let reply = exchange_code(&app, &client, &code, &[("code_verifier", &wrong)]).await;
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "{method}: {}",
                reply.body
            );
            assert_eq!(reply.json()["error"], "invalid_grant", "{method}");
        }
    });
}

fn response_types_and_modes_are_what_the_authorization_endpoint_does(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let doc = metadata(&app).await;
        let types = list(&doc, "response_types_supported");
        let modes: BTreeSet<&str> = list(&doc, "response_modes_supported").into_iter().collect();
        let mut used = BTreeSet::new();
        for response_type in types {
            let mode = match response_type {
                "code" => "query",
                "token" => "fragment",
                other => panic!("response type {other} is advertised but not tested"),
            };
            assert!(
                modes.contains(mode),
                "{response_type}'s mode {mode} is not in {modes:?}"
            );
            used.insert(mode);
            let client = implicit_client(&app);
            let query = format!(
                "client_id={}&response_type={response_type}&redirect_uri={}&scope=openid&state=s&response_mode={mode}",
                enc(&client.id),
                enc(CB)
            );
            let location = final_redirect(&app.browser(), &query, "alice").await;
            match mode {
                "query" => {
                    assert!(!location.contains('#'), "{location}");
                    let params = redirect_params(&location, CB);
                    let code = param(&params, "code").expect("a code in the query");
                    let reply = exchange_code(&app, &client, code, &[]).await;
                    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
                }
                _ => {
                    let params = fragment_params(&location);
                    let token = param(&params, "access_token").expect("a token in the fragment");
                    assert_works(&app, token, response_type).await;
                }
            }
        }
        assert_eq!(used, modes, "a response mode is advertised but never used");
    });
}

fn every_supported_scope_is_described_on_the_consent_page(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let doc = metadata(&app).await;
        let scopes = list(&doc, "scopes_supported").join(" ");
        assert!(scopes.split(' ').any(|s| s == "openid"), "{doc}");
        let client = app.client_with(|m| m.scopes = ScopeSet::parse(&scopes).unwrap());
        let browser = app.browser();
        let next = format!(
            "/oauth/authorize?{}",
            client.authorize_query(&format!("scope={}&state=s", enc(&scopes)))
        );
        let login = browser.login("alice", PASSWORD, &next).await;
        assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
        let page = browser.get(&next).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let shown = consent_scopes(&page.body);
        let mut descriptions = BTreeSet::new();
        for scope in scopes.split(' ') {
            let description = shown
                .get(scope)
                .unwrap_or_else(|| panic!("{scope} is not on the consent page: {shown:?}"));
            assert!(!description.is_empty(), "{scope} has no description");
            assert!(
                descriptions.insert(description.clone()),
                "{scope} shares its description {description:?} with another scope"
            );
        }
    });
}

fn claims_supported_covers_every_claim_of_id_tokens_and_userinfo(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user_with("alice", |u| {
            u.email_verified = true;
            u.picture = Some(Picture::parse("https://example.com/alice.png").unwrap());
        });
        let client =
            app.client_with(|m| m.scopes = ScopeSet::parse("openid profile email roles").unwrap());
        let scope = enc("openid profile email roles");
        let code = code_for(&app, &client, &format!("scope={scope}&state=s&nonce=n-1")).await;
        let reply = exchange_code(&app, &client, &code, &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let tokens = reply.json();
        let id_token = jwt_part(s(&tokens, "id_token"), 1);
        let info = userinfo(&app, s(&tokens, "access_token")).await;
        assert_eq!(info.status, StatusCode::OK, "{}", info.body);
        let info = info.json();

        let doc = metadata(&app).await;
        let supported: BTreeSet<&str> = list(&doc, "claims_supported").into_iter().collect();
        let mut seen = BTreeSet::new();
        for json in [&id_token, &info] {
            seen.extend(json.as_object().unwrap().keys().map(String::as_str));
        }
        let missing: Vec<_> = seen.difference(&supported).collect();
        assert!(
            missing.is_empty(),
            "claims seen but not in claims_supported: {missing:?}"
        );
        // The flow did release the claims it should have, so the check
        // above covered them.
        for claim in [
            "sub",
            "nonce",
            "name",
            "preferred_username",
            "picture",
            "email",
            "email_verified",
            "roles",
        ] {
            assert!(seen.contains(claim), "{claim} was not released: {seen:?}");
        }
    });
}

fn signing_algs_are_those_of_the_jwks_and_never_none(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        assert_algs_match_jwks(&app, "RS256").await;
    });
}

fn with_es256_configured_the_signing_algs_still_match_the_jwks(t: &TestDb) {
    block_on(async {
        let app = TestServer::start_with(t, |c| c.signing_alg = SigningAlg::Es256);
        assert_algs_match_jwks(&app, "ES256").await;
    });
}

/// OpenID Connect Discovery 1.0 §3, `id_token_signing_alg_values_supported`:
/// "The algorithm RS256 MUST be included." A relying party that supports
/// only RS256 must still be served when the operator prefers ES256.
fn rs256_is_advertised_and_published_even_with_es256_configured(t: &TestDb) {
    block_on(async {
        let app = TestServer::start_with(t, |c| c.signing_alg = SigningAlg::Es256);
        let doc = metadata(&app).await;
        let algs = list(&doc, "id_token_signing_alg_values_supported");
        assert!(
            algs.contains(&"RS256"),
            "RS256 must be among id_token_signing_alg_values_supported: {algs:?}"
        );
        let jwks = get(&app, s(&doc, "jwks_uri")).await.json();
        assert!(
            jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["alg"] == "RS256"),
            "no RS256 key in the JWKS: {jwks}"
        );
    });
}

/// The advertised algorithms are exactly those of the JWKS keys, never
/// `none`, and ID tokens are signed with `expected` by a key in the JWKS.
async fn assert_algs_match_jwks(app: &TestServer, expected: &str) {
    let doc = metadata(app).await;
    let algs: BTreeSet<&str> = list(&doc, "id_token_signing_alg_values_supported")
        .into_iter()
        .collect();
    assert!(!algs.contains("none"), "{algs:?}");
    assert!(algs.contains(expected), "{algs:?}");
    let jwks = get(app, s(&doc, "jwks_uri")).await;
    assert_eq!(jwks.status, StatusCode::OK, "{}", jwks.body);
    let jwks = jwks.json();
    let keys = jwks["keys"].as_array().expect("keys");
    let key_algs: BTreeSet<&str> = keys
        .iter()
        .map(|k| k["alg"].as_str().unwrap_or_else(|| panic!("no alg: {k}")))
        .collect();
    assert_eq!(algs, key_algs, "{jwks}");
    let kids: BTreeSet<&str> = keys.iter().filter_map(|k| k["kid"].as_str()).collect();
    for key in keys {
        assert!(key.get("d").is_none(), "a private key is published: {key}");
    }

    app.user("alice");
    let client = app.client();
    let tokens = tokens_for(app, &client, "alice", "openid").await;
    let header = jwt_part(s(&tokens, "id_token"), 0);
    assert_eq!(header["alg"], expected, "{header}");
    let kid = header["kid"].as_str().expect("a kid");
    assert!(kids.contains(kid), "{kid} is not in the JWKS: {jwks}");
}

fn redirects_carry_iss_as_advertised(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user("alice");
        let doc = metadata(&app).await;
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        let issuer = app.issuer();
        let client = app.client();
        let browser = app.browser();

        // A validation error, before anyone logs in.
        let reply = browser
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query("scope=admin&state=s")
            ))
            .await;
        let params = redirect_params(&reply.location(), CB);
        assert_eq!(param(&params, "error"), Some("invalid_scope"));
        assert_eq!(param(&params, "iss"), Some(issuer), "{params:?}");
        // prompt=none without a login.
        let reply = browser
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query("scope=openid&state=s&prompt=none")
            ))
            .await;
        let params = redirect_params(&reply.location(), CB);
        assert_eq!(param(&params, "error"), Some("login_required"));
        assert_eq!(param(&params, "iss"), Some(issuer), "{params:?}");
        // A code.
        let params = browser
            .authorize_and_allow(
                "/oauth/authorize",
                &client.authorize_query("scope=openid&state=s"),
                "alice",
            )
            .await;
        assert!(param(&params, "code").is_some());
        assert_eq!(param(&params, "iss"), Some(issuer), "{params:?}");
        // A refusal.
        let consent = browser
            .get(&format!(
                "/oauth/authorize?{}",
                client.authorize_query("scope=openid&state=s")
            ))
            .await;
        let reply = browser.decide(&consent, "deny").await;
        let params = redirect_params(&reply.location(), CB);
        assert_eq!(param(&params, "error"), Some("access_denied"));
        assert_eq!(param(&params, "iss"), Some(issuer), "{params:?}");
        // The implicit grant's fragment.
        let implicit = implicit_client(&app);
        let location = final_redirect(
            &browser,
            &implicit_query(&implicit, "scope=openid&state=s"),
            "alice",
        )
        .await;
        let params = fragment_params(&location);
        assert_eq!(param(&params, "iss"), Some(issuer), "{params:?}");
    });
}

fn protected_resource_metadata_names_the_issuer_as_its_authorization_server(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        let prm = document(&app, PROTECTED_RESOURCE).await;
        // RFC 9728 §3.3: the resource is the identifier the well-known
        // path was inserted into, here the server's origin.
        assert_eq!(s(&prm, "resource"), app.base, "{prm}");
        let servers = list(&prm, "authorization_servers");
        assert!(servers.contains(&app.issuer()), "{prm}");
        // Each authorization server named publishes its own metadata there
        // (RFC 8414 §3).
        for server in servers {
            let doc = get(&app, &format!("{server}{RFC8414}")).await;
            assert_eq!(doc.status, StatusCode::OK, "{server}: {}", doc.body);
            assert_eq!(doc.json()["issuer"], server);
        }
        if let Some(jwks) = prm["jwks_uri"].as_str() {
            assert_eq!(get(&app, jwks).await.status, StatusCode::OK, "{jwks}");
        }
    });
}
