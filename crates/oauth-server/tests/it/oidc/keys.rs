//! Signing keys: rotation, ES256 and EdDSA keys made by the CLI, no
//! `none`, and a JWKS of public asymmetric keys only.

use std::str::FromStr as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth_core::AccessTokenFormat;
use oauth_core::jose::SigningAlg;
use oauth_store::test_support::TestDb;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeyType, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AccessTokenHash, ClientId, ClientSecret, IssuerUrl, JsonWebKey as _, OAuth2TokenResponse as _,
};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

use super::{
    Http, discover, half_hash, introspect_raw, jwt_part, kid_of, kids, relying_party, sign_in,
    verify_jws,
};

oauth_store::test_on_both_backends!(
    a_rotated_key_stays_published_and_new_tokens_carry_the_new_kid,
    es256_id_tokens_from_a_cli_made_key_verify_with_the_library,
    eddsa_id_tokens_from_a_cli_made_key_verify_with_the_library,
    alg_none_is_never_offered_and_the_jwks_holds_only_public_asymmetric_keys,
);

/// The server secret [`TestServer`] uses, for `oauthctl keys rotate`.
const SECRET_KEY: &str = "--secret-key=test secret that is long enough for the rule";

// ---- 3. key rotation and the other algorithms ----

fn a_rotated_key_stays_published_and_new_tokens_carry_the_new_kid(t: &TestDb) {
    let http = Http::new();
    let before = TestServer::start(t);
    before.user("alice");
    let registered = before.client();
    let old = block_on(async {
        let metadata = discover(before.issuer(), &http).await;
        let rp = relying_party(metadata.clone(), &registered);
        let old = sign_in(&before, &rp, &http, "alice", &[]).await;
        old.verified(&rp);
        assert_eq!(kids(&metadata), vec![kid_of(&old.raw_id_token())]);
        old
    });
    let old_kid = kid_of(&old.raw_id_token());

    let rotated = oauthctl(t.url(), &["keys", "rotate", SECRET_KEY, "--json"], None)
        .ok()
        .json();
    let new_kid = rotated["kid"].as_str().expect("the new kid").to_owned();
    assert_ne!(new_kid, old_kid);
    let listed = oauthctl(t.url(), &["keys", "list", "--json"], None)
        .ok()
        .json();
    let status = |kid: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid)
            .map(|k| k["status"].clone())
    };
    assert_eq!(status(&old_kid), Some(json!("retired")));
    assert_eq!(status(&new_kid), Some(json!("active")));

    // A running server caches its keys for up to a minute, timed by
    // `Instant`, which the test clock cannot move. A server started now on
    // the same database and secret (a restart, or another instance behind
    // the load balancer) reads them afresh.
    let after = TestServer::start(t);
    block_on(async {
        let metadata = discover(after.issuer(), &http).await;
        let published = kids(&metadata);
        assert!(published.contains(&old_kid), "{published:?}");
        assert!(published.contains(&new_kid), "{published:?}");

        // The old ID token still verifies against the JWKS published now.
        // Its iss names the first server's loopback address: both servers
        // are one deployment (one database, one secret) at two ports, so
        // the verifier takes the issuer the token was issued under and the
        // key set the deployment publishes now.
        let verifier = CoreIdTokenVerifier::new_confidential_client(
            ClientId::new(registered.id.clone()),
            ClientSecret::new(registered.secret.clone().unwrap()),
            IssuerUrl::new(before.issuer().to_owned()).unwrap(),
            metadata.jwks().clone(),
        )
        .set_allowed_algs(metadata.id_token_signing_alg_values_supported().clone());
        old.id_token()
            .claims(&verifier, &old.nonce)
            .unwrap_or_else(|e| panic!("the old ID token no longer verifies: {e:?}"));

        // New tokens are signed with the new key. (Both keys are younger
        // than the keyring's maturity here, so the active one signs; the
        // keyring's unit tests show an older key signing while a new one
        // propagates.)
        let rp = relying_party(metadata, &registered);
        let new = sign_in(&after, &rp, &http, "alice", &[]).await;
        new.verified(&rp);
        assert_eq!(kid_of(&new.raw_id_token()), new_kid);
    });
}

fn es256_id_tokens_from_a_cli_made_key_verify_with_the_library(t: &TestDb) {
    made_by_the_cli(
        t,
        SigningAlg::Es256,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        CoreJsonWebKeyType::EllipticCurve,
    );
}

fn eddsa_id_tokens_from_a_cli_made_key_verify_with_the_library(t: &TestDb) {
    made_by_the_cli(
        t,
        SigningAlg::EdDsa,
        CoreJwsSigningAlgorithm::EdDsa,
        CoreJsonWebKeyType::OctetKeyPair,
    );
}

