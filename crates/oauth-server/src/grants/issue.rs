//! Minting tokens under a grant: the access token (opaque, or an RFC 9068
//! JWT for clients registered with that format), the refresh token, and the
//! ID token when `openid` is granted.

use std::sync::Arc;
use std::time::Duration;

use oauth_core::id_token::{AccessTokenClaims, Audience, IdTokenClaims, IdTokenInput};
use oauth_core::jose::SigningKey;
use oauth_core::secret::generate_id;
use oauth_core::token::TokenResponse;
use oauth_core::{AccessTokenFormat, Client, ScopeSet, SecretString, Timestamp, Token, User};
use oauth_store::tokens::{self, NewToken};
use oauth_store::{DbConnection, StoreError};

use super::GrantContext;

/// How long an ID token is valid.
const ID_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// What to mint.
pub(super) struct Mint<'a> {
    pub client: &'a Client,
    pub grant_id: &'a str,
    /// The user the grant is for; `None` for client credentials.
    pub user: Option<&'a User>,
    /// The access token's scopes.
    pub scopes: &'a ScopeSet,
    /// The access token's audience (RFC 8707 resources).
    pub audience: Vec<String>,
    /// A refresh token with these scopes, ending at this time.
    pub refresh: Option<(&'a ScopeSet, Timestamp)>,
    /// When the user authenticated (for the ID token's `auth_time`).
    pub auth_time: Option<Timestamp>,
    /// The authorization request's nonce, for the first ID token only.
    pub nonce: Option<&'a str>,
}

/// Stores the tokens and returns the response that carries them.
pub(super) fn tokens(
    conn: &mut DbConnection,
    ctx: &GrantContext,
    mint: Mint<'_>,
    now: Timestamp,
) -> Result<TokenResponse, StoreError> {
    let mut rng = rand::rng();
    let lifetime = ctx.lifetimes.access_token;
    let audience = if mint.audience.is_empty() {
        vec![ctx.issuer.clone()]
    } else {
        mint.audience.clone()
    };
    let access = match mint.client.metadata.access_token_format {
        AccessTokenFormat::Opaque => Token::generate(&mut rng).expose_secret().to_owned(),
        AccessTokenFormat::Jwt => {
            let claims = AccessTokenClaims {
                iss: ctx.issuer.clone(),
                exp: now.plus(lifetime).unix(),
                aud: Audience(audience.clone()),
                sub: mint
                    .user
                    .map_or_else(|| mint.client.id.to_string(), |u| u.id.to_string()),
                client_id: mint.client.id.to_string(),
                iat: now.unix(),
                jti: generate_id(&mut rng, 16),
                scope: mint.scopes.to_string(),
                auth_time: mint.auth_time.map(Timestamp::unix),
            };
            sign(&ctx.signer, Some("at+jwt"), &claims)?
        }
    };
    // JWT access tokens are stored too (as the digest of the whole JWT), so
    // revocation and introspection treat both formats alike.
    tokens::insert_access(
        conn,
        NewToken {
            digest: &SecretString::new(access.clone()).digest(),
            grant_id: mint.grant_id,
            scopes: mint.scopes,
            audience: &audience,
            created_at: now,
            expires_at: now.plus(lifetime),
        },
    )?;
    let refresh_token = match mint.refresh {
        Some((scopes, expires_at)) => {
            let token = Token::generate(&mut rng);
            tokens::insert_refresh(
                conn,
                NewToken {
                    digest: &token.digest(),
                    grant_id: mint.grant_id,
                    scopes,
                    audience: &[],
                    created_at: now,
                    expires_at,
                },
            )?;
            Some(token.expose_secret().to_owned())
        }
        None => None,
    };
    let id_token = match mint.user {
        Some(user) if mint.scopes.contains("openid") => {
            let claims = IdTokenClaims::new(IdTokenInput {
                issuer: &ctx.issuer,
                client_id: &mint.client.id,
                user,
                scopes: mint.scopes,
                auth_time: mint.auth_time,
                nonce: mint.nonce,
                access_token: Some(&access),
                alg: ctx.signer.alg(),
                now,
                lifetime: ID_TOKEN_LIFETIME,
            });
            Some(sign(&ctx.signer, None, &claims)?)
        }
        _ => None,
    };
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: lifetime.as_secs(),
        refresh_token,
        scope: mint.scopes.to_string(),
        id_token,
    })
}

fn sign(
    key: &Arc<SigningKey>,
    typ: Option<&str>,
    claims: &impl serde::Serialize,
) -> Result<String, StoreError> {
    // A signing failure is a broken key in storage, not the caller's fault.
    key.sign(typ, claims)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}
