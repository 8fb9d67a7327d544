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

mod access_tokens;
mod id_token;
mod keys;
mod life_cycle;

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
    CoreClientAuthMethod, CoreGrantType, CoreIdToken, CoreIdTokenClaims, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType, CoreTokenResponse,
};
use openidconnect::{
    AdditionalProviderMetadata, AsyncHttpClient, AuthorizationCode, ClientId, ClientSecret,
    CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse, IssuerUrl,
    JsonWebKey as _, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge, ProviderMetadata,
    RedirectUrl, Scope, TokenResponse as _,
};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest as _, Sha256, Sha512};

use crate::support::*;

// ---- the relying party ----

/// The two endpoints the Core metadata type leaves out, read from the same
/// discovery document (the library's documented way to reach them).
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
pub(super) struct MoreEndpoints {
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
pub(super) struct Http(reqwest::Client);

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
pub(super) async fn discover(issuer: &str, http: &Http) -> Metadata {
    Metadata::discover_async(IssuerUrl::new(issuer.to_owned()).unwrap(), http)
        .await
        .unwrap_or_else(|e| panic!("discovery of {issuer} failed: {e:?}"))
}

/// The relying party for a registered client: only its id, secret and
/// redirect URI are given by hand.
pub(super) fn relying_party(metadata: Metadata, registered: &TestClient) -> Rp {
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(registered.id.clone()),
        registered.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(CB.to_owned()).unwrap())
}

/// What a completed code flow leaves the relying party with.
pub(super) struct SignIn {
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
pub(super) async fn sign_in(
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

pub(super) fn kid_of(jwt: &str) -> String {
    jwt_part(jwt, 0)["kid"]
        .as_str()
        .expect("a kid in the header")
        .to_owned()
}

/// The key ids of the discovered JWKS.
pub(super) fn kids(metadata: &Metadata) -> Vec<String> {
    metadata
        .jwks()
        .keys()
        .iter()
        .map(|k| k.key_id().expect("every key has a kid").as_str().to_owned())
        .collect()
}

/// OIDC Core §3.1.3.6: the base64url left half of the hash of the token's
/// ASCII, with the hash of the JWS algorithm (SHA-512 for Ed25519).
pub(super) fn half_hash(alg: &str, token: &str) -> String {
    let digest: Vec<u8> = match alg {
        "RS256" | "ES256" => Sha256::digest(token.as_bytes()).to_vec(),
        "EdDSA" => Sha512::digest(token.as_bytes()).to_vec(),
        other => panic!("no hash for {other}"),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// Verifies a compact JWS with the discovered key its `kid` names, through
/// the library's RustCrypto key code (not the server's jsonwebtoken).
pub(super) fn verify_jws(metadata: &Metadata, jws: &str, alg: &CoreJwsSigningAlgorithm) {
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
pub(super) fn audiences(aud: &Value) -> Vec<String> {
    match aud {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().expect("string audiences").to_owned())
            .collect(),
        other => panic!("aud is neither a string nor an array: {other}"),
    }
}

pub(super) fn unix_now() -> i64 {
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
pub(super) async fn revoke(
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
pub(super) async fn introspect_raw(
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
