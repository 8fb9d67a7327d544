//! Queries on `authorization_codes`.

use diesel::prelude::*;
use oauth_core::resource::Resource;
use oauth_core::token::AuthorizationCode;
use oauth_core::{
    ClientId, CodeChallenge, CodeChallengeMethod, ScopeSet, SecretDigest, Timestamp, UserId,
};

use crate::codec::{decode, decode_list, encode_list};
use crate::error::StoreError;
use crate::pool::DbConnection;
use crate::schema::authorization_codes as codes;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = codes)]
struct CodeRow {
    code_hash: String,
    client_id: String,
    user_id: String,
    redirect_uri: String,
    redirect_uri_given: bool,
    scopes: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    resources: String,
    auth_time: i64,
    created_at: i64,
    expires_at: i64,
    redeemed_at: Option<i64>,
    grant_id: Option<String>,
}

impl CodeRow {
    fn into_code(self) -> Result<AuthorizationCode, StoreError> {
        const T: &str = "authorization_codes";
        let code_challenge = match (self.code_challenge, self.code_challenge_method) {
            (Some(c), Some(m)) => {
                let method = decode(T, "code_challenge_method", &m, |m| {
                    CodeChallengeMethod::parse(Some(m))
                })?;
                Some(decode(T, "code_challenge", &c, |c| {
                    CodeChallenge::parse(c, method)
                })?)
            }
            (None, None) => None,
            _ => {
                return Err(StoreError::corrupt(
                    T,
                    "code_challenge",
                    "challenge and method must both be set",
                ));
            }
        };
        Ok(AuthorizationCode {
            client_id: decode(T, "client_id", &self.client_id, ClientId::parse)?,
            user_id: decode(T, "user_id", &self.user_id, UserId::parse)?,
            redirect_uri: self.redirect_uri,
            redirect_uri_given: self.redirect_uri_given,
            scopes: decode(T, "scopes", &self.scopes, ScopeSet::parse)?,
            nonce: self.nonce,
            code_challenge,
            resources: decode_list(T, "resources", &self.resources, Resource::parse)?,
            auth_time: Timestamp::from_unix(self.auth_time),
            created_at: Timestamp::from_unix(self.created_at),
            expires_at: Timestamp::from_unix(self.expires_at),
            redeemed_at: self.redeemed_at.map(Timestamp::from_unix),
            grant_id: self.grant_id,
        })
    }
}

/// Stores a new code under the digest of its value.
pub fn insert(
    conn: &mut DbConnection,
    digest: &SecretDigest,
    code: &AuthorizationCode,
) -> Result<(), StoreError> {
    diesel::insert_into(codes::table)
        .values(CodeRow {
            code_hash: digest.as_str().to_owned(),
            client_id: code.client_id.as_str().to_owned(),
            user_id: code.user_id.as_str().to_owned(),
            redirect_uri: code.redirect_uri.clone(),
            redirect_uri_given: code.redirect_uri_given,
            scopes: code.scopes.to_string(),
            nonce: code.nonce.clone(),
            code_challenge: code.code_challenge.as_ref().map(|c| c.as_str().to_owned()),
            code_challenge_method: code
                .code_challenge
                .as_ref()
                .map(|c| c.method().as_str().to_owned()),
            resources: encode_list(
                &code
                    .resources
                    .iter()
                    .map(Resource::as_str)
                    .collect::<Vec<_>>(),
            ),
            auth_time: code.auth_time.unix(),
            created_at: code.created_at.unix(),
            expires_at: code.expires_at.unix(),
            redeemed_at: None,
            grant_id: None,
        })
        .execute(conn)?;
    Ok(())
}

/// The code with this digest.
pub fn find(
    conn: &mut DbConnection,
    digest: &SecretDigest,
) -> Result<Option<AuthorizationCode>, StoreError> {
    codes::table
        .find(digest.as_str())
        .select(CodeRow::as_select())
        .first(conn)
        .optional()?
        .map(CodeRow::into_code)
        .transpose()
}

/// Marks the code used, if nobody used it first, recording the grant its
/// exchange created (`None`: a failed exchange that still uses the code
/// up). This conditional update is what makes a code single-use under
/// concurrency: of two requests racing, exactly one sees `true`.
pub fn redeem(
    conn: &mut DbConnection,
    digest: &SecretDigest,
    grant_id: Option<&str>,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        codes::table
            .find(digest.as_str())
            .filter(codes::redeemed_at.is_null()),
    )
    .set((
        codes::redeemed_at.eq(now.unix()),
        codes::grant_id.eq(grant_id),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
