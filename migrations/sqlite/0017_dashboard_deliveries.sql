-- The dashboard's delivery numbers (orders confirmed in a period: confirmation → shipped
-- and → delivered, on time, in full, perfect) as sums per day of confirmation, kept by
-- triggers in the same transaction as the writes they count, as migration 0015 does for
-- the conversation side (issue 15: any period in ≤ 50 ms at 1,000,000 conversations).
--
-- Two levels again:
-- 1. `dashboard_orders`: one row per confirmed order with what the delivery numbers
--    need of it (the facts `DashboardStore::order_fulfilment_facts` recounts from
--    scratch). Any write that changes them (the order, its conversation's handoff, its
--    returns and their items) bumps the row's `refreshes`, and one trigger reads the
--    facts again: SQLite has no shared trigger functions, so this is the one copy.
-- 2. `dashboard_deliveries` (orders per day and class) and `dashboard_fulfilment_times`
--    (histograms of the two lead times per day), changed by the difference between a
--    row's old and new contribution.
--
-- The on-time test needs no promise here: an order delivered `delivered_days` (whole
-- days, rounded up) after its confirmation is on time for a promise of P whole days
-- exactly when `delivered_days <= P`. Orders not delivered are decided by the time of
-- the read (late once past due), so they are kept per day and the one day that is
-- partly past due is read order by order.
--
-- The definitions mirror `gapless_domain::staff_metrics::DeliveryDays::count`; the
-- store's contract test checks the sums against a recount after a random workload.

CREATE INDEX orders_confirmed_at ON orders (confirmed_at);
CREATE INDEX orders_conversation_id ON orders (conversation_id);
CREATE INDEX returns_order_id ON returns (order_id);

CREATE TABLE dashboard_orders (
    order_id      TEXT    PRIMARY KEY,
    number        TEXT    NOT NULL,
    -- The UTC day of the confirmation, and the confirmation in Unix milliseconds.
    day           TEXT    NOT NULL,
    confirmed_ms  INTEGER NOT NULL,
    -- Bumped to have the trigger below read the order's facts again.
    refreshes     INTEGER NOT NULL DEFAULT 0,
    -- Confirmed and not cancelled: only such orders count.
    counted       INTEGER NOT NULL DEFAULT 0,
    -- Confirmation → shipped and → delivered in milliseconds (negative when the times
    -- contradict each other), NULL before it happened.
    shipped_ms    INTEGER,
    delivered_ms  INTEGER,
    in_full       INTEGER NOT NULL DEFAULT 1,
    exception     INTEGER NOT NULL DEFAULT 0,
    returned      INTEGER NOT NULL DEFAULT 0,
    -- Whole days to the delivery, rounded up (0 when delivered at or before the
    -- confirmation); -1 when not delivered.
    delivered_days INTEGER GENERATED ALWAYS AS (
        CASE WHEN delivered_ms IS NULL THEN -1
             WHEN delivered_ms <= 0 THEN 0
             ELSE (delivered_ms + 86399999) / 86400000 END) VIRTUAL,
    -- The lead times rounded down to two significant digits: the histograms' buckets
    -- (as `dashboard_conversations.lead_bucket`), NULL when negative.
    shipped_bucket INTEGER GENERATED ALWAYS AS (
        CASE
            WHEN shipped_ms IS NULL OR shipped_ms < 0 THEN NULL
            WHEN shipped_ms < 100 THEN shipped_ms
            WHEN shipped_ms < 1000 THEN shipped_ms / 10 * 10
            WHEN shipped_ms < 10000 THEN shipped_ms / 100 * 100
            WHEN shipped_ms < 100000 THEN shipped_ms / 1000 * 1000
            WHEN shipped_ms < 1000000 THEN shipped_ms / 10000 * 10000
            WHEN shipped_ms < 10000000 THEN shipped_ms / 100000 * 100000
            WHEN shipped_ms < 100000000 THEN shipped_ms / 1000000 * 1000000
            WHEN shipped_ms < 1000000000 THEN shipped_ms / 10000000 * 10000000
            WHEN shipped_ms < 10000000000 THEN shipped_ms / 100000000 * 100000000
            WHEN shipped_ms < 100000000000 THEN shipped_ms / 1000000000 * 1000000000
            ELSE shipped_ms / 10000000000 * 10000000000
        END) VIRTUAL,
    delivered_bucket INTEGER GENERATED ALWAYS AS (
        CASE
            WHEN delivered_ms IS NULL OR delivered_ms < 0 THEN NULL
            WHEN delivered_ms < 100 THEN delivered_ms
            WHEN delivered_ms < 1000 THEN delivered_ms / 10 * 10
            WHEN delivered_ms < 10000 THEN delivered_ms / 100 * 100
            WHEN delivered_ms < 100000 THEN delivered_ms / 1000 * 1000
            WHEN delivered_ms < 1000000 THEN delivered_ms / 10000 * 10000
            WHEN delivered_ms < 10000000 THEN delivered_ms / 100000 * 100000
            WHEN delivered_ms < 100000000 THEN delivered_ms / 1000000 * 1000000
            WHEN delivered_ms < 1000000000 THEN delivered_ms / 10000000 * 10000000
            WHEN delivered_ms < 10000000000 THEN delivered_ms / 100000000 * 100000000
            WHEN delivered_ms < 100000000000 THEN delivered_ms / 1000000000 * 1000000000
            ELSE delivered_ms / 10000000000 * 10000000000
        END) VIRTUAL
) WITHOUT ROWID;

