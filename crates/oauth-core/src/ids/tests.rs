use proptest::prelude::*;
use rand::SeedableRng as _;
use rand::rngs::StdRng;

use super::*;

#[test]
fn generated_ids_parse() {
    let mut rng = StdRng::seed_from_u64(1);
    let id = ClientId::generate(&mut rng);
    assert_eq!(ClientId::parse(id.as_str()).unwrap(), id);
    assert_eq!(id.as_str().len(), 22);
    let user = UserId::generate(&mut rng);
    assert_eq!(UserId::parse(user.as_str()).unwrap(), user);
}

#[test]
fn client_ids_reject_controls_and_empties() {
    assert!(ClientId::parse("").is_err());
    assert!(ClientId::parse("a\nb").is_err());
    assert!(ClientId::parse(&"a".repeat(256)).is_err());
    assert!(ClientId::parse("frappe client 1").is_ok());
}

#[test]
fn usernames() {
    for ok in ["alice", "alice@example.com", "a.b_c+d-e", "Zoë"] {
        assert!(Username::parse(ok).is_ok(), "{ok}");
    }
    for bad in ["", "-rf", "a b", "a/b", "a\u{0}", &"x".repeat(65)] {
        let err = Username::parse(bad).unwrap_err();
        assert_eq!(err.what(), "username", "{bad}");
    }
}

#[test]
fn emails() {
    assert!(Email::parse("alice@example.com").is_ok());
    for bad in [
        "",
        "alice",
        "@example.com",
        "a@b",
        "a@@b.c",
        "a b@c.d",
        "a@.c",
        "a@c.",
    ] {
        assert!(Email::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn full_names_split_for_oidc() {
    let n = FullName::parse("  Ada  King Lovelace ").unwrap();
    assert_eq!(n.as_str(), "Ada  King Lovelace");
    assert_eq!(n.given_name(), "Ada");
    assert_eq!(n.family_name(), Some("King Lovelace"));
    assert_eq!(FullName::parse("Plato").unwrap().family_name(), None);
    assert!(FullName::parse("  ").is_err());
    assert!(FullName::parse("a\u{7}b").is_err());
}

#[test]
fn roles() {
    assert!(Role::parse("System Manager").is_ok());
    assert!(Role::parse(" padded").is_err());
    assert!(Role::parse("").is_err());
}

#[test]
fn newtypes_deserialize_through_their_parser() {
    let ok: Username = serde_json::from_str("\"alice\"").unwrap();
    assert_eq!(ok.as_str(), "alice");
    assert!(serde_json::from_str::<Username>("\"a b\"").is_err());
}

proptest! {
    #[test]
    fn username_parse_never_panics_and_round_trips(s in "\\PC{0,80}") {
        if let Ok(u) = Username::parse(&s) {
            prop_assert_eq!(u.as_str(), s.as_str());
            prop_assert!(!u.as_str().contains(' '));
        }
    }

    #[test]
    fn email_parse_never_panics(s in "\\PC{0,80}") {
        if let Ok(e) = Email::parse(&s) {
            prop_assert_eq!(e.as_str().matches('@').count(), 1);
        }
    }
}

#[test]
fn generated_client_ids_never_look_like_flags() {
    let mut rng = StdRng::seed_from_u64(11);
    for _ in 0..2000 {
        let id = ClientId::generate(&mut rng);
        assert!(
            id.as_str().starts_with(|c: char| c.is_ascii_alphanumeric()),
            "{id}"
        );
    }
}
