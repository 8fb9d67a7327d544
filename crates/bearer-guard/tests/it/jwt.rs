//! JWT mode's defences (RFC 8725, RFC 9068 §4): forged tokens against the
//! real server's keys, and against an issuer of our own whose keys we
//! control (a real server signs with a new key only minutes after adding
//! it, too slow for rotation tests). Each attack has a control: the same
//! token without the attack passes, so the refusal is the attack's doing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use actix_web::{HttpResponse, web};
use base64::Engine as _;
use bearer_guard::{BearerGuard, CacheConfig, JwtVerifier};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use oauth_core::Timestamp;
use oauth_core::jose::{SigningAlg, SigningKey};
use reqwest::StatusCode;

use crate::support::{Fixture, Mode, Served, assert_invalid_token, block_on, get_with, guarded};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes part `i` of a compact JWS.
fn part(jwt: &str, i: usize) -> serde_json::Value {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jwt.split('.').nth(i).unwrap())
        .unwrap();
    serde_json::from_slice(&raw).unwrap()
}

/// Signs `claims` with `key` (ES256) under `header`.
fn sign_with(key: &SigningKey, header: &Header, claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(header, claims, &EncodingKey::from_ec_der(key.pkcs8())).unwrap()
}

fn es256(kid: &str) -> SigningKey {
    SigningKey::generate(SigningAlg::Es256, kid.to_owned()).unwrap()
}

fn at_jwt_header(kid: &str) -> Header {
    let mut h = Header::new(Algorithm::ES256);
    h.typ = Some("at+jwt".to_owned());
    h.kid = Some(kid.to_owned());
    h
}

fn now() -> i64 {
    Timestamp::from_system(SystemTime::now()).unix()
}

