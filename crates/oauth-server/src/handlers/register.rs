//! Dynamic client registration (RFC 7591) on `POST /oauth/register` and
//! Frappe's `frappe.integrations.oauth2.register_client`, and its management
//! protocol (RFC 7592) on `GET`/`PUT`/`DELETE /oauth/register/{client_id}`.
//!
//! The rules live in `oauth_core::registration`; this module reads JSON
//! bodies, limits registrations per client IP (`rate_limit.rs`), generates the client id,
//! secret and registration access token, and stores their digests. The
//! registration access token is 256 bits, stored only as its SHA-256
//! digest, and found by digest; it does not rotate. Every response is
//! `Cache-Control: no-store`. With `registration.enabled = false` every
//! route here answers 404.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use oauth_core::bearer::{BearerHeader, Challenge, parse_authorization};
use oauth_core::error::BearerErrorCode;
use oauth_core::registration::{
    ClientInformation, RegistrationError, RegistrationPolicy, RegistrationRequest, SecretChange,
};
use oauth_core::{Client, ClientId, ClientSecret, Token};
use oauth_store::{StoreError, clients, write_transaction};

use super::authorization;
use crate::errors::{Internal, bearer_error, json_error, no_store};
use crate::rate_limit::Bucket;
use crate::state::AppState;

/// Frappe's path for registration.
pub const FRAPPE_REGISTER: &str = "/api/method/frappe.integrations.oauth2.register_client";

/// The standard registration endpoint; a client's own registration is
/// under it (`/oauth/register/{client_id}`).
pub const REGISTER: &str = "/oauth/register";

/// Registers the registration routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource([REGISTER, FRAPPE_REGISTER])
            .route(web::post().to(register))
            .default_service(web::to(register_method_not_allowed)),
    )
    .service(
        web::resource("/oauth/register/{client_id}")
            .route(web::get().to(read))
            .route(web::put().to(update))
            .route(web::delete().to(delete))
            .default_service(web::to(manage_method_not_allowed)),
    );
}

/// `POST /oauth/register`: RFC 7591 §3.1. Answers 201 with the client
/// information response, which holds the client secret (confidential
/// clients) and the registration access token, both shown this once.
pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, Internal> {
    if !state.config.registration.enabled {
        return Ok(disabled());
    }
    if let Some(refusal) = state.limits.refusal(Bucket::Registration, &state, &req) {
        return Ok(refusal);
    }
    let metadata =
        match read_json(&req, &body).and_then(|r| r.to_metadata(&RegistrationPolicy::default())) {
            Ok(m) => m,
            Err(e) => return Ok(registration_error(&e)),
        };
    let (client, secret, token) = {
        let mut rng = rand::rng();
        let (client, secret) = Client::create(metadata, &mut rng, state.now());
        (client, secret, Token::generate(&mut rng))
    };
    let stored = client.clone();
    let digest = token.digest();
    state
        .db(move |conn| clients::create_registered(conn, &stored, &digest))
        .await?;
    tracing::info!(event = "client_registered", client_id = %client.id, "client registered");
    let uri = registration_client_uri(&state, &client.id);
    Ok(information(
        StatusCode::CREATED,
        &ClientInformation {
            client: &client,
            client_secret: secret.as_ref(),
            registration_access_token: &token,
            registration_client_uri: &uri,
        },
    ))
}

/// `GET /oauth/register/{client_id}`: RFC 7592 §2.1.
pub async fn read(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Internal> {
    if !state.config.registration.enabled {
        return Ok(disabled());
    }
    let Some(token) = presented_token(&req) else {
        return Ok(invalid_token(&state));
    };
    let digest = token.digest();
    let client = state
        .db(move |conn| clients::find_by_registration_token(conn, &digest))
        .await?;
    match client {
        Some(client) if client.id.as_str() == path.as_str() => {
            let uri = registration_client_uri(&state, &client.id);
            Ok(information(
                StatusCode::OK,
                &ClientInformation {
                    client: &client,
                    client_secret: None,
                    registration_access_token: &token,
                    registration_client_uri: &uri,
                },
            ))
        }
        _ => Ok(invalid_token(&state)),
    }
}

/// `PUT /oauth/register/{client_id}`: RFC 7592 §2.2. The body replaces the
/// registered metadata (see `RegistrationRequest::to_update`); the token is
/// checked before the body is judged.
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Internal> {
    if !state.config.registration.enabled {
        return Ok(disabled());
    }
    let Some(token) = presented_token(&req) else {
        return Ok(invalid_token(&state));
    };
    let request = read_json(&req, &body);
    let digest = token.digest();
    let path_id = path.into_inner();
    let now = state.now();
    let outcome = state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                let Some(current) = clients::find_by_registration_token(conn, &digest)? else {
                    return Ok(Updated::Unauthorized);
                };
                if current.id.as_str() != path_id {
                    return Ok(Updated::Unauthorized);
                }
                let change = match request
                    .and_then(|r| r.to_update(&current, &RegistrationPolicy::default()))
                {
                    Ok(change) => change,
                    Err(e) => return Ok(Updated::Invalid(e)),
                };
                // A secret issued here replaces the old one at once: RFC
                // 7592 has no grace period (that is `oauthctl`'s).
                let (secret_digest, previous_secret, secret) = match change.secret {
                    SecretChange::Keep => (
                        current.secret_digest.clone(),
                        current.previous_secret.clone(),
                        None,
                    ),
                    SecretChange::Drop => (None, None, None),
                    SecretChange::Issue => {
                        let secret = ClientSecret::generate(&mut rand::rng());
                        (Some(secret.digest()), None, Some(secret))
                    }
                };
                let client = Client {
                    id: current.id,
                    metadata: change.metadata,
                    secret_digest,
                    previous_secret,
                    created_at: current.created_at,
                    updated_at: now,
                };
                clients::update(conn, &client)?;
                Ok::<_, StoreError>(Updated::Done(Box::new(client), secret))
            })
        })
        .await?;
    match outcome {
        Updated::Unauthorized => Ok(invalid_token(&state)),
        Updated::Invalid(e) => Ok(registration_error(&e)),
        Updated::Done(client, secret) => {
            tracing::info!(
                event = "client_registration_updated",
                client_id = %client.id,
                secret_issued = secret.is_some(),
                "client registration updated"
            );
            let uri = registration_client_uri(&state, &client.id);
            Ok(information(
                StatusCode::OK,
                &ClientInformation {
                    client: &client,
                    client_secret: secret.as_ref(),
                    registration_access_token: &token,
                    registration_client_uri: &uri,
                },
            ))
        }
    }
}

