//! The browser session: who is logged in, since when, and the tokens that
//! bind forms to the session.
//!
//! The login lives on the server, in the `sessions` table. The cookie
//! (encrypted and authenticated with a key derived from the server secret:
//! actix-session's private cookie store; `HttpOnly`, `SameSite=Lax`,
//! `Secure` and `__Host-` prefixed when the issuer is https) holds a random
//! 256-bit session id, and the table only its SHA-256 digest. Every read
//! of the login ([`login`]) checks the row and the user's enabled flag, so
//! logging out, disabling or deleting the user ends the session on the
//! very next request, whatever copies of the cookie exist. This module is
//! the one place that reads or writes the login.

use actix_session::Session;
use oauth_core::secret::{constant_time_eq, generate_secret};
use oauth_core::{SecretDigest, SecretString};
use oauth_core::{Timestamp, UserId};
use oauth_store::{consents, sessions};
use sha2::{Digest as _, Sha256};

use crate::errors::Internal;
use crate::state::AppState;

/// The cookie's session id (the only credential in it).
const SESSION_ID: &str = "sid";
const CSRF: &str = "csrf";
const CONSENT: &str = "consent";
const FRESH_LOGIN: &str = "fresh";
const NOTICE: &str = "notice";

/// The session's logged-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub user_id: UserId,
    pub auth_time: Timestamp,
}

/// The digest of the cookie's session id, if it holds one.
fn session_digest(session: &Session) -> Option<SecretDigest> {
    let id: String = session.get(SESSION_ID).ok()??;
    Some(SecretString::new(id).digest())
}

/// The user logged in to this session: the session's row exists, has not
/// expired (its lifetime is `lifetimes.session` from login), and its user
/// exists and is enabled. A session id without a live row is dropped from
/// the cookie.
pub async fn login(state: &AppState, session: &Session) -> Result<Option<Login>, Internal> {
    let Some(digest) = session_digest(session) else {
        return Ok(None);
    };
    let now = state.now();
    let found = state
        .db(move |conn| sessions::find_active(conn, &digest, now))
        .await?;
    match found {
        Some(record) => Ok(Some(Login {
            user_id: record.user_id,
            auth_time: record.created_at,
        })),
        None => {
            session.remove(SESSION_ID);
            Ok(None)
        }
    }
}

/// Starts a logged-in session: a renewed cookie (so a session fixed before
/// login is worth nothing after) with a new session id, whose digest is
/// stored with the user, and a new CSRF token.
pub async fn start_login(
    state: &AppState,
    session: &Session,
    user: &UserId,
    now: Timestamp,
) -> Result<(), Internal> {
    // A login over an existing one ends the old server-side session.
    if let Some(old) = session_digest(session) {
        state.db(move |conn| sessions::delete(conn, &old)).await?;
    }
    session.renew();
    session.clear();
    let id = generate_secret(&mut rand::rng());
    let digest = id.digest();
    let (user_id, expires) = (user.clone(), now.plus(state.config.lifetimes.session));
    state
        .db(move |conn| sessions::create(conn, &digest, &user_id, now, expires))
        .await?;
    session.insert(SESSION_ID, id.expose_secret())?;
    new_csrf_token(session)?;
    Ok(())
}

/// Ends the session entirely: deletes its row, so that a copy of the
/// cookie is worth nothing, and empties the cookie.
pub async fn logout(state: &AppState, session: &Session) -> Result<(), Internal> {
    if let Some(digest) = session_digest(session) {
        state
            .db(move |conn| sessions::delete(conn, &digest))
            .await?;
    }
    session.purge();
    Ok(())
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
/// returns the one-time token its form carries. The token is bound to this
/// session twice (its digest is in the cookie, and its database row names
/// the server-side session) and to the user and the request; answering
/// deletes the row, so that of two answers (a replayed form, a copied
/// cookie) exactly one counts. Only for a logged-in session.
pub async fn begin_consent(
    state: &AppState,
    session: &Session,
    request: &str,
    user: &UserId,
) -> Result<String, Internal> {
    let Some(session_id) = session_digest(session) else {
        return Err(anyhow::anyhow!("a consent dialog for a session without a login").into());
    };
    let token = generate_secret(&mut rand::rng());
    let token_digest = token.digest();
    session.insert(CONSENT, token_digest.as_str())?;
    let (user, request, now) = (user.clone(), digest(request), state.now());
    let expires = now.plus(CONSENT_LIFETIME);
    state
        .db(move |conn| {
            consents::begin(
                conn,
                &token_digest,
                &session_id,
                &user,
                &request,
                now,
                expires,
            )
        })
        .await?;
    Ok(token.expose_secret().to_owned())
}

/// Answers the dialog: true once, for the session that saw it (the cookie
/// and the server-side session both), the user it was shown to, and the request it was about, within ten minutes.
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
    let Some(session_id) = session_digest(session).filter(|_| in_session) else {
        return Ok(false);
    };
    let (user, request, now) = (user.clone(), digest(request), state.now());
    state
        .db(move |conn| consents::take(conn, &presented, &session_id, &user, &request, now))
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

/// Leaves a one-line notice for the next page this session shows (the
/// name of the app just revoked).
pub fn set_notice(session: &Session, text: &str) -> Result<(), Internal> {
    session.insert(NOTICE, text)?;
    Ok(())
}

/// The notice left by [`set_notice`], once.
pub fn take_notice(session: &Session) -> Option<String> {
    session.remove_as::<String>(NOTICE).and_then(Result::ok)
}
