//! Database mode (feature `database`): for services that share the
//! authorization server's database, read the token straight from it. Same
//! judgement as the server's introspection, with no HTTP in between.

use oauth_core::{SecretDigest, Timestamp};
use oauth_store::{Db, tokens};

use super::{BoxFuture, TokenInfo, TokenVerifier, VerifyError};
use crate::{Clock, DebugClock};

/// Verifies tokens against the authorization server's database.
#[derive(Debug, Clone)]
pub struct DatabaseVerifier {
    db: Db,
    clock: DebugClock,
}

impl DatabaseVerifier {
    /// Opens nothing itself: give it the pool (`oauth_store::Db::open`).
    pub fn new(db: Db) -> Self {
        Self {
            db,
            clock: DebugClock(crate::system_clock()),
        }
    }

    /// Replaces the clock expiry is judged by (for tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = DebugClock(clock);
        self
    }

    async fn check(&self, token: &str) -> Result<TokenInfo, VerifyError> {
        let digest = SecretDigest::of(token);
        let now: Timestamp = self.clock.now();
        let db = self.db.clone();
        // diesel is blocking: keep it off the async workers.
        let found = tokio::task::spawn_blocking(move || {
            let mut conn = db.conn()?;
            tokens::active_access(&mut conn, &digest, now)
        })
        .await
        .map_err(|e| VerifyError::unavailable(format!("database task: {e}")))?
        .map_err(|e| VerifyError::unavailable(format!("database: {e}")))?;
        let access = found.ok_or(VerifyError::Invalid("database: not an active access token"))?;
        let t = access.token;
        Ok(TokenInfo {
            has_user: t.user_id.is_some(),
            subject: t.subject(),
            username: access.username.map(|u| u.to_string()),
            client_id: t.client_id.to_string(),
            scopes: t.scopes,
            audience: t.audience,
            expires_at: Some(t.expires_at),
        })
    }
}

impl TokenVerifier for DatabaseVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<TokenInfo, VerifyError>> {
        Box::pin(self.check(token))
    }
}
