//! The middleware: find the token, verify it (through the cache), check
//! audience and scope, and hand the handler a [`Caller`].

use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpMessage as _, web};
use oauth_core::bearer::{MalformedRequest, Presented, header_text, is_b64token, locate};
use oauth_core::params::Params;

use crate::caller::{Caller, GuardId};
use crate::error::{GuardError, Kind, Realm};
use crate::verify::cache::Cached;
use crate::verify::introspection::IntrospectionVerifier;
use crate::verify::jwt::JwtVerifier;
use crate::verify::{SetupError, TokenVerifier, VerifyError};
use crate::{Clock, DebugClock, system_clock};

/// How long answers are kept. The positive lifetime is the longest a
/// revoked token can still be honoured by this process (the revocation
/// delay); nothing is kept past the token's own expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// Most answers held at once (least recently used go first); 0 turns
    /// the cache off. Each thread also keeps, for all guards together, up
    /// to 1,024 entries of its own: copies of good answers it has served
    /// more than once, and the keys of those served once. None outlives
    /// the shared entry it copies.
    pub max_entries: u64,
    /// Longest a "this token is good" answer is kept (default 30 s).
    pub max_ttl: Duration,
    /// How long a "this token is bad" answer is kept (default 5 s), so a
    /// client retrying a dead token does not reach the issuer each time.
    pub negative_ttl: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            max_entries: 10_000,
            max_ttl: Duration::from_secs(30),
            negative_ttl: Duration::from_secs(5),
        }
    }
}

/// Which scopes a route needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ScopeRequirement {
    /// Any valid token.
    #[default]
    Any,
    /// Every one of these.
    AllOf(Vec<String>),
    /// At least one of these.
    AnyOf(Vec<String>),
}

impl ScopeRequirement {
    fn met_by(&self, caller: &Caller) -> bool {
        match self {
            Self::Any => true,
            Self::AllOf(all) => all.iter().all(|s| caller.has_scope(s)),
            Self::AnyOf(any) => any.iter().any(|s| caller.has_scope(s)),
        }
    }

    fn names(&self) -> String {
        match self {
            Self::Any => String::new(),
            Self::AllOf(s) | Self::AnyOf(s) => s.join(" "),
        }
    }
}

/// The middleware. Cheap to clone; clones share one verifier and cache.
///
/// `.wrap(guard.clone())` admits any valid token;
/// `.wrap(guard.require_scope("project"))` also needs that scope. A guard
/// inside another reuses the outer one's verdict and only adds its scope
/// check.
#[derive(Clone, Debug)]
pub struct BearerGuard {
    shared: Arc<Shared>,
    requirement: Arc<ScopeRequirement>,
}

#[derive(Debug)]
struct Shared {
    id: GuardId,
    verifier: Cached,
    realm: Arc<Realm>,
    audience: Option<String>,
    form_body: bool,
    query: bool,
}

impl BearerGuard {
    /// A guard that asks the issuer about each token (RFC 7662), with the
    /// resource server's own client credentials; the introspection
    /// endpoint is discovered from the issuer's metadata.
    pub fn introspection(
        issuer: &str,
        client_id: &str,
        client_secret: &str,
    ) -> Result<Self, SetupError> {
        Ok(Self::builder(IntrospectionVerifier::new(
            issuer,
            client_id,
            client_secret,
        )?)
        .build())
    }

    /// A guard that verifies RFC 9068 JWT access tokens against the
    /// issuer's published keys.
    pub fn jwt(issuer: &str) -> Result<Self, SetupError> {
        Ok(Self::builder(JwtVerifier::new(issuer)?).build())
    }

    /// A guard that reads tokens from the authorization server's database.
    #[cfg(feature = "database")]
    pub fn database(db: oauth_store::Db) -> Self {
        Self::builder(crate::DatabaseVerifier::new(db)).build()
    }

    /// Starts a guard around any verifier, to set the realm, audience,
    /// cache and accepted token locations.
    pub fn builder(verifier: impl TokenVerifier) -> Builder {
        Builder {
            verifier: Arc::new(verifier),
            realm: "api".to_owned(),
            resource_metadata: None,
            audience: None,
            form_body: false,
            query: false,
            cache: CacheConfig::default(),
            clock: DebugClock(system_clock()),
        }
    }

    /// This guard, also requiring `scope`.
    pub fn require_scope(&self, scope: &str) -> Self {
        self.require(ScopeRequirement::AllOf(vec![scope.to_owned()]))
    }

