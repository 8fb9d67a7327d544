//! Queries on `grants`: one user's authorization of one client, the family
//! every token issued from it belongs to.

use diesel::prelude::*;
use oauth_core::resource::Resource;
use oauth_core::{ClientId, ScopeSet, Timestamp, UserId};

use crate::codec::encode_list;

use crate::error::StoreError;
use crate::pool::DbConnection;
use crate::schema::grants;

/// A grant, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: String,
    pub client_id: ClientId,
    /// `None` for a client acting on its own behalf (client credentials).
    pub user_id: Option<UserId>,
    pub scopes: ScopeSet,
    /// RFC 8707 resources the grant covers.
    pub resources: Vec<Resource>,
    pub auth_time: Option<Timestamp>,
    pub created_at: Timestamp,
    /// When its refresh tokens stop working, however often they rotate.
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

#[derive(Insertable)]
#[diesel(table_name = grants)]
struct GrantRow<'a> {
    id: &'a str,
    client_id: &'a str,
    user_id: Option<&'a str>,
    scopes: String,
    resources: String,
    auth_time: Option<i64>,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
}

pub fn create(conn: &mut DbConnection, grant: &Grant) -> Result<(), StoreError> {
    diesel::insert_into(grants::table)
        .values(GrantRow {
            id: &grant.id,
            client_id: grant.client_id.as_str(),
            user_id: grant.user_id.as_ref().map(UserId::as_str),
            scopes: grant.scopes.to_string(),
            resources: encode_list(
                &grant
                    .resources
                    .iter()
                    .map(Resource::as_str)
                    .collect::<Vec<_>>(),
            ),
            auth_time: grant.auth_time.map(Timestamp::unix),
            created_at: grant.created_at.unix(),
            expires_at: grant.expires_at.unix(),
            revoked_at: grant.revoked_at.map(Timestamp::unix),
        })
        .execute(conn)?;
    Ok(())
}

/// Revokes a grant, ending every token issued under it. Returns whether it
/// was active until now.
pub fn revoke(conn: &mut DbConnection, grant_id: &str, now: Timestamp) -> Result<bool, StoreError> {
    let n = diesel::update(
        grants::table
            .find(grant_id)
            .filter(grants::revoked_at.is_null()),
    )
    .set(grants::revoked_at.eq(now.unix()))
    .execute(conn)?;
    Ok(n > 0)
}
