-- Failed-login counters, one per key: an account (the login name as
-- typed) or a client address. The key is a SHA-256 digest, so the table
-- lists no login names or addresses. Shared by every instance, so a
-- restart or another instance does not give an attacker fresh attempts.
CREATE TABLE login_throttle (
    key_hash        TEXT PRIMARY KEY NOT NULL,
    failures        BIGINT NOT NULL,
    last_failure    BIGINT NOT NULL,
    next_allowed_at BIGINT NOT NULL,
    locked_until    BIGINT,
    -- When the counter no longer matters (oauthctl gc deletes it).
    expires_at      BIGINT NOT NULL
);
CREATE INDEX login_throttle_expires_at_idx ON login_throttle (expires_at);
