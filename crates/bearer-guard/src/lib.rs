#![doc = include_str!("../README.md")]
//!
//! # Where things are
//!
//! - [`BearerGuard`] (`guard.rs`): the middleware, its builder and the
//!   per-route scope requirement.
//! - [`Caller`] (`caller.rs`): the extractor handlers take.
//! - [`GuardError`] (`error.rs`): the one place that turns a refusal into
//!   a response.
//! - [`TokenVerifier`] and the three modes in `verify/`: introspection,
//!   JWT and (feature `database`) the server's database; `verify/cache.rs`
//!   wraps any of them in the bounded, single-flight cache.

mod caller;
mod error;
mod guard;
mod verify;

pub use caller::Caller;
pub use error::GuardError;
pub use guard::{BearerGuard, Builder, CacheConfig, GuardService, ScopeRequirement};
#[cfg(feature = "database")]
pub use verify::database::DatabaseVerifier;
pub use verify::introspection::IntrospectionVerifier;
pub use verify::jwt::JwtVerifier;
pub use verify::{BoxFuture, SetupError, TokenInfo, TokenVerifier, VerifyError};

/// The clock the guard reads expiry against; the system clock unless a
/// test supplies another.
pub type Clock = std::sync::Arc<dyn Fn() -> oauth_core::Timestamp + Send + Sync>;

fn system_clock() -> Clock {
    std::sync::Arc::new(|| oauth_core::Timestamp::from_system(std::time::SystemTime::now()))
}

/// A [`Clock`] that can sit in a `#[derive(Debug)]` struct.
#[derive(Clone)]
pub(crate) struct DebugClock(pub(crate) Clock);

impl DebugClock {
    pub(crate) fn now(&self) -> oauth_core::Timestamp {
        (self.0)()
    }
}

impl std::fmt::Debug for DebugClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}
