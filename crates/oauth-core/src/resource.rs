//! Resource indicators (RFC 8707): which protected resources an access
//! token is for. They become the token's audience.

use std::fmt;

use crate::error::InvalidValue;
use crate::params::Params;

/// Most resources one request may name.
pub const MAX_RESOURCES: usize = 16;

/// A resource indicator: "an absolute URI ... MUST NOT include a fragment
/// component" (RFC 8707 §2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Resource(String);

impl Resource {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        if s.len() > 2000
            || s.contains('#')
            || s.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(InvalidValue::new(
                "resource",
                format!("{s:?}: must be an absolute URI without a fragment"),
            ));
        }
        url::Url::parse(s).map_err(|e| {
            InvalidValue::new("resource", format!("{s:?}: not an absolute URI ({e})"))
        })?;
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `resource` parameters of a request (it may repeat), sorted and
/// without duplicates.
pub fn requested(params: &Params) -> Result<Vec<Resource>, InvalidValue> {
    let mut resources = params
        .all("resource")
        .map(Resource::parse)
        .collect::<Result<Vec<_>, _>>()?;
    resources.sort();
    resources.dedup();
    if resources.len() > MAX_RESOURCES {
        return Err(InvalidValue::new(
            "resource",
            format!("at most {MAX_RESOURCES} resources per request"),
        ));
    }
    Ok(resources)
}

/// Is every one of `asked` among `allowed`?
pub fn all_within(asked: &[Resource], allowed: &[Resource]) -> bool {
    asked.iter().all(|r| allowed.contains(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_repeated_resources() {
        let p = Params::parse(
            "resource=https%3A%2F%2Fb.example%2F&resource=https%3A%2F%2Fa.example%2F&resource=https%3A%2F%2Fa.example%2F",
        );
        let r = requested(&p).unwrap();
        assert_eq!(
            r.iter().map(Resource::as_str).collect::<Vec<_>>(),
            ["https://a.example/", "https://b.example/"]
        );
        assert!(requested(&Params::parse("")).unwrap().is_empty());
    }

    #[test]
    fn fragments_and_relative_uris_are_invalid() {
        for bad in ["https://a.example/#x", "/relative", "not a uri"] {
            assert!(Resource::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn subsets() {
        let a = Resource::parse("https://a.example/").unwrap();
        let b = Resource::parse("https://b.example/").unwrap();
        assert!(all_within(
            std::slice::from_ref(&a),
            &[a.clone(), b.clone()]
        ));
        assert!(!all_within(&[b], &[a]));
        assert!(all_within(&[], &[]));
    }
}
