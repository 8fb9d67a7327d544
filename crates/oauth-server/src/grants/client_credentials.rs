//! The client credentials grant (RFC 6749 §4.4): a confidential client
//! acting for itself. No user, and no refresh token (§4.4.3).

use oauth_core::error::TokenErrorCode as Code;
use oauth_core::resource::Resource;
use oauth_core::secret::generate_id;
use oauth_core::token::TokenError;
use oauth_core::{Client, ScopeSet, Timestamp};
use oauth_store::grants::{self, Grant};
use oauth_store::{DbConnection, StoreError, write_transaction};

use super::{GrantContext, Outcome, issue};

pub fn exchange(
    conn: &mut DbConnection,
    ctx: &GrantContext,
    client: &Client,
    scope: Option<&ScopeSet>,
    resources: &[Resource],
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let allowed = &client.metadata.scopes;
    let scopes = match scope {
        None => allowed.clone(),
        Some(s) if s.is_subset_of(allowed) => s.clone(),
        Some(s) => {
            return Ok(Err(TokenError::new(
                Code::InvalidScope,
                format!("this client may not ask for: {}", s.difference(allowed)),
            )));
        }
    };
    let grant = Grant {
        id: generate_id(&mut rand::rng(), 16),
        client_id: client.id.clone(),
        user_id: None,
        scopes: scopes.clone(),
        resources: resources.to_vec(),
        auth_time: None,
        created_at: now,
        expires_at: now.plus(ctx.lifetimes.access_token),
        revoked_at: None,
    };
    let response = write_transaction(conn, |conn| -> Result<_, StoreError> {
        grants::create(conn, &grant)?;
        let mint = issue::Mint {
            client,
            grant_id: &grant.id,
            user: None,
            scopes: &scopes,
            audience: resources.iter().map(|r| r.as_str().to_owned()).collect(),
            refresh: None,
            auth_time: None,
            nonce: None,
        };
        issue::tokens(conn, ctx, mint, now)
    })?;
    Ok(Ok(response))
}
