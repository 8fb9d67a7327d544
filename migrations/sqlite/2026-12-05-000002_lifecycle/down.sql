ALTER TABLE grants DROP COLUMN last_used_at;
ALTER TABLE clients DROP COLUMN previous_secret_expires_at;
ALTER TABLE clients DROP COLUMN previous_secret_hash;
ALTER TABLE pending_consents DROP COLUMN session_hash;
DROP TABLE sessions;
