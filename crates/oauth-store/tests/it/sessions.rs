//! Server-side sessions and the user's authorized apps, as stored.

use oauth_core::{ScopeSet, SecretDigest, Timestamp};
use oauth_store::grants::{self, Grant};
use oauth_store::test_support::TestDb;
use oauth_store::{apps, clients, consents, sessions, users};

use crate::fixtures::{NOW, client, rng, user};

oauth_store::test_on_both_backends!(
    a_session_is_found_by_digest_until_it_expires,
    disabling_or_deleting_a_user_deletes_its_sessions,
    last_seen_is_written_at_most_once_a_minute,
    apps_list_merges_consent_and_grants_and_revoke_removes_them,
);

fn digest(s: &str) -> SecretDigest {
    SecretDigest::of(s)
}

fn a_session_is_found_by_digest_until_it_expires(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let alice = user(&mut rng(), "alice");
    users::create(&mut conn, &alice).unwrap();
    let end = NOW.plus(std::time::Duration::from_secs(3600));
    sessions::create(&mut conn, &digest("one"), &alice.id, NOW, end).unwrap();
    let found = sessions::find_active(&mut conn, &digest("one"), NOW)
        .unwrap()
        .unwrap();
    assert_eq!(found.user_id, alice.id);
    assert_eq!(found.created_at, NOW);
    assert_eq!(
        sessions::find_active(&mut conn, &digest("two"), NOW).unwrap(),
        None
    );
    assert_eq!(
        sessions::find_active(&mut conn, &digest("one"), end).unwrap(),
        None
    );
    assert!(sessions::delete(&mut conn, &digest("one")).unwrap());
    assert_eq!(
        sessions::find_active(&mut conn, &digest("one"), NOW).unwrap(),
        None
    );
    assert!(!sessions::delete(&mut conn, &digest("one")).unwrap());
}

fn disabling_or_deleting_a_user_deletes_its_sessions(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let mut r = rng();
    let (alice, bob) = (user(&mut r, "alice"), user(&mut r, "bob"));
    let mut bob = bob;
    bob.email = None;
    users::create(&mut conn, &alice).unwrap();
    users::create(&mut conn, &bob).unwrap();
    let end = NOW.plus(std::time::Duration::from_secs(3600));
    for (id, u) in [("a1", &alice), ("a2", &alice), ("b1", &bob)] {
        sessions::create(&mut conn, &digest(id), &u.id, NOW, end).unwrap();
    }
    users::set_enabled(&mut conn, &alice.id, false, NOW).unwrap();
    assert_eq!(sessions::count_for_user(&mut conn, &alice.id).unwrap(), 0);
    assert_eq!(sessions::count_for_user(&mut conn, &bob.id).unwrap(), 1);
    // A session of a disabled user is not found, even if it were left.
    sessions::create(&mut conn, &digest("a3"), &alice.id, NOW, end).unwrap();
    assert_eq!(
        sessions::find_active(&mut conn, &digest("a3"), NOW).unwrap(),
        None
    );
    // Enabling does not delete; deleting the user does.
    users::set_enabled(&mut conn, &bob.id, true, NOW).unwrap();
    assert_eq!(sessions::count_for_user(&mut conn, &bob.id).unwrap(), 1);
    users::delete(&mut conn, &bob.id).unwrap();
    assert_eq!(sessions::count_for_user(&mut conn, &bob.id).unwrap(), 0);
}

fn last_seen_is_written_at_most_once_a_minute(t: &TestDb) {
    use diesel::prelude::*;
    use oauth_store::schema::sessions as s;
    let mut conn = t.db().conn().unwrap();
    let alice = user(&mut rng(), "alice");
    users::create(&mut conn, &alice).unwrap();
    let end = NOW.plus(std::time::Duration::from_secs(3600));
    sessions::create(&mut conn, &digest("one"), &alice.id, NOW, end).unwrap();
    let seen = |conn: &mut oauth_store::DbConnection| -> i64 {
        s::table.select(s::last_seen_at).first(conn).unwrap()
    };
    let at = |secs: i64| Timestamp::from_unix(NOW.unix() + secs);
    sessions::find_active(&mut conn, &digest("one"), at(59)).unwrap();
    assert_eq!(seen(&mut conn), NOW.unix());
    sessions::find_active(&mut conn, &digest("one"), at(60)).unwrap();
    assert_eq!(seen(&mut conn), NOW.unix() + 60);
}

fn apps_list_merges_consent_and_grants_and_revoke_removes_them(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let mut r = rng();
    let alice = user(&mut r, "alice");
    users::create(&mut conn, &alice).unwrap();
    let (remembered, _) = client(&mut r);
    let (granted, _) = client(&mut r);
    clients::create(&mut conn, &remembered).unwrap();
    clients::create(&mut conn, &granted).unwrap();
    consents::remember(
        &mut conn,
        &alice.id,
        &remembered.id,
        &ScopeSet::parse("openid").unwrap(),
        NOW,
    )
    .unwrap();
    let later = NOW.plus(std::time::Duration::from_secs(86_400));
    let grant = |id: &str, scopes: &str, expires_at: Timestamp| Grant {
        id: id.to_owned(),
        client_id: granted.id.clone(),
        user_id: Some(alice.id.clone()),
        scopes: ScopeSet::parse(scopes).unwrap(),
        resources: Vec::new(),
        auth_time: Some(NOW),
        created_at: NOW,
        expires_at,
        revoked_at: None,
    };
    grants::create(&mut conn, &grant("g1", "openid project", later)).unwrap();
    // An expired grant adds nothing.
    grants::create(&mut conn, &grant("g0", "openid profile", NOW)).unwrap();
    grants::touch(&mut conn, "g1", NOW).unwrap();

    let list = apps::list(&mut conn, &alice.id, NOW).unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    let g = list.iter().find(|a| a.client_id == granted.id).unwrap();
    assert_eq!(g.scopes, ScopeSet::parse("openid project").unwrap());
    assert_eq!(g.last_used_at, Some(NOW));
    let c = list.iter().find(|a| a.client_id == remembered.id).unwrap();
    assert_eq!(c.last_used_at, None);

    let revoked = apps::revoke(&mut conn, &alice.id, &granted.id).unwrap();
    assert_eq!(revoked.grants, 2);
    let list = apps::list(&mut conn, &alice.id, NOW).unwrap();
    assert_eq!(list.len(), 1);
    let revoked = apps::revoke(&mut conn, &alice.id, &remembered.id).unwrap();
    assert_eq!(revoked.consents, 1);
    assert!(apps::list(&mut conn, &alice.id, NOW).unwrap().is_empty());
    assert!(
        !apps::revoke(&mut conn, &alice.id, &remembered.id)
            .unwrap()
            .any()
    );
}
