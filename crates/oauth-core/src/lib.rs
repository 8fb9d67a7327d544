//! The OAuth 2.0 and OpenID Connect domain.
//!
//! This crate holds the protocol values (client ids, redirect URIs, scopes,
//! PKCE), the records the server keeps (clients, users), secret generation
//! and hashing, and the RFC error codes. It does no IO: the clock and the
//! random source are arguments, so every rule can be tested with fixed
//! times and seeded generators.
//!
//! Architecture Invariant: this crate depends on no web, database or
//! template crate (`cargo xtask ci` checks it).

pub mod authorize;
pub mod bearer;
pub mod claims;
pub mod client;
pub mod client_auth;
pub mod error;
pub mod id_token;
pub mod ids;
pub mod jose;
pub mod params;
pub mod password;
pub mod pkce;
pub mod redirect_uri;
pub mod registration;
pub mod resource;
pub mod scope;
pub mod secret;
pub mod throttle;
pub mod time;
pub mod token;
pub mod user;

pub use client::{
    AccessTokenFormat, Client, ClientMetadata, GrantType, PreviousSecret, ResponseType,
    TokenEndpointAuthMethod,
};
pub use error::InvalidValue;
pub use ids::{ClientId, Email, FullName, Picture, Role, UserId, Username};
pub use password::{Password, PasswordHash};
pub use pkce::{CodeChallenge, CodeChallengeMethod, CodeVerifier};
pub use redirect_uri::RedirectUri;
pub use scope::{Scope, ScopeSet};
pub use secret::{ClientSecret, SecretDigest, SecretString, Token};
pub use time::Timestamp;
pub use user::User;
