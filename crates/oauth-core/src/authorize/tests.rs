use super::*;
use crate::client::{ClientMetadata, TokenEndpointAuthMethod};
use crate::pkce::CodeVerifier;

const CB: &str = "http://localhost:3000/oauth_code";

fn client() -> Client {
    let metadata = ClientMetadata::new(
        "Demo",
        vec![
            RedirectUri::parse(CB).unwrap(),
            RedirectUri::parse("http://127.0.0.1/native").unwrap(),
        ],
        ScopeSet::parse("openid profile project").unwrap(),
    )
    .validate()
    .unwrap();
    Client {
        id: ClientId::parse("demo").unwrap(),
        metadata,
        secret_digest: None,
        previous_secret: None,
        created_at: Timestamp::from_unix(0),
        updated_at: Timestamp::from_unix(0),
    }
}

fn public_client() -> Client {
    let mut c = client();
    c.metadata.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
    c
}

fn validate_str(q: &str, c: &Client) -> Result<AuthorizeRequest, AuthorizeError> {
    validate(&Params::parse(q), c)
}

fn redirect_error(r: Result<AuthorizeRequest, AuthorizeError>) -> RedirectError {
    match r {
        Err(AuthorizeError::Redirect(e)) => e,
        other => panic!("expected a redirect error, got {other:?}"),
    }
}

fn page_error(r: Result<AuthorizeRequest, AuthorizeError>) -> (Code, String) {
    match r {
        Err(AuthorizeError::Page { code, description }) => (code, description),
        other => panic!("expected an error page, got {other:?}"),
    }
}

#[test]
fn the_seed_request_validates_with_the_clients_defaults() {
    let r = validate_str("client_id=demo&scope=project&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Foauth_code", &client()).unwrap();
    assert_eq!(r.redirect_uri, CB);
    assert!(r.redirect_uri_given);
    assert_eq!(r.scopes.to_string(), "project");
    assert_eq!(r.response_type, ResponseType::Code);
    let r = validate_str("client_id=demo&response_type=code", &client()).unwrap();
    assert_eq!(r.redirect_uri, CB, "the default redirect URI");
    assert!(!r.redirect_uri_given);
    assert_eq!(
        r.scopes,
        client().metadata.scopes,
        "scope defaults to the client's"
    );
}

#[test]
fn client_id_problems_never_redirect() {
    for q in ["", "client_id=", "client_id=a&client_id=b", "client_id=%0A"] {
        assert!(
            matches!(
                requested_client_id(&Params::parse(q)),
                Err(AuthorizeError::Page { .. })
            ),
            "{q}"
        );
    }
}

#[test]
fn redirect_uri_problems_never_redirect() {
    for q in [
        "client_id=demo&response_type=code&redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
        "client_id=demo&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Foauth_code%2F",
        "client_id=demo&response_type=code&redirect_uri=not-a-uri",
        "client_id=demo&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Foauth_code&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Foauth_code",
        "client_id=demo&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A99999%2Fnative",
    ] {
        let (code, _) = page_error(validate_str(q, &client()));
        assert_eq!(code, Code::InvalidRequest, "{q}");
    }
}

#[test]
fn loopback_redirects_take_any_port_and_keep_it() {
    let r = validate_str(
        "client_id=demo&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A50123%2Fnative",
        &client(),
    )
    .unwrap();
    assert_eq!(r.redirect_uri, "http://127.0.0.1:50123/native");
}

