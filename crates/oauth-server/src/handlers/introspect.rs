//! Token introspection (RFC 7662) on `POST /oauth/introspect` and Frappe's
//! `frappe.integrations.oauth2.introspect_token`.
//!
//! The caller must authenticate as a client (Frappe's open endpoint is a
//! known hole): anyone holding a token could otherwise learn who it belongs
//! to. Any authenticated confidential client may introspect any token,
//! since resource servers check tokens issued to other clients. Inactive,
//! expired, revoked or unknown tokens all answer exactly `{"active":false}`
//! (§2.2), so the answer reveals nothing about why.

use actix_web::{HttpRequest, HttpResponse, web};
use oauth_core::error::TokenErrorCode as Code;
use oauth_core::token::TokenError;
use oauth_core::{Timestamp, Token};
use oauth_store::{grants, tokens, users};
use serde::Serialize;

use super::token::form_and_client;
use crate::errors::{Internal, no_store, token_error};
use crate::state::AppState;

/// An active token's description (RFC 7662 §2.2).
#[derive(Debug, Serialize)]
struct Active {
    active: bool,
    scope: String,
    client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    token_type: &'static str,
    exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    sub: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    aud: Vec<String>,
    iss: String,
}

pub async fn introspect(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, Internal> {
    let (params, client) = match form_and_client(&req, &state, &body).await? {
        Ok(v) => v,
        Err(answer) => return Ok(answer),
    };
    if client.metadata.is_public() {
        let e = TokenError::new(
            Code::InvalidClient,
            "introspection needs a confidential client",
        );
        return Ok(token_error(&e, &state.config.issuer));
    }
    let token = match params.get("token") {
        Ok(Some(t)) => t.to_owned(),
        Ok(None) => {
            let e = TokenError::new(Code::InvalidRequest, "the token parameter is missing");
            return Ok(token_error(&e, &state.config.issuer));
        }
        Err(d) => {
            return Ok(token_error(
                &TokenError::new(Code::InvalidRequest, d.to_string()),
                &state.config.issuer,
            ));
        }
    };
    let now = state.now();
    let issuer = state.config.issuer.clone();
    let answer = match Token::presented(token) {
        Err(_) => None,
        Ok(token) => {
            state
                .db(move |conn| describe(conn, &token, now, issuer))
                .await?
        }
    };
    let mut r = HttpResponse::Ok();
    no_store(&mut r);
    Ok(match answer {
        Some(active) => r.json(active),
        None => r.json(serde_json::json!({ "active": false })),
    })
}

/// Describes an access or refresh token that is usable now, else `None`,
/// and records the use on its grant (for the user's "Authorized apps").
fn describe(
    conn: &mut oauth_store::DbConnection,
    token: &Token,
    now: Timestamp,
    issuer: String,
) -> Result<Option<Active>, oauth_store::StoreError> {
    let digest = token.digest();
    if let Some(access) = tokens::active_access(conn, &digest, now)? {
        let t = access.token;
        grants::touch(conn, &t.grant_id, now)?;
        return Ok(Some(Active {
            active: true,
            scope: t.scopes.to_string(),
            sub: t.subject(),
            client_id: t.client_id.to_string(),
            username: access.username.map(|u| u.to_string()),
            token_type: "Bearer",
            exp: t.expires_at.unix(),
            iat: Some(t.created_at.unix()),
            aud: t.audience,
            iss: issuer,
        }));
    }
    let Some(t) = tokens::find_refresh(conn, &digest)? else {
        return Ok(None);
    };
    if t.revoked || t.rotated || now >= t.expires_at {
        return Ok(None);
    }
    let (sub, username) = match &t.user_id {
        Some(id) => match users::find_by_id(conn, id)? {
            Some(user) if user.enabled => (user.id.to_string(), Some(user.username.to_string())),
            _ => return Ok(None),
        },
        None => (t.client_id.to_string(), None),
    };
    grants::touch(conn, &t.grant_id, now)?;
    Ok(Some(Active {
        active: true,
        scope: t.scopes.to_string(),
        client_id: t.client_id.to_string(),
        username,
        token_type: "refresh_token",
        exp: t.expires_at.unix(),
        iat: None,
        sub,
        aud: Vec::new(),
        iss: issuer,
    }))
}
