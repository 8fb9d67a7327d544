//! Removing what can no longer be used: expired codes, expired or revoked
//! tokens and grants, unanswered consent dialogs, expired browser sessions,
//! signing keys whose tokens have all expired, and login throttle counters
//! that no longer count. Rows are deleted in bounded batches so a large
//! backlog never holds a long lock.

use diesel::prelude::*;
use oauth_core::Timestamp;

use crate::error::StoreError;
use crate::pool::DbConnection;
use crate::schema::{
    access_tokens, authorization_codes, grants, login_throttle, pending_consents, refresh_tokens,
    sessions, signing_keys,
};

/// What one table lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub table: &'static str,
    pub rows: usize,
}

/// Rows deleted per statement.
pub const BATCH: i64 = 10_000;

/// Deletes everything that ended before `now`, calling `progress` after
/// each batch. Returns the totals per table.
pub fn collect(
    conn: &mut DbConnection,
    now: Timestamp,
    mut progress: impl FnMut(&Removed),
) -> Result<Vec<Removed>, StoreError> {
    let t = now.unix();
    let mut totals = Vec::new();
    macro_rules! sweep {
        ($name:literal, $table:ident, $key:expr, $cond:expr) => {{
            let mut total = 0;
            loop {
                let batch: Vec<String> = $table::table
                    .filter($cond)
                    .select($key)
                    .limit(BATCH)
                    .load(conn)?;
                if batch.is_empty() {
                    break;
                }
                let n = diesel::delete($table::table.filter($key.eq_any(&batch))).execute(conn)?;
                total += n;
                progress(&Removed {
                    table: $name,
                    rows: total,
                });
                if (batch.len() as i64) < BATCH {
                    break;
                }
            }
            totals.push(Removed {
                table: $name,
                rows: total,
            });
        }};
    }
    sweep!(
        "authorization_codes",
        authorization_codes,
        authorization_codes::code_hash,
        authorization_codes::expires_at.le(t)
    );
    sweep!(
        "access_tokens",
        access_tokens,
        access_tokens::token_hash,
        access_tokens::expires_at
            .le(t)
            .or(access_tokens::revoked_at.is_not_null())
    );
    sweep!(
        "refresh_tokens",
        refresh_tokens,
        refresh_tokens::token_hash,
        // Rotated tokens stay while their grant lives: presenting one again
        // is how reuse is detected (and the family revoked).
        refresh_tokens::expires_at
            .le(t)
            .or(refresh_tokens::revoked_at.is_not_null())
    );
    // A grant goes once it has ended; its remaining tokens go with it.
    sweep!(
        "grants",
        grants,
        grants::id,
        grants::expires_at
            .le(t)
            .or(grants::revoked_at.is_not_null())
    );
    sweep!(
        "pending_consents",
        pending_consents,
        pending_consents::token_hash,
        pending_consents::expires_at.le(t)
    );
    sweep!(
        "sessions",
        sessions,
        sessions::id_hash,
        sessions::expires_at.le(t)
    );
    sweep!(
        "signing_keys",
        signing_keys,
        signing_keys::kid,
        signing_keys::expires_at.le(t)
    );
    sweep!(
        "login_throttle",
        login_throttle,
        login_throttle::key_hash,
        login_throttle::expires_at.le(t)
    );
    Ok(totals)
}
