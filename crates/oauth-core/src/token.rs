//! The token endpoint (RFC 6749 §3.2, §4.1.3, §6): the request, one enum
//! variant per grant type, and the rules a presented code or refresh token
//! must pass. Storage and the atomic "use once" steps are the server's; the
//! decisions are here, with the clock as an argument.

use std::fmt;

use crate::error::TokenErrorCode as Code;
use crate::ids::{ClientId, UserId};
use crate::params::{Duplicate, Params};
use crate::pkce::{CodeChallenge, CodeVerifier};
use crate::resource::{self, Resource};
use crate::scope::ScopeSet;
use crate::secret::Token;
use crate::time::Timestamp;

/// An error answered by the token endpoint (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    pub code: Code,
    pub description: String,
}

impl TokenError {
    pub fn new(code: Code, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }

    pub(crate) fn duplicate(d: Duplicate) -> Self {
        Self::new(Code::InvalidRequest, d.to_string())
    }

    fn grant(description: &str) -> Self {
        Self::new(Code::InvalidGrant, description)
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl std::error::Error for TokenError {}

/// A token request, tagged on `grant_type`; each variant holds only its
/// grant's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRequest {
    AuthorizationCode {
        code: Token,
        redirect_uri: Option<String>,
        code_verifier: Option<CodeVerifier>,
        resources: Vec<Resource>,
    },
    RefreshToken {
        refresh_token: Token,
        scope: Option<ScopeSet>,
        resources: Vec<Resource>,
    },
    ClientCredentials {
        scope: Option<ScopeSet>,
        resources: Vec<Resource>,
    },
}

/// Every parameter the token endpoint reads; none may repeat.
const SINGLE_VALUED: &[&str] = &[
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "client_id",
    "client_secret",
];

impl TokenRequest {
    pub fn parse(params: &Params) -> Result<Self, TokenError> {
        if let Some(dup) = params.first_duplicate(SINGLE_VALUED) {
            return Err(TokenError::duplicate(dup));
        }
        let get = |name: &'static str| params.get(name).unwrap_or_default();
        let required = |name: &'static str| {
            get(name).ok_or_else(|| {
                TokenError::new(
                    Code::InvalidRequest,
                    format!("the {name} parameter is missing"),
                )
            })
        };
        let scope = || {
            get("scope")
                .map(ScopeSet::parse)
                .transpose()
                .map_err(|e| TokenError::new(Code::InvalidScope, e.to_string()))
                .map(|s| s.filter(|s| !s.is_empty()))
        };
        let resources = resource::requested(params)
            .map_err(|e| TokenError::new(Code::InvalidTarget, e.to_string()))?;
        let token = |name: &'static str| {
            required(name).and_then(|v| {
                Token::presented(v).map_err(|_| TokenError::grant("the token is malformed"))
            })
        };
        match required("grant_type")? {
            "authorization_code" => Ok(Self::AuthorizationCode {
                code: token("code")?,
                redirect_uri: get("redirect_uri").map(str::to_owned),
                code_verifier: get("code_verifier")
                    .map(CodeVerifier::parse)
                    .transpose()
                    .map_err(|e| TokenError::new(Code::InvalidRequest, e.to_string()))?,
                resources,
            }),
            "refresh_token" => Ok(Self::RefreshToken {
                refresh_token: token("refresh_token")?,
                scope: scope()?,
                resources,
            }),
            "client_credentials" => Ok(Self::ClientCredentials {
                scope: scope()?,
                resources,
            }),
            other => Err(TokenError::new(
                Code::UnsupportedGrantType,
                format!("grant_type {other:?} is not supported"),
            )),
        }
    }

    /// The grant type this request uses.
    pub fn grant_type(&self) -> crate::client::GrantType {
        use crate::client::GrantType;
        match self {
            Self::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            Self::RefreshToken { .. } => GrantType::RefreshToken,
            Self::ClientCredentials { .. } => GrantType::ClientCredentials,
        }
    }
}

/// An authorization code as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub client_id: ClientId,
    pub user_id: UserId,
    pub redirect_uri: String,
    pub redirect_uri_given: bool,
    pub scopes: ScopeSet,
    pub nonce: Option<String>,
    pub code_challenge: Option<CodeChallenge>,
    /// RFC 8707 resources the user authorized.
    pub resources: Vec<Resource>,
    pub auth_time: Timestamp,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// Set once the code has been exchanged.
    pub redeemed_at: Option<Timestamp>,
    /// The grant its exchange created, to revoke if the code is replayed.
    pub grant_id: Option<String>,
}

