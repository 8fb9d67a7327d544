//! JWT mode: verify RFC 9068 access tokens locally against the issuer's
//! published keys. No call per token; revocation is seen only when the
//! token expires (RFC 9068 §1), so keep access tokens short-lived or use
//! introspection where prompt revocation matters.

use std::sync::RwLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use oauth_core::{ScopeSet, Timestamp};
use serde::Deserialize;

use super::discovery::Discovery;
use super::{
    BoxFuture, SetupError, TokenInfo, TokenVerifier, VerifyError, audience_from_json, http_client,
};

/// The asymmetric algorithms accepted. HMAC is never accepted: with a
/// public key as the "secret", anyone could sign (the classic confusion).
const ALLOWED: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Header parameters that would let the token choose its own key: never
/// honoured, so a token carrying one is refused outright.
const KEY_POINTING_HEADERS: &[&str] = &["jku", "x5u", "jwk", "x5c", "crit"];

/// Verifies RFC 9068 JWT access tokens against the issuer's JWKS, which is
/// fetched on first use, again when a token names an unknown `kid` (at
/// most once per [`min_refresh`](Self::min_refresh)), and when it is older
/// than [`max_age`](Self::max_age).
#[derive(Debug)]
pub struct JwtVerifier {
    discovery: Discovery,
    keys: RwLock<Keys>,
    /// One fetch at a time; others wait and then use its result.
    refreshing: tokio::sync::Mutex<()>,
    min_refresh: Duration,
    max_age: Duration,
    leeway: u64,
}

#[derive(Debug, Default)]
struct Keys {
    set: Vec<Jwk>,
    fetched: Option<Instant>,
    /// The last fetch that failed: none is tried again within
    /// `min_refresh` of it, so an outage does not queue every request
    /// behind a new timeout.
    failed: Option<Instant>,
}

impl JwtVerifier {
    /// `issuer` is the authorization server's issuer identifier; its
    /// `jwks_uri` is discovered from its metadata.
    pub fn new(issuer: &str) -> Result<Self, SetupError> {
        let http = http_client(Duration::from_secs(5))
            .map_err(|e| SetupError(format!("HTTP client: {e}")))?;
        Ok(Self {
            discovery: Discovery::new(issuer, http)?,
            keys: RwLock::new(Keys::default()),
            refreshing: tokio::sync::Mutex::new(()),
            min_refresh: Duration::from_secs(30),
            max_age: Duration::from_secs(600),
            leeway: 5,
        })
    }

    /// The least time between two fetches of the key set (default 30 s):
    /// tokens naming unknown `kid`s cannot make us hammer the issuer.
    pub fn min_refresh(mut self, interval: Duration) -> Self {
        self.min_refresh = interval;
        self
    }

