//! Builders for the rows tests need, with a seeded generator and a fixed
//! clock.

use oauth_core::{
    Client, ClientId, ClientMetadata, ClientSecret, Password, PasswordHash, RedirectUri, Role,
    ScopeSet, Timestamp, User, UserId, Username,
};
use rand::SeedableRng as _;
use rand::rngs::StdRng;

pub(crate) const NOW: Timestamp = Timestamp::from_unix(1_790_000_000);

pub(crate) fn rng() -> StdRng {
    StdRng::seed_from_u64(42)
}

pub(crate) fn user(rng: &mut StdRng, username: &str) -> User {
    User {
        id: UserId::generate(rng),
        username: Username::parse(username).unwrap(),
        email: Some(oauth_core::Email::parse(&format!("{username}@example.com")).unwrap()),
        email_verified: true,
        picture: Some(oauth_core::Picture::parse("https://example.com/ada.png").unwrap()),
        full_name: Some(oauth_core::FullName::parse("Ada Lovelace").unwrap()),
        roles: vec![Role::parse("Projects User").unwrap()],
        enabled: true,
        password_hash: PasswordHash::hash(&Password::new("correct horse").unwrap(), rng),
        created_at: NOW,
        updated_at: NOW,
    }
}

pub(crate) fn client(rng: &mut StdRng) -> (Client, ClientSecret) {
    let secret = ClientSecret::generate(rng);
    let metadata = ClientMetadata::new(
        "Demo",
        vec![RedirectUri::parse("http://localhost:3000/oauth_code").unwrap()],
        ScopeSet::parse("openid project").unwrap(),
    )
    .validate()
    .unwrap();
    let client = Client {
        id: ClientId::generate(rng),
        metadata,
        secret_digest: Some(secret.digest()),
        previous_secret: None,
        created_at: NOW,
        updated_at: NOW,
    };
    (client, secret)
}
