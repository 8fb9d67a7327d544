//! Storage for the authorization server, over SQLite or PostgreSQL.
//!
//! This crate is the one home of diesel: the schema, the embedded
//! migrations, the connection pool, and plain query functions grouped by
//! table ([`users`], [`clients`], ...). Functions take a `&mut DbConnection`
//! and speak in `oauth-core` types, so callers never see a row struct.
//! Everything here blocks; async callers run it on a blocking thread.

pub mod apps;
pub mod clients;
mod codec;
pub mod codes;
pub mod consents;
mod error;
pub mod gc;
pub mod grants;
pub mod keys;
pub mod migrations;
mod pool;
pub mod schema;
pub mod secret;
pub mod sessions;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod throttle;
pub mod tokens;
pub mod users;

pub use error::StoreError;
pub use pool::{
    Backend, DatabaseUrl, Db, DbConnection, PoolOptions, PooledConnection, write_transaction,
};
