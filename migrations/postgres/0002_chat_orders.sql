-- Conversations, their audited turns, and orders as append-only events with the CRM
-- projection (orders, order_lines, customers) and a webhook outbox, all written in the
-- turn's one transaction.

CREATE TABLE conversations (
    -- An unguessable capability: whoever holds it may read and continue the chat.
    id          TEXT        PRIMARY KEY,
    channel     TEXT        NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    order_id    TEXT,
    -- open | ordered | handed_off | abandoned | failed
    outcome     TEXT        NOT NULL DEFAULT 'open',
    handoff_at  TIMESTAMPTZ,
    turn_count  BIGINT      NOT NULL DEFAULT 0
);
CREATE INDEX conversations_started_at ON conversations (started_at);

CREATE TABLE chat_turns (
    id              TEXT        PRIMARY KEY,
    conversation_id TEXT        NOT NULL REFERENCES conversations (id),
    seq             BIGINT      NOT NULL,
    text            TEXT        NOT NULL,
    received_at     TIMESTAMPTZ NOT NULL,
    idempotency_key TEXT,
    extractor       TEXT        NOT NULL,
    -- Extraction, validation outcomes, events appended, order after, timings.
    audit           JSONB       NOT NULL,
    reply           TEXT        NOT NULL,
    -- The body answered, replayed verbatim when the same idempotency key comes again.
    response        JSONB       NOT NULL,
    UNIQUE (conversation_id, seq),
    UNIQUE (conversation_id, idempotency_key)
);

CREATE TABLE customers (
    id         TEXT        PRIMARY KEY,
    email      TEXT        NOT NULL UNIQUE,
    name       TEXT,
    phone      TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Order numbers come from here so that they are short, increasing and never reused.
CREATE SEQUENCE order_numbers;

CREATE TABLE orders (
    id               TEXT        PRIMARY KEY,
    number           TEXT        NOT NULL UNIQUE,
    conversation_id  TEXT        REFERENCES conversations (id),
    status           TEXT        NOT NULL,
    currency         TEXT        NOT NULL,
    customer_id      TEXT        REFERENCES customers (id),
    subtotal         BIGINT      NOT NULL,
    shipping         BIGINT      NOT NULL,
    total            BIGINT      NOT NULL,
    shipping_address JSONB,
    -- The seq of the last event folded into this row.
    version          BIGINT      NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    confirmed_at     TIMESTAMPTZ,
    cancelled_at     TIMESTAMPTZ
);

CREATE TABLE order_lines (
    order_id   TEXT   NOT NULL REFERENCES orders (id),
    position   BIGINT NOT NULL,
    sku        TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    quantity   BIGINT NOT NULL CHECK (quantity > 0),
    choices    JSONB  NOT NULL,
    unit_price BIGINT NOT NULL,
    total      BIGINT NOT NULL,
    PRIMARY KEY (order_id, position)
);

CREATE TABLE order_events (
    id              TEXT        PRIMARY KEY,
    order_id        TEXT        NOT NULL REFERENCES orders (id),
    -- Per order, from 1; the unique key is what stops two writers appending seq N.
    seq             BIGINT      NOT NULL,
    type            TEXT        NOT NULL,
    schema_version  BIGINT      NOT NULL,
    payload         JSONB       NOT NULL,
    conversation_id TEXT,
    message_id      TEXT,
    idempotency_key TEXT,
    actor           TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (order_id, seq)
);

CREATE TABLE outbox (
    id              BIGSERIAL   PRIMARY KEY,
    event_id        TEXT        NOT NULL UNIQUE REFERENCES order_events (id),
    topic           TEXT        NOT NULL,
    payload         JSONB       NOT NULL,
    attempts        BIGINT      NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ,
    dead_at         TIMESTAMPTZ,
    last_error      TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
