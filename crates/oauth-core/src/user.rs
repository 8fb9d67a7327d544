//! Users: the resource owners who log in and grant access.

use crate::ids::{Email, FullName, Picture, Role, UserId, Username};
use crate::password::PasswordHash;
use crate::time::Timestamp;

/// A user, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable and opaque: the OIDC `sub`.
    pub id: UserId,
    pub username: Username,
    pub email: Option<Email>,
    /// Did an administrator vouch for the email? Becomes the OIDC
    /// `email_verified` claim; relying parties link accounts on it, so it
    /// is false unless set on purpose.
    pub email_verified: bool,
    pub full_name: Option<FullName>,
    /// URL of a profile picture (OIDC `picture`).
    pub picture: Option<Picture>,
    pub roles: Vec<Role>,
    /// A disabled user cannot log in and its tokens stop working.
    pub enabled: bool,
    pub password_hash: PasswordHash,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
