use oauth_core::{
    AccessTokenFormat, ClientId, GrantType, RedirectUri, Role, ScopeSet, Timestamp,
    TokenEndpointAuthMethod,
};
use oauth_store::test_support::TestDb;
use oauth_store::{StoreError, clients};

use crate::fixtures::{NOW, client, rng};

oauth_store::test_on_both_backends!(
    create_and_find_round_trips_every_field,
    the_secret_is_stored_only_as_its_digest,
    update_writes_every_field,
    public_clients_have_no_secret,
    list_is_oldest_first,
    delete_removes_the_client,
    duplicate_ids_conflict,
);

fn create_and_find_round_trips_every_field(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let (mut c, _) = client(&mut rng());
    c.metadata.allowed_roles = vec![Role::parse("System Manager").unwrap()];
    c.metadata.contacts = vec!["ops@example.com".into()];
    c.metadata.client_uri = Some("https://demo.example.com".into());
    c.metadata.logo_uri = Some("https://demo.example.com/logo.png".into());
    c.metadata.skip_authorization = true;
    clients::create(&mut conn, &c).unwrap();
    assert_eq!(clients::find(&mut conn, &c.id).unwrap(), Some(c));
}

fn the_secret_is_stored_only_as_its_digest(t: &TestDb) {
    use diesel::prelude::*;
    use oauth_store::schema::clients as table;
    let mut conn = t.db().conn().unwrap();
    let (c, secret) = client(&mut rng());
    clients::create(&mut conn, &c).unwrap();
    let stored: Option<String> = table::table
        .find(c.id.as_str())
        .select(table::client_secret_hash)
        .first(&mut *conn)
        .unwrap();
    let stored = stored.unwrap();
    assert_ne!(stored, secret.expose_secret());
    assert_eq!(stored, secret.digest().as_str());
    let found = clients::find(&mut conn, &c.id).unwrap().unwrap();
    assert!(found.secret_digest.unwrap().matches(secret.expose_secret()));
}

fn update_writes_every_field(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let mut r = rng();
    let (mut c, _) = client(&mut r);
    clients::create(&mut conn, &c).unwrap();
    let m = &mut c.metadata;
    m.name = "Renamed".into();
    m.redirect_uris = vec![
        RedirectUri::parse("https://a.example/cb").unwrap(),
        RedirectUri::parse("https://b.example/cb").unwrap(),
    ];
    m.default_redirect_uri = Some(m.redirect_uris[1].clone());
    m.scopes = ScopeSet::parse("email").unwrap();
    m.grant_types = vec![GrantType::AuthorizationCode, GrantType::ClientCredentials];
    m.token_endpoint_auth_method = TokenEndpointAuthMethod::ClientSecretPost;
    m.access_token_format = AccessTokenFormat::Jwt;
    m.allow_plain_pkce = true;
    c.secret_digest = Some(oauth_core::ClientSecret::generate(&mut r).digest());
    c.updated_at = Timestamp::from_unix(NOW.unix() + 5);
    clients::update(&mut conn, &c).unwrap();
    assert_eq!(clients::find(&mut conn, &c.id).unwrap(), Some(c));
}

fn public_clients_have_no_secret(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let (mut c, _) = client(&mut rng());
    c.metadata.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
    c.secret_digest = None;
    clients::create(&mut conn, &c).unwrap();
    let found = clients::find(&mut conn, &c.id).unwrap().unwrap();
    assert!(found.metadata.is_public());
    assert_eq!(found.secret_digest, None);
}

fn list_is_oldest_first(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let mut r = rng();
    let mut ids = Vec::new();
    for i in 0..3 {
        let (mut c, _) = client(&mut r);
        c.created_at = Timestamp::from_unix(NOW.unix() - i);
        clients::create(&mut conn, &c).unwrap();
        ids.push(c.id);
    }
    ids.reverse();
    let listed: Vec<ClientId> = clients::list(&mut conn)
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, ids);
}

fn delete_removes_the_client(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let (c, _) = client(&mut rng());
    clients::create(&mut conn, &c).unwrap();
    clients::delete(&mut conn, &c.id).unwrap();
    assert_eq!(clients::find(&mut conn, &c.id).unwrap(), None);
    assert!(matches!(
        clients::delete(&mut conn, &c.id),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        clients::update(&mut conn, &c),
        Err(StoreError::NotFound(_))
    ));
}

fn duplicate_ids_conflict(t: &TestDb) {
    let mut conn = t.db().conn().unwrap();
    let (c, _) = client(&mut rng());
    clients::create(&mut conn, &c).unwrap();
    assert!(matches!(
        clients::create(&mut conn, &c),
        Err(StoreError::Conflict(_))
    ));
}