-- The misses the dashboard names (late, not perfect), first ones first.
CREATE INDEX dashboard_orders_confirmed ON dashboard_orders (confirmed_ms, order_id);

-- Orders confirmed on `day`, counted, delivered `delivered_days` after (-1: not yet),
-- in full or not, with an exception or not, returned or not.
CREATE TABLE dashboard_deliveries (
    day            TEXT    NOT NULL,
    delivered_days INTEGER NOT NULL,
    in_full        INTEGER NOT NULL,
    exception      INTEGER NOT NULL,
    returned       INTEGER NOT NULL,
    orders         INTEGER NOT NULL,
    PRIMARY KEY (day, delivered_days, in_full, exception, returned)
) WITHOUT ROWID;

-- How many counted orders confirmed on `day` took `lead_ms` (a bucket) to `leg`
-- ('shipped' or 'delivered').
CREATE TABLE dashboard_fulfilment_times (
    day     TEXT    NOT NULL,
    leg     TEXT    NOT NULL,
    lead_ms INTEGER NOT NULL,
    orders  INTEGER NOT NULL,
    PRIMARY KEY (day, leg, lead_ms)
) WITHOUT ROWID;

-- Level 2: an order's row changed, so do the sums (its old contribution out, the new in).
CREATE TRIGGER dashboard_order_counted
AFTER UPDATE OF day, counted, shipped_ms, delivered_ms, in_full, exception, returned
ON dashboard_orders
BEGIN
    UPDATE dashboard_deliveries SET orders = orders - 1
    WHERE OLD.counted AND day = OLD.day AND delivered_days = OLD.delivered_days
      AND in_full = OLD.in_full AND exception = OLD.exception AND returned = OLD.returned;
    INSERT INTO dashboard_deliveries (day, delivered_days, in_full, exception, returned, orders)
        SELECT NEW.day, NEW.delivered_days, NEW.in_full, NEW.exception, NEW.returned, 1
        WHERE NEW.counted
        ON CONFLICT (day, delivered_days, in_full, exception, returned)
            DO UPDATE SET orders = orders + 1;
    UPDATE dashboard_fulfilment_times SET orders = orders - 1
    WHERE OLD.counted AND OLD.shipped_bucket IS NOT NULL
      AND day = OLD.day AND leg = 'shipped' AND lead_ms = OLD.shipped_bucket;
    INSERT INTO dashboard_fulfilment_times (day, leg, lead_ms, orders)
        SELECT NEW.day, 'shipped', NEW.shipped_bucket, 1
        WHERE NEW.counted AND NEW.shipped_bucket IS NOT NULL
        ON CONFLICT (day, leg, lead_ms) DO UPDATE SET orders = orders + 1;
    UPDATE dashboard_fulfilment_times SET orders = orders - 1
    WHERE OLD.counted AND OLD.delivered_bucket IS NOT NULL
      AND day = OLD.day AND leg = 'delivered' AND lead_ms = OLD.delivered_bucket;
    INSERT INTO dashboard_fulfilment_times (day, leg, lead_ms, orders)
        SELECT NEW.day, 'delivered', NEW.delivered_bucket, 1
        WHERE NEW.counted AND NEW.delivered_bucket IS NOT NULL
        ON CONFLICT (day, leg, lead_ms) DO UPDATE SET orders = orders + 1;
END;

