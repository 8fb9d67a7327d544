//! Bearer tokens at a protected resource (RFC 6750): reading the
//! `Authorization` header and writing the `WWW-Authenticate` challenge.

use std::fmt::Write as _;

use crate::error::BearerErrorCode;
use crate::params::Params;

/// What an `Authorization` header held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerHeader<'a> {
    /// `Bearer <b64token>`.
    Token(&'a str),
    /// Some other scheme: not a bearer credential.
    OtherScheme,
    /// `Bearer` with nothing, or something that is not a b64token, after it.
    Malformed,
}

/// Reads an `Authorization` header value. The scheme name is compared
/// without regard to case (RFC 7235 §2.1); the token must match RFC 6750
/// §2.1's `b64token` syntax.
pub fn parse_authorization(value: &str) -> BearerHeader<'_> {
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return BearerHeader::OtherScheme;
    }
    let token = rest.trim_start_matches(' ');
    if is_b64token(token) {
        BearerHeader::Token(token)
    } else {
        BearerHeader::Malformed
    }
}

/// An `Authorization` header's raw bytes as text for [`parse_authorization`]
/// and [`locate`]. A value that is not UTF-8 cannot hold a bearer token: if
/// its scheme is `Bearer` it is a malformed one, otherwise it is another
/// scheme's business (a `Basic` header with a Latin-1 password, say).
pub fn header_text(raw: &[u8]) -> &str {
    match std::str::from_utf8(raw) {
        Ok(text) => text,
        Err(_) if raw.len() > 6 && raw[..6].eq_ignore_ascii_case(b"bearer") && raw[6] == b' ' => {
            "Bearer \u{1}"
        }
        Err(_) => "Other",
    }
}

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
///
/// Every guarded request runs this on its token, so it is a table lookup
/// per byte rather than a chain of comparisons.
pub fn is_b64token(s: &str) -> bool {
    let bytes = s.as_bytes();
    let body = bytes.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    body > 0 && bytes[..body].iter().all(|&b| B64TOKEN[usize::from(b)])
}

/// Which bytes may appear in a `b64token` before its trailing `=`s.
static B64TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] =
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        b += 1;
    }
    table
};

/// The places a request can carry a bearer token (RFC 6750 §2).
#[derive(Debug, Clone, Copy)]
pub struct Presented<'a> {
    /// Every `Authorization` header value (a request may repeat it).
    pub authorization: &'a [&'a str],
    /// The URI query.
    pub query: &'a Params,
    /// The form-encoded body, when the caller accepts tokens there and the
    /// request is one that may carry them (§2.2: not `GET`).
    pub form: Option<&'a Params>,
    /// Whether `access_token` in the query is accepted (§2.3; off by
    /// default everywhere, since URIs end up in logs and histories).
    pub query_allowed: bool,
}

/// Why a request is malformed (RFC 6750 `invalid_request`); the text is
/// the `error_description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MalformedRequest(pub &'static str);

/// Finds the token a request carries, by RFC 6750 §2's rules: at most one
/// method (§2: "Clients MUST NOT use more than one method"), each at most
/// once. `Ok(None)` means no bearer credentials at all (a 401 without an
/// error code, §3.1).
pub fn locate<'a>(p: Presented<'a>) -> Result<Option<&'a str>, MalformedRequest> {
    let header = match p.authorization {
        [] => None,
        [one] => match parse_authorization(one) {
            BearerHeader::OtherScheme => None,
            BearerHeader::Malformed => {
                return Err(MalformedRequest("the Authorization header is malformed"));
            }
            BearerHeader::Token(t) => Some(t),
        },
        _ => {
            return Err(MalformedRequest(
                "send one Authorization header, not several",
            ));
        }
    };
    let query = match p.query.get("access_token") {
        Ok(None) => None,
        Ok(Some(_)) if !p.query_allowed => {
            return Err(MalformedRequest(
                "access tokens are not accepted in the query string",
            ));
        }
        Ok(Some(t)) => Some(t),
        Err(_) => return Err(MalformedRequest("access_token was sent more than once")),
    };
    let form = match p.form.map(|f| f.get("access_token")) {
        None | Some(Ok(None)) => None,
        Some(Ok(Some(t))) => Some(t),
        Some(Err(_)) => return Err(MalformedRequest("access_token was sent more than once")),
    };
    match [header, query, form] {
        [None, None, None] => Ok(None),
        [Some(t), None, None] | [None, Some(t), None] | [None, None, Some(t)] => Ok(Some(t)),
        _ => Err(MalformedRequest(
            "use one way of sending the access token, not two",
        )),
    }
}

/// A `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub error: Option<BearerErrorCode>,
    pub error_description: Option<String>,
    /// For `insufficient_scope`: the scopes the resource needs.
    pub scope: Option<String>,
    /// RFC 9728 §5.1: where the resource's metadata lives.
    pub resource_metadata: Option<String>,
}

