//! Queries on `users`.

use diesel::prelude::*;
use oauth_core::{Email, FullName, PasswordHash, Picture, Role, Timestamp, User, UserId, Username};

use crate::codec::{decode, decode_list, encode_list};
use crate::error::StoreError;
use crate::pool::{DbConnection, write_transaction};
use crate::schema::users;
use crate::sessions;

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = users)]
struct UserRow {
    id: String,
    username: String,
    email: Option<String>,
    email_verified: bool,
    full_name: Option<String>,
    picture: Option<String>,
    password_hash: String,
    roles: String,
    enabled: bool,
    created_at: i64,
    updated_at: i64,
}

impl UserRow {
    fn from_user(u: &User) -> Self {
        Self {
            id: u.id.as_str().to_owned(),
            username: u.username.as_str().to_owned(),
            email: u.email.as_ref().map(|e| e.as_str().to_owned()),
            email_verified: u.email_verified,
            full_name: u.full_name.as_ref().map(|n| n.as_str().to_owned()),
            picture: u.picture.as_ref().map(|p| p.as_str().to_owned()),
            password_hash: u.password_hash.as_str().to_owned(),
            roles: encode_list(&u.roles),
            enabled: u.enabled,
            created_at: u.created_at.unix(),
            updated_at: u.updated_at.unix(),
        }
    }

    fn into_user(self) -> Result<User, StoreError> {
        const T: &str = "users";
        Ok(User {
            id: decode(T, "id", &self.id, UserId::parse)?,
            username: decode(T, "username", &self.username, Username::parse)?,
            email: self
                .email
                .as_deref()
                .map(|e| decode(T, "email", e, Email::parse))
                .transpose()?,
            email_verified: self.email_verified,
            picture: self
                .picture
                .as_deref()
                .map(|p| decode(T, "picture", p, Picture::parse))
                .transpose()?,
            full_name: self
                .full_name
                .as_deref()
                .map(|n| decode(T, "full_name", n, FullName::parse))
                .transpose()?,
            roles: decode_list(T, "roles", &self.roles, Role::parse)?,
            enabled: self.enabled,
            password_hash: PasswordHash::from_stored(self.password_hash)
                .map_err(|e| StoreError::corrupt(T, "password_hash", e))?,
            created_at: Timestamp::from_unix(self.created_at),
            updated_at: Timestamp::from_unix(self.updated_at),
        })
    }
}

/// Stores a new user. Usernames and emails are unique whatever their case.
pub fn create(conn: &mut DbConnection, user: &User) -> Result<(), StoreError> {
    diesel::insert_into(users::table)
        .values(UserRow::from_user(user))
        .execute(conn)
        .map_err(conflict_or)?;
    Ok(())
}

/// The user with this id.
pub fn find_by_id(conn: &mut DbConnection, id: &UserId) -> Result<Option<User>, StoreError> {
    users::table
        .find(id.as_str())
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(UserRow::into_user)
        .transpose()
}

/// The user with this username, compared without regard to case.
pub fn find_by_username(
    conn: &mut DbConnection,
    username: &str,
) -> Result<Option<User>, StoreError> {
    users::table
        .filter(lower(users::username).eq(lower(username)))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(UserRow::into_user)
        .transpose()
}

/// Every user, by username.
pub fn list(conn: &mut DbConnection) -> Result<Vec<User>, StoreError> {
    users::table
        .order(users::username.asc())
        .select(UserRow::as_select())
        .load(conn)?
        .into_iter()
        .map(UserRow::into_user)
        .collect()
}

/// Replaces the password hash.
pub fn set_password(
    conn: &mut DbConnection,
    id: &UserId,
    hash: &PasswordHash,
    now: Timestamp,
) -> Result<(), StoreError> {
    let n = diesel::update(users::table.find(id.as_str()))
        .set((
            users::password_hash.eq(hash.as_str()),
            users::updated_at.eq(now.unix()),
        ))
        .execute(conn)?;
    found(n)
}

/// Enables or disables a user. Disabling also ends the user's browser
/// sessions, in the same transaction, so that it holds for every caller;
/// the user's tokens stay stored but every endpoint refuses them while
/// the user is disabled. Starts its own write transaction.
pub fn set_enabled(
    conn: &mut DbConnection,
    id: &UserId,
    enabled: bool,
    now: Timestamp,
) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        let n = diesel::update(users::table.find(id.as_str()))
            .set((users::enabled.eq(enabled), users::updated_at.eq(now.unix())))
            .execute(conn)?;
        found(n)?;
        if !enabled {
            sessions::delete_for_user(conn, id)?;
        }
        Ok(())
    })
}

/// Deletes a user; its sessions, codes, grants, tokens and consents go
/// with it (foreign keys cascade; sessions are deleted explicitly too, so
/// the rule does not rest on the cascade alone). Starts its own write
/// transaction.
pub fn delete(conn: &mut DbConnection, id: &UserId) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        sessions::delete_for_user(conn, id)?;
        let n = diesel::delete(users::table.find(id.as_str())).execute(conn)?;
        found(n)
    })
}

fn found(rows: usize) -> Result<(), StoreError> {
    if rows == 0 {
        Err(StoreError::NotFound("user"))
    } else {
        Ok(())
    }
}

fn conflict_or(e: diesel::result::Error) -> StoreError {
    if let diesel::result::Error::DatabaseError(_, info) = &e
        && StoreError::is_unique_violation(&e)
    {
        // SQLite names the index in its message, PostgreSQL in the
        // constraint name; both of ours say which column.
        let about = format!(
            "{} {}",
            info.message(),
            info.constraint_name().unwrap_or_default()
        );
        return StoreError::Conflict(if about.contains("email") {
            "a user with this email"
        } else {
            "a user with this username"
        });
    }
    StoreError::from(e)
}
