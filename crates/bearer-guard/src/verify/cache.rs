//! The cache in front of every verifier: bounded, per-entry expiry no later
//! than the token's own, brief for refusals, and single-flight (concurrent
//! requests for one uncached token make one upstream call).
//!
//! quick_cache rather than moka: a hit is a plain sharded-map read, which
//! keeps the warm path cheap enough for the guard to cost under a tenth of
//! a small handler's throughput (`cargo xtask bench`). Expiry is kept in
//! the entry and checked on every read. In front of it each thread keeps
//! its own copies of good answers (`front.rs`), so that a warm request
//! writes no memory another worker thread writes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

use super::{TokenInfo, TokenVerifier, VerifyError};
use crate::DebugClock;
use crate::caller::{GuardId, Verified};
use crate::error::Realm;
use crate::guard::CacheConfig;
use crate::verify::front;

/// A cache key: the SHA-256 of the token, so the cache holds no usable
/// token.
pub(crate) type Key = [u8; 32];

/// A verifier behind a cache, for one guard: its answers are that guard's
/// verdicts, ready to hand to a handler.
pub(crate) struct Cached {
    inner: Arc<dyn TokenVerifier>,
    cache: Option<quick_cache::sync::Cache<Key, Entry>>,
    config: CacheConfig,
    clock: DebugClock,
    realm: Arc<Realm>,
    guard: GuardId,
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
    answer: Result<Arc<Verified>, &'static str>,
    until: Instant,
}

impl Cached {
    pub(crate) fn new(
        inner: Arc<dyn TokenVerifier>,
        config: CacheConfig,
        clock: DebugClock,
        realm: Arc<Realm>,
        guard: GuardId,
    ) -> Self {
        let cache = (config.max_entries > 0).then(|| {
            quick_cache::sync::Cache::new(usize::try_from(config.max_entries).unwrap_or(usize::MAX))
        });
        Self {
            inner,
            cache,
            config,
            clock,
            realm,
            guard,
        }
    }

    pub(crate) async fn check(&self, token: &str) -> Result<Arc<Verified>, VerifyError> {
        let Some(cache) = &self.cache else {
            return self.ask(token).await.map(|i| self.verified(i));
        };
        let key: Key = Sha256::digest(token.as_bytes()).into();
        if let Some(copy) = front::get(self.guard, &key, Instant::now()) {
            return Ok(copy);
        }
        loop {
            // A hit is answered at once; on a miss, the first caller gets a
            // guard and asks upstream while later callers for the same key
            // wait for its answer.
            match cache.get_value_or_guard_async(&key).await {
                Ok(entry) if Instant::now() < entry.until => {
                    return self.answer(&key, entry);
                }
                Ok(_) => {
                    // Stale: drop it and ask again.
                    cache.remove(&key);
                }
                Err(guard) => {
                    let entry = match self.ask(token).await {
                        Ok(info) => self.positive(info),
                        Err(VerifyError::Invalid(why)) => Entry {
                            answer: Err(why),
                            until: Instant::now() + self.config.negative_ttl,
                        },
                        // Not cached: dropping the guard lets a waiting
                        // caller try in its turn.
                        Err(e @ VerifyError::Unavailable { .. }) => return Err(e),
                    };
                    let _ = guard.insert(entry.clone());
                    return self.answer(&key, entry);
                }
            }
        }
    }

    /// The verifier's answer, with the token's expiry judged by the guard's
    /// clock (a verifier may vouch for a token that has just expired, or
    /// the clock may be a test's).
    async fn ask(&self, token: &str) -> Result<TokenInfo, VerifyError> {
        let info = self.inner.verify(token).await?;
        let now = self.clock.now();
        if info.expires_at.is_some_and(|exp| now >= exp) {
            return Err(VerifyError::Invalid("expired"));
        }
        Ok(info)
    }

    /// A cached answer; a good one goes through this thread's copies
    /// (`front.rs`).
    fn answer(&self, key: &Key, entry: Entry) -> Result<Arc<Verified>, VerifyError> {
        let shared = entry.answer.map_err(VerifyError::Invalid)?;
        let limit = usize::try_from(self.config.max_entries).unwrap_or(usize::MAX);
        Ok(front::offer(
            key,
            &shared,
            entry.until,
            Instant::now(),
            limit,
        ))
    }

    fn positive(&self, info: TokenInfo) -> Entry {
        // The clock counts whole seconds: the token may have as little as
        // `seconds_until - 1` left, and the entry must not outlive it.
        let now = self.clock.now();
        let until_expiry = info.expires_at.map_or(self.config.max_ttl, |exp| {
            Duration::from_secs(now.seconds_until(exp).saturating_sub(1))
        });
        Entry {
            until: Instant::now() + until_expiry.min(self.config.max_ttl),
            answer: Ok(self.verified(info)),
        }
    }

    fn verified(&self, info: TokenInfo) -> Arc<Verified> {
        Arc::new(Verified {
            info,
            realm: Arc::clone(&self.realm),
            guard: self.guard,
        })
    }
}
