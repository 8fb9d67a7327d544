//! What every handler shares: configuration and the database.

use oauth_store::Db;

use crate::config::Config;

#[derive(Debug)]
pub struct AppState {
    pub config: Config,
    pub db: Db,
}

impl AppState {
    pub fn new(config: Config, db: Db) -> Self {
        Self { config, db }
    }
}
