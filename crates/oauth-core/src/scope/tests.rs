use proptest::prelude::*;

use super::*;

#[test]
fn parses_and_canonicalises() {
    let s = ScopeSet::parse("project openid  email openid").unwrap();
    assert_eq!(s.to_string(), "email openid project");
    assert_eq!(s.len(), 3);
    assert!(s.contains("openid"));
    assert!(!s.contains("open"));
}

#[test]
fn empty_string_is_the_empty_set() {
    assert!(ScopeSet::parse("").unwrap().is_empty());
    assert!(ScopeSet::parse("   ").unwrap().is_empty());
}

#[test]
fn rejects_characters_outside_the_rfc_grammar() {
    for bad in [
        "a\"b",
        "a\\b",
        "tab\there",
        "new\nline",
        "caf\u{e9}",
        "a\u{7f}",
    ] {
        let err = ScopeSet::parse(bad).unwrap_err();
        assert_eq!(err.what(), "scope", "{bad:?}");
    }
    // Every other visible ASCII character is allowed.
    assert!(
        ScopeSet::parse("read:all https://api.example.com/x!#$%&'()*+,-./;<=>?@[]^_`{|}~").is_ok()
    );
}

#[test]
fn rejects_huge_strings() {
    assert!(ScopeSet::parse(&"a ".repeat(MAX_SCOPE_LEN)).is_err());
}

#[test]
fn subset_and_difference() {
    let granted = ScopeSet::parse("openid profile project").unwrap();
    let asked = ScopeSet::parse("openid project").unwrap();
    assert!(asked.is_subset_of(&granted));
    assert!(!granted.is_subset_of(&asked));
    assert_eq!(granted.difference(&asked).to_string(), "profile");
    assert_eq!(
        asked.union(&ScopeSet::parse("email").unwrap()).to_string(),
        "email openid project"
    );
}

#[test]
fn serialises_as_a_list() {
    let s = ScopeSet::parse("b a").unwrap();
    assert_eq!(serde_json::to_string(&s).unwrap(), r#"["a","b"]"#);
}

fn scope_token() -> impl Strategy<Value = String> {
    "[\\x21\\x23-\\x5b\\x5d-\\x7e]{1,12}"
}

proptest! {
    #[test]
    fn valid_scope_strings_round_trip(tokens in proptest::collection::vec(scope_token(), 0..8)) {
        let joined = tokens.join(" ");
        let set = ScopeSet::parse(&joined).unwrap();
        let again = ScopeSet::parse(&set.to_string()).unwrap();
        prop_assert_eq!(&set, &again);
        for t in &tokens {
            prop_assert!(set.contains(t));
        }
    }

    #[test]
    fn parse_never_panics_and_output_is_in_grammar(s in "\\PC{0,64}") {
        if let Ok(set) = ScopeSet::parse(&s) {
            for scope in set.iter() {
                prop_assert!(scope.as_str().chars().all(is_scope_char));
            }
        }
    }
}