#[test]
fn other_errors_redirect_with_state() {
    let cases = [
        ("client_id=demo&state=s1", Code::InvalidRequest),
        (
            "client_id=demo&state=s1&response_type=token",
            Code::UnsupportedResponseType,
        ),
        (
            "client_id=demo&state=s1&response_type=id_token",
            Code::UnsupportedResponseType,
        ),
        (
            "client_id=demo&state=s1&response_type=code&scope=admin",
            Code::InvalidScope,
        ),
        (
            "client_id=demo&state=s1&response_type=code&scope=a%22b",
            Code::InvalidScope,
        ),
        (
            "client_id=demo&state=s1&response_type=code&scope=a&scope=b",
            Code::InvalidRequest,
        ),
        (
            "client_id=demo&state=s1&response_type=code&request=eyJ",
            Code::RequestNotSupported,
        ),
        (
            "client_id=demo&state=s1&response_type=code&request_uri=https%3A%2F%2Fx",
            Code::RequestUriNotSupported,
        ),
        (
            "client_id=demo&state=s1&response_type=code&prompt=none+login",
            Code::InvalidRequest,
        ),
        (
            "client_id=demo&state=s1&response_type=code&prompt=bogus",
            Code::InvalidRequest,
        ),
        (
            "client_id=demo&state=s1&response_type=code&max_age=-1",
            Code::InvalidRequest,
        ),
        (
            "client_id=demo&state=s1&response_type=code&response_mode=form_post",
            Code::InvalidRequest,
        ),
        (
            "client_id=demo&state=s1&response_type=code&code_challenge_method=S256",
            Code::InvalidRequest,
        ),
    ];
    for (q, code) in cases {
        let e = redirect_error(validate_str(q, &client()));
        assert_eq!(e.code, code, "{q}");
        assert_eq!(e.state.as_deref(), Some("s1"), "{q}");
        assert_eq!(e.redirect_uri, CB);
    }
}

#[test]
fn a_repeated_state_is_an_error_without_state() {
    let e = redirect_error(validate_str(
        "client_id=demo&response_type=code&state=a&state=b",
        &client(),
    ));
    assert_eq!(e.code, Code::InvalidRequest);
    assert_eq!(e.state, None);
}

#[test]
fn public_clients_must_use_s256() {
    let c = public_client();
    let e = redirect_error(validate_str("client_id=demo&response_type=code", &c));
    assert_eq!(e.code, Code::InvalidRequest);
    let verifier = CodeVerifier::parse(&"v".repeat(43)).unwrap();
    let s256 = CodeChallenge::s256_of(&verifier);
    let ok = validate_str(
        &format!(
            "client_id=demo&response_type=code&code_challenge={}&code_challenge_method=S256",
            s256.as_str()
        ),
        &c,
    )
    .unwrap();
    assert_eq!(ok.code_challenge, Some(s256));
    // Plain, stated or implied by a missing method, is refused.
    for q in [
        format!(
            "client_id=demo&response_type=code&code_challenge={}&code_challenge_method=plain",
            "v".repeat(43)
        ),
        format!(
            "client_id=demo&response_type=code&code_challenge={}",
            "v".repeat(43)
        ),
    ] {
        assert_eq!(
            redirect_error(validate_str(&q, &c)).code,
            Code::InvalidRequest,
            "{q}"
        );
    }
}

#[test]
fn plain_pkce_only_for_confidential_clients_that_opt_in() {
    let q = format!(
        "client_id=demo&response_type=code&code_challenge={}&code_challenge_method=plain",
        "v".repeat(43)
    );
    assert!(validate_str(&q, &client()).is_err());
    let mut opted = client();
    opted.metadata.allow_plain_pkce = true;
    let r = validate_str(&q, &opted).unwrap();
    assert_eq!(
        r.code_challenge.unwrap().method(),
        CodeChallengeMethod::Plain
    );
}

#[test]
fn implicit_only_for_clients_registered_with_it() {
    let mut c = client();
    c.metadata.grant_types.push(GrantType::Implicit);
    let r = validate_str("client_id=demo&response_type=token", &c).unwrap();
    assert_eq!(r.response_type, ResponseType::Token);
}

#[test]
fn clients_without_the_code_grant_are_unauthorized() {
    let mut c = client();
    c.metadata.grant_types = vec![GrantType::Implicit];
    assert_eq!(
        redirect_error(validate_str("client_id=demo&response_type=code", &c)).code,
        Code::UnauthorizedClient
    );
}

#[test]
fn error_locations_keep_the_query_and_name_the_issuer() {
    let e = RedirectError {
        redirect_uri: "https://app.example/cb?tenant=1".into(),
        code: Code::AccessDenied,
        description: "the user said no".into(),
        state: Some("a b&c".into()),
        fragment: false,
    };
    assert_eq!(
        e.location("https://auth.example"),
        "https://app.example/cb?tenant=1&error=access_denied&error_description=the+user+said+no&state=a+b%26c&iss=https%3A%2F%2Fauth.example"
    );
}

