-- Returns (DESIGN "Returns", CONTRACTS §4): a return's row, its items as decided, its
-- life as append-only events, and per order line the units already claimed.
--
-- Times compared in SQL (requested_at, updated_at) are fixed-width UTC text with six
-- fractional digits, written by the store (see sqlite_sessions.rs): text order is time
-- order. The other times use the same format so that both backends read back the same
-- microsecond-truncated instant.

ALTER TABLE orders ADD COLUMN delivered_at TEXT;

CREATE TABLE returns (
    id            TEXT    PRIMARY KEY,
    -- The code the customer and staff quote; unguessable, never reused.
    rma           TEXT    NOT NULL UNIQUE,
    order_id      TEXT    NOT NULL REFERENCES orders (id),
    email         TEXT    NOT NULL,
    -- requested | approved | rejected | in_review | received | refunded | exchanged |
    -- credited | cancelled
    status        TEXT    NOT NULL,
    -- refund | exchange | store_credit
    resolution    TEXT    NOT NULL,
    -- The number of events folded into this row: the optimistic lock for updates.
    version       INTEGER NOT NULL,
    refund_amount INTEGER,
    requested_at  TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE INDEX returns_email_requested_at ON returns (email, requested_at);
CREATE INDEX returns_status ON returns (status);
CREATE INDEX returns_requested_at ON returns (requested_at);

CREATE TABLE return_items (
    return_id      TEXT    NOT NULL REFERENCES returns (id),
    position       INTEGER NOT NULL,
    -- order_lines.position of the line the units come from.
    line           INTEGER NOT NULL,
    sku            TEXT    NOT NULL,
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    reason         TEXT    NOT NULL,
    comment        TEXT,
    -- approved | rejected | in_review, with the rule that decided and what the
    -- customer was told.
    decision       TEXT    NOT NULL,
    rule           TEXT    NOT NULL,
    message        TEXT    NOT NULL,
    value          INTEGER NOT NULL,
    restocking_fee INTEGER NOT NULL,
    PRIMARY KEY (return_id, position)
);

CREATE TABLE return_events (
    id             TEXT    PRIMARY KEY,
    return_id      TEXT    NOT NULL REFERENCES returns (id),
    -- Per return, from 1; the unique key is what stops two writers appending seq N.
    seq            INTEGER NOT NULL,
    type           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    payload        TEXT    NOT NULL,
    actor          TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    UNIQUE (return_id, seq)
);

-- Units of an order line held by returns that are approved or in review. The CHECK is
-- the last guard that no two concurrent requests return more units than were bought;
-- the store's conditional UPDATE is the first. No foreign key to order_lines: chat
-- turns rewrite an order's lines.
CREATE TABLE return_claims (
    order_id TEXT    NOT NULL REFERENCES orders (id),
    line     INTEGER NOT NULL,
    bought   INTEGER NOT NULL,
    claimed  INTEGER NOT NULL,
    PRIMARY KEY (order_id, line),
    CHECK (claimed >= 0 AND claimed <= bought)
);

-- The outbox now also carries return events, so its event_id can no longer reference
-- order_events alone. SQLite cannot drop a constraint: rebuild the table, same columns.
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- An order_events or return_events id.
    event_id        TEXT    NOT NULL UNIQUE,
    topic           TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    delivered_at    TEXT,
    dead_at         TEXT,
    last_error      TEXT
);
INSERT INTO outbox_new (id, event_id, topic, payload, attempts, next_attempt_at,
                        delivered_at, dead_at, last_error)
    SELECT id, event_id, topic, payload, attempts, next_attempt_at,
           delivered_at, dead_at, last_error
    FROM outbox;
-- Ids keep counting from where the old table was, even past rows no longer there.
DELETE FROM sqlite_sequence WHERE name = 'outbox_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox_new', seq FROM sqlite_sequence WHERE name = 'outbox';
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
