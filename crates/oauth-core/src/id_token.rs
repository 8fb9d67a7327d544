//! The claims of the ID token (OpenID Connect Core §2, §3.1.3.6) and of
//! JWT access tokens (RFC 9068 §2.2). Signing is `jose`'s; deciding what
//! goes in is here.

use crate::claims::ProfileClaims;
use crate::ids::ClientId;
use crate::jose::{SigningAlg, half_hash};
use crate::scope::ScopeSet;
use crate::time::Timestamp;
use crate::user::User;

/// An ID token's claims.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    pub azp: String,
    #[serde(flatten)]
    pub profile: ProfileClaims,
}

/// What an ID token is issued for.
#[derive(Debug, Clone, Copy)]
pub struct IdTokenInput<'a> {
    pub issuer: &'a str,
    pub client_id: &'a ClientId,
    pub user: &'a User,
    pub scopes: &'a ScopeSet,
    pub auth_time: Option<Timestamp>,
    /// The authorization request's nonce; `None` on refresh (OIDC Core
    /// §12.2: a refreshed ID token should not carry one).
    pub nonce: Option<&'a str>,
    /// The access token issued with it, for `at_hash`.
    pub access_token: Option<&'a str>,
    pub alg: SigningAlg,
    pub now: Timestamp,
    pub lifetime: std::time::Duration,
}

impl IdTokenClaims {
    pub fn new(input: IdTokenInput<'_>) -> Self {
        Self {
            iss: input.issuer.to_owned(),
            sub: input.user.id.as_str().to_owned(),
            aud: input.client_id.as_str().to_owned(),
            exp: input.now.plus(input.lifetime).unix(),
            iat: input.now.unix(),
            auth_time: input.auth_time.map(Timestamp::unix),
            nonce: input.nonce.map(str::to_owned),
            at_hash: input.access_token.map(|t| half_hash(input.alg, t)),
            azp: input.client_id.as_str().to_owned(),
            profile: ProfileClaims::for_scopes(input.user, input.scopes),
        }
    }
}

/// An RFC 9068 access token's claims (`typ: at+jwt`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub exp: i64,
    /// One audience is written as a string, several as an array (RFC 7519
    /// §4.1.3).
    pub aud: Audience,
    /// The user, or the client itself for client credentials.
    pub sub: String,
    pub client_id: String,
    pub iat: i64,
    pub jti: String,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
}

/// The `aud` claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience(pub Vec<String>);

impl serde::Serialize for Audience {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => s.serialize_str(one),
            many => s.collect_seq(many),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{Email, FullName, UserId, Username};
    use crate::password::PasswordHash;

    fn user() -> User {
        User {
            id: UserId::parse("sub-1").unwrap(),
            username: Username::parse("alice").unwrap(),
            email: Some(Email::parse("alice@example.com").unwrap()),
            email_verified: true,
            full_name: Some(FullName::parse("Alice Liddell").unwrap()),
            picture: None,
            roles: vec![],
            enabled: true,
            password_hash: PasswordHash::decoy().clone(),
            created_at: Timestamp::from_unix(1),
            updated_at: Timestamp::from_unix(2),
        }
    }

    #[test]
    fn id_tokens_carry_the_oidc_claims() {
        let client = ClientId::parse("demo").unwrap();
        let user = user();
        let scopes = ScopeSet::parse("openid email").unwrap();
        let claims = IdTokenClaims::new(IdTokenInput {
            issuer: "https://auth.example",
            client_id: &client,
            user: &user,
            scopes: &scopes,
            auth_time: Some(Timestamp::from_unix(90)),
            nonce: Some("n-1"),
            access_token: Some("token"),
            alg: SigningAlg::Rs256,
            now: Timestamp::from_unix(100),
            lifetime: std::time::Duration::from_secs(3600),
        });
        let json = serde_json::to_value(&claims).unwrap();
        assert_eq!(json["iss"], "https://auth.example");
        assert_eq!(json["sub"], "sub-1");
        assert_eq!(json["aud"], "demo");
        assert_eq!(json["azp"], "demo");
        assert_eq!(json["exp"], 3700);
        assert_eq!(json["iat"], 100);
        assert_eq!(json["auth_time"], 90);
        assert_eq!(json["nonce"], "n-1");
        assert_eq!(json["at_hash"], half_hash(SigningAlg::Rs256, "token"));
        assert_eq!(json["email"], "alice@example.com");
        assert_eq!(json["email_verified"], true);
        assert!(json.get("name").is_none(), "profile was not granted");
    }

    #[test]
    fn audiences_serialise_as_string_or_array() {
        let one = serde_json::to_value(Audience(vec!["a".into()])).unwrap();
        assert_eq!(one, serde_json::json!("a"));
        let two = serde_json::to_value(Audience(vec!["a".into(), "b".into()])).unwrap();
        assert_eq!(two, serde_json::json!(["a", "b"]));
    }
}
