//! Finding the issuer's endpoints from its metadata (RFC 8414 §3, with
//! OpenID Connect Discovery as the fallback), once, lazily, and again after
//! a failure.

use tokio::sync::OnceCell;
use url::Url;

use super::{SetupError, VerifyError};

/// The endpoints a verifier needs, as the issuer published them.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    pub(crate) introspection: Option<Url>,
    pub(crate) jwks: Option<Url>,
}

/// How long a failed discovery is remembered.
const RETRY_DISCOVERY_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

/// Lazily discovered metadata. A failed discovery is not remembered, so
/// the next request tries again (with the issuer down, each try is one
/// bounded HTTP call, and the cache's single flight keeps them few).
#[derive(Debug)]
pub(crate) struct Discovery {
    issuer: String,
    http: reqwest::Client,
    cell: OnceCell<Endpoints>,
    /// When discovery last failed and why: for a few seconds after, callers
    /// get that answer at once instead of queueing behind new attempts.
    last_failure: std::sync::Mutex<Option<(std::time::Instant, String)>>,
}

impl Discovery {
    pub(crate) fn new(issuer: &str, http: reqwest::Client) -> Result<Self, SetupError> {
        let parsed =
            Url::parse(issuer).map_err(|e| SetupError(format!("issuer {issuer:?}: {e}")))?;
        if !matches!(parsed.scheme(), "https" | "http") || parsed.host().is_none() {
            return Err(SetupError(format!(
                "issuer {issuer:?} is not an http(s) URL"
            )));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(SetupError(format!(
                "issuer {issuer:?} may not have a query or fragment (RFC 8414 §2)"
            )));
        }
        Ok(Self {
            issuer: issuer.to_owned(),
            http,
            cell: OnceCell::new(),
            last_failure: std::sync::Mutex::new(None),
        })
    }

    pub(crate) fn issuer(&self) -> &str {
        &self.issuer
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(crate) async fn endpoints(&self) -> Result<&Endpoints, VerifyError> {
        if let Some(found) = self.cell.get() {
            return Ok(found);
        }
        if let Some((at, why)) = &*self.last_failure.lock().unwrap_or_else(|e| e.into_inner())
            && at.elapsed() < RETRY_DISCOVERY_AFTER
        {
            return Err(VerifyError::unavailable(why.clone()));
        }
        let result = self.cell.get_or_try_init(|| self.fetch()).await;
        if let Err(VerifyError::Unavailable { reason, .. }) = &result {
            *self.last_failure.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((std::time::Instant::now(), reason.clone()));
        }
        result
    }

    async fn fetch(&self) -> Result<Endpoints, VerifyError> {
        let mut last = String::new();
        for well_known in [
            "/.well-known/oauth-authorization-server",
            "/.well-known/openid-configuration",
        ] {
            let url = self.metadata_url(well_known);
            match self.try_fetch(&url).await {
                Ok(endpoints) => return Ok(endpoints),
                Err(e) => last = e,
            }
        }
        tracing::warn!(issuer = %self.issuer, error = %last, "issuer metadata unavailable");
        Err(VerifyError::unavailable(last))
    }

    /// RFC 8414 §3.1: the well-known segment goes between the host and any
    /// path of the issuer.
    fn metadata_url(&self, well_known: &str) -> String {
        match Url::parse(&self.issuer) {
            Ok(u) => {
                let path = u.path().trim_end_matches('/');
                format!("{}{well_known}{path}", u.origin().ascii_serialization())
            }
            Err(_) => format!("{}{well_known}", self.issuer),
        }
    }

    async fn try_fetch(&self, url: &str) -> Result<Endpoints, String> {
        let response = self
            .http
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {url}: {}", response.status()));
        }
        let meta: serde_json::Value = response
            .json()
            .await
            .map_err(|e| format!("GET {url}: not JSON metadata: {e}"))?;
        // RFC 8414 §3.3: the metadata must name exactly the issuer we asked
        // about, or an attacker's metadata could point us at its endpoints.
        let named = meta.get("issuer").and_then(|v| v.as_str()).unwrap_or("");
        if named != self.issuer {
            return Err(format!(
                "{url} names issuer {named:?}, not {:?}",
                self.issuer
            ));
        }
        let endpoint = |name: &str| -> Result<Option<Url>, String> {
            match meta.get(name).and_then(|v| v.as_str()) {
                None => Ok(None),
                Some(s) => Url::parse(s)
                    .map(Some)
                    .map_err(|e| format!("{name} {s:?}: {e}")),
            }
        };
        Ok(Endpoints {
            introspection: endpoint("introspection_endpoint")?,
            jwks: endpoint("jwks_uri")?,
        })
    }
}
