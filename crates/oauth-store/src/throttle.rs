//! Queries on `login_throttle`: failed-login counters keyed by a digest
//! (`oauth_core::throttle::key_digest`). The policy that turns failures
//! into waits and locks is `oauth_core::throttle::ThrottlePolicy`; this
//! module only keeps its counters, shared by every instance.

use diesel::prelude::*;
use oauth_core::Timestamp;
use oauth_core::throttle::{Counter, ThrottlePolicy};

use crate::error::StoreError;
use crate::pool::{DbConnection, per_backend, write_transaction};
use crate::schema::login_throttle;

type Row = (i64, i64, i64, Option<i64>);

fn counter((failures, last_failure, next_allowed_at, locked_until): Row) -> Counter {
    Counter {
        failures: u32::try_from(failures.max(0)).unwrap_or(u32::MAX),
        last_failure: Timestamp::from_unix(last_failure),
        next_allowed_at: Timestamp::from_unix(next_allowed_at),
        locked_until: locked_until.map(Timestamp::from_unix),
    }
}

fn columns() -> (
    login_throttle::failures,
    login_throttle::last_failure,
    login_throttle::next_allowed_at,
    login_throttle::locked_until,
) {
    (
        login_throttle::failures,
        login_throttle::last_failure,
        login_throttle::next_allowed_at,
        login_throttle::locked_until,
    )
}

/// The counter stored under `key`, if any (as stored: the policy decides
/// whether it still counts).
pub fn find(conn: &mut DbConnection, key: &str) -> Result<Option<Counter>, StoreError> {
    let row: Option<Row> = login_throttle::table
        .find(key)
        .select(columns())
        .first(conn)
        .optional()?;
    Ok(row.map(counter))
}

/// Records one failure against each key under its policy, in one
/// transaction, and returns the counters as they now stand.
///
/// Two instances recording against one key at once both count: on SQLite
/// the transaction holds the write lock from its start; on PostgreSQL the
/// row is created if missing and then locked (a no-op update) before it is
/// read, so the second waits for the first and reads its result. Keys are
/// locked in sorted order, so two such transactions cannot deadlock.
pub fn record_failure(
    conn: &mut DbConnection,
    keys: &[(&str, ThrottlePolicy)],
    now: Timestamp,
) -> Result<Vec<Counter>, StoreError> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| keys[i].0);
    write_transaction(conn, |conn| {
        let mut out = vec![None; keys.len()];
        for i in order {
            let (key, policy) = &keys[i];
            per_backend!(conn, |c| diesel::insert_into(login_throttle::table)
                .values((
                    login_throttle::key_hash.eq(*key),
                    login_throttle::failures.eq(0i64),
                    login_throttle::last_failure.eq(0i64),
                    login_throttle::next_allowed_at.eq(0i64),
                    login_throttle::expires_at.eq(0i64),
                ))
                .on_conflict_do_nothing()
                .execute(c))?;
            diesel::update(login_throttle::table.find(*key))
                .set(login_throttle::failures.eq(login_throttle::failures))
                .execute(conn)?;
            let row: Row = login_throttle::table
                .find(*key)
                .select(columns())
                .first(conn)?;
            let next = policy.after_failure(Some(&counter(row)), now);
            diesel::update(login_throttle::table.find(*key))
                .set((
                    login_throttle::failures.eq(i64::from(next.failures)),
                    login_throttle::last_failure.eq(next.last_failure.unix()),
                    login_throttle::next_allowed_at.eq(next.next_allowed_at.unix()),
                    login_throttle::locked_until.eq(next.locked_until.map(Timestamp::unix)),
                    login_throttle::expires_at.eq(policy.expires_at(&next).unix()),
                ))
                .execute(conn)?;
            out[i] = Some(next);
        }
        Ok(out.into_iter().flatten().collect())
    })
}

/// Forgets the failures against `key` (after a successful login).
pub fn clear(conn: &mut DbConnection, key: &str) -> Result<(), StoreError> {
    diesel::delete(login_throttle::table.find(key)).execute(conn)?;
    Ok(())
}
