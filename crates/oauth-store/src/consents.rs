//! Queries on `consents`: the scopes a user approved for a client, for
//! consent mode `auto`.

use diesel::prelude::*;
use oauth_core::{ClientId, ScopeSet, Timestamp, UserId};

use crate::codec::decode;
use crate::error::StoreError;
use crate::pool::{DbConnection, write_transaction};
use crate::schema::consents;

/// The scopes this user approved for this client, if any.
pub fn find(
    conn: &mut DbConnection,
    user: &UserId,
    client: &ClientId,
) -> Result<Option<ScopeSet>, StoreError> {
    consents::table
        .find((user.as_str(), client.as_str()))
        .select(consents::scopes)
        .first::<String>(conn)
        .optional()?
        .map(|s| decode("consents", "scopes", &s, ScopeSet::parse))
        .transpose()
}

/// Adds `scopes` to what the user approved for the client.
pub fn remember(
    conn: &mut DbConnection,
    user: &UserId,
    client: &ClientId,
    scopes: &ScopeSet,
    now: Timestamp,
) -> Result<(), StoreError> {
    write_transaction(conn, |conn| -> Result<(), StoreError> {
        let n = diesel::update(consents::table.find((user.as_str(), client.as_str())))
            .set(consents::updated_at.eq(now.unix()))
            .execute(conn)?;
        if n == 0 {
            diesel::insert_into(consents::table)
                .values((
                    consents::user_id.eq(user.as_str()),
                    consents::client_id.eq(client.as_str()),
                    consents::scopes.eq(scopes.to_string()),
                    consents::created_at.eq(now.unix()),
                    consents::updated_at.eq(now.unix()),
                ))
                .execute(conn)?;
            return Ok(());
        }
        // The row is locked by the update above; merge inside the lock.
        let known = find(conn, user, client)?.unwrap_or_default();
        diesel::update(consents::table.find((user.as_str(), client.as_str())))
            .set(consents::scopes.eq(known.union(scopes).to_string()))
            .execute(conn)?;
        Ok(())
    })
}
