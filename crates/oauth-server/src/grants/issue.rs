//! Minting tokens under a grant.

use oauth_core::token::TokenResponse;
use oauth_core::{ScopeSet, Timestamp, Token};
use oauth_store::tokens::{self, NewToken};
use oauth_store::{DbConnection, StoreError};

use super::GrantContext;

/// Stores a new access token (and, when asked, a refresh token) under
/// `grant_id` and returns the response that carries them.
pub(super) fn tokens(
    conn: &mut DbConnection,
    ctx: &GrantContext,
    grant_id: &str,
    access_scopes: &ScopeSet,
    refresh: Option<(&ScopeSet, Timestamp)>,
    now: Timestamp,
) -> Result<TokenResponse, StoreError> {
    let mut rng = rand::rng();
    let access = Token::generate(&mut rng);
    let lifetime = ctx.lifetimes.access_token;
    tokens::insert_access(
        conn,
        NewToken {
            digest: &access.digest(),
            grant_id,
            scopes: access_scopes,
            created_at: now,
            expires_at: now.plus(lifetime),
        },
    )?;
    let refresh_token = match refresh {
        Some((scopes, expires_at)) => {
            let token = Token::generate(&mut rng);
            tokens::insert_refresh(
                conn,
                NewToken {
                    digest: &token.digest(),
                    grant_id,
                    scopes,
                    created_at: now,
                    expires_at,
                },
            )?;
            Some(token.expose_secret().to_owned())
        }
        None => None,
    };
    Ok(TokenResponse {
        access_token: access.expose_secret().to_owned(),
        token_type: "Bearer",
        expires_in: lifetime.as_secs(),
        refresh_token,
        scope: access_scopes.to_string(),
        id_token: None,
    })
}
