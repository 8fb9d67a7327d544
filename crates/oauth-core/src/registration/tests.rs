use super::*;
use crate::ids::{ClientId, Role};
use crate::secret::SecretDigest;
use crate::time::Timestamp;

const OPEN: RegistrationPolicy = RegistrationPolicy {
    allow_client_credentials: false,
};

fn parse(json: &str) -> Result<ClientMetadata, RegistrationError> {
    RegistrationRequest::from_json(json.as_bytes())?.to_metadata(&OPEN)
}

fn ok(json: &str) -> ClientMetadata {
    parse(json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

fn grants(m: &ClientMetadata) -> Vec<&'static str> {
    m.grant_types.iter().map(|g| g.as_str()).collect()
}

fn responses(m: &ClientMetadata) -> Vec<&'static str> {
    m.response_types().iter().map(|r| r.as_str()).collect()
}

fn client(metadata: ClientMetadata, secret: Option<&str>) -> Client {
    Client {
        id: ClientId::parse("client-1").unwrap(),
        metadata: metadata.validate().unwrap(),
        secret_digest: secret.map(SecretDigest::of),
        previous_secret: None,
        created_at: Timestamp::from_unix(1_700_000_000),
        updated_at: Timestamp::from_unix(1_700_000_000),
    }
}

fn update(current: &Client, json: &str) -> Result<ClientUpdate, RegistrationError> {
    RegistrationRequest::from_json(json.as_bytes())?.to_update(current, &OPEN)
}

