//! What every subcommand works with: the database, the clock, randomness
//! and the output mode. The edges of the program own the clock and the
//! random source; the domain receives them from here.

use std::time::SystemTime;

use anyhow::Context as _;
use oauth_core::Timestamp;
use oauth_store::{Db, PoolOptions, PooledConnection};

pub(crate) struct Context {
    db: Db,
    pub(crate) json: bool,
    /// Migrations applied while opening; `migrate` reports them.
    pub(crate) applied: Vec<String>,
}

impl Context {
    pub(crate) fn open(url: &str, json: bool) -> anyhow::Result<Self> {
        // Open without migrating, then migrate here so the versions applied
        // can be reported by `oauthctl migrate`.
        let options = PoolOptions {
            max_size: 2,
            migrate: false,
            ..PoolOptions::default()
        };
        let db = Db::open(url, &options)?;
        let mut conn = db.conn()?;
        let applied =
            oauth_store::migrations::run_pending(&mut conn).context("migrating the database")?;
        drop(conn);
        Ok(Self { db, json, applied })
    }

    pub(crate) fn conn(&self) -> anyhow::Result<PooledConnection> {
        Ok(self.db.conn()?)
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) fn now(&self) -> Timestamp {
        Timestamp::from_system(SystemTime::now())
    }

    pub(crate) fn rng(&self) -> rand::rngs::ThreadRng {
        rand::rng()
    }
}
