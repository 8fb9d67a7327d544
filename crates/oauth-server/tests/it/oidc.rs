//! Interoperability with an independent OpenID Connect client: the
//! `openidconnect` crate (v4) plays the relying party. It discovers the
//! server from the issuer URL alone, builds the authorization request
//! (PKCE S256, nonce, state), redeems the code, refreshes, calls userinfo
//! and introspection, and validates ID tokens with its own verifier, whose
//! RS256, ES256 and EdDSA checks are RustCrypto's (`rsa`, `p256`,
//! `ed25519-dalek`), not the server's jsonwebtoken + aws-lc. Only the
//! browser's part (login and the consent page) is the test harness's.
//!
//! The library's HTTP client is ours ([`Http`], over the workspace's
//! reqwest 0.13, plain loopback HTTP), so no second reqwest or TLS stack
//! comes in. Each test runs on SQLite and on PostgreSQL.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::str::FromStr as _;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth_core::AccessTokenFormat;
use oauth_core::jose::SigningAlg;
use oauth_store::test_support::TestDb;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
    CoreClientAuthMethod, CoreErrorResponseType, CoreGrantType, CoreIdToken, CoreIdTokenClaims,
    CoreIdTokenVerifier, CoreJsonWebKey, CoreJsonWebKeyType, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType,
    CoreRevocableToken, CoreSubjectIdentifierType, CoreTokenResponse, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AdditionalProviderMetadata, AsyncHttpClient, AuthorizationCode,
    ClaimsVerificationError, ClientId, ClientSecret, ConfigurationError, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse, IntrospectionUrl,
    IssuerUrl, JsonWebKey as _, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge,
    ProviderMetadata, RedirectUrl, RequestTokenError, RevocationUrl, Scope,
    TokenIntrospectionResponse as _, TokenResponse as _,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256, Sha512};

use crate::support::*;

oauth_store::test_on_both_backends!(
    a_standard_oidc_client_needs_only_the_issuer_url,
    id_token_claims_are_what_oidc_core_requires,
    a_rotated_key_stays_published_and_new_tokens_carry_the_new_kid,
    es256_id_tokens_from_a_cli_made_key_verify_with_the_library,
    eddsa_id_tokens_from_a_cli_made_key_verify_with_the_library,
    jwt_access_tokens_follow_rfc_9068_and_revocation_outranks_their_signature,
    alg_none_is_never_offered_and_the_jwks_holds_only_public_asymmetric_keys,
);

/// The server secret [`TestServer`] uses, for `oauthctl keys rotate`.
const SECRET_KEY: &str = "--secret-key=test secret that is long enough for the rule";

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

// ---- the relying party ----

/// The two endpoints the Core metadata type leaves out, read from the same
/// discovery document (the library's documented way to reach them).
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
struct MoreEndpoints {
    revocation_endpoint: String,
    introspection_endpoint: String,
}

impl AdditionalProviderMetadata for MoreEndpoints {}

/// `CoreProviderMetadata` with [`MoreEndpoints`] as its additional metadata.
type Metadata = ProviderMetadata<
    MoreEndpoints,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// A client built from discovered metadata: authorization endpoint set,
/// token and userinfo endpoints as discovered.
type Rp = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The library's HTTP client: reqwest 0.13, never following redirects (as
/// the library advises, against SSRF).
struct Http(reqwest::Client);

impl Http {
    fn new() -> Self {
        Self(
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        )
    }
}

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, io::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(io::Error::other)?;
            let response = self.0.execute(request).await.map_err(io::Error::other)?;
            let mut answer = openidconnect::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                answer = answer.header(name, value);
            }
            let body = response.bytes().await.map_err(io::Error::other)?;
            answer.body(body.to_vec()).map_err(io::Error::other)
        })
    }
}

/// OpenID Connect Discovery from the issuer URL alone (and the JWKS it
/// names).
async fn discover(issuer: &str, http: &Http) -> Metadata {
    Metadata::discover_async(IssuerUrl::new(issuer.to_owned()).unwrap(), http)
        .await
        .unwrap_or_else(|e| panic!("discovery of {issuer} failed: {e:?}"))
}

/// The relying party for a registered client: only its id, secret and
/// redirect URI are given by hand.
fn relying_party(metadata: Metadata, registered: &TestClient) -> Rp {
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(registered.id.clone()),
        registered.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(CB.to_owned()).unwrap())
}

/// What a completed code flow leaves the relying party with.
struct SignIn {
    tokens: CoreTokenResponse,
    nonce: Nonce,
}

impl SignIn {
    fn id_token(&self) -> &CoreIdToken {
        self.tokens.id_token().expect("an ID token")
    }

    /// The ID token's compact serialisation.
    fn raw_id_token(&self) -> String {
        self.id_token().to_string()
    }

    fn access_token(&self) -> &str {
        self.tokens.access_token().secret()
    }

    /// The ID token's claims, checked by the library: signature from the
    /// discovered JWKS and algorithms, `iss`, `aud`, `azp`, `exp`, nonce.
    fn verified<'a>(&'a self, rp: &Rp) -> &'a CoreIdTokenClaims {
        self.id_token()
            .claims(&rp.id_token_verifier(), &self.nonce)
            .unwrap_or_else(|e| panic!("the library refused the ID token: {e:?}"))
    }
}