impl Challenge {
    /// The header value. Attribute values are quoted strings; characters
    /// RFC 6750 §3 does not allow in them (`"`, `\`, controls) are dropped.
    pub fn to_header_value(&self) -> String {
        let mut out = format!("Bearer realm=\"{}\"", clean(&self.realm));
        if let Some(error) = self.error {
            let _ = write!(out, ", error=\"{error}\"");
        }
        if let Some(d) = &self.error_description {
            let _ = write!(out, ", error_description=\"{}\"", clean(d));
        }
        if let Some(s) = &self.scope {
            let _ = write!(out, ", scope=\"{}\"", clean(s));
        }
        if let Some(m) = &self.resource_metadata {
            let _ = write!(out, ", resource_metadata=\"{}\"", clean(m));
        }
        out
    }
}

fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| matches!(c, '\x20' | '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e'))
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn scheme_is_case_insensitive() {
        assert_eq!(
            parse_authorization("Bearer abc"),
            BearerHeader::Token("abc")
        );
        assert_eq!(
            parse_authorization("bearer abc=="),
            BearerHeader::Token("abc==")
        );
        assert_eq!(
            parse_authorization("BEARER a.b-c_d~e+f/g"),
            BearerHeader::Token("a.b-c_d~e+f/g")
        );
        assert_eq!(parse_authorization("Basic abc"), BearerHeader::OtherScheme);
        assert_eq!(parse_authorization("Bearerabc"), BearerHeader::OtherScheme);
    }

    #[test]
    fn undecodable_headers_are_malformed_only_under_the_bearer_scheme() {
        assert_eq!(
            parse_authorization(header_text(b"Basic \xe4lice")),
            BearerHeader::OtherScheme
        );
        assert_eq!(
            parse_authorization(header_text(b"bearer \xe4")),
            BearerHeader::Malformed
        );
        assert_eq!(
            parse_authorization(header_text(b"Bearer abc")),
            BearerHeader::Token("abc")
        );
    }

    #[test]
    fn tokens_must_be_b64token() {
        for bad in [
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer a\"b",
            "Bearer =abc",
            "Bearer a=b",
            "Bearer ä",
        ] {
            assert_eq!(parse_authorization(bad), BearerHeader::Malformed, "{bad:?}");
        }
        for good in ["a", "a=", "a==", "Az09-._~+/", "abc+/=="] {
            assert!(is_b64token(good), "{good:?}");
        }
        for bad in ["", "=", "==", "=a", "a=b", "a b", "a\u{0}", "é"] {
            assert!(!is_b64token(bad), "{bad:?}");
        }
    }

    #[test]
    fn challenges_render_per_rfc_6750() {
        let c = Challenge {
            realm: "https://auth.example".into(),
            ..Challenge::default()
        };
        assert_eq!(c.to_header_value(), "Bearer realm=\"https://auth.example\"");
        let c = Challenge {
            realm: "r".into(),
            error: Some(BearerErrorCode::InsufficientScope),
            error_description: Some("needs \"project\"\n".into()),
            scope: Some("project".into()),
            resource_metadata: None,
        };
        assert_eq!(
            c.to_header_value(),
            "Bearer realm=\"r\", error=\"insufficient_scope\", error_description=\"needs project\", scope=\"project\""
        );
    }

    #[test]
    fn locate_follows_rfc_6750_section_2() {
        let none = Params::parse("");
        let q = Params::parse("access_token=abc");
        let form = Params::parse("access_token=abc");
        let twice = Params::parse("access_token=a&access_token=b");
        let at = |authorization: &'static [&'static str],
                  query: &Params,
                  form: Option<&Params>,
                  query_allowed: bool| {
            let p = Presented {
                authorization,
                query,
                form,
                query_allowed,
            };
            locate(p).map(|t| t.map(str::to_owned))
        };
        assert_eq!(at(&[], &none, None, false), Ok(None));
        assert_eq!(at(&["Basic x"], &none, None, false), Ok(None));
        assert_eq!(
            at(&["bearer abc"], &none, None, false),
            Ok(Some("abc".into()))
        );
        assert_eq!(at(&[], &none, Some(&form), false), Ok(Some("abc".into())));
        assert_eq!(at(&[], &q, None, true), Ok(Some("abc".into())));
        assert!(
            at(&[], &q, None, false).is_err(),
            "query refused unless allowed"
        );
        assert!(
            at(&["Bearer abc"], &none, Some(&form), false).is_err(),
            "two methods"
        );
        assert!(at(&["Bearer abc"], &q, None, true).is_err(), "two methods");
        assert!(at(&["Bearer a", "Bearer b"], &none, None, false).is_err());
        assert!(at(&[], &none, Some(&twice), false).is_err());
        assert!(at(&["Bearer a b"], &none, None, false).is_err());
    }

    /// RFC 6750 §2.1's grammar, written out plainly.
    fn b64token_by_the_grammar(s: &str) -> bool {
        let body = s.trim_end_matches('=');
        !body.is_empty()
            && body.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
            })
    }

    proptest! {
        #[test]
        fn the_b64token_table_agrees_with_the_grammar(s in "[A-Za-z0-9=+/ ._~\\-\"]{0,12}|\\PC{0,12}") {
            prop_assert_eq!(is_b64token(&s), b64token_by_the_grammar(&s));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,60}") {
            if let BearerHeader::Token(t) = parse_authorization(&s) {
                prop_assert!(is_b64token(t));
            }
        }
    }
}