impl AuthorizationCode {
    /// Checks a token request's code against the stored one (RFC 6749
    /// §4.1.3 and RFC 7636 §4.6). The caller has authenticated `client_id`
    /// and handles a code that was already redeemed (a replay) itself,
    /// since that must also revoke what the first exchange issued.
    pub fn check(
        &self,
        client_id: &ClientId,
        redirect_uri: Option<&str>,
        verifier: Option<&CodeVerifier>,
        now: Timestamp,
    ) -> Result<(), TokenError> {
        if &self.client_id != client_id {
            return Err(TokenError::grant("the code was issued to another client"));
        }
        if now >= self.expires_at {
            return Err(TokenError::grant("the code has expired"));
        }
        match (self.redirect_uri_given, redirect_uri) {
            (true, None) => {
                return Err(TokenError::grant(
                    "redirect_uri is required: the authorization request included it",
                ));
            }
            (_, Some(given)) if given != self.redirect_uri => {
                return Err(TokenError::grant(
                    "redirect_uri does not match the authorization request",
                ));
            }
            _ => {}
        }
        match (&self.code_challenge, verifier) {
            (Some(challenge), Some(verifier)) if challenge.verify(verifier) => Ok(()),
            (Some(_), Some(_)) => Err(TokenError::grant(
                "the code_verifier does not match the code_challenge",
            )),
            (Some(_), None) => Err(TokenError::grant(
                "code_verifier is required: the authorization request used PKCE",
            )),
            (None, Some(_)) => Err(TokenError::grant(
                "code_verifier was sent, but the authorization request had no code_challenge",
            )),
            (None, None) => Ok(()),
        }
    }
}

impl AuthorizationCode {
    /// The resources the tokens will be for: those the token request names,
    /// which must be among those authorized (RFC 8707 §2.2), or else all
    /// that were authorized.
    pub fn resources_for(&self, requested: &[Resource]) -> Result<Vec<Resource>, TokenError> {
        narrow_resources(&self.resources, requested, self.resources.is_empty())
    }
}

/// `requested` if it is within `allowed` (or anything goes), else
/// `invalid_target`; all of `allowed` when nothing is requested.
fn narrow_resources(
    allowed: &[Resource],
    requested: &[Resource],
    open: bool,
) -> Result<Vec<Resource>, TokenError> {
    if requested.is_empty() {
        return Ok(allowed.to_vec());
    }
    if open || resource::all_within(requested, allowed) {
        return Ok(requested.to_vec());
    }
    Err(TokenError::new(
        Code::InvalidTarget,
        "a requested resource was not authorized",
    ))
}

/// A refresh token as stored, with the state of its grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub grant_id: String,
    pub client_id: ClientId,
    pub user_id: Option<UserId>,
    pub scopes: ScopeSet,
    /// The grant's resources (RFC 8707).
    pub resources: Vec<Resource>,
    /// When the user authenticated for the grant (for refreshed ID tokens).
    pub auth_time: Option<Timestamp>,
    pub expires_at: Timestamp,
    /// Already exchanged for a successor.
    pub rotated: bool,
    /// This token, or its whole grant, was revoked.
    pub revoked: bool,
}

/// Why a refresh token cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshRefused {
    /// The token was already exchanged: someone holds a copy. The whole
    /// grant must be revoked (RFC 9700 §4.14.2).
    Reused,
    Invalid(TokenError),
}

impl RefreshToken {
    /// Checks a refresh request and returns the scopes of the new access
    /// token: those asked for, which may narrow but never widen the grant
    /// (RFC 6749 §6).
    pub fn check(
        &self,
        client_id: &ClientId,
        requested: Option<&ScopeSet>,
        now: Timestamp,
    ) -> Result<ScopeSet, RefreshRefused> {
        if &self.client_id != client_id {
            return Err(RefreshRefused::Invalid(TokenError::grant(
                "the refresh token was issued to another client",
            )));
        }
        if self.revoked {
            return Err(RefreshRefused::Invalid(TokenError::grant(
                "the refresh token was revoked",
            )));
        }
        if self.rotated {
            return Err(RefreshRefused::Reused);
        }
        if now >= self.expires_at {
            return Err(RefreshRefused::Invalid(TokenError::grant(
                "the refresh token has expired",
            )));
        }
        match requested {
            None => Ok(self.scopes.clone()),
            Some(scopes) if scopes.is_subset_of(&self.scopes) => Ok(scopes.clone()),
            Some(scopes) => Err(RefreshRefused::Invalid(TokenError::new(
                Code::InvalidScope,
                format!(
                    "the grant does not include: {}",
                    scopes.difference(&self.scopes)
                ),
            ))),
        }
    }
}

impl RefreshToken {
    /// The resources a refreshed access token is for: within the grant's.
    pub fn resources_for(&self, requested: &[Resource]) -> Result<Vec<Resource>, TokenError> {
        narrow_resources(&self.resources, requested, false)
    }
}

/// A successful token response (RFC 6749 §5.1), in the seed's shape.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl fmt::Debug for TokenResponse {
    /// Shows the shape, never the tokens.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("scope", &self.scope)
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