    /// How long a fetched key set is trusted before it is fetched again
    /// (default 10 min), so that a key the issuer withdrew stops working.
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = age;
        self
    }

    async fn check(&self, token: &str) -> Result<TokenInfo, VerifyError> {
        let header = checked_header(token)?;
        let kid = header.kid.as_deref();
        let jwk = match self.find(kid, header.alg) {
            Some(jwk) if !self.stale() => jwk,
            found => {
                self.refresh(found.is_none()).await?;
                self.find(kid, header.alg)
                    .ok_or(VerifyError::Invalid("jwt: no published key matches"))?
            }
        };
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| VerifyError::Invalid("jwt: bad key"))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[self.discovery.issuer()]);
        validation.validate_aud = false; // the guard checks the audience it is configured with
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = self.leeway;
        validation.validate_nbf = true;
        let data = jsonwebtoken::decode::<AccessClaims>(token, &key, &validation)
            .map_err(|_| VerifyError::Invalid("jwt: signature or claims"))?;
        data.claims.into_info()
    }

    fn stale(&self) -> bool {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.fetched.is_none_or(|at| at.elapsed() >= self.max_age)
    }

    fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<Jwk> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let usable = |k: &&Jwk| {
            !matches!(k.common.public_key_use, Some(PublicKeyUse::Encryption))
                && k.common.key_algorithm.is_none_or(|a| {
                    // KeyAlgorithm also names encryption algorithms; only a
                    // signing one that is exactly the header's will do.
                    a.to_string().parse::<Algorithm>().ok() == Some(alg)
                })
        };
        match kid {
            Some(kid) => keys
                .set
                .iter()
                .filter(usable)
                .find(|k| k.common.key_id.as_deref() == Some(kid))
                .cloned(),
            // Without a kid, only an unambiguous key will do.
            None => {
                let mut matching = keys.set.iter().filter(usable);
                match (matching.next(), matching.next()) {
                    (Some(one), None) => Some(one.clone()),
                    _ => None,
                }
            }
        }
    }

    /// Fetches the key set unless another caller just did. `unknown_kid`
    /// says the token named a key we lack; then a fetch within
    /// `min_refresh` of the last one is skipped (the kid is simply not
    /// published).
    async fn refresh(&self, unknown_kid: bool) -> Result<(), VerifyError> {
        let _one_at_a_time = self.refreshing.lock().await;
        let (last, failed) = {
            let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
            (keys.fetched, keys.failed)
        };
        if failed.is_some_and(|at| at.elapsed() < self.min_refresh) {
            return if last.is_some() && !unknown_kid {
                Ok(())
            } else {
                Err(VerifyError::unavailable(
                    "JWKS unavailable (recent failure)",
                ))
            };
        }
        if let Some(at) = last {
            let recent = at.elapsed() < self.min_refresh;
            if recent || (!unknown_kid && at.elapsed() < self.max_age) {
                return Ok(());
            }
        }
        match self.fetch().await {
            Ok(set) => {
                let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
                keys.set = set.keys;
                keys.fetched = Some(Instant::now());
                keys.failed = None;
                Ok(())
            }
            // Keys we already hold stay usable while the issuer is away;
            // with none, nothing can be verified.
            Err(e) if last.is_some() && !unknown_kid => {
                self.keys.write().unwrap_or_else(|e| e.into_inner()).failed = Some(Instant::now());
                tracing::warn!(error = ?e, "JWKS refresh failed; keeping the keys we have");
                Ok(())
            }
            Err(e) => {
                self.keys.write().unwrap_or_else(|e| e.into_inner()).failed = Some(Instant::now());
                Err(e)
            }
        }
    }

    async fn fetch(&self) -> Result<JwkSet, VerifyError> {
        let endpoints = self.discovery.endpoints().await?;
        let Some(url) = &endpoints.jwks else {
            return Err(VerifyError::unavailable("the issuer publishes no jwks_uri"));
        };
        let response = self
            .discovery
            .http()
            .get(url.clone())
            .send()
            .await
            .map_err(|e| VerifyError::unavailable(format!("JWKS: {e}")))?;
        if !response.status().is_success() {
            return Err(VerifyError::unavailable(format!(
                "JWKS answered {}",
                response.status()
            )));
        }
        // Keys of kinds this library does not know are skipped, not fatal.
        let raw: serde_json::Value = response
            .json()
            .await
            .map_err(|e| VerifyError::unavailable(format!("JWKS: {e}")))?;
        let keys = raw
            .get("keys")
            .and_then(|k| k.as_array())
            .ok_or_else(|| VerifyError::unavailable("JWKS has no keys array"))?
            .iter()
            .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
            .collect();
        Ok(JwkSet { keys })
    }
}

impl TokenVerifier for JwtVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<TokenInfo, VerifyError>> {
        Box::pin(self.check(token))
    }
}

