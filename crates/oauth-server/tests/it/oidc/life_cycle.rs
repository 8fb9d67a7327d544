//! The whole relying-party life cycle, driven by the library from the
//! issuer URL alone.

use oauth_store::test_support::TestDb;
use openidconnect::core::{CoreErrorResponseType, CoreRevocableToken, CoreUserInfoClaims};
use openidconnect::{
    AccessTokenHash, ConfigurationError, Nonce, OAuth2TokenResponse as _, RequestTokenError,
    RevocationUrl, TokenResponse as _,
};

use crate::support::*;

use super::{Http, discover, relying_party, revoke, sign_in, unix_now};

oauth_store::test_on_both_backends!(a_standard_oidc_client_needs_only_the_issuer_url);

// ---- 1. the whole relying-party life cycle ----

fn a_standard_oidc_client_needs_only_the_issuer_url(t: &TestDb) {
    let app = TestServer::start(t);
    app.user("alice");
    // A confidential client (client_secret_basic) and a public one (PKCE
    // alone); nothing else is configured by hand.
    for registered in [app.client(), app.public_client()] {
        block_on(relying_party_life_cycle(&app, &registered));
    }
}

async fn relying_party_life_cycle(app: &TestServer, registered: &TestClient) {
    let http = Http::new();
    let metadata = discover(app.issuer(), &http).await;
    assert_eq!(metadata.issuer().as_str(), app.issuer());
    assert!(!metadata.jwks().keys().is_empty(), "the JWKS was fetched");
    let endpoints = metadata.additional_metadata().clone();
    let rp = relying_party(metadata, registered);

    // Code flow, then the library's ID token validation.
    let first = sign_in(app, &rp, &http, "alice", &["profile", "email"]).await;
    let claims = first.verified(&rp);
    assert_eq!(claims.issuer().as_str(), app.issuer());
    assert_eq!(claims.audiences().len(), 1);
    assert_eq!(claims.audiences()[0].as_str(), registered.id);
    assert_eq!(
        claims.nonce().map(Nonce::secret),
        Some(first.nonce.secret())
    );
    assert!(claims.expiration().timestamp() > unix_now());
    let auth_time = claims.auth_time().expect("auth_time");
    // at_hash, as the library's documentation has relying parties check.
    let verifier = rp.id_token_verifier();
    let at_hash = AccessTokenHash::from_token(
        first.tokens.access_token(),
        first.id_token().signing_alg().unwrap(),
        first.id_token().signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&at_hash));

    // Userinfo through the library, bound to the ID token's subject.
    let info: CoreUserInfoClaims = rp
        .user_info(
            first.tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .expect("a userinfo endpoint in the metadata")
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("userinfo through the library failed: {e:?}"));
    assert_eq!(info.subject(), claims.subject());
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("alice"));

    // Refresh through the library: a new ID token that validates, the
    // same auth_time, no nonce (OIDC Core §12.2).
    let refresh = first
        .tokens
        .refresh_token()
        .expect("a refresh token")
        .clone();
    let refreshed = rp
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("refresh through the library failed: {e:?}"));
    let new_id_token = refreshed.id_token().expect("a refreshed ID token");
    let new_claims = new_id_token
        .claims(&verifier, |nonce: Option<&Nonce>| match nonce {
            None => Ok(()),
            Some(_) => Err("a refreshed ID token carries a nonce".to_owned()),
        })
        .unwrap_or_else(|e| panic!("the library refused the refreshed ID token: {e:?}"));
    assert_eq!(new_claims.auth_time(), Some(auth_time));
    assert_eq!(new_claims.subject(), claims.subject());
    let new_at_hash = AccessTokenHash::from_token(
        refreshed.access_token(),
        new_id_token.signing_alg().unwrap(),
        new_id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(new_claims.access_token_hash(), Some(&new_at_hash));
    let new_refresh = refreshed
        .refresh_token()
        .expect("a rotated refresh token")
        .clone();
    assert_ne!(new_refresh.secret(), refresh.secret());

    // The library will not revoke over http (see `revoke`)...
    let refused = rp
        .clone()
        .set_revocation_url(RevocationUrl::new(endpoints.revocation_endpoint.clone()).unwrap())
        .revoke_token(CoreRevocableToken::from(new_refresh.clone()))
        .err();
    assert!(
        matches!(refused, Some(ConfigurationError::InsecureUrl(_))),
        "{refused:?}"
    );
    // ...so the revocation itself is a raw RFC 7009 request.
    revoke(
        app,
        &endpoints.revocation_endpoint,
        registered,
        new_refresh.secret(),
        "refresh_token",
    )
    .await;

    // The revoked refresh token no longer works, as the library sees it.
    match rp
        .exchange_refresh_token(&new_refresh)
        .unwrap()
        .request_async(&http)
        .await
    {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(*e.error(), CoreErrorResponseType::InvalidGrant, "{e:?}");
        }
        other => panic!("a revoked refresh token was answered with {other:?}"),
    }
    // Nor does the access token of its grant.
    let after = rp
        .user_info(refreshed.access_token().clone(), None)
        .unwrap()
        .request_async::<openidconnect::EmptyAdditionalClaims, _, openidconnect::core::CoreGenderClaim>(&http)
        .await;
    assert!(after.is_err(), "userinfo still answered: {after:?}");
}
