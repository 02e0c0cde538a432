-- The staff dashboard's numbers per day, kept in the same transaction as the writes they
-- count, so that a dashboard reads one row per day instead of every conversation and the
-- JSON of every turn (issue 15: any period in ≤ 50 ms at 1,000,000 conversations).
--
-- Two levels, both kept by triggers, so that every write path (chat turns, orders,
-- payments, handoffs, the staff console, imports) keeps them without knowing of them:
-- 1. `dashboard_conversations`: one row per conversation with what the dashboard counts
--    of it (the same facts `DashboardStore::conversation_facts` recounts from scratch).
-- 2. `dashboard_days` and `dashboard_lead_times`: the sums of those rows per UTC day the
--    conversation started (the cohort), plus orders confirmed per day of confirmation.
--    A change of a conversation's row subtracts its old contribution and adds its new one.
--
-- The definitions mirror `gapless_domain::staff_metrics::ConversationDays::count`; the
-- store's contract test checks that the sums equal a recount after a random workload.

CREATE TABLE dashboard_conversations (
    conversation_id     TEXT    PRIMARY KEY,
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
) WITHOUT ROWID;

CREATE TABLE dashboard_days (
    day                 TEXT    PRIMARY KEY,
    -- Of the conversations that started this day:
    conversations       INTEGER NOT NULL DEFAULT 0,
    turns               INTEGER NOT NULL DEFAULT 0,
    -- Each conversation's clarification turns, at most its turns.
    clarification_turns INTEGER NOT NULL DEFAULT 0,
    orders              INTEGER NOT NULL DEFAULT 0,
    confirmed           INTEGER NOT NULL DEFAULT 0,
    exceptions          INTEGER NOT NULL DEFAULT 0,
    handed_off          INTEGER NOT NULL DEFAULT 0,
    payment_links       INTEGER NOT NULL DEFAULT 0,
    paid                INTEGER NOT NULL DEFAULT 0,
    -- Orders (of any conversation) confirmed this day.
    orders_confirmed    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- How many conversations that started on `day` took `lead_ms` (a bucket) from their
-- first message to their order's confirmation.
CREATE TABLE dashboard_lead_times (
    day           TEXT    NOT NULL,
    lead_ms       INTEGER NOT NULL,
    conversations INTEGER NOT NULL,
    PRIMARY KEY (day, lead_ms)
) WITHOUT ROWID;

-- Level 2: a conversation's row changed, so do the sums. Rows are always inserted with
-- zeros (below) and filled by updates, so only this trigger knows the arithmetic.
CREATE TRIGGER dashboard_conversation_added AFTER INSERT ON dashboard_conversations
BEGIN
    INSERT INTO dashboard_days (day, conversations) VALUES (NEW.day, 1)
        ON CONFLICT (day) DO UPDATE SET conversations = conversations + 1;
END;

CREATE TRIGGER dashboard_conversation_counted AFTER UPDATE ON dashboard_conversations
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

-- Level 1: the writes that change what a conversation's row says.
CREATE TRIGGER dashboard_conversation_started AFTER INSERT ON conversations
BEGIN
    INSERT INTO dashboard_conversations (conversation_id, day)
        VALUES (NEW.id, date(NEW.started_at));
END;

CREATE TRIGGER dashboard_turn_recorded AFTER INSERT ON chat_turns
BEGIN
    UPDATE dashboard_conversations SET
        clarification_turns = clarification_turns + EXISTS (
            SELECT 1 FROM json_each(NEW.response, '$.messages') m
            WHERE json_extract(m.value, '$.code')
                IN ('ambiguous_product', 'unknown_product', 'missing', 'not_understood')),
        first_message_at = CASE
            WHEN first_message_at IS NULL OR NEW.received_at < first_message_at
            THEN NEW.received_at ELSE first_message_at END
    WHERE conversation_id = NEW.conversation_id;
END;

CREATE TRIGGER dashboard_conversation_changed
AFTER UPDATE OF turn_count, outcome, order_id, handoff_at ON conversations
BEGIN
    UPDATE dashboard_conversations SET
        turns = NEW.turn_count,
        handed_off = NEW.outcome = 'handed_off',
        has_order = o.id IS NOT NULL,
        exception = o.id IS NOT NULL AND NEW.handoff_at IS NOT NULL,
        confirmed_at = o.confirmed_at,
        payment_link = COALESCE(
            o.confirmed_at IS NOT NULL AND o.payment_status <> 'not_required', 0),
        paid = COALESCE(o.confirmed_at IS NOT NULL
            AND o.payment_status IN ('paid', 'refunded', 'partially_refunded'), 0)
    FROM (SELECT 1 AS one) LEFT JOIN orders o ON o.id = NEW.order_id
    WHERE dashboard_conversations.conversation_id = NEW.id;
END;

-- An order placed or changed: the conversations that hold it (usually one).
CREATE TRIGGER dashboard_order_placed AFTER INSERT ON orders
BEGIN
    UPDATE dashboard_conversations SET
        has_order = 1,
        exception = c.handoff_at IS NOT NULL,
        confirmed_at = NEW.confirmed_at,
        payment_link = NEW.confirmed_at IS NOT NULL AND NEW.payment_status <> 'not_required',
        paid = NEW.confirmed_at IS NOT NULL
            AND NEW.payment_status IN ('paid', 'refunded', 'partially_refunded')
    FROM conversations c
    WHERE c.order_id = NEW.id AND dashboard_conversations.conversation_id = c.id;
END;

CREATE TRIGGER dashboard_order_changed AFTER UPDATE OF confirmed_at, payment_status ON orders
BEGIN
    UPDATE dashboard_conversations SET
        has_order = 1,
        exception = c.handoff_at IS NOT NULL,
        confirmed_at = NEW.confirmed_at,
        payment_link = NEW.confirmed_at IS NOT NULL AND NEW.payment_status <> 'not_required',
        paid = NEW.confirmed_at IS NOT NULL
            AND NEW.payment_status IN ('paid', 'refunded', 'partially_refunded')
    FROM conversations c
    WHERE c.order_id = NEW.id AND dashboard_conversations.conversation_id = c.id;
END;

-- The conversations already here: a row each (the insert trigger counts them), then
-- filled in (the update trigger sums them).
INSERT INTO dashboard_conversations (conversation_id, day)
    SELECT id, date(started_at) FROM conversations;
UPDATE dashboard_conversations SET
    clarification_turns = (
        SELECT COUNT(*) FROM chat_turns t
        WHERE t.conversation_id = dashboard_conversations.conversation_id AND EXISTS (
            SELECT 1 FROM json_each(t.response, '$.messages') m
            WHERE json_extract(m.value, '$.code')
                IN ('ambiguous_product', 'unknown_product', 'missing', 'not_understood'))),
    first_message_at = (
        SELECT MIN(t.received_at) FROM chat_turns t
        WHERE t.conversation_id = dashboard_conversations.conversation_id);
-- Touching each conversation's counted columns runs the trigger above for it.
UPDATE conversations SET turn_count = turn_count;
