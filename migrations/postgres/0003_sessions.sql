-- Web sessions (tower-sessions), so that a shopper's session survives a restart and
-- follows them across app servers.

CREATE TABLE sessions (
    -- The tower-sessions id as a string.
    id         TEXT        PRIMARY KEY,
    data       JSONB       NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
