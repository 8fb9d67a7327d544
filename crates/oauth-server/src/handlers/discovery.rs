//! Metadata and keys: OpenID Connect Discovery 1.0 (`/.well-known/openid-
//! configuration`), RFC 8414 (`/.well-known/oauth-authorization-server`),
//! RFC 9728 (`/.well-known/oauth-protected-resource`, for this server's own
//! userinfo) and the JWKS (`/oauth/jwks`).
//!
//! Everything listed here works: each value is what the endpoints really
//! accept, and a test checks the metadata against them.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use oauth_core::claims::KNOWN_SCOPES;
use serde_json::{Value, json};

use crate::app::frappe;
use crate::errors::Internal;
use crate::state::AppState;

/// Claims this server can put in ID tokens and userinfo.
const CLAIMS: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "azp",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "picture",
    "updated_at",
    "email",
    "email_verified",
    "roles",
];

/// The metadata document; the same for both well-known paths (RFC 8414
/// §3 lets an OpenID Provider serve its document at both).
pub async fn metadata(state: web::Data<AppState>) -> Result<HttpResponse, Internal> {
    let algs: Vec<&str> = state
        .keys
        .algorithms(&state)
        .await?
        .iter()
        .map(|a| a.as_str())
        .collect();
    Ok(cached_json(document(&state, &algs)))
}

fn document(state: &AppState, signing_algs: &[&str]) -> Value {
    let issuer = &state.config.issuer;
    let url = |path: &str| format!("{issuer}{path}");
    let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
    let confidential_methods = ["client_secret_basic", "client_secret_post"];
    let mut doc = json!({
        "issuer": issuer,
        "authorization_endpoint": url("/oauth/authorize"),
        "token_endpoint": url("/oauth/token"),
        "userinfo_endpoint": url("/oauth/userinfo"),
        "jwks_uri": url("/oauth/jwks"),
        "revocation_endpoint": url("/oauth/revoke"),
        "introspection_endpoint": url("/oauth/introspect"),
        "scopes_supported": KNOWN_SCOPES.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        "response_types_supported": ["code", "token"],
        "response_modes_supported": ["query", "fragment"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "implicit"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": signing_algs,
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": confidential_methods,
        "code_challenge_methods_supported": ["S256", "plain"],
        "claims_supported": CLAIMS,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": false,
        "authorization_response_iss_parameter_supported": true,
        "frappe_endpoints": {
            "authorization_endpoint": url(frappe::AUTHORIZE),
            "token_endpoint": url(frappe::TOKEN),
            "revocation_endpoint": url(frappe::REVOKE),
            "introspection_endpoint": url(frappe::INTROSPECT),
            "userinfo_endpoint": url(frappe::USERINFO),
        },
    });
    if state.config.registration.enabled {
        doc["registration_endpoint"] = url("/oauth/register").into();
    }
    doc
}

/// RFC 9728 metadata for this server's own protected resource, userinfo.
pub async fn protected_resource(state: web::Data<AppState>) -> HttpResponse {
    let issuer = &state.config.issuer;
    cached_json(json!({
        "resource": issuer,
        "authorization_servers": [issuer],
        "jwks_uri": format!("{issuer}/oauth/jwks"),
        "scopes_supported": ["openid", "profile", "email", "roles"],
        "bearer_methods_supported": ["header", "body"],
        "resource_name": "OpenID Connect UserInfo",
    }))
}

/// The JWK set: public signing keys, including retired ones whose tokens
/// may still be valid.
pub async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, Internal> {
    Ok(HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={}", crate::keyring::JWKS_MAX_AGE.as_secs()),
        ))
        .json(state.keys.jwks(&state).await?))
}

fn cached_json(value: Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(value)
}
