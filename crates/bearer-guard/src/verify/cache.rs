//! The cache in front of every verifier: bounded, per-entry expiry no later
//! than the token's own, brief for refusals, and single-flight (concurrent
//! requests for one uncached token make one upstream call).

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::future::Cache;
use oauth_core::SecretDigest;

use super::{TokenInfo, TokenVerifier, VerifyError};
use crate::DebugClock;
use crate::guard::CacheConfig;

/// A verifier behind a cache. Keys are SHA-256 digests, so the cache holds
/// no usable token.
pub(crate) struct Cached {
    inner: Arc<dyn TokenVerifier>,
    cache: Option<Cache<String, Entry>>,
    config: CacheConfig,
    clock: DebugClock,
}

impl std::fmt::Debug for Cached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cached")
            .field("entries", &self.cache.as_ref().map(Cache::entry_count))
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A cached answer and how long it may be kept.
#[derive(Clone)]
struct Entry {
    answer: Result<Arc<TokenInfo>, &'static str>,
    keep_for: Duration,
}

struct PerEntry;

impl Expiry<String, Entry> for PerEntry {
    fn expire_after_create(&self, _key: &String, entry: &Entry, _now: Instant) -> Option<Duration> {
        Some(entry.keep_for)
    }
}

impl Cached {
    pub(crate) fn new(
        inner: Arc<dyn TokenVerifier>,
        config: CacheConfig,
        clock: DebugClock,
    ) -> Self {
        let cache = (config.max_entries > 0).then(|| {
            Cache::builder()
                .max_capacity(config.max_entries)
                .expire_after(PerEntry)
                .build()
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
        let key = SecretDigest::of(token).as_str().to_owned();
        // `try_get_with` runs one initialiser per key at a time; concurrent
        // callers wait for it and share its result. An `Err` (the issuer
        // could not be asked) is handed to every waiter and not cached.
        let entry = cache
            .try_get_with(key, async {
                match self.inner.verify(token).await {
                    Ok(info) => Ok(self.positive(info)),
                    Err(VerifyError::Invalid(why)) => Ok(Entry {
                        answer: Err(why),
                        keep_for: self.config.negative_ttl,
                    }),
                    Err(e @ VerifyError::Unavailable { .. }) => Err(e),
                }
            })
            .await
            .map_err(|e: Arc<VerifyError>| (*e).clone())?;
        entry.answer.map_err(VerifyError::Invalid)
    }

    fn positive(&self, info: TokenInfo) -> Entry {
        let now = self.clock.now();
        let until_expiry = info.expires_at.map_or(self.config.max_ttl, |exp| {
            Duration::from_secs(now.seconds_until(exp))
        });
        Entry {
            keep_for: until_expiry.min(self.config.max_ttl),
            answer: Ok(Arc::new(info)),
        }
    }
}