-- Level 1, the one place that reads an order's facts (the definitions of
-- `OrderFulfilmentFactRow::facts`).
CREATE TRIGGER dashboard_order_refresh AFTER UPDATE OF refreshes ON dashboard_orders
BEGIN
    UPDATE dashboard_orders SET
        number = o.number,
        day = COALESCE(date(o.confirmed_at), dashboard_orders.day),
        confirmed_ms = COALESCE(CAST(round(
            (julianday(o.confirmed_at) - 2440587.5) * 86400000.0) AS INTEGER), confirmed_ms),
        counted = o.confirmed_at IS NOT NULL AND o.status <> 'cancelled',
        shipped_ms = CAST(round(
            (julianday(o.shipped_at) - julianday(o.confirmed_at)) * 86400000.0) AS INTEGER),
        delivered_ms = CAST(round(
            (julianday(o.delivered_at) - julianday(o.confirmed_at)) * 86400000.0) AS INTEGER),
        exception = COALESCE(
            (SELECT c.handoff_at IS NOT NULL FROM conversations c WHERE c.id = o.conversation_id),
            0),
        returned = EXISTS (SELECT 1 FROM returns r JOIN return_items i ON i.return_id = r.id
            WHERE r.order_id = o.id AND r.status NOT IN ('rejected', 'cancelled')),
        in_full = NOT EXISTS (SELECT 1 FROM returns r JOIN return_items i ON i.return_id = r.id
            WHERE r.order_id = o.id AND r.status NOT IN ('rejected', 'cancelled')
              AND i.reason = 'wrong_item')
    FROM orders o
    WHERE o.id = NEW.order_id AND dashboard_orders.order_id = NEW.order_id;
END;

-- The writes that change an order's facts.
CREATE TRIGGER dashboard_order_confirmed AFTER INSERT ON orders
WHEN NEW.confirmed_at IS NOT NULL
BEGIN
    INSERT INTO dashboard_orders (order_id, number, day, confirmed_ms)
        VALUES (NEW.id, NEW.number, date(NEW.confirmed_at), 0)
        ON CONFLICT (order_id) DO NOTHING;
    UPDATE dashboard_orders SET refreshes = refreshes + 1 WHERE order_id = NEW.id;
END;

CREATE TRIGGER dashboard_order_delivery_changed
AFTER UPDATE OF status, confirmed_at, shipped_at, delivered_at, conversation_id ON orders
WHEN (NEW.confirmed_at IS NOT NULL OR OLD.confirmed_at IS NOT NULL)
 AND (NEW.status IS NOT OLD.status OR NEW.confirmed_at IS NOT OLD.confirmed_at
      OR NEW.shipped_at IS NOT OLD.shipped_at OR NEW.delivered_at IS NOT OLD.delivered_at
      OR NEW.conversation_id IS NOT OLD.conversation_id)
BEGIN
    INSERT INTO dashboard_orders (order_id, number, day, confirmed_ms)
        SELECT NEW.id, NEW.number, date(NEW.confirmed_at), 0
        WHERE NEW.confirmed_at IS NOT NULL
        ON CONFLICT (order_id) DO NOTHING;
    UPDATE dashboard_orders SET refreshes = refreshes + 1 WHERE order_id = NEW.id;
END;

CREATE TRIGGER dashboard_order_handed_off AFTER UPDATE OF handoff_at ON conversations
WHEN NEW.handoff_at IS NOT OLD.handoff_at
BEGIN
    UPDATE dashboard_orders SET refreshes = refreshes + 1
    WHERE order_id IN (SELECT id FROM orders WHERE conversation_id = NEW.id);
END;

CREATE TRIGGER dashboard_order_return_requested AFTER INSERT ON returns
BEGIN
    UPDATE dashboard_orders SET refreshes = refreshes + 1 WHERE order_id = NEW.order_id;
END;

CREATE TRIGGER dashboard_order_return_changed AFTER UPDATE OF status, order_id ON returns
WHEN NEW.status IS NOT OLD.status OR NEW.order_id IS NOT OLD.order_id
BEGIN
    UPDATE dashboard_orders SET refreshes = refreshes + 1
    WHERE order_id IN (NEW.order_id, OLD.order_id);
END;

CREATE TRIGGER dashboard_order_return_item AFTER INSERT ON return_items
BEGIN
    UPDATE dashboard_orders SET refreshes = refreshes + 1
    WHERE order_id = (SELECT order_id FROM returns WHERE id = NEW.return_id);
END;

-- The orders already confirmed: a row each, then their facts read.
INSERT INTO dashboard_orders (order_id, number, day, confirmed_ms)
    SELECT id, number, date(confirmed_at), 0 FROM orders WHERE confirmed_at IS NOT NULL;
UPDATE dashboard_orders SET refreshes = refreshes + 1;
