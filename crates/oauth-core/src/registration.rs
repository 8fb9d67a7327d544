//! Dynamic client registration (RFC 7591) and its management protocol
//! (RFC 7592): the request a client sends, the rules that turn it into
//! [`ClientMetadata`], and the client information response.
//!
//! Everything here is pure. The server reads the body, calls
//! [`RegistrationRequest::from_json`] and [`RegistrationRequest::to_metadata`]
//! (or [`RegistrationRequest::to_update`] for an RFC 7592 update), generates
//! the credentials and stores the result. The rules between fields stay in
//! [`ClientMetadata::validate`]; this module adds only what is particular to
//! self-registration:
//!
//! - RFC 7591's defaults for omitted members: `client_secret_basic`,
//!   `["authorization_code"]`, the response types that go with the grant
//!   types, scope `openid`, and the name [`DEFAULT_CLIENT_NAME`].
//! - Redirect URIs must be `https`, or `http` on a loopback IP literal
//!   (RFC 8252 §7.3). `http://localhost` and private-use schemes are left to
//!   an administrator (`oauthctl client add`).
//! - `grant_types` and `response_types` must agree as RFC 7591 §2.1's table
//!   says (`code` with `authorization_code`, `token` with `implicit`).
//! - What only an administrator may decide is never taken from the request:
//!   `skip_authorization` is off, `allowed_roles` is empty, access tokens are
//!   opaque, plain PKCE is refused, and `client_credentials` is refused
//!   unless [`RegistrationPolicy::allow_client_credentials`] says otherwise
//!   (a self-registered client could otherwise mint user-less tokens for any
//!   scope it names).
//! - Members this server does not know are ignored (RFC 7591 §2: "MUST
//!   ignore"); a JSON `null` counts as an omitted member.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::client::{
    AccessTokenFormat, Client, ClientMetadata, GrantType, ResponseType, TokenEndpointAuthMethod,
};
use crate::error::{InvalidValue, RegistrationErrorCode as Code};
use crate::redirect_uri::RedirectUri;
use crate::scope::ScopeSet;
use crate::secret::{ClientSecret, Token};

/// The name a client gets when it sends no `client_name`. RFC 7591 makes the
/// member optional, and refusing generic registration tools over a display
/// name helps no one; the consent page then says plainly that the client did
/// not name itself.
pub const DEFAULT_CLIENT_NAME: &str = "Unnamed client";

/// The scope a client gets when it sends no `scope` (RFC 7591 §2 leaves the
/// default to the server).
pub const DEFAULT_SCOPE: &str = "openid";

/// Most redirect URIs one registration may hold.
pub const MAX_REDIRECT_URIS: usize = 20;

/// Most contacts one registration may hold.
pub const MAX_CONTACTS: usize = 10;

/// A registration or update refused, with the RFC 7591 §3.2.2 code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct RegistrationError {
    pub code: Code,
    pub description: String,
}

impl RegistrationError {
    pub fn new(code: Code, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }

    /// `invalid_client_metadata`.
    pub fn metadata(description: impl Into<String>) -> Self {
        Self::new(Code::InvalidClientMetadata, description)
    }

    /// `invalid_redirect_uri`.
    pub fn redirect_uri(description: impl Into<String>) -> Self {
        Self::new(Code::InvalidRedirectUri, description)
    }

    /// A rule of [`ClientMetadata::validate`] or a parser, as the registration
    /// error that names it: redirect URI problems are `invalid_redirect_uri`,
    /// everything else `invalid_client_metadata`.
    fn from_invalid(e: &InvalidValue) -> Self {
        let code = if e.what().contains("redirect URI") {
            Code::InvalidRedirectUri
        } else {
            Code::InvalidClientMetadata
        };
        Self::new(code, e.to_string())
    }
}

/// What the server lets self-registered clients have beyond the safe
/// defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegistrationPolicy {
    /// Accept `client_credentials` in `grant_types`. Off by default: with
    /// open registration anyone could otherwise get access tokens, without
    /// any user's consent, for whatever scopes the client registered.
    pub allow_client_credentials: bool,
}

/// The client metadata a registration (RFC 7591 §2) or update (RFC 7592
/// §2.2) request carries, as sent: strings not yet parsed. `None` is an
/// omitted (or `null`) member.
///
/// There is no `Deserialize`: [`RegistrationRequest::from_json`] is the one
/// parser, because it says which member is wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrationRequest {
    pub redirect_uris: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub client_name: Option<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub scope: Option<String>,
    pub contacts: Option<Vec<String>>,
    /// RFC 7592 §2.2: an update names the client it updates. Ignored on
    /// registration: the server chooses client ids.
    pub client_id: Option<String>,
    /// RFC 7592 §2.2: an update may repeat the client's secret, which must
    /// then be the right one. Ignored on registration.
    pub client_secret: Option<ClientSecret>,
}

