-- Fulfilment in (CONTRACTS §7): API keys for the shop's systems, the answers given to
-- their requests (for Idempotency-Key), and when an order shipped.
--
-- Times are fixed-width UTC text with six fractional digits, written by the store (see
-- sqlite_sessions.rs): text order is time order.

-- The first `shipped` event's time; `delivered_at` (0005) is the `delivered` event's.
ALTER TABLE orders ADD COLUMN shipped_at TEXT;

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    -- What the admin calls the system ("warehouse"); unique among keys in use.
    name       TEXT NOT NULL,
    -- Hex SHA-256 of the whole key (`gk_…`); the key itself is never stored.
    key_hash   TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    -- Set when the key stops working; the row stays so events can still name it.
    revoked_at TEXT
);
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;

-- One row per (key, Idempotency-Key): the same request again gets this answer.
CREATE TABLE fulfilment_requests (
    api_key_id      TEXT NOT NULL REFERENCES api_keys (id),
    idempotency_key TEXT NOT NULL,
    order_number    TEXT NOT NULL,
    response        TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    -- Named so that a replay is told apart from other unique violations.
    CONSTRAINT fulfilment_requests_idempotency_key PRIMARY KEY (api_key_id, idempotency_key)
);
