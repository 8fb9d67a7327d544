//! The one place where errors become HTTP responses.
//!
//! Each family of endpoint answers in its RFC's shape: the token,
//! revocation and introspection endpoints with RFC 6749 §5.2 JSON, a
//! protected resource (userinfo) with an RFC 6750 challenge, the
//! authorization endpoint with an error page or a redirect. An unexpected
//! failure is logged with its cause and answered as a bare 500.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use oauth_core::bearer::Challenge;
use oauth_core::error::TokenErrorCode;
use oauth_core::token::TokenError;

use crate::templates::{ErrorPage, Templates};

/// An unexpected failure (database down, a bug). The cause goes to the log;
/// the client learns only that it was the server's fault.
#[derive(Debug)]
pub struct Internal(anyhow::Error);

impl std::fmt::Display for Internal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl Internal {
    /// The underlying error, for callers that report it rather than serve it.
    pub fn into_anyhow(self) -> anyhow::Error {
        self.0
    }
}

impl<E: Into<anyhow::Error>> From<E> for Internal {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl ResponseError for Internal {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        tracing::error!(error = %self, "request failed");
        let mut r = HttpResponse::InternalServerError();
        no_store(&mut r);
        r.json(serde_json::json!({ "error": "server_error", "error_description": "internal server error" }))
    }
}

/// `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1), for
/// every response that may carry a token or a user's data.
pub fn no_store(r: &mut HttpResponseBuilder) -> &mut HttpResponseBuilder {
    r.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
}

/// An RFC 6749 §5.2 error body.
#[derive(serde::Serialize)]
struct OAuthErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

/// A token endpoint error (also revocation and introspection): 400, or 401
/// with `WWW-Authenticate: Basic` for `invalid_client` (RFC 6749 §5.2).
pub fn token_error(err: &TokenError, realm: &str) -> HttpResponse {
    let mut r = if err.code == TokenErrorCode::InvalidClient {
        let mut r = HttpResponse::Unauthorized();
        r.insert_header((
            header::WWW_AUTHENTICATE,
            format!("Basic realm=\"{}\"", realm.replace('"', "")),
        ));
        r
    } else {
        HttpResponse::BadRequest()
    };
    no_store(&mut r);
    r.json(OAuthErrorBody {
        error: err.code.as_str(),
        error_description: &err.description,
    })
}

/// A JSON error with an arbitrary code and status (for codes outside
/// [`TokenErrorCode`], like revocation's `unsupported_token_type`).
pub fn json_error(status: StatusCode, code: &str, description: &str) -> HttpResponse {
    let mut r = HttpResponse::build(status);
    no_store(&mut r);
    r.json(OAuthErrorBody {
        error: code,
        error_description: description,
    })
}

/// 429 Too Many Requests (RFC 6585 §4) with `Retry-After` in seconds
/// (RFC 9110 §10.2.3). OAuth defines no error code for it (`slow_down` is
/// the device flow's, RFC 8628, and a 400), so the body is RFC 6749 §5.2's
/// shape with `too_many_requests`.
pub fn too_many_requests(retry_after: u64, description: &str) -> HttpResponse {
    let mut r = json_error(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        description,
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    r
}

/// A protected resource's error (RFC 6750 §3): the challenge in
/// `WWW-Authenticate`, and the same error as JSON for clients that read
/// bodies.
pub fn bearer_error(status: StatusCode, challenge: &Challenge) -> HttpResponse {
    let mut r = HttpResponse::build(status);
    no_store(&mut r);
    r.insert_header((header::WWW_AUTHENTICATE, challenge.to_header_value()));
    match challenge.error {
        Some(code) => r.json(OAuthErrorBody {
            error: code.as_str(),
            error_description: challenge.error_description.as_deref().unwrap_or(""),
        }),
        None => r.finish(),
    }
}

/// An HTML error page; for errors that must not redirect.
pub fn error_page(
    templates: &Templates,
    status: StatusCode,
    title: &str,
    message: &str,
    code: Option<&str>,
) -> Result<HttpResponse, Internal> {
    let body = templates.render(
        "error.html",
        &ErrorPage {
            title,
            message,
            error: code,
        },
    )?;
    Ok(html(status, body))
}

/// An HTML response that no cache keeps.
pub fn html(status: StatusCode, body: String) -> HttpResponse {
    let mut r = HttpResponse::build(status);
    no_store(&mut r);
    r.content_type("text/html; charset=utf-8").body(body)
}

/// A `303 See Other` to `location`: after a POST the browser follows with
/// a GET, so credentials are never re-posted (RFC 9700 §4.12).
pub fn see_other(location: &str) -> HttpResponse {
    let mut r = HttpResponse::SeeOther();
    no_store(&mut r);
    r.insert_header((header::LOCATION, location)).finish()
}
