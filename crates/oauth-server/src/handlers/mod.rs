//! HTTP handlers, one module per endpoint family. Each parses the request,
//! calls `oauth-core` for the decision and `oauth-store` (on a blocking
//! thread) for the data, and answers through `crate::errors`.

pub mod apps;
pub mod authorize;
pub mod consent;
pub mod discovery;
pub mod health;
pub mod introspect;
pub mod login;
pub mod register;
pub mod revoke;
pub mod token;
pub mod userinfo;

use actix_web::HttpRequest;
use actix_web::http::header;
use oauth_core::params::Params;

/// `Debug` for a form that shows no field: forms carry passwords and
/// one-time tokens.
macro_rules! redacted_debug {
    ($($form:ty),* $(,)?) => {
        $(
            impl std::fmt::Debug for $form {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.debug_struct(stringify!($form)).finish_non_exhaustive()
                }
            }
        )*
    };
}
pub(crate) use redacted_debug;

/// Largest form body read, in bytes: far above any real OAuth request.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// Is the body `application/x-www-form-urlencoded`?
pub fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Decodes a form body; `None` when it is not UTF-8.
pub fn form_params(body: &[u8]) -> Option<(String, Params)> {
    let text = std::str::from_utf8(body).ok()?.to_owned();
    let params = Params::parse(&text);
    Some((text, params))
}

/// The `Authorization` header, if it is valid text.
pub fn authorization(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}
