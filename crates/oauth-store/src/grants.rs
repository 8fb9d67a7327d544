//! Queries on `grants`: one user's authorization of one client, the family
//! every token issued from it belongs to.

use diesel::prelude::*;
use oauth_core::resource::Resource;
use oauth_core::{ClientId, ScopeSet, Timestamp, UserId};

use crate::codec::{decode, decode_list, encode_list};

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

pub fn create(conn: &mut DbConnection, grant: &Grant) -> Result<(), StoreError> {
    diesel::insert_into(grants::table)
        .values(GrantRow::from_grant(grant))
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

/// How stale a grant's `last_used_at` may grow: a use within this many
/// seconds of the recorded one is not written, so a busy client costs at
/// most one write per grant per minute.
pub const LAST_USED_RESOLUTION_SECS: i64 = 60;

/// Notes that a token of the grant was used at `now` (refresh,
/// introspection, userinfo), unless that was already noted less than
/// [`LAST_USED_RESOLUTION_SECS`] ago.
pub fn touch(conn: &mut DbConnection, grant_id: &str, now: Timestamp) -> Result<(), StoreError> {
    diesel::update(
        grants::table.find(grant_id).filter(
            grants::last_used_at
                .is_null()
                .or(grants::last_used_at.le(now.unix() - LAST_USED_RESOLUTION_SECS)),
        ),
    )
    .set(grants::last_used_at.eq(now.unix()))
    .execute(conn)?;
    Ok(())
}

/// When a token of the grant was last used, to the minute.
pub fn last_used(conn: &mut DbConnection, grant_id: &str) -> Result<Option<Timestamp>, StoreError> {
    Ok(grants::table
        .find(grant_id)
        .select(grants::last_used_at)
        .first::<Option<i64>>(conn)
        .optional()?
        .flatten()
        .map(Timestamp::from_unix))
}

/// A grant with what `oauthctl token list` shows about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantSummary {
    pub grant: Grant,
    /// Access tokens not expired and not revoked.
    pub active_access_tokens: i64,
    /// Whether an unused, unexpired refresh token remains.
    pub refreshable: bool,
}

/// Grants that are neither revoked nor expired, newest first, optionally
/// of one user and/or one client.
pub fn list_active(
    conn: &mut DbConnection,
    user: Option<&UserId>,
    client: Option<&ClientId>,
    now: Timestamp,
) -> Result<Vec<GrantSummary>, StoreError> {
    use crate::schema::{access_tokens, refresh_tokens};
    let mut query = grants::table
        .filter(grants::revoked_at.is_null())
        .filter(grants::expires_at.gt(now.unix()))
        .into_boxed();
    if let Some(user) = user {
        query = query.filter(grants::user_id.eq(user.as_str()));
    }
    if let Some(client) = client {
        query = query.filter(grants::client_id.eq(client.as_str()));
    }
    let rows: Vec<GrantRow> = query
        .order(grants::created_at.desc())
        .select(GrantRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let active_access_tokens: i64 = access_tokens::table
                .filter(access_tokens::grant_id.eq(&row.id))
                .filter(access_tokens::revoked_at.is_null())
                .filter(access_tokens::expires_at.gt(now.unix()))
                .count()
                .get_result(conn)?;
            let refreshable: i64 = refresh_tokens::table
                .filter(refresh_tokens::grant_id.eq(&row.id))
                .filter(refresh_tokens::rotated_at.is_null())
                .filter(refresh_tokens::revoked_at.is_null())
                .filter(refresh_tokens::expires_at.gt(now.unix()))
                .count()
                .get_result(conn)?;
            Ok(GrantSummary {
                grant: row.into_grant()?,
                active_access_tokens,
                refreshable: refreshable > 0,
            })
        })
        .collect()
}

/// Revokes every active grant of a user and/or a client (at least one must
/// be given). Returns how many were revoked.
pub fn revoke_all(
    conn: &mut DbConnection,
    user: Option<&UserId>,
    client: Option<&ClientId>,
    now: Timestamp,
) -> Result<usize, StoreError> {
    if user.is_none() && client.is_none() {
        return Ok(0);
    }
    let mut target = diesel::update(grants::table)
        .filter(grants::revoked_at.is_null())
        .into_boxed();
    if let Some(user) = user {
        target = target.filter(grants::user_id.eq(user.as_str()));
    }
    if let Some(client) = client {
        target = target.filter(grants::client_id.eq(client.as_str()));
    }
    Ok(target
        .set(grants::revoked_at.eq(now.unix()))
        .execute(conn)?)
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = grants)]
struct GrantRow {
    id: String,
    client_id: String,
    user_id: Option<String>,
    scopes: String,
    resources: String,
    auth_time: Option<i64>,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
}

impl GrantRow {
    fn from_grant(g: &Grant) -> Self {
        Self {
            id: g.id.clone(),
            client_id: g.client_id.to_string(),
            user_id: g.user_id.as_ref().map(ToString::to_string),
            scopes: g.scopes.to_string(),
            resources: encode_list(&g.resources.iter().map(Resource::as_str).collect::<Vec<_>>()),
            auth_time: g.auth_time.map(Timestamp::unix),
            created_at: g.created_at.unix(),
            expires_at: g.expires_at.unix(),
            revoked_at: g.revoked_at.map(Timestamp::unix),
        }
    }

    fn into_grant(self) -> Result<Grant, StoreError> {
        const T: &str = "grants";
        Ok(Grant {
            id: self.id,
            client_id: decode(T, "client_id", &self.client_id, ClientId::parse)?,
            user_id: self
                .user_id
                .as_deref()
                .map(|u| decode(T, "user_id", u, UserId::parse))
                .transpose()?,
            scopes: decode(T, "scopes", &self.scopes, ScopeSet::parse)?,
            resources: decode_list(T, "resources", &self.resources, Resource::parse)?,
            auth_time: self.auth_time.map(Timestamp::from_unix),
            created_at: Timestamp::from_unix(self.created_at),
            expires_at: Timestamp::from_unix(self.expires_at),
            revoked_at: self.revoked_at.map(Timestamp::from_unix),
        })
    }
}
