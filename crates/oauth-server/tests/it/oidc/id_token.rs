//! The ID token's claims, byte for byte, as OpenID Connect Core requires.

use std::str::FromStr as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth_store::test_support::TestDb;
use openidconnect::ClaimsVerificationError;
use openidconnect::core::CoreIdToken;

use crate::support::*;

use super::{
    Http, audiences, discover, half_hash, jwt_part, kids, relying_party, sign_in, unix_now,
};

oauth_store::test_on_both_backends!(id_token_claims_are_what_oidc_core_requires);

/// Claims that only the `profile`, `email` or `roles` scopes release.
const SCOPED_CLAIMS: [&str; 9] = [
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "picture",
    "updated_at",
    "email",
    "email_verified",
    "roles",
];

// ---- 2. the ID token's claims, byte for byte ----

fn id_token_claims_are_what_oidc_core_requires(t: &TestDb) {
    let app = TestServer::start(t);
    let user = app.user("alice");
    let registered = app.client();
    block_on(async {
        let http = Http::new();
        let metadata = discover(app.issuer(), &http).await;
        let published = kids(&metadata);
        let rp = relying_party(metadata, &registered);
        let started = unix_now();

        let full = sign_in(&app, &rp, &http, "alice", &["profile", "email"]).await;
        full.verified(&rp);
        let raw = full.raw_id_token();
        let header = jwt_part(&raw, 0);
        let claims = jwt_part(&raw, 1);

        // Header: RS256 by default, no typ or "JWT", a published kid.
        assert_eq!(header["alg"], "RS256");
        assert!(
            header.get("typ").is_none() || header["typ"] == "JWT",
            "{header}"
        );
        let kid = header["kid"].as_str().expect("a kid");
        assert!(
            published.iter().any(|k| k == kid),
            "{kid} not in {published:?}"
        );

        // iss is the issuer byte for byte (no trailing slash added).
        assert_eq!(claims["iss"].as_str(), Some(app.issuer()), "{claims}");
        assert_eq!(audiences(&claims["aud"]), vec![registered.id.clone()]);
        assert_eq!(claims["azp"].as_str(), Some(registered.id.as_str()));
        assert_eq!(claims["sub"].as_str(), Some(user.id.as_str()));
        let iat = claims["iat"].as_i64().expect("a numeric iat");
        let exp = claims["exp"].as_i64().expect("a numeric exp");
        assert!(exp > iat, "{claims}");
        assert!(iat >= started - 5 && iat <= unix_now() + 5, "{claims}");
        let auth_time = claims["auth_time"].as_i64().expect("a numeric auth_time");
        assert!(auth_time <= iat && auth_time >= started - 5, "{claims}");
        assert_eq!(claims["nonce"].as_str(), Some(full.nonce.secret().as_str()));
        // at_hash, computed here with sha2 (OIDC Core §3.1.3.6).
        assert_eq!(
            claims["at_hash"].as_str(),
            Some(half_hash("RS256", full.access_token()).as_str())
        );
        // A control: the same token with another sub is refused, so the
        // library really checks the signature with the discovered key.
        let mut altered = claims.clone();
        altered["sub"] = "mallory".into();
        let (signing_input, signature) = raw.rsplit_once('.').unwrap();
        let header_part = signing_input.split('.').next().unwrap();
        let tampered = format!(
            "{header_part}.{}.{signature}",
            URL_SAFE_NO_PAD.encode(altered.to_string().as_bytes())
        );
        let refused = CoreIdToken::from_str(&tampered)
            .unwrap()
            .claims(&rp.id_token_verifier(), &full.nonce)
            .map(|_| ())
            .unwrap_err();
        assert!(
            matches!(refused, ClaimsVerificationError::SignatureVerification(_)),
            "{refused:?}"
        );
        // profile and email were granted.
        assert_eq!(claims["name"], "Alice Liddell");
        assert_eq!(claims["preferred_username"], "alice");
        assert_eq!(claims["email"], "alice@example.com");
        assert_eq!(claims["email_verified"], false);

        // openid alone: none of the scoped claims.
        let bare = sign_in(&app, &rp, &http, "alice", &[]).await;
        bare.verified(&rp);
        let claims = jwt_part(&bare.raw_id_token(), 1);
        for name in SCOPED_CLAIMS {
            assert!(
                claims.get(name).is_none(),
                "{name} without its scope: {claims}"
            );
        }

        // profile without email: the profile claims only.
        let profile = sign_in(&app, &rp, &http, "alice", &["profile"]).await;
        profile.verified(&rp);
        let claims = jwt_part(&profile.raw_id_token(), 1);
        assert_eq!(claims["name"], "Alice Liddell");
        assert!(claims.get("email").is_none(), "{claims}");
        assert!(claims.get("email_verified").is_none(), "{claims}");
    });
}
