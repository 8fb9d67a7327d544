//! The implicit grant (RFC 6749 §4.2), for clients registered with it, as
//! in Frappe: the access token goes straight to the redirect URI's
//! fragment. No refresh token (§4.2.2), and no ID token (the response type
//! is `token`, not `id_token token`).

use oauth_core::authorize::AuthorizeRequest;
use oauth_core::secret::generate_id;
use oauth_core::token::TokenResponse;
use oauth_core::{Client, Timestamp, User};
use oauth_store::grants::{self, Grant};
use oauth_store::{DbConnection, StoreError, write_transaction};

use super::{GrantContext, issue};

pub fn issue(
    conn: &mut DbConnection,
    ctx: &GrantContext,
    client: &Client,
    user: &User,
    request: &AuthorizeRequest,
    auth_time: Timestamp,
    now: Timestamp,
) -> Result<TokenResponse, StoreError> {
    let grant = Grant {
        id: generate_id(&mut rand::rng(), 16),
        client_id: client.id.clone(),
        user_id: Some(user.id.clone()),
        scopes: request.scopes.clone(),
        resources: request.resources.clone(),
        auth_time: Some(auth_time),
        created_at: now,
        expires_at: now.plus(ctx.lifetimes.access_token),
        revoked_at: None,
    };
    let mut response = write_transaction(conn, |conn| -> Result<_, StoreError> {
        grants::create(conn, &grant)?;
        let mint = issue::Mint {
            client,
            grant_id: &grant.id,
            user: Some(user),
            scopes: &grant.scopes,
            audience: grant
                .resources
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            refresh: None,
            auth_time: Some(auth_time),
            nonce: request.nonce.as_deref(),
        };
        issue::tokens(conn, ctx, mint, now)
    })?;
    response.id_token = None;
    Ok(response)
}
