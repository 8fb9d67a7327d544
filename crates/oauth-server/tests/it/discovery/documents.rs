//! The documents themselves: both well-known documents, the issuer named
//! byte for byte everywhere, every advertised endpoint answering, the
//! registration switch, and the protected resource metadata (RFC 9728).

use oauth_store::test_support::TestDb;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::introspect::describe;
use crate::support::*;

use super::{OIDC, document, get, list, metadata, s};

oauth_store::test_on_both_backends!(
    both_well_known_documents_are_equal,
    the_issuer_is_byte_identical_to_the_configured_one_everywhere,
    every_advertised_endpoint_answers_its_method,
    every_advertised_frappe_endpoint_answers_its_method,
    registration_endpoint_is_advertised_only_when_registration_is_enabled,
    protected_resource_metadata_names_the_issuer_as_its_authorization_server,
);

const RFC8414: &str = "/.well-known/oauth-authorization-server";
const PROTECTED_RESOURCE: &str = "/.well-known/oauth-protected-resource";

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
            post_anonymous(
                app,
                url,
                &[("grant_type", "authorization_code"), ("code", "abc")],
            )
            .await
        }
        Endpoint::Revocation | Endpoint::FrappeRevocation | Endpoint::Introspection => {
            post_anonymous(app, url, &[("token", "abc")]).await
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
