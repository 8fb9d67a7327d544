use oauth_core::{Password, PasswordHash, Timestamp, UserId};
use oauth_store::test_support::TestDb;
use oauth_store::{StoreError, users};

use crate::fixtures::{NOW, rng, user};

oauth_store::test_on_both_backends!(
    create_and_find_round_trips_every_field,
    usernames_are_unique_whatever_their_case,
    emails_are_unique_whatever_their_case,
    users_without_email_do_not_collide,
    list_is_sorted_by_username,
    password_change_replaces_the_hash,
    disable_and_enable,
    delete_removes_the_user,
    missing_users_are_not_found,
);

fn create_and_find_round_trips_every_field(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let alice = user(&mut rng(), "alice");
    users::create(&mut conn, &alice).unwrap();
    assert_eq!(
        users::find_by_id(&mut conn, &alice.id).unwrap(),
        Some(alice.clone())
    );
    assert_eq!(
        users::find_by_username(&mut conn, "ALICE").unwrap(),
        Some(alice)
    );
}

fn usernames_are_unique_whatever_their_case(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let mut r = rng();
    users::create(&mut conn, &user(&mut r, "alice")).unwrap();
    let mut twin = user(&mut r, "Alice");
    twin.email = None;
    let err = users::create(&mut conn, &twin).unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(what) if what.contains("username")),
        "{err}"
    );
    assert_eq!(users::list(&mut conn).unwrap().len(), 1);
}

fn emails_are_unique_whatever_their_case(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let mut r = rng();
    users::create(&mut conn, &user(&mut r, "alice")).unwrap();
    let mut other = user(&mut r, "bob");
    other.email = Some(oauth_core::Email::parse("ALICE@example.com").unwrap());
    let err = users::create(&mut conn, &other).unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(what) if what.contains("email")),
        "{err}"
    );
}

fn users_without_email_do_not_collide(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let mut r = rng();
    for name in ["a", "b"] {
        let mut u = user(&mut r, name);
        u.email = None;
        users::create(&mut conn, &u).unwrap();
    }
    assert_eq!(users::list(&mut conn).unwrap().len(), 2);
}

fn list_is_sorted_by_username(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let mut r = rng();
    for name in ["carol", "alice", "bob"] {
        users::create(&mut conn, &user(&mut r, name)).unwrap();
    }
    let names: Vec<String> = users::list(&mut conn)
        .unwrap()
        .into_iter()
        .map(|u| u.username.into_string())
        .collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
}

fn password_change_replaces_the_hash(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let mut r = rng();
    let alice = user(&mut r, "alice");
    users::create(&mut conn, &alice).unwrap();
    let new = Password::new("a new passphrase").unwrap();
    let later = Timestamp::from_unix(NOW.unix() + 60);
    users::set_password(
        &mut conn,
        &alice.id,
        &PasswordHash::hash(&new, &mut r),
        later,
    )
    .unwrap();
    let stored = users::find_by_id(&mut conn, &alice.id).unwrap().unwrap();
    assert!(stored.password_hash.verify(&new));
    assert!(
        !stored
            .password_hash
            .verify(&Password::new("correct horse").unwrap())
    );
    assert_eq!(stored.updated_at, later);
}

fn disable_and_enable(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let alice = user(&mut rng(), "alice");
    users::create(&mut conn, &alice).unwrap();
    users::set_enabled(&mut conn, &alice.id, false, NOW).unwrap();
    assert!(
        !users::find_by_id(&mut conn, &alice.id)
            .unwrap()
            .unwrap()
            .enabled
    );
    users::set_enabled(&mut conn, &alice.id, true, NOW).unwrap();
    assert!(
        users::find_by_id(&mut conn, &alice.id)
            .unwrap()
            .unwrap()
            .enabled
    );
}

fn delete_removes_the_user(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let alice = user(&mut rng(), "alice");
    users::create(&mut conn, &alice).unwrap();
    users::delete(&mut conn, &alice.id).unwrap();
    assert_eq!(users::find_by_id(&mut conn, &alice.id).unwrap(), None);
    assert!(matches!(
        users::delete(&mut conn, &alice.id),
        Err(StoreError::NotFound(_))
    ));
}

fn missing_users_are_not_found(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let ghost = UserId::parse("ghost").unwrap();
    assert_eq!(users::find_by_username(&mut conn, "ghost").unwrap(), None);
    assert!(matches!(
        users::set_enabled(&mut conn, &ghost, false, NOW),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        users::set_password(&mut conn, &ghost, oauth_core::PasswordHash::decoy(), NOW),
        Err(StoreError::NotFound(_))
    ));
}