/// The header checks of RFC 9068 §4 and RFC 8725 §3, before any key is
/// looked at.
fn checked_header(token: &str) -> Result<jsonwebtoken::Header, VerifyError> {
    let encoded = token
        .split('.')
        .next()
        .ok_or(VerifyError::Invalid("jwt: not a JWS"))?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| VerifyError::Invalid("jwt: header encoding"))?;
    let json: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&raw).map_err(|_| VerifyError::Invalid("jwt: header JSON"))?;
    if KEY_POINTING_HEADERS.iter().any(|h| json.contains_key(*h)) {
        return Err(VerifyError::Invalid("jwt: header names its own key"));
    }
    let typ = json.get("typ").and_then(|t| t.as_str()).unwrap_or("");
    if !typ.eq_ignore_ascii_case("at+jwt") && !typ.eq_ignore_ascii_case("application/at+jwt") {
        return Err(VerifyError::Invalid("jwt: typ is not at+jwt"));
    }
    // `alg: none` and unknown algorithms fail to parse here.
    let header =
        jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Invalid("jwt: header"))?;
    if !ALLOWED.contains(&header.alg) {
        return Err(VerifyError::Invalid("jwt: algorithm not allowed"));
    }
    Ok(header)
}

/// RFC 9068 §2.2's claims, as far as the guard uses them.
#[derive(Debug, Deserialize)]
struct AccessClaims {
    sub: String,
    exp: i64,
    #[serde(default)]
    aud: Option<serde_json::Value>,
    /// Required by RFC 9068; an ID token has none (it has `azp`), which is
    /// one of the two reasons an ID token is refused here.
    client_id: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    nonce: Option<serde_json::Value>,
}

impl AccessClaims {
    fn into_info(self) -> Result<TokenInfo, VerifyError> {
        let client_id = self
            .client_id
            .ok_or(VerifyError::Invalid("jwt: no client_id (an ID token?)"))?;
        if self.nonce.is_some() {
            return Err(VerifyError::Invalid("jwt: carries a nonce (an ID token?)"));
        }
        let scopes = ScopeSet::parse(self.scope.as_deref().unwrap_or(""))
            .map_err(|_| VerifyError::Invalid("jwt: malformed scope"))?;
        let audience = audience_from_json(self.aud.as_ref())
            .ok_or(VerifyError::Invalid("jwt: malformed aud"))?;
        Ok(TokenInfo {
            has_user: self.sub != client_id,
            subject: self.sub,
            username: None,
            client_id,
            scopes,
            audience,
            expires_at: Some(Timestamp::from_unix(self.exp)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_with_header(header: &str) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.sig", b64(header), b64(r#"{"sub":"u"}"#))
    }

    #[test]
    fn dangerous_headers_are_refused_before_any_key() {
        for header in [
            r#"{"alg":"none","typ":"at+jwt"}"#,
            r#"{"alg":"HS256","typ":"at+jwt"}"#,
            r#"{"alg":"RS256","typ":"at+jwt","jku":"https://evil.example/jwks"}"#,
            r#"{"alg":"RS256","typ":"at+jwt","x5u":"https://evil.example/cert"}"#,
            r#"{"alg":"RS256","typ":"at+jwt","jwk":{"kty":"oct","k":"AA"}}"#,
            r#"{"alg":"RS256","typ":"JWT"}"#,
            r#"{"alg":"RS256"}"#,
        ] {
            assert!(
                checked_header(&token_with_header(header)).is_err(),
                "{header}"
            );
        }
        for typ in ["at+jwt", "AT+JWT", "application/at+jwt"] {
            let h = format!(r#"{{"alg":"RS256","typ":"{typ}","kid":"k"}}"#);
            assert!(checked_header(&token_with_header(&h)).is_ok(), "{typ}");
        }
    }

    #[test]
    fn id_token_claims_are_refused() {
        let id: AccessClaims =
            serde_json::from_str(r#"{"sub":"u","exp":1,"aud":"c","azp":"c","nonce":"n"}"#).unwrap();
        assert!(id.into_info().is_err());
        let with_nonce: AccessClaims =
            serde_json::from_str(r#"{"sub":"u","exp":1,"client_id":"c","nonce":"n"}"#).unwrap();
        assert!(with_nonce.into_info().is_err());
    }
}
