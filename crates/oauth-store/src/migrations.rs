//! Embedded migrations, one tree per backend (`migrations/sqlite`,
//! `migrations/postgres`, with the same folder names).

use diesel::connection::SimpleConnection as _;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness as _, embed_migrations};

use crate::error::StoreError;
use crate::pool::DbConnection;

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// An arbitrary constant naming our advisory lock, so that several servers
/// starting at once against one PostgreSQL database migrate one at a time.
const PG_MIGRATION_LOCK: i64 = 0x6f61_7574_6800;

/// Applies every pending migration; returns the versions applied.
pub fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let fail = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE).map_err(fail)?,
        DbConnection::Postgres(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({PG_MIGRATION_LOCK})"))?;
            let result = c
                .run_pending_migrations(POSTGRES)
                .map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>());
            c.batch_execute(&format!("SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"))?;
            return result.map_err(fail);
        }
    };
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Migrations known to this build that the database has not applied.
pub fn pending(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let fail = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
    match conn {
        DbConnection::Sqlite(c) => Ok(c
            .pending_migrations(SQLITE)
            .map_err(fail)?
            .iter()
            .map(|m| m.name().to_string())
            .collect()),
        DbConnection::Postgres(c) => Ok(c
            .pending_migrations(POSTGRES)
            .map_err(fail)?
            .iter()
            .map(|m| m.name().to_string())
            .collect()),
    }
}
