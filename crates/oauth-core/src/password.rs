//! User passwords: policy, argon2id hashing and verification.
//!
//! Hashes use argon2id with OWASP's parameters (19 MiB, t=2, p=1), which
//! are the `argon2` crate's defaults, stored as PHC strings. Hashing costs
//! about 20 ms of one core: callers on an async runtime must run it on a
//! blocking thread.

use std::fmt;

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::CryptoRng;

use crate::error::InvalidValue;
use crate::secret::SecretString;

/// Shortest password accepted (OWASP ASVS 5.0 V6.2.1).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted: long enough for any passphrase (ASVS asks
/// for at least 64), short enough that nobody can send megabytes to hash.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// A plaintext password on its way to be hashed or checked. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(SecretString);

impl Password {
    /// A new password, held to the policy: 8 to 1024 characters. Nothing
    /// else is required (ASVS V6.2.5: no composition rules).
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidValue> {
        let value = value.into();
        let chars = value.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(InvalidValue::new(
                "password",
                format!("must be at least {MIN_PASSWORD_CHARS} characters"),
            ));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(InvalidValue::new(
                "password",
                format!("must be at most {MAX_PASSWORD_CHARS} characters"),
            ));
        }
        Ok(Self(SecretString::new(value)))
    }

    /// A password typed at a login form: only bounded, since the policy may
    /// have changed since it was set.
    pub fn presented(value: impl Into<String>) -> Result<Self, InvalidValue> {
        let value = value.into();
        if value.is_empty() || value.chars().count() > MAX_PASSWORD_CHARS {
            return Err(InvalidValue::new("password", "empty or too long"));
        }
        Ok(Self(SecretString::new(value)))
    }

    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// An argon2id hash in PHC string form (`$argon2id$v=19$m=19456,t=2,p=1$…`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Hashes a password with a fresh 128-bit salt from `rng`.
    pub fn hash<R: CryptoRng + ?Sized>(password: &Password, rng: &mut R) -> Self {
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        let phc = hasher()
            .hash_password_with_salt(password.expose_secret().as_bytes(), &salt)
            // Fixed parameters, a 16-byte salt and a bounded password cannot
            // fail; a failure here is a bug in this function.
            .expect("argon2id with fixed parameters and a 16-byte salt cannot fail");
        Self(phc.to_string())
    }

    /// A hash read back from storage. Checks that it is an argon2id PHC
    /// string, so a corrupted row fails loudly instead of locking a user out
    /// in silence.
    pub fn from_stored(phc: String) -> Result<Self, InvalidValue> {
        if !phc.starts_with("$argon2id$")
            || argon2::password_hash::phc::PasswordHash::new(&phc).is_err()
        {
            return Err(InvalidValue::new(
                "password hash",
                "not an argon2id PHC string",
            ));
        }
        Ok(Self(phc))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Does the password match? Uses the parameters stored in the hash, so
    /// hashes made with older parameters still verify.
    pub fn verify(&self, password: &Password) -> bool {
        hasher()
            .verify_password(password.expose_secret().as_bytes(), self.0.as_str())
            .is_ok()
    }

    /// A hash of a password nobody knows, to verify against when a login
    /// names an unknown user, so both cases take the same time.
    pub fn decoy() -> &'static PasswordHash {
        static DECOY: std::sync::OnceLock<PasswordHash> = std::sync::OnceLock::new();
        DECOY.get_or_init(|| {
            let mut salt = [0u8; 16];
            // The decoy needs no secrecy, only the right shape and cost.
            salt.copy_from_slice(b"decoy-salt-16byt");
            let phc = hasher()
                .hash_password_with_salt(b"decoy password that matches nothing", &salt)
                .expect("argon2id with fixed parameters cannot fail");
            PasswordHash(phc.to_string())
        })
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters() {
        let mut rng = StdRng::seed_from_u64(1);
        let pw = Password::new("correct horse battery").unwrap();
        let hash = PasswordHash::hash(&pw, &mut rng);
        assert!(
            hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.as_str()
        );
        assert!(hash.verify(&pw));
        assert!(!hash.verify(&Password::presented("wrong horse").unwrap()));
        assert!(!hash.as_str().contains("correct"));
    }

    #[test]
    fn salts_differ() {
        let mut rng = StdRng::seed_from_u64(2);
        let pw = Password::new("same password").unwrap();
        assert_ne!(
            PasswordHash::hash(&pw, &mut rng),
            PasswordHash::hash(&pw, &mut rng)
        );
    }

    #[test]
    fn policy() {
        assert!(Password::new("short").is_err());
        assert!(Password::new("12345678").is_ok());
        assert!(Password::new("x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
        assert!(Password::presented("").is_err());
        assert!(Password::presented("x").is_ok());
    }

    #[test]
    fn stored_hashes_are_checked() {
        let mut rng = StdRng::seed_from_u64(3);
        let h = PasswordHash::hash(&Password::new("password1").unwrap(), &mut rng);
        assert!(PasswordHash::from_stored(h.as_str().to_owned()).is_ok());
        assert!(PasswordHash::from_stored("plaintext".into()).is_err());
        assert!(
            PasswordHash::from_stored("$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into())
                .is_err()
        );
    }

    #[test]
    fn decoy_matches_nothing() {
        assert!(!PasswordHash::decoy().verify(&Password::presented("anything").unwrap()));
    }

    #[test]
    fn nothing_prints() {
        let pw = Password::new("secret-pass").unwrap();
        let h = PasswordHash::hash(&pw, &mut StdRng::seed_from_u64(4));
        assert!(!format!("{pw:?}{h:?}").contains("secret-pass"));
        assert!(!format!("{h:?}").contains("argon2"));
    }
}
