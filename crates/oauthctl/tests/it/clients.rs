use oauth_core::ClientId;
use oauth_store::clients;
use oauth_store::test_support::TestDb;

use crate::cli::{database_contains, oauthctl, oauthctl_at, snapshot};

oauth_store::test_on_both_backends!(
    add_prints_the_spec_json_and_stores_only_a_digest,
    show_and_list_never_show_the_secret,
    public_clients_get_no_secret,
    bad_input_fails_with_one_line_and_writes_nothing,
    rotate_secret_replaces_the_secret,
    rotate_secret_with_grace_keeps_the_old_secret_until_then,
    rotate_secret_refuses_a_bad_grace_and_writes_nothing,
    update_changes_only_what_is_given,
    switching_to_public_drops_the_secret_and_back_issues_one,
    delete_removes_the_client,
    ids_that_begin_with_a_dash_are_values_not_flags,
);

const DEMO: &[&str] = &[
    "client",
    "add",
    "--name",
    "Demo",
    "--redirect-uri",
    "http://localhost:3000/oauth_code",
    "--scope",
    "openid project",
    "--json",
];

fn add_prints_the_spec_json_and_stores_only_a_digest(t: &TestDb) {
    let out = oauthctl(t, DEMO).ok().json();
    let id = out["client_id"].as_str().unwrap();
    let secret = out["client_secret"].as_str().unwrap();
    assert_eq!(secret.len(), 43, "a 256-bit base64url secret");
    assert_eq!(out["name"], "Demo");
    assert_eq!(
        out["redirect_uris"],
        serde_json::json!(["http://localhost:3000/oauth_code"])
    );
    assert_eq!(out["scopes"], serde_json::json!(["openid", "project"]));
    assert_eq!(
        out["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(out["token_endpoint_auth_method"], "client_secret_basic");

    let stored = clients::find(&mut t.db().conn().unwrap(), &ClientId::parse(id).unwrap())
        .unwrap()
        .unwrap();
    assert!(stored.secret_digest.unwrap().matches(secret));
    assert!(
        !database_contains(t, secret),
        "the plaintext secret is in the database"
    );
    assert!(
        database_contains(t, id),
        "the search must be able to find what is there"
    );
}

fn show_and_list_never_show_the_secret(t: &TestDb) {
    let added = oauthctl(t, DEMO).ok().json();
    let id = added["client_id"].as_str().unwrap();
    let secret = added["client_secret"].as_str().unwrap();
    for args in [
        vec!["client", "show", id, "--json"],
        vec!["client", "show", id],
        vec!["client", "list", "--json"],
        vec!["client", "list"],
    ] {
        let run = oauthctl(t, &args).ok();
        assert!(!run.stdout.contains(secret), "{args:?} printed the secret");
        // The key in JSON or the label in text ("client_secret_basic" is fine).
        assert!(
            !run.stdout.contains("\"client_secret\""),
            "{args:?} printed a client_secret field"
        );
        assert!(
            !run.stdout.contains("client_secret "),
            "{args:?} printed a client_secret line"
        );
        assert!(run.stdout.contains(id));
    }
    let shown = oauthctl(t, &["client", "show", id, "--json"]).ok().json();
    assert_eq!(shown["client_id"], added["client_id"]);
    assert_eq!(shown["redirect_uris"], added["redirect_uris"]);
    let listed = oauthctl(t, &["client", "list", "--json"]).ok().json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

fn public_clients_get_no_secret(t: &TestDb) {
    let out = oauthctl(
        t,
        &[
            "client",
            "add",
            "--name",
            "SPA",
            "--public",
            "--redirect-uri",
            "http://127.0.0.1/cb",
            "--json",
        ],
    )
    .ok()
    .json();
    assert!(out["client_secret"].is_null());
    assert_eq!(out["token_endpoint_auth_method"], "none");
    let rotate = oauthctl(
        t,
        &[
            "client",
            "rotate-secret",
            out["client_id"].as_str().unwrap(),
        ],
    );
    rotate.fails_with("public");
}

fn bad_input_fails_with_one_line_and_writes_nothing(t: &TestDb) {
    oauthctl(t, DEMO).ok();
    let before = snapshot(t);
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "client",
                "add",
                "--name",
                "X",
                "--redirect-uri",
                "not a uri",
            ],
            "redirect URI",
        ),
        (
            &[
                "client",
                "add",
                "--name",
                "X",
                "--redirect-uri",
                "https://x.example/cb#frag",
            ],
            "fragment",
        ),
        (
            &[
                "client",
                "add",
                "--name",
                "X",
                "--redirect-uri",
                "/relative",
            ],
            "redirect URI",
        ),
        (
            &[
                "client",
                "add",
                "--name",
                "X",
                "--redirect-uri",
                "https://x.example/cb",
                "--scope",
                "a\\b",
            ],
            "scope",
        ),
        (
            &["client", "add", "--name", "X", "--scope", "openid"],
            "redirect URI",
        ),
        (
            &[
                "client",
                "add",
                "--name",
                " ",
                "--redirect-uri",
                "https://x.example/cb",
            ],
            "client name",
        ),
        (
            &[
                "client",
                "add",
                "--name",
                "X",
                "--public",
                "--grant-type",
                "client_credentials",
            ],
            "confidential",
        ),
        (
            &[
                "client",
                "add",
                "--name",
                "X",
                "--redirect-uri",
                "https://x.example/cb",
                "--grant-type",
                "refresh_token",
            ],
            "refresh_token",
        ),
        (&["client", "show", "no-such-client"], "no client"),
        (
            &["client", "update", "no-such-client", "--name", "Y"],
            "no client",
        ),
        (&["client", "delete", "no-such-client"], "no client"),
    ];
    for (args, needle) in cases {
        oauthctl(t, args).fails_with(needle);
    }
    // An unknown grant type is a usage error from the argument parser.
    let run = oauthctl(
        t,
        &[
            "client",
            "add",
            "--name",
            "X",
            "--redirect-uri",
            "https://x.example/cb",
            "--grant-type",
            "password",
        ],
    );
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("password"), "{}", run.stderr);
    assert_eq!(snapshot(t), before, "a failed command changed the database");
}