/// The authorization code flow as the library drives it: its
/// authorization URL (PKCE S256, nonce, state, `openid` plus `scopes`),
/// the harness's browser for login and Allow, the library's code
/// exchange.
async fn sign_in(
    app: &TestServer,
    rp: &Rp,
    http: &Http,
    username: &str,
    scopes: &[&str],
) -> SignIn {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in scopes {
        request = request.add_scope(Scope::new((*scope).to_owned()));
    }
    let (url, state, nonce) = request.url();
    assert!(
        url.as_str().starts_with(&app.url("/oauth/authorize?")),
        "the library built {url}"
    );
    let query = url.query().expect("a query");
    assert!(query.contains("code_challenge_method=S256"), "{query}");
    let params = app
        .browser()
        .authorize_and_allow(url.path(), query, username)
        .await;
    assert_eq!(param(&params, "state"), Some(state.secret().as_str()));
    // RFC 9207, as the metadata announces.
    assert_eq!(param(&params, "iss"), Some(app.issuer()));
    let code = param(&params, "code").expect("a code").to_owned();
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .expect("a token endpoint in the metadata")
        .set_pkce_verifier(verifier)
        .request_async(http)
        .await
        .unwrap_or_else(|e| panic!("the library's code exchange failed: {e:?}"));
    SignIn { tokens, nonce }
}

// ---- JOSE by hand (decoding only; verification is the library's) ----

/// The decoded JSON of part `i` (0 header, 1 payload) of a compact JWS.
fn jwt_part(jwt: &str, i: usize) -> Value {
    let part = jwt.split('.').nth(i).expect("a compact JWS");
    let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

fn kid_of(jwt: &str) -> String {
    jwt_part(jwt, 0)["kid"]
        .as_str()
        .expect("a kid in the header")
        .to_owned()
}

/// The key ids of the discovered JWKS.
fn kids(metadata: &Metadata) -> Vec<String> {
    metadata
        .jwks()
        .keys()
        .iter()
        .map(|k| k.key_id().expect("every key has a kid").as_str().to_owned())
        .collect()
}

/// OIDC Core §3.1.3.6: the base64url left half of the hash of the token's
/// ASCII, with the hash of the JWS algorithm (SHA-512 for Ed25519).
fn half_hash(alg: &str, token: &str) -> String {
    let digest: Vec<u8> = match alg {
        "RS256" | "ES256" => Sha256::digest(token.as_bytes()).to_vec(),
        "EdDSA" => Sha512::digest(token.as_bytes()).to_vec(),
        other => panic!("no hash for {other}"),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// Verifies a compact JWS with the discovered key its `kid` names, through
/// the library's RustCrypto key code (not the server's jsonwebtoken).
fn verify_jws(metadata: &Metadata, jws: &str, alg: &CoreJwsSigningAlgorithm) {
    let kid = kid_of(jws);
    let key = metadata
        .jwks()
        .keys()
        .iter()
        .find(|k| k.key_id().map(|id| id.as_str()) == Some(kid.as_str()))
        .unwrap_or_else(|| panic!("kid {kid} is not in the JWKS"));
    let (input, signature) = jws.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    key.verify_signature(alg, input.as_bytes(), &signature)
        .unwrap_or_else(|e| panic!("the signature does not verify: {e:?}"));
}

/// A JSON audience (string or array) as a list.
fn audiences(aud: &Value) -> Vec<String> {
    match aud {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().expect("string audiences").to_owned())
            .collect(),
        other => panic!("aud is neither a string nor an array: {other}"),
    }
}

fn unix_now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

// ---- raw HTTP, where the library cannot go ----

/// The client's credentials on a form request: HTTP Basic for a
/// confidential client, `client_id` in the body for a public one.
fn authenticated(
    req: reqwest::RequestBuilder,
    registered: &TestClient,
    form: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    match &registered.secret {
        Some(secret) => req
            .basic_auth(enc(&registered.id), Some(enc(secret)))
            .form(form),
        None => {
            let mut form = form.to_vec();
            form.push(("client_id", &registered.id));
            req.form(&form)
        }
    }
}

/// RFC 7009 revocation at the discovered endpoint. Raw HTTP: oauth2 5's
/// `revoke_token` refuses a non-https endpoint (RFC 7009 §2 has clients
/// check for HTTPS), and these tests run on plain loopback HTTP; the first
/// test shows the refusal.
async fn revoke(
    app: &TestServer,
    endpoint: &str,
    registered: &TestClient,
    token: &str,
    hint: &str,
) {
    let req = app.backend().post(endpoint);
    let form = [("token", token), ("token_type_hint", hint)];
    let reply = read(authenticated(req, registered, &form).send().await.unwrap()).await;
    assert_eq!(reply.status, StatusCode::OK, "revocation: {}", reply.body);
}

/// RFC 7662 introspection's raw answer, to see its exact JSON.
async fn introspect_raw(
    app: &TestServer,
    endpoint: &str,
    registered: &TestClient,
    token: &str,
) -> Value {
    let req = app.backend().post(endpoint);
    let reply = read(
        authenticated(req, registered, &[("token", token)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "introspection: {}",
        reply.body
    );
    reply.json()
}

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
