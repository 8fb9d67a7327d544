//! Users: the resource owners who log in and grant access.

use crate::ids::{Email, FullName, Role, UserId, Username};
use crate::password::PasswordHash;
use crate::time::Timestamp;

/// A user, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable and opaque: the OIDC `sub`.
    pub id: UserId,
    pub username: Username,
    pub email: Option<Email>,
    pub full_name: Option<FullName>,
    pub roles: Vec<Role>,
    /// A disabled user cannot log in and its tokens stop working.
    pub enabled: bool,
    pub password_hash: PasswordHash,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
