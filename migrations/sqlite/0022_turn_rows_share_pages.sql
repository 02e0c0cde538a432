-- Two tables of which every chat turn wrote a row at a random place are rebuilt, so that
-- the rows of the conversations and orders being worked on now share pages. A commit
-- writes each page it changed to the WAL whole and syncs it; these were two to three of
-- a group commit's ~35 pages (33.4 after this, traced at 8 workers).
--
-- dashboard_conversations was keyed by the conversation's id WITHOUT ROWID: the table was
-- its key's index, and conversation ids are random (a capability), so each turn's update
-- rewrote a leaf page of its own. As a rowid table, the rows lie in the order the
-- conversations started, the open ones on the last pages; the id's unique index is
-- written once, when a conversation starts.
--
-- order_lines was a rowid table beside its key's index: each turn deleted its order's
-- lines from pages of earlier turns and appended them again at the end, writing both.
-- WITHOUT ROWID, the lines are the key's leaf entries, next to those of other recent
-- orders (order ids sort by time), and rewriting them rewrites one leaf.
--
-- Each is copied out and back rather than renamed: a rename checks every trigger that
-- names the table, and the triggers of other tables that write dashboard_conversations
-- would refuse it while it is gone. The table's own triggers go with it and are made
-- again as they were (0015, 0020).

CREATE TEMP TABLE dashboard_conversations_copy AS
    SELECT conversation_id, day, turns, clarification_turns, first_message_at, has_order,
        confirmed_at, exception, handed_off, payment_link, paid
    FROM dashboard_conversations;
DROP TABLE dashboard_conversations;
CREATE TABLE dashboard_conversations (
    conversation_id     TEXT    NOT NULL UNIQUE,
    -- The UTC day the conversation started: its cohort.
    day                 TEXT    NOT NULL,
    turns               INTEGER NOT NULL DEFAULT 0,
    -- Turns whose answer asked the shopper to clarify (store::CLARIFICATION_CODES).
    clarification_turns INTEGER NOT NULL DEFAULT 0,
    first_message_at    TEXT,
    has_order           INTEGER NOT NULL DEFAULT 0,
    -- Its order's confirmation.
    confirmed_at        TEXT,
    -- An order, and the conversation was handed to a person.
    exception           INTEGER NOT NULL DEFAULT 0,
    -- The conversation's outcome is `handed_off`.
    handed_off          INTEGER NOT NULL DEFAULT 0,
    -- Confirmed with a payment link (payment status other than `not_required`).
    payment_link        INTEGER NOT NULL DEFAULT 0,
    -- Confirmed and the money received (paid, refunded or partially refunded).
    paid                INTEGER NOT NULL DEFAULT 0,
    -- First message → confirmation in milliseconds (each time rounded to the millisecond,
    -- as SQLite reads times), and that rounded down to two significant digits (steps of
    -- at most 10^10 ms): the histogram's bucket.
    lead_ms             INTEGER GENERATED ALWAYS AS (
        CASE WHEN first_message_at IS NOT NULL AND confirmed_at IS NOT NULL THEN
            CAST(round((julianday(confirmed_at) - julianday(first_message_at)) * 86400000.0)
                AS INTEGER)
        END) VIRTUAL,
    lead_bucket         INTEGER GENERATED ALWAYS AS (
        CASE
            WHEN lead_ms IS NULL OR lead_ms < 0 THEN NULL
            WHEN lead_ms < 100 THEN lead_ms
            WHEN lead_ms < 1000 THEN lead_ms / 10 * 10
            WHEN lead_ms < 10000 THEN lead_ms / 100 * 100
            WHEN lead_ms < 100000 THEN lead_ms / 1000 * 1000
            WHEN lead_ms < 1000000 THEN lead_ms / 10000 * 10000
            WHEN lead_ms < 10000000 THEN lead_ms / 100000 * 100000
            WHEN lead_ms < 100000000 THEN lead_ms / 1000000 * 1000000
            WHEN lead_ms < 1000000000 THEN lead_ms / 10000000 * 10000000
            WHEN lead_ms < 10000000000 THEN lead_ms / 100000000 * 100000000
            WHEN lead_ms < 100000000000 THEN lead_ms / 1000000000 * 1000000000
            ELSE lead_ms / 10000000000 * 10000000000
        END) VIRTUAL
);
INSERT INTO dashboard_conversations (conversation_id, day, turns, clarification_turns,
        first_message_at, has_order, confirmed_at, exception, handed_off, payment_link, paid)
    SELECT conversation_id, day, turns, clarification_turns, first_message_at, has_order,
        confirmed_at, exception, handed_off, payment_link, paid
    FROM dashboard_conversations_copy ORDER BY day, conversation_id;
