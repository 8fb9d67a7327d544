use super::*;
use crate::resource::Resource;

fn code() -> AuthorizationCode {
    AuthorizationCode {
        client_id: ClientId::parse("demo").unwrap(),
        user_id: UserId::parse("u1").unwrap(),
        redirect_uri: "http://localhost:3000/oauth_code".into(),
        redirect_uri_given: true,
        scopes: ScopeSet::parse("project").unwrap(),
        nonce: None,
        code_challenge: None,
        resources: vec![],
        auth_time: Timestamp::from_unix(100),
        created_at: Timestamp::from_unix(100),
        expires_at: Timestamp::from_unix(700),
        redeemed_at: None,
        grant_id: None,
    }
}

fn demo() -> ClientId {
    ClientId::parse("demo").unwrap()
}

const NOW: Timestamp = Timestamp::from_unix(200);
const CB: Option<&str> = Some("http://localhost:3000/oauth_code");

#[test]
fn parses_each_grant() {
    let r = TokenRequest::parse(&Params::parse(
        "grant_type=authorization_code&code=abc&redirect_uri=x",
    ))
    .unwrap();
    assert!(matches!(
        r,
        TokenRequest::AuthorizationCode {
            redirect_uri: Some(_),
            code_verifier: None,
            ..
        }
    ));
    let r = TokenRequest::parse(&Params::parse(
        "grant_type=refresh_token&refresh_token=r&scope=a+b",
    ))
    .unwrap();
    assert!(matches!(&r, TokenRequest::RefreshToken { scope: Some(s), .. } if s.len() == 2));
    let r = TokenRequest::parse(&Params::parse("grant_type=client_credentials")).unwrap();
    assert_eq!(
        r,
        TokenRequest::ClientCredentials {
            scope: None,
            resources: vec![]
        }
    );
}

#[test]
fn parse_errors_carry_the_rfc_codes() {
    let cases = [
        ("", Code::InvalidRequest),
        (
            "grant_type=password&username=a&password=b",
            Code::UnsupportedGrantType,
        ),
        ("grant_type=authorization_code", Code::InvalidRequest),
        (
            "grant_type=authorization_code&code=a&code=b",
            Code::InvalidRequest,
        ),
        (
            "grant_type=authorization_code&code=a&code_verifier=short",
            Code::InvalidRequest,
        ),
        ("grant_type=refresh_token", Code::InvalidRequest),
        (
            "grant_type=refresh_token&refresh_token=r&scope=a%5Cb",
            Code::InvalidScope,
        ),
        (
            "grant_type=client_credentials&grant_type=client_credentials",
            Code::InvalidRequest,
        ),
    ];
    for (body, code) in cases {
        assert_eq!(
            TokenRequest::parse(&Params::parse(body)).unwrap_err().code,
            code,
            "{body}"
        );
    }
}

#[test]
fn a_good_code_passes() {
    assert_eq!(code().check(&demo(), CB, None, NOW), Ok(()));
}

#[test]
fn codes_are_bound_to_client_expiry_and_redirect_uri() {
    let other = ClientId::parse("other").unwrap();
    assert_eq!(
        code().check(&other, CB, None, NOW).unwrap_err().code,
        Code::InvalidGrant
    );
    assert_eq!(
        code()
            .check(&demo(), CB, None, Timestamp::from_unix(700))
            .unwrap_err()
            .code,
        Code::InvalidGrant
    );
    assert_eq!(
        code().check(&demo(), None, None, NOW).unwrap_err().code,
        Code::InvalidGrant
    );
    assert_eq!(
        code()
            .check(&demo(), Some("http://localhost:3000/other"), None, NOW)
            .unwrap_err()
            .code,
        Code::InvalidGrant
    );
    // Not named in the authorization request: may be omitted, must match if sent.
    let defaulted = AuthorizationCode {
        redirect_uri_given: false,
        ..code()
    };
    assert!(defaulted.check(&demo(), None, None, NOW).is_ok());
    assert!(defaulted.check(&demo(), CB, None, NOW).is_ok());
    assert!(
        defaulted
            .check(&demo(), Some("http://evil/cb"), None, NOW)
            .is_err()
    );
}