impl RegistrationRequest {
    /// Parses a JSON body. It must be an object; members of the wrong JSON
    /// type are errors naming the member, unknown members are ignored.
    pub fn from_json(body: &[u8]) -> Result<Self, RegistrationError> {
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            RegistrationError::metadata(format!("the body is not valid JSON ({e})"))
        })?;
        let Value::Object(members) = value else {
            return Err(RegistrationError::metadata(
                "the body must be a JSON object",
            ));
        };
        let client_secret = member::<String>(&members, "client_secret")?
            .map(ClientSecret::presented)
            .transpose()
            .map_err(|e| RegistrationError::from_invalid(&e))?;
        Ok(Self {
            redirect_uris: member(&members, "redirect_uris")?,
            token_endpoint_auth_method: member(&members, "token_endpoint_auth_method")?,
            grant_types: member(&members, "grant_types")?,
            response_types: member(&members, "response_types")?,
            client_name: member(&members, "client_name")?,
            client_uri: member(&members, "client_uri")?,
            logo_uri: member(&members, "logo_uri")?,
            scope: member(&members, "scope")?,
            contacts: member(&members, "contacts")?,
            client_id: member(&members, "client_id")?,
            client_secret,
        })
    }

    /// The metadata of a newly registered client: RFC 7591's defaults for
    /// what was omitted, this module's rules, then
    /// [`ClientMetadata::validate`]. Fields registration may not set have
    /// their safe defaults.
    pub fn to_metadata(
        &self,
        policy: &RegistrationPolicy,
    ) -> Result<ClientMetadata, RegistrationError> {
        let auth_method = match &self.token_endpoint_auth_method {
            Some(m) => TokenEndpointAuthMethod::parse(m)
                .map_err(|e| RegistrationError::from_invalid(&e))?,
            None => TokenEndpointAuthMethod::ClientSecretBasic,
        };
        let (grant_types, _) = self.grant_and_response_types(policy)?;
        let redirect_uris = self.redirect_uris()?;
        let scopes = match &self.scope {
            Some(s) => {
                let scopes = ScopeSet::parse(s).map_err(|e| RegistrationError::from_invalid(&e))?;
                if scopes.is_empty() {
                    return Err(RegistrationError::metadata(
                        "scope must name at least one scope; omit it for the default",
                    ));
                }
                scopes
            }
            None => {
                ScopeSet::parse(DEFAULT_SCOPE).map_err(|e| RegistrationError::from_invalid(&e))?
            }
        };
        let contacts = self.contacts.clone().unwrap_or_default();
        if contacts.len() > MAX_CONTACTS {
            return Err(RegistrationError::metadata(format!(
                "contacts may hold at most {MAX_CONTACTS} entries"
            )));
        }
        let name = self.client_name.as_deref().unwrap_or(DEFAULT_CLIENT_NAME);
        let mut metadata = ClientMetadata::new(name, redirect_uris, scopes);
        metadata.grant_types = grant_types;
        metadata.token_endpoint_auth_method = auth_method;
        metadata.skip_authorization = false;
        metadata.allowed_roles = Vec::new();
        metadata.access_token_format = AccessTokenFormat::Opaque;
        metadata.allow_plain_pkce = false;
        metadata.client_uri = self.client_uri.clone();
        metadata.logo_uri = self.logo_uri.clone();
        metadata.contacts = contacts;
        metadata
            .validate()
            .map_err(|e| RegistrationError::from_invalid(&e))
    }

    /// An RFC 7592 §2.2 update of `current`: the request replaces the
    /// registered metadata whole, so omitted members go back to their
    /// defaults. The body must name the client (`client_id`) and, if it
    /// sends `client_secret`, the right one.
    ///
    /// What registration may not set keeps the value it has, so an update
    /// neither undoes an administrator's settings nor grants itself more.
    /// Changing from `none` to a secret method issues a secret
    /// ([`SecretChange::Issue`]); changing to `none` drops it.
    pub fn to_update(
        &self,
        current: &Client,
        policy: &RegistrationPolicy,
    ) -> Result<ClientUpdate, RegistrationError> {
        match &self.client_id {
            Some(id) if id == current.id.as_str() => {}
            Some(_) => {
                return Err(RegistrationError::metadata(
                    "client_id does not match the client being updated",
                ));
            }
            None => {
                return Err(RegistrationError::metadata(
                    "client_id is required in an update (RFC 7592 §2.2)",
                ));
            }
        }
        if let Some(secret) = &self.client_secret {
            let right = current
                .secret_digest
                .as_ref()
                .is_some_and(|d| d.matches(secret.expose_secret()));
            if !right {
                return Err(RegistrationError::metadata(
                    "client_secret does not match the client's secret",
                ));
            }
        }
        let old = &current.metadata;
        // An administrator may have granted client_credentials; an update
        // may keep what was granted.
        let policy = RegistrationPolicy {
            allow_client_credentials: policy.allow_client_credentials
                || old.allows_grant(GrantType::ClientCredentials),
        };
        let mut metadata = self.to_metadata(&policy)?;
        metadata.skip_authorization = old.skip_authorization;
        metadata.allowed_roles.clone_from(&old.allowed_roles);
        metadata.access_token_format = old.access_token_format;
        metadata.allow_plain_pkce = old.allow_plain_pkce && !metadata.is_public();
        metadata.default_redirect_uri = old
            .default_redirect_uri
            .clone()
            .filter(|d| metadata.redirect_uris.contains(d));
        let metadata = metadata
            .validate()
            .map_err(|e| RegistrationError::from_invalid(&e))?;
        let secret = match (current.secret_digest.is_some(), metadata.is_public()) {
            (true, false) => SecretChange::Keep,
            (true, true) => SecretChange::Drop,
            (false, false) => SecretChange::Issue,
            (false, true) => SecretChange::Keep,
        };
        Ok(ClientUpdate { metadata, secret })
    }

    /// Parses and checks `grant_types` and `response_types`, filling in an
    /// omitted one from the other (RFC 7591 §2.1's table).
    fn grant_and_response_types(
        &self,
        policy: &RegistrationPolicy,
    ) -> Result<(Vec<GrantType>, BTreeSet<ResponseType>), RegistrationError> {
        let grants = self
            .grant_types
            .as_ref()
            .map(|list| parse_all(list, GrantType::parse))
            .transpose()?;
        let responses = self
            .response_types
            .as_ref()
            .map(|list| parse_all(list, ResponseType::parse))
            .transpose()?;
        let (grants, responses) = match (grants, responses) {
            (None, None) => (
                vec![GrantType::AuthorizationCode],
                BTreeSet::from([ResponseType::Code]),
            ),
            (Some(grants), None) => {
                let responses = implied_response_types(&grants);
                (grants, responses)
            }
            (None, Some(responses)) => {
                let grants = responses
                    .iter()
                    .map(|r| match r {
                        ResponseType::Code => GrantType::AuthorizationCode,
                        ResponseType::Token => GrantType::Implicit,
                    })
                    .collect();
                (grants, responses.into_iter().collect())
            }
            (Some(grants), Some(responses)) => {
                let given: BTreeSet<ResponseType> = responses.into_iter().collect();
                let implied = implied_response_types(&grants);
                if given != implied {
                    return Err(RegistrationError::metadata(format!(
                        "response_types {} do not match grant_types {}: \"code\" goes with \
                         authorization_code and \"token\" with implicit (RFC 7591 §2.1)",
                        list(given.iter()),
                        list(grants.iter()),
                    )));
                }
                (grants, given)
            }
        };
        if !policy.allow_client_credentials && grants.contains(&GrantType::ClientCredentials) {
            return Err(client_credentials_refused());
        }
        Ok((grants, responses))
    }

    /// Parses `redirect_uris`: each must be a valid redirect URI, and
    /// `https` or `http` on a loopback IP literal.
    fn redirect_uris(&self) -> Result<Vec<RedirectUri>, RegistrationError> {
        let Some(given) = &self.redirect_uris else {
            return Ok(Vec::new());
        };
        if given.len() > MAX_REDIRECT_URIS {
            return Err(RegistrationError::redirect_uri(format!(
                "at most {MAX_REDIRECT_URIS} redirect URIs may be registered"
            )));
        }
        given
            .iter()
            .map(|s| {
                let uri = RedirectUri::parse(s).map_err(|e| RegistrationError::from_invalid(&e))?;
                if uri.is_https() || uri.is_loopback_ip() {
                    Ok(uri)
                } else {
                    Err(RegistrationError::redirect_uri(format!(
                        "{s:?}: must be https, or http on a loopback IP literal \
                         (127.0.0.1 or [::1], RFC 8252 §7.3)"
                    )))
                }
            })
            .collect()
    }
}

