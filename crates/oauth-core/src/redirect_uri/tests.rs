use proptest::prelude::*;

use super::*;

fn uri(s: &str) -> RedirectUri {
    RedirectUri::parse(s).unwrap()
}

#[test]
fn accepts_web_and_native_redirects() {
    for ok in [
        "http://localhost:3000/oauth_code",
        "https://app.example.com/cb?tenant=1",
        "http://127.0.0.1/cb",
        "http://[::1]:8080/cb",
        "com.example.app:/oauth2redirect",
    ] {
        assert_eq!(uri(ok).as_str(), ok);
    }
}

#[test]
fn rejects_what_rfc_6749_and_9700_forbid() {
    for bad in [
        "",
        "/relative/path",
        "example.com/cb",
        "https://app.example.com/cb#frag",
        "https://app.example.com/cb#",
        "javascript:alert(1)",
        "data:text/html,hi",
        "https://user:pw@app.example.com/cb",
        "https:///cb",
        "https:app.example.com/cb",
        "https://app.example.com/c b",
        "https://app.example.com/cb\n",
    ] {
        let err = RedirectUri::parse(bad).unwrap_err();
        assert_eq!(err.what(), "redirect URI", "{bad:?}");
    }
    assert!(
        RedirectUri::parse(&format!(
            "https://a.example/{}",
            "x".repeat(MAX_REDIRECT_URI_LEN)
        ))
        .is_err()
    );
}

#[test]
fn matching_is_exact_string_comparison() {
    let r = uri("https://app.example.com/cb");
    assert!(r.matches("https://app.example.com/cb"));
    for other in [
        "https://APP.example.com/cb",
        "https://app.example.com:443/cb",
        "https://app.example.com/cb/",
        "https://app.example.com/cb?x=1",
        "https://app.example.com/CB",
        "https://app.example.com/cb/../cb",
        "https://app.example.com.evil.com/cb",
        "http://app.example.com/cb",
    ] {
        assert!(!r.matches(other), "{other}");
    }
}

#[test]
fn loopback_ip_redirects_match_any_port() {
    let r = uri("http://127.0.0.1/callback");
    assert!(r.is_loopback_ip());
    assert!(r.matches("http://127.0.0.1:51004/callback"));
    assert!(r.matches("http://127.0.0.1/callback"));
    assert!(!r.matches("http://127.0.0.1:51004/other"));
    assert!(!r.matches("http://127.0.0.1:/callback"));
    assert!(!r.matches("http://127.0.0.1:80x/callback"));
    assert!(!r.matches("https://127.0.0.1:51004/callback"));
    assert!(!r.matches("http://127.0.0.2:51004/callback"));

    let v6 = uri("http://[::1]:1234/cb");
    assert!(v6.matches("http://[::1]:9/cb"));
    assert!(!v6.matches("http://[::2]:9/cb"));
}

#[test]
fn localhost_names_are_matched_exactly() {
    // RFC 8252 §8.3: the any-port rule is for IP literals, not "localhost".
    let r = uri("http://localhost:3000/oauth_code");
    assert!(!r.is_loopback_ip());
    assert!(r.matches("http://localhost:3000/oauth_code"));
    assert!(!r.matches("http://localhost:3001/oauth_code"));
}

#[test]
fn find_match_picks_the_registered_uri() {
    let registered = vec![uri("https://a.example/cb"), uri("http://127.0.0.1/cb")];
    assert_eq!(
        RedirectUri::find_match(&registered, "https://a.example/cb"),
        Some(&registered[0])
    );
    assert_eq!(
        RedirectUri::find_match(&registered, "http://127.0.0.1:7/cb"),
        Some(&registered[1])
    );
    assert_eq!(
        RedirectUri::find_match(&registered, "https://b.example/cb"),
        None
    );
}

proptest! {
    #[test]
    fn parse_never_panics(s in "\\PC{0,100}") {
        if let Ok(r) = RedirectUri::parse(&s) {
            prop_assert!(!r.as_str().contains('#'));
            prop_assert!(r.matches(&s));
        }
    }

    #[test]
    fn any_path_on_https_matches_only_itself(path in "[a-zA-Z0-9/_.-]{0,30}", other in "[a-zA-Z0-9/_.-]{0,30}") {
        let registered = uri(&format!("https://app.example.com/{path}"));
        let presented = format!("https://app.example.com/{other}");
        prop_assert_eq!(registered.matches(&presented), path == other);
    }

    #[test]
    fn loopback_matches_every_port(port in 1u16..) {
        let registered = uri("http://127.0.0.1/cb");
        let presented = format!("http://127.0.0.1:{port}/cb");
        prop_assert!(registered.matches(&presented));
    }
}
