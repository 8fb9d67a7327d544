//! The server secret, and the keys derived from it.
//!
//! One secret per deployment, given as `OAUTH_SECRET_KEY` or kept in a file
//! (created on first start beside the SQLite database, readable only by
//! its owner). Each use gets its own key, derived with a distinct label, so
//! no two purposes ever share key material.

use std::io::Write as _;
use std::path::Path;

use actix_web::cookie::Key;
use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use sha2::{Digest as _, Sha512};

use crate::config::SecretSource;

/// Shortest secret accepted, in characters.
pub const MIN_SECRET_CHARS: usize = 32;

/// The server secret. Never printed.
pub struct ServerSecret(Vec<u8>);

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecret([redacted])")
    }
}

impl ServerSecret {
    /// Loads the secret, creating the key file when it does not exist.
    pub fn load(source: &SecretSource) -> anyhow::Result<Self> {
        match source {
            SecretSource::Given(secret) => Self::from_text(secret).context("OAUTH_SECRET_KEY"),
            SecretSource::File(path) => Self::from_file(path),
        }
    }

    fn from_text(text: &str) -> anyhow::Result<Self> {
        let text = text.trim();
        if text.chars().count() < MIN_SECRET_CHARS {
            bail!("the server secret must be at least {MIN_SECRET_CHARS} characters");
        }
        Ok(Self(text.as_bytes().to_vec()))
    }

    fn from_file(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_text(&text).with_context(|| format!("in {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 48];
                rand::rng().fill_bytes(&mut bytes);
                let text = URL_SAFE_NO_PAD.encode(bytes);
                write_new_private_file(path, &text)
                    .with_context(|| format!("creating {}", path.display()))?;
                tracing::warn!(
                    path = %path.display(),
                    "created a new server secret; back it up, and give every instance the same one \
                     (OAUTH_SECRET_KEY) when running several"
                );
                Ok(Self(text.into_bytes()))
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// 64 bytes for one purpose: SHA-512 over a purpose label and the
    /// secret.
    fn derive(&self, label: &str) -> [u8; 64] {
        let mut hasher = Sha512::new();
        hasher.update(b"oauth-server key derivation v1\0");
        hasher.update(label.as_bytes());
        hasher.update(b"\0");
        hasher.update(&self.0);
        hasher.finalize().into()
    }

    /// The key that signs and encrypts session cookies.
    pub fn session_key(&self) -> Key {
        Key::from(&self.derive("session cookie"))
    }
}

fn write_new_private_file(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secrets_are_refused() {
        assert!(ServerSecret::load(&SecretSource::Given("short".into())).is_err());
        assert!(ServerSecret::load(&SecretSource::Given("x".repeat(32))).is_ok());
    }

    #[test]
    fn a_key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oauth.db.secret");
        let a = ServerSecret::load(&SecretSource::File(path.clone())).unwrap();
        let b = ServerSecret::load(&SecretSource::File(path.clone())).unwrap();
        assert_eq!(a.0, b.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }

    #[test]
    fn purposes_get_different_keys() {
        let s = ServerSecret::load(&SecretSource::Given("y".repeat(40))).unwrap();
        assert_ne!(s.derive("a"), s.derive("b"));
        assert!(!format!("{s:?}").contains("yyy"));
    }
}
