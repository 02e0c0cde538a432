-- The staff dashboard's numbers per day, kept in the same transaction as the writes they
-- count, so that a dashboard reads a few rows per day instead of every conversation and
-- the JSON of every turn (issue 15: any period in ≤ 50 ms at 1,000,000 conversations).
-- The SQLite migration of the same number explains the two levels; this one mirrors it.
--
-- One difference: every chat turn adds to its day's sums, and a row updated by every
-- turn would make concurrent turns wait for each other's commits. So the day's sums are
-- spread over 16 rows (`shard`, from the conversation's id) and a read adds them up.

CREATE TABLE dashboard_conversations (
    conversation_id     TEXT        PRIMARY KEY,
    day                 DATE        NOT NULL,
    turns               BIGINT      NOT NULL DEFAULT 0,
    clarification_turns BIGINT      NOT NULL DEFAULT 0,
    first_message_at    TIMESTAMPTZ,
    has_order           BOOLEAN     NOT NULL DEFAULT FALSE,
    confirmed_at        TIMESTAMPTZ,
    exception           BOOLEAN     NOT NULL DEFAULT FALSE,
    handed_off          BOOLEAN     NOT NULL DEFAULT FALSE,
    payment_link        BOOLEAN     NOT NULL DEFAULT FALSE,
    paid                BOOLEAN     NOT NULL DEFAULT FALSE
);

CREATE TABLE dashboard_days (
    day                 DATE     NOT NULL,
    shard               SMALLINT NOT NULL,
    conversations       BIGINT   NOT NULL DEFAULT 0,
    turns               BIGINT   NOT NULL DEFAULT 0,
    clarification_turns BIGINT   NOT NULL DEFAULT 0,
    orders              BIGINT   NOT NULL DEFAULT 0,
    confirmed           BIGINT   NOT NULL DEFAULT 0,
    exceptions          BIGINT   NOT NULL DEFAULT 0,
    handed_off          BIGINT   NOT NULL DEFAULT 0,
    payment_links       BIGINT   NOT NULL DEFAULT 0,
    paid                BIGINT   NOT NULL DEFAULT 0,
    orders_confirmed    BIGINT   NOT NULL DEFAULT 0,
    PRIMARY KEY (day, shard)
);

CREATE TABLE dashboard_lead_times (
    day           DATE   NOT NULL,
    lead_ms       BIGINT NOT NULL,
    conversations BIGINT NOT NULL,
    PRIMARY KEY (day, lead_ms)
);

-- First message → confirmation in milliseconds (each time rounded to the millisecond, as
-- SQLite reads them), rounded down to two significant digits (steps of at most 10^10 ms);
-- NULL without both times or when the confirmation came first.
CREATE FUNCTION dashboard_lead_bucket(first_message_at TIMESTAMPTZ, confirmed_at TIMESTAMPTZ)
RETURNS BIGINT LANGUAGE plpgsql STABLE AS $$
DECLARE
    lead BIGINT;
    step BIGINT := 1;
BEGIN
    IF first_message_at IS NULL OR confirmed_at IS NULL THEN
        RETURN NULL;
    END IF;
    lead := (round(extract(epoch FROM confirmed_at) * 1000)
        - round(extract(epoch FROM first_message_at) * 1000))::BIGINT;
    IF lead < 0 THEN
        RETURN NULL;
    END IF;
    WHILE lead >= step * 100 AND step < 10000000000 LOOP
        step := step * 10;
    END LOOP;
    RETURN lead / step * step;
END $$;

-- Level 2: a conversation's row was added or changed, so do the sums.
CREATE FUNCTION dashboard_conversation_counted() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    part SMALLINT := hashtext(NEW.conversation_id) & 15;
    old_bucket BIGINT;
    new_bucket BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- Rows are always inserted with zeros and filled by updates.
        INSERT INTO dashboard_days (day, shard, conversations) VALUES (NEW.day, part, 1)
        ON CONFLICT (day, shard)
            DO UPDATE SET conversations = dashboard_days.conversations + 1;
        RETURN NULL;
    END IF;
    UPDATE dashboard_days SET
        turns = turns + NEW.turns - OLD.turns,
        clarification_turns = clarification_turns
            + LEAST(NEW.clarification_turns, NEW.turns) - LEAST(OLD.clarification_turns, OLD.turns),
        orders = orders + NEW.has_order::INT - OLD.has_order::INT,
        confirmed = confirmed + (NEW.confirmed_at IS NOT NULL)::INT
            - (OLD.confirmed_at IS NOT NULL)::INT,
        exceptions = exceptions + NEW.exception::INT - OLD.exception::INT,
        handed_off = handed_off + NEW.handed_off::INT - OLD.handed_off::INT,
        payment_links = payment_links + NEW.payment_link::INT - OLD.payment_link::INT,
        paid = paid + NEW.paid::INT - OLD.paid::INT
    WHERE day = NEW.day AND shard = part;
    IF OLD.confirmed_at IS DISTINCT FROM NEW.confirmed_at THEN
        IF OLD.confirmed_at IS NOT NULL THEN
            UPDATE dashboard_days SET orders_confirmed = orders_confirmed - 1
            WHERE day = (OLD.confirmed_at AT TIME ZONE 'UTC')::DATE AND shard = part;
        END IF;
        IF NEW.confirmed_at IS NOT NULL THEN
            INSERT INTO dashboard_days (day, shard, orders_confirmed)
            VALUES ((NEW.confirmed_at AT TIME ZONE 'UTC')::DATE, part, 1)
            ON CONFLICT (day, shard)
                DO UPDATE SET orders_confirmed = dashboard_days.orders_confirmed + 1;
        END IF;
    END IF;
    old_bucket := dashboard_lead_bucket(OLD.first_message_at, OLD.confirmed_at);
    new_bucket := dashboard_lead_bucket(NEW.first_message_at, NEW.confirmed_at);
    IF old_bucket IS DISTINCT FROM new_bucket THEN
        IF old_bucket IS NOT NULL THEN
            UPDATE dashboard_lead_times SET conversations = conversations - 1
            WHERE day = OLD.day AND lead_ms = old_bucket;
        END IF;
        IF new_bucket IS NOT NULL THEN
            INSERT INTO dashboard_lead_times (day, lead_ms, conversations)
            VALUES (NEW.day, new_bucket, 1)
            ON CONFLICT (day, lead_ms)
                DO UPDATE SET conversations = dashboard_lead_times.conversations + 1;
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER dashboard_conversation_counted
AFTER INSERT OR UPDATE ON dashboard_conversations
FOR EACH ROW EXECUTE FUNCTION dashboard_conversation_counted();

-- Level 1: the writes that change what a conversation's row says.
CREATE FUNCTION dashboard_conversation_started() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO dashboard_conversations (conversation_id, day)
    VALUES (NEW.id, (NEW.started_at AT TIME ZONE 'UTC')::DATE);
    RETURN NULL;
END $$;

CREATE TRIGGER dashboard_conversation_started AFTER INSERT ON conversations
FOR EACH ROW EXECUTE FUNCTION dashboard_conversation_started();

-- Whether a turn's answer asked the shopper to clarify (store::CLARIFICATION_CODES).
CREATE FUNCTION dashboard_clarifies(response JSONB) RETURNS BOOLEAN
LANGUAGE sql IMMUTABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM jsonb_array_elements(CASE
            WHEN jsonb_typeof(response -> 'messages') = 'array'
            THEN response -> 'messages' ELSE '[]'::jsonb END) m
        WHERE m ->> 'code' IN ('ambiguous_product', 'unknown_product', 'missing', 'not_understood'))
