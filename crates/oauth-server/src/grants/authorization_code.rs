//! The authorization code grant at the token endpoint (RFC 6749 §4.1.3).

use oauth_core::error::TokenErrorCode as Code;
use oauth_core::secret::generate_id;
use oauth_core::token::TokenError;
use oauth_core::{Client, CodeVerifier, GrantType, Timestamp, Token};
use oauth_store::grants::{self, Grant};
use oauth_store::{DbConnection, StoreError, codes, users, write_transaction};

use super::{Abort, GrantContext, Outcome, issue};

/// Exchanges a code for tokens. The code is single-use: a second exchange,
/// or a concurrent one, fails with `invalid_grant` and revokes whatever the
/// first issued (RFC 6749 §4.1.2, RFC 9700 §4.2.1).
pub fn exchange(
    conn: &mut DbConnection,
    ctx: &GrantContext,
    client: &Client,
    code: &Token,
    redirect_uri: Option<&str>,
    verifier: Option<&CodeVerifier>,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let invalid = |d: &str| Ok(Err(TokenError::new(Code::InvalidGrant, d)));
    let digest = code.digest();
    let Some(stored) = codes::find(conn, &digest)? else {
        return invalid("the code is invalid");
    };
    if stored.client_id != client.id {
        // Not this client's: refuse, and leave the code to its owner.
        return invalid("the code was issued to another client");
    }
    if stored.redeemed_at.is_some() {
        revoke_issued(conn, &digest, now)?;
        return invalid("the code was already used; tokens issued with it are revoked");
    }
    if let Err(e) = stored.check(&client.id, redirect_uri, verifier, now) {
        // A failed attempt by the code's own client still uses the code up:
        // a code gets one exchange, right or wrong.
        codes::redeem(conn, &digest, None, now)?;
        return Ok(Err(e));
    }
    match users::find_by_id(conn, &stored.user_id)? {
        Some(user) if user.enabled => {}
        _ => return invalid("the user who granted the code can no longer sign in"),
    }

    let grant = Grant {
        id: generate_id(&mut rand::rng(), 16),
        client_id: client.id.clone(),
        user_id: Some(stored.user_id.clone()),
        scopes: stored.scopes.clone(),
        auth_time: Some(stored.auth_time),
        created_at: now,
        expires_at: now.plus(ctx.lifetimes.refresh_token),
        revoked_at: None,
    };
    let with_refresh = client.metadata.allows_grant(GrantType::RefreshToken);
    let result = write_transaction(conn, |conn| -> Result<_, Abort> {
        grants::create(conn, &grant)?;
        if !codes::redeem(conn, &digest, Some(&grant.id), now)? {
            return Err(Abort::AlreadyUsed);
        }
        let refresh = with_refresh.then_some((&grant.scopes, grant.expires_at));
        Ok(issue::tokens(
            conn,
            ctx,
            &grant.id,
            &grant.scopes,
            refresh,
            now,
        )?)
    });
    match result {
        Ok(response) => Ok(Ok(response)),
        Err(Abort::Store(e)) => Err(e),
        Err(Abort::AlreadyUsed) => {
            revoke_issued(conn, &digest, now)?;
            invalid("the code was already used; tokens issued with it are revoked")
        }
    }
}

/// Revokes the grant a code's first exchange created, if any.
fn revoke_issued(
    conn: &mut DbConnection,
    digest: &oauth_core::SecretDigest,
    now: Timestamp,
) -> Result<(), StoreError> {
    if let Some(grant_id) = codes::find(conn, digest)?.and_then(|c| c.grant_id)
        && grants::revoke(conn, &grant_id, now)?
    {
        tracing::warn!(grant = %grant_id, "authorization code replayed; its grant is revoked");
    }
    Ok(())
}
