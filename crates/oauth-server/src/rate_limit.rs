//! Rate limits per client address on the endpoints a client can call
//! without a user: token, revocation, introspection, registration.
//!
//! In memory, per node (governor's GCRA): behind a load balancer each
//! instance allows the configured rate, so the cluster allows that many
//! times more. Login throttling, which must hold across instances, lives
//! in the database instead (`handlers/login.rs`). Addresses come from
//! [`client_ip`](crate::client_ip), so a spoofed `X-Forwarded-For` cannot
//! pick its own bucket.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::client_ip::{client_ip, rate_key};
use crate::config::Config;
use crate::errors::too_many_requests;
use crate::state::AppState;

/// An endpoint family with its own allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Token,
    Revocation,
    Introspection,
    Registration,
}

impl Bucket {
    fn describe(self) -> &'static str {
        match self {
            Self::Token => "too many token requests from this address; try again later",
            Self::Revocation => "too many revocation requests from this address; try again later",
            Self::Introspection => {
                "too many introspection requests from this address; try again later"
            }
            Self::Registration => "too many registrations from this address; try again later",
        }
    }
}

/// The limiter forgets idle addresses only when it tracks this many, and
/// refuses everyone (until some go idle) if it still does after
/// forgetting: memory stays bounded under a flood from many addresses.
const MAX_TRACKED_ADDRESSES: usize = 65_536;

type IpLimiter = DefaultKeyedRateLimiter<IpAddr>;

/// One limiter per bucket, shared by every worker of one app (it lives in
/// the `AppState`); `None` where the limit is off.
pub struct Limiters {
    token: Option<IpLimiter>,
    revocation: Option<IpLimiter>,
    introspection: Option<IpLimiter>,
    registration: Option<IpLimiter>,
}

impl std::fmt::Debug for Limiters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiters").finish_non_exhaustive()
    }
}

fn per_minute(n: u32) -> Option<IpLimiter> {
    NonZeroU32::new(n).map(|n| IpLimiter::keyed(Quota::per_minute(n)))
}

impl Limiters {
    pub fn new(config: &Config) -> Self {
        let r = &config.abuse.rate_limits;
        Self {
            token: per_minute(r.token_per_minute),
            revocation: per_minute(r.revocation_per_minute),
            introspection: per_minute(r.introspection_per_minute),
            registration: per_minute(config.registration.per_minute),
        }
    }

    /// Counts a request from `ip` against `bucket`; `Err` holds the whole
    /// seconds until it may try again (at least one).
    pub fn check(&self, bucket: Bucket, ip: IpAddr) -> Result<(), u64> {
        let limiter = match bucket {
            Bucket::Token => &self.token,
            Bucket::Revocation => &self.revocation,
            Bucket::Introspection => &self.introspection,
            Bucket::Registration => &self.registration,
        };
        let Some(limiter) = limiter else {
            return Ok(());
        };
        if limiter.len() >= MAX_TRACKED_ADDRESSES {
            limiter.retain_recent();
            limiter.shrink_to_fit();
            if limiter.len() >= MAX_TRACKED_ADDRESSES {
                return Err(60);
            }
        }
        limiter.check_key(&rate_key(ip)).map_err(|not_until| {
            let wait = not_until.wait_time_from(limiter.clock().now());
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }

    /// Checks the request's client address; `Some` is the 429 to send.
    pub fn refusal(
        &self,
        bucket: Bucket,
        state: &AppState,
        req: &actix_web::HttpRequest,
    ) -> Option<actix_web::HttpResponse> {
        let ip = client_ip(
            req.peer_addr(),
            req.headers(),
            &state.config.abuse.trusted_proxies,
        );
        self.check(bucket, ip).err().map(|retry_after| {
            tracing::info!(event = "rate_limited", bucket = ?bucket, "request refused: rate limit");
            too_many_requests(retry_after, bucket.describe())
        })
    }
}

/// Middleware: answers 429 with `Retry-After` once the caller's address
/// has used up `bucket`, before the handler reads the body.
pub async fn guard(
    bucket: Bucket,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Some(state) = req.app_data::<web::Data<AppState>>().cloned()
        && let Some(refusal) = state.limits.refusal(bucket, &state, req.request())
    {
        return Ok(req.into_response(refusal));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
