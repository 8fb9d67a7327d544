//! Scopes (RFC 6749 §3.3).
//!
//! ```text
//! scope       = scope-token *( SP scope-token )
//! scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
//! ```
//!
//! A scope set is kept sorted and without duplicates, so two requests for the
//! same scopes in another order are the same set (remembered consent relies
//! on it) and the stored form is canonical.

use std::collections::BTreeSet;
use std::fmt;

use crate::error::InvalidValue;

/// Longest scope string accepted, so a hostile request cannot make the
/// server hold or store an unbounded value.
pub const MAX_SCOPE_LEN: usize = 2048;

/// One scope token.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Scope(String);

impl Scope {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        if s.is_empty() {
            return Err(InvalidValue::new(
                "scope",
                "a scope token must not be empty",
            ));
        }
        if let Some(c) = s.chars().find(|c| !is_scope_char(*c)) {
            return Err(InvalidValue::new(
                "scope",
                format!("{c:?} is not allowed in a scope token (RFC 6749 §3.3)"),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `%x21 / %x23-5B / %x5D-7E`: visible ASCII except `"` and `\`.
fn is_scope_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e')
}

/// A set of scopes, written space-separated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    pub fn empty() -> Self {
        Self::default()
    }

    /// Parses a space-delimited scope string. Runs of spaces are one
    /// separator and leading or trailing spaces are ignored, as every peer
    /// server does; any other whitespace is a character no scope token may
    /// hold. An empty string is the empty set: whether that is allowed is
    /// the caller's rule, not the syntax's.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        if s.len() > MAX_SCOPE_LEN {
            return Err(InvalidValue::new(
                "scope",
                format!("longer than {MAX_SCOPE_LEN} characters"),
            ));
        }
        s.split(' ')
            .filter(|t| !t.is_empty())
            .map(Scope::parse)
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s.0 == scope)
    }

    pub fn is_subset_of(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    /// The scopes of `self` that `other` lacks.
    pub fn difference(&self, other: &ScopeSet) -> ScopeSet {
        Self(self.0.difference(&other.0).cloned().collect())
    }

    pub fn union(&self, other: &ScopeSet) -> ScopeSet {
        Self(self.0.union(&other.0).cloned().collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for scope in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(&scope.0)?;
            first = false;
        }
        Ok(())
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl std::str::FromStr for ScopeSet {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for ScopeSet {
    /// Serialises as the list of scope tokens.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

#[cfg(test)]
mod tests;
