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
use oauth_core::bearer::{BearerHeader, Challenge, parse_authorization};
use oauth_core::claims::UserClaims;
use oauth_core::error::BearerErrorCode;
use oauth_core::params::Params;
use oauth_store::{grants, tokens, users};

use super::{MAX_FORM_BYTES, authorization, form_params, is_form};
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

    if Params::parse(req.query_string()).contains("access_token") {
        return Ok(invalid_request(
            "access tokens are not accepted in the query string",
        ));
    }
    let from_header = match authorization(req).map(parse_authorization) {
        None | Some(BearerHeader::OtherScheme) => None,
        Some(BearerHeader::Malformed) => {
            return Ok(invalid_request("the Authorization header is malformed"));
        }
        Some(BearerHeader::Token(t)) => Some(t.to_owned()),
    };
    let from_body = match form.as_ref().map(|f| f.get("access_token")) {
        None | Some(Ok(None)) => None,
        Some(Err(_)) => return Ok(invalid_request("access_token was sent more than once")),
        Some(Ok(Some(t))) => Some(t.to_owned()),
    };
    let token = match (from_header, from_body) {
        (Some(_), Some(_)) => {
            return Ok(invalid_request(
                "use one way of sending the access token, not two",
            ));
        }
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => return Ok(bearer_error(StatusCode::UNAUTHORIZED, &challenge(None, ""))),
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