$$;

CREATE FUNCTION dashboard_turn_recorded() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    UPDATE dashboard_conversations SET
        clarification_turns = clarification_turns + dashboard_clarifies(NEW.response)::INT,
        first_message_at = LEAST(first_message_at, NEW.received_at)
    WHERE conversation_id = NEW.conversation_id;
    RETURN NULL;
END $$;

CREATE TRIGGER dashboard_turn_recorded AFTER INSERT ON chat_turns
FOR EACH ROW EXECUTE FUNCTION dashboard_turn_recorded();

CREATE FUNCTION dashboard_conversation_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    held orders%ROWTYPE;
BEGIN
    SELECT * INTO held FROM orders WHERE id = NEW.order_id;
    UPDATE dashboard_conversations SET
        turns = NEW.turn_count,
        handed_off = NEW.outcome = 'handed_off',
        has_order = held.id IS NOT NULL,
        exception = held.id IS NOT NULL AND NEW.handoff_at IS NOT NULL,
        confirmed_at = held.confirmed_at,
        payment_link = COALESCE(
            held.confirmed_at IS NOT NULL AND held.payment_status <> 'not_required', FALSE),
        paid = COALESCE(held.confirmed_at IS NOT NULL
            AND held.payment_status IN ('paid', 'refunded', 'partially_refunded'), FALSE)
    WHERE conversation_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER dashboard_conversation_changed
AFTER UPDATE OF turn_count, outcome, order_id, handoff_at ON conversations
FOR EACH ROW EXECUTE FUNCTION dashboard_conversation_changed();

-- An order placed or changed: the conversations that hold it (usually one).
CREATE FUNCTION dashboard_order_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    UPDATE dashboard_conversations d SET
        has_order = TRUE,
        exception = c.handoff_at IS NOT NULL,
        confirmed_at = NEW.confirmed_at,
        payment_link = NEW.confirmed_at IS NOT NULL AND NEW.payment_status <> 'not_required',
        paid = NEW.confirmed_at IS NOT NULL
            AND NEW.payment_status IN ('paid', 'refunded', 'partially_refunded')
    FROM conversations c
    WHERE c.order_id = NEW.id AND d.conversation_id = c.id;
    RETURN NULL;
END $$;

CREATE TRIGGER dashboard_order_placed AFTER INSERT ON orders
FOR EACH ROW EXECUTE FUNCTION dashboard_order_changed();
CREATE TRIGGER dashboard_order_changed AFTER UPDATE OF confirmed_at, payment_status ON orders
FOR EACH ROW EXECUTE FUNCTION dashboard_order_changed();

-- The conversations already here: a row each (counted by the trigger), then filled in.
INSERT INTO dashboard_conversations (conversation_id, day)
    SELECT id, (started_at AT TIME ZONE 'UTC')::DATE FROM conversations;
UPDATE dashboard_conversations d SET
    clarification_turns = (
        SELECT COUNT(*) FROM chat_turns t
        WHERE t.conversation_id = d.conversation_id AND dashboard_clarifies(t.response)),
    first_message_at = (
        SELECT MIN(t.received_at) FROM chat_turns t WHERE t.conversation_id = d.conversation_id);
UPDATE conversations SET turn_count = turn_count;
