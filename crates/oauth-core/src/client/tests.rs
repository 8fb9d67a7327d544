use super::*;

fn meta() -> ClientMetadata {
    ClientMetadata::new(
        "Demo",
        vec![RedirectUri::parse("http://localhost:3000/oauth_code").unwrap()],
        ScopeSet::parse("openid project").unwrap(),
    )
}

#[test]
fn defaults_validate_and_fill_the_default_redirect() {
    let m = meta().validate().unwrap();
    assert_eq!(
        m.default_redirect_uri.as_ref().unwrap().as_str(),
        "http://localhost:3000/oauth_code"
    );
    assert_eq!(m.response_types(), vec![ResponseType::Code]);
    assert!(!m.is_public());
}

#[test]
fn names_are_trimmed_and_bounded() {
    let mut m = meta();
    m.name = "  Demo  ".into();
    assert_eq!(m.validate().unwrap().name, "Demo");
    let mut m = meta();
    m.name = " ".into();
    assert!(m.validate().is_err());
    let mut m = meta();
    m.name = "a\u{1b}[31m".into();
    assert!(m.validate().is_err());
}

#[test]
fn refresh_needs_authorization_code() {
    let mut m = meta();
    m.grant_types = vec![GrantType::RefreshToken];
    assert_eq!(m.validate().unwrap_err().what(), "grant types");
}

#[test]
fn public_clients_cannot_use_client_credentials_or_plain_pkce() {
    let mut m = meta();
    m.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
    m.grant_types.push(GrantType::ClientCredentials);
    assert!(m.validate().is_err());
    let mut m = meta();
    m.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
    m.allow_plain_pkce = true;
    assert!(m.validate().is_err());
}

#[test]
fn redirecting_grants_need_a_redirect_uri() {
    let mut m = meta();
    m.redirect_uris.clear();
    assert_eq!(m.validate().unwrap_err().what(), "redirect URIs");
    let mut m = meta();
    m.redirect_uris.clear();
    m.grant_types = vec![GrantType::ClientCredentials];
    assert!(m.validate().is_ok());
}

#[test]
fn default_redirect_must_be_registered() {
    let mut m = meta();
    m.default_redirect_uri = Some(RedirectUri::parse("https://elsewhere.example/cb").unwrap());
    assert_eq!(m.validate().unwrap_err().what(), "default redirect URI");
}

#[test]
fn lists_are_deduplicated() {
    let mut m = meta();
    m.grant_types = vec![
        GrantType::RefreshToken,
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
    ];
    m.redirect_uris.push(m.redirect_uris[0].clone());
    let m = m.validate().unwrap();
    assert_eq!(
        m.grant_types,
        vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
    );
    assert_eq!(m.redirect_uris.len(), 1);
}

#[test]
fn implicit_allows_the_token_response_type() {
    let mut m = meta();
    m.grant_types.push(GrantType::Implicit);
    assert_eq!(
        m.validate().unwrap().response_types(),
        vec![ResponseType::Code, ResponseType::Token]
    );
}

#[test]
fn uris_and_scopes_are_checked() {
    let mut m = meta();
    m.logo_uri = Some("javascript:alert(1)".into());
    assert_eq!(m.validate().unwrap_err().what(), "logo_uri");
    let mut m = meta();
    m.scopes = ScopeSet::empty();
    assert_eq!(m.validate().unwrap_err().what(), "scopes");
}

#[test]
fn wire_enums_parse_and_explain() {
    assert_eq!(
        GrantType::parse("client_credentials").unwrap(),
        GrantType::ClientCredentials
    );
    let err = GrantType::parse("password").unwrap_err();
    assert!(err.to_string().contains("authorization_code"), "{err}");
    assert_eq!(
        TokenEndpointAuthMethod::parse("none").unwrap(),
        TokenEndpointAuthMethod::None
    );
    assert_eq!(AccessTokenFormat::parse("jwt").unwrap().as_str(), "jwt");
}

#[test]
fn allowed_roles() {
    let client = Client {
        id: ClientId::parse("c").unwrap(),
        metadata: ClientMetadata {
            allowed_roles: vec![Role::parse("Projects User").unwrap()],
            ..meta()
        },
        secret_digest: None,
        previous_secret: None,
        created_at: Timestamp::from_unix(0),
        updated_at: Timestamp::from_unix(0),
    };
    assert!(client.admits_roles(&[Role::parse("Projects User").unwrap()]));
    assert!(!client.admits_roles(&[Role::parse("Guest").unwrap()]));
    assert!(!client.admits_roles(&[]));
    let open = Client {
        metadata: meta(),
        ..client
    };
    assert!(open.admits_roles(&[]));
}

#[test]
fn a_rotated_secret_works_only_within_its_grace_period() {
    use rand::SeedableRng as _;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let t0 = Timestamp::from_unix(1_000);
    let (mut client, first) = Client::create(meta().validate().unwrap(), &mut rng, t0);
    let first = first.unwrap();
    let second = ClientSecret::generate(&mut rng);
    client.rotate_secret(&second, Some(std::time::Duration::from_secs(60)), t0);
    let at = |s: i64| Timestamp::from_unix(1_000 + s);
    assert!(client.secret_matches(second.expose_secret(), at(0)));
    assert!(client.secret_matches(first.expose_secret(), at(59)));
    assert!(!client.secret_matches(first.expose_secret(), at(60)));
    assert!(!client.secret_matches("something else", at(0)));
    // A rotation without grace ends the new old secret and the earlier one.
    let third = ClientSecret::generate(&mut rng);
    client.rotate_secret(&third, None, at(1));
    assert_eq!(client.previous_secret, None);
    assert!(!client.secret_matches(first.expose_secret(), at(1)));
    assert!(!client.secret_matches(second.expose_secret(), at(1)));
    assert!(client.secret_matches(third.expose_secret(), at(1)));
    // A zero grace is no grace.
    let fourth = ClientSecret::generate(&mut rng);
    client.rotate_secret(&fourth, Some(std::time::Duration::ZERO), at(2));
    assert_eq!(client.previous_secret, None);
}