/// `oauthctl keys rotate --alg ALG` on a fresh database, then a server
/// configured for ALG: its ID tokens and JWT access tokens are signed with
/// that key and verify with the library.
fn made_by_the_cli(
    t: &TestDb,
    alg: SigningAlg,
    jws: CoreJwsSigningAlgorithm,
    kty: CoreJsonWebKeyType,
) {
    let name = alg.as_str();
    let made = oauthctl(
        t.url(),
        &["keys", "rotate", "--alg", name, SECRET_KEY, "--json"],
        None,
    )
    .ok()
    .json();
    assert_eq!(made["alg"], name);
    let kid = made["kid"].as_str().expect("a kid").to_owned();

    let app = TestServer::start_with(t, |c| c.signing_alg = alg);
    app.user("alice");
    let registered = app.client_with(|m| m.access_token_format = AccessTokenFormat::Jwt);
    block_on(async {
        let http = Http::new();
        let metadata = discover(app.issuer(), &http).await;
        // RS256 is always offered too (OIDC Discovery §3); the configured
        // algorithm is the one that signs.
        assert_eq!(
            metadata.id_token_signing_alg_values_supported(),
            &vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, jws.clone()]
        );
        let key = metadata
            .jwks()
            .keys()
            .iter()
            .find(|k| k.key_id().map(|id| id.as_str()) == Some(kid.as_str()))
            .unwrap_or_else(|| panic!("the CLI's key {kid} is not published"));
        assert_eq!(key.key_type(), &kty);

        let rp = relying_party(metadata.clone(), &registered);
        let signed_in = sign_in(&app, &rp, &http, "alice", &[]).await;
        let claims = signed_in.verified(&rp);
        let raw = signed_in.raw_id_token();
        let header = jwt_part(&raw, 0);
        assert_eq!(header["alg"], name);
        assert_eq!(header["kid"].as_str(), Some(kid.as_str()));
        // at_hash with the algorithm's hash, by the library and by hand.
        let expected = half_hash(name, signed_in.access_token());
        assert_eq!(
            claims.access_token_hash().map(|h| h.as_str()),
            Some(expected.as_str())
        );
        let verifier = rp.id_token_verifier();
        let by_library = AccessTokenHash::from_token(
            signed_in.tokens.access_token(),
            signed_in.id_token().signing_alg().unwrap(),
            signed_in.id_token().signing_key(&verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(by_library.as_str(), expected);

        // The JWT access token is signed with the same key.
        let at_header = jwt_part(signed_in.access_token(), 0);
        assert_eq!(at_header["alg"], name);
        assert_eq!(at_header["kid"].as_str(), Some(kid.as_str()));
        verify_jws(&metadata, signed_in.access_token(), &jws);
    });
}

// ---- 5. no `none`, no secrets in the JWKS ----

fn alg_none_is_never_offered_and_the_jwks_holds_only_public_asymmetric_keys(t: &TestDb) {
    let app = TestServer::start(t);
    app.user("alice");
    let registered = app.client_with(|m| m.access_token_format = AccessTokenFormat::Jwt);
    block_on(async {
        for path in [
            "/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server",
        ] {
            let doc = read(app.backend().get(app.url(path)).send().await.unwrap())
                .await
                .json();
            let algs = doc["id_token_signing_alg_values_supported"]
                .as_array()
                .unwrap_or_else(|| panic!("{path}: no signing algorithms: {doc}"));
            assert!(!algs.is_empty(), "{path}: {doc}");
            for alg in algs {
                let alg = alg.as_str().unwrap();
                assert!(!alg.eq_ignore_ascii_case("none"), "{path} offers none");
                assert!(!alg.starts_with("HS"), "{path} offers a symmetric {alg}");
            }
            // No other *_alg_values_supported list offers none either.
            for (key, value) in doc.as_object().unwrap() {
                if key.ends_with("_alg_values_supported") {
                    let offers_none = value
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|a| a.as_str().is_some_and(|a| a.eq_ignore_ascii_case("none")));
                    assert!(!offers_none, "{path}: {key} offers none");
                }
            }

            let jwks_uri = doc["jwks_uri"].as_str().expect("a jwks_uri");
            let jwks = read(app.backend().get(jwks_uri).send().await.unwrap())
                .await
                .json();
            let keys = jwks["keys"].as_array().expect("a key list");
            assert!(!keys.is_empty());
            for key in keys {
                let kty = key["kty"].as_str().expect("a kty");
                assert!(matches!(kty, "RSA" | "EC" | "OKP"), "not asymmetric: {key}");
                for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
                    assert!(key.get(private).is_none(), "{private} published: {key}");
                }
                assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()), "{key}");
                assert_ne!(key["alg"], "none", "{key}");
            }
        }

        // Unsigned copies of real tokens are worthless: the server never
        // takes a JWT on its signature alone, and a standard client refuses
        // an unsigned ID token.
        let http = Http::new();
        let metadata = discover(app.issuer(), &http).await;
        let endpoints = metadata.additional_metadata().clone();
        let rp = relying_party(metadata, &registered);
        let signed_in = sign_in(&app, &rp, &http, "alice", &[]).await;
        let unsigned = |jws: &str| {
            let mut header = jwt_part(jws, 0);
            header["alg"] = "none".into();
            let payload = jws.split('.').nth(1).unwrap();
            format!(
                "{}.{payload}.",
                URL_SAFE_NO_PAD.encode(header.to_string().as_bytes())
            )
        };
        let forged = unsigned(signed_in.access_token());
        let reply = userinfo(&app, &forged).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        assert_eq!(
            introspect_raw(
                &app,
                &endpoints.introspection_endpoint,
                &registered,
                &forged
            )
            .await,
            json!({ "active": false })
        );
        let forged_id = CoreIdToken::from_str(&unsigned(&signed_in.raw_id_token()));
        if let Ok(forged_id) = forged_id {
            let verdict = forged_id.claims(&rp.id_token_verifier(), &signed_in.nonce);
            assert!(verdict.is_err(), "the library took an unsigned ID token");
        }
    });
}
