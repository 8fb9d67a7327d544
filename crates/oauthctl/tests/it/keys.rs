use oauth_store::test_support::TestDb;

use crate::cli::oauthctl;

oauth_store::test_on_both_backends!(
    rotate_makes_a_new_active_key_and_retires_the_old,
    keys_list_shows_only_public_parts
);

const SECRET: &str = "--secret-key=a server secret that is long enough for the rule";

fn rotate_makes_a_new_active_key_and_retires_the_old(t: &TestDb) {
    let first = oauthctl(t, &["keys", "rotate", SECRET, "--json"])
        .ok()
        .json();
    assert_eq!(first["alg"], "RS256");
    assert_eq!(first["status"], "active");
    let second = oauthctl(t, &["keys", "rotate", SECRET, "--keep-for", "60", "--json"])
        .ok()
        .json();
    assert_ne!(first["kid"], second["kid"]);
    let listed = oauthctl(t, &["keys", "list", "--json"]).ok().json();
    let listed = listed.as_array().unwrap();
    let status = |kid: &serde_json::Value| {
        listed.iter().find(|k| &k["kid"] == kid).unwrap()["status"].clone()
    };
    assert_eq!(status(&first["kid"]), "retired");
    assert_eq!(status(&second["kid"]), "active");
    let es = oauthctl(t, &["keys", "rotate", SECRET, "--alg", "ES256", "--json"])
        .ok()
        .json();
    assert_eq!(es["public_jwk"]["crv"], "P-256");
    // The RS256 key is untouched by an ES256 rotation.
    let listed = oauthctl(t, &["keys", "list", "--json"]).ok().json();
    assert_eq!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["status"] == "active")
            .count(),
        2
    );
    oauthctl(t, &["keys", "rotate", SECRET, "--alg", "HS256"]).fails_usage();
}

fn keys_list_shows_only_public_parts(t: &TestDb) {
    oauthctl(t, &["keys", "rotate", SECRET, "--alg", "EdDSA"]).ok();
    let listed = oauthctl(t, &["keys", "list", "--json"]).ok();
    for private in ["\"d\"", "\"p\"", "\"q\"", "PRIVATE"] {
        assert!(
            !listed.stdout.contains(private),
            "{private} in {}",
            listed.stdout
        );
    }
    assert!(oauthctl(t, &["keys", "list"]).ok().stdout.contains("EdDSA"));
}
