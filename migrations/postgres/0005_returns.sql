-- Returns (DESIGN "Returns", CONTRACTS §4): a return's row, its items as decided, its
-- life as append-only events, and per order line the units already claimed.

ALTER TABLE orders ADD COLUMN delivered_at TIMESTAMPTZ;

CREATE TABLE returns (
    id            TEXT        PRIMARY KEY,
    -- The code the customer and staff quote; unguessable, never reused.
    rma           TEXT        NOT NULL UNIQUE,
    order_id      TEXT        NOT NULL REFERENCES orders (id),
    email         TEXT        NOT NULL,
    -- requested | approved | rejected | in_review | received | refunded | exchanged |
    -- credited | cancelled
    status        TEXT        NOT NULL,
    -- refund | exchange | store_credit
    resolution    TEXT        NOT NULL,
    -- The number of events folded into this row: the optimistic lock for updates.
    version       BIGINT      NOT NULL,
    refund_amount BIGINT,
    requested_at  TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX returns_email_requested_at ON returns (email, requested_at);
CREATE INDEX returns_status ON returns (status);
CREATE INDEX returns_requested_at ON returns (requested_at);

CREATE TABLE return_items (
    return_id      TEXT   NOT NULL REFERENCES returns (id),
    position       BIGINT NOT NULL,
    -- order_lines.position of the line the units come from.
    line           BIGINT NOT NULL,
    sku            TEXT   NOT NULL,
    quantity       BIGINT NOT NULL CHECK (quantity > 0),
    reason         TEXT   NOT NULL,
    comment        TEXT,
    -- approved | rejected | in_review, with the rule that decided and what the
    -- customer was told.
    decision       TEXT   NOT NULL,
    rule           TEXT   NOT NULL,
    message        TEXT   NOT NULL,
    value          BIGINT NOT NULL,
    restocking_fee BIGINT NOT NULL,
    PRIMARY KEY (return_id, position)
);

CREATE TABLE return_events (
    id             TEXT        PRIMARY KEY,
    return_id      TEXT        NOT NULL REFERENCES returns (id),
    -- Per return, from 1; the unique key is what stops two writers appending seq N.
    seq            BIGINT      NOT NULL,
    type           TEXT        NOT NULL,
    schema_version BIGINT      NOT NULL,
    payload        JSONB       NOT NULL,
    actor          TEXT        NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (return_id, seq)
);

-- Units of an order line held by returns that are approved or in review. The CHECK is
-- the last guard that no two concurrent requests return more units than were bought;
-- the store's conditional UPDATE (which waits on the row lock) is the first. No
-- foreign key to order_lines: chat turns rewrite an order's lines.
CREATE TABLE return_claims (
    order_id TEXT   NOT NULL REFERENCES orders (id),
    line     BIGINT NOT NULL,
    bought   BIGINT NOT NULL,
    claimed  BIGINT NOT NULL,
    PRIMARY KEY (order_id, line),
    CHECK (claimed >= 0 AND claimed <= bought)
);

-- The outbox now also carries return events: event_id is an order_events or a
-- return_events id, so it can no longer reference order_events alone.
ALTER TABLE outbox DROP CONSTRAINT outbox_event_id_fkey;
