//! Queries on `signing_keys`: the keys that sign ID tokens and JWT access
//! tokens. The private half is stored sealed under the server secret; the
//! public half as a JWK, published until every token it signed has
//! expired.

use std::time::Duration;

use diesel::prelude::*;
use oauth_core::Timestamp;
use oauth_core::jose::{self, SigningAlg, SigningKey};
use oauth_core::secret::generate_id;

use crate::codec::decode;
use crate::error::StoreError;
use crate::pool::{DbConnection, write_transaction};
use crate::schema::signing_keys;
use crate::secret::ServerSecret;

/// A signing key's public record.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: SigningAlg,
    pub public_jwk: serde_json::Value,
    pub created_at: Timestamp,
    /// When it stopped signing; `None` while it is the active key.
    pub retired_at: Option<Timestamp>,
    /// When it leaves the JWKS; `None` while it is active.
    pub expires_at: Option<Timestamp>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = signing_keys)]
struct KeyRow {
    kid: String,
    alg: String,
    public_jwk: String,
    private_key: Vec<u8>,
    created_at: i64,
    retired_at: Option<i64>,
    expires_at: Option<i64>,
}

impl KeyRow {
    fn info(&self) -> Result<KeyInfo, StoreError> {
        const T: &str = "signing_keys";
        Ok(KeyInfo {
            kid: self.kid.clone(),
            alg: decode(T, "alg", &self.alg, SigningAlg::parse)?,
            public_jwk: decode(T, "public_jwk", &self.public_jwk, |s| {
                serde_json::from_str::<serde_json::Value>(s)
            })?,
            created_at: Timestamp::from_unix(self.created_at),
            retired_at: self.retired_at.map(Timestamp::from_unix),
            expires_at: self.expires_at.map(Timestamp::from_unix),
        })
    }

    fn open(&self, secret: &ServerSecret) -> Result<SigningKey, StoreError> {
        let info = self.info()?;
        let der = jose::open(&secret.sealing_key(), &self.kid, &self.private_key)
            .map_err(|e| StoreError::corrupt("signing_keys", "private_key", e))?;
        SigningKey::from_pkcs8(info.alg, self.kid.clone(), der.to_vec())
            .map_err(|e| StoreError::corrupt("signing_keys", "private_key", e))
    }
}

/// Generates and stores a new active key for `alg`.
pub fn create(
    conn: &mut DbConnection,
    alg: SigningAlg,
    secret: &ServerSecret,
    now: Timestamp,
) -> Result<KeyInfo, StoreError> {
    let mut rng = rand::rng();
    let kid = generate_id(&mut rng, 12);
    let key =
        SigningKey::generate(alg, kid.clone()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let public_jwk = key
        .public_jwk()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let sealed = jose::seal(&secret.sealing_key(), &kid, key.pkcs8(), &mut rng)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    diesel::insert_into(signing_keys::table)
        .values((
            signing_keys::kid.eq(&kid),
            signing_keys::alg.eq(alg.as_str()),
            signing_keys::public_jwk.eq(public_jwk.to_string()),
            signing_keys::private_key.eq(&sealed),
            signing_keys::created_at.eq(now.unix()),
        ))
        .execute(conn)?;
    Ok(KeyInfo {
        kid,
        alg,
        public_jwk,
        created_at: now,
        retired_at: None,
        expires_at: None,
    })
}

/// Replaces the active key of `alg` with a new one. The old key stops
/// signing now and stays published for `keep_for`, long enough for every
/// token it signed to expire.
pub fn rotate(
    conn: &mut DbConnection,
    alg: SigningAlg,
    secret: &ServerSecret,
    now: Timestamp,
    keep_for: Duration,
) -> Result<KeyInfo, StoreError> {
    write_transaction(conn, |conn| -> Result<KeyInfo, StoreError> {
        diesel::update(
            signing_keys::table
                .filter(signing_keys::alg.eq(alg.as_str()))
                .filter(signing_keys::retired_at.is_null()),
        )
        .set((
            signing_keys::retired_at.eq(now.unix()),
            signing_keys::expires_at.eq(now.plus(keep_for).unix()),
        ))
        .execute(conn)?;
        create(conn, alg, secret, now)
    })
}

/// Every key, newest first.
pub fn list(conn: &mut DbConnection) -> Result<Vec<KeyInfo>, StoreError> {
    rows(conn)?.iter().map(KeyRow::info).collect()
}

/// The keys the JWKS publishes: active ones and retired ones whose tokens
/// may still be unexpired.
pub fn published(conn: &mut DbConnection, now: Timestamp) -> Result<Vec<KeyInfo>, StoreError> {
    Ok(list(conn)?
        .into_iter()
        .filter(|k| k.expires_at.is_none_or(|e| e > now))
        .collect())
}

/// Every published key, opened, newest first: what a server may sign with
/// while a rotation propagates.
pub fn published_opened(
    conn: &mut DbConnection,
    secret: &ServerSecret,
    now: Timestamp,
) -> Result<Vec<(KeyInfo, SigningKey)>, StoreError> {
    rows(conn)?
        .iter()
        .filter(|r| r.expires_at.is_none_or(|e| e > now.unix()))
        .map(|r| Ok((r.info()?, r.open(secret)?)))
        .collect()
}

/// The active (not retired) keys, opened, newest first.
pub fn active(
    conn: &mut DbConnection,
    secret: &ServerSecret,
) -> Result<Vec<SigningKey>, StoreError> {
    rows(conn)?
        .iter()
        .filter(|r| r.retired_at.is_none())
        .map(|r| r.open(secret))
        .collect()
}

fn rows(conn: &mut DbConnection) -> Result<Vec<KeyRow>, StoreError> {
    Ok(signing_keys::table
        .order((signing_keys::created_at.desc(), signing_keys::kid.asc()))
        .select(KeyRow::as_select())
        .load(conn)?)
}