/// What an update does to the client secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretChange {
    /// Keep the stored secret (or keep having none).
    Keep,
    /// The client became confidential: issue a secret and show it once.
    Issue,
    /// The client became public: forget the secret.
    Drop,
}

/// The outcome of an RFC 7592 update: the validated metadata and what to
/// do with the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientUpdate {
    pub metadata: ClientMetadata,
    pub secret: SecretChange,
}

/// The client information response (RFC 7591 §3.2.1, RFC 7592 §3): the
/// client's id, its credentials where they are at hand, and every
/// registered metadata member.
///
/// The client secret appears only when it was just issued: the server
/// keeps only its digest. `client_secret_expires_at` is `0` (never) for
/// every confidential client.
pub struct ClientInformation<'a> {
    pub client: &'a Client,
    /// The secret, when it was issued by this request.
    pub client_secret: Option<&'a ClientSecret>,
    /// The registration access token: newly issued, or as the request
    /// presented it (RFC 7592 §3 requires it in every response).
    pub registration_access_token: &'a Token,
    /// Where the client reads, updates and deletes its registration.
    pub registration_client_uri: &'a str,
}

impl fmt::Debug for ClientInformation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientInformation")
            .field("client_id", &self.client.id)
            .field("registration_client_uri", &self.registration_client_uri)
            .finish_non_exhaustive()
    }
}

