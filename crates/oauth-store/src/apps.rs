//! The applications a user has authorized, as the user's "Authorized
//! apps" page shows them: every client with remembered consent or a live
//! grant, and revoking one.

use std::collections::BTreeMap;

use diesel::prelude::*;
use oauth_core::{ClientId, Scope, ScopeSet, Timestamp, UserId};

use crate::codec::decode;
use crate::error::StoreError;
use crate::pool::{DbConnection, write_transaction};
use crate::schema::{authorization_codes, clients, consents, grants};

/// One authorized application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedApp {
    pub client_id: ClientId,
    pub client_name: String,
    /// Remembered consent and live grants together.
    pub scopes: ScopeSet,
    /// The earliest remembered consent or live grant.
    pub authorized_at: Timestamp,
    /// When a token of one of its grants was last used, to the minute.
    pub last_used_at: Option<Timestamp>,
}

/// The applications `user` has authorized, by name: clients with
/// remembered consent or a grant that is neither revoked nor expired.
pub fn list(
    conn: &mut DbConnection,
    user: &UserId,
    now: Timestamp,
) -> Result<Vec<AuthorizedApp>, StoreError> {
    let remembered: Vec<(String, String, String, i64)> = consents::table
        .inner_join(clients::table)
        .filter(consents::user_id.eq(user.as_str()))
        .select((
            consents::client_id,
            clients::name,
            consents::scope,
            consents::created_at,
        ))
        .load(conn)?;
    let live: Vec<(String, String, String, i64, Option<i64>)> = grants::table
        .inner_join(clients::table)
        .filter(grants::user_id.eq(user.as_str()))
        .filter(grants::revoked_at.is_null())
        .filter(grants::expires_at.gt(now.unix()))
        .select((
            grants::client_id,
            clients::name,
            grants::scopes,
            grants::created_at,
            grants::last_used_at,
        ))
        .load(conn)?;

    struct Entry {
        name: String,
        scopes: Vec<Scope>,
        authorized_at: i64,
        last_used_at: Option<i64>,
    }
    impl Entry {
        fn new(name: String, at: i64) -> Self {
            Self {
                name,
                scopes: Vec::new(),
                authorized_at: at,
                last_used_at: None,
            }
        }
    }
    let mut by_client: BTreeMap<String, Entry> = BTreeMap::new();
    for (id, name, scope, at) in remembered {
        let e = by_client.entry(id).or_insert_with(|| Entry::new(name, at));
        e.authorized_at = e.authorized_at.min(at);
        e.scopes
            .push(decode("consents", "scope", &scope, Scope::parse)?);
    }
    for (id, name, scopes, at, used) in live {
        let e = by_client.entry(id).or_insert_with(|| Entry::new(name, at));
        e.authorized_at = e.authorized_at.min(at);
        e.last_used_at = e.last_used_at.max(used);
        e.scopes.extend(
            decode("grants", "scopes", &scopes, ScopeSet::parse)?
                .iter()
                .cloned(),
        );
    }
    let mut apps = by_client
        .into_iter()
        .map(|(id, e)| {
            Ok(AuthorizedApp {
                client_id: decode("clients", "client_id", &id, ClientId::parse)?,
                client_name: e.name,
                scopes: e.scopes.into_iter().collect(),
                authorized_at: Timestamp::from_unix(e.authorized_at),
                last_used_at: e.last_used_at.map(Timestamp::from_unix),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    apps.sort_by(|a, b| {
        a.client_name
            .to_lowercase()
            .cmp(&b.client_name.to_lowercase())
            .then_with(|| a.client_id.as_str().cmp(b.client_id.as_str()))
    });
    Ok(apps)
}

/// What revoking an application removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Revoked {
    /// Grants deleted, with every access and refresh token under them.
    pub grants: usize,
    /// Remembered scopes forgotten.
    pub consents: usize,
    /// Codes issued but not yet redeemed, deleted.
    pub codes: usize,
}

impl Revoked {
    /// Was the application authorized at all?
    pub fn any(&self) -> bool {
        self.grants + self.consents + self.codes > 0
    }
}

/// Revokes `client` for `user`, in one write transaction: deletes the
/// user's grants of the client (their tokens go with them, by cascade),
/// the user's codes for the client, and the remembered consent. The next
/// request with any of those tokens fails.
pub fn revoke(
    conn: &mut DbConnection,
    user: &UserId,
    client: &ClientId,
) -> Result<Revoked, StoreError> {
    write_transaction(conn, |conn| {
        let codes = diesel::delete(
            authorization_codes::table
                .filter(authorization_codes::user_id.eq(user.as_str()))
                .filter(authorization_codes::client_id.eq(client.as_str())),
        )
        .execute(conn)?;
        let grants = diesel::delete(
            grants::table
                .filter(grants::user_id.eq(user.as_str()))
                .filter(grants::client_id.eq(client.as_str())),
        )
        .execute(conn)?;
        let consents = crate::consents::forget(conn, user, client)?;
        Ok(Revoked {
            grants,
            consents,
            codes,
        })
    })
}