DROP TABLE dashboard_conversations_copy;

CREATE TRIGGER dashboard_conversation_added AFTER INSERT ON dashboard_conversations
BEGIN
    INSERT INTO dashboard_days (day, conversations) VALUES (NEW.day, 1)
        ON CONFLICT (day) DO UPDATE SET conversations = conversations + 1;
END;

CREATE TRIGGER dashboard_conversation_counted AFTER UPDATE ON dashboard_conversations
WHEN NEW.turns IS NOT OLD.turns
  OR NEW.clarification_turns IS NOT OLD.clarification_turns
  OR NEW.has_order IS NOT OLD.has_order
  OR NEW.confirmed_at IS NOT OLD.confirmed_at
  OR NEW.exception IS NOT OLD.exception
  OR NEW.handed_off IS NOT OLD.handed_off
  OR NEW.payment_link IS NOT OLD.payment_link
  OR NEW.paid IS NOT OLD.paid
  OR NEW.lead_bucket IS NOT OLD.lead_bucket
  OR NEW.day IS NOT OLD.day
BEGIN
    UPDATE dashboard_days SET
        turns = turns + NEW.turns - OLD.turns,
        clarification_turns = clarification_turns
            + min(NEW.clarification_turns, NEW.turns) - min(OLD.clarification_turns, OLD.turns),
        orders = orders + NEW.has_order - OLD.has_order,
        confirmed = confirmed + (NEW.confirmed_at IS NOT NULL) - (OLD.confirmed_at IS NOT NULL),
        exceptions = exceptions + NEW.exception - OLD.exception,
        handed_off = handed_off + NEW.handed_off - OLD.handed_off,
        payment_links = payment_links + NEW.payment_link - OLD.payment_link,
        paid = paid + NEW.paid - OLD.paid
    WHERE day = NEW.day;
    -- Orders confirmed, on the day of their confirmation.
    UPDATE dashboard_days SET orders_confirmed = orders_confirmed - 1
    WHERE OLD.confirmed_at IS NOT NULL AND OLD.confirmed_at IS NOT NEW.confirmed_at
      AND day = date(OLD.confirmed_at);
    INSERT INTO dashboard_days (day, orders_confirmed)
        SELECT date(NEW.confirmed_at), 1
        WHERE NEW.confirmed_at IS NOT NULL AND NEW.confirmed_at IS NOT OLD.confirmed_at
        ON CONFLICT (day) DO UPDATE SET orders_confirmed = orders_confirmed + 1;
    -- The lead time's histogram.
    UPDATE dashboard_lead_times SET conversations = conversations - 1
    WHERE OLD.lead_bucket IS NOT NULL AND OLD.lead_bucket IS NOT NEW.lead_bucket
      AND day = OLD.day AND lead_ms = OLD.lead_bucket;
    INSERT INTO dashboard_lead_times (day, lead_ms, conversations)
        SELECT NEW.day, NEW.lead_bucket, 1
        WHERE NEW.lead_bucket IS NOT NULL AND NEW.lead_bucket IS NOT OLD.lead_bucket
        ON CONFLICT (day, lead_ms) DO UPDATE SET conversations = conversations + 1;
END;

CREATE TEMP TABLE order_lines_copy AS SELECT * FROM order_lines;
DROP TABLE order_lines;
CREATE TABLE order_lines (
    order_id   TEXT    NOT NULL REFERENCES orders (id),
    position   INTEGER NOT NULL,
    sku        TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    choices    TEXT    NOT NULL,
    unit_price INTEGER NOT NULL,
    total      INTEGER NOT NULL,
    PRIMARY KEY (order_id, position)
) WITHOUT ROWID;
INSERT INTO order_lines (order_id, position, sku, name, quantity, choices, unit_price, total)
    SELECT order_id, position, sku, name, quantity, choices, unit_price, total
    FROM order_lines_copy;
DROP TABLE order_lines_copy;