/// `DELETE /oauth/register/{client_id}`: RFC 7592 §2.3. The client's codes,
/// grants, tokens and consents go with it.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Internal> {
    if !state.config.registration.enabled {
        return Ok(disabled());
    }
    let Some(token) = presented_token(&req) else {
        return Ok(invalid_token(&state));
    };
    let digest = token.digest();
    let path_id = path.into_inner();
    let deleted = state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                match clients::find_by_registration_token(conn, &digest)? {
                    Some(client) if client.id.as_str() == path_id => {
                        clients::delete(conn, &client.id)?;
                        Ok::<_, StoreError>(Some(client.id))
                    }
                    _ => Ok(None),
                }
            })
        })
        .await?;
    match deleted {
        Some(id) => {
            tracing::info!(event = "client_registration_deleted", client_id = %id, "client deleted");
            let mut r = HttpResponse::NoContent();
            no_store(&mut r);
            Ok(r.finish())
        }
        None => Ok(invalid_token(&state)),
    }
}

/// Anything but `POST` on the registration endpoint.
async fn register_method_not_allowed(state: web::Data<AppState>) -> HttpResponse {
    method_not_allowed(&state, "POST", "use POST with a JSON body")
}

/// Anything but `GET`, `PUT` or `DELETE` on a client's registration.
async fn manage_method_not_allowed(state: web::Data<AppState>) -> HttpResponse {
    method_not_allowed(&state, "GET, PUT, DELETE", "use GET, PUT or DELETE")
}

/// What a PUT came to, decided inside its transaction.
enum Updated {
    Unauthorized,
    Invalid(RegistrationError),
    Done(Box<Client>, Option<ClientSecret>),
}

/// The body as a registration request: `application/json`, a JSON object.
fn read_json(req: &HttpRequest, body: &[u8]) -> Result<RegistrationRequest, RegistrationError> {
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(RegistrationError::metadata(
            "the body must be application/json",
        ));
    }
    RegistrationRequest::from_json(body)
}

/// The registration access token from `Authorization: Bearer`; `None` when
/// there is none or it cannot be one of ours.
fn presented_token(req: &HttpRequest) -> Option<Token> {
    match authorization(req).map(parse_authorization) {
        Some(BearerHeader::Token(t)) => Token::presented(t).ok(),
        _ => None,
    }
}

/// `<issuer>/oauth/register/<client_id>`.
fn registration_client_uri(state: &AppState, id: &ClientId) -> String {
    format!("{}{REGISTER}/{id}", state.config.issuer)
}

fn information(status: StatusCode, info: &ClientInformation<'_>) -> HttpResponse {
    let mut r = HttpResponse::build(status);
    no_store(&mut r);
    r.json(info)
}

/// 400 with the RFC 7591 §3.2.2 error.
fn registration_error(e: &RegistrationError) -> HttpResponse {
    json_error(StatusCode::BAD_REQUEST, e.code.as_str(), &e.description)
}

/// 401 with an RFC 6750 challenge: the registration access token is
/// missing, wrong, or not this client's (RFC 7592 §2).
fn invalid_token(state: &AppState) -> HttpResponse {
    bearer_error(
        StatusCode::UNAUTHORIZED,
        &Challenge {
            realm: state.config.issuer.clone(),
            error: Some(BearerErrorCode::InvalidToken),
            error_description: Some(
                "a valid registration access token for this client is required".to_owned(),
            ),
            scope: None,
            resource_metadata: None,
        },
    )
}

fn disabled() -> HttpResponse {
    json_error(
        StatusCode::NOT_FOUND,
        "not_found",
        "dynamic client registration is disabled on this server",
    )
}

fn method_not_allowed(state: &AppState, allow: &'static str, hint: &str) -> HttpResponse {
    if !state.config.registration.enabled {
        return disabled();
    }
    let mut r = json_error(StatusCode::METHOD_NOT_ALLOWED, "invalid_request", hint);
    r.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static(allow));
    r
}
