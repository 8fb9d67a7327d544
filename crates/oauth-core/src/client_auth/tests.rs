use rand::SeedableRng as _;
use rand::rngs::StdRng;

use super::*;
use crate::client::ClientMetadata;
use crate::redirect_uri::RedirectUri;
use crate::scope::ScopeSet;
use crate::time::Timestamp;

fn client(method: TokenEndpointAuthMethod) -> (Client, ClientSecret) {
    let secret = ClientSecret::generate(&mut StdRng::seed_from_u64(1));
    let mut metadata = ClientMetadata::new(
        "Demo",
        vec![RedirectUri::parse("https://a.example/cb").unwrap()],
        ScopeSet::parse("openid").unwrap(),
    );
    metadata.token_endpoint_auth_method = method;
    let client = Client {
        id: ClientId::parse("demo client").unwrap(),
        metadata,
        secret_digest: method.is_confidential().then(|| secret.digest()),
        previous_secret: None,
        created_at: Timestamp::from_unix(0),
        updated_at: Timestamp::from_unix(0),
    };
    (client, secret)
}

fn basic(id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

fn check(client: &Client, auth: Option<&str>, body: &str) -> Result<(), TokenError> {
    let p = presented(auth, &Params::parse(body))?;
    assert_eq!(p.client_id, client.id);
    authenticate(client, &p, Timestamp::from_unix(0))
}

#[test]
fn basic_clients_accept_basic_and_body() {
    let (c, s) = client(TokenEndpointAuthMethod::ClientSecretBasic);
    assert!(check(&c, Some(&basic("demo client", s.expose_secret())), "").is_ok());
    // Scheme names are case-insensitive; the id is form-decoded.
    let lower = basic("demo client", s.expose_secret()).replacen("Basic", "bAsIc", 1);
    assert!(check(&c, Some(&lower), "client_id=demo+client").is_ok());
    let body = format!("client_id=demo+client&client_secret={}", s.expose_secret());
    assert!(check(&c, None, &body).is_ok());
}

#[test]
fn wrong_secrets_are_invalid_client() {
    let (c, _) = client(TokenEndpointAuthMethod::ClientSecretBasic);
    let e = check(&c, Some(&basic("demo client", "wrong")), "").unwrap_err();
    assert_eq!(e.code, Code::InvalidClient);
    let e = check(&c, None, "client_id=demo+client").unwrap_err();
    assert_eq!(e.code, Code::InvalidClient);
}

#[test]
fn two_mechanisms_at_once_are_invalid_request() {
    let (_, s) = client(TokenEndpointAuthMethod::ClientSecretBasic);
    let body = format!("client_secret={}", s.expose_secret());
    let e = presented(
        Some(&basic("demo client", s.expose_secret())),
        &Params::parse(&body),
    )
    .unwrap_err();
    assert_eq!(e.code, Code::InvalidRequest);
    let e = presented(
        Some(&basic("demo client", s.expose_secret())),
        &Params::parse("client_id=other"),
    )
    .unwrap_err();
    assert_eq!(e.code, Code::InvalidRequest);
}

#[test]
fn post_clients_must_use_the_body() {
    let (c, s) = client(TokenEndpointAuthMethod::ClientSecretPost);
    assert_eq!(
        check(&c, Some(&basic("demo client", s.expose_secret())), "")
            .unwrap_err()
            .code,
        Code::InvalidClient
    );
    let body = format!("client_id=demo+client&client_secret={}", s.expose_secret());
    assert!(check(&c, None, &body).is_ok());
}

#[test]
fn public_clients_send_no_secret() {
    let (c, _) = client(TokenEndpointAuthMethod::None);
    assert!(check(&c, None, "client_id=demo+client").is_ok());
    assert_eq!(
        check(&c, None, "client_id=demo+client&client_secret=x")
            .unwrap_err()
            .code,
        Code::InvalidClient
    );
    assert_eq!(
        check(&c, Some(&basic("demo client", "x")), "")
            .unwrap_err()
            .code,
        Code::InvalidClient
    );
}

#[test]
fn missing_or_malformed_credentials() {
    assert_eq!(
        presented(None, &Params::parse("")).unwrap_err().code,
        Code::InvalidClient
    );
    for header in [
        "Basic",
        "Basic !!!",
        "Bearer abc",
        &format!("Basic {}", STANDARD.encode("no-colon")),
    ] {
        assert_eq!(
            presented(Some(header), &Params::parse(""))
                .unwrap_err()
                .code,
            Code::InvalidClient,
            "{header}"
        );
    }
    assert_eq!(
        presented(None, &Params::parse("client_id=a&client_id=b"))
            .unwrap_err()
            .code,
        Code::InvalidRequest
    );
}
