//! Client authentication at the token, revocation and introspection
//! endpoints (RFC 6749 §2.3).
//!
//! A client presents its credentials with HTTP Basic or in the form body;
//! a public client presents only its `client_id`. Using both mechanisms at
//! once is an `invalid_request` (§2.3: "MUST NOT use more than one
//! authentication method in each request"). As Frappe does, a
//! `client_secret_basic` client may also send its secret in the body; a
//! `client_secret_post` client must.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::client::{Client, TokenEndpointAuthMethod};
use crate::error::TokenErrorCode as Code;
use crate::ids::ClientId;
use crate::params::Params;
use crate::secret::ClientSecret;
use crate::time::Timestamp;
use crate::token::TokenError;

/// How the credentials arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// `Authorization: Basic …`.
    Basic,
    /// `client_id` (and `client_secret`) in the form body.
    Body,
}

/// Credentials a request presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedClient {
    pub client_id: ClientId,
    pub secret: Option<ClientSecret>,
    pub mechanism: Mechanism,
}

/// Reads the credentials from the `Authorization` header (if any) and the
/// form parameters.
pub fn presented(
    authorization: Option<&str>,
    params: &Params,
) -> Result<PresentedClient, TokenError> {
    let body_id = params.get("client_id").map_err(TokenError::duplicate)?;
    let body_secret = params.get("client_secret").map_err(TokenError::duplicate)?;
    let basic = authorization.map(parse_basic).transpose()?;
    match basic {
        Some((id, secret)) => {
            if body_secret.is_some() {
                return Err(TokenError::new(
                    Code::InvalidRequest,
                    "send client credentials with HTTP Basic or in the body, not both",
                ));
            }
            if body_id.is_some_and(|b| b != id.as_str()) {
                return Err(TokenError::new(
                    Code::InvalidRequest,
                    "client_id in the body differs from the one in the Authorization header",
                ));
            }
            Ok(PresentedClient {
                client_id: id,
                secret: Some(secret),
                mechanism: Mechanism::Basic,
            })
        }
        None => {
            let Some(id) = body_id else {
                return Err(TokenError::new(
                    Code::InvalidClient,
                    "client authentication is required",
                ));
            };
            let client_id = ClientId::parse(id)
                .map_err(|_| TokenError::new(Code::InvalidClient, "unknown client"))?;
            let secret = body_secret
                .map(ClientSecret::presented)
                .transpose()
                .map_err(|_| {
                    TokenError::new(Code::InvalidClient, "client authentication failed")
                })?;
            Ok(PresentedClient {
                client_id,
                secret,
                mechanism: Mechanism::Body,
            })
        }
    }
}

/// Checks presented credentials against the registered client at `now`
/// (a rotated-out secret works until its grace period ends).
pub fn authenticate(
    client: &Client,
    presented: &PresentedClient,
    now: Timestamp,
) -> Result<(), TokenError> {
    let failed = || TokenError::new(Code::InvalidClient, "client authentication failed");
    let method = client.metadata.token_endpoint_auth_method;
    match (method, presented.mechanism, &presented.secret) {
        (TokenEndpointAuthMethod::None, Mechanism::Body, None) => Ok(()),
        (TokenEndpointAuthMethod::None, _, _) => Err(TokenError::new(
            Code::InvalidClient,
            "this is a public client: send only client_id, without a secret",
        )),
        (TokenEndpointAuthMethod::ClientSecretPost, Mechanism::Basic, _) => Err(TokenError::new(
            Code::InvalidClient,
            "this client authenticates with client_secret_post",
        )),
        (_, _, None) => Err(TokenError::new(
            Code::InvalidClient,
            "client_secret is required",
        )),
        (_, _, Some(secret)) if client.secret_matches(secret.expose_secret(), now) => Ok(()),
        (_, _, Some(_)) => Err(failed()),
    }
}

/// Parses `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749
/// §2.3.1; the scheme name is case-insensitive, RFC 7235 §2.1).
fn parse_basic(header: &str) -> Result<(ClientId, ClientSecret), TokenError> {
    let bad = || TokenError::new(Code::InvalidClient, "malformed HTTP Basic credentials");
    let (scheme, rest) = header.trim().split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(TokenError::new(
            Code::InvalidClient,
            "unsupported authentication scheme; use HTTP Basic",
        ));
    }
    let decoded = STANDARD.decode(rest.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let id = form_decode(id);
    let secret = form_decode(secret);
    let client_id = ClientId::parse(&id).map_err(|_| bad())?;
    let secret = ClientSecret::presented(secret).map_err(|_| bad())?;
    Ok((client_id, secret))
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
