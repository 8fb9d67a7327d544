use oauth_core::{ScopeSet, SecretString, Timestamp, Token};
use oauth_store::grants::{self, Grant};
use oauth_store::test_support::TestDb;
use oauth_store::tokens::{self, NewToken};
use oauth_store::{clients, users};

use crate::cli::{oauthctl, oauthctl_stdin};

oauth_store::test_on_both_backends!(
    token_list_and_revoke_by_token_user_and_client,
    gc_removes_what_ended_and_keeps_what_lives,
);

/// A user, a client, and an active grant with one access and one refresh
/// token; returns (client_id, access, refresh).
fn grant_with_tokens(
    t: &TestDb,
    now: Timestamp,
    grant_ends: Timestamp,
) -> (String, String, String) {
    oauthctl_stdin(
        t,
        &["user", "add", "alice", "--password-stdin"],
        "correct horse battery",
    )
    .ok();
    let client = oauthctl(
        t,
        &[
            "client",
            "add",
            "--name",
            "Demo",
            "--redirect-uri",
            "https://a.example/cb",
            "--json",
        ],
    )
    .ok()
    .json();
    let client_id = client["client_id"].as_str().unwrap().to_owned();
    let mut conn = t.db().conn().unwrap();
    let user = users::find_by_username(&mut conn, "alice")
        .unwrap()
        .unwrap();
    let client = clients::find(&mut conn, &oauth_core::ClientId::parse(&client_id).unwrap())
        .unwrap()
        .unwrap();
    let scopes = ScopeSet::parse("openid").unwrap();
    let grant = Grant {
        id: format!("g-{}", now.unix()),
        client_id: client.id.clone(),
        user_id: Some(user.id.clone()),
        scopes: scopes.clone(),
        resources: vec![],
        auth_time: Some(now),
        created_at: now,
        expires_at: grant_ends,
        revoked_at: None,
    };
    grants::create(&mut conn, &grant).unwrap();
    let mut rng = rand::rng();
    let access = Token::generate(&mut rng).expose_secret().to_owned();
    let refresh = Token::generate(&mut rng).expose_secret().to_owned();
    let new = |digest| NewToken {
        digest,
        grant_id: &grant.id,
        scopes: &scopes,
        audience: &[],
        created_at: now,
        expires_at: Timestamp::from_unix(now.unix() + 3600),
    };
    let (access_digest, refresh_digest) = (
        SecretString::new(access.clone()).digest(),
        SecretString::new(refresh.clone()).digest(),
    );
    tokens::insert_access(&mut conn, new(&access_digest)).unwrap();
    tokens::insert_refresh(&mut conn, new(&refresh_digest)).unwrap();
    (client_id, access, refresh)
}

fn now() -> Timestamp {
    Timestamp::from_system(std::time::SystemTime::now())
}

fn token_list_and_revoke_by_token_user_and_client(t: &TestDb) {
    let now = now();
    let (client_id, access, refresh) =
        grant_with_tokens(t, now, Timestamp::from_unix(now.unix() + 86_400));
    let listed = oauthctl(t, &["token", "list", "--user", "alice", "--json"])
        .ok()
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["active_access_tokens"], 1);
    assert_eq!(listed[0]["refreshable"], true);
    assert!(
        !oauthctl(t, &["token", "list"])
            .ok()
            .stdout
            .contains(&access),
        "tokens are never shown"
    );
    // One access token.
    oauthctl(t, &["token", "revoke", &access]).ok();
    let mut conn = t.db().conn().unwrap();
    assert!(
        tokens::find_access(&mut conn, &SecretString::new(access.clone()).digest())
            .unwrap()
            .unwrap()
            .revoked
    );
    // A refresh token ends its grant.
    oauthctl(t, &["token", "revoke", &refresh]).ok();
    assert!(
        oauthctl(t, &["token", "list", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    // By user and by client.
    let later = Timestamp::from_unix(now.unix() + 1);
    let mut conn2 = t.db().conn().unwrap();
    let user = users::find_by_username(&mut conn2, "alice")
        .unwrap()
        .unwrap();
    grants::create(
        &mut conn2,
        &Grant {
            id: "g2".into(),
            client_id: oauth_core::ClientId::parse(&client_id).unwrap(),
            user_id: Some(user.id),
            scopes: ScopeSet::parse("openid").unwrap(),
            resources: vec![],
            auth_time: None,
            created_at: later,
            expires_at: Timestamp::from_unix(now.unix() + 86_400),
            revoked_at: None,
        },
    )
    .unwrap();
    assert_eq!(
        oauthctl(t, &["token", "revoke", "--client", &client_id, "--json"])
            .ok()
            .json()["revoked"],
        1
    );
    oauthctl(t, &["token", "revoke", "--user", "nobody"]).fails_with("no user");
    oauthctl(t, &["token", "revoke", "not-a-token-of-ours"]).fails_with("no such token");
}

fn gc_removes_what_ended_and_keeps_what_lives(t: &TestDb) {
    let long_ago = Timestamp::from_unix(1_000_000);
    let (_, access, _) = grant_with_tokens(t, long_ago, Timestamp::from_unix(2_000_000));
    let report = oauthctl(t, &["gc", "--json"]).ok().json();
    assert_eq!(report["removed"]["grants"], 1, "{report}");
    assert_eq!(report["removed"]["access_tokens"], 1, "{report}");
    let mut conn = t.db().conn().unwrap();
    assert!(
        tokens::find_access(&mut conn, &SecretString::new(access).digest())
            .unwrap()
            .is_none()
    );
    // A live grant survives.
    let now = now();
    let mut conn = t.db().conn().unwrap();
    let alice = users::find_by_username(&mut conn, "alice")
        .unwrap()
        .unwrap();
    let client = &clients::list(&mut conn).unwrap()[0];
    grants::create(
        &mut conn,
        &Grant {
            id: "live".into(),
            client_id: client.id.clone(),
            user_id: Some(alice.id),
            scopes: ScopeSet::parse("openid").unwrap(),
            resources: vec![],
            auth_time: None,
            created_at: now,
            expires_at: Timestamp::from_unix(now.unix() + 3600),
            revoked_at: None,
        },
    )
    .unwrap();
    let report = oauthctl(t, &["gc", "--json"]).ok().json();
    assert_eq!(report["removed"]["grants"], 0, "{report}");
    assert_eq!(
        oauthctl(t, &["token", "list", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
