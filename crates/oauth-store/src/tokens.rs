//! Queries on `access_tokens` and `refresh_tokens`. Tokens are found by the
//! digest of their value; each belongs to a grant, whose revocation ends
//! it.

use diesel::prelude::*;
use oauth_core::resource::Resource;
use oauth_core::token::RefreshToken;
use oauth_core::{ClientId, ScopeSet, SecretDigest, Timestamp, UserId};

use crate::codec::{decode, decode_list, encode_list};
use crate::error::StoreError;
use crate::pool::DbConnection;
use crate::schema::{access_tokens, grants, refresh_tokens};

/// A token to store.
#[derive(Debug, Clone, Copy)]
pub struct NewToken<'a> {
    pub digest: &'a SecretDigest,
    pub grant_id: &'a str,
    pub scopes: &'a ScopeSet,
    /// Who an access token is for (ignored for refresh tokens, whose grant
    /// holds the resources).
    pub audience: &'a [String],
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// An access token, as a resource server needs to judge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub grant_id: String,
    pub client_id: ClientId,
    pub user_id: Option<UserId>,
    pub scopes: ScopeSet,
    /// Who the token is for (RFC 8707; RFC 9068's `aud`).
    pub audience: Vec<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// The token or its grant was revoked.
    pub revoked: bool,
}

impl AccessToken {
    /// Usable now? (Not expired, not revoked. Whether its user is still
    /// enabled is the caller's to check.)
    pub fn is_active(&self, now: Timestamp) -> bool {
        !self.revoked && now < self.expires_at
    }

    /// `sub` as a resource sees it: the user, or the client itself for
    /// client credentials.
    pub fn subject(&self) -> String {
        self.user_id
            .as_ref()
            .map_or_else(|| self.client_id.to_string(), ToString::to_string)
    }
}

