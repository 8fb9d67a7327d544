//! Token revocation (RFC 7009) on `POST /oauth/revoke`, and Frappe's
//! `frappe.integrations.oauth2.revoke_token` with the seed's answers.
//!
//! Revoking an access token ends that token; revoking a refresh token ends
//! its whole grant, access tokens included (RFC 7009 §2.1 allows, and RFC
//! 9700 §4.14 recommends, tying them together). A token the server does not
//! know is answered with 200 (§2.2), so revocation reveals nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use oauth_core::error::TokenErrorCode as Code;
use oauth_core::params::Params;
use oauth_core::token::TokenError;
use oauth_core::{ClientId, Timestamp, Token};
use oauth_store::{DbConnection, StoreError, grants, tokens};

use super::authorization;
use super::token::{authenticate_client, form_and_client, read_form};
use crate::errors::{Internal, json_error, no_store, token_error};
use crate::state::AppState;

/// What revoking found.
#[derive(Debug, PartialEq, Eq)]
enum Revoked {
    /// Revoked, or not a token of ours: nothing more to say.
    Done,
    /// The token belongs to another client and was left alone.
    OtherClient,
}

/// `POST /oauth/revoke`: RFC 7009, with client authentication.
pub async fn standard(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, Internal> {
    let (params, client) = match form_and_client(&req, &state, &body).await? {
        Ok(v) => v,
        Err(answer) => return Ok(answer),
    };
    let (token, hint) = match token_and_hint(&params) {
        Ok(v) => v,
        Err(e) => return Ok(token_error(&e, &state.config.issuer)),
    };
    let now = state.now();
    let client_id = client.id.clone();
    let revoked = state
        .db(move |conn| revoke(conn, &token, hint, Some(&client_id), now))
        .await?;
    Ok(match revoked {
        Revoked::Done => {
            let mut r = HttpResponse::Ok();
            no_store(&mut r);
            r.finish()
        }
        // RFC 7009 §2.1: the token must have been issued to the client
        // asking; otherwise the request is refused.
        Revoked::OtherClient => json_error(
            StatusCode::BAD_REQUEST,
            Code::UnauthorizedClient.as_str(),
            "the token was not issued to this client",
        ),
    })
}

/// Frappe's path: `{"message": "success"}` or 400 `{"message": "bad
/// request"}`, as the seed documents. The seed sends only `token`, so client
/// credentials are optional here: whoever holds a token may end it. When
/// credentials are sent they must be right, and then only the client's own
/// tokens are revoked.
pub async fn frappe(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, Internal> {
    let bad = || {
        let mut r = HttpResponse::BadRequest();
        no_store(&mut r);
        r.json(serde_json::json!({ "message": "bad request" }))
    };
    let Ok(params) = read_form(&req, &body) else {
        return Ok(bad());
    };
    let Ok((token, hint)) = token_and_hint(&params) else {
        return Ok(bad());
    };
    let sent_credentials = authorization(&req).is_some() || params.contains("client_id");
    let client_id = if sent_credentials {
        match authenticate_client(&state, authorization(&req), &params).await? {
            Ok(client) => Some(client.id),
            Err(_) => return Ok(bad()),
        }
    } else {
        None
    };
    let now = state.now();
    let revoked = state
        .db(move |conn| revoke(conn, &token, hint, client_id.as_ref(), now))
        .await?;
    if revoked != Revoked::Done {
        return Ok(bad());
    }
    let mut r = HttpResponse::Ok();
    no_store(&mut r);
    Ok(r.json(serde_json::json!({ "message": "success" })))
}

/// Which kind of token the client says it is (RFC 7009 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hint {
    Access,
    Refresh,
}

fn token_and_hint(params: &Params) -> Result<(Token, Option<Hint>), TokenError> {
    let dup =
        |d: oauth_core::params::Duplicate| TokenError::new(Code::InvalidRequest, d.to_string());
    let token = params
        .get("token")
        .map_err(dup)?
        .ok_or_else(|| TokenError::new(Code::InvalidRequest, "the token parameter is missing"))?;
    // An unknown hint is ignored: the server searches every kind anyway.
    let hint = match params.get("token_type_hint").map_err(dup)? {
        Some("access_token") => Some(Hint::Access),
        Some("refresh_token") => Some(Hint::Refresh),
        _ => None,
    };
    let token = Token::presented(token)
        .map_err(|_| TokenError::new(Code::InvalidRequest, "the token is malformed"))?;
    Ok((token, hint))
}

/// Revokes `token` if it is an access or refresh token of `client` (any
/// client when `None`), looking first where the hint points.
fn revoke(
    conn: &mut DbConnection,
    token: &Token,
    hint: Option<Hint>,
    client: Option<&ClientId>,
    now: Timestamp,
) -> Result<Revoked, StoreError> {
    let digest = token.digest();
    let order = match hint {
        Some(Hint::Refresh) => [Hint::Refresh, Hint::Access],
        _ => [Hint::Access, Hint::Refresh],
    };
    let owned = |owner: &ClientId| client.is_none_or(|c| c == owner);
    for kind in order {
        match kind {
            Hint::Access => {
                if let Some(found) = tokens::find_access(conn, &digest)? {
                    if !owned(&found.client_id) {
                        return Ok(Revoked::OtherClient);
                    }
                    tokens::revoke_access(conn, &digest, now)?;
                    return Ok(Revoked::Done);
                }
            }
            Hint::Refresh => {
                if let Some(found) = tokens::find_refresh(conn, &digest)? {
                    if !owned(&found.client_id) {
                        return Ok(Revoked::OtherClient);
                    }
                    grants::revoke(conn, &found.grant_id, now)?;
                    return Ok(Revoked::Done);
                }
            }
        }
    }
    Ok(Revoked::Done)
}