#[test]
fn a_minimal_request_gets_rfc_7591_defaults_and_safe_settings() {
    let m = ok(r#"{"redirect_uris":["https://app.example/cb"]}"#);
    assert_eq!(m.name, DEFAULT_CLIENT_NAME);
    assert_eq!(
        m.token_endpoint_auth_method,
        TokenEndpointAuthMethod::ClientSecretBasic
    );
    assert_eq!(grants(&m), ["authorization_code"]);
    assert_eq!(responses(&m), ["code"]);
    assert_eq!(m.scopes.to_string(), "openid");
    assert_eq!(
        m.default_redirect_uri.as_ref().unwrap().as_str(),
        "https://app.example/cb"
    );
    assert!(!m.skip_authorization);
    assert!(m.allowed_roles.is_empty());
    assert_eq!(m.access_token_format, AccessTokenFormat::Opaque);
    assert!(!m.allow_plain_pkce);
    assert_eq!(m.client_uri, None);
    assert!(m.contacts.is_empty());
}

#[test]
fn every_member_is_taken_over() {
    let m = ok(r#"{
        "redirect_uris": ["https://app.example/cb", "http://127.0.0.1:8080/cb"],
        "token_endpoint_auth_method": "client_secret_post",
        "grant_types": ["refresh_token", "authorization_code"],
        "response_types": ["code"],
        "client_name": "  Example App  ",
        "client_uri": "https://app.example/",
        "logo_uri": "https://app.example/logo.png",
        "scope": "openid profile  project",
        "contacts": ["ops@app.example"]
    }"#);
    assert_eq!(m.name, "Example App");
    assert_eq!(m.redirect_uris.len(), 2);
    assert_eq!(
        m.token_endpoint_auth_method,
        TokenEndpointAuthMethod::ClientSecretPost
    );
    assert_eq!(grants(&m), ["authorization_code", "refresh_token"]);
    assert_eq!(m.scopes.to_string(), "openid profile project");
    assert_eq!(m.client_uri.as_deref(), Some("https://app.example/"));
    assert_eq!(m.logo_uri.as_deref(), Some("https://app.example/logo.png"));
    assert_eq!(m.contacts, ["ops@app.example"]);
}

/// Good requests: (body, grant types, response types, auth method).
#[test]
fn good_requests() {
    let table: &[(&str, &[&str], &[&str], &str)] = &[
        (
            r#"{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none"}"#,
            &["authorization_code"],
            &["code"],
            "none",
        ),
        (
            r#"{"redirect_uris":["http://[::1]:49152/cb"],"token_endpoint_auth_method":"none"}"#,
            &["authorization_code"],
            &["code"],
            "none",
        ),
        // response_types alone implies the grant types.
        (
            r#"{"redirect_uris":["https://a.example/cb"],"response_types":["token"]}"#,
            &["implicit"],
            &["token"],
            "client_secret_basic",
        ),
        (
            r#"{"redirect_uris":["https://a.example/cb"],"response_types":["code","token"]}"#,
            &["authorization_code", "implicit"],
            &["code", "token"],
            "client_secret_basic",
        ),
        // grant_types alone implies the response types.
        (
            r#"{"redirect_uris":["https://a.example/cb"],"grant_types":["implicit"]}"#,
            &["implicit"],
            &["token"],
            "client_secret_basic",
        ),
        // Both, consistent, in any order and with repeats.
        (
            r#"{"redirect_uris":["https://a.example/cb"],
                "grant_types":["implicit","authorization_code","implicit"],
                "response_types":["token","code","code"]}"#,
            &["authorization_code", "implicit"],
            &["code", "token"],
            "client_secret_basic",
        ),
        // Unknown members, language-tagged names and nulls are ignored.
        (
            r#"{"redirect_uris":["https://a.example/cb"],"software_id":"x",
                "jwks":{"keys":[]},"client_name#ja-Jpan-JP":"名前",
                "skip_authorization":true,"allowed_roles":["System Manager"],
                "access_token_format":"jwt","scope":null,"grant_types":null}"#,
            &["authorization_code"],
            &["code"],
            "client_secret_basic",
        ),
        // client_id and client_secret mean nothing in a registration.
        (
            r#"{"redirect_uris":["https://a.example/cb"],"client_id":"mine","client_secret":"s"}"#,
            &["authorization_code"],
            &["code"],
            "client_secret_basic",
        ),
    ];
    for (body, want_grants, want_responses, method) in table {
        let m = ok(body);
        assert_eq!(grants(&m), *want_grants, "{body}");
        assert_eq!(responses(&m), *want_responses, "{body}");
        assert_eq!(m.token_endpoint_auth_method.as_str(), *method, "{body}");
        assert!(!m.skip_authorization, "{body}");
        assert!(m.allowed_roles.is_empty(), "{body}");
        assert_eq!(m.access_token_format, AccessTokenFormat::Opaque, "{body}");
    }
}