#[test]
fn forged_tokens_against_the_real_issuers_keys_are_401() {
    block_on(async {
        let fx = Fixture::shared();
        let app = guarded(fx.builder(Mode::Jwt, None).build());
        let real = fx.cc_token(&fx.jwt_app).await;
        // Control: the real token passes.
        assert_eq!(
            get_with(&app.url("/any"), &real).await.status,
            StatusCode::OK
        );
        let header = part(&real, 0);
        let claims = part(&real, 1);
        let kid = header["kid"].as_str().expect("a kid").to_owned();
        let jwks: serde_json::Value = reqwest::get(format!("{}/oauth/jwks", fx.base()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .expect("the token's key is published")
            .clone();
        let unknown = assert_invalid_token(&get_with(&app.url("/any"), "not-a-token").await);

        let mut forged = Vec::new();
        // alg: none, with the real claims and kid.
        for alg in ["none", "None", "NONE"] {
            let h = serde_json::json!({"alg": alg, "typ": "at+jwt", "kid": kid});
            forged.push((
                format!("alg {alg}"),
                format!(
                    "{}.{}.",
                    b64(h.to_string().as_bytes()),
                    b64(claims.to_string().as_bytes())
                ),
            ));
        }
        // HS256 keyed with the issuer's public key (the classic confusion),
        // in the forms a confused verifier might use as the secret.
        let mut secrets = vec![jwk.to_string().into_bytes()];
        for member in ["n", "x"] {
            if let Some(v) = jwk[member].as_str() {
                secrets.push(v.as_bytes().to_vec());
                secrets.push(
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(v)
                        .unwrap(),
                );
            }
        }
        for (i, secret) in secrets.iter().enumerate() {
            let mut h = Header::new(Algorithm::HS256);
            h.typ = Some("at+jwt".to_owned());
            h.kid = Some(kid.clone());
            let t = jsonwebtoken::encode(&h, &claims, &EncodingKey::from_secret(secret).unwrap())
                .unwrap();
            forged.push((format!("HS256 with public key form {i}"), t));
        }
        // Our own key, claiming the issuer's kid.
        let own = es256(&kid);
        forged.push((
            "own key, issuer's kid".to_owned(),
            sign_with(&own, &at_jwt_header(&kid), &claims),
        ));
        // The real signature over altered claims.
        let mut widened = claims.clone();
        widened["scope"] = "project admin".into();
        let parts: Vec<&str> = real.split('.').collect();
        forged.push((
            "altered claims".to_owned(),
            format!(
                "{}.{}.{}",
                parts[0],
                b64(widened.to_string().as_bytes()),
                parts[2]
            ),
        ));
        for (what, token) in forged {
            let reply = get_with(&app.url("/any"), &token).await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{what} was accepted: {}",
                reply.body
            );
            assert_eq!(assert_invalid_token(&reply), unknown, "{what}");
        }
    });
}

/// An issuer of our own: metadata naming itself and its JWKS, keys we
/// add at will, and a count of JWKS fetches.
struct OwnIssuer {
    served: Served,
    keys: Arc<Mutex<Vec<serde_json::Value>>>,
    fetches: Arc<AtomicUsize>,
}

impl OwnIssuer {
    fn start() -> Self {
        let keys: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
        let fetches = Arc::new(AtomicUsize::new(0));
        let base: Arc<Mutex<String>> = Arc::default();
        let served = {
            let (keys, fetches, base) = (keys.clone(), fetches.clone(), base.clone());
            Served::start(move |cfg| {
                let base = base.clone();
                let keys = keys.clone();
                let fetches = fetches.clone();
                cfg.route(
                    "/.well-known/oauth-authorization-server",
                    web::get().to(move || {
                        let b = base.lock().unwrap().clone();
                        async move {
                            HttpResponse::Ok().json(serde_json::json!({
                                "issuer": b,
                                "jwks_uri": format!("{b}/jwks"),
                            }))
                        }
                    }),
                )
                .route(
                    "/jwks",
                    web::get().to(move || {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        let set = keys.lock().unwrap().clone();
                        async move { HttpResponse::Ok().json(serde_json::json!({ "keys": set })) }
                    }),
                );
            })
        };
        *base.lock().unwrap() = served.base.clone();
        Self {
            served,
            keys,
            fetches,
        }
    }

    fn base(&self) -> &str {
        &self.served.base
    }

    fn publish(&self, key: &SigningKey) {
        self.keys.lock().unwrap().push(key.public_jwk().unwrap());
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// RFC 9068 claims from this issuer.
    fn claims(&self) -> serde_json::Value {
        serde_json::json!({
            "iss": self.base(),
            "sub": "user-1",
            "client_id": "client-1",
            "aud": "https://api.example",
            "scope": "project",
            "iat": now(),
            "exp": now() + 600,
            "jti": format!("{:x}", rand::random::<u64>()),
        })
    }

    /// A guard over this issuer with the cache off, so that every request
    /// reaches the verifier.
    fn guard(&self, min_refresh: Duration) -> BearerGuard {
        BearerGuard::builder(
            JwtVerifier::new(self.base())
                .unwrap()
                .min_refresh(min_refresh),
        )
        .cache(CacheConfig {
            max_entries: 0,
            ..CacheConfig::default()
        })
        .build()
    }
}

#[test]
fn header_and_claim_attacks_with_a_published_key_are_401() {
    block_on(async {
        let issuer = OwnIssuer::start();
        let key = es256("k1");
        issuer.publish(&key);
        let app = guarded(issuer.guard(Duration::from_secs(30)));
        let ok = sign_with(&key, &at_jwt_header("k1"), &issuer.claims());
        let reply = get_with(&app.url("/any"), &ok).await;
        assert_eq!(reply.status, StatusCode::OK, "control: {}", reply.body);
        assert_eq!(reply.json()["subject"], "user-1");

        let mut cases: Vec<(&str, String)> = Vec::new();
        for (name, url) in [
            ("jku", format!("{}/jwks", issuer.base())),
            ("x5u", format!("{}/cert.pem", issuer.base())),
        ] {
            let mut h = at_jwt_header("k1");
            if name == "jku" {
                h.jku = Some(url);
            } else {
                h.x5t = None;
                h.x5c = None;
                // jsonwebtoken's Header has no x5u: write the header by hand.
                let mut json = serde_json::to_value(&h).unwrap();
                json["x5u"] = url.into();
                let signing_input = format!(
                    "{}.{}",
                    b64(json.to_string().as_bytes()),
                    b64(issuer.claims().to_string().as_bytes())
                );
                let sig = jsonwebtoken::crypto::sign(
                    signing_input.as_bytes(),
                    &EncodingKey::from_ec_der(key.pkcs8()),
                    Algorithm::ES256,
                )
                .unwrap();
                cases.push(("x5u header", format!("{signing_input}.{sig}")));
                continue;
            }
            cases.push(("jku header", sign_with(&key, &h, &issuer.claims())));
        }
        let mut typ_jwt = at_jwt_header("k1");
        typ_jwt.typ = Some("JWT".to_owned());
        cases.push(("typ JWT", sign_with(&key, &typ_jwt, &issuer.claims())));
        let mut no_typ = at_jwt_header("k1");
        no_typ.typ = None;
        cases.push(("no typ", sign_with(&key, &no_typ, &issuer.claims())));
        let mut other_iss = issuer.claims();
        other_iss["iss"] = "https://evil.example".into();
        cases.push((
            "another iss",
            sign_with(&key, &at_jwt_header("k1"), &other_iss),
        ));
        let mut expired = issuer.claims();
        expired["exp"] = (now() - 3600).into();
        cases.push(("expired", sign_with(&key, &at_jwt_header("k1"), &expired)));
        let mut id_token = issuer.claims();
        id_token.as_object_mut().unwrap().remove("client_id");
        id_token["azp"] = "client-1".into();
        id_token["nonce"] = "n".into();
        cases.push((
            "ID token claims",
            sign_with(&key, &at_jwt_header("k1"), &id_token),
        ));
        let mut nonce = issuer.claims();
        nonce["nonce"] = "n".into();
        cases.push(("a nonce", sign_with(&key, &at_jwt_header("k1"), &nonce)));
        let mut no_sub = issuer.claims();
        no_sub.as_object_mut().unwrap().remove("sub");
        cases.push(("no sub", sign_with(&key, &at_jwt_header("k1"), &no_sub)));
        for (what, token) in cases {
            let reply = get_with(&app.url("/any"), &token).await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{what} was accepted: {}",
                reply.body
            );
            assert_invalid_token(&reply);
        }
    });
}

#[test]
fn a_new_kid_is_accepted_after_one_jwks_refetch() {
    block_on(async {
        let issuer = OwnIssuer::start();
        let k1 = es256("k1");
        issuer.publish(&k1);
        let min_refresh = Duration::from_millis(300);
        let app = guarded(issuer.guard(min_refresh));
        let t1 = sign_with(&k1, &at_jwt_header("k1"), &issuer.claims());
        assert_eq!(get_with(&app.url("/any"), &t1).await.status, StatusCode::OK);
        assert_eq!(get_with(&app.url("/any"), &t1).await.status, StatusCode::OK);
        assert_eq!(issuer.fetches(), 1, "the key set is fetched once");

        // The issuer rotates: a token signed with the new key is accepted
        // after one refetch (once min_refresh has passed since the last).
        let k2 = es256("k2");
        issuer.publish(&k2);
        tokio::time::sleep(min_refresh + Duration::from_millis(50)).await;
        let t2 = sign_with(&k2, &at_jwt_header("k2"), &issuer.claims());
        let reply = get_with(&app.url("/any"), &t2).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(issuer.fetches(), 2);
        // Both keys now work without another fetch.
        assert_eq!(get_with(&app.url("/any"), &t1).await.status, StatusCode::OK);
        assert_eq!(get_with(&app.url("/any"), &t2).await.status, StatusCode::OK);
        assert_eq!(issuer.fetches(), 2);
    });
}

#[test]
fn a_flood_of_unknown_kids_makes_at_most_one_jwks_fetch_per_min_refresh() {
    block_on(async {
        let issuer = OwnIssuer::start();
        let k1 = es256("k1");
        issuer.publish(&k1);
        let app = guarded(issuer.guard(Duration::from_secs(30)));
        let t1 = sign_with(&k1, &at_jwt_header("k1"), &issuer.claims());
        assert_eq!(get_with(&app.url("/any"), &t1).await.status, StatusCode::OK);
        assert_eq!(issuer.fetches(), 1);

        // Unpublished keys, each with its own kid, sequentially and at once.
        let attacker = es256("x");
        let forged: Vec<String> = (0..40)
            .map(|i| {
                sign_with(
                    &attacker,
                    &at_jwt_header(&format!("unknown-{i}")),
                    &issuer.claims(),
                )
            })
            .collect();
        for token in &forged[..10] {
            assert_invalid_token(&get_with(&app.url("/any"), token).await);
        }
        let url = app.url("/any");
        let replies = futures_join(forged[10..].iter().map(|t| {
            let url = url.clone();
            let t = t.clone();
            async move { get_with(&url, &t).await }
        }))
        .await;
        for reply in &replies {
            assert_invalid_token(reply);
        }
        assert_eq!(
            issuer.fetches(),
            1,
            "unknown kids within min_refresh of the last fetch must not refetch"
        );
        // And the known key still works.
        assert_eq!(get_with(&app.url("/any"), &t1).await.status, StatusCode::OK);
    });
}

/// Runs futures concurrently on the runtime and collects their outputs.
pub async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
