//! Each thread's own copy of recent "this token is good" answers, in front
//! of the shared cache.
//!
//! A hit in the shared cache takes its shard's lock and counts a reference
//! on the shared answer: two writes to memory every worker thread writes,
//! which on a busy server is most of the guard's cost (the cache line
//! moves between cores on every request). Here a worker finds its own
//! copy, which only it ever touches.
//!
//! A copy is made the second time a thread is handed the same shared
//! answer, not the first: a service with more live tokens than a thread
//! keeps would otherwise copy on nearly every request and find few copies
//! again. The first time only the key is noted.
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

/// The most entries (copies and noted keys) one thread holds, over all
/// guards.
pub(crate) const MAX_PER_THREAD: usize = 1024;

enum Slot {
    /// Handed out once from the shared cache; copied if asked for again.
    Seen,
    Copy(Arc<Verified>),
}

type Slots = HashMap<(GuardId, Key), (Slot, Instant)>;

thread_local! {
    static SLOTS: RefCell<Slots> = RefCell::new(HashMap::new());
}

/// This thread's copy of `guard`'s answer for `key`, if it is still good
/// at `now`.
pub(crate) fn get(guard: GuardId, key: &Key, now: Instant) -> Option<Arc<Verified>> {
    SLOTS.with_borrow_mut(|slots| {
        let at = (guard, *key);
        match slots.get(&at) {
            Some((Slot::Copy(verified), until)) if now < *until => Some(Arc::clone(verified)),
            Some((_, until)) if now < *until => None,
            Some(_) => {
                slots.remove(&at);
                None
            }
            None => None,
        }
    })
}

/// The answer to hand out for a hit in the shared cache that is good until
/// `until`: the first time on this thread, `shared` itself (and the key is
/// noted); the second, this thread's own copy, kept until `until`.
pub(crate) fn offer(
    key: &Key,
    shared: &Arc<Verified>,
    until: Instant,
    now: Instant,
) -> Arc<Verified> {
    offer_within(key, shared, until, now, MAX_PER_THREAD)
}

/// [`offer`], holding at most `limit` entries: when full, expired ones go;
/// if that frees less than an eighth, all go (so a full map of live
/// entries is not scanned again on every insert).
fn offer_within(
    key: &Key,
    shared: &Arc<Verified>,
    until: Instant,
    now: Instant,
    limit: usize,
) -> Arc<Verified> {
    SLOTS.with_borrow_mut(|slots| {
        let at = (shared.guard, *key);
        let seen = slots
            .get(&at)
            .is_some_and(|(slot, u)| matches!(slot, Slot::Seen) && now < *u);
        let (slot, answer) = if seen {
            let copy = Arc::new(Verified {
                info: shared.info.clone(),
                realm: Arc::clone(&shared.realm),
                guard: shared.guard,
                recheck_after: shared.recheck_after,
            });
            (Slot::Copy(Arc::clone(&copy)), copy)
        } else {
            (Slot::Seen, Arc::clone(shared))
        };
        if !slots.contains_key(&at) && slots.len() >= limit {
            slots.retain(|_, (_, u)| now < *u);
            if slots.len() >= limit - limit / 8 {
                slots.clear();
            }
        }
        slots.insert(at, (slot, until));
        answer
    })
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
            recheck_after: None,
        }
    }

    #[test]
    fn the_second_hit_makes_the_threads_own_copy_which_lasts_until_the_shared_entry_ends() {
        let guard = GuardId::next();
        let original = Arc::new(shared(guard));
        let now = Instant::now();
        let until = now + Duration::from_secs(30);
        assert!(get(guard, &[1; 32], now).is_none());
        let first = offer(&[1; 32], &original, until, now);
        assert!(Arc::ptr_eq(&first, &original), "the first time, no copy");
        assert!(get(guard, &[1; 32], now).is_none());
        let copy = offer(&[1; 32], &original, until, now);
        assert!(!Arc::ptr_eq(&copy, &original), "the second time, a copy");
        assert_eq!(copy.info, original.info);

        let found = get(guard, &[1; 32], now).expect("found");
        assert!(Arc::ptr_eq(&found, &copy));
        assert!(get(guard, &[1; 32], until - Duration::from_millis(1)).is_some());
        assert!(get(guard, &[1; 32], until).is_none(), "gone at its end");
        assert!(get(guard, &[1; 32], now).is_none(), "and removed");

        // Another thread has no copy: it goes to the shared cache.
        offer(&[2; 32], &original, until, now);
        offer(&[2; 32], &original, until, now);
        assert!(get(guard, &[2; 32], now).is_some());
        std::thread::spawn(move || assert!(get(guard, &[2; 32], now).is_none()))
            .join()
            .unwrap();
    }

    #[test]
    fn a_noted_key_that_has_expired_is_noted_afresh() {
        let guard = GuardId::next();
        let original = Arc::new(shared(guard));
        let now = Instant::now();
        let soon = now + Duration::from_secs(1);
        offer(&[6; 32], &original, soon, now);
        let later = offer(&[6; 32], &original, soon + Duration::from_secs(30), soon);
        assert!(Arc::ptr_eq(&later, &original), "noted again, not copied");
    }

    #[test]
    fn a_guard_sees_only_its_own_copies() {
        let (one, other) = (GuardId::next(), GuardId::next());
        let now = Instant::now();
        let until = now + Duration::from_secs(30);
        let verdict = Arc::new(shared(one));
        offer(&[3; 32], &verdict, until, now);
        offer(&[3; 32], &verdict, until, now);
        assert!(get(one, &[3; 32], now).is_some());
        assert!(get(other, &[3; 32], now).is_none());
    }

    #[test]
    fn entries_are_bounded_by_the_limit() {
        let guard = GuardId::next();
        let verdict = Arc::new(shared(guard));
        let now = Instant::now();
        let (soon, later) = (now + Duration::from_secs(1), now + Duration::from_secs(30));
        let count = || SLOTS.with_borrow(HashMap::len);
        SLOTS.with_borrow_mut(HashMap::clear);
        offer_within(&[0; 32], &verdict, soon, now, 3);
        offer_within(&[1; 32], &verdict, later, now, 3);
        offer_within(&[2; 32], &verdict, later, now, 3);
        assert_eq!(count(), 3);
        // Full: the expired entry makes room; a held key does not need any.
        offer_within(&[3; 32], &verdict, later, soon, 3);
        assert_eq!(count(), 3);
        offer_within(&[3; 32], &verdict, later, soon, 3);
        assert_eq!(count(), 3);
        assert!(get(guard, &[3; 32], soon).is_some());
        // Full of live entries: all go.
        offer_within(&[4; 32], &verdict, later, soon, 3);
        assert_eq!(count(), 1);
        assert!(get(guard, &[3; 32], soon).is_none());
    }

    #[test]
    fn a_full_map_is_cleared_when_expiry_frees_less_than_an_eighth() {
        let guard = GuardId::next();
        let verdict = Arc::new(shared(guard));
        let now = Instant::now();
        let (soon, later) = (now + Duration::from_secs(1), now + Duration::from_secs(30));
        let count = || SLOTS.with_borrow(HashMap::len);
        let fill = |expired: u8| {
            SLOTS.with_borrow_mut(HashMap::clear);
            for i in 0..16 {
                let until = if i < expired { soon } else { later };
                offer_within(&[i; 32], &verdict, until, now, 16);
            }
            offer_within(&[99; 32], &verdict, later, soon, 16);
            count()
        };
        assert_eq!(fill(1), 1, "one of 16 freed: all go");
        assert_eq!(fill(3), 14, "three of 16 freed: the live ones stay");
    }
}
