use std::time::Duration;

use oauth_core::Timestamp;
use oauth_core::jose::{self, SigningAlg};
use oauth_store::keys;
use oauth_store::secret::{SecretSource, ServerSecret};
use oauth_store::test_support::TestDb;

use crate::fixtures::NOW;

oauth_store::test_on_both_backends!(
    a_created_key_is_active_published_and_opens,
    rotation_retires_the_old_key_but_keeps_it_published,
    private_keys_are_stored_sealed,
    a_different_server_secret_cannot_open_the_keys,
);

fn secret(text: &str) -> ServerSecret {
    ServerSecret::load(&SecretSource::Given(text.repeat(8))).unwrap()
}

fn a_created_key_is_active_published_and_opens(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let s = secret("abcd");
    let info = keys::create(&mut conn, SigningAlg::Rs256, &s, NOW).unwrap();
    let active = keys::active(&mut conn, &s).unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].kid(), info.kid);
    assert_eq!(active[0].public_jwk().unwrap(), info.public_jwk);
    assert_eq!(keys::published(&mut conn, NOW).unwrap(), vec![info]);
}

fn rotation_retires_the_old_key_but_keeps_it_published(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let s = secret("abcd");
    let old = keys::create(&mut conn, SigningAlg::Es256, &s, NOW).unwrap();
    let later = Timestamp::from_unix(NOW.unix() + 10);
    let new = keys::rotate(
        &mut conn,
        SigningAlg::Es256,
        &s,
        later,
        Duration::from_secs(3600),
    )
    .unwrap();
    let active: Vec<String> = keys::active(&mut conn, &s)
        .unwrap()
        .iter()
        .map(|k| k.kid().to_owned())
        .collect();
    assert_eq!(active, vec![new.kid.clone()]);
    let published: Vec<String> = keys::published(&mut conn, later)
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert!(published.contains(&old.kid) && published.contains(&new.kid));
    // After the keep period the old key leaves the JWKS.
    let much_later = Timestamp::from_unix(later.unix() + 3601);
    let published: Vec<String> = keys::published(&mut conn, much_later)
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(published, vec![new.kid]);
    // Rotating one algorithm leaves the others alone.
    keys::create(&mut conn, SigningAlg::EdDsa, &s, later).unwrap();
    keys::rotate(
        &mut conn,
        SigningAlg::Es256,
        &s,
        much_later,
        Duration::from_secs(1),
    )
    .unwrap();
    assert!(
        keys::active(&mut conn, &s)
            .unwrap()
            .iter()
            .any(|k| k.alg() == SigningAlg::EdDsa)
    );
}

fn private_keys_are_stored_sealed(t: &TestDb) {
    use diesel::prelude::*;
    use oauth_store::schema::signing_keys;
    let mut conn = t.db().conn().unwrap();
    let s = secret("abcd");
    let info = keys::create(&mut conn, SigningAlg::EdDsa, &s, NOW).unwrap();
    let sealed: Vec<u8> = signing_keys::table
        .find(&info.kid)
        .select(signing_keys::private_key)
        .first(&mut *conn)
        .unwrap();
    let key = &keys::active(&mut conn, &s).unwrap()[0];
    assert!(
        !sealed.windows(key.pkcs8().len()).any(|w| w == key.pkcs8()),
        "the private key is in the clear"
    );
    assert_eq!(
        jose::open(&s.sealing_key(), &info.kid, &sealed)
            .unwrap()
            .as_slice(),
        key.pkcs8()
    );
}

fn a_different_server_secret_cannot_open_the_keys(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    keys::create(&mut conn, SigningAlg::Rs256, &secret("abcd"), NOW).unwrap();
    let err = keys::active(&mut conn, &secret("wxyz")).unwrap_err();
    assert!(err.to_string().contains("wrong server secret"), "{err}");
}
