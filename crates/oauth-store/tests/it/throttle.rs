use std::time::Duration;

use oauth_core::throttle::{KeyKind, ThrottlePolicy, Verdict, key_digest};
use oauth_store::test_support::TestDb;
use oauth_store::{gc, throttle};

use crate::fixtures::NOW;

oauth_store::test_on_both_backends!(
    failures_are_counted_per_key_and_cleared,
    concurrent_failures_on_one_key_all_count,
    gc_deletes_counters_that_no_longer_count,
);

/// A policy that never locks within these tests.
const COUNT_ONLY: ThrottlePolicy = ThrottlePolicy {
    lock_after: 1_000_000,
    ..ThrottlePolicy::ACCOUNT
};

fn failures_are_counted_per_key_and_cleared(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let account = key_digest(KeyKind::Account, "alice");
    let ip = key_digest(KeyKind::Address, "192.0.2.1");
    let p = ThrottlePolicy::ADDRESS;
    for i in 1..=p.lock_after {
        let counters = throttle::record_failure(
            &mut conn,
            &[(&account, ThrottlePolicy::ACCOUNT), (&ip, p)],
            NOW,
        )
        .unwrap();
        assert_eq!(counters[0].failures, i);
        assert_eq!(counters[1].failures, i);
    }
    let stored = throttle::find(&mut conn, &ip).unwrap().unwrap();
    assert_eq!(
        p.verdict(Some(&stored), NOW),
        Verdict::Locked {
            until: NOW.plus(p.lock_duration)
        }
    );
    throttle::clear(&mut conn, &account).unwrap();
    assert_eq!(throttle::find(&mut conn, &account).unwrap(), None);
    assert!(throttle::find(&mut conn, &ip).unwrap().is_some());
}

fn concurrent_failures_on_one_key_all_count(t: &TestDb) {
    let key = key_digest(KeyKind::Account, "bob");
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let db = t.db().clone();
            let key = key.clone();
            std::thread::spawn(move || {
                let mut conn = db.conn().unwrap();
                for _ in 0..25 {
                    throttle::record_failure(&mut conn, &[(&key, COUNT_ONLY)], NOW).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let mut conn = t.db().conn().unwrap();
    assert_eq!(
        throttle::find(&mut conn, &key).unwrap().unwrap().failures,
        100
    );
}

fn gc_deletes_counters_that_no_longer_count(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let short = key_digest(KeyKind::Address, "192.0.2.2");
    let long = key_digest(KeyKind::Account, "carol");
    let p = ThrottlePolicy::ADDRESS;
    throttle::record_failure(&mut conn, &[(&short, p)], NOW).unwrap();
    throttle::record_failure(&mut conn, &[(&long, ThrottlePolicy::ACCOUNT)], NOW).unwrap();
    let count = |removed: &[gc::Removed]| {
        removed
            .iter()
            .find(|r| r.table == "login_throttle")
            .unwrap()
            .rows
    };
    let before = NOW.plus(p.reset_after - Duration::from_secs(1));
    assert_eq!(count(&gc::collect(&mut conn, before, |_| {}).unwrap()), 0);
    let after = NOW.plus(p.reset_after);
    assert_eq!(count(&gc::collect(&mut conn, after, |_| {}).unwrap()), 1);
    assert_eq!(throttle::find(&mut conn, &short).unwrap(), None);
    assert!(throttle::find(&mut conn, &long).unwrap().is_some());
}
