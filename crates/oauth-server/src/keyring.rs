//! The signing keys as the server uses them: the active key per algorithm
//! for signing, and the published JWKS. Both come from the database and are
//! cached for a minute, so a rotation by `oauthctl keys rotate` (or by
//! another instance) is picked up without a restart.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use oauth_core::jose::{SigningAlg, SigningKey};
use oauth_store::keys;
use oauth_store::secret::ServerSecret;

use crate::errors::Internal;
use crate::state::AppState;

/// How long keys are cached before the database is read again.
const REFRESH: Duration = Duration::from_secs(60);

pub struct KeyRing {
    secret: Arc<ServerSecret>,
    cache: RwLock<Option<Cached>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct Cached {
    loaded: Instant,
    /// Active keys, newest first.
    signers: Vec<Arc<SigningKey>>,
    jwks: serde_json::Value,
}

impl KeyRing {
    pub fn new(secret: ServerSecret) -> Self {
        Self {
            secret: Arc::new(secret),
            cache: RwLock::new(None),
        }
    }

    /// Makes sure an active key of `alg` exists, creating one on first
    /// start.
    pub async fn ensure_active(&self, state: &AppState, alg: SigningAlg) -> Result<(), Internal> {
        let secret = self.secret.clone();
        let now = state.now();
        state
            .db(move |conn| {
                let present = keys::active(conn, &secret)?.iter().any(|k| k.alg() == alg);
                if !present {
                    let key = keys::create(conn, alg, &secret, now)?;
                    tracing::info!(kid = %key.kid, alg = %alg, "created a signing key");
                }
                Ok(())
            })
            .await?;
        self.invalidate();
        Ok(())
    }

    /// The key to sign with for `alg`: the newest active one.
    pub async fn signer(
        &self,
        state: &AppState,
        alg: SigningAlg,
    ) -> Result<Arc<SigningKey>, Internal> {
        let cached = self.current(state).await?;
        if let Some(key) = cached.signers.iter().find(|k| k.alg() == alg) {
            return Ok(key.clone());
        }
        // No key of this algorithm yet (a client asked for one the server
        // was not configured with): make one.
        self.ensure_active(state, alg).await?;
        let cached = self.current(state).await?;
        cached
            .signers
            .iter()
            .find(|k| k.alg() == alg)
            .cloned()
            .ok_or_else(|| Internal::from(anyhow::anyhow!("no active {alg} signing key")))
    }

    /// The algorithms that have an active key.
    pub async fn algorithms(&self, state: &AppState) -> Result<Vec<SigningAlg>, Internal> {
        let mut algs: Vec<SigningAlg> = self
            .current(state)
            .await?
            .signers
            .iter()
            .map(|k| k.alg())
            .collect();
        algs.sort();
        algs.dedup();
        Ok(algs)
    }

    /// The JWK set: public keys of active and recently retired keys.
    pub async fn jwks(&self, state: &AppState) -> Result<serde_json::Value, Internal> {
        Ok(self.current(state).await?.jwks)
    }

    /// Every published public key, for verifying tokens this server signed.
    pub async fn public_jwks(&self, state: &AppState) -> Result<Vec<serde_json::Value>, Internal> {
        let jwks = self.jwks(state).await?;
        Ok(jwks["keys"].as_array().cloned().unwrap_or_default())
    }

    fn invalidate(&self) {
        if let Ok(mut cache) = self.cache.write() {
            *cache = None;
        }
    }

    async fn current(&self, state: &AppState) -> Result<Cached, Internal> {
        if let Ok(cache) = self.cache.read()
            && let Some(cached) = cache.as_ref()
            && cached.loaded.elapsed() < REFRESH
        {
            return Ok(cached.clone());
        }
        let secret = self.secret.clone();
        let now = state.now();
        let (signers, published) = state
            .db(move |conn| Ok((keys::active(conn, &secret)?, keys::published(conn, now)?)))
            .await?;
        let cached = Cached {
            loaded: Instant::now(),
            signers: signers.into_iter().map(Arc::new).collect(),
            jwks: serde_json::json!({ "keys": published.into_iter().map(|k| k.public_jwk).collect::<Vec<_>>() }),
        };
        if let Ok(mut cache) = self.cache.write() {
            *cache = Some(cached.clone());
        }
        Ok(cached)
    }
}
