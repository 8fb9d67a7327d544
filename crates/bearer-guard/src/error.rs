//! Every refusal, and the one place that turns it into an HTTP response
//! (RFC 6750 §3).

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use oauth_core::bearer::Challenge;
use oauth_core::error::BearerErrorCode;

/// What every challenge of one guard names.
#[derive(Debug)]
pub(crate) struct Realm {
    pub(crate) realm: String,
    pub(crate) resource_metadata: Option<String>,
}

/// A refused request. Its response is the RFC 6750 answer: the status, a
/// `WWW-Authenticate: Bearer …` challenge and a small JSON body.
#[derive(Debug, Clone)]
pub struct GuardError {
    kind: Kind,
    realm: Arc<Realm>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// No bearer credentials: 401 with no error code (§3.1).
    NoCredentials,
    /// Malformed: 400 `invalid_request`.
    InvalidRequest(&'static str),
    /// 401 `invalid_token`; why is never said.
    InvalidToken,
    /// 403 `insufficient_scope`, naming the scopes needed.
    InsufficientScope(String),
    /// 503: the token could not be checked now.
    Unavailable(Duration),
    /// A handler asked for [`Caller`](crate::Caller) on a route no guard
    /// covers: the service is misconfigured, and nothing is let through.
    NotGuarded,
}

impl GuardError {
    pub(crate) fn new(kind: Kind, realm: Arc<Realm>) -> Self {
        Self { kind, realm }
    }

    /// The RFC 6750 error code, if the refusal has one.
    pub fn code(&self) -> Option<BearerErrorCode> {
        match self.kind {
            Kind::InvalidRequest(_) => Some(BearerErrorCode::InvalidRequest),
            Kind::InvalidToken => Some(BearerErrorCode::InvalidToken),
            Kind::InsufficientScope(_) => Some(BearerErrorCode::InsufficientScope),
            Kind::NoCredentials | Kind::Unavailable(_) | Kind::NotGuarded => None,
        }
    }

    fn description(&self) -> &str {
        match &self.kind {
            Kind::NoCredentials => "this resource needs a bearer token",
            Kind::InvalidRequest(d) => d,
            Kind::InvalidToken => "the access token is invalid, expired or revoked",
            Kind::InsufficientScope(_) => "the access token lacks the scope this resource needs",
            Kind::Unavailable(_) => "the access token cannot be checked now; try again later",
            Kind::NotGuarded => "this resource is not configured correctly",
        }
    }

    fn challenge(&self) -> Challenge {
        let error = self.code();
        Challenge {
            realm: self.realm.realm.clone(),
            error,
            error_description: error.map(|_| self.description().to_owned()),
            scope: match &self.kind {
                Kind::InsufficientScope(s) => Some(s.clone()),
                _ => None,
            },
            resource_metadata: self.realm.resource_metadata.clone(),
        }
    }
}

impl std::fmt::Display for GuardError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.description())
    }
}

impl std::error::Error for GuardError {}

impl ResponseError for GuardError {
    fn status_code(&self) -> StatusCode {
        match self.kind {
            Kind::NoCredentials | Kind::InvalidToken => StatusCode::UNAUTHORIZED,
            Kind::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Kind::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Kind::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Kind::NotGuarded => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status_code());
        r.insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")));
        match &self.kind {
            Kind::Unavailable(retry) => {
                r.insert_header((RETRY_AFTER, retry.as_secs().max(1).to_string()));
                return r.json(serde_json::json!({
                    "error": "temporarily_unavailable",
                    "error_description": self.description(),
                }));
            }
            Kind::NotGuarded => {
                tracing::error!("a handler takes Caller on a route no BearerGuard covers");
                return r.json(serde_json::json!({ "error": "server_error" }));
            }
            _ => {}
        }
        r.insert_header((WWW_AUTHENTICATE, self.challenge().to_header_value()));
        match self.code() {
            // §3.1: a request without credentials gets no error code.
            None => r.finish(),
            Some(code) => r.json(serde_json::json!({
                "error": code.as_str(),
                "error_description": self.description(),
            })),
        }
    }
}
