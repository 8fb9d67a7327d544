//! The consent dialog's answer: `POST /oauth/authorize/decision`.
//!
//! The form carries the session's CSRF token, the dialog's one-time
//! consent token, and the authorization request it is about. The decision
//! counts only in the session that saw the dialog, for the user who saw
//! it, once; the request is validated again, since the client may have
//! changed meanwhile.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use oauth_core::authorize::ConsentMode;
use oauth_core::error::AuthorizeErrorCode as Code;
use oauth_store::{consents, users};
use serde::Deserialize;

use super::authorize::{Validated, grant, load_and_validate, redirect_error};
use super::login::forbidden;
use crate::errors::{Internal, error_page};
use crate::session;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct DecisionForm {
    csrf_token: Option<String>,
    consent_token: Option<String>,
    request: Option<String>,
    decision: Option<String>,
}

pub async fn decide(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, Internal> {
    let form = form.into_inner();
    if !session::check_csrf(&session, form.csrf_token.as_deref()) {
        return forbidden(&state);
    }
    let raw = form.request.unwrap_or_default();
    let now = state.now();
    let Some(login) = session::login(&state, &session).await? else {
        return expired(&state);
    };
    let token = form.consent_token.as_deref().unwrap_or("");
    if !session::take_consent(&state, &session, token, &raw, &login.user_id).await? {
        return expired(&state);
    }
    let (client, request) = match load_and_validate(&state, &raw).await? {
        Validated::Request(client, request) => (client, *request),
        Validated::Answer(response) => return Ok(response),
    };
    let id = login.user_id.clone();
    let Some(user) = state
        .db(move |conn| users::find_by_id(conn, &id))
        .await?
        .filter(|u| u.enabled)
    else {
        session::logout(&state, &session).await?;
        return expired(&state);
    };
    if !client.admits_roles(&user.roles) {
        return Ok(redirect_error(
            &state,
            &request,
            Code::AccessDenied,
            "the user does not hold a role this application requires",
        ));
    }
    match form.decision.as_deref() {
        Some("allow") => {
            // max_age is checked again: the dialog may have waited while the
            // login aged (a zero max_age was met by the login that led here).
            if request
                .max_age
                .is_some_and(|max| !max.is_zero() && login.auth_time.plus(max) < now)
            {
                return expired(&state);
            }
            tracing::info!(event = "consent_granted", client = %client.id, user = %user.id, "consent granted");
            let response = grant(&state, &client, &request, &user, &login).await?;
            // Remembered only once the code exists, so a failure leaves no
            // consent behind for a grant that never happened.
            if state.config.consent_mode == ConsentMode::Auto {
                let (u, c, s) = (user.id.clone(), client.id.clone(), request.scopes.clone());
                state
                    .db(move |conn| consents::remember(conn, &u, &c, &s, now))
                    .await?;
            }
            Ok(response)
        }
        Some("deny") => {
            tracing::info!(event = "consent_denied", client = %client.id, user = %user.id, "consent denied");
            Ok(redirect_error(
                &state,
                &request,
                Code::AccessDenied,
                "the user denied the request",
            ))
        }
        _ => error_page(
            &state.templates,
            StatusCode::BAD_REQUEST,
            "No decision",
            "The form did not say whether to allow or deny.",
            Some("invalid_request"),
        ),
    }
}

fn expired(state: &AppState) -> Result<HttpResponse, Internal> {
    error_page(
        &state.templates,
        StatusCode::FORBIDDEN,
        "This request has expired",
        "This approval form was already used, or belongs to another session. Start again from the application.",
        None,
    )
}

super::redacted_debug!(DecisionForm);
