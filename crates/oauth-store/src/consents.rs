//! Queries on `consents` (the scopes a user approved for a client, for
//! consent mode `auto`) and `pending_consents` (dialogs awaiting an answer).

use diesel::prelude::*;
use oauth_core::{ClientId, Scope, ScopeSet, SecretDigest, Timestamp, UserId};

use crate::codec::decode;
use crate::error::StoreError;
use crate::pool::{DbConnection, per_backend};
use crate::schema::{consents, pending_consents};

/// The scopes this user approved for this client, if any.
pub fn find(
    conn: &mut DbConnection,
    user: &UserId,
    client: &ClientId,
) -> Result<Option<ScopeSet>, StoreError> {
    let rows: Vec<String> = consents::table
        .filter(consents::user_id.eq(user.as_str()))
        .filter(consents::client_id.eq(client.as_str()))
        .select(consents::scope)
        .load(conn)?;
    if rows.is_empty() {
        return Ok(None);
    }
    rows.iter()
        .map(|s| decode("consents", "scope", s, Scope::parse))
        .collect::<Result<ScopeSet, _>>()
        .map(Some)
}

/// Forgets everything the user approved for the client. Returns how many
/// scopes were remembered.
pub fn forget(
    conn: &mut DbConnection,
    user: &UserId,
    client: &ClientId,
) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        consents::table
            .filter(consents::user_id.eq(user.as_str()))
            .filter(consents::client_id.eq(client.as_str())),
    )
    .execute(conn)?)
}

/// Adds `scopes` to what the user approved for the client. One row per
/// scope, inserted unless present: concurrent approvals cannot conflict.
pub fn remember(
    conn: &mut DbConnection,
    user: &UserId,
    client: &ClientId,
    scopes: &ScopeSet,
    now: Timestamp,
) -> Result<(), StoreError> {
    let rows: Vec<_> = scopes
        .iter()
        .map(|scope| {
            (
                consents::user_id.eq(user.as_str()),
                consents::client_id.eq(client.as_str()),
                consents::scope.eq(scope.as_str()),
                consents::created_at.eq(now.unix()),
            )
        })
        .collect();
    for row in rows {
        per_backend!(conn, |c| diesel::insert_into(consents::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(())
}

/// Records a consent dialog shown to `user`, in the browser session whose
/// id has digest `session`, about the request with this digest,
/// answerable with the token whose digest is `token`.
pub fn begin(
    conn: &mut DbConnection,
    token: &SecretDigest,
    session: &SecretDigest,
    user: &UserId,
    request_digest: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    diesel::insert_into(pending_consents::table)
        .values((
            pending_consents::token_hash.eq(token.as_str()),
            pending_consents::user_id.eq(user.as_str()),
            pending_consents::session_hash.eq(session.as_str()),
            pending_consents::request_digest.eq(request_digest),
            pending_consents::created_at.eq(now.unix()),
            pending_consents::expires_at.eq(expires_at.unix()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Answers a pending dialog: deletes it if it matches token, session,
/// user and request and has not expired. Of two answers to one dialog,
/// exactly one sees `true`.
pub fn take(
    conn: &mut DbConnection,
    token: &SecretDigest,
    session: &SecretDigest,
    user: &UserId,
    request_digest: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = diesel::delete(
        pending_consents::table
            .filter(pending_consents::token_hash.eq(token.as_str()))
            .filter(pending_consents::session_hash.eq(session.as_str()))
            .filter(pending_consents::user_id.eq(user.as_str()))
            .filter(pending_consents::request_digest.eq(request_digest))
            .filter(pending_consents::expires_at.gt(now.unix())),
    )
    .execute(conn)?;
    Ok(n == 1)
}
