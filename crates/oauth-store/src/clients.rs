//! Queries on `clients`.

use diesel::prelude::*;
use oauth_core::{
    AccessTokenFormat, Client, ClientId, ClientMetadata, GrantType, RedirectUri, Role, ScopeSet,
    SecretDigest, Timestamp, TokenEndpointAuthMethod,
};

use crate::codec::{decode, decode_list, encode_list};
use crate::error::StoreError;
use crate::pool::DbConnection;
use crate::schema::clients;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = clients)]
struct ClientRow {
    client_id: String,
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
    registration_access_token_hash: Option<String>,
    created_at: i64,
    updated_at: i64,
}

/// The columns an update may change: everything but the id, the creation
/// time and the registration access token.
#[derive(AsChangeset)]
#[diesel(table_name = clients, treat_none_as_null = true)]
struct ClientChanges {
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
}

impl ClientChanges {
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
        }
    }
}

impl ClientRow {
    fn from_client(c: &Client) -> Self {
        let ch = ClientChanges::from_client(c);
        Self {
            client_id: c.id.as_str().to_owned(),
            client_secret_hash: ch.client_secret_hash,
            name: ch.name,
            redirect_uris: ch.redirect_uris,
            default_redirect_uri: ch.default_redirect_uri,
            scopes: ch.scopes,
            grant_types: ch.grant_types,
            response_types: ch.response_types,
            token_endpoint_auth_method: ch.token_endpoint_auth_method,
            skip_authorization: ch.skip_authorization,
            allowed_roles: ch.allowed_roles,
            access_token_format: ch.access_token_format,
            allow_plain_pkce: ch.allow_plain_pkce,
            client_uri: ch.client_uri,
            logo_uri: ch.logo_uri,
            contacts: ch.contacts,
            registration_access_token_hash: None,
            created_at: c.created_at.unix(),
            updated_at: ch.updated_at,
        }
    }

    fn into_client(self) -> Result<Client, StoreError> {
        const T: &str = "clients";
        let metadata = ClientMetadata {
            name: self.name,
            redirect_uris: decode_list(
                T,
                "redirect_uris",
                &self.redirect_uris,
                RedirectUri::parse,
            )?,
            default_redirect_uri: self
                .default_redirect_uri
                .as_deref()
                .map(|u| decode(T, "default_redirect_uri", u, RedirectUri::parse))
                .transpose()?,
            scopes: decode(T, "scopes", &self.scopes, ScopeSet::parse)?,
            grant_types: decode_list(T, "grant_types", &self.grant_types, GrantType::parse)?,
            token_endpoint_auth_method: decode(
                T,
                "token_endpoint_auth_method",
                &self.token_endpoint_auth_method,
                TokenEndpointAuthMethod::parse,
            )?,
            skip_authorization: self.skip_authorization,
            allowed_roles: decode_list(T, "allowed_roles", &self.allowed_roles, Role::parse)?,
            access_token_format: decode(
                T,
                "access_token_format",
                &self.access_token_format,
                AccessTokenFormat::parse,
            )?,
            allow_plain_pkce: self.allow_plain_pkce,
            client_uri: self.client_uri,
            logo_uri: self.logo_uri,
            contacts: decode_list(T, "contacts", &self.contacts, |s| {
                Ok::<_, std::convert::Infallible>(s.to_owned())
            })?,
        };
        Ok(Client {
            id: decode(T, "client_id", &self.client_id, ClientId::parse)?,
            metadata,
            secret_digest: self
                .client_secret_hash
                .map(|h| {
                    SecretDigest::from_stored(h)
                        .map_err(|e| StoreError::corrupt(T, "client_secret_hash", e))
                })
                .transpose()?,
            created_at: Timestamp::from_unix(self.created_at),
            updated_at: Timestamp::from_unix(self.updated_at),
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
        .set(ClientChanges::from_client(client))
        .execute(conn)?;
    found(n)
}

/// Deletes a client; its codes, grants, tokens and consents go with it.
pub fn delete(conn: &mut DbConnection, id: &ClientId) -> Result<(), StoreError> {
    let n = diesel::delete(clients::table.find(id.as_str())).execute(conn)?;
    found(n)
}

fn found(rows: usize) -> Result<(), StoreError> {
    if rows == 0 {
        Err(StoreError::NotFound("client"))
    } else {
        Ok(())
    }
}
