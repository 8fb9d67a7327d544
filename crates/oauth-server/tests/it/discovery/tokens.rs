//! What the documents claim of ID tokens and userinfo: the claims
//! supported and the signing algorithms, which match the JWKS.

use std::collections::BTreeSet;

use oauth_core::jose::SigningAlg;
use oauth_core::{Picture, ScopeSet};
use oauth_store::test_support::TestDb;
use reqwest::StatusCode;

use crate::support::*;

use super::{get, list, metadata, s};

oauth_store::test_on_both_backends!(
    claims_supported_covers_every_claim_of_id_tokens_and_userinfo,
    signing_algs_are_those_of_the_jwks_and_never_none,
    with_es256_configured_the_signing_algs_still_match_the_jwks,
    rs256_is_advertised_and_published_even_with_es256_configured,
);

fn claims_supported_covers_every_claim_of_id_tokens_and_userinfo(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        app.user_with("alice", |u| {
            u.email_verified = true;
            u.picture = Some(Picture::parse("https://example.com/alice.png").unwrap());
        });
        let client =
            app.client_with(|m| m.scopes = ScopeSet::parse("openid profile email roles").unwrap());
        let scope = enc("openid profile email roles");
        let code = code_for(&app, &client, &format!("scope={scope}&state=s&nonce=n-1")).await;
        let reply = exchange_code(&app, &client, &code, &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let tokens = reply.json();
        let id_token = jwt_part(s(&tokens, "id_token"), 1);
        let info = userinfo(&app, s(&tokens, "access_token")).await;
        assert_eq!(info.status, StatusCode::OK, "{}", info.body);
        let info = info.json();

        let doc = metadata(&app).await;
        let supported: BTreeSet<&str> = list(&doc, "claims_supported").into_iter().collect();
        let mut seen = BTreeSet::new();
        for json in [&id_token, &info] {
            seen.extend(json.as_object().unwrap().keys().map(String::as_str));
        }
        let missing: Vec<_> = seen.difference(&supported).collect();
        assert!(
            missing.is_empty(),
            "claims seen but not in claims_supported: {missing:?}"
        );
        // The flow did release the claims it should have, so the check
        // above covered them.
        for claim in [
            "sub",
            "nonce",
            "name",
            "preferred_username",
            "picture",
            "email",
            "email_verified",
            "roles",
        ] {
            assert!(seen.contains(claim), "{claim} was not released: {seen:?}");
        }
    });
}

fn signing_algs_are_those_of_the_jwks_and_never_none(t: &TestDb) {
    block_on(async {
        let app = TestServer::start(t);
        assert_algs_match_jwks(&app, "RS256").await;
    });
}

fn with_es256_configured_the_signing_algs_still_match_the_jwks(t: &TestDb) {
    block_on(async {
        let app = TestServer::start_with(t, |c| c.signing_alg = SigningAlg::Es256);
        assert_algs_match_jwks(&app, "ES256").await;
    });
}

/// OpenID Connect Discovery 1.0 §3, `id_token_signing_alg_values_supported`:
/// "The algorithm RS256 MUST be included." A relying party that supports
/// only RS256 must still be served when the operator prefers ES256.
fn rs256_is_advertised_and_published_even_with_es256_configured(t: &TestDb) {
    block_on(async {
        let app = TestServer::start_with(t, |c| c.signing_alg = SigningAlg::Es256);
        let doc = metadata(&app).await;
        let algs = list(&doc, "id_token_signing_alg_values_supported");
        assert!(
            algs.contains(&"RS256"),
            "RS256 must be among id_token_signing_alg_values_supported: {algs:?}"
        );
        let jwks = get(&app, s(&doc, "jwks_uri")).await.json();
        assert!(
            jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["alg"] == "RS256"),
            "no RS256 key in the JWKS: {jwks}"
        );
    });
}

/// The advertised algorithms are exactly those of the JWKS keys, never
/// `none`, and ID tokens are signed with `expected` by a key in the JWKS.
async fn assert_algs_match_jwks(app: &TestServer, expected: &str) {
    let doc = metadata(app).await;
    let algs: BTreeSet<&str> = list(&doc, "id_token_signing_alg_values_supported")
        .into_iter()
        .collect();
    assert!(!algs.contains("none"), "{algs:?}");
    assert!(algs.contains(expected), "{algs:?}");
    let jwks = get(app, s(&doc, "jwks_uri")).await;
    assert_eq!(jwks.status, StatusCode::OK, "{}", jwks.body);
    let jwks = jwks.json();
    let keys = jwks["keys"].as_array().expect("keys");
    let key_algs: BTreeSet<&str> = keys
        .iter()
        .map(|k| k["alg"].as_str().unwrap_or_else(|| panic!("no alg: {k}")))
        .collect();
    assert_eq!(algs, key_algs, "{jwks}");
    let kids: BTreeSet<&str> = keys.iter().filter_map(|k| k["kid"].as_str()).collect();
    for key in keys {
        assert!(key.get("d").is_none(), "a private key is published: {key}");
    }

    app.user("alice");
    let client = app.client();
    let tokens = tokens_for(app, &client, "alice", "openid").await;
    let header = jwt_part(s(&tokens, "id_token"), 0);
    assert_eq!(header["alg"], expected, "{header}");
    let kid = header["kid"].as_str().expect("a kid");
    assert!(kids.contains(kid), "{kid} is not in the JWKS: {jwks}");
}
