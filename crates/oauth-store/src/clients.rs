//! Queries on `clients`.

use diesel::prelude::*;
use oauth_core::{
    AccessTokenFormat, Client, ClientId, ClientMetadata, GrantType, PreviousSecret, RedirectUri,
    Role, ScopeSet, SecretDigest, Timestamp, TokenEndpointAuthMethod,
};

use crate::codec::{decode, decode_list, encode_list};
use crate::error::StoreError;
use crate::pool::DbConnection;
use crate::schema::clients;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = clients)]
struct ClientRow {
    client_id: String,
    #[diesel(embed)]
    fields: ClientFields,
    registration_access_token_hash: Option<String>,
    created_at: i64,
}

/// The columns an update may change: everything but the id, the creation
/// time and the registration access token.
#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = clients, treat_none_as_null = true)]
struct ClientFields {
    client_secret_hash: Option<String>,
    name: String,
    redirect_uris: String,
    default_redirect_uri: Option<String>,
    scopes: String,
    grant_types: String,
    response_types: String,
    token_endpoint_auth_method: String,
    skip_authorization: bool,
    allowed_roles: String,
    access_token_format: String,
    allow_plain_pkce: bool,
    client_uri: Option<String>,
    logo_uri: Option<String>,
    contacts: String,
    updated_at: i64,
    previous_secret_hash: Option<String>,
    previous_secret_expires_at: Option<i64>,
}

impl ClientFields {
    fn from_client(c: &Client) -> Self {
        let m = &c.metadata;
        let response_types: Vec<&str> = m.response_types().iter().map(|r| r.as_str()).collect();
        let grant_types: Vec<&str> = m.grant_types.iter().map(|g| g.as_str()).collect();
        Self {
            client_secret_hash: c.secret_digest.as_ref().map(|d| d.as_str().to_owned()),
            name: m.name.clone(),
            redirect_uris: encode_list(
                &m.redirect_uris
                    .iter()
                    .map(RedirectUri::as_str)
                    .collect::<Vec<_>>(),
            ),
            default_redirect_uri: m
                .default_redirect_uri
                .as_ref()
                .map(|u| u.as_str().to_owned()),
            scopes: m.scopes.to_string(),
            grant_types: encode_list(&grant_types),
            response_types: encode_list(&response_types),
            token_endpoint_auth_method: m.token_endpoint_auth_method.as_str().to_owned(),
            skip_authorization: m.skip_authorization,
            allowed_roles: encode_list(&m.allowed_roles),
            access_token_format: m.access_token_format.as_str().to_owned(),
            allow_plain_pkce: m.allow_plain_pkce,
            client_uri: m.client_uri.clone(),
            logo_uri: m.logo_uri.clone(),
            contacts: encode_list(&m.contacts),
            updated_at: c.updated_at.unix(),
            previous_secret_hash: c
                .previous_secret
                .as_ref()
                .map(|p| p.digest.as_str().to_owned()),
            previous_secret_expires_at: c.previous_secret.as_ref().map(|p| p.expires_at.unix()),
        }
    }
}

impl ClientRow {
    fn from_client(c: &Client) -> Self {
        Self {
            client_id: c.id.as_str().to_owned(),
            fields: ClientFields::from_client(c),
            registration_access_token_hash: None,
            created_at: c.created_at.unix(),
        }
    }

    fn into_client(self) -> Result<Client, StoreError> {
        const T: &str = "clients";
        let f = self.fields;
        let metadata = ClientMetadata {
            name: f.name,
            redirect_uris: decode_list(T, "redirect_uris", &f.redirect_uris, RedirectUri::parse)?,
            default_redirect_uri: f
                .default_redirect_uri
                .as_deref()
                .map(|u| decode(T, "default_redirect_uri", u, RedirectUri::parse))
                .transpose()?,
            scopes: decode(T, "scopes", &f.scopes, ScopeSet::parse)?,
            grant_types: decode_list(T, "grant_types", &f.grant_types, GrantType::parse)?,
            token_endpoint_auth_method: decode(
                T,
                "token_endpoint_auth_method",
                &f.token_endpoint_auth_method,
                TokenEndpointAuthMethod::parse,
            )?,
            skip_authorization: f.skip_authorization,
            allowed_roles: decode_list(T, "allowed_roles", &f.allowed_roles, Role::parse)?,
            access_token_format: decode(
                T,
                "access_token_format",
                &f.access_token_format,
                AccessTokenFormat::parse,
            )?,
            allow_plain_pkce: f.allow_plain_pkce,
            client_uri: f.client_uri,
            logo_uri: f.logo_uri,
            contacts: decode_list(T, "contacts", &f.contacts, |s| {
                Ok::<_, std::convert::Infallible>(s.to_owned())
            })?,
        };
        Ok(Client {
            id: decode(T, "client_id", &self.client_id, ClientId::parse)?,
            metadata,
            secret_digest: f
                .client_secret_hash
                .map(|h| {
                    SecretDigest::from_stored(h)
                        .map_err(|e| StoreError::corrupt(T, "client_secret_hash", e))
                })
                .transpose()?,
            previous_secret: match (f.previous_secret_hash, f.previous_secret_expires_at) {
                (Some(hash), Some(expires_at)) => Some(PreviousSecret {
                    digest: SecretDigest::from_stored(hash)
                        .map_err(|e| StoreError::corrupt(T, "previous_secret_hash", e))?,
                    expires_at: Timestamp::from_unix(expires_at),
                }),
                _ => None,
            },
            created_at: Timestamp::from_unix(self.created_at),
            updated_at: Timestamp::from_unix(f.updated_at),
        })
    }
}

