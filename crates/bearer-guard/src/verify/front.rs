//! Each thread's own copy of recent "this token is good" answers, in front
//! of the shared cache.
//!
//! A hit in the shared cache takes its shard's lock and counts a reference
//! on the shared answer: two writes to memory every worker thread writes,
//! which on a busy server is most of the guard's cost (the cache line
//! moves between cores on every request). Here a worker finds its own
//! copy, which only it ever touches.
//!
//! A copy lives no longer than the shared entry it was made from, so the
//! revocation delay is the shared cache's. Refusals are not copied: they
//! are rare on a healthy service and brief anyway.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use super::cache::Key;
use crate::caller::{GuardId, Verified};

/// The most copies one thread holds, over all guards.
pub(crate) const MAX_PER_THREAD: usize = 1024;

type Copies = HashMap<(GuardId, Key), (Arc<Verified>, Instant)>;

thread_local! {
    static COPIES: RefCell<Copies> = RefCell::new(HashMap::new());
}

/// This thread's copy of `guard`'s answer for `key`, if it is still good
/// at `now`.
pub(crate) fn get(guard: GuardId, key: &Key, now: Instant) -> Option<Arc<Verified>> {
    COPIES.with_borrow_mut(|copies| {
        let slot = (guard, *key);
        match copies.get(&slot) {
            Some((verified, until)) if now < *until => Some(Arc::clone(verified)),
            Some(_) => {
                copies.remove(&slot);
                None
            }
            None => None,
        }
    })
}

/// Keeps this thread's own copy of `shared` until `until`, holding at most
/// `limit` copies (expired ones go first, then all), and returns it.
pub(crate) fn put(
    key: &Key,
    shared: &Verified,
    until: Instant,
    now: Instant,
    limit: usize,
) -> Arc<Verified> {
    let copy = Arc::new(Verified {
        info: shared.info.clone(),
        realm: Arc::clone(&shared.realm),
        guard: shared.guard,
    });
    let limit = limit.min(MAX_PER_THREAD);
    if limit > 0 {
        COPIES.with_borrow_mut(|copies| {
            if copies.len() >= limit {
                copies.retain(|_, (_, until)| now < *until);
                if copies.len() >= limit {
                    copies.clear();
                }
            }
            copies.insert((shared.guard, *key), (Arc::clone(&copy), until));
        });
    }
    copy
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use oauth_core::ScopeSet;

    use super::*;
    use crate::error::Realm;
    use crate::verify::TokenInfo;

    fn shared(guard: GuardId) -> Verified {
        Verified {
            info: TokenInfo {
                subject: "alice".into(),
                username: None,
                client_id: "app".into(),
                scopes: ScopeSet::parse("project").unwrap(),
                audience: Vec::new(),
                expires_at: None,
                has_user: true,
            },
            realm: Arc::new(Realm {
                realm: "api".into(),
                resource_metadata: None,
            }),
            guard,
        }
    }

    #[test]
    fn a_copy_is_the_threads_own_and_lasts_until_the_shared_entry_ends() {
        let guard = GuardId::next();
        let original = Arc::new(shared(guard));
        let now = Instant::now();
        let until = now + Duration::from_secs(30);
        let copy = put(&[1; 32], &original, until, now, 10);
        assert!(!Arc::ptr_eq(&copy, &original), "a copy, not the shared one");
        assert_eq!(copy.info, original.info);

        let found = get(guard, &[1; 32], now).expect("found");
        assert!(Arc::ptr_eq(&found, &copy));
        assert!(get(guard, &[1; 32], until - Duration::from_millis(1)).is_some());
        assert!(get(guard, &[1; 32], until).is_none(), "gone at its end");
        assert!(get(guard, &[1; 32], now).is_none(), "and removed");

        // Another thread has no copy: it goes to the shared cache.
        put(&[2; 32], &original, until, now, 10);
        std::thread::spawn(move || assert!(get(guard, &[2; 32], now).is_none()))
            .join()
            .unwrap();
    }

    #[test]
    fn a_guard_sees_only_its_own_copies() {
        let (one, other) = (GuardId::next(), GuardId::next());
        let now = Instant::now();
        put(
            &[3; 32],
            &shared(one),
            now + Duration::from_secs(30),
            now,
            10,
        );
        assert!(get(one, &[3; 32], now).is_some());
        assert!(get(other, &[3; 32], now).is_none());
    }

    #[test]
    fn copies_are_bounded_by_the_limit_and_none_are_kept_with_limit_0() {
        let guard = GuardId::next();
        let now = Instant::now();
        let (soon, later) = (now + Duration::from_secs(1), now + Duration::from_secs(30));
        let count = || COPIES.with_borrow(HashMap::len);
        COPIES.with_borrow_mut(HashMap::clear);
        put(&[0; 32], &shared(guard), soon, now, 3);
        put(&[1; 32], &shared(guard), later, now, 3);
        put(&[2; 32], &shared(guard), later, now, 3);
        assert_eq!(count(), 3);
        // Full: the expired copy makes room.
        put(&[3; 32], &shared(guard), later, soon, 3);
        assert_eq!(count(), 3);
        assert!(get(guard, &[0; 32], now).is_none());
        // Full of live copies: all go.
        put(&[4; 32], &shared(guard), later, soon, 3);
        assert_eq!(count(), 1);
        assert!(get(guard, &[4; 32], now).is_some());

        COPIES.with_borrow_mut(HashMap::clear);
        let copy = put(&[5; 32], &shared(guard), later, now, 0);
        assert_eq!(copy.info.subject, "alice");
        assert_eq!(count(), 0, "the cache is off");
    }
}
