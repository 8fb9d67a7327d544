//! RFC 9068 JWT access tokens, and revocation outranking their signature.

use std::str::FromStr as _;

use oauth_core::AccessTokenFormat;
use oauth_store::test_support::TestDb;
use openidconnect::core::{CoreIdToken, CoreJwsSigningAlgorithm, CoreUserInfoClaims};
use openidconnect::{
    ClaimsVerificationError, IntrospectionUrl, Nonce, OAuth2TokenResponse as _,
    TokenIntrospectionResponse as _,
};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

use super::{
    Http, audiences, discover, introspect_raw, jwt_part, kid_of, kids, relying_party, revoke,
    sign_in, unix_now, verify_jws,
};

oauth_store::test_on_both_backends!(
    jwt_access_tokens_follow_rfc_9068_and_revocation_outranks_their_signature,
);

// ---- 4. RFC 9068 access tokens ----

fn jwt_access_tokens_follow_rfc_9068_and_revocation_outranks_their_signature(t: &TestDb) {
    let app = TestServer::start(t);
    let user = app.user("alice");
    let registered = app.client_with(|m| m.access_token_format = AccessTokenFormat::Jwt);
    block_on(async {
        let http = Http::new();
        let metadata = discover(app.issuer(), &http).await;
        let endpoints = metadata.additional_metadata().clone();
        let rp = relying_party(metadata.clone(), &registered);
        let started = unix_now();
        let signed_in = sign_in(&app, &rp, &http, "alice", &["profile"]).await;
        let id_claims = signed_in.verified(&rp);
        let id_kid = kid_of(&signed_in.raw_id_token());
        let token = signed_in.access_token();

        // RFC 9068 §2.1: typ at+jwt, signed with the active key.
        let header = jwt_part(token, 0);
        assert_eq!(header["typ"], "at+jwt", "{header}");
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"].as_str(), Some(id_kid.as_str()));
        assert!(kids(&metadata).contains(&id_kid));
        // §2.2: the required claims.
        let claims = jwt_part(token, 1);
        assert_eq!(claims["iss"].as_str(), Some(app.issuer()), "{claims}");
        assert_eq!(audiences(&claims["aud"]), vec![app.issuer().to_owned()]);
        assert_eq!(claims["sub"].as_str(), Some(user.id.as_str()));
        assert_eq!(claims["client_id"].as_str(), Some(registered.id.as_str()));
        let iat = claims["iat"].as_i64().expect("a numeric iat");
        let exp = claims["exp"].as_i64().expect("a numeric exp");
        assert!(iat >= started - 5 && exp > iat, "{claims}");
        assert!(
            claims["jti"].as_str().is_some_and(|j| !j.is_empty()),
            "{claims}"
        );
        let mut scopes: Vec<&str> = claims["scope"].as_str().unwrap().split(' ').collect();
        scopes.sort_unstable();
        assert_eq!(scopes, ["openid", "profile"]);
        // Verified by the library's RustCrypto key code.
        verify_jws(
            &metadata,
            token,
            &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        );
        // Explicit typing works: a standard client will not take it for an
        // ID token (RFC 8725 §3.11).
        let as_id_token = CoreIdToken::from_str(token).unwrap();
        let refused = as_id_token
            .claims(&rp.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
            .unwrap_err();
        assert!(
            matches!(refused, ClaimsVerificationError::Unsupported(_)),
            "{refused:?}"
        );

        // It opens userinfo, through the library.
        let info: CoreUserInfoClaims = rp
            .user_info(
                signed_in.tokens.access_token().clone(),
                Some(id_claims.subject().clone()),
            )
            .unwrap()
            .request_async(&http)
            .await
            .unwrap_or_else(|e| panic!("userinfo refused the JWT: {e:?}"));
        assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("alice"));

        // Introspection through the library (it allows http here).
        let introspector = rp.clone().set_introspection_url(
            IntrospectionUrl::new(endpoints.introspection_endpoint.clone()).unwrap(),
        );
        let active = introspector
            .introspect(signed_in.tokens.access_token())
            .request_async(&http)
            .await
            .unwrap_or_else(|e| panic!("introspection failed: {e:?}"));
        assert!(active.active());
        assert_eq!(
            active.client_id().map(|c| c.as_str()),
            Some(registered.id.as_str())
        );
        assert_eq!(active.sub(), Some(user.id.as_str()));

        // Revoked at /oauth/revoke (raw: see `revoke`).
        assert_eq!(endpoints.revocation_endpoint, app.url("/oauth/revoke"));
        revoke(
            &app,
            &endpoints.revocation_endpoint,
            &registered,
            token,
            "access_token",
        )
        .await;
        assert_eq!(
            introspect_raw(&app, &endpoints.introspection_endpoint, &registered, token).await,
            json!({ "active": false })
        );
        let inactive = introspector
            .introspect(signed_in.tokens.access_token())
            .request_async(&http)
            .await
            .unwrap();
        assert!(!inactive.active());
        // The signature still verifies: it proves issuance, not liveness.
        verify_jws(
            &metadata,
            token,
            &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        );
        let refused = userinfo(&app, token).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    });
}
