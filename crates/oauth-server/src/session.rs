//! The browser session: who is logged in, since when, and the tokens that
//! bind forms to the session.
//!
//! The session lives in one cookie, encrypted and authenticated with a key
//! derived from the server secret (actix-session's private cookie store),
//! `HttpOnly`, `SameSite=Lax`, `Secure` and `__Host-` prefixed when the
//! issuer is https. Nothing in it is a credential for anything but this
//! session.

use actix_session::Session;
use oauth_core::secret::{constant_time_eq, generate_secret};
use oauth_core::{Timestamp, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::errors::Internal;

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

/// A consent dialog shown in this session, awaiting the user's decision.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingConsent {
    /// Random; the dialog's form carries it back.
    pub token: String,
    /// Digest of the authorization request the dialog is about.
    pub request: String,
    /// Who saw the dialog.
    pub user_id: String,
}

/// Records the consent dialog about to be shown; returns its token.
pub fn begin_consent(session: &Session, request: &str, user: &UserId) -> Result<String, Internal> {
    let token = generate_secret(&mut rand::rng()).expose_secret().to_owned();
    let pending = PendingConsent {
        token: token.clone(),
        request: digest(request),
        user_id: user.as_str().to_owned(),
    };
    session.insert(CONSENT, pending)?;
    Ok(token)
}

/// Takes the pending consent if `token` and `request` are the ones the
/// dialog was shown with. Single use: it is gone from the session
/// whatever the answer.
pub fn take_consent(session: &Session, token: &str, request: &str) -> Option<PendingConsent> {
    let pending: PendingConsent = session.remove_as(CONSENT)?.ok()?;
    let matches = constant_time_eq(pending.token.as_bytes(), token.as_bytes())
        && constant_time_eq(pending.request.as_bytes(), digest(request).as_bytes());
    matches.then_some(pending)
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
