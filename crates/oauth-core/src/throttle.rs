//! Login throttling: how failed logins slow, then lock, a key (an account
//! or a client address).
//!
//! The rule, after Keycloak's brute-force detector: the first
//! `free_attempts` failures cost nothing; each further failure makes the
//! key wait before its next attempt, twice as long each time up to
//! `max_delay`; the `lock_after`-th failure locks the key for
//! `lock_duration`. An attempt made while the key must wait is refused
//! without checking the password and counts as a failure (so hammering
//! reaches the lock sooner, without costing a hash); an attempt made while
//! the key is locked is refused and counts for nothing, so an attacker
//! cannot prolong a lock. When a lock ends the key starts afresh, and
//! failures older than `reset_after` are forgotten.
//!
//! Everything here is arithmetic on a [`Counter`] and the time, passed in;
//! the store keeps the counters and applies [`ThrottlePolicy::after_failure`]
//! inside a transaction.

use std::time::Duration;

use sha2::{Digest as _, Sha256};

use crate::time::Timestamp;

/// How one kind of key is throttled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed before any wait.
    pub free_attempts: u32,
    /// The first wait; each further failure doubles it.
    pub base_delay: Duration,
    /// The longest wait between attempts.
    pub max_delay: Duration,
    /// The failure that locks the key. Zero turns this kind of throttling
    /// off.
    pub lock_after: u32,
    /// How long a lock lasts. Always finite: the owner of a locked account
    /// gets in again once it ends.
    pub lock_duration: Duration,
    /// Failures this old are forgotten.
    pub reset_after: Duration,
}

impl ThrottlePolicy {
    /// Per account: Keycloak's defaults (lock after 30 failures, waits of up
    /// to 15 minutes, failures forgotten after 12 hours), with the waits
    /// starting after 5 failures and capped at a minute so a user who
    /// mistyped is not made to wait long.
    pub const ACCOUNT: Self = Self {
        free_attempts: 5,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(60),
        lock_after: 30,
        lock_duration: Duration::from_secs(15 * 60),
        reset_after: Duration::from_secs(12 * 3600),
    };

    /// Per client address: more free attempts (many people may share an
    /// address), but a lock that comes before the account's, so that one
    /// address guessing at one account is stopped before it can lock the
    /// account's owner out. Forgotten after an hour.
    pub const ADDRESS: Self = Self {
        free_attempts: 10,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(60),
        lock_after: 20,
        lock_duration: Duration::from_secs(15 * 60),
        reset_after: Duration::from_secs(3600),
    };

    /// Whether this policy throttles at all.
    pub fn enabled(&self) -> bool {
        self.lock_after > 0
    }

    /// The counter as it stands at `now`: `None` when there is none, when
    /// its lock has ended, or when its last failure is forgotten.
    pub fn current(&self, counter: Option<&Counter>, now: Timestamp) -> Option<Counter> {
        let c = counter?;
        match c.locked_until {
            Some(until) if until > now => Some(*c),
            Some(_) => None,
            None if c.last_failure.plus(self.reset_after) <= now => None,
            None => Some(*c),
        }
    }

    /// May an attempt be made at `now`?
    pub fn verdict(&self, counter: Option<&Counter>, now: Timestamp) -> Verdict {
        if !self.enabled() {
            return Verdict::Open;
        }
        match self.current(counter, now) {
            Some(Counter {
                locked_until: Some(until),
                ..
            }) => Verdict::Locked { until },
            Some(c) if c.next_allowed_at > now => Verdict::Wait {
                until: c.next_allowed_at,
            },
            _ => Verdict::Open,
        }
    }

    /// The counter after one more failure at `now`. A locked counter is
    /// returned unchanged: failures during a lock do not prolong it.
    pub fn after_failure(&self, counter: Option<&Counter>, now: Timestamp) -> Counter {
        let current = self.current(counter, now);
        if let Some(c) = current.filter(|c| c.locked_until.is_some()) {
            return c;
        }
        let failures = current.map_or(0, |c| c.failures).saturating_add(1);
        if self.enabled() && failures >= self.lock_after {
            let until = now.plus(self.lock_duration);
            return Counter {
                failures,
                last_failure: now,
                next_allowed_at: until,
                locked_until: Some(until),
            };
        }
        Counter {
            failures,
            last_failure: now,
            next_allowed_at: now.plus(self.delay_after(failures)),
            locked_until: None,
        }
    }

    /// The wait after the `failures`-th failure (not counting a lock).
    pub fn delay_after(&self, failures: u32) -> Duration {
        let Some(over) = failures.checked_sub(self.free_attempts + 1) else {
            return Duration::ZERO;
        };
        let factor = 1u32.checked_shl(over).unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// When the counter no longer matters and may be deleted.
    pub fn expires_at(&self, counter: &Counter) -> Timestamp {
        let forgotten = counter.last_failure.plus(self.reset_after);
        counter.locked_until.map_or(forgotten, |l| l.max(forgotten))
    }
}

/// The failures recorded against one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub failures: u32,
    pub last_failure: Timestamp,
    /// No attempt is evaluated before this.
    pub next_allowed_at: Timestamp,
    pub locked_until: Option<Timestamp>,
}

/// Whether an attempt may be evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Open,
    /// Too early: refused, and counted as a failure.
    Wait {
        until: Timestamp,
    },
    /// Locked: refused, and not counted.
    Locked {
        until: Timestamp,
    },
}

impl Verdict {
    /// Until when attempts are refused, if they are.
    pub fn refused_until(self) -> Option<Timestamp> {
        match self {
            Self::Open => None,
            Self::Wait { until } | Self::Locked { until } => Some(until),
        }
    }
}

/// What a counter is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A login name as typed, whether or not such a user exists.
    Account,
    /// A client address (an IPv6 address by its /64).
    Address,
}

/// The stored key of a counter: a SHA-256 digest, so the table does not
/// list login names or addresses. Login names are compared without case
/// and surrounding space, so `Alice` and ` alice` share one counter.
pub fn key_digest(kind: KeyKind, value: &str) -> String {
    let (prefix, value) = match kind {
        KeyKind::Account => ("account", value.trim().to_lowercase()),
        KeyKind::Address => ("address", value.to_owned()),
    };
    let hash = Sha256::new()
        .chain_update(b"login-throttle\0")
        .chain_update(prefix.as_bytes())
        .chain_update(b"\0")
        .chain_update(value.as_bytes())
        .finalize();
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
