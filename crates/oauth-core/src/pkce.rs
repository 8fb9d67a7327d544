//! Proof Key for Code Exchange (RFC 7636).
//!
//! ```text
//! code-verifier = 43*128unreserved
//! unreserved    = ALPHA / DIGIT / "-" / "." / "_" / "~"
//! code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))   (S256)
//! ```

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

use crate::error::InvalidValue;
use crate::secret::constant_time_eq;

/// How the challenge was derived from the verifier (RFC 7636 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum CodeChallengeMethod {
    /// `code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`
    #[serde(rename = "S256")]
    S256,
    /// `code_challenge = code_verifier`; only for confidential clients that
    /// opt in, since it protects nothing against an attacker who can read
    /// the authorization request.
    #[serde(rename = "plain")]
    Plain,
}

impl CodeChallengeMethod {
    /// Parses the `code_challenge_method` parameter. Absent means `plain`
    /// (RFC 7636 §4.3); the caller decides whether plain is acceptable.
    pub fn parse(s: Option<&str>) -> Result<Self, InvalidValue> {
        match s {
            None | Some("plain") => Ok(Self::Plain),
            Some("S256") => Ok(Self::S256),
            Some(other) => Err(InvalidValue::new(
                "code_challenge_method",
                format!("{other:?} is not supported; use S256"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
        }
    }
}

impl fmt::Display for CodeChallengeMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A code challenge sent with the authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge {
    value: String,
    method: CodeChallengeMethod,
}

impl CodeChallenge {
    /// Checks the challenge's syntax for its method: S256 challenges are 43
    /// base64url characters (a SHA-256 digest); plain ones are verifiers.
    pub fn parse(value: &str, method: CodeChallengeMethod) -> Result<Self, InvalidValue> {
        let ok = match method {
            CodeChallengeMethod::S256 => {
                value.len() == 43
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                    && URL_SAFE_NO_PAD.decode(value).is_ok_and(|d| d.len() == 32)
            }
            CodeChallengeMethod::Plain => is_verifier_syntax(value),
        };
        if !ok {
            return Err(InvalidValue::new(
                "code_challenge",
                match method {
                    CodeChallengeMethod::S256 => "an S256 challenge is 43 base64url characters",
                    CodeChallengeMethod::Plain => {
                        "a plain challenge is 43 to 128 characters of A-Z a-z 0-9 - . _ ~"
                    }
                },
            ));
        }
        Ok(Self {
            value: value.to_owned(),
            method,
        })
    }

    /// The S256 challenge of a verifier; what a client computes.
    pub fn s256_of(verifier: &CodeVerifier) -> Self {
        Self {
            value: s256(verifier.0.as_str()),
            method: CodeChallengeMethod::S256,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    pub fn method(&self) -> CodeChallengeMethod {
        self.method
    }

    /// Does the verifier answer this challenge? (RFC 7636 §4.6.) Compares in
    /// constant time.
    pub fn verify(&self, verifier: &CodeVerifier) -> bool {
        let expected = match self.method {
            CodeChallengeMethod::S256 => s256(&verifier.0),
            CodeChallengeMethod::Plain => verifier.0.clone(),
        };
        constant_time_eq(expected.as_bytes(), self.value.as_bytes())
    }
}

/// A code verifier sent with the token request (RFC 7636 §4.1).
#[derive(Clone, PartialEq, Eq)]
pub struct CodeVerifier(String);

impl CodeVerifier {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        if !is_verifier_syntax(s) {
            return Err(InvalidValue::new(
                "code_verifier",
                "must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// A fresh verifier of 43 characters (256 bits); what a client makes.
    pub fn generate<R: rand_core::CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(
            crate::secret::generate_secret(rng)
                .expose_secret()
                .to_owned(),
        )
    }

    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeVerifier([redacted])")
    }
}

fn is_verifier_syntax(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests;
