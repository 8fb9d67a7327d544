//! The login page, logout, and the signed-in landing page.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use oauth_core::throttle::{KeyKind, Verdict, key_digest};
use oauth_core::{Password, PasswordHash, Username};
use oauth_store::{throttle, users};
use serde::Deserialize;

use crate::client_ip::{client_ip, rate_key};
use crate::errors::{Internal, error_page, html, see_other};
use crate::session;
use crate::state::AppState;
use crate::templates::{HomePage, LoginPage};

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    /// OIDC `login_hint`, passed on from the authorization request.
    login_hint: Option<String>,
}

/// The generic failure: it never says whether the username or the
/// password was wrong, nor (as Keycloak) whether the attempt was refused
/// by the throttle without being checked.
const INVALID: &str = "Invalid username or password.";

/// `GET /login`.
pub async fn page(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, Internal> {
    let next = safe_next(query.next.as_deref());
    render(
        &state,
        &session,
        next,
        None,
        query.login_hint.as_deref(),
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: Option<String>,
    password: Option<String>,
    csrf_token: Option<String>,
    next: Option<String>,
}

/// `POST /login`.
///
/// Throttled per account (the name as typed, whether or not it exists)
/// and per client address, with counters in the database (docs/abuse.md).
/// An attempt the throttle refuses is answered like a wrong password,
/// without looking at the password: no argon2 work for a flood.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, Internal> {
    let form = form.into_inner();
    if !session::check_csrf(&session, form.csrf_token.as_deref()) {
        return forbidden(&state);
    }
    let next = safe_next(form.next.as_deref()).to_owned();
    let username = form.username.unwrap_or_default();
    let password = Password::presented(form.password.unwrap_or_default());
    let invalid = |state: &AppState| {
        render(
            state,
            &session,
            &next,
            Some(INVALID),
            Some(&username),
            StatusCode::OK,
        )
    };

    let policy = state.config.abuse.login;
    let ip = client_ip(
        req.peer_addr(),
        req.headers(),
        &state.config.abuse.trusted_proxies,
    );
    let account_key = key_digest(KeyKind::Account, &username);
    let address_key = key_digest(KeyKind::Address, &rate_key(ip).to_string());
    let now = state.now();
    let (account, address) = {
        let (a, i) = (account_key.clone(), address_key.clone());
        state
            .db(move |conn| Ok((throttle::find(conn, &a)?, throttle::find(conn, &i)?)))
            .await?
    };
    let verdicts = [
        policy.account.verdict(account.as_ref(), now),
        policy.address.verdict(address.as_ref(), now),
    ];
    let record_failure = |state: web::Data<AppState>| {
        let (a, i) = (account_key.clone(), address_key.clone());
        async move {
            state
                .db(move |conn| {
                    throttle::record_failure(
                        conn,
                        &[(&a, policy.account), (&i, policy.address)],
                        now,
                    )
                })
                .await
        }
    };
    if verdicts.iter().any(|v| matches!(v, Verdict::Locked { .. })) {
        // Locked: refused, and not counted, so the lock ends on time.
        tracing::info!(
            event = "login_throttled",
            locked = true,
            "login refused: locked"
        );
        return invalid(&state);
    }
    if verdicts.iter().any(|v| matches!(v, Verdict::Wait { .. })) {
        // Too early: refused unchecked, and counted towards the lock.
        record_failure(state.clone()).await?;
        tracing::info!(
            event = "login_throttled",
            locked = false,
            "login refused: too early"
        );
        return invalid(&state);
    }

    // A name no user can have is simply an unknown user: the same answer,
    // after the same work.
    let user = match Username::parse(&username) {
        Ok(name) => {
            state
                .db(move |conn| users::find_by_username(conn, name.as_str()))
                .await?
        }
        Err(_) => None,
    };
    // Verify against a decoy hash when there is no such user, so a wrong
    // username takes as long as a wrong password.
    let hash = user.as_ref().map_or_else(
        || PasswordHash::decoy().clone(),
        |u| u.password_hash.clone(),
    );
    let verified = match password {
        Ok(password) => state.hash(move || hash.verify(&password)).await?,
        Err(_) => false,
    };
    let user = match user {
        Some(user) if verified && user.enabled => user,
        _ => {
            record_failure(state.clone()).await?;
            tracing::info!(event = "login_failed", "login failed");
            return invalid(&state);
        }
    };
    // Success forgets the account's failures. Not the address's: a guesser
    // with an account of their own could otherwise reset their address by
    // logging in between guesses.
    if account.is_some() {
        state
            .db(move |conn| throttle::clear(conn, &account_key))
            .await?;
    }
    let now = state.now();
    session::start_login(&state, &session, &user.id, now).await?;
    if let Some((_, query)) = next.split_once('?') {
        // The request the login was for counts as freshly authenticated.
        session::mark_fresh_login(&session, query)?;
    }
    tracing::info!(event = "login", user = %user.id, "user logged in");
    Ok(see_other(if next.is_empty() { "/" } else { &next }))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf_token: Option<String>,
}

/// `POST /logout`.
pub async fn logout(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, Internal> {
    if !session::check_csrf(&session, form.csrf_token.as_deref()) {
        return forbidden(&state);
    }
    session::logout(&state, &session).await?;
    Ok(see_other("/login"))
}

/// `GET /`: who is signed in, or the login page.
pub async fn home(state: web::Data<AppState>, session: Session) -> Result<HttpResponse, Internal> {
    let Some(login) = session::login(&state, &session).await? else {
        return Ok(see_other("/login"));
    };
    let id = login.user_id.clone();
    let Some(user) = state
        .db(move |conn| users::find_by_id(conn, &id))
        .await?
        .filter(|u| u.enabled)
    else {
        session::logout(&state, &session).await?;
        return Ok(see_other("/login"));
    };
    let csrf = session::csrf_token(&session)?;
    let name = user
        .full_name
        .as_ref()
        .map_or(user.username.as_str(), |n| n.as_str());
    let body = state.templates.render(
        "home.html",
        &HomePage {
            user_name: name,
            csrf_token: &csrf,
        },
    )?;
    Ok(html(StatusCode::OK, body))
}

fn render(
    state: &AppState,
    session: &Session,
    next: &str,
    error: Option<&str>,
    username: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, Internal> {
    let csrf = session::csrf_token(session)?;
    let body = state.templates.render(
        "login.html",
        &LoginPage {
            csrf_token: &csrf,
            next,
            error,
            username,
        },
    )?;
    Ok(html(status, body))
}

/// A missing or wrong CSRF token: 403, and nothing changes.
pub fn forbidden(state: &AppState) -> Result<HttpResponse, Internal> {
    error_page(
        &state.templates,
        StatusCode::FORBIDDEN,
        "This form has expired",
        "The form was sent without a valid security token, so nothing was done. Go back, reload the page and try again.",
        None,
    )
}

/// Where to go after logging in: a path on this server, never another
/// origin. Only printable ASCII without `\\` is kept: browsers drop tabs and
/// newlines from URLs and read `\\` as `/`, so `/\t/evil.example` or
/// `/\\evil.example` would leave the origin; `//evil.example` is another
/// origin outright.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_origin() {
        assert_eq!(
            safe_next(Some("/oauth/authorize?client_id=a")),
            "/oauth/authorize?client_id=a"
        );
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "/\t/evil.example/x",
            "/\u{1}",
            "/a b",
            "https://evil.example/",
            "javascript:alert(1)",
            "/a\r\nSet-Cookie: x",
        ] {
            assert_eq!(safe_next(Some(bad)), "", "{bad}");
        }
        assert_eq!(safe_next(None), "");
    }
}

super::redacted_debug!(LoginForm, CsrfForm);
