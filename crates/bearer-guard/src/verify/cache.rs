//! The cache in front of every verifier: bounded, per-entry expiry no later
//! than the token's own, brief for refusals, and single-flight (concurrent
//! requests for one uncached token make one upstream call).
//!
//! quick_cache rather than moka: a hit is a plain sharded-map read, which
//! keeps the warm path cheap enough for the guard to cost under a tenth of
//! a small handler's throughput (`cargo xtask bench`). Expiry is kept in
//! the entry and checked on every read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

use super::{TokenInfo, TokenVerifier, VerifyError};
use crate::DebugClock;
use crate::guard::CacheConfig;

/// A cache key: the SHA-256 of the token, so the cache holds no usable
/// token.
type Key = [u8; 32];

/// A verifier behind a cache.
pub(crate) struct Cached {
    inner: Arc<dyn TokenVerifier>,
    cache: Option<quick_cache::sync::Cache<Key, Entry>>,
    config: CacheConfig,
    clock: DebugClock,
}

impl std::fmt::Debug for Cached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cached")
            .field("entries", &self.cache.as_ref().map(|c| c.len()))
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A cached answer and until when it may be used.
#[derive(Clone)]
struct Entry {
    answer: Result<Arc<TokenInfo>, &'static str>,
    until: Instant,
}

impl Cached {
    pub(crate) fn new(
        inner: Arc<dyn TokenVerifier>,
        config: CacheConfig,
        clock: DebugClock,
    ) -> Self {
        let cache = (config.max_entries > 0).then(|| {
            quick_cache::sync::Cache::new(usize::try_from(config.max_entries).unwrap_or(usize::MAX))
        });
        Self {
            inner,
            cache,
            config,
            clock,
        }
    }

    pub(crate) async fn check(&self, token: &str) -> Result<Arc<TokenInfo>, VerifyError> {
        let Some(cache) = &self.cache else {
            return self.inner.verify(token).await.map(Arc::new);
        };
        let key: Key = Sha256::digest(token.as_bytes()).into();
        loop {
            // A hit is answered at once; on a miss, the first caller gets a
            // guard and asks upstream while later callers for the same key
            // wait for its answer.
            match cache.get_value_or_guard_async(&key).await {
                Ok(entry) if Instant::now() < entry.until => {
                    return entry.answer.map_err(VerifyError::Invalid);
                }
                Ok(_) => {
                    // Stale: drop it and ask again.
                    cache.remove(&key);
                }
                Err(guard) => {
                    let entry = match self.inner.verify(token).await {
                        Ok(info) => self.positive(info),
                        Err(VerifyError::Invalid(why)) => Entry {
                            answer: Err(why),
                            until: Instant::now() + self.config.negative_ttl,
                        },
                        // Not cached: dropping the guard lets a waiting
                        // caller try in its turn.
                        Err(e @ VerifyError::Unavailable { .. }) => return Err(e),
                    };
                    let answer = entry.answer.clone();
                    let _ = guard.insert(entry);
                    return answer.map_err(VerifyError::Invalid);
                }
            }
        }
    }

    fn positive(&self, info: TokenInfo) -> Entry {
        let now = self.clock.now();
        let until_expiry = info.expires_at.map_or(self.config.max_ttl, |exp| {
            Duration::from_secs(now.seconds_until(exp))
        });
        Entry {
            until: Instant::now() + until_expiry.min(self.config.max_ttl),
            answer: Ok(Arc::new(info)),
        }
    }
}
