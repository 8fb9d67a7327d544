//! What every handler shares: configuration, the database, the templates,
//! the clock, and the limit on concurrent password hashing.

use std::sync::Arc;
use std::time::SystemTime;

use oauth_core::Timestamp;
use oauth_store::{Db, DbConnection, StoreError};
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::errors::Internal;
use crate::keyring::KeyRing;
use crate::rate_limit::Limiters;
use crate::templates::Templates;

/// The time source. The system clock in production; tests pass a fixed or
/// movable one.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

pub struct AppState {
    pub config: Config,
    pub db: Db,
    pub templates: Templates,
    pub clock: Clock,
    /// The signing keys.
    pub keys: KeyRing,
    /// Per-address rate limits, shared by every worker (per node).
    pub limits: Limiters,
    /// argon2id takes ~20 ms and 19 MiB per hash; this many run at once at
    /// most, so a burst of logins cannot exhaust memory or starve the
    /// blocking pool that database calls also use.
    hashing: Semaphore,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(config: Config, db: Db, templates: Templates, keys: KeyRing) -> Self {
        let permits = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            limits: Limiters::new(&config),
            config,
            db,
            templates,
            clock: Arc::new(|| Timestamp::from_system(SystemTime::now())),
            keys,
            hashing: Semaphore::new(permits),
        }
    }

    /// Replaces the clock (for tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// Runs `f` with a pooled connection on the blocking thread pool, never
    /// on the async workers.
    pub async fn db<T, F>(&self, f: F) -> Result<T, Internal>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.db.clone();
        let result = actix_web::web::block(move || {
            let mut conn = db.conn()?;
            f(&mut conn)
        })
        .await
        .map_err(Internal::from)?;
        result.map_err(Internal::from)
    }

    /// Runs CPU-heavy work (password hashing) on the blocking pool, at most
    /// as many at once as there are cores.
    pub async fn hash<T, F>(&self, f: F) -> Result<T, Internal>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|e| Internal::from(anyhow::anyhow!(e)))?;
        actix_web::web::block(f).await.map_err(Internal::from)
    }
}
