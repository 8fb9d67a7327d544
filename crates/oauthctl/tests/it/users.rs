use oauth_core::Password;
use oauth_store::test_support::TestDb;
use oauth_store::users;

use crate::cli::{database_contains, oauthctl, oauthctl_stdin, snapshot};

oauth_store::test_on_both_backends!(
    add_stores_an_argon2id_hash,
    show_and_list_print_the_user_but_no_hash,
    bad_input_fails_with_one_line_and_writes_nothing,
    passwd_replaces_the_password,
    disable_enable_and_delete,
);

const PASSWORD: &str = "correct horse battery staple";

fn add_alice(t: &TestDb) -> serde_json::Value {
    oauthctl_stdin(
        t,
        &[
            "user",
            "add",
            "alice",
            "--email",
            "alice@example.com",
            "--full-name",
            "Alice Liddell",
            "--role",
            "Projects User",
            "--password-stdin",
            "--json",
        ],
        &format!("{PASSWORD}\n"),
    )
    .ok()
    .json()
}

fn add_stores_an_argon2id_hash(t: &TestDb) {
    let out = add_alice(t);
    assert_eq!(out["username"], "alice");
    assert_eq!(out["roles"], serde_json::json!(["Projects User"]));
    let user = users::find_by_username(&mut t.db().conn().unwrap(), "alice")
        .unwrap()
        .unwrap();
    assert!(user.password_hash.as_str().starts_with("$argon2id$"));
    // The trailing newline from stdin is not part of the password.
    assert!(user.password_hash.verify(&Password::new(PASSWORD).unwrap()));
    assert!(!database_contains(t, PASSWORD));
}

fn show_and_list_print_the_user_but_no_hash(t: &TestDb) {
    add_alice(t);
    for args in [
        vec!["user", "show", "alice", "--json"],
        vec!["user", "show", "ALICE"],
        vec!["user", "list", "--json"],
        vec!["user", "list"],
    ] {
        let run = oauthctl(t, &args).ok();
        assert!(run.stdout.contains("alice@example.com"), "{args:?}");
        assert!(!run.stdout.contains("argon2"), "{args:?} printed the hash");
    }
}

fn bad_input_fails_with_one_line_and_writes_nothing(t: &TestDb) {
    add_alice(t);
    let before = snapshot(t);
    let pw = format!("{PASSWORD}\n");
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["user", "add", "alice", "--password-stdin"],
            &pw,
            "already exists",
        ),
        (
            &["user", "add", "ALICE", "--password-stdin"],
            &pw,
            "already exists",
        ),
        (
            &[
                "user",
                "add",
                "bob",
                "--email",
                "alice@example.com",
                "--password-stdin",
            ],
            &pw,
            "email",
        ),
        (
            &["user", "add", "bob", "--password-stdin"],
            "short\n",
            "at least 8",
        ),
        (
            &["user", "add", "bob", "--password-stdin"],
            "",
            "at least 8",
        ),
        (
            &["user", "add", "bob smith", "--password-stdin"],
            &pw,
            "username",
        ),
        (
            &[
                "user",
                "add",
                "bob",
                "--email",
                "not-an-email",
                "--password-stdin",
            ],
            &pw,
            "email",
        ),
        (
            &[
                "user",
                "add",
                "bob",
                "--role",
                " padded",
                "--password-stdin",
            ],
            &pw,
            "role",
        ),
        // No terminal to prompt on, and no --password-stdin.
        (&["user", "add", "bob"], &pw, "--password-stdin"),
        (
            &["user", "passwd", "nobody", "--password-stdin"],
            &pw,
            "no user",
        ),
        (
            &["user", "passwd", "alice", "--password-stdin"],
            "short\n",
            "at least 8",
        ),
        (&["user", "disable", "nobody"], "", "no user"),
        (&["user", "delete", "nobody"], "", "no user"),
    ];
    for (args, stdin, needle) in cases {
        oauthctl_stdin(t, args, stdin).fails_with(needle);
    }
    assert_eq!(snapshot(t), before, "a failed command changed the database");
}

fn passwd_replaces_the_password(t: &TestDb) {
    add_alice(t);
    oauthctl_stdin(
        t,
        &["user", "passwd", "alice", "--password-stdin"],
        "a brand new passphrase",
    )
    .ok();
    let user = users::find_by_username(&mut t.db().conn().unwrap(), "alice")
        .unwrap()
        .unwrap();
    assert!(
        user.password_hash
            .verify(&Password::new("a brand new passphrase").unwrap())
    );
    assert!(!user.password_hash.verify(&Password::new(PASSWORD).unwrap()));
}

fn disable_enable_and_delete(t: &TestDb) {
    add_alice(t);
    oauthctl(t, &["user", "disable", "alice"]).ok();
    assert_eq!(
        oauthctl(t, &["user", "show", "alice", "--json"])
            .ok()
            .json()["enabled"],
        false
    );
    oauthctl(t, &["user", "enable", "alice"]).ok();
    assert_eq!(
        oauthctl(t, &["user", "show", "alice", "--json"])
            .ok()
            .json()["enabled"],
        true
    );
    oauthctl(t, &["user", "delete", "alice"]).ok();
    oauthctl(t, &["user", "show", "alice"]).fails_with("no user");
}
