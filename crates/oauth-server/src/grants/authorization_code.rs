//! The authorization code grant at the token endpoint (RFC 6749 §4.1.3).

use oauth_core::error::TokenErrorCode as Code;
use oauth_core::resource::Resource;
use oauth_core::secret::generate_id;
use oauth_core::token::TokenError;
use oauth_core::{Client, CodeVerifier, GrantType, Timestamp, Token};
use oauth_store::grants::{self, Grant};
use oauth_store::{DbConnection, StoreError, codes, users, write_transaction};

use super::{Abort, GrantContext, Outcome, issue};

/// Exchanges a code for tokens. The code is single-use: a second exchange,
/// or a concurrent one, fails with `invalid_grant` and revokes whatever the
/// first issued (RFC 6749 §4.1.2, RFC 9700 §4.2.1).
/// The token request's parameters for this grant.
#[derive(Debug, Clone, Copy)]
pub struct CodeRequest<'a> {
    pub code: &'a Token,
    pub redirect_uri: Option<&'a str>,
    pub verifier: Option<&'a CodeVerifier>,
    pub resources: &'a [Resource],
}

pub fn exchange(
    conn: &mut DbConnection,
    ctx: &GrantContext,
    client: &Client,
    request: CodeRequest<'_>,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let CodeRequest {
        code,
        redirect_uri,
        verifier,
        resources,
    } = request;
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
    let resources = match stored.resources_for(resources) {
        Ok(r) => r,
        Err(e) => {
            codes::redeem(conn, &digest, None, now)?;
            return Ok(Err(e));
        }
    };
    let user = match users::find_by_id(conn, &stored.user_id)? {
        Some(user) if user.enabled => user,
        _ => return invalid("the user who granted the code can no longer sign in"),
    };

    let grant = Grant {
        id: generate_id(&mut rand::rng(), 16),
        client_id: client.id.clone(),
        user_id: Some(stored.user_id.clone()),
        scopes: stored.scopes.clone(),
        // The refresh token stays bound to everything the user authorized,
        // even when this first access token is narrowed (RFC 8707 §2.2).
        resources: if stored.resources.is_empty() {
            resources.clone()
        } else {
            stored.resources.clone()
        },
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
        let mint = issue::Mint {
            client,
            grant_id: &grant.id,
            user: Some(&user),
            scopes: &grant.scopes,
            audience: resources.iter().map(|r| r.as_str().to_owned()).collect(),
            refresh: with_refresh.then_some((&grant.scopes, grant.expires_at)),
            auth_time: Some(stored.auth_time),
            nonce: stored.nonce.as_deref(),
        };
        Ok(issue::tokens(conn, ctx, mint, now)?)
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
