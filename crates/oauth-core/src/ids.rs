//! Identifiers and profile values: client ids, user ids, usernames, emails,
//! full names and roles. Each constructor checks its syntax, so a value of
//! one of these types is valid wherever it travels.

use std::fmt;

use rand_core::CryptoRng;

use crate::error::InvalidValue;
use crate::secret::generate_id;

macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

string_newtype! {
    /// A client identifier (RFC 6749 §2.2). Ours are 128 random bits in
    /// base64url; a presented one is any 1–255 visible ASCII characters
    /// (Appendix A.1's `VSCHAR`), so that lookups of foreign ids fail as
    /// "unknown client" rather than as malformed input.
    ClientId
}

impl ClientId {
    /// 128 random bits, base64url, never starting with `-` or `_` so the id
    /// cannot be mistaken for a command-line flag when pasted into a shell.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        loop {
            let id = generate_id(rng, 16);
            if id.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                return Self(id);
            }
        }
    }

    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        if s.is_empty() || s.len() > 255 {
            return Err(InvalidValue::new(
                "client_id",
                "must be 1 to 255 characters",
            ));
        }
        if !s.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            return Err(InvalidValue::new(
                "client_id",
                "must be visible ASCII characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

string_newtype! {
    /// A user's stable, opaque identifier: the OpenID Connect `sub`. It is
    /// random (128 bits), never reassigned, and does not change when the
    /// username does.
    UserId
}

impl UserId {
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(generate_id(rng, 16))
    }

    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        // OIDC Core §2: `sub` is at most 255 ASCII characters.
        if s.is_empty() || s.len() > 255 || !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidValue::new(
                "user id",
                "must be 1 to 255 visible ASCII characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

string_newtype! {
    /// A login name: 1–64 characters of letters, digits and `. _ @ + -`,
    /// not starting with `-` (so it is never mistaken for a flag). Emails
    /// fit, as Frappe uses them as usernames.
    Username
}

impl Username {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        const WHAT: &str = "username";
        if s.is_empty() || s.chars().count() > 64 {
            return Err(InvalidValue::new(WHAT, "must be 1 to 64 characters"));
        }
        if s.starts_with('-') {
            return Err(InvalidValue::new(WHAT, "must not start with '-'"));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '@' | '+' | '-')))
        {
            return Err(InvalidValue::new(
                WHAT,
                format!("{c:?} is not allowed; use letters, digits and . _ @ + -"),
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

string_newtype! {
    /// An email address: one `@` between a non-empty local part and a domain
    /// with a dot, no spaces or control characters, at most 254 characters
    /// (RFC 5321's path limit). Deliverability is not this type's business.
    Email
}

impl Email {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        const WHAT: &str = "email";
        if s.len() > 254 {
            return Err(InvalidValue::new(WHAT, "must be at most 254 characters"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InvalidValue::new(
                WHAT,
                "must not contain spaces or control characters",
            ));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(InvalidValue::new(WHAT, "must contain '@'"));
        };
        if local.is_empty() || domain.contains('@') {
            return Err(InvalidValue::new(WHAT, "must be local@domain"));
        }
        if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
            return Err(InvalidValue::new(WHAT, "domain must be a dotted name"));
        }
        Ok(Self(s.to_owned()))
    }
}

string_newtype! {
    /// A person's display name: 1–140 characters, no control characters.
    FullName
}

impl FullName {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let trimmed = s.trim();
        if trimmed.is_empty() || trimmed.chars().count() > 140 {
            return Err(InvalidValue::new(
                "full name",
                "must be 1 to 140 characters",
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(InvalidValue::new(
                "full name",
                "must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The first word, for OIDC `given_name`.
    pub fn given_name(&self) -> &str {
        self.0.split_whitespace().next().unwrap_or(&self.0)
    }

    /// Everything after the first word, for OIDC `family_name`; `None` for a
    /// one-word name.
    pub fn family_name(&self) -> Option<&str> {
        self.0
            .split_once(char::is_whitespace)
            .map(|(_, rest)| rest.trim())
            .filter(|rest| !rest.is_empty())
    }
}

string_newtype! {
    /// A role name, as Frappe's roles ("System Manager", "Projects User"):
    /// 1–140 characters, no control characters, no leading or trailing space.
    Role
}

impl Role {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        if s.is_empty() || s.chars().count() > 140 {
            return Err(InvalidValue::new("role", "must be 1 to 140 characters"));
        }
        if s.trim() != s || s.chars().any(char::is_control) {
            return Err(InvalidValue::new(
                "role",
                "must not have control characters or leading/trailing spaces",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

string_newtype! {
    /// A profile picture's URL: absolute `http(s)`, at most 2000 characters.
    Picture
}

impl Picture {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let ok = s.len() <= 2000
            && url::Url::parse(s)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !ok {
            return Err(InvalidValue::new(
                "picture",
                "must be an absolute http(s) URL",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

#[cfg(test)]
mod tests;