impl serde::Serialize for ClientInformation<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = &self.client.metadata;
        Wire {
            client_id: self.client.id.as_str(),
            client_secret: self.client_secret.map(ClientSecret::expose_secret),
            client_id_issued_at: self.client.created_at.unix(),
            client_secret_expires_at: (!m.is_public()).then_some(0),
            registration_access_token: self.registration_access_token.expose_secret(),
            registration_client_uri: self.registration_client_uri,
            redirect_uris: m.redirect_uris.iter().map(RedirectUri::as_str).collect(),
            token_endpoint_auth_method: m.token_endpoint_auth_method.as_str(),
            grant_types: m.grant_types.iter().map(|g| g.as_str()).collect(),
            response_types: m.response_types().iter().map(|r| r.as_str()).collect(),
            client_name: &m.name,
            scope: m.scopes.to_string(),
            client_uri: m.client_uri.as_deref(),
            logo_uri: m.logo_uri.as_deref(),
            contacts: &m.contacts,
        }
        .serialize(s)
    }
}

/// The response's members, in the order RFC 7591 §3.2.1 lists them.
#[derive(serde::Serialize)]
struct Wire<'a> {
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
    client_id_issued_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret_expires_at: Option<i64>,
    registration_access_token: &'a str,
    registration_client_uri: &'a str,
    redirect_uris: Vec<&'a str>,
    token_endpoint_auth_method: &'a str,
    grant_types: Vec<&'a str>,
    response_types: Vec<&'a str>,
    client_name: &'a str,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logo_uri: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    contacts: &'a [String],
}

/// One member of the request object, deserialized to `T`; `None` when it
/// is absent or `null`.
fn member<T: DeserializeOwned>(
    members: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<T>, RegistrationError> {
    match members.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => T::deserialize(value).map(Some).map_err(|e| {
            let code = if name == "redirect_uris" {
                Code::InvalidRedirectUri
            } else {
                Code::InvalidClientMetadata
            };
            RegistrationError::new(code, format!("{name}: {e}"))
        }),
    }
}

fn parse_all<T: PartialEq>(
    list: &[String],
    parse: impl Fn(&str) -> Result<T, InvalidValue>,
) -> Result<Vec<T>, RegistrationError> {
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        let value = parse(item).map_err(|e| RegistrationError::from_invalid(&e))?;
        if !out.contains(&value) {
            out.push(value);
        }
    }
    Ok(out)
}

/// The response types RFC 7591 §2.1's table pairs with these grant types.
fn implied_response_types(grants: &[GrantType]) -> BTreeSet<ResponseType> {
    grants
        .iter()
        .filter_map(|g| match g {
            GrantType::AuthorizationCode => Some(ResponseType::Code),
            GrantType::Implicit => Some(ResponseType::Token),
            GrantType::RefreshToken | GrantType::ClientCredentials => None,
        })
        .collect()
}

fn client_credentials_refused() -> RegistrationError {
    RegistrationError::metadata(
        "client_credentials is not open to dynamic registration; an administrator \
         registers such clients (oauthctl client add --grant-type client_credentials)",
    )
}

fn list<T: fmt::Display>(items: impl Iterator<Item = T>) -> String {
    let quoted: Vec<String> = items.map(|i| format!("\"{i}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests;
