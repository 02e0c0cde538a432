-- Customer email (CONTRACTS §10): one message per outbox event that mails the customer
-- (order confirmed, shipped, a return's decision, a refund), built when the delivery
-- worker fans the event out, in the same transaction, then sent, retried and shown to
-- staff like a webhook delivery. The message is stored as it goes on the wire, so
-- every attempt sends the same bytes with the same Message-ID.
-- Times the worker compares are Unix milliseconds, the same on both backends.

CREATE TABLE email_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    -- One message per event however often the row is fanned out. No foreign key:
    -- pruning the outbox keeps what staff see about mail sent.
    outbox_id        INTEGER NOT NULL UNIQUE,
    event_id         TEXT    NOT NULL,
    topic            TEXT    NOT NULL,
    stream           TEXT    NOT NULL,
    seq              INTEGER NOT NULL,
    order_number     TEXT    NOT NULL,
    rma              TEXT,
    recipient        TEXT    NOT NULL,
    message_id       TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    -- The whole RFC 5322 message.
    message          TEXT    NOT NULL,
    -- pending | sent | failed
    status           TEXT    NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_ms       INTEGER NOT NULL,
    next_attempt_ms  INTEGER NOT NULL,
    lease_ms         INTEGER,
    first_attempt_ms INTEGER,
    last_attempt_ms  INTEGER,
    -- What the SMTP server answered, or why it could not be reached.
    last_error       TEXT,
    done_ms          INTEGER
);
CREATE INDEX email_deliveries_due ON email_deliveries (next_attempt_ms) WHERE status = 'pending';
CREATE INDEX email_deliveries_stream ON email_deliveries (stream, seq) WHERE status = 'pending';
CREATE INDEX email_deliveries_order ON email_deliveries (order_number, id);
