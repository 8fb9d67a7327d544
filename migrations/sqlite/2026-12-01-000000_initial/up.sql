-- The initial schema. Every time is BIGINT seconds since the Unix epoch and
-- every list is a JSON array in TEXT, so the same diesel schema serves
-- SQLite and PostgreSQL. Codes, tokens and secrets are stored only as
-- SHA-256 hex digests; passwords only as argon2id PHC strings.

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    username      TEXT NOT NULL,
    email         TEXT,
    -- Whether an administrator vouched for the email; OIDC email_verified.
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    full_name     TEXT,
    picture       TEXT,
    password_hash TEXT NOT NULL,
    roles         TEXT NOT NULL DEFAULT '[]',
    enabled       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
-- Usernames and emails are unique whatever their case, and looked up by
-- lower(); these expression indexes serve both.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE clients (
    client_id                      TEXT PRIMARY KEY NOT NULL,
    client_secret_hash             TEXT,
    name                           TEXT NOT NULL,
    redirect_uris                  TEXT NOT NULL,
    default_redirect_uri           TEXT,
    scopes                         TEXT NOT NULL,
    grant_types                    TEXT NOT NULL,
    response_types                 TEXT NOT NULL,
    token_endpoint_auth_method     TEXT NOT NULL,
    skip_authorization             BOOLEAN NOT NULL DEFAULT FALSE,
    allowed_roles                  TEXT NOT NULL DEFAULT '[]',
    access_token_format            TEXT NOT NULL DEFAULT 'opaque',
    allow_plain_pkce               BOOLEAN NOT NULL DEFAULT FALSE,
    client_uri                     TEXT,
    logo_uri                       TEXT,
    contacts                       TEXT NOT NULL DEFAULT '[]',
    registration_access_token_hash TEXT,
    created_at                     BIGINT NOT NULL,
    updated_at                     BIGINT NOT NULL
);
CREATE UNIQUE INDEX clients_registration_access_token_hash_key
    ON clients (registration_access_token_hash);

-- A grant is one user's authorization of one client: the family that every
-- access and refresh token issued from one authorization code (or one
-- client credentials request) belongs to. Revoking it ends them all.
CREATE TABLE grants (
    id         TEXT PRIMARY KEY NOT NULL,
    client_id  TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    -- RFC 8707 resource indicators the user authorized (JSON array).
    resources  TEXT NOT NULL DEFAULT '[]',
    auth_time  BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX grants_client_id_idx ON grants (client_id);
CREATE INDEX grants_user_id_client_id_idx ON grants (user_id, client_id);
CREATE INDEX grants_expires_at_idx ON grants (expires_at);

CREATE TABLE authorization_codes (
    code_hash             TEXT PRIMARY KEY NOT NULL,
    client_id             TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    user_id               TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Where the code was sent, exactly as written, and whether the request
    -- named it (if it did, the token request must repeat it: RFC 6749
    -- §4.1.3) or the client's default was used.
    redirect_uri          TEXT NOT NULL,
    redirect_uri_given    BOOLEAN NOT NULL,
    scopes                TEXT NOT NULL,
    nonce                 TEXT,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    resources             TEXT NOT NULL DEFAULT '[]',
    auth_time             BIGINT NOT NULL,
    created_at            BIGINT NOT NULL,
    expires_at            BIGINT NOT NULL,
    redeemed_at           BIGINT,
    -- Set when the code is redeemed, so a replay can revoke what it issued.
    grant_id              TEXT REFERENCES grants (id) ON DELETE SET NULL
);
CREATE INDEX authorization_codes_client_id_idx ON authorization_codes (client_id);
CREATE INDEX authorization_codes_user_id_idx ON authorization_codes (user_id);
CREATE INDEX authorization_codes_grant_id_idx ON authorization_codes (grant_id);
CREATE INDEX authorization_codes_expires_at_idx ON authorization_codes (expires_at);

CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    grant_id   TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    -- Who the token is for (RFC 8707; the JWT's aud), as a JSON array.
    audience   TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX access_tokens_grant_id_idx ON access_tokens (grant_id);
CREATE INDEX access_tokens_expires_at_idx ON access_tokens (expires_at);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    grant_id   TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- Set when the token is exchanged for its successor; presenting it
    -- again after that is reuse, and ends the grant.
    rotated_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_grant_id_idx ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);

-- Remembered consent (consent mode "auto"): one row per scope a user
-- approved for a client, until the user revokes the app. A row per scope
-- makes remembering more scopes an insert that cannot race.
CREATE TABLE consents (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id, scope)
);
CREATE INDEX consents_client_id_idx ON consents (client_id);

-- Consent dialogs awaiting the user's answer. The dialog's form carries a
-- one-time token; answering deletes the row, so of two answers (a replay,
-- or a copied session cookie) exactly one counts.
CREATE TABLE pending_consents (
    token_hash     TEXT PRIMARY KEY NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    request_digest TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX pending_consents_user_id_idx ON pending_consents (user_id);
CREATE INDEX pending_consents_expires_at_idx ON pending_consents (expires_at);

-- Keys that sign ID tokens and JWT access tokens. The private key is
-- encrypted under the server's secret key; retired keys stay published in
-- the JWKS until every token they signed has expired.
CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY NOT NULL,
    alg         TEXT NOT NULL,
    public_jwk  TEXT NOT NULL,
    private_key BLOB NOT NULL,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT,
    expires_at  BIGINT
);
CREATE INDEX signing_keys_created_at_idx ON signing_keys (created_at);
