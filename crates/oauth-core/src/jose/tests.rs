use rand::SeedableRng as _;
use rand::rngs::StdRng;

use super::*;

fn decode_part(part: &str) -> serde_json::Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[test]
fn every_algorithm_generates_signs_and_round_trips() {
    for alg in SigningAlg::ALL {
        let key = SigningKey::generate(alg, format!("k-{alg}")).unwrap();
        let again =
            SigningKey::from_pkcs8(alg, key.kid().to_owned(), key.pkcs8().to_vec()).unwrap();
        assert_eq!(key.public_jwk().unwrap(), again.public_jwk().unwrap());
        let jwt = key
            .sign(Some("at+jwt"), &serde_json::json!({"sub": "x"}))
            .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = decode_part(parts[0]);
        assert_eq!(header["alg"], alg.as_str());
        assert_eq!(header["kid"], format!("k-{alg}"));
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(decode_part(parts[1])["sub"], "x");
        // Verify with the public JWK alone.
        let jwk: Jwk = serde_json::from_value(key.public_jwk().unwrap()).unwrap();
        let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = jsonwebtoken::Validation::new(alg.jwt());
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        jsonwebtoken::decode::<serde_json::Value>(&jwt, &decoding, &validation).unwrap();
    }
}

#[test]
fn public_jwks_hold_no_private_member() {
    for alg in SigningAlg::ALL {
        let jwk = SigningKey::generate(alg, "k".into())
            .unwrap()
            .public_jwk()
            .unwrap();
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(jwk.get(private).is_none(), "{alg}: {private} in {jwk}");
        }
        assert_eq!(jwk["use"], "sig");
    }
}

#[test]
fn sealed_keys_open_only_with_the_same_key_and_kid() {
    let mut rng = StdRng::seed_from_u64(1);
    let key = [7u8; 32];
    let sealed = seal(&key, "kid-1", b"private", &mut rng).unwrap();
    assert!(!sealed.windows(7).any(|w| w == b"private"));
    assert_eq!(open(&key, "kid-1", &sealed).unwrap().as_slice(), b"private");
    assert!(open(&[8u8; 32], "kid-1", &sealed).is_err());
    assert!(open(&key, "kid-2", &sealed).is_err());
    let mut tampered = sealed.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(open(&key, "kid-1", &tampered).is_err());
    assert!(open(&key, "kid-1", b"short").is_err());
}

#[test]
fn half_hash_follows_oidc_core() {
    // Reference value computed independently with Python's hashlib:
    // base64url(sha256(token)[:16]).
    assert_eq!(
        half_hash(
            SigningAlg::Rs256,
            "jHkWEdUXMU1BwAsC4vtUsZwnNS7yF8iakGaq3yyZxQ5"
        ),
        "xyutDH5YlkuDoAK5fbC2oQ"
    );
    assert_eq!(
        half_hash(
            SigningAlg::Es256,
            "jHkWEdUXMU1BwAsC4vtUsZwnNS7yF8iakGaq3yyZxQ5"
        ),
        "xyutDH5YlkuDoAK5fbC2oQ"
    );
    assert_eq!(half_hash(SigningAlg::EdDsa, "x").len(), 43);
}

#[test]
fn algorithms_parse() {
    assert_eq!(SigningAlg::parse("EdDSA").unwrap(), SigningAlg::EdDsa);
    assert!(SigningAlg::parse("HS256").is_err());
    assert!(SigningAlg::parse("none").is_err());
}

#[test]
fn keys_do_not_print_their_private_part() {
    let key = SigningKey::generate(SigningAlg::EdDsa, "k".into()).unwrap();
    let printed = format!("{key:?}");
    assert!(printed.contains("kid") && !printed.contains("pkcs8"));
}

#[test]
fn own_tokens_verify_and_others_do_not() {
    let key = SigningKey::generate(SigningAlg::Es256, "k1".into()).unwrap();
    let other = SigningKey::generate(SigningAlg::Es256, "k1".into()).unwrap();
    let jwks = vec![key.public_jwk().unwrap()];
    let token = key
        .sign(None, &serde_json::json!({"sub": "u", "exp": 1}))
        .unwrap();
    assert_eq!(
        verify_own(&token, &jwks).unwrap()["sub"],
        "u",
        "expired tokens still verify"
    );
    let forged = other.sign(None, &serde_json::json!({"sub": "u"})).unwrap();
    assert!(verify_own(&forged, &jwks).is_err());
    assert!(verify_own("not.a.jwt", &jwks).is_err());
    // alg=none is never accepted.
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#),
        URL_SAFE_NO_PAD.encode(r#"{"sub":"u"}"#)
    );
    assert!(verify_own(&none, &jwks).is_err());
}
