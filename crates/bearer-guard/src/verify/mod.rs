//! Deciding whether a token is good: one trait, three modes, one cache.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth_core::{ScopeSet, Timestamp};

pub(crate) mod cache;
#[cfg(feature = "database")]
pub(crate) mod database;
mod discovery;
mod front;
pub(crate) mod introspection;
pub(crate) mod jwt;

/// A boxed, sendable future: what [`TokenVerifier::verify`] returns, so that
/// verifiers can be chosen at run time.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a verifier learned about a good token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// `sub`: the user, or the client itself for client credentials.
    pub subject: String,
    /// The user's login name, when the issuer tells it (introspection and
    /// database modes; JWT access tokens carry only `sub`).
    pub username: Option<String>,
    /// The client the token was issued to.
    pub client_id: String,
    pub scopes: ScopeSet,
    /// `aud`: the resources the token is meant for (RFC 8707).
    pub audience: Vec<String>,
    /// When the token stops being valid; `None` when the issuer did not say
    /// (introspection's `exp` is optional), in which case the cache keeps
    /// the answer no longer than its configured maximum.
    pub expires_at: Option<Timestamp>,
    /// Whether the token was issued to a user (not by client credentials).
    pub has_user: bool,
}

/// Why a verifier did not vouch for a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// The token is not good: unknown, expired, revoked, malformed, for
    /// another issuer, not an access token. The reason is for the operator's
    /// debug log only; the caller is told `invalid_token` and nothing more.
    Invalid(&'static str),
    /// The verifier could not decide (issuer unreachable, database down,
    /// our own credentials refused). The request is refused with 503, never
    /// let through.
    Unavailable {
        reason: String,
        retry_after: Duration,
    },
}

impl VerifyError {
    pub(crate) fn unavailable(reason: impl Into<String>) -> Self {
        Self::Unavailable {
            reason: reason.into(),
            retry_after: DEFAULT_RETRY_AFTER,
        }
    }
}

/// How long a 503 asks clients to wait when the upstream gave no hint.
pub(crate) const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Decides whether a bearer token is good. Implemented by the three modes
/// this crate ships ([`IntrospectionVerifier`](crate::IntrospectionVerifier),
/// [`JwtVerifier`](crate::JwtVerifier), and with the `database` feature
/// `DatabaseVerifier`); implement it to plug in another.
///
/// Implementations need not cache: the guard puts its own bounded,
/// single-flight cache in front of every verifier.
pub trait TokenVerifier: Send + Sync + 'static {
    /// Checks `token` (already known to be RFC 6750 `b64token` syntax).
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<TokenInfo, VerifyError>>;
}

/// A guard or verifier could not be set up (a malformed issuer URL, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupError(pub(crate) String);

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SetupError {}

/// Reads `aud` as RFC 7519 §4.1.3 writes it: one string or an array.
pub(crate) fn audience_from_json(value: Option<&serde_json::Value>) -> Option<Vec<String>> {
    match value {
        None | Some(serde_json::Value::Null) => Some(Vec::new()),
        Some(serde_json::Value::String(s)) => Some(vec![s.clone()]),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(_) => None,
    }
}

/// The HTTP client every remote verifier uses: rustls, short timeouts, no
/// redirects (a redirected introspection call would carry our credentials
/// somewhere else).
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("bearer-guard/", env!("CARGO_PKG_VERSION")))
        .build()
}
