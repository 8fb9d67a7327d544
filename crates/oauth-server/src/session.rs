//! The browser session: who is logged in, since when, and the tokens that
//! bind forms to the session.
//!
//! The session lives in one cookie, encrypted and authenticated with a key
//! derived from the server secret (actix-session's private cookie store),
//! `HttpOnly`, `SameSite=Lax`, `Secure` and `__Host-` prefixed when the
//! issuer is https. Nothing in it is a credential for anything but this
//! session.

use actix_session::Session;
use oauth_core::SecretString;
use oauth_core::secret::{constant_time_eq, generate_secret};
use oauth_core::{Timestamp, UserId};
use oauth_store::consents;
use sha2::{Digest as _, Sha256};

use crate::errors::Internal;
use crate::state::AppState;

const USER: &str = "uid";
const AUTH_TIME: &str = "auth_time";
const CSRF: &str = "csrf";
const CONSENT: &str = "consent";
const FRESH_LOGIN: &str = "fresh";

/// The session's logged-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub user_id: UserId,
    pub auth_time: Timestamp,
}

/// The user logged in to this session, unless the login is older than
/// `lifetime_secs`.
pub fn login(session: &Session, now: Timestamp, lifetime_secs: u64) -> Option<Login> {
    let user: String = session.get(USER).ok()??;
    let auth_time: i64 = session.get(AUTH_TIME).ok()??;
    let auth_time = Timestamp::from_unix(auth_time);
    if auth_time.seconds_until(now) >= lifetime_secs {
        return None;
    }
    Some(Login {
        user_id: UserId::parse(&user).ok()?,
        auth_time,
    })
}

/// Starts a logged-in session: a renewed session (so a session fixed
/// before login is worth nothing after) with a new CSRF token.
pub fn start_login(session: &Session, user: &UserId, now: Timestamp) -> Result<(), Internal> {
    session.renew();
    session.clear();
    session.insert(USER, user.as_str())?;
    session.insert(AUTH_TIME, now.unix())?;
    new_csrf_token(session)?;
    Ok(())
}

/// Ends the session entirely.
pub fn logout(session: &Session) {
    session.purge();
}

/// The session's CSRF token, created on first use.
pub fn csrf_token(session: &Session) -> Result<String, Internal> {
    match session.get::<String>(CSRF).ok().flatten() {
        Some(token) => Ok(token),
        None => new_csrf_token(session),
    }
}

fn new_csrf_token(session: &Session) -> Result<String, Internal> {
    let token = generate_secret(&mut rand::rng()).expose_secret().to_owned();
    session.insert(CSRF, &token)?;
    Ok(token)
}

/// Does the form's token match the session's? Constant-time; a session
/// without a token matches nothing.
pub fn check_csrf(session: &Session, presented: Option<&str>) -> bool {
    match (session.get::<String>(CSRF).ok().flatten(), presented) {
        (Some(expected), Some(given)) => constant_time_eq(expected.as_bytes(), given.as_bytes()),
        _ => false,
    }
}

/// How long a consent dialog may wait for its answer.
const CONSENT_LIFETIME: std::time::Duration = std::time::Duration::from_secs(600);

/// Records the consent dialog about to be shown to `user` about `request`;
/// returns the one-time token its form carries. The token is bound twice:
/// to this session (its digest is in the cookie) and, in the database, to
/// the user and the request, where answering deletes it, so that of two
/// answers (a replayed form, a copied cookie) exactly one counts.
pub async fn begin_consent(
    state: &AppState,
    session: &Session,
    request: &str,
    user: &UserId,
) -> Result<String, Internal> {
    let token = generate_secret(&mut rand::rng());
    let token_digest = token.digest();
    session.insert(CONSENT, token_digest.as_str())?;
    let (user, request, now) = (user.clone(), digest(request), state.now());
    let expires = now.plus(CONSENT_LIFETIME);
    state
        .db(move |conn| consents::begin(conn, &token_digest, &user, &request, now, expires))
        .await?;
    Ok(token.expose_secret().to_owned())
}

/// Answers the dialog: true once, for the session that saw it, the user it
/// was shown to, and the request it was about, within ten minutes.
pub async fn take_consent(
    state: &AppState,
    session: &Session,
    token: &str,
    request: &str,
    user: &UserId,
) -> Result<bool, Internal> {
    let presented = SecretString::new(token).digest();
    let in_session = match session.remove_as::<String>(CONSENT) {
        Some(Ok(expected)) => constant_time_eq(expected.as_bytes(), presented.as_str().as_bytes()),
        _ => false,
    };
    if !in_session {
        return Ok(false);
    }
    let (user, request, now) = (user.clone(), digest(request), state.now());
    state
        .db(move |conn| consents::take(conn, &presented, &user, &request, now))
        .await
}

/// Notes that the user just logged in to continue `request`, which then
/// counts as a fresh login once (for `prompt=login` and `max_age`).
pub fn mark_fresh_login(session: &Session, request: &str) -> Result<(), Internal> {
    session.insert(FRESH_LOGIN, digest(request))?;
    Ok(())
}

/// Was the login fresh for this request? Consumes the mark.
pub fn take_fresh_login(session: &Session, request: &str) -> bool {
    match session.remove_as::<String>(FRESH_LOGIN) {
        Some(Ok(mark)) => constant_time_eq(mark.as_bytes(), digest(request).as_bytes()),
        _ => false,
    }
}

fn digest(text: &str) -> String {
    let hash = Sha256::digest(text.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}
