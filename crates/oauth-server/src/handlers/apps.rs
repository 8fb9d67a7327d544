//! The user's "Authorized apps" page, `/account/apps` (and Frappe's
//! `/third_party_apps`): every client the user granted, with its scopes
//! and last use, and a form per client that revokes it.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use oauth_core::ClientId;
use oauth_core::claims::describe_scope;
use oauth_store::{apps, clients, users};
use serde::Deserialize;

use super::login::forbidden;
use crate::errors::{Internal, error_page, html, see_other};
use crate::session::{self, Login};
use crate::state::AppState;
use crate::templates::{AppView, AppsPage, ScopeView, TimeView};

/// The page's own path; the alias redirects its forms here too.
const PATH: &str = "/account/apps";

/// `GET /account/apps`, `GET /third_party_apps`.
pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, Internal> {
    let Some(login) = session::login(&state, &session).await? else {
        return Ok(to_login(&req));
    };
    let (id, now) = (login.user_id.clone(), state.now());
    let found = state
        .db(move |conn| {
            let Some(user) = users::find_by_id(conn, &id)? else {
                return Ok(None);
            };
            Ok(Some((user, apps::list(conn, &id, now)?)))
        })
        .await?;
    let Some((user, list)) = found else {
        session::logout(&state, &session).await?;
        return Ok(to_login(&req));
    };
    let csrf = session::csrf_token(&session)?;
    let revoked = session::take_notice(&session);
    let apps = list
        .into_iter()
        .map(|app| AppView {
            client_id: app.client_id.to_string(),
            client_name: app.client_name,
            scopes: app
                .scopes
                .iter()
                .map(|s| ScopeView {
                    name: s.as_str().to_owned(),
                    description: describe_scope(s.as_str()),
                })
                .collect(),
            authorized_at: TimeView::utc(app.authorized_at),
            last_used: app.last_used_at.map(TimeView::utc),
        })
        .collect();
    let name = user
        .full_name
        .as_ref()
        .map_or(user.username.as_str(), |n| n.as_str());
    let body = state.templates.render(
        "apps.html",
        &AppsPage {
            user_name: name,
            csrf_token: &csrf,
            revoked: revoked.as_deref(),
            apps,
        },
    )?;
    Ok(html(StatusCode::OK, body))
}

#[derive(Deserialize)]
pub struct RevokeForm {
    csrf_token: Option<String>,
    client_id: Option<String>,
}

/// `POST /account/apps` (or `/third_party_apps`): revokes one app of the
/// logged-in user. Deletes the user's grants of the client (with all their
/// tokens), unredeemed codes and remembered consent, in one transaction.
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<RevokeForm>,
) -> Result<HttpResponse, Internal> {
    let form = form.into_inner();
    if !session::check_csrf(&session, form.csrf_token.as_deref()) {
        return forbidden(&state);
    }
    let Some(Login { user_id, .. }) = session::login(&state, &session).await? else {
        return Ok(to_login(&req));
    };
    let Some(client_id) = form
        .client_id
        .as_deref()
        .and_then(|c| ClientId::parse(c).ok())
    else {
        return not_authorized(&state);
    };
    // Only ever the logged-in user's own grants: the user id comes from
    // the session, never from the form.
    let (user, client) = (user_id.clone(), client_id.clone());
    let (revoked, name) = state
        .db(move |conn| {
            // The name, for the confirmation line only.
            let name = clients::find(conn, &client)?.map(|c| c.metadata.name);
            Ok((apps::revoke(conn, &user, &client)?, name))
        })
        .await?;
    if !revoked.any() {
        return not_authorized(&state);
    }
    tracing::info!(
        event = "app_revoked",
        user = %user_id,
        client_id = %client_id,
        grants = revoked.grants,
        "user revoked an authorized app"
    );
    if let Some(name) = name {
        // In the session, not the URL: a link must not be able to make the
        // page claim that something was revoked.
        session::set_notice(&session, &name)?;
    }
    Ok(see_other(PATH))
}

/// The form named an app the user has not authorized (or no app at all).
fn not_authorized(state: &AppState) -> Result<HttpResponse, Internal> {
    error_page(
        &state.templates,
        StatusCode::NOT_FOUND,
        "No such authorized app",
        "You have not authorized this application, so there was nothing to revoke. Go back to your authorized apps and reload the page.",
        None,
    )
}

fn to_login(req: &HttpRequest) -> HttpResponse {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("next", req.path());
    see_other(&format!("/login?{}", query.finish()))
}

super::redacted_debug!(RevokeForm);