/// Bad requests: (body, the error code it gets).
#[test]
fn bad_requests() {
    use Code::{InvalidClientMetadata as Meta, InvalidRedirectUri as Redirect};
    let cb = r#""redirect_uris":["https://a.example/cb"]"#;
    let many_uris: Vec<String> = (0..=MAX_REDIRECT_URIS)
        .map(|i| format!("\"https://a.example/{i}\""))
        .collect();
    let many_contacts: Vec<String> = (0..=MAX_CONTACTS)
        .map(|i| format!("\"c{i}@a.example\""))
        .collect();
    let long_name = "n".repeat(201);
    let table: Vec<(String, Code)> = vec![
        // The body itself.
        ("".into(), Meta),
        ("{".into(), Meta),
        ("[]".into(), Meta),
        ("\"https://a.example/cb\"".into(), Meta),
        ("null".into(), Meta),
        // Redirect URIs.
        ("{}".into(), Redirect),
        (r#"{"redirect_uris":[]}"#.into(), Redirect),
        (
            r#"{"redirect_uris":"https://a.example/cb"}"#.into(),
            Redirect,
        ),
        (r#"{"redirect_uris":[42]}"#.into(), Redirect),
        (
            r#"{"redirect_uris":["http://a.example/cb"]}"#.into(),
            Redirect,
        ),
        (
            r#"{"redirect_uris":["http://localhost:3000/cb"]}"#.into(),
            Redirect,
        ),
        (r#"{"redirect_uris":["http://127.1/cb"]}"#.into(), Redirect),
        (
            r#"{"redirect_uris":["https://a.example/cb#frag"]}"#.into(),
            Redirect,
        ),
        (
            r#"{"redirect_uris":["https://a.example/cb","http://b.example/cb"]}"#.into(),
            Redirect,
        ),
        (
            r#"{"redirect_uris":["com.example.app:/cb"]}"#.into(),
            Redirect,
        ),
        (
            r#"{"redirect_uris":["javascript:alert(1)"]}"#.into(),
            Redirect,
        ),
        (r#"{"redirect_uris":["/cb"]}"#.into(), Redirect),
        (
            r#"{"redirect_uris":["https://user:pw@a.example/cb"]}"#.into(),
            Redirect,
        ),
        (r#"{"redirect_uris":[""]}"#.into(), Redirect),
        (
            format!(r#"{{"redirect_uris":[{}]}}"#, many_uris.join(",")),
            Redirect,
        ),
        (r#"{"response_types":["token"]}"#.into(), Redirect),
        // Grant and response types.
        (format!(r#"{{{cb},"grant_types":["password"]}}"#), Meta),
        (
            format!(r#"{{{cb},"grant_types":["urn:ietf:params:oauth:grant-type:jwt-bearer"]}}"#),
            Meta,
        ),
        (format!(r#"{{{cb},"grant_types":["refresh_token"]}}"#), Meta),
        (format!(r#"{{{cb},"grant_types":[]}}"#), Meta),
        (
            format!(r#"{{{cb},"grant_types":"authorization_code"}}"#),
            Meta,
        ),
        (
            format!(r#"{{{cb},"grant_types":["client_credentials"]}}"#),
            Meta,
        ),
        (
            format!(r#"{{{cb},"grant_types":["authorization_code","client_credentials"]}}"#),
            Meta,
        ),
        (
            format!(r#"{{{cb},"grant_types":["implicit"],"response_types":["code"]}}"#),
            Meta,
        ),
        (
            format!(r#"{{{cb},"grant_types":["authorization_code"],"response_types":["token"]}}"#),
            Meta,
        ),
        (
            format!(
                r#"{{{cb},"grant_types":["authorization_code","implicit"],"response_types":["code"]}}"#
            ),
            Meta,
        ),
        (
            format!(r#"{{{cb},"grant_types":["authorization_code"],"response_types":[]}}"#),
            Meta,
        ),
        (format!(r#"{{{cb},"response_types":["id_token"]}}"#), Meta),
        (
            format!(r#"{{{cb},"response_types":["code id_token"]}}"#),
            Meta,
        ),
        (format!(r#"{{{cb},"response_types":[]}}"#), Meta),
        // Authentication method.
        (
            format!(r#"{{{cb},"token_endpoint_auth_method":"private_key_jwt"}}"#),
            Meta,
        ),
        (
            format!(r#"{{{cb},"token_endpoint_auth_method":"client_secret_jwt"}}"#),
            Meta,
        ),
        (format!(r#"{{{cb},"token_endpoint_auth_method":42}}"#), Meta),
        // Scope (RFC 6749 §3.3 syntax).
        (format!(r#"{{{cb},"scope":""}}"#), Meta),
        (format!(r#"{{{cb},"scope":"   "}}"#), Meta),
        (format!(r#"{{{cb},"scope":"openid \"x\""}}"#), Meta),
        (format!(r#"{{{cb},"scope":"openid\tprofile"}}"#), Meta),
        (format!(r#"{{{cb},"scope":["openid"]}}"#), Meta),
        // Name, URIs, contacts.
        (format!(r#"{{{cb},"client_name":""}}"#), Meta),
        (format!(r#"{{{cb},"client_name":"   "}}"#), Meta),
        (format!(r#"{{{cb},"client_name":"{long_name}"}}"#), Meta),
        (format!(r#"{{{cb},"client_name":"a\u001b[31mb"}}"#), Meta),
        (format!(r#"{{{cb},"client_name":7}}"#), Meta),
        (format!(r#"{{{cb},"client_uri":"ftp://a.example/"}}"#), Meta),
        (
            format!(r#"{{{cb},"client_uri":"javascript:alert(1)"}}"#),
            Meta,
        ),
        (format!(r#"{{{cb},"logo_uri":"not a url"}}"#), Meta),
        (format!(r#"{{{cb},"contacts":[""]}}"#), Meta),
        (format!(r#"{{{cb},"contacts":"ops@a.example"}}"#), Meta),
        (
            format!(r#"{{{cb},"contacts":[{}]}}"#, many_contacts.join(",")),
            Meta,
        ),
        (format!(r#"{{{cb},"client_secret":""}}"#), Meta),
    ];
    for (body, code) in table {
        match parse(&body) {
            Ok(m) => panic!("{body}: accepted as {m:?}"),
            Err(e) => {
                assert_eq!(e.code, code, "{body}: {e}");
                assert!(!e.description.is_empty(), "{body}");
            }
        }
    }
}

#[test]
fn client_credentials_needs_the_policy_and_a_secret() {
    let allow = RegistrationPolicy {
        allow_client_credentials: true,
    };
    let req = RegistrationRequest::from_json(br#"{"grant_types":["client_credentials"]}"#).unwrap();
    assert_eq!(
        req.to_metadata(&OPEN).unwrap_err().code,
        Code::InvalidClientMetadata
    );
    let m = req.to_metadata(&allow).unwrap();
    assert_eq!(grants(&m), ["client_credentials"]);
    assert!(m.redirect_uris.is_empty());
    assert!(m.response_types().is_empty());
    let req = RegistrationRequest::from_json(
        br#"{"grant_types":["client_credentials"],"token_endpoint_auth_method":"none"}"#,
    )
    .unwrap();
    assert_eq!(
        req.to_metadata(&allow).unwrap_err().code,
        Code::InvalidClientMetadata
    );
}

#[test]
fn errors_say_which_member_is_wrong() {
    let e = parse(r#"{"redirect_uris":"https://a.example/cb"}"#).unwrap_err();
    assert!(e.description.starts_with("redirect_uris:"), "{e}");
    let e = parse(r#"{"redirect_uris":["http://a.example/cb"]}"#).unwrap_err();
    assert!(e.description.contains("loopback"), "{e}");
    let e = parse(r#"{"redirect_uris":["https://a.example/cb"],"grant_types":["implicit"],"response_types":["code"]}"#)
        .unwrap_err();
    assert!(e.description.contains("RFC 7591 §2.1"), "{e}");
}

#[test]
fn a_presented_secret_never_prints() {
    let req = RegistrationRequest::from_json(br#"{"client_secret":"hunter2-secret"}"#).unwrap();
    assert!(!format!("{req:?}").contains("hunter2"));
}

#[test]
fn an_update_must_name_the_client_and_may_repeat_only_its_secret() {
    let current = client(
        ClientMetadata::new(
            "App",
            vec![RedirectUri::parse("https://a.example/cb").unwrap()],
            ScopeSet::parse("openid").unwrap(),
        ),
        Some("the-secret"),
    );
    let cb = r#""redirect_uris":["https://a.example/cb"]"#;
    for body in [
        format!("{{{cb}}}"),
        format!(r#"{{{cb},"client_id":"client-2"}}"#),
        format!(r#"{{{cb},"client_id":"client-1","client_secret":"wrong"}}"#),
    ] {
        assert_eq!(
            update(&current, &body).unwrap_err().code,
            Code::InvalidClientMetadata,
            "{body}"
        );
    }
    let u = update(
        &current,
        &format!(r#"{{{cb},"client_id":"client-1","client_secret":"the-secret"}}"#),
    )
    .unwrap();
    assert_eq!(u.secret, SecretChange::Keep);
    let public = client(
        ClientMetadata {
            token_endpoint_auth_method: TokenEndpointAuthMethod::None,
            ..current.metadata.clone()
        },
        None,
    );
    let body = format!(
        r#"{{{cb},"client_id":"client-1","client_secret":"x","token_endpoint_auth_method":"none"}}"#
    );
    assert!(update(&public, &body).is_err());
}

#[test]
fn an_update_replaces_the_metadata_and_omitted_members_revert() {
    let mut m = ClientMetadata::new(
        "App",
        vec![RedirectUri::parse("https://a.example/cb").unwrap()],
        ScopeSet::parse("openid profile").unwrap(),
    );
    m.client_uri = Some("https://a.example/".into());
    m.contacts = vec!["ops@a.example".into()];
    let current = client(m, Some("s"));
    let u = update(
        &current,
        r#"{"client_id":"client-1","redirect_uris":["https://b.example/cb"],"client_name":"B"}"#,
    )
    .unwrap();
    assert_eq!(u.metadata.name, "B");
    assert_eq!(u.metadata.redirect_uris[0].as_str(), "https://b.example/cb");
    assert_eq!(
        u.metadata.default_redirect_uri.as_ref().unwrap().as_str(),
        "https://b.example/cb"
    );
    assert_eq!(u.metadata.scopes.to_string(), DEFAULT_SCOPE);
    assert_eq!(grants(&u.metadata), ["authorization_code"]);
    assert_eq!(u.metadata.client_uri, None);
    assert!(u.metadata.contacts.is_empty());
    assert_eq!(u.secret, SecretChange::Keep);
}

#[test]
fn an_update_keeps_what_only_an_administrator_sets() {
    let mut m = ClientMetadata::new(
        "App",
        vec![
            RedirectUri::parse("https://a.example/one").unwrap(),
            RedirectUri::parse("https://a.example/two").unwrap(),
        ],
        ScopeSet::parse("openid").unwrap(),
    );
    m.default_redirect_uri = Some(RedirectUri::parse("https://a.example/two").unwrap());
    m.skip_authorization = true;
    m.allowed_roles = vec![Role::parse("Projects User").unwrap()];
    m.access_token_format = AccessTokenFormat::Jwt;
    m.allow_plain_pkce = true;
    m.grant_types.push(GrantType::ClientCredentials);
    let current = client(m, Some("s"));
    let u = update(
        &current,
        r#"{"client_id":"client-1",
            "redirect_uris":["https://a.example/one","https://a.example/two"],
            "grant_types":["authorization_code","client_credentials"],
            "skip_authorization":false}"#,
    )
    .unwrap();
    let m = &u.metadata;
    assert!(m.skip_authorization);
    assert_eq!(m.allowed_roles.len(), 1);
    assert_eq!(m.access_token_format, AccessTokenFormat::Jwt);
    assert!(m.allow_plain_pkce);
    assert!(m.allows_grant(GrantType::ClientCredentials));
    assert_eq!(
        m.default_redirect_uri.as_ref().unwrap().as_str(),
        "https://a.example/two"
    );

    // Becoming public drops the secret and, with it, plain PKCE.
    let u = update(
        &current,
        r#"{"client_id":"client-1","redirect_uris":["https://a.example/one"],
            "token_endpoint_auth_method":"none"}"#,
    )
    .unwrap();
    assert_eq!(u.secret, SecretChange::Drop);
    assert!(!u.metadata.allow_plain_pkce);
    assert!(u.metadata.is_public());
}

#[test]
fn an_update_may_not_add_client_credentials_nobody_granted() {
    let current = client(
        ClientMetadata::new(
            "App",
            vec![RedirectUri::parse("https://a.example/cb").unwrap()],
            ScopeSet::parse("openid").unwrap(),
        ),
        Some("s"),
    );
    let e = update(
        &current,
        r#"{"client_id":"client-1","redirect_uris":["https://a.example/cb"],
            "grant_types":["authorization_code","client_credentials"]}"#,
    )
    .unwrap_err();
    assert_eq!(e.code, Code::InvalidClientMetadata);
}

#[test]
fn secret_changes_follow_the_auth_method() {
    let cb = vec![RedirectUri::parse("https://a.example/cb").unwrap()];
    let base = ClientMetadata::new("App", cb, ScopeSet::parse("openid").unwrap());
    let public = client(
        ClientMetadata {
            token_endpoint_auth_method: TokenEndpointAuthMethod::None,
            ..base.clone()
        },
        None,
    );
    let basic = client(base, Some("s"));
    let body = |method: &str| {
        format!(
            r#"{{"client_id":"client-1","redirect_uris":["https://a.example/cb"],
                "token_endpoint_auth_method":"{method}"}}"#
        )
    };
    let table = [
        (&public, "none", SecretChange::Keep),
        (&public, "client_secret_basic", SecretChange::Issue),
        (&public, "client_secret_post", SecretChange::Issue),
        (&basic, "client_secret_basic", SecretChange::Keep),
        (&basic, "client_secret_post", SecretChange::Keep),
        (&basic, "none", SecretChange::Drop),
    ];
    for (current, method, want) in table {
        let u = update(current, &body(method)).unwrap();
        assert_eq!(u.secret, want, "{method}");
        assert_eq!(u.metadata.token_endpoint_auth_method.as_str(), method);
    }
}

#[test]
fn the_information_response_has_every_member_and_only_fresh_secrets() {
    let m = ok(r#"{
        "redirect_uris": ["https://app.example/cb"],
        "client_name": "Example",
        "client_uri": "https://app.example/",
        "logo_uri": "https://app.example/logo.png",
        "scope": "openid profile",
        "contacts": ["ops@app.example"],
        "grant_types": ["authorization_code", "refresh_token"]
    }"#);
    let secret = ClientSecret::presented("the-secret").unwrap();
    let c = client(m, Some("the-secret"));
    let token = Token::presented("the-registration-token").unwrap();
    let info = ClientInformation {
        client: &c,
        client_secret: Some(&secret),
        registration_access_token: &token,
        registration_client_uri: "https://as.example/oauth/register/client-1",
    };
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "client_id": "client-1",
            "client_secret": "the-secret",
            "client_id_issued_at": 1_700_000_000,
            "client_secret_expires_at": 0,
            "registration_access_token": "the-registration-token",
            "registration_client_uri": "https://as.example/oauth/register/client-1",
            "redirect_uris": ["https://app.example/cb"],
            "token_endpoint_auth_method": "client_secret_basic",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "client_name": "Example",
            "scope": "openid profile",
            "client_uri": "https://app.example/",
            "logo_uri": "https://app.example/logo.png",
            "contacts": ["ops@app.example"],
        })
    );
    let debug = format!("{info:?}");
    assert!(!debug.contains("the-secret") && !debug.contains("the-registration-token"));

    // Read back later: no secret. A public client has no expiry either, and
    // absent optional members are left out.
    let info = ClientInformation {
        client_secret: None,
        ..info
    };
    let json = serde_json::to_value(&info).unwrap();
    assert!(json.get("client_secret").is_none());
    assert_eq!(json["client_secret_expires_at"], 0);
    let p = client(
        ok(r#"{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none"}"#),
        None,
    );
    let json = serde_json::to_value(ClientInformation {
        client: &p,
        client_secret: None,
        registration_access_token: &token,
        registration_client_uri: "u",
    })
    .unwrap();
    for absent in [
        "client_secret",
        "client_secret_expires_at",
        "client_uri",
        "logo_uri",
        "contacts",
    ] {
        assert!(json.get(absent).is_none(), "{absent} in {json}");
    }
    assert_eq!(json["client_name"], DEFAULT_CLIENT_NAME);
    assert_eq!(json["token_endpoint_auth_method"], "none");
}
