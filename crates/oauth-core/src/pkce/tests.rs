use proptest::prelude::*;
use rand::SeedableRng as _;
use rand::rngs::StdRng;

use super::*;

#[test]
fn rfc_7636_appendix_b_example() {
    let verifier = CodeVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
    let challenge = CodeChallenge::parse(
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        CodeChallengeMethod::S256,
    )
    .unwrap();
    assert!(challenge.verify(&verifier));
    assert_eq!(CodeChallenge::s256_of(&verifier), challenge);
}

#[test]
fn wrong_verifier_fails() {
    let mut rng = StdRng::seed_from_u64(5);
    let right = CodeVerifier::generate(&mut rng);
    let wrong = CodeVerifier::generate(&mut rng);
    let challenge = CodeChallenge::s256_of(&right);
    assert!(challenge.verify(&right));
    assert!(!challenge.verify(&wrong));
}

#[test]
fn plain_compares_the_verifier_itself() {
    let v = CodeVerifier::parse(&"a".repeat(43)).unwrap();
    let c = CodeChallenge::parse(&"a".repeat(43), CodeChallengeMethod::Plain).unwrap();
    assert!(c.verify(&v));
    // An S256 challenge presented as plain does not verify with its verifier.
    let s = CodeChallenge::s256_of(&v);
    let as_plain = CodeChallenge::parse(s.as_str(), CodeChallengeMethod::Plain).unwrap();
    assert!(!as_plain.verify(&v));
}

#[test]
fn method_parsing_follows_section_4_3() {
    assert_eq!(
        CodeChallengeMethod::parse(None).unwrap(),
        CodeChallengeMethod::Plain
    );
    assert_eq!(
        CodeChallengeMethod::parse(Some("S256")).unwrap(),
        CodeChallengeMethod::S256
    );
    assert!(CodeChallengeMethod::parse(Some("s256")).is_err());
    assert!(CodeChallengeMethod::parse(Some("S512")).is_err());
}

#[test]
fn verifier_syntax() {
    assert!(CodeVerifier::parse(&"a".repeat(42)).is_err());
    assert!(CodeVerifier::parse(&"a".repeat(43)).is_ok());
    assert!(CodeVerifier::parse(&"a".repeat(128)).is_ok());
    assert!(CodeVerifier::parse(&"a".repeat(129)).is_err());
    assert!(CodeVerifier::parse(&format!("{}+", "a".repeat(43))).is_err());
    assert!(CodeVerifier::parse(&format!("{}~._-", "a".repeat(43))).is_ok());
}

#[test]
fn s256_challenge_syntax() {
    assert!(CodeChallenge::parse(&"a".repeat(42), CodeChallengeMethod::S256).is_err());
    assert!(CodeChallenge::parse(&"a".repeat(44), CodeChallengeMethod::S256).is_err());
    assert!(
        CodeChallenge::parse(&format!("{}=", "a".repeat(42)), CodeChallengeMethod::S256).is_err()
    );
}

#[test]
fn verifiers_do_not_print() {
    let v = CodeVerifier::parse(&"z".repeat(43)).unwrap();
    assert!(!format!("{v:?}").contains("zzz"));
}

proptest! {
    #[test]
    fn every_valid_verifier_verifies_its_s256_challenge(v in "[A-Za-z0-9._~-]{43,128}") {
        let verifier = CodeVerifier::parse(&v).unwrap();
        let challenge = CodeChallenge::s256_of(&verifier);
        let reparsed = CodeChallenge::parse(challenge.as_str(), CodeChallengeMethod::S256).unwrap();
        prop_assert!(reparsed.verify(&verifier));
    }

    #[test]
    fn verifier_parse_never_panics(s in "\\PC{0,140}") {
        if CodeVerifier::parse(&s).is_ok() {
            prop_assert!((43..=128).contains(&s.len()));
        }
    }
}
