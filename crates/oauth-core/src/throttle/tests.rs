use std::time::Duration;

use super::*;

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

fn at(secs: u64) -> Timestamp {
    T0.plus(Duration::from_secs(secs))
}

/// `n` failures, each made as soon as it was allowed, starting at `T0`.
fn fail_as_allowed(p: &ThrottlePolicy, n: u32) -> Counter {
    let mut c: Option<Counter> = None;
    let mut now = T0;
    for _ in 0..n {
        if let Some(until) = p.verdict(c.as_ref(), now).refused_until() {
            now = until;
        }
        c = Some(p.after_failure(c.as_ref(), now));
    }
    c.unwrap()
}

#[test]
fn free_attempts_cost_no_wait() {
    let p = ThrottlePolicy::ACCOUNT;
    let mut c = None;
    for _ in 0..p.free_attempts {
        assert_eq!(p.verdict(c.as_ref(), T0), Verdict::Open);
        c = Some(p.after_failure(c.as_ref(), T0));
    }
    assert_eq!(c.unwrap().failures, p.free_attempts);
    assert_eq!(p.verdict(c.as_ref(), T0), Verdict::Open);
}

#[test]
fn waits_double_up_to_the_cap() {
    let p = ThrottlePolicy::ACCOUNT;
    let f = p.free_attempts;
    assert_eq!(p.delay_after(f), Duration::ZERO);
    assert_eq!(p.delay_after(f + 1), Duration::from_secs(1));
    assert_eq!(p.delay_after(f + 2), Duration::from_secs(2));
    assert_eq!(p.delay_after(f + 3), Duration::from_secs(4));
    assert_eq!(p.delay_after(f + 7), Duration::from_secs(60));
    assert_eq!(p.delay_after(u32::MAX), Duration::from_secs(60));
    let c = p.after_failure(Some(&fail_as_allowed(&p, f)), at(100));
    assert_eq!(
        p.verdict(Some(&c), at(100)),
        Verdict::Wait { until: at(101) }
    );
    assert_eq!(p.verdict(Some(&c), at(101)), Verdict::Open);
}

#[test]
fn a_too_early_attempt_counts_and_reaches_the_lock() {
    let p = ThrottlePolicy::ADDRESS;
    // Hammering at one instant: every failure counts, none waits for its
    // turn, and the lock comes at `lock_after`.
    let mut c = None;
    for i in 1..=p.lock_after {
        c = Some(p.after_failure(c.as_ref(), T0));
        assert_eq!(c.unwrap().failures, i);
    }
    let until = T0.plus(p.lock_duration);
    assert_eq!(p.verdict(c.as_ref(), T0), Verdict::Locked { until });
}

#[test]
fn failures_during_a_lock_do_not_prolong_it() {
    let p = ThrottlePolicy::ACCOUNT;
    let locked = fail_as_allowed(&p, p.lock_after);
    let until = locked.locked_until.unwrap();
    let mut c = locked;
    for s in 0..p.lock_duration.as_secs() {
        c = p.after_failure(Some(&c), locked.last_failure.plus(Duration::from_secs(s)));
    }
    assert_eq!(c, locked);
    assert_eq!(
        p.verdict(Some(&c), until.minus(Duration::from_secs(1))),
        Verdict::Locked { until }
    );
    // The lock ends, and the key starts afresh.
    assert_eq!(p.verdict(Some(&c), until), Verdict::Open);
    assert_eq!(p.current(Some(&c), until), None);
    assert_eq!(p.after_failure(Some(&c), until).failures, 1);
}

#[test]
fn the_address_locks_before_the_account() {
    let (a, ip) = (ThrottlePolicy::ACCOUNT, ThrottlePolicy::ADDRESS);
    assert!(ip.lock_after < a.lock_after);
    assert!(ip.free_attempts >= a.free_attempts);
}

#[test]
fn old_failures_are_forgotten() {
    let p = ThrottlePolicy::ACCOUNT;
    let c = fail_as_allowed(&p, p.free_attempts + 3);
    let forgotten = c.last_failure.plus(p.reset_after);
    assert!(
        p.current(Some(&c), forgotten.minus(Duration::from_secs(1)))
            .is_some()
    );
    assert_eq!(p.current(Some(&c), forgotten), None);
    assert_eq!(p.after_failure(Some(&c), forgotten).failures, 1);
    assert_eq!(p.expires_at(&c), forgotten);
    let locked = fail_as_allowed(&p, p.lock_after);
    assert!(p.expires_at(&locked) >= locked.locked_until.unwrap());
}

#[test]
fn lock_after_zero_turns_throttling_off() {
    let p = ThrottlePolicy {
        lock_after: 0,
        ..ThrottlePolicy::ACCOUNT
    };
    let mut c = None;
    for _ in 0..100 {
        c = Some(p.after_failure(c.as_ref(), T0));
        assert_eq!(p.verdict(c.as_ref(), T0), Verdict::Open);
    }
}

#[test]
fn keys_are_digests_and_names_ignore_case() {
    let a = key_digest(KeyKind::Account, "Alice");
    assert_eq!(a.len(), 64);
    assert!(!a.contains("alice"));
    assert_eq!(a, key_digest(KeyKind::Account, " alice "));
    assert_ne!(a, key_digest(KeyKind::Address, "alice"));
    assert_ne!(
        key_digest(KeyKind::Address, "10.0.0.1"),
        key_digest(KeyKind::Address, "10.0.0.2")
    );
}
