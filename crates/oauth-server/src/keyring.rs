//! The signing keys as the server uses them: which key signs, and the
//! published JWKS. Both come from the database and are cached for a
//! minute, so a rotation by `oauthctl keys rotate` (or by another instance)
//! is picked up without a restart.
//!
//! A new key is published at once but signs only once it is older than
//! [`MATURITY`]: by then every instance's cache, and every relying party
//! that honours the JWKS's `max-age`, has seen it, so no token carries a
//! `kid` its verifier cannot find. Until then the previous key (retired,
//! still published) keeps signing.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use oauth_core::Timestamp;
use oauth_core::jose::{SigningAlg, SigningKey};
use oauth_store::keys;
use oauth_store::secret::ServerSecret;

use crate::errors::Internal;
use crate::state::AppState;

/// How long keys are cached before the database is read again.
const REFRESH: Duration = Duration::from_secs(60);

/// How long the JWKS may be cached by relying parties (its `max-age`).
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(60);

/// How old a key must be before it signs: the server's cache plus the
/// JWKS's `max-age`.
pub const MATURITY: Duration = Duration::from_secs(REFRESH.as_secs() + JWKS_MAX_AGE.as_secs());

pub struct KeyRing {
    secret: Arc<ServerSecret>,
    cache: RwLock<Option<Arc<Cached>>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").finish_non_exhaustive()
    }
}

struct Cached {
    loaded: Instant,
    /// Published keys, newest first.
    keys: Vec<Candidate>,
    jwks: serde_json::Value,
}

#[derive(Clone)]
struct Candidate {
    created_at: Timestamp,
    retired: bool,
    key: Arc<SigningKey>,
}

impl KeyRing {
    pub fn new(secret: ServerSecret) -> Self {
        Self {
            secret: Arc::new(secret),
            cache: RwLock::new(None),
        }
    }

    /// Makes sure the keys the server needs exist, creating them on first
    /// start: one for `alg`, and always one for RS256, which OpenID
    /// Connect Discovery §3 requires every provider to support.
    pub async fn ensure_active(&self, state: &AppState, alg: SigningAlg) -> Result<(), Internal> {
        self.ensure_one(state, SigningAlg::Rs256).await?;
        if alg != SigningAlg::Rs256 {
            self.ensure_one(state, alg).await?;
        }
        Ok(())
    }

    async fn ensure_one(&self, state: &AppState, alg: SigningAlg) -> Result<(), Internal> {
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

    /// The key to sign with for `alg`: the newest key old enough for every
    /// verifier to know ([`MATURITY`]); on a fresh deployment, where no key
    /// is that old, the newest active one.
    pub async fn signer(
        &self,
        state: &AppState,
        alg: SigningAlg,
    ) -> Result<Arc<SigningKey>, Internal> {
        if let Some(key) = choose(&self.current(state).await?.keys, alg, state.now()) {
            return Ok(key);
        }
        // No key of this algorithm at all: make one.
        self.ensure_one(state, alg).await?;
        choose(&self.current(state).await?.keys, alg, state.now())
            .ok_or_else(|| Internal::from(anyhow::anyhow!("no {alg} signing key")))
    }

    /// The algorithms that have an active key.
    pub async fn algorithms(&self, state: &AppState) -> Result<Vec<SigningAlg>, Internal> {
        let cached = self.current(state).await?;
        let keys = &cached.keys;
        let mut algs: Vec<SigningAlg> = keys
            .iter()
            .filter(|c| !c.retired)
            .map(|c| c.key.alg())
            .collect();
        algs.sort();
        algs.dedup();
        Ok(algs)
    }

    /// The JWK set: public keys of active and recently retired keys.
    pub async fn jwks(&self, state: &AppState) -> Result<serde_json::Value, Internal> {
        Ok(self.current(state).await?.jwks.clone())
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

    async fn current(&self, state: &AppState) -> Result<Arc<Cached>, Internal> {
        if let Ok(cache) = self.cache.read()
            && let Some(cached) = cache.as_ref()
            && cached.loaded.elapsed() < REFRESH
        {
            return Ok(cached.clone());
        }
        let secret = self.secret.clone();
        let now = state.now();
        let published = state
            .db(move |conn| keys::published_opened(conn, &secret, now))
            .await?;
        let jwks = serde_json::json!({ "keys": published.iter().map(|(info, _)| info.public_jwk.clone()).collect::<Vec<_>>() });
        let cached = Arc::new(Cached {
            loaded: Instant::now(),
            keys: published
                .into_iter()
                .map(|(info, key)| Candidate {
                    created_at: info.created_at,
                    retired: info.retired_at.is_some(),
                    key: Arc::new(key),
                })
                .collect(),
            jwks,
        });
        if let Ok(mut cache) = self.cache.write() {
            *cache = Some(cached.clone());
        }
        Ok(cached)
    }
}

/// The signing key for `alg` among `keys` (newest first): the newest one
/// at least [`MATURITY`] old, else the newest active one.
fn choose(keys: &[Candidate], alg: SigningAlg, now: Timestamp) -> Option<Arc<SigningKey>> {
    let of_alg = || keys.iter().filter(|c| c.key.alg() == alg);
    of_alg()
        .find(|c| c.created_at.plus(MATURITY) <= now)
        .or_else(|| of_alg().find(|c| !c.retired))
        .map(|c| c.key.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(kid: &str, created_at: i64, retired: bool) -> Candidate {
        Candidate {
            created_at: Timestamp::from_unix(created_at),
            retired,
            key: Arc::new(SigningKey::generate(SigningAlg::EdDsa, kid.to_owned()).unwrap()),
        }
    }

    fn chosen(keys: &[Candidate], now: i64) -> Option<String> {
        choose(keys, SigningAlg::EdDsa, Timestamp::from_unix(now)).map(|k| k.kid().to_owned())
    }

    #[test]
    fn a_new_key_signs_only_once_every_verifier_can_know_it() {
        let m = i64::try_from(MATURITY.as_secs()).unwrap();
        // Newest first: a fresh key and the retired one it replaced.
        let keys = vec![
            candidate("new", 10_000, false),
            candidate("old", 1_000, true),
        ];
        assert_eq!(
            chosen(&keys, 10_001).as_deref(),
            Some("old"),
            "the old key signs while the new one propagates"
        );
        assert_eq!(chosen(&keys, 10_000 + m).as_deref(), Some("new"));
        // A fresh deployment: the only key signs at once.
        assert_eq!(
            chosen(&[candidate("first", 5, false)], 6).as_deref(),
            Some("first")
        );
        // No key of the algorithm.
        assert_eq!(
            choose(&keys, SigningAlg::Rs256, Timestamp::from_unix(0)).map(|_| ()),
            None
        );
    }
}
