-- The dashboard's triggers (0015) run only when what they count changed. A chat turn
-- that edits a draft sets the order's payment status and confirmation to what they
-- were, and rewrites the conversation's counted row with a clarification count and a
-- first message that did not change: before, each of those writes ran the sums'
-- arithmetic (five statements) for nothing, a fifth of the committer's time a turn.
-- What the triggers do when something changed is as it was. (The turn's own trigger
-- is recreated with its table, in 0021.)

DROP TRIGGER dashboard_conversation_counted;
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

-- An order's confirmation or payment status that was set to what it was changes
-- nothing of its conversation's row (its handoff is counted when the conversation's
-- changes, by dashboard_conversation_changed).
DROP TRIGGER dashboard_order_changed;
CREATE TRIGGER dashboard_order_changed AFTER UPDATE OF confirmed_at, payment_status ON orders
WHEN NEW.confirmed_at IS NOT OLD.confirmed_at OR NEW.payment_status IS NOT OLD.payment_status
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
