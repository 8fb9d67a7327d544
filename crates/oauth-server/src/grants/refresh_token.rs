//! The refresh token grant (RFC 6749 §6). Refresh tokens rotate on every
//! use; presenting one that was already exchanged means two parties hold
//! it, so the whole grant is revoked (RFC 9700 §4.14.2).

use oauth_core::error::TokenErrorCode as Code;
use oauth_core::resource::Resource;
use oauth_core::token::{RefreshRefused, TokenError};
use oauth_core::{Client, ScopeSet, Timestamp, Token};
use oauth_store::{DbConnection, StoreError, grants, tokens, users, write_transaction};

use super::{Abort, GrantContext, Outcome, issue};

pub fn exchange(
    conn: &mut DbConnection,
    ctx: &GrantContext,
    client: &Client,
    refresh_token: &Token,
    scope: Option<&ScopeSet>,
    resources: &[Resource],
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let invalid = |d: &str| Ok(Err(TokenError::new(Code::InvalidGrant, d)));
    let digest = refresh_token.digest();
    let Some(stored) = tokens::find_refresh(conn, &digest)? else {
        return invalid("the refresh token is invalid");
    };
    let scopes = match stored.check(&client.id, scope, now) {
        Ok(scopes) => scopes,
        Err(RefreshRefused::Invalid(e)) => return Ok(Err(e)),
        Err(RefreshRefused::Reused) => {
            revoke_family(conn, &stored.grant_id, now)?;
            return invalid("the refresh token was already used; its grant is revoked");
        }
    };
    let audience = match stored.resources_for(resources) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let user = match &stored.user_id {
        Some(user_id) => match users::find_by_id(conn, user_id)? {
            Some(user) if user.enabled => Some(user),
            _ => return invalid("the user who granted access can no longer sign in"),
        },
        None => None,
    };
    let result = write_transaction(conn, |conn| -> Result<_, Abort> {
        if !tokens::rotate_refresh(conn, &digest, now)? {
            return Err(Abort::AlreadyUsed);
        }
        grants::touch(conn, &stored.grant_id, now)?;
        // The successor keeps the grant's scopes and absolute expiry; only
        // the access token may be narrower.
        let mint = issue::Mint {
            client,
            grant_id: &stored.grant_id,
            user: user.as_ref(),
            scopes: &scopes,
            audience: audience.iter().map(|r| r.as_str().to_owned()).collect(),
            refresh: Some((&stored.scopes, stored.expires_at)),
            // A refreshed ID token keeps the original authentication time
            // and carries no nonce (OIDC Core §12.2).
            auth_time: stored.auth_time,
            nonce: None,
        };
        Ok(issue::tokens(conn, ctx, mint, now)?)
    });
    match result {
        Ok(response) => Ok(Ok(response)),
        Err(Abort::Store(e)) => Err(e),
        Err(Abort::AlreadyUsed) => {
            revoke_family(conn, &stored.grant_id, now)?;
            invalid("the refresh token was already used; its grant is revoked")
        }
    }
}

fn revoke_family(
    conn: &mut DbConnection,
    grant_id: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    if grants::revoke(conn, grant_id, now)? {
        tracing::warn!(grant = %grant_id, "refresh token reused; its grant is revoked");
    }
    Ok(())
}
