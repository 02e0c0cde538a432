-- Webhooks (CONTRACTS §6): endpoints, and one delivery per outbox message and endpoint.
--
-- The outbox stays one row per order or return event, written in the event's
-- transaction. The delivery worker "fans out" each row: it renders the webhook body
-- once (the order or return as that event left it) and adds one delivery for every
-- endpoint whose filter takes the topic. Deliveries are what is sent, retried and shown.
-- Times the worker compares are Unix milliseconds, the same on both backends.

CREATE TABLE webhook_endpoints (
    id          TEXT    PRIMARY KEY,
    url         TEXT    NOT NULL,
    -- JSON array of filters: "*", "order.*", "return.refunded", …
    events      TEXT    NOT NULL,
    -- whsec_… ; needed in clear to sign, shown to the admin only when created.
    secret      TEXT    NOT NULL,
    paused      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL
);

-- The stream a message belongs to ('order:<id>' or 'return:<id>') and its seq in it:
-- messages of one stream go to one endpoint in seq order.
ALTER TABLE outbox ADD COLUMN stream TEXT;
ALTER TABLE outbox ADD COLUMN seq BIGINT;
-- When the event was written: the age of an undelivered message counts from here.
ALTER TABLE outbox ADD COLUMN created_ms BIGINT;
-- The webhook body, rendered when the row is fanned out.
ALTER TABLE outbox ADD COLUMN body TEXT;
ALTER TABLE outbox ADD COLUMN fanned_out_ms BIGINT;
-- A worker fanning the row out holds it until then.
ALTER TABLE outbox ADD COLUMN lease_ms BIGINT;

-- Rows written before webhooks existed: there was no endpoint to send them to.
UPDATE outbox SET fanned_out_ms = 0;
-- Their old delivery columns were never used.
DROP INDEX outbox_pending;
CREATE INDEX outbox_unfanned ON outbox (id) WHERE fanned_out_ms IS NULL;
CREATE INDEX outbox_unfanned_stream ON outbox (stream, seq) WHERE fanned_out_ms IS NULL;

CREATE TABLE webhook_deliveries (
    id               BIGSERIAL PRIMARY KEY,
    outbox_id        BIGINT NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    endpoint_id      TEXT    NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    stream           TEXT    NOT NULL,
    seq              BIGINT NOT NULL,
    -- pending | delivered | failed
    status           TEXT    NOT NULL DEFAULT 'pending',
    attempts         BIGINT NOT NULL DEFAULT 0,
    created_ms       BIGINT NOT NULL,
    next_attempt_ms  BIGINT NOT NULL,
    -- Claimed by a worker until then (NULL: not claimed).
    lease_ms         BIGINT,
    first_attempt_ms BIGINT,
    last_attempt_ms  BIGINT,
    last_status      BIGINT,
    last_latency_ms  BIGINT,
    last_error       TEXT,
    done_ms          BIGINT,
    UNIQUE (outbox_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_ms) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_stream ON webhook_deliveries (endpoint_id, stream, seq) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_done ON webhook_deliveries (done_ms) WHERE status = 'delivered';
