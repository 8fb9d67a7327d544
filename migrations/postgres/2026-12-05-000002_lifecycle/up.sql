-- Lifecycle that takes effect on the next request.

-- Browser sessions live here, not in the cookie: the cookie holds a random
-- session id, this table only its SHA-256 digest. Logging out deletes the
-- row, so a copied cookie ends with it; disabling or deleting the user
-- deletes every row of the user.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- When the user logged in (OIDC auth_time).
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    -- Updated at most once a minute, so reading a session rarely writes.
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- A consent dialog answers only in the server-side session that saw it.
ALTER TABLE pending_consents ADD COLUMN session_hash TEXT;

-- `oauthctl client rotate-secret --grace`: the secret before the last
-- rotation keeps working until `previous_secret_expires_at`.
ALTER TABLE clients ADD COLUMN previous_secret_hash TEXT;
ALTER TABLE clients ADD COLUMN previous_secret_expires_at BIGINT;

-- When a token of the grant was last used (refresh, introspection,
-- userinfo), to the minute; shown on the user's "Authorized apps" page.
ALTER TABLE grants ADD COLUMN last_used_at BIGINT;
