//! The token endpoint (RFC 6749 §3.2), on `POST /oauth/token` and Frappe's
//! `frappe.integrations.oauth2.get_token`: form bodies only, every
//! response `Cache-Control: no-store`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use oauth_core::Client;
use oauth_core::client_auth::{self, PresentedClient};
use oauth_core::error::TokenErrorCode as Code;
use oauth_core::params::Params;
use oauth_core::token::{TokenError, TokenRequest};
use oauth_store::clients;

use super::{MAX_FORM_BYTES, authorization, form_params, is_form};
use crate::errors::{Internal, json_error, no_store, token_error};
use crate::grants::{self, GrantContext};
use crate::state::AppState;

/// `POST`.
pub async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, Internal> {
    let realm = &state.config.issuer;
    let (params, client) = match form_and_client(&req, &state, &body).await? {
        Ok(v) => v,
        Err(answer) => return Ok(answer),
    };
    let request = match TokenRequest::parse(&params) {
        Ok(r) => r,
        Err(e) => return Ok(token_error(&e, realm)),
    };
    if !client.metadata.allows_grant(request.grant_type()) {
        let e = TokenError::new(
            Code::UnauthorizedClient,
            format!("this client may not use the {} grant", request.grant_type()),
        );
        return Ok(token_error(&e, realm));
    }
    let ctx = GrantContext {
        lifetimes: state.config.lifetimes.clone(),
        issuer: state.config.issuer.clone(),
        signer: state.keys.signer(&state, state.config.signing_alg).await?,
    };
    let now = state.now();
    let outcome = state
        .db(move |conn| match &request {
            TokenRequest::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
                resources,
            } => {
                let request = grants::authorization_code::CodeRequest {
                    code,
                    redirect_uri: redirect_uri.as_deref(),
                    verifier: code_verifier.as_ref(),
                    resources,
                };
                grants::authorization_code::exchange(conn, &ctx, &client, request, now)
            }
            TokenRequest::RefreshToken {
                refresh_token,
                scope,
                resources,
            } => grants::refresh_token::exchange(
                conn,
                &ctx,
                &client,
                refresh_token,
                scope.as_ref(),
                resources,
                now,
            ),
            TokenRequest::ClientCredentials { scope, resources } => {
                grants::client_credentials::exchange(
                    conn,
                    &ctx,
                    &client,
                    scope.as_ref(),
                    resources,
                    now,
                )
            }
        })
        .await?;
    Ok(match outcome {
        Ok(response) => {
            let mut r = HttpResponse::Ok();
            no_store(&mut r);
            r.json(response)
        }
        Err(e) => token_error(&e, realm),
    })
}

/// Anything but `POST`: 405 with an RFC 6749 error body.
pub async fn method_not_allowed() -> HttpResponse {
    let mut r = json_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request",
        "use POST with a form body",
    );
    r.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    r
}

/// The form parameters of a token, revocation or introspection request:
/// `application/x-www-form-urlencoded` (RFC 6749 §3.2), UTF-8, bounded.
pub(crate) fn read_form(req: &HttpRequest, body: &[u8]) -> Result<Params, TokenError> {
    if !is_form(req) {
        return Err(TokenError::new(
            Code::InvalidRequest,
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    if body.len() > MAX_FORM_BYTES {
        return Err(TokenError::new(
            Code::InvalidRequest,
            "the body is too large",
        ));
    }
    form_params(body)
        .map(|(_, params)| params)
        .ok_or_else(|| TokenError::new(Code::InvalidRequest, "the body is not valid UTF-8"))
}

/// Reads a token, revocation or introspection request's form and
/// authenticates its client; or the error answer when either fails.
pub(crate) async fn form_and_client(
    req: &HttpRequest,
    state: &AppState,
    body: &[u8],
) -> Result<Result<(Params, Client), HttpResponse>, Internal> {
    let realm = &state.config.issuer;
    let params = match read_form(req, body) {
        Ok(params) => params,
        Err(e) => return Ok(Err(token_error(&e, realm))),
    };
    match authenticate_client(state, authorization(req), &params).await? {
        Ok(client) => Ok(Ok((params, client))),
        Err(e) => {
            tracing::info!(
                event = "client_auth_failed",
                path = req.path(),
                "client authentication failed"
            );
            Ok(Err(token_error(&e, realm)))
        }
    }
}

/// Finds and authenticates the client a request presents (RFC 6749 §2.3).
pub(crate) async fn authenticate_client(
    state: &AppState,
    authorization: Option<&str>,
    params: &Params,
) -> Result<Result<Client, TokenError>, Internal> {
    let presented: PresentedClient = match client_auth::presented(authorization, params) {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let id = presented.client_id.clone();
    let Some(client) = state.db(move |conn| clients::find(conn, &id)).await? else {
        return Ok(Err(TokenError::new(
            Code::InvalidClient,
            "client authentication failed",
        )));
    };
    Ok(client_auth::authenticate(&client, &presented, state.now()).map(|()| client))
}
