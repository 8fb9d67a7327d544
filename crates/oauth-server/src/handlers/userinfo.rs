//! The UserInfo endpoint (OpenID Connect Core §5.3) on `GET`/`POST
//! /oauth/userinfo` and Frappe's `frappe.integrations.oauth2.openid_profile`:
//! a protected resource, answering RFC 6750 errors.
//!
//! The access token comes in the `Authorization: Bearer` header or, on
//! `POST`, in the form body (RFC 6750 §2.1, §2.2). The query string is not
//! accepted (§2.3 discourages it: URLs end up in logs).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use oauth_core::Token;
use oauth_core::bearer::{Challenge, MalformedRequest, Presented, header_text, locate};
use oauth_core::claims::UserClaims;
use oauth_core::error::BearerErrorCode;
use oauth_core::params::Params;
use oauth_store::{grants, tokens, users};

use super::{MAX_FORM_BYTES, form_params, is_form};
use crate::errors::{Internal, bearer_error, no_store};
use crate::state::AppState;

pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Internal> {
    serve(&req, &state, None).await
}

pub async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, Internal> {
    let form = if is_form(&req) && body.len() <= MAX_FORM_BYTES {
        form_params(&body).map(|(_, p)| p)
    } else {
        None
    };
    serve(&req, &state, form).await
}

async fn serve(
    req: &HttpRequest,
    state: &AppState,
    form: Option<Params>,
) -> Result<HttpResponse, Internal> {
    let challenge = |error: Option<BearerErrorCode>, description: &str| Challenge {
        realm: state.config.issuer.clone(),
        error,
        error_description: error.map(|_| description.to_owned()),
        scope: None,
        resource_metadata: None,
    };
    let invalid_request = |d: &str| {
        bearer_error(
            StatusCode::BAD_REQUEST,
            &challenge(Some(BearerErrorCode::InvalidRequest), d),
        )
    };
    let invalid_token = || {
        bearer_error(
            StatusCode::UNAUTHORIZED,
            &challenge(
                Some(BearerErrorCode::InvalidToken),
                "the access token is invalid, expired or revoked",
            ),
        )
    };

    let authorization: Vec<&str> = req
        .headers()
        .get_all(actix_web::http::header::AUTHORIZATION)
        .map(|v| header_text(v.as_bytes()))
        .collect();
    let query = Params::parse(req.query_string());
    let located = locate(Presented {
        authorization: &authorization,
        query: &query,
        form: form.as_ref(),
        query_allowed: false,
    });
    let token = match located {
        Err(MalformedRequest(d)) => return Ok(invalid_request(d)),
        Ok(None) => return Ok(bearer_error(StatusCode::UNAUTHORIZED, &challenge(None, ""))),
        Ok(Some(t)) => t.to_owned(),
    };
    let Ok(token) = Token::presented(token) else {
        return Ok(invalid_token());
    };

    let now = state.now();
    let digest = token.digest();
    let found = state
        .db(move |conn| {
            let Some(access) = tokens::find_access(conn, &digest)? else {
                return Ok(None);
            };
            let Some(user_id) = access.user_id.clone() else {
                return Ok(Some((access, None)));
            };
            let user = users::find_by_id(conn, &user_id)?;
            if access.is_active(now) && user.as_ref().is_some_and(|u| u.enabled) {
                grants::touch(conn, &access.grant_id, now)?;
            }
            Ok(Some((access, user)))
        })
        .await?;
    let (access, user) = match found {
        Some((access, Some(user))) if access.is_active(now) && user.enabled => (access, user),
        _ => return Ok(invalid_token()),
    };
    if !access.scopes.contains("openid") {
        let mut c = challenge(
            Some(BearerErrorCode::InsufficientScope),
            "userinfo needs the openid scope",
        );
        c.scope = Some("openid".to_owned());
        return Ok(bearer_error(StatusCode::FORBIDDEN, &c));
    }
    let mut r = HttpResponse::Ok();
    no_store(&mut r);
    Ok(r.json(UserClaims::for_scopes(&user, &access.scopes)))
}
