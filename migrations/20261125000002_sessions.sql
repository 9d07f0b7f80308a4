-- Browser sessions, shared by every Demarc replica. The key is a SHA-256 hash of the session id,
-- so a copy of this table does not hand out live sessions.
CREATE TABLE sessions (
    id_hash    bytea PRIMARY KEY,
    data       jsonb NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
