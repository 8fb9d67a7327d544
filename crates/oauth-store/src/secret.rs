//! The server secret, and the keys derived from it.
//!
//! One secret per deployment, given as `OAUTH_SECRET_KEY` or kept in a file
//! (created on first start beside the SQLite database, readable only by
//! its owner). Each use gets its own key, derived with a distinct label, so
//! no two purposes ever share key material. It lives here, beside the
//! database, because the server and `oauthctl` must find the same one: the
//! signing keys in the database are sealed under it.

use std::io::Write as _;
use std::path::Path;

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use sha2::{Digest as _, Sha512};

/// Where the server secret comes from.
#[derive(Clone)]
pub enum SecretSource {
    /// `OAUTH_SECRET_KEY`.
    Given(String),
    /// A file holding it, created on first start if missing.
    File(PathBuf),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Given(_) => f.write_str("Given([redacted])"),
            Self::File(path) => write!(f, "File({})", path.display()),
        }
    }
}

impl SecretSource {
    /// The secret given, else the key file named, else a file beside the
    /// SQLite database (`<path>.secret`). PostgreSQL deployments must name
    /// one: every instance needs the same secret.
    pub fn resolve(
        given: Option<String>,
        file: Option<PathBuf>,
        database_url: &str,
    ) -> Result<Self, SecretError> {
        match (given, file) {
            (Some(secret), _) => Ok(Self::Given(secret)),
            (None, Some(path)) => Ok(Self::File(path)),
            (None, None) => match database_url.strip_prefix("sqlite://") {
                Some(db) => Ok(Self::File(PathBuf::from(format!("{db}.secret")))),
                None => Err(SecretError(
                    "set OAUTH_SECRET_KEY (or secret_key_file in the config file): with PostgreSQL, \
                     every instance must share the same secret"
                        .into(),
                )),
            },
        }
    }
}

/// A problem with the server secret, as one line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SecretError(String);

impl SecretError {
    fn io(what: String, e: std::io::Error) -> Self {
        Self(format!("{what}: {e}"))
    }
}

/// Shortest secret accepted, in characters.
pub const MIN_SECRET_CHARS: usize = 32;

/// The server secret. Never printed.
pub struct ServerSecret {
    bytes: Vec<u8>,
    created: Option<PathBuf>,
}

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecret([redacted])")
    }
}

impl ServerSecret {
    /// Loads the secret, creating the key file when it does not exist.
    pub fn load(source: &SecretSource) -> Result<Self, SecretError> {
        match source {
            SecretSource::Given(secret) => {
                Self::from_text(secret).map_err(|e| SecretError(format!("OAUTH_SECRET_KEY: {e}")))
            }
            SecretSource::File(path) => Self::from_file(path),
        }
    }

    fn from_text(text: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        if text.chars().count() < MIN_SECRET_CHARS {
            return Err(SecretError(format!(
                "the server secret must be at least {MIN_SECRET_CHARS} characters"
            )));
        }
        Ok(Self {
            bytes: text.as_bytes().to_vec(),
            created: None,
        })
    }

    fn from_file(path: &Path) -> Result<Self, SecretError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_text(&text)
                .map_err(|e| SecretError(format!("in {}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 48];
                rand::rng().fill_bytes(&mut bytes);
                let text = URL_SAFE_NO_PAD.encode(bytes);
                write_new_private_file(path, &text)
                    .map_err(|e| SecretError::io(format!("creating {}", path.display()), e))?;
                Ok(Self {
                    bytes: text.into_bytes(),
                    created: Some(path.to_owned()),
                })
            }
            Err(e) => Err(SecretError::io(format!("reading {}", path.display()), e)),
        }
    }

    /// The key file this load created, if it created one: the caller warns
    /// that it must be backed up and shared between instances.
    pub fn created(&self) -> Option<&Path> {
        self.created.as_deref()
    }

    /// 64 bytes for one purpose: SHA-512 over a purpose label and the
    /// secret.
    fn derive(&self, label: &str) -> [u8; 64] {
        let mut hasher = Sha512::new();
        hasher.update(b"oauth-server key derivation v1\0");
        hasher.update(label.as_bytes());
        hasher.update(b"\0");
        hasher.update(&self.bytes);
        hasher.finalize().into()
    }

    /// 64 bytes of key material that sign and encrypt session cookies.
    pub fn session_key(&self) -> [u8; 64] {
        self.derive("session cookie")
    }

    /// The AES-256 key that seals signing keys in the database.
    pub fn sealing_key(&self) -> [u8; 32] {
        let mut key = [0u8; 32];
        key.copy_from_slice(&self.derive("signing key sealing")[..32]);
        key
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
        assert_eq!(a.bytes, b.bytes);
        assert!(a.created().is_some() && b.created().is_none());
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
