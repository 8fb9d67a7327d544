//! Introspection mode: ask the issuer about each token (RFC 7662), as a
//! confidential client. Sees revocation as soon as the cache lets it.

use std::time::Duration;

use base64::Engine as _;
use oauth_core::{ScopeSet, SecretString, Timestamp};
use serde::Deserialize;

use super::discovery::Discovery;
use super::{
    BoxFuture, SetupError, TokenInfo, TokenVerifier, VerifyError, audience_from_json, http_client,
};

/// Verifies tokens at the issuer's introspection endpoint, found through
/// the issuer's metadata.
#[derive(Debug)]
pub struct IntrospectionVerifier {
    discovery: Discovery,
    /// `Basic` credentials, already encoded (RFC 6749 §2.3.1).
    authorization: SecretString,
}

impl IntrospectionVerifier {
    /// `issuer` is the authorization server's issuer identifier; the
    /// introspection endpoint is discovered from its metadata on first use.
    /// `client_id`/`client_secret` are the resource server's own
    /// confidential client.
    pub fn new(issuer: &str, client_id: &str, client_secret: &str) -> Result<Self, SetupError> {
        Self::with_timeout(issuer, client_id, client_secret, Duration::from_secs(5))
    }

    /// As [`new`](Self::new), with the timeout of each call to the issuer.
    pub fn with_timeout(
        issuer: &str,
        client_id: &str,
        client_secret: &str,
        timeout: Duration,
    ) -> Result<Self, SetupError> {
        let http = http_client(timeout).map_err(|e| SetupError(format!("HTTP client: {e}")))?;
        // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic.
        let pair = format!("{}:{}", form_encode(client_id), form_encode(client_secret));
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        Ok(Self {
            discovery: Discovery::new(issuer, http)?,
            authorization: SecretString::new(format!("Basic {encoded}")),
        })
    }

    async fn introspect(&self, token: &str) -> Result<TokenInfo, VerifyError> {
        let endpoints = self.discovery.endpoints().await?;
        let Some(endpoint) = &endpoints.introspection else {
            return Err(VerifyError::unavailable(
                "the issuer publishes no introspection_endpoint",
            ));
        };
        let response = self
            .discovery
            .http()
            .post(endpoint.clone())
            .header("authorization", self.authorization.expose_secret())
            .header("accept", "application/json")
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .send()
            .await
            .map_err(|e| {
                // reqwest's error names the URL, never the body or headers.
                VerifyError::unavailable(format!("introspection: {e}"))
            })?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(super::DEFAULT_RETRY_AFTER, Duration::from_secs);
            if status.is_client_error() && status.as_u16() != 429 {
                // Our own credentials or request were refused: a
                // configuration error the operator must see.
                tracing::error!(%status, "the issuer refused our introspection request; check the resource server's client credentials");
            }
            return Err(VerifyError::Unavailable {
                reason: format!("introspection answered {status}"),
                retry_after,
            });
        }
        let body: Introspected = response
            .json()
            .await
            .map_err(|e| VerifyError::unavailable(format!("introspection answer: {e}")))?;
        body.into_info(self.discovery.issuer())
    }
}

impl TokenVerifier for IntrospectionVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<TokenInfo, VerifyError>> {
        Box::pin(self.introspect(token))
    }
}

/// RFC 7662 §2.2's answer.
#[derive(Debug, Deserialize)]
struct Introspected {
    active: bool,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    exp: Option<i64>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    aud: Option<serde_json::Value>,
    #[serde(default)]
    iss: Option<String>,
}

impl Introspected {
    fn into_info(self, issuer: &str) -> Result<TokenInfo, VerifyError> {
        if !self.active {
            return Err(VerifyError::Invalid("introspection: not active"));
        }
        // Introspection describes refresh tokens too; one is not a key to
        // the API.
        if let Some(t) = &self.token_type
            && !t.eq_ignore_ascii_case("bearer")
            && !t.eq_ignore_ascii_case("access_token")
        {
            return Err(VerifyError::Invalid("introspection: not an access token"));
        }
        if let Some(iss) = &self.iss
            && iss != issuer
        {
            return Err(VerifyError::Invalid("introspection: another issuer"));
        }
        let scopes = ScopeSet::parse(self.scope.as_deref().unwrap_or(""))
            .map_err(|_| VerifyError::Invalid("introspection: malformed scope"))?;
        let audience = audience_from_json(self.aud.as_ref())
            .ok_or(VerifyError::Invalid("introspection: malformed aud"))?;
        let client_id = self
            .client_id
            .ok_or(VerifyError::Invalid("introspection: no client_id"))?;
        let subject = self.sub.unwrap_or_else(|| client_id.clone());
        Ok(TokenInfo {
            has_user: self.username.is_some() || subject != client_id,
            subject,
            username: self.username,
            client_id,
            scopes,
            audience,
            expires_at: self.exp.map(Timestamp::from_unix),
        })
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<TokenInfo, VerifyError> {
        serde_json::from_str::<Introspected>(json)
            .unwrap()
            .into_info("https://auth.example")
    }

    #[test]
    fn inactive_and_refresh_tokens_are_invalid() {
        assert!(parse(r#"{"active":false}"#).is_err());
        assert!(
            parse(r#"{"active":true,"client_id":"c","token_type":"refresh_token","sub":"u"}"#)
                .is_err()
        );
        assert!(parse(r#"{"active":true,"client_id":"c","iss":"https://evil.example"}"#).is_err());
    }

    #[test]
    fn active_access_tokens_are_described() {
        let info = parse(
            r#"{"active":true,"client_id":"c","token_type":"Bearer","sub":"u1","username":"alice",
                "scope":"project openid","exp":100,"aud":"https://api","iss":"https://auth.example"}"#,
        )
        .unwrap();
        assert_eq!(info.subject, "u1");
        assert_eq!(info.username.as_deref(), Some("alice"));
        assert!(info.scopes.contains("project"));
        assert_eq!(info.audience, vec!["https://api".to_owned()]);
        assert_eq!(info.expires_at, Some(Timestamp::from_unix(100)));
        assert!(info.has_user);
        let app = parse(r#"{"active":true,"client_id":"c","sub":"c"}"#).unwrap();
        assert!(!app.has_user);
    }

    #[test]
    fn client_credentials_are_form_encoded() {
        assert_eq!(form_encode("a b:c"), "a+b%3Ac");
    }
}
