use rand::SeedableRng as _;
use rand::rngs::StdRng;

use super::*;

#[test]
fn generated_secrets_are_256_bits_of_base64url() {
    let mut rng = StdRng::seed_from_u64(7);
    let a = generate_secret(&mut rng);
    let b = generate_secret(&mut rng);
    assert_eq!(a.expose_secret().len(), 43);
    assert!(
        a.expose_secret()
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    );
    assert_ne!(a, b);
    let decoded = URL_SAFE_NO_PAD.decode(a.expose_secret()).unwrap();
    assert_eq!(decoded.len(), SECRET_BYTES);
}

#[test]
fn the_same_seed_gives_the_same_secret() {
    let a = generate_secret(&mut StdRng::seed_from_u64(1));
    let b = generate_secret(&mut StdRng::seed_from_u64(1));
    assert_eq!(a, b);
}

#[test]
fn secrets_never_print() {
    let mut rng = StdRng::seed_from_u64(3);
    let token = Token::generate(&mut rng);
    let secret = ClientSecret::generate(&mut rng);
    let plain = SecretString::new("hunter2");
    for printed in [
        format!("{token:?}"),
        format!("{secret:?}"),
        format!("{plain:?}"),
    ] {
        assert!(printed.contains("[redacted]"), "{printed}");
        assert!(!printed.contains(token.expose_secret()));
        assert!(!printed.contains(secret.expose_secret()));
        assert!(!printed.contains("hunter2"));
    }
}

#[test]
fn digest_is_sha256_hex() {
    // SHA-256("abc") from FIPS 180-2, appendix B.1.
    assert_eq!(
        SecretDigest::of("abc").as_str(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn digest_matches_only_its_secret() {
    let d = SecretDigest::of("right");
    assert!(d.matches("right"));
    assert!(!d.matches("wrong"));
    assert!(!d.matches(""));
}

#[test]
fn stored_digests_are_checked() {
    let d = SecretDigest::of("x");
    assert_eq!(SecretDigest::from_stored(d.as_str().to_owned()).unwrap(), d);
    assert!(SecretDigest::from_stored("ABC".into()).is_err());
    assert!(SecretDigest::from_stored("g".repeat(64)).is_err());
}

#[test]
fn constant_time_eq_is_equality() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"ab"));
    assert!(constant_time_eq(b"", b""));
}

#[test]
fn presented_tokens_are_bounded() {
    assert!(Token::presented("").is_err());
    assert!(Token::presented("a".repeat(MAX_PRESENTED_TOKEN_LEN + 1)).is_err());
    assert!(Token::presented("abc").is_ok());
    assert!(ClientSecret::presented("").is_err());
}

#[test]
fn ids_have_the_requested_entropy() {
    let mut rng = StdRng::seed_from_u64(9);
    let id = generate_id(&mut rng, 16);
    assert_eq!(URL_SAFE_NO_PAD.decode(&id).unwrap().len(), 16);
}