/// Stores a new client. Its metadata must have passed
/// [`ClientMetadata::validate`].
pub fn create(conn: &mut DbConnection, client: &Client) -> Result<(), StoreError> {
    diesel::insert_into(clients::table)
        .values(ClientRow::from_client(client))
        .execute(conn)
        .map_err(|e| {
            if StoreError::is_unique_violation(&e) {
                StoreError::Conflict("a client with this id")
            } else {
                StoreError::from(e)
            }
        })?;
    Ok(())
}

/// The client with this id.
pub fn find(conn: &mut DbConnection, id: &ClientId) -> Result<Option<Client>, StoreError> {
    clients::table
        .find(id.as_str())
        .select(ClientRow::as_select())
        .first(conn)
        .optional()?
        .map(ClientRow::into_client)
        .transpose()
}

/// Every client, oldest first.
pub fn list(conn: &mut DbConnection) -> Result<Vec<Client>, StoreError> {
    clients::table
        .order((clients::created_at.asc(), clients::client_id.asc()))
        .select(ClientRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ClientRow::into_client)
        .collect()
}

/// Writes every field of `client` but its id and creation time.
pub fn update(conn: &mut DbConnection, client: &Client) -> Result<(), StoreError> {
    let n = diesel::update(clients::table.find(client.id.as_str()))
        .set(ClientFields::from_client(client))
        .execute(conn)?;
    found(n)
}

/// Deletes a client; its codes, grants, tokens and consents go with it.
pub fn delete(conn: &mut DbConnection, id: &ClientId) -> Result<(), StoreError> {
    let n = diesel::delete(clients::table.find(id.as_str())).execute(conn)?;
    found(n)
}

/// Stores a client registered through RFC 7591, with the digest of its
/// registration access token. Its metadata must have passed
/// [`ClientMetadata::validate`].
pub fn create_registered(
    conn: &mut DbConnection,
    client: &Client,
    registration_token_digest: &SecretDigest,
) -> Result<(), StoreError> {
    let mut row = ClientRow::from_client(client);
    row.registration_access_token_hash = Some(registration_token_digest.as_str().to_owned());
    diesel::insert_into(clients::table)
        .values(row)
        .execute(conn)
        .map_err(|e| {
            if StoreError::is_unique_violation(&e) {
                StoreError::Conflict("a client with this id or registration access token")
            } else {
                StoreError::from(e)
            }
        })?;
    Ok(())
}

/// The client whose registration access token has this digest (RFC 7592).
/// The lookup is by digest, through the column's unique index.
pub fn find_by_registration_token(
    conn: &mut DbConnection,
    digest: &SecretDigest,
) -> Result<Option<Client>, StoreError> {
    clients::table
        .filter(clients::registration_access_token_hash.eq(digest.as_str()))
        .select(ClientRow::as_select())
        .first(conn)
        .optional()?
        .map(ClientRow::into_client)
        .transpose()
}

/// Replaces a client's registration access token with one of this digest.
pub fn set_registration_token(
    conn: &mut DbConnection,
    id: &ClientId,
    digest: &SecretDigest,
) -> Result<(), StoreError> {
    let n = diesel::update(clients::table.find(id.as_str()))
        .set(clients::registration_access_token_hash.eq(Some(digest.as_str())))
        .execute(conn)
        .map_err(|e| {
            if StoreError::is_unique_violation(&e) {
                StoreError::Conflict("a client with this registration access token")
            } else {
                StoreError::from(e)
            }
        })?;
    found(n)
}

fn found(rows: usize) -> Result<(), StoreError> {
    if rows == 0 {
        Err(StoreError::NotFound("client"))
    } else {
        Ok(())
    }
}