    /// This guard, also requiring every one of `scopes`.
    pub fn require_all<'a>(&self, scopes: impl IntoIterator<Item = &'a str>) -> Self {
        self.require(ScopeRequirement::AllOf(
            scopes.into_iter().map(str::to_owned).collect(),
        ))
    }

    /// This guard, also requiring at least one of `scopes`.
    pub fn require_any<'a>(&self, scopes: impl IntoIterator<Item = &'a str>) -> Self {
        self.require(ScopeRequirement::AnyOf(
            scopes.into_iter().map(str::to_owned).collect(),
        ))
    }

    /// This guard with another scope requirement.
    pub fn require(&self, requirement: ScopeRequirement) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            requirement: Arc::new(requirement),
        }
    }

    /// This guard's identity, shared by its clones and scope variants.
    fn id(&self) -> GuardId {
        self.shared.id
    }

    pub(crate) fn error(&self, kind: Kind) -> GuardError {
        GuardError::new(kind, Arc::clone(&self.shared.realm))
    }

    /// Checks a request; on success the caller is stored in the request's
    /// extensions for the [`Caller`] extractor.
    pub(crate) async fn check(&self, req: &mut ServiceRequest) -> Result<(), GuardError> {
        // Under an outer clone of this guard the verdict is already there.
        let known = req
            .extensions()
            .get::<Caller>()
            .filter(|c| c.verified_by() == self.id())
            .map(|c| self.check_scope(c));
        if let Some(scope_met) = known {
            return scope_met;
        }
        let form = if self.shared.form_body {
            read_form(req).await
        } else {
            None
        };
        let caller = self.verify_request(req.request(), form.as_ref()).await?;
        self.check_scope(&caller)?;
        req.extensions_mut().insert(caller);
        Ok(())
    }

    pub(crate) fn check_scope(&self, caller: &Caller) -> Result<(), GuardError> {
        if self.requirement.met_by(caller) {
            Ok(())
        } else {
            Err(self.error(Kind::InsufficientScope(self.requirement.names())))
        }
    }

    /// Finds and verifies the token of a request (the form already read,
    /// if the guard accepts form tokens).
    pub(crate) async fn verify_request(
        &self,
        req: &actix_web::HttpRequest,
        form: Option<&Params>,
    ) -> Result<Caller, GuardError> {
        // The first two values are all `locate` needs: a second one is
        // already an error. (No allocation on the common path.)
        let mut values = req.headers().get_all(header::AUTHORIZATION);
        let mut authorization = [""; 2];
        let mut n = 0;
        for (slot, value) in authorization.iter_mut().zip(values.by_ref()) {
            *slot = header_text(value.as_bytes());
            n += 1;
        }
        let query = Params::parse(req.query_string());
        let token = match locate(Presented {
            authorization: &authorization[..n],
            query: &query,
            form,
            query_allowed: self.shared.query,
        }) {
            Err(MalformedRequest(d)) => return Err(self.error(Kind::InvalidRequest(d))),
            Ok(None) => return Err(self.error(Kind::NoCredentials)),
            Ok(Some(t)) => t,
        };
        if !is_b64token(token) {
            return Err(self.error(Kind::InvalidToken));
        }
        let verified = match self.shared.verifier.check(token).await {
            Ok(verified) => verified,
            Err(VerifyError::Invalid(why)) => {
                tracing::debug!(reason = why, "bearer token refused");
                return Err(self.error(Kind::InvalidToken));
            }
            Err(VerifyError::Unavailable {
                reason,
                retry_after,
            }) => {
                tracing::warn!(%reason, "bearer token could not be checked");
                return Err(self.error(Kind::Unavailable(retry_after)));
            }
        };
        // Expiry was judged by the cache: no answer it gives outlives the
        // token.
        if let Some(aud) = &self.shared.audience
            && !verified.info.audience.iter().any(|a| a == aud)
        {
            tracing::debug!("bearer token refused: not for this audience");
            return Err(self.error(Kind::InvalidToken));
        }
        Ok(Caller::new(verified))
    }
}

/// The most of a form body searched for `access_token`. A larger body is
/// passed on untouched (and a token in it is not seen).
const FORM_LIMIT: usize = 64 * 1024;

