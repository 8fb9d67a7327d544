//! OAuth clients: their registered metadata and the rules that hold between
//! its fields.
//!
//! The fields are Frappe's OAuth Client doctype plus the RFC 7591 metadata
//! (`client_uri`, `logo_uri`, `contacts`). [`ClientMetadata::validate`] is
//! the one place that decides whether a combination makes sense, so the
//! CLI, dynamic registration and the store all agree.

use std::fmt;

use crate::error::InvalidValue;
use crate::ids::{ClientId, Role};
use crate::redirect_uri::RedirectUri;
use crate::scope::ScopeSet;
use crate::secret::{ClientSecret, SecretDigest};
use crate::time::Timestamp;

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)* }
            }

            pub fn parse(s: &str) -> Result<Self, InvalidValue> {
                match s {
                    $($wire => Ok($name::$variant),)*
                    other => Err(InvalidValue::new(
                        $what,
                        format!("{other:?} is not one of: {}", [$($wire),*].join(", ")),
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

wire_enum! {
    /// Grant types a client may use (RFC 7591 §2 `grant_types`).
    GrantType, "grant type" {
        /// RFC 6749 §4.1.
        AuthorizationCode => "authorization_code",
        /// RFC 6749 §6.
        RefreshToken => "refresh_token",
        /// RFC 6749 §4.4.
        ClientCredentials => "client_credentials",
        /// RFC 6749 §4.2; only for clients registered with it, as in Frappe.
        Implicit => "implicit",
    }
}

wire_enum! {
    /// Response types a client may request (RFC 7591 §2 `response_types`).
    ResponseType, "response type" {
        Code => "code",
        Token => "token",
    }
}

wire_enum! {
    /// How a client authenticates at the token endpoint (RFC 7591 §2).
    TokenEndpointAuthMethod, "token endpoint auth method" {
        /// HTTP Basic (RFC 6749 §2.3.1); the default. Such a client may also
        /// send its credentials in the body, as Frappe accepts.
        ClientSecretBasic => "client_secret_basic",
        /// `client_id` and `client_secret` in the form body.
        ClientSecretPost => "client_secret_post",
        /// A public client: no secret; PKCE S256 is required.
        None => "none",
    }
}

wire_enum! {
    /// The form of access tokens issued to a client.
    AccessTokenFormat, "access token format" {
        /// A random 256-bit string, checked by lookup or introspection.
        Opaque => "opaque",
        /// An RFC 9068 JWT, checkable offline against the JWKS.
        Jwt => "jwt",
    }
}

impl TokenEndpointAuthMethod {
    /// Does a client with this method hold a secret?
    pub fn is_confidential(self) -> bool {
        self != Self::None
    }
}

/// Longest client name accepted.
pub const MAX_CLIENT_NAME_CHARS: usize = 200;

/// What is registered about a client, whoever registers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMetadata {
    pub name: String,
    pub redirect_uris: Vec<RedirectUri>,
    /// Where to send the user when a request names no redirect URI; one of
    /// `redirect_uris`. Defaults to the first of them.
    pub default_redirect_uri: Option<RedirectUri>,
    /// The scopes this client may ask for; also what it gets when a request
    /// names none.
    pub scopes: ScopeSet,
    pub grant_types: Vec<GrantType>,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// Trusted first-party clients: no consent dialog.
    pub skip_authorization: bool,
    /// A user needs one of these roles to use the client; empty means any
    /// user.
    pub allowed_roles: Vec<Role>,
    pub access_token_format: AccessTokenFormat,
    /// Accept `code_challenge_method=plain`. Only confidential clients may
    /// opt in; public clients must use S256.
    pub allow_plain_pkce: bool,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub contacts: Vec<String>,
}

impl ClientMetadata {
    /// Metadata with this project's defaults: authorization code and refresh
    /// token grants, `client_secret_basic`, opaque tokens, consent asked.
    pub fn new(name: impl Into<String>, redirect_uris: Vec<RedirectUri>, scopes: ScopeSet) -> Self {
        Self {
            name: name.into(),
            redirect_uris,
            default_redirect_uri: None,
            scopes,
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
            skip_authorization: false,
            allowed_roles: Vec::new(),
            access_token_format: AccessTokenFormat::Opaque,
            allow_plain_pkce: false,
            client_uri: None,
            logo_uri: None,
            contacts: Vec::new(),
        }
    }

    /// Checks the rules between fields and fills in what follows from
    /// them (deduplicated lists, the default redirect URI). Returns the
    /// first rule broken, as one line.
    pub fn validate(mut self) -> Result<Self, InvalidValue> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_CLIENT_NAME_CHARS {
            return Err(InvalidValue::new(
                "client name",
                format!("must be 1 to {MAX_CLIENT_NAME_CHARS} characters"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(InvalidValue::new(
                "client name",
                "must not contain control characters",
            ));
        }
        self.name = name.to_owned();

        dedup(&mut self.grant_types);
        dedup(&mut self.redirect_uris);
        dedup(&mut self.allowed_roles);
        dedup(&mut self.contacts);
        self.grant_types.sort();

        let has = |g| self.grant_types.contains(&g);
        if self.grant_types.is_empty() {
            return Err(InvalidValue::new(
                "grant types",
                "at least one grant type is required",
            ));
        }
        if has(GrantType::RefreshToken) && !has(GrantType::AuthorizationCode) {
            return Err(InvalidValue::new(
                "grant types",
                "refresh_token needs authorization_code: refresh tokens come only from it",
            ));
        }
        let public = !self.token_endpoint_auth_method.is_confidential();
        if public && has(GrantType::ClientCredentials) {
            return Err(InvalidValue::new(
                "grant types",
                "client_credentials needs a confidential client (a client secret)",
            ));
        }
        if public && self.allow_plain_pkce {
            return Err(InvalidValue::new(
                "PKCE method",
                "plain PKCE is only for confidential clients; public clients must use S256",
            ));
        }
        let redirects = has(GrantType::AuthorizationCode) || has(GrantType::Implicit);
        if redirects && self.redirect_uris.is_empty() {
            return Err(InvalidValue::new(
                "redirect URIs",
                "authorization_code and implicit need at least one redirect URI",
            ));
        }
        match &self.default_redirect_uri {
            Some(default) if !self.redirect_uris.contains(default) => {
                return Err(InvalidValue::new(
                    "default redirect URI",
                    format!("{default} is not one of the client's redirect URIs"),
                ));
            }
            Some(_) => {}
            None => self.default_redirect_uri = self.redirect_uris.first().cloned(),
        }
        if self.scopes.is_empty() {
            return Err(InvalidValue::new(
                "scopes",
                "at least one scope is required",
            ));
        }
        for (what, uri) in [
            ("client_uri", &self.client_uri),
            ("logo_uri", &self.logo_uri),
        ] {
            if let Some(uri) = uri {
                check_web_uri(what, uri)?;
            }
        }
        for contact in &self.contacts {
            if contact.is_empty() || contact.len() > 254 || contact.chars().any(char::is_control) {
                return Err(InvalidValue::new(
                    "contacts",
                    "each contact is 1 to 254 characters",
                ));
            }
        }
        Ok(self)
    }

    /// The response types the grant types allow (RFC 7591 §2.1's table).
    pub fn response_types(&self) -> Vec<ResponseType> {
        let mut types = Vec::new();
        if self.grant_types.contains(&GrantType::AuthorizationCode) {
            types.push(ResponseType::Code);
        }
        if self.grant_types.contains(&GrantType::Implicit) {
            types.push(ResponseType::Token);
        }
        types
    }

    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    pub fn is_public(&self) -> bool {
        !self.token_endpoint_auth_method.is_confidential()
    }
}

/// A registered client, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: ClientId,
    pub metadata: ClientMetadata,
    /// Digest of the client secret; `None` for public clients.
    pub secret_digest: Option<SecretDigest>,
    /// The secret replaced by the last rotation, while its grace period
    /// lasts (`oauthctl client rotate-secret --grace`).
    pub previous_secret: Option<PreviousSecret>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A rotated-out client secret that still authenticates until `expires_at`,
/// so a deployment can roll the new secret out without downtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousSecret {
    pub digest: SecretDigest,
    pub expires_at: Timestamp,
}

impl Client {
    /// A new client for `metadata` with a fresh id and, when it is
    /// confidential, a fresh secret: returned once for showing, stored only
    /// as its digest.
    pub fn create<R: rand_core::CryptoRng + ?Sized>(
        metadata: ClientMetadata,
        rng: &mut R,
        now: Timestamp,
    ) -> (Client, Option<ClientSecret>) {
        let secret = (!metadata.is_public()).then(|| ClientSecret::generate(rng));
        let client = Client {
            id: ClientId::generate(rng),
            secret_digest: secret.as_ref().map(ClientSecret::digest),
            previous_secret: None,
            metadata,
            created_at: now,
            updated_at: now,
        };
        (client, secret)
    }

    /// Replaces the secret with `new`. With a `grace` period the current
    /// secret keeps working until `now + grace`; without one it stops at
    /// once, and so does any earlier secret still in its grace period.
    pub fn rotate_secret(
        &mut self,
        new: &ClientSecret,
        grace: Option<std::time::Duration>,
        now: Timestamp,
    ) {
        let old = self.secret_digest.replace(new.digest());
        self.previous_secret = match (old, grace) {
            (Some(digest), Some(grace)) if !grace.is_zero() => Some(PreviousSecret {
                digest,
                expires_at: now.plus(grace),
            }),
            _ => None,
        };
        self.updated_at = now;
    }

    /// Does `secret` authenticate this client at `now`: the current secret,
    /// or the previous one within its grace period? Both digests are
    /// compared in constant time, whichever matches.
    pub fn secret_matches(&self, secret: &str, now: Timestamp) -> bool {
        let current = self
            .secret_digest
            .as_ref()
            .is_some_and(|d| d.matches(secret));
        let previous = self
            .previous_secret
            .as_ref()
            .is_some_and(|p| p.digest.matches(secret) & (now < p.expires_at));
        current | previous
    }

    /// Is this user allowed to use the client? (Frappe's "allowed roles":
    /// one shared role suffices; no roles listed means everyone.)
    pub fn admits_roles(&self, user_roles: &[Role]) -> bool {
        self.metadata.allowed_roles.is_empty()
            || self
                .metadata
                .allowed_roles
                .iter()
                .any(|r| user_roles.contains(r))
    }
}

fn dedup<T: PartialEq>(items: &mut Vec<T>) {
    let mut seen: Vec<T> = Vec::with_capacity(items.len());
    for item in items.drain(..) {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    *items = seen;
}

fn check_web_uri(what: &'static str, uri: &str) -> Result<(), InvalidValue> {
    let parsed =
        url::Url::parse(uri).map_err(|e| InvalidValue::new(what, format!("{uri:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || uri.len() > 2000 {
        return Err(InvalidValue::new(
            what,
            format!("{uri:?}: must be an http(s) URL"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
