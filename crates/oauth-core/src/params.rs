//! Request parameters as RFC 6749 §3.1 and §3.2 read them.
//!
//! "Parameters sent without a value MUST be treated as if they were omitted
//! from the request" and "Request and response parameters MUST NOT be
//! included more than once." [`Params`] holds the decoded pairs of a query
//! string or form body and answers both rules.

use std::fmt;

/// The decoded name/value pairs of one request.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

/// A parameter was sent more than once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate(pub &'static str);

impl fmt::Display for Duplicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the {} parameter must not be sent more than once",
            self.0
        )
    }
}

impl Params {
    /// Parses `application/x-www-form-urlencoded` text (a query string or
    /// a form body).
    pub fn parse(encoded: &str) -> Self {
        Self(
            url::form_urlencoded::parse(encoded.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    /// The parameter's value: `None` when absent or empty, an error when
    /// sent more than once (with any values).
    pub fn get(&self, name: &'static str) -> Result<Option<&str>, Duplicate> {
        let mut found = None;
        for (k, v) in &self.0 {
            if k == name {
                if found.is_some() {
                    return Err(Duplicate(name));
                }
                found = Some(v.as_str());
            }
        }
        Ok(found.filter(|v| !v.is_empty()))
    }

    /// Every non-empty value of a parameter that may repeat (RFC 8707's
    /// `resource`).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Was the parameter sent at all (even empty)?
    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// The first parameter, among `names`, that was sent more than once.
    pub fn first_duplicate(&self, names: &[&'static str]) -> Option<Duplicate> {
        names.iter().find_map(|n| self.get(n).err())
    }
}

impl fmt::Debug for Params {
    /// Lists the parameter names only: values may be codes, tokens or
    /// secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, _)| k))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_count_as_absent() {
        let p = Params::parse("state=&scope=openid");
        assert_eq!(p.get("state"), Ok(None));
        assert!(p.contains("state"));
        assert_eq!(p.get("scope"), Ok(Some("openid")));
        assert_eq!(p.get("nonce"), Ok(None));
    }

    #[test]
    fn repeats_are_errors_even_with_equal_values() {
        let p = Params::parse("client_id=a&client_id=a&x=1");
        assert_eq!(p.get("client_id"), Err(Duplicate("client_id")));
        assert_eq!(
            p.first_duplicate(&["x", "client_id"]),
            Some(Duplicate("client_id"))
        );
        assert_eq!(p.first_duplicate(&["x"]), None);
    }

    #[test]
    fn decodes_percent_and_plus() {
        let p = Params::parse("scope=openid+project&redirect_uri=http%3A%2F%2Fa%2Fcb");
        assert_eq!(p.get("scope"), Ok(Some("openid project")));
        assert_eq!(p.get("redirect_uri"), Ok(Some("http://a/cb")));
    }

    #[test]
    fn debug_hides_values() {
        let p = Params::parse("code=secret-code");
        assert_eq!(format!("{p:?}"), "[\"code\"]");
    }
}
