//! Redirect URIs (RFC 6749 §3.1.2) and how a presented one is matched
//! against the registered ones.
//!
//! A registered redirect URI is absolute and has no fragment. Matching is
//! exact string comparison (RFC 9700 §4.1.3), with the single exception of
//! RFC 8252 §7.3: for an `http` loopback IP literal (`127.0.0.1`, `[::1]`)
//! any port is accepted, because native apps bind an ephemeral port. The
//! strings are compared as written, never normalised: `url` would turn
//! `https://EXAMPLE.com:443/cb` into `https://example.com/cb`, and a match
//! after normalisation is how open redirects start.

use std::fmt;
use std::net::IpAddr;

use crate::error::InvalidValue;

/// Longest redirect URI accepted.
pub const MAX_REDIRECT_URI_LEN: usize = 2000;

/// Schemes that would run code or read files in the user agent instead of
/// navigating to a client.
const FORBIDDEN_SCHEMES: &[&str] = &["javascript", "data", "vbscript", "file", "about", "blob"];

/// A syntactically valid redirect URI, kept exactly as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct RedirectUri(String);

impl RedirectUri {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let err = |reason: &str| InvalidValue::new("redirect URI", format!("{s:?}: {reason}"));
        if s.is_empty() {
            return Err(InvalidValue::new("redirect URI", "must not be empty"));
        }
        if s.len() > MAX_REDIRECT_URI_LEN {
            return Err(InvalidValue::new(
                "redirect URI",
                format!("longer than {MAX_REDIRECT_URI_LEN} characters"),
            ));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("must not contain spaces or control characters"));
        }
        if s.contains('#') {
            return Err(err("must not contain a fragment (RFC 6749 §3.1.2)"));
        }
        let url = url::Url::parse(s).map_err(|e| err(&format!("not an absolute URI ({e})")))?;
        let scheme = url.scheme();
        if FORBIDDEN_SCHEMES.contains(&scheme) {
            return Err(err(&format!("the {scheme}: scheme is not allowed")));
        }
        if matches!(scheme, "http" | "https") {
            if url.host().is_none() {
                return Err(err("must name a host"));
            }
            if !url.username().is_empty() || url.password().is_some() {
                return Err(err("must not contain user information"));
            }
            let authority = s[scheme.len()..].strip_prefix("://");
            if authority.is_none_or(|a| a.is_empty() || a.starts_with(['/', '?'])) {
                return Err(err("must be written scheme://host/..."));
            }
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// Is this `https`?
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    /// Is this an `http` URI whose host is a loopback IP literal, the kind
    /// RFC 8252 §7.3 lets native apps use with any port?
    pub fn is_loopback_ip(&self) -> bool {
        split_http_authority(&self.0).is_some_and(|parts| is_loopback_literal(parts.host))
    }

    /// Does the URI presented in a request match this registered one?
    pub fn matches(&self, presented: &str) -> bool {
        if self.0 == presented {
            return true;
        }
        match (
            split_http_authority(&self.0),
            split_http_authority(presented),
        ) {
            (Some(registered), Some(given)) => {
                is_loopback_literal(registered.host)
                    && registered.host == given.host
                    && registered.rest == given.rest
                    && given
                        .port
                        .is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            }
            _ => false,
        }
    }

    /// The registered URI that `presented` matches, if any.
    pub fn find_match<'a>(
        registered: &'a [RedirectUri],
        presented: &str,
    ) -> Option<&'a RedirectUri> {
        registered.iter().find(|r| r.matches(presented))
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for RedirectUri {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl<'de> serde::Deserialize<'de> for RedirectUri {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The pieces of an `http://host[:port]rest` string, as written.
struct HttpParts<'a> {
    host: &'a str,
    port: Option<&'a str>,
    rest: &'a str,
}

fn split_http_authority(s: &str) -> Option<HttpParts<'_>> {
    let after = s.strip_prefix("http://")?;
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']')?;
        let (host, tail) = authority.split_at(close + 1);
        match tail {
            "" => (host, None),
            _ => (host, Some(tail.strip_prefix(':')?)),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    Some(HttpParts { host, port, rest })
}

fn is_loopback_literal(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests;
