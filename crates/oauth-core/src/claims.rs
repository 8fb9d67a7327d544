//! Which user claims each scope releases (OpenID Connect Core §5.4), for
//! userinfo and ID tokens.
//!
//! | scope | claims |
//! |---|---|
//! | `openid` | `sub` |
//! | `profile` | `name`, `given_name`, `family_name`, `preferred_username`, `picture`, `updated_at` |
//! | `email` | `email`, `email_verified` |
//! | `roles` | `roles` (Frappe's roles; not a standard claim) |

use crate::scope::ScopeSet;
use crate::user::User;

/// The claims a set of scopes releases about a user: `sub` and the profile
/// claims. Absent claims are left out of the JSON, never sent as null.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserClaims {
    pub sub: String,
    #[serde(flatten)]
    pub profile: ProfileClaims,
}

/// The claims besides `sub`, as the `profile`, `email` and `roles` scopes
/// release them; shared by userinfo and the ID token.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ProfileClaims {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

/// Scopes this server gives meaning to, with the text the consent page
/// shows for each. Other scopes (a client's own, like `project`) are shown
/// by name.
pub const KNOWN_SCOPES: &[(&str, &str)] = &[
    ("openid", "Confirm who you are (your account identifier)"),
    ("profile", "See your name, username and profile picture"),
    ("email", "See your email address"),
    ("roles", "See the roles you hold"),
];

/// The consent page's description of a scope.
pub fn describe_scope(scope: &str) -> String {
    KNOWN_SCOPES
        .iter()
        .find(|(name, _)| *name == scope)
        .map_or_else(
            || format!("Access your {scope} data"),
            |(_, text)| (*text).to_owned(),
        )
}

impl UserClaims {
    pub fn for_scopes(user: &User, scopes: &ScopeSet) -> Self {
        Self {
            sub: user.id.as_str().to_owned(),
            profile: ProfileClaims::for_scopes(user, scopes),
        }
    }
}

impl ProfileClaims {
    pub fn for_scopes(user: &User, scopes: &ScopeSet) -> Self {
        let profile = scopes.contains("profile");
        let email = scopes.contains("email") && user.email.is_some();
        let name = user.full_name.as_ref();
        Self {
            name: name.filter(|_| profile).map(|n| n.as_str().to_owned()),
            given_name: name.filter(|_| profile).map(|n| n.given_name().to_owned()),
            family_name: name
                .filter(|_| profile)
                .and_then(|n| n.family_name())
                .map(str::to_owned),
            preferred_username: profile.then(|| user.username.as_str().to_owned()),
            picture: user
                .picture
                .as_ref()
                .filter(|_| profile)
                .map(|p| p.as_str().to_owned()),
            updated_at: profile.then(|| user.updated_at.unix()),
            email: user
                .email
                .as_ref()
                .filter(|_| email)
                .map(|e| e.as_str().to_owned()),
            email_verified: email.then_some(user.email_verified),
            roles: scopes
                .contains("roles")
                .then(|| user.roles.iter().map(|r| r.as_str().to_owned()).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{Email, FullName, Picture, Role, UserId, Username};
    use crate::password::PasswordHash;
    use crate::time::Timestamp;

    fn alice() -> User {
        User {
            id: UserId::parse("sub-1").unwrap(),
            username: Username::parse("alice").unwrap(),
            email: Some(Email::parse("alice@example.com").unwrap()),
            email_verified: false,
            full_name: Some(FullName::parse("Alice Pleasance Liddell").unwrap()),
            picture: Some(Picture::parse("https://example.com/a.png").unwrap()),
            roles: vec![Role::parse("Projects User").unwrap()],
            enabled: true,
            password_hash: PasswordHash::decoy().clone(),
            created_at: Timestamp::from_unix(1),
            updated_at: Timestamp::from_unix(2),
        }
    }

    #[test]
    fn openid_alone_releases_only_sub() {
        let c = UserClaims::for_scopes(&alice(), &ScopeSet::parse("openid project").unwrap());
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            serde_json::json!({"sub": "sub-1"})
        );
    }

    #[test]
    fn each_scope_releases_its_claims() {
        let c = UserClaims::for_scopes(
            &alice(),
            &ScopeSet::parse("openid profile email roles").unwrap(),
        );
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            serde_json::json!({
                "sub": "sub-1",
                "name": "Alice Pleasance Liddell",
                "given_name": "Alice",
                "family_name": "Pleasance Liddell",
                "preferred_username": "alice",
                "picture": "https://example.com/a.png",
                "updated_at": 2,
                "email": "alice@example.com",
                "email_verified": false,
                "roles": ["Projects User"],
            })
        );
    }

    #[test]
    fn scope_descriptions() {
        assert_eq!(describe_scope("email"), "See your email address");
        assert_eq!(describe_scope("project"), "Access your project data");
    }
}