#[test]
fn append_query_handles_bare_and_trailing_separators() {
    assert_eq!(
        append_query("https://a/cb", &[("code", "x")]),
        "https://a/cb?code=x"
    );
    assert_eq!(
        append_query("https://a/cb?", &[("code", "x")]),
        "https://a/cb?code=x"
    );
    assert_eq!(
        append_query("https://a/cb?a=1&", &[("code", "x")]),
        "https://a/cb?a=1&code=x"
    );
}

fn request(prompt: &str, max_age: Option<u64>) -> AuthorizeRequest {
    let mut q = format!("client_id=demo&response_type=code&prompt={prompt}");
    if let Some(m) = max_age {
        q.push_str(&format!("&max_age={m}"));
    }
    validate_str(&q, &client()).unwrap()
}

#[test]
fn authentication_decisions() {
    let now = Timestamp::from_unix(1000);
    let logged_in = Some(Timestamp::from_unix(900));
    assert_eq!(
        authentication(&request("", None), None, false, now),
        Authentication::ShowLogin
    );
    assert_eq!(
        authentication(&request("none", None), None, false, now),
        Authentication::LoginRequired
    );
    assert_eq!(
        authentication(&request("", None), logged_in, false, now),
        Authentication::Proceed
    );
    assert_eq!(
        authentication(&request("login", None), logged_in, false, now),
        Authentication::ShowLogin
    );
    assert_eq!(
        authentication(&request("login", None), logged_in, true, now),
        Authentication::Proceed
    );
    assert_eq!(
        authentication(&request("", Some(50)), logged_in, false, now),
        Authentication::ShowLogin
    );
    assert_eq!(
        authentication(&request("none", Some(50)), logged_in, false, now),
        Authentication::LoginRequired
    );
    assert_eq!(
        authentication(&request("", Some(200)), logged_in, false, now),
        Authentication::Proceed
    );
    assert_eq!(
        authentication(&request("", Some(0)), logged_in, true, now),
        Authentication::Proceed
    );
}

#[test]
fn consent_decisions() {
    let c = client();
    let r = request("", None);
    let all = ScopeSet::parse("openid profile project").unwrap();
    let less = ScopeSet::parse("openid").unwrap();
    assert!(needs_consent(ConsentMode::Force, &c, &r, Some(&all)));
    assert!(!needs_consent(ConsentMode::Auto, &c, &r, Some(&all)));
    assert!(
        needs_consent(ConsentMode::Auto, &c, &r, Some(&less)),
        "new scopes ask again"
    );
    assert!(needs_consent(ConsentMode::Auto, &c, &r, None));
    assert!(needs_consent(
        ConsentMode::Auto,
        &c,
        &request("consent", None),
        Some(&all)
    ));
    let mut trusted = client();
    trusted.metadata.skip_authorization = true;
    assert!(!needs_consent(ConsentMode::Force, &trusted, &r, None));
    assert!(needs_consent(
        ConsentMode::Force,
        &trusted,
        &request("consent", None),
        None
    ));
}

#[test]
fn implicit_errors_go_in_the_fragment() {
    let mut c = client();
    c.metadata.grant_types.push(GrantType::Implicit);
    let e = redirect_error(validate_str(
        "client_id=demo&response_type=token&scope=admin&state=s",
        &c,
    ));
    assert!(e.fragment);
    assert!(
        e.location("https://as")
            .starts_with("http://localhost:3000/oauth_code#error=invalid_scope")
    );
    let e = redirect_error(validate_str(
        "client_id=demo&response_type=code&scope=admin",
        &c,
    ));
    assert!(!e.fragment);
}

#[test]
fn control_characters_in_state_or_nonce_are_refused() {
    for q in [
        "client_id=demo&response_type=code&state=a%00b",
        "client_id=demo&response_type=code&nonce=a%01b",
    ] {
        assert_eq!(
            redirect_error(validate_str(q, &client())).code,
            Code::InvalidRequest,
            "{q}"
        );
    }
}
