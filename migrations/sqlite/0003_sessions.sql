-- Web sessions (tower-sessions), so that a shopper's session survives a restart.

CREATE TABLE sessions (
    -- The tower-sessions id as a string.
    id         TEXT PRIMARY KEY,
    -- The session's data as JSON.
    data       TEXT NOT NULL,
    -- UTC with exactly six fractional digits (see sqlite_sessions.rs), so that text
    -- order is time order and the index serves `expires_at < now`.
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