pub fn insert_access(conn: &mut DbConnection, t: NewToken<'_>) -> Result<(), StoreError> {
    diesel::insert_into(access_tokens::table)
        .values((
            access_tokens::token_hash.eq(t.digest.as_str()),
            access_tokens::grant_id.eq(t.grant_id),
            access_tokens::scopes.eq(t.scopes.to_string()),
            access_tokens::audience.eq(encode_list(t.audience)),
            access_tokens::created_at.eq(t.created_at.unix()),
            access_tokens::expires_at.eq(t.expires_at.unix()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn insert_refresh(conn: &mut DbConnection, t: NewToken<'_>) -> Result<(), StoreError> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(t.digest.as_str()),
            refresh_tokens::grant_id.eq(t.grant_id),
            refresh_tokens::scopes.eq(t.scopes.to_string()),
            refresh_tokens::created_at.eq(t.created_at.unix()),
            refresh_tokens::expires_at.eq(t.expires_at.unix()),
        ))
        .execute(conn)?;
    Ok(())
}

/// What every token lookup reads of the token's grant.
#[derive(Queryable)]
struct GrantState {
    client_id: String,
    user_id: Option<String>,
    revoked_at: Option<i64>,
}

const GRANT_STATE: (grants::client_id, grants::user_id, grants::revoked_at) =
    (grants::client_id, grants::user_id, grants::revoked_at);

impl GrantState {
    /// The grant's client, its user, and whether it was revoked.
    fn decode(self, table: &str) -> Result<(ClientId, Option<UserId>, bool), StoreError> {
        Ok((
            decode(table, "client_id", &self.client_id, ClientId::parse)?,
            self.user_id
                .as_deref()
                .map(|u| decode(table, "user_id", u, UserId::parse))
                .transpose()?,
            self.revoked_at.is_some(),
        ))
    }
}

type AccessRow = ((String, String, String, i64, i64, Option<i64>), GrantState);
type RefreshRow = (
    (String, String, i64, Option<i64>, Option<i64>),
    GrantState,
    (String, Option<i64>),
);

/// The access token with this digest, with its grant's state.
pub fn find_access(
    conn: &mut DbConnection,
    digest: &SecretDigest,
) -> Result<Option<AccessToken>, StoreError> {
    let row: Option<AccessRow> = access_tokens::table
        .inner_join(grants::table)
        .filter(access_tokens::token_hash.eq(digest.as_str()))
        .select((
            (
                access_tokens::grant_id,
                access_tokens::scopes,
                access_tokens::audience,
                access_tokens::created_at,
                access_tokens::expires_at,
                access_tokens::revoked_at,
            ),
            GRANT_STATE,
        ))
        .first(conn)
        .optional()?;
    let Some(((grant_id, scopes, audience, created_at, expires_at, revoked_at), grant)) = row
    else {
        return Ok(None);
    };
    const T: &str = "access_tokens";
    let audience = decode_list(T, "audience", &audience, |s| {
        Ok::<_, std::convert::Infallible>(s.to_owned())
    })?;
    let (client_id, user_id, grant_revoked) = grant.decode(T)?;
    Ok(Some(AccessToken {
        grant_id,
        client_id,
        user_id,
        scopes: decode(T, "scopes", &scopes, ScopeSet::parse)?,
        audience,
        created_at: Timestamp::from_unix(created_at),
        expires_at: Timestamp::from_unix(expires_at),
        revoked: revoked_at.is_some() || grant_revoked,
    }))
}

/// The refresh token with this digest, with its grant's state.
pub fn find_refresh(
    conn: &mut DbConnection,
    digest: &SecretDigest,
) -> Result<Option<RefreshToken>, StoreError> {
    let row: Option<RefreshRow> = refresh_tokens::table
        .inner_join(grants::table)
        .filter(refresh_tokens::token_hash.eq(digest.as_str()))
        .select((
            (
                refresh_tokens::grant_id,
                refresh_tokens::scopes,
                refresh_tokens::expires_at,
                refresh_tokens::rotated_at,
                refresh_tokens::revoked_at,
            ),
            GRANT_STATE,
            (grants::resources, grants::auth_time),
        ))
        .first(conn)
        .optional()?;
    let Some((
        (grant_id, scopes, expires_at, rotated_at, revoked_at),
        grant,
        (resources, auth_time),
    )) = row
    else {
        return Ok(None);
    };
    const T: &str = "refresh_tokens";
    let (client_id, user_id, grant_revoked) = grant.decode(T)?;
    Ok(Some(RefreshToken {
        grant_id,
        client_id,
        user_id,
        scopes: decode(T, "scopes", &scopes, ScopeSet::parse)?,
        resources: decode_list(T, "resources", &resources, Resource::parse)?,
        auth_time: auth_time.map(Timestamp::from_unix),
        expires_at: Timestamp::from_unix(expires_at),
        rotated: rotated_at.is_some(),
        revoked: revoked_at.is_some() || grant_revoked,
    }))
}

/// Marks a refresh token as exchanged, if it was not already. Of two
/// requests racing with one token, exactly one sees `true`.
pub fn rotate_refresh(
    conn: &mut DbConnection,
    digest: &SecretDigest,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        refresh_tokens::table
            .find(digest.as_str())
            .filter(refresh_tokens::rotated_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::rotated_at.eq(now.unix()))
    .execute(conn)?;
    Ok(n == 1)
}

/// Revokes one access token. Returns whether it was active until now.
pub fn revoke_access(
    conn: &mut DbConnection,
    digest: &SecretDigest,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        access_tokens::table
            .find(digest.as_str())
            .filter(access_tokens::revoked_at.is_null()),
    )
    .set(access_tokens::revoked_at.eq(now.unix()))
    .execute(conn)?;
    Ok(n > 0)
}

/// An access token a resource may honour now, with its user's login name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveAccess {
    pub token: AccessToken,
    /// `None` for client-credentials tokens.
    pub username: Option<oauth_core::Username>,
}

/// The access token with this digest if it is usable at `now`: not expired,
/// not revoked, and its user (if any) still exists and is enabled. The one
/// judgement introspection and bearer-guard's database mode share.
pub fn active_access(
    conn: &mut DbConnection,
    digest: &SecretDigest,
    now: Timestamp,
) -> Result<Option<ActiveAccess>, StoreError> {
    let Some(token) = find_access(conn, digest)? else {
        return Ok(None);
    };
    if !token.is_active(now) {
        return Ok(None);
    }
    let username = match &token.user_id {
        None => None,
        Some(id) => match crate::users::find_by_id(conn, id)? {
            Some(user) if user.enabled => Some(user.username),
            _ => return Ok(None),
        },
    };
    Ok(Some(ActiveAccess { token, username }))
}