/// Reads a form-encoded body (RFC 6750 §2.2: not on `GET`, and only
/// `application/x-www-form-urlencoded`) and puts it back for the handler,
/// byte for byte, however large it is or wherever reading it failed.
async fn read_form(req: &mut ServiceRequest) -> Option<Params> {
    use futures_util::StreamExt as _;
    use futures_util::stream;

    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return None;
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return None;
    }
    let mut payload = req.take_payload();
    let mut read = web::BytesMut::new();
    let mut failure = None;
    let complete = loop {
        match payload.next().await {
            None => break true,
            Some(Ok(chunk)) => {
                read.extend_from_slice(&chunk);
                if read.len() > FORM_LIMIT {
                    break false;
                }
            }
            Some(Err(e)) => {
                failure = Some(e);
                break false;
            }
        }
    };
    let read = read.freeze();
    let params = if complete {
        std::str::from_utf8(&read).ok().map(Params::parse)
    } else {
        None
    };
    // The handler gets what was read, then the rest (or the read error).
    let rest: actix_web::dev::Payload = match failure {
        Some(e) => actix_web::dev::Payload::from(
            Box::pin(stream::once(async move { Err(e) })) as BoxedPayloadStream
        ),
        None => payload,
    };
    let replay: BoxedPayloadStream = Box::pin(stream::once(async move { Ok(read) }).chain(rest));
    req.set_payload(actix_web::dev::Payload::from(replay));
    params
}

type BoxedPayloadStream = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>>>,
>;

/// Configures a [`BearerGuard`].
#[derive(Debug)]
#[must_use]
pub struct Builder {
    verifier: Arc<dyn TokenVerifier>,
    realm: String,
    resource_metadata: Option<String>,
    audience: Option<String>,
    form_body: bool,
    query: bool,
    cache: CacheConfig,
    clock: DebugClock,
}

impl std::fmt::Debug for dyn TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenVerifier")
    }
}

impl Builder {
    /// The `realm` of every challenge (default `api`).
    pub fn realm(mut self, realm: &str) -> Self {
        self.realm = realm.to_owned();
        self
    }

    /// The RFC 9728 metadata URL named in every 401 and 403, e.g.
    /// `https://api.example.com/.well-known/oauth-protected-resource`.
    pub fn resource_metadata(mut self, url: &str) -> Self {
        self.resource_metadata = Some(url.to_owned());
        self
    }

    /// Admit only tokens whose `aud` names this resource (RFC 8707).
    pub fn audience(mut self, audience: &str) -> Self {
        self.audience = Some(audience.to_owned());
        self
    }

    /// Also accept `access_token` in a form-encoded body (RFC 6750 §2.2;
    /// off by default).
    pub fn form_body_tokens(mut self, on: bool) -> Self {
        self.form_body = on;
        self
    }

    /// Also accept `access_token` in the query string (RFC 6750 §2.3; off
    /// by default, and refused with 400 while off: URIs are logged).
    pub fn query_tokens(mut self, on: bool) -> Self {
        self.query = on;
        self
    }

    /// How answers are cached (see [`CacheConfig`]).
    pub fn cache(mut self, cache: CacheConfig) -> Self {
        self.cache = cache;
        self
    }

    /// The clock a token's expiry is judged by (for tests): when the
    /// verifier answers, and on each use of a cached answer in the token's
    /// last second. A cached answer is kept, by the monotonic clock, no
    /// later than that expiry.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = DebugClock(clock);
        self
    }

    pub fn build(self) -> BearerGuard {
        let id = GuardId::next();
        let realm = Arc::new(Realm {
            realm: self.realm,
            resource_metadata: self.resource_metadata,
        });
        BearerGuard {
            shared: Arc::new(Shared {
                id,
                verifier: Cached::new(
                    self.verifier,
                    self.cache,
                    self.clock,
                    Arc::clone(&realm),
                    id,
                ),
                realm,
                audience: self.audience,
                form_body: self.form_body,
                query: self.query,
            }),
            requirement: Arc::new(ScopeRequirement::Any),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for BearerGuard
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = GuardService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(GuardService {
            service: Rc::new(service),
            guard: Rc::new(self.clone()),
        }))
    }
}

/// The service [`BearerGuard`] wraps around a route.
#[derive(Debug)]
pub struct GuardService<S> {
    service: Rc<S>,
    /// Per worker thread: cloning an `Rc` for each request touches no
    /// memory the other workers share.
    guard: Rc<BearerGuard>,
}

impl<S, B> Service<ServiceRequest> for GuardService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let guard = Rc::clone(&self.guard);
        Box::pin(async move {
            match guard.check(&mut req).await {
                Ok(_) => {
                    let from_query = guard.shared.query
                        && Params::parse(req.query_string()).contains("access_token");
                    let mut response = service.call(req).await?;
                    if from_query && !response.headers().contains_key(header::CACHE_CONTROL) {
                        // RFC 6750 §2.3: a response to a URI carrying a token
                        // should not be cached by shared caches.
                        response
                            .headers_mut()
                            .insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
                    }
                    Ok(response.map_into_left_body())
                }
                Err(e) => Ok(req.error_response(e).map_into_right_body()),
            }
        })
    }
}
