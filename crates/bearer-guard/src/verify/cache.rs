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
            return self.ask(token).await.map(|i| self.verified(i, None));
        };
        let key: Key = Sha256::digest(token.as_bytes()).into();
        let now = Instant::now();
        let (verified, at) = match front::get(self.guard, &key, now) {
            Some(copy) => (copy, now),
            None => (self.shared(cache, token, &key).await?, Instant::now()),
        };
        self.unexpired(verified, at)
    }

    /// The shared cache's answer, asking the verifier on a miss.
    async fn shared(
        &self,
        cache: &quick_cache::sync::Cache<Key, Entry>,
        token: &str,
        key: &Key,
    ) -> Result<Arc<Verified>, VerifyError> {
        loop {
            // A hit is answered at once; on a miss, the first caller gets a
            // guard and asks upstream while later callers for the same key
            // wait for its answer.
            match cache.get_value_or_guard_async(key).await {
                Ok(entry) if Instant::now() < entry.until => {
                    return self.answer(key, entry);
                }
                Ok(_) => {
                    // Stale: drop it and ask again.
                    cache.remove(key);
                }
                Err(guard) => {
                    let entry = match self.ask(token).await {
                        Ok(info) => self.positive(info),
                        Err(VerifyError::Invalid(why)) => Entry {
                            answer: Err(why),
                            until: later(Instant::now(), self.config.negative_ttl),
                        },
                        // Not cached: dropping the guard lets a waiting
                        // caller try in its turn.
                        Err(e @ VerifyError::Unavailable { .. }) => return Err(e),
                    };
                    let _ = guard.insert(entry.clone());
                    return self.answer(key, entry);
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
        Ok(front::offer(key, &shared, entry.until, Instant::now()))
    }

    /// A cached verdict used at `at`: in the token's last second (by the
    /// whole-second clock) its expiry is judged again on each use, so the
    /// entry can last until the token ends without outliving it.
    fn unexpired(
        &self,
        verified: Arc<Verified>,
        at: Instant,
    ) -> Result<Arc<Verified>, VerifyError> {
        let recheck = verified.recheck_after.is_some_and(|t| at >= t);
        if recheck
            && let Some(exp) = verified.info.expires_at
            && self.clock.now() >= exp
        {
            return Err(VerifyError::Invalid("expired"));
        }
        Ok(verified)
    }

    fn positive(&self, info: TokenInfo) -> Entry {
        // The instant first, so that it is no later than the clock reading.
        let fetched = Instant::now();
        let now = self.clock.now();
        let (lifetime, recheck_after) = match info.expires_at {
            None => (self.config.max_ttl, None),
            Some(exp) => {
                // The clock counts whole seconds: the token has more than
                // `left - 1` and at most `left` seconds to live.
                let left = Duration::from_secs(now.seconds_until(exp));
                let sure = left.saturating_sub(Duration::from_secs(1));
                (left.min(self.config.max_ttl), Some(later(fetched, sure)))
            }
        };
        Entry {
            until: later(fetched, lifetime),
            answer: Ok(self.verified(info, recheck_after)),
        }
    }

    fn verified(&self, info: TokenInfo, recheck_after: Option<Instant>) -> Arc<Verified> {
        Arc::new(Verified {
            info,
            realm: Arc::clone(&self.realm),
            guard: self.guard,
            recheck_after,
        })
    }
}

/// `from + by`, saturating far in the future rather than overflowing on an
/// absurd configured lifetime.
fn later(from: Instant, by: Duration) -> Instant {
    from.checked_add(by)
        .or_else(|| from.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(from)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

    use oauth_core::{ScopeSet, Timestamp};

    use super::*;
    use crate::verify::BoxFuture;

    /// Vouches for every token, expiring at `exp` (whole seconds), and
    /// counts the calls.
    struct Stub {
        exp: Option<i64>,
        calls: Arc<AtomicUsize>,
    }

    impl TokenVerifier for Stub {
        fn verify<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<TokenInfo, VerifyError>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let info = info(self.exp);
            Box::pin(async move { Ok(info) })
        }
    }

    fn info(exp: Option<i64>) -> TokenInfo {
        TokenInfo {
            subject: "alice".into(),
            username: None,
            client_id: "app".into(),
            scopes: ScopeSet::parse("project").unwrap(),
            audience: Vec::new(),
            expires_at: exp.map(Timestamp::from_unix),
            has_user: true,
        }
    }

    const T: i64 = 1_000_000;

    /// A cache over [`Stub`] whose clock reads `clock`.
    fn cache_over(
        exp: Option<i64>,
        config: CacheConfig,
    ) -> (Cached, Arc<AtomicUsize>, Arc<AtomicI64>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let clock = Arc::new(AtomicI64::new(T));
        let reading = Arc::clone(&clock);
        let cached = Cached::new(
            Arc::new(Stub {
                exp,
                calls: Arc::clone(&calls),
            }),
            config,
            DebugClock(Arc::new(move || {
                Timestamp::from_unix(reading.load(Ordering::SeqCst))
            })),
            Arc::new(Realm {
                realm: "api".into(),
                resource_metadata: None,
            }),
            GuardId::next(),
        );
        (cached, calls, clock)
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        actix_web::rt::System::new().block_on(f)
    }

    #[test]
    fn in_its_last_second_a_token_is_judged_by_the_clock_not_asked_about_again() {
        let (cached, calls, clock) = cache_over(Some(T + 1), CacheConfig::default());
        block_on(async {
            assert!(cached.check("tok").await.is_ok());
            assert!(cached.check("tok").await.is_ok(), "still before exp");
            clock.store(T + 1, Ordering::SeqCst);
            assert_eq!(
                cached.check("tok").await.err(),
                Some(VerifyError::Invalid("expired")),
                "the clock reached exp"
            );
            // Three requests (and the thread's copy), one question.
            assert!(cached.check("tok").await.is_err());
            assert_eq!(calls.load(Ordering::SeqCst), 1);
        });
    }

    #[test]
    fn an_entry_lasts_at_most_max_ttl_and_is_rechecked_only_in_the_last_second() {
        let (cached, _, _) = cache_over(Some(T + 10), CacheConfig::default());
        let before = Instant::now();
        let entry = cached.positive(info(Some(T + 10)));
        let after = Instant::now();
        assert!(entry.until <= after + Duration::from_secs(10));
        assert!(entry.until >= before + Duration::from_secs(10));
        let verified = entry.answer.unwrap();
        let recheck = verified.recheck_after.expect("set for a token with exp");
        assert!(recheck <= after + Duration::from_secs(9));
        assert!(recheck >= before + Duration::from_secs(9));

        let short = CacheConfig {
            max_ttl: Duration::from_secs(2),
            ..CacheConfig::default()
        };
        let (cached, _, _) = cache_over(Some(T + 10), short);
        let entry = cached.positive(info(Some(T + 10)));
        assert!(entry.until <= Instant::now() + Duration::from_secs(2));

        let (cached, _, _) = cache_over(None, short);
        let entry = cached.positive(info(None));
        assert!(entry.until <= Instant::now() + Duration::from_secs(2));
        assert_eq!(entry.answer.unwrap().recheck_after, None);
    }

    #[test]
    fn a_stale_entry_is_asked_about_again() {
        let config = CacheConfig {
            max_ttl: Duration::from_secs(1),
            ..CacheConfig::default()
        };
        let (cached, calls, _) = cache_over(Some(T + 3600), config);
        block_on(async {
            for _ in 0..3 {
                assert!(cached.check("tok").await.is_ok());
            }
            assert_eq!(calls.load(Ordering::SeqCst), 1);
            std::thread::sleep(Duration::from_millis(1100));
            assert!(cached.check("tok").await.is_ok());
            assert_eq!(calls.load(Ordering::SeqCst), 2);
        });
    }

    #[test]
    fn with_the_cache_off_every_check_asks_and_an_expired_answer_is_refused() {
        let off = CacheConfig {
            max_entries: 0,
            ..CacheConfig::default()
        };
        let (cached, calls, clock) = cache_over(Some(T + 5), off);
        block_on(async {
            assert!(cached.check("tok").await.is_ok());
            assert!(cached.check("tok").await.is_ok());
            assert_eq!(calls.load(Ordering::SeqCst), 2);
            clock.store(T + 5, Ordering::SeqCst);
            assert!(cached.check("tok").await.is_err());
        });
    }

    #[test]
    fn absurd_lifetimes_saturate_instead_of_panicking() {
        let now = Instant::now();
        assert!(later(now, Duration::MAX) > now);
        assert_eq!(
            later(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
    }
}
