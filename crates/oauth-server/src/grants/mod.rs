//! The grants the token endpoint serves, one module each. A grant loads
//! what it needs, lets `oauth-core` decide, and writes the outcome in one
//! transaction; each function runs on a blocking thread with a connection.
//!
//! - [`authorization_code`]: RFC 6749 §4.1.3, with PKCE and replay
//!   detection.
//! - [`refresh_token`]: RFC 6749 §6, rotating, with reuse detection.
//! - [`client_credentials`]: RFC 6749 §4.4.
//! - [`implicit`]: RFC 6749 §4.2, at the authorization endpoint.

pub mod authorization_code;
pub mod client_credentials;
pub mod implicit;
mod issue;
pub mod refresh_token;

use oauth_core::token::{TokenError, TokenResponse};
use oauth_store::StoreError;

use std::sync::Arc;

use oauth_core::jose::SigningKey;

use crate::config::Lifetimes;

/// What a grant answers: tokens, or the RFC error to send back. Storage
/// failures travel separately, as the outer `Result`.
pub type Outcome = Result<TokenResponse, TokenError>;

/// Why a grant's transaction was abandoned.
#[derive(Debug)]
enum Abort {
    Store(StoreError),
    /// Someone used the code or refresh token first (a concurrent request
    /// or a replay). Nothing was written.
    AlreadyUsed,
}

impl From<StoreError> for Abort {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// What every grant needs besides its request.
#[derive(Debug, Clone)]
pub struct GrantContext {
    pub lifetimes: Lifetimes,
    /// The issuer identifier, for `iss`.
    pub issuer: String,
    /// The key that signs ID tokens and JWT access tokens.
    pub signer: Arc<SigningKey>,
}