fn rotate_secret_replaces_the_secret(t: &TestDb) {
    let added = oauthctl(t, DEMO).ok().json();
    let id = added["client_id"].as_str().unwrap();
    let old = added["client_secret"].as_str().unwrap();
    let rotated = oauthctl(t, &["client", "rotate-secret", id, "--json"])
        .ok()
        .json();
    let new = rotated["client_secret"].as_str().unwrap();
    assert_ne!(old, new);
    let digest = clients::find(&mut t.db().conn().unwrap(), &ClientId::parse(id).unwrap())
        .unwrap()
        .unwrap()
        .secret_digest
        .unwrap();
    assert!(digest.matches(new));
    assert!(!digest.matches(old));
}

fn rotate_secret_with_grace_keeps_the_old_secret_until_then(t: &TestDb) {
    let added = oauthctl(t, DEMO).ok().json();
    let id = added["client_id"].as_str().unwrap();
    let old = added["client_secret"].as_str().unwrap();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let rotated = oauthctl(
        t,
        &["client", "rotate-secret", id, "--grace", "1h", "--json"],
    )
    .ok()
    .json();
    let new = rotated["client_secret"].as_str().unwrap();
    assert!(
        rotated["previous_secret_expires_at"].is_string(),
        "{rotated}"
    );
    let client = clients::find(&mut t.db().conn().unwrap(), &ClientId::parse(id).unwrap())
        .unwrap()
        .unwrap();
    let previous = client
        .previous_secret
        .clone()
        .expect("the old secret, kept");
    assert!(previous.digest.matches(old), "only the old secret's digest");
    let ends = u64::try_from(previous.expires_at.unix()).unwrap();
    assert!(
        (before + 3600..=before + 3605).contains(&ends),
        "ends an hour after the rotation: {ends} vs {before}"
    );
    let at = |secs: u64| oauth_core::Timestamp::from_unix(i64::try_from(secs).unwrap());
    assert!(client.secret_matches(new, at(ends)));
    assert!(client.secret_matches(old, at(ends - 1)));
    assert!(!client.secret_matches(old, at(ends)), "not at the end");
    assert!(!database_contains(t, old), "no secret in clear");
    assert!(!database_contains(t, new), "no secret in clear");
    // `show` tells until when.
    let shown = oauthctl(t, &["client", "show", id]).ok();
    assert!(
        shown.stdout.contains("old_secret_until"),
        "{}",
        shown.stdout
    );
}

fn rotate_secret_refuses_a_bad_grace_and_writes_nothing(t: &TestDb) {
    let added = oauthctl(t, DEMO).ok().json();
    let id = added["client_id"].as_str().unwrap();
    let before = snapshot(t);
    for bad in ["", "1w", "-5m", "1h30m", "31d", "99999999999999999999", "h"] {
        // `--grace=…`, so that "-5m" reaches the parser as a value.
        let flag = format!("--grace={bad}");
        let run = oauthctl(t, &["client", "rotate-secret", id, &flag]);
        assert_ne!(run.status, 0, "--grace {bad:?} was accepted");
        assert!(run.stderr.contains("grace"), "{bad:?}: {}", run.stderr);
    }
    assert_eq!(snapshot(t), before, "a refused rotation writes nothing");
}

