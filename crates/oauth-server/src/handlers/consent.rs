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
    let Some(pending) =
        session::take_consent(&session, form.consent_token.as_deref().unwrap_or(""), &raw)
    else {
        return expired(&state);
    };
    let now = state.now();
    let Some(login) = session::login(&session, now, state.config.lifetimes.session.as_secs())
    else {
        return expired(&state);
    };
    if login.user_id.as_str() != pending.user_id {
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
        session::logout(&session);
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
            if state.config.consent_mode == ConsentMode::Auto {
                let (u, c, s) = (user.id.clone(), client.id.clone(), request.scopes.clone());
                state
                    .db(move |conn| consents::remember(conn, &u, &c, &s, now))
                    .await?;
            }
            tracing::info!(event = "consent_granted", client = %client.id, user = %user.id, "consent granted");
            grant(&state, &request, &user, &login).await
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
