-- ACP (Agentic Commerce Protocol) checkout sessions (CONTRACTS §9): which conversation
-- each session is, for which API key, and the answers given to Idempotency-Keys.
--
-- Times of sessions are fixed-width UTC text (see sqlite_sessions.rs); a request's
-- claim time is Unix milliseconds, the same on both backends, because it is compared.

-- One checkout session is one conversation with channel `acp`: its turns are the
-- session's calls, its order is the session's order. Only the key that made it sees it.
CREATE TABLE acp_checkout_sessions (
    id              TEXT PRIMARY KEY,
    api_key_id      TEXT NOT NULL REFERENCES api_keys (id),
    conversation_id TEXT NOT NULL UNIQUE REFERENCES conversations (id),
    created_at      TEXT NOT NULL,
    -- Set by `cancel`; the session then takes no more calls.
    canceled_at     TEXT
);

-- One row per (key, Idempotency-Key). A row without `response` is a request in flight:
-- it is claimed before the work starts, so that two copies of one request cannot both
-- act; a claim older than the server's request timeout was abandoned and may be taken.
CREATE TABLE acp_requests (
    api_key_id      TEXT    NOT NULL REFERENCES api_keys (id),
    idempotency_key TEXT    NOT NULL,
    -- Hex SHA-256 of the method, the path and the body as JSON: what "the same
    -- request" means.
    request_hash    TEXT    NOT NULL,
    claimed_ms      INTEGER NOT NULL,
    status          INTEGER,
    response        TEXT,
    PRIMARY KEY (api_key_id, idempotency_key)
);