fn update_changes_only_what_is_given(t: &TestDb) {
    let added = oauthctl(t, DEMO).ok().json();
    let id = added["client_id"].as_str().unwrap();
    let out = oauthctl(
        t,
        &[
            "client",
            "update",
            id,
            "--scope",
            "openid profile project",
            "--skip-authorization",
            "true",
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(
        out["scopes"],
        serde_json::json!(["openid", "profile", "project"])
    );
    assert_eq!(out["skip_authorization"], true);
    assert_eq!(out["redirect_uris"], added["redirect_uris"]);
    assert_eq!(out["name"], "Demo");
    assert!(
        out.get("client_secret").is_none(),
        "an update that keeps the secret must not print one"
    );
    oauthctl(
        t,
        &[
            "client",
            "update",
            id,
            "--default-redirect-uri",
            "https://elsewhere.example/cb",
        ],
    )
    .fails_with("default redirect URI");
}

fn switching_to_public_drops_the_secret_and_back_issues_one(t: &TestDb) {
    let id = oauthctl(t, DEMO).ok().json()["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    oauthctl(t, &["client", "update", &id, "--public"]).ok();
    let c = clients::find(&mut t.db().conn().unwrap(), &ClientId::parse(&id).unwrap())
        .unwrap()
        .unwrap();
    assert!(c.secret_digest.is_none());
    let out = oauthctl(
        t,
        &[
            "client",
            "update",
            &id,
            "--auth-method",
            "client_secret_post",
            "--json",
        ],
    )
    .ok()
    .json();
    let secret = out["client_secret"]
        .as_str()
        .expect("a new secret is shown once");
    let c = clients::find(&mut t.db().conn().unwrap(), &ClientId::parse(&id).unwrap())
        .unwrap()
        .unwrap();
    assert!(c.secret_digest.unwrap().matches(secret));
}

fn delete_removes_the_client(t: &TestDb) {
    let id = oauthctl(t, DEMO).ok().json()["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    oauthctl(t, &["client", "delete", &id]).ok();
    oauthctl(t, &["client", "show", &id]).fails_with("no client");
}

#[test]
fn an_unreachable_database_is_one_line() {
    let run = oauthctl_at(
        "postgres://oauth:hunter2@127.0.0.1:1/oauth",
        &["client", "list"],
        None,
    );
    assert!(!run.stderr.contains("hunter2"));
    run.fails_with("cannot connect to the database");
    oauthctl_at("mysql://x@y/z", &["client", "list"], None).fails_with("unsupported database URL");
}

#[test]
fn every_command_teaches_with_an_example() {
    let db = TestDb::sqlite();
    for cmd in [
        vec![],
        vec!["migrate"],
        vec!["user", "add"],
        vec!["user", "list"],
        vec!["user", "show"],
        vec!["user", "passwd"],
        vec!["user", "disable"],
        vec!["user", "enable"],
        vec!["user", "delete"],
        vec!["client", "add"],
        vec!["client", "list"],
        vec!["client", "show"],
        vec!["client", "update"],
        vec!["client", "rotate-secret"],
        vec!["client", "delete"],
        vec!["keys", "list"],
        vec!["keys", "rotate"],
        vec!["token", "list"],
        vec!["token", "revoke"],
        vec!["gc"],
    ] {
        let mut args = cmd.clone();
        args.push("--help");
        let run = oauthctl(&db, &args).ok();
        assert!(
            run.stdout.contains("Example"),
            "{cmd:?} --help has no example:\n{}",
            run.stdout
        );
        assert!(run.stdout.contains("oauthctl"), "{cmd:?}");
    }
}

#[test]
fn migrate_reports_what_it_applied() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("new.db").display());
    let first = oauthctl_at(&url, &["migrate", "--json"], None).ok().json();
    assert!(!first["applied"].as_array().unwrap().is_empty());
    let second = oauthctl_at(&url, &["migrate", "--json"], None).ok().json();
    assert!(second["applied"].as_array().unwrap().is_empty());
}

fn ids_that_begin_with_a_dash_are_values_not_flags(t: &TestDb) {
    // Ids from other systems (or older ones) may begin with `-`.
    let added = oauthctl(t, DEMO).ok().json();
    let mut conn = t.db().conn().unwrap();
    let mut client = clients::find(
        &mut conn,
        &ClientId::parse(added["client_id"].as_str().unwrap()).unwrap(),
    )
    .unwrap()
    .unwrap();
    client.id = ClientId::parse("-0dash-first").unwrap();
    clients::create(&mut conn, &client).unwrap();
    assert_eq!(
        oauthctl(t, &["client", "show", "-0dash-first", "--json"])
            .ok()
            .json()["client_id"],
        "-0dash-first"
    );
    oauthctl(
        t,
        &["client", "update", "-0dash-first", "--name", "Renamed"],
    )
    .ok();
    oauthctl(t, &["client", "rotate-secret", "-0dash-first"]).ok();
    oauthctl(t, &["client", "delete", "-0dash-first"]).ok();
    oauthctl(t, &["client", "show", "-0dash-first"]).fails_with("no client");
}
