//! [`Caller`]: who is calling, as the handler sees it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest};
use oauth_core::{ScopeSet, Timestamp};

use crate::error::{GuardError, Kind, Realm};
use crate::guard::BearerGuard;
use crate::verify::TokenInfo;

/// The verified caller of a guarded route. Take it as a handler argument:
///
/// ```
/// async fn whoami(caller: bearer_guard::Caller) -> String {
///     format!("{} via {}", caller.subject(), caller.client_id())
/// }
/// ```
///
/// Under a [`BearerGuard`] middleware it is the guard's verdict. On a route
/// without the middleware it verifies the `Authorization` header itself,
/// using a `BearerGuard` registered with `App::app_data`; with neither, the
/// route answers 500 and logs why (a guarded-by-mistake route is never
/// left open).
#[derive(Debug, Clone)]
pub struct Caller(Arc<Verified>);

/// A guard's verdict on one token, as its cache keeps it: every request
/// that presents the token while the answer is cached shares this one
/// value, so a request costs one reference count, not a copy.
#[derive(Debug)]
pub(crate) struct Verified {
    pub(crate) info: TokenInfo,
    /// What a refusal from [`Caller::require_scope`] names.
    pub(crate) realm: Arc<Realm>,
    /// Which guard verified it: a guard reuses only its own verdict, never
    /// one made with another verifier or audience.
    pub(crate) guard: GuardId,
    /// From when the token's expiry is judged again on each use: its last
    /// second by the guard's whole-second clock (`verify/cache.rs`).
    pub(crate) recheck_after: Option<Instant>,
}

/// One guard's identity, shared by its clones and scope variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct GuardId(u64);

impl GuardId {
    /// A new identity, never handed out before in this process.
    pub(crate) fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

// A handler may move its caller into another thread (`web::block`, a
// spawned task): the verdict is shared by `Arc`, never by `Rc`.
const _: () = {
    const fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<Caller>();
};

impl Caller {
    pub(crate) fn new(verified: Arc<Verified>) -> Self {
        Self(verified)
    }

    pub(crate) fn verified_by(&self) -> GuardId {
        self.0.guard
    }

    /// `sub`: the user's id, or the client's for client credentials.
    pub fn subject(&self) -> &str {
        &self.0.info.subject
    }

    /// The user's login name, when the verifier learns it (introspection
    /// and database modes).
    pub fn username(&self) -> Option<&str> {
        self.0.info.username.as_deref()
    }

    /// The client the token was issued to.
    pub fn client_id(&self) -> &str {
        &self.0.info.client_id
    }

    pub fn scopes(&self) -> &ScopeSet {
        &self.0.info.scopes
    }

    /// `aud`: the resources the token is for.
    pub fn audience(&self) -> &[String] {
        &self.0.info.audience
    }

    pub fn expires_at(&self) -> Option<Timestamp> {
        self.0.info.expires_at
    }

    /// Whether a user granted the token (not a client acting for itself).
    pub fn is_user(&self) -> bool {
        self.0.info.has_user
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.0.info.scopes.contains(scope)
    }

    /// `Ok` if the token holds `scope`, else the 403 `insufficient_scope`
    /// answer, for checks that depend on the request (`?` it).
    pub fn require_scope(&self, scope: &str) -> Result<(), GuardError> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(GuardError::new(
                Kind::InsufficientScope(scope.to_owned()),
                Arc::clone(&self.0.realm),
            ))
        }
    }
}

impl FromRequest for Caller {
    type Error = GuardError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, GuardError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let known = req.extensions().get::<Caller>().cloned();
        let guard = req.app_data::<BearerGuard>().cloned();
        let req = req.clone();
        Box::pin(async move {
            if let Some(caller) = known {
                return Ok(caller);
            }
            let Some(guard) = guard else {
                return Err(GuardError::new(
                    Kind::NotGuarded,
                    Arc::new(Realm {
                        realm: String::new(),
                        resource_metadata: None,
                    }),
                ));
            };
            let caller = guard.verify_request(&req, None).await?;
            guard.check_scope(&caller)?;
            req.extensions_mut().insert(caller.clone());
            Ok(caller)
        })
    }
}