#[test]
fn pkce_is_enforced_both_ways() {
    let verifier = CodeVerifier::parse(&"v".repeat(43)).unwrap();
    let wrong = CodeVerifier::parse(&"w".repeat(43)).unwrap();
    let with = AuthorizationCode {
        code_challenge: Some(CodeChallenge::s256_of(&verifier)),
        ..code()
    };
    assert!(with.check(&demo(), CB, Some(&verifier), NOW).is_ok());
    assert_eq!(
        with.check(&demo(), CB, Some(&wrong), NOW).unwrap_err().code,
        Code::InvalidGrant
    );
    assert_eq!(
        with.check(&demo(), CB, None, NOW).unwrap_err().code,
        Code::InvalidGrant
    );
    // A verifier without a stored challenge: a PKCE downgrade attempt.
    assert_eq!(
        code()
            .check(&demo(), CB, Some(&verifier), NOW)
            .unwrap_err()
            .code,
        Code::InvalidGrant
    );
}

fn refresh() -> RefreshToken {
    RefreshToken {
        grant_id: "g".into(),
        client_id: demo(),
        user_id: Some(UserId::parse("u1").unwrap()),
        scopes: ScopeSet::parse("openid project").unwrap(),
        resources: vec![],
        auth_time: None,
        expires_at: Timestamp::from_unix(1000),
        rotated: false,
        revoked: false,
    }
}

#[test]
fn refresh_may_narrow_but_never_widen() {
    let r = refresh();
    assert_eq!(r.check(&demo(), None, NOW).unwrap(), r.scopes);
    let narrow = ScopeSet::parse("project").unwrap();
    assert_eq!(r.check(&demo(), Some(&narrow), NOW).unwrap(), narrow);
    let wide = ScopeSet::parse("project admin").unwrap();
    match r.check(&demo(), Some(&wide), NOW) {
        Err(RefreshRefused::Invalid(e)) => assert_eq!(e.code, Code::InvalidScope),
        other => panic!("{other:?}"),
    }
}

#[test]
fn refresh_failures() {
    let other = ClientId::parse("other").unwrap();
    assert!(matches!(
        refresh().check(&other, None, NOW),
        Err(RefreshRefused::Invalid(_))
    ));
    assert_eq!(
        RefreshToken {
            rotated: true,
            ..refresh()
        }
        .check(&demo(), None, NOW),
        Err(RefreshRefused::Reused)
    );
    assert!(matches!(
        RefreshToken {
            revoked: true,
            ..refresh()
        }
        .check(&demo(), None, NOW),
        Err(RefreshRefused::Invalid(_))
    ));
    assert!(matches!(
        refresh().check(&demo(), None, Timestamp::from_unix(1000)),
        Err(RefreshRefused::Invalid(_))
    ));
}

#[test]
fn responses_have_the_seed_shape() {
    let r = TokenResponse {
        access_token: "a".into(),
        token_type: "Bearer",
        expires_in: 3600,
        refresh_token: Some("r".into()),
        scope: "project".into(),
        id_token: None,
    };
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        r#"{"access_token":"a","token_type":"Bearer","expires_in":3600,"refresh_token":"r","scope":"project"}"#
    );
}

#[test]
fn resources_narrow_within_what_was_authorized() {
    let a = Resource::parse("https://a.example/").unwrap();
    let b = Resource::parse("https://b.example/").unwrap();
    let with = AuthorizationCode {
        resources: vec![a.clone()],
        ..code()
    };
    assert_eq!(with.resources_for(&[]).unwrap(), vec![a.clone()]);
    assert_eq!(
        with.resources_for(std::slice::from_ref(&a)).unwrap(),
        vec![a.clone()]
    );
    assert_eq!(
        with.resources_for(std::slice::from_ref(&b))
            .unwrap_err()
            .code,
        Code::InvalidTarget
    );
    // Nothing authorized: the token request chooses.
    assert_eq!(
        code().resources_for(std::slice::from_ref(&b)).unwrap(),
        vec![b.clone()]
    );
    let r = RefreshToken {
        resources: vec![a.clone()],
        ..refresh()
    };
    assert_eq!(r.resources_for(&[]).unwrap(), vec![a.clone()]);
    assert_eq!(
        r.resources_for(std::slice::from_ref(&b)).unwrap_err().code,
        Code::InvalidTarget
    );
    assert_eq!(
        refresh().resources_for(&[b]).unwrap_err().code,
        Code::InvalidTarget
    );
}

#[test]
fn bad_resources_are_invalid_target() {
    let e = TokenRequest::parse(&Params::parse(
        "grant_type=client_credentials&resource=%2Frelative",
    ))
    .unwrap_err();
    assert_eq!(e.code, Code::InvalidTarget);
}
