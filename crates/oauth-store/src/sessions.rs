//! Queries on `sessions`: the server side of a browser's login. The cookie
//! holds a random session id; this table holds only its digest, so a
//! database reader cannot ride anyone's session, and deleting the row ends
//! the session whatever copies of the cookie exist.

use diesel::prelude::*;
use oauth_core::{SecretDigest, Timestamp, UserId};

use crate::codec::decode;
use crate::error::StoreError;
use crate::pool::DbConnection;
use crate::schema::{sessions, users};

/// How stale `last_seen_at` may grow before a request refreshes it: at
/// most one write per session per minute, however busy the browser.
pub const LAST_SEEN_RESOLUTION_SECS: i64 = 60;

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub user_id: UserId,
    /// When the user logged in.
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Records a session for `user`, identified by the digest of its id.
pub fn create(
    conn: &mut DbConnection,
    id: &SecretDigest,
    user: &UserId,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id_hash.eq(id.as_str()),
            sessions::user_id.eq(user.as_str()),
            sessions::created_at.eq(now.unix()),
            sessions::expires_at.eq(expires_at.unix()),
            sessions::last_seen_at.eq(now.unix()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The session with this id digest, if it has not expired and its user
/// exists and is enabled. Notes the visit in `last_seen_at`, at most once
/// per [`LAST_SEEN_RESOLUTION_SECS`].
pub fn find_active(
    conn: &mut DbConnection,
    id: &SecretDigest,
    now: Timestamp,
) -> Result<Option<SessionRecord>, StoreError> {
    let row: Option<(String, i64, i64)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id_hash.eq(id.as_str()))
        .filter(sessions::expires_at.gt(now.unix()))
        .filter(users::enabled.eq(true))
        .select((
            sessions::user_id,
            sessions::created_at,
            sessions::expires_at,
        ))
        .first(conn)
        .optional()?;
    let Some((user_id, created_at, expires_at)) = row else {
        return Ok(None);
    };
    diesel::update(
        sessions::table
            .find(id.as_str())
            .filter(sessions::last_seen_at.le(now.unix() - LAST_SEEN_RESOLUTION_SECS)),
    )
    .set(sessions::last_seen_at.eq(now.unix()))
    .execute(conn)?;
    Ok(Some(SessionRecord {
        user_id: decode("sessions", "user_id", &user_id, UserId::parse)?,
        created_at: Timestamp::from_unix(created_at),
        expires_at: Timestamp::from_unix(expires_at),
    }))
}

/// Ends one session. Returns whether it existed.
pub fn delete(conn: &mut DbConnection, id: &SecretDigest) -> Result<bool, StoreError> {
    let n = diesel::delete(sessions::table.find(id.as_str())).execute(conn)?;
    Ok(n > 0)
}

/// Ends every session of a user. Returns how many there were.
pub fn delete_for_user(conn: &mut DbConnection, user: &UserId) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(sessions::table.filter(sessions::user_id.eq(user.as_str())))
            .execute(conn)?,
    )
}

/// How many sessions a user has (live or not yet collected).
pub fn count_for_user(conn: &mut DbConnection, user: &UserId) -> Result<i64, StoreError> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(user.as_str()))
        .count()
        .get_result(conn)?)
}
