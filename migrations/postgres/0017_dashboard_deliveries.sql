-- The dashboard's delivery numbers as sums per day of confirmation, kept by triggers in
-- the same transaction as the writes they count. The SQLite migration of the same number
-- explains the two levels and why no promise is needed here; this one mirrors it, with
-- one function that reads an order's facts (`dashboard_order_refresh`).

CREATE INDEX orders_confirmed_at ON orders (confirmed_at);
CREATE INDEX orders_conversation_id ON orders (conversation_id);
CREATE INDEX returns_order_id ON returns (order_id);

CREATE TABLE dashboard_orders (
    order_id      TEXT    PRIMARY KEY,
    number        TEXT    NOT NULL,
    day           DATE    NOT NULL,
    confirmed_ms  BIGINT  NOT NULL,
    counted       BOOLEAN NOT NULL DEFAULT FALSE,
    shipped_ms    BIGINT,
    delivered_ms  BIGINT,
    in_full       BOOLEAN NOT NULL DEFAULT TRUE,
    exception     BOOLEAN NOT NULL DEFAULT FALSE,
    returned      BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX dashboard_orders_confirmed ON dashboard_orders (confirmed_ms, order_id);

CREATE TABLE dashboard_deliveries (
    day            DATE     NOT NULL,
    delivered_days INTEGER  NOT NULL,
    in_full        BOOLEAN  NOT NULL,
    exception      BOOLEAN  NOT NULL,
    returned       BOOLEAN  NOT NULL,
    orders         BIGINT   NOT NULL,
    PRIMARY KEY (day, delivered_days, in_full, exception, returned)
);

CREATE TABLE dashboard_fulfilment_times (
    day     DATE   NOT NULL,
    leg     TEXT   NOT NULL,
    lead_ms BIGINT NOT NULL,
    orders  BIGINT NOT NULL,
    PRIMARY KEY (day, leg, lead_ms)
);

-- Whole days to the delivery, rounded up (0 at or before the confirmation), -1 without.
CREATE FUNCTION dashboard_delivered_days(delivered_ms BIGINT) RETURNS INTEGER
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN delivered_ms IS NULL THEN -1
                WHEN delivered_ms <= 0 THEN 0
                ELSE ((delivered_ms + 86399999) / 86400000)::INTEGER END
$$;

-- Milliseconds rounded down to two significant digits, NULL when negative.
CREATE FUNCTION dashboard_bucket(ms BIGINT) RETURNS BIGINT
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    step BIGINT := 1;
BEGIN
    IF ms IS NULL OR ms < 0 THEN
        RETURN NULL;
    END IF;
    WHILE ms >= step * 100 AND step < 10000000000 LOOP
        step := step * 10;
    END LOOP;
    RETURN ms / step * step;
END $$;

-- `at - since` in milliseconds, each rounded to the millisecond as SQLite reads them.
CREATE FUNCTION dashboard_ms_between(since TIMESTAMPTZ, at TIMESTAMPTZ) RETURNS BIGINT
LANGUAGE sql IMMUTABLE AS $$
    SELECT (round(extract(epoch FROM at) * 1000) - round(extract(epoch FROM since) * 1000))::BIGINT
$$;

-- Level 2: an order's row was added or changed, so do the sums.
CREATE FUNCTION dashboard_order_counted() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.counted THEN
        UPDATE dashboard_deliveries SET orders = orders - 1
        WHERE day = OLD.day AND delivered_days = dashboard_delivered_days(OLD.delivered_ms)
          AND in_full = OLD.in_full AND exception = OLD.exception AND returned = OLD.returned;
        UPDATE dashboard_fulfilment_times SET orders = orders - 1
        WHERE day = OLD.day AND leg = 'shipped' AND lead_ms = dashboard_bucket(OLD.shipped_ms);
        UPDATE dashboard_fulfilment_times SET orders = orders - 1
        WHERE day = OLD.day AND leg = 'delivered'
          AND lead_ms = dashboard_bucket(OLD.delivered_ms);
    END IF;
    IF NEW.counted THEN
        INSERT INTO dashboard_deliveries (day, delivered_days, in_full, exception, returned, orders)
        VALUES (NEW.day, dashboard_delivered_days(NEW.delivered_ms), NEW.in_full, NEW.exception,
            NEW.returned, 1)
        ON CONFLICT (day, delivered_days, in_full, exception, returned)
            DO UPDATE SET orders = dashboard_deliveries.orders + 1;
        IF dashboard_bucket(NEW.shipped_ms) IS NOT NULL THEN
            INSERT INTO dashboard_fulfilment_times (day, leg, lead_ms, orders)
            VALUES (NEW.day, 'shipped', dashboard_bucket(NEW.shipped_ms), 1)
            ON CONFLICT (day, leg, lead_ms)
                DO UPDATE SET orders = dashboard_fulfilment_times.orders + 1;
        END IF;
        IF dashboard_bucket(NEW.delivered_ms) IS NOT NULL THEN
            INSERT INTO dashboard_fulfilment_times (day, leg, lead_ms, orders)
            VALUES (NEW.day, 'delivered', dashboard_bucket(NEW.delivered_ms), 1)
            ON CONFLICT (day, leg, lead_ms)
                DO UPDATE SET orders = dashboard_fulfilment_times.orders + 1;
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER dashboard_order_counted
AFTER INSERT OR UPDATE ON dashboard_orders
FOR EACH ROW EXECUTE FUNCTION dashboard_order_counted();

-- Level 1, the one place that reads an order's facts (the definitions of
-- `OrderFulfilmentFactRow::facts`). Orders never confirmed get no row.
CREATE FUNCTION dashboard_order_refresh(refreshed TEXT) RETURNS VOID
LANGUAGE plpgsql AS $$
DECLARE
    o orders%ROWTYPE;
    facts dashboard_orders%ROWTYPE;
BEGIN
    SELECT * INTO o FROM orders WHERE id = refreshed;
    IF o.id IS NULL THEN
        RETURN;
    END IF;
    SELECT * INTO facts FROM dashboard_orders WHERE order_id = refreshed;
    IF o.confirmed_at IS NULL AND facts.order_id IS NULL THEN
        RETURN;
    END IF;
    facts.order_id := o.id;
    facts.number := o.number;
    facts.day := COALESCE((o.confirmed_at AT TIME ZONE 'UTC')::DATE, facts.day);
    facts.confirmed_ms := COALESCE(round(extract(epoch FROM o.confirmed_at) * 1000)::BIGINT,
        facts.confirmed_ms);
    facts.counted := o.confirmed_at IS NOT NULL AND o.status <> 'cancelled';
    facts.shipped_ms := dashboard_ms_between(o.confirmed_at, o.shipped_at);
    facts.delivered_ms := dashboard_ms_between(o.confirmed_at, o.delivered_at);
    facts.exception := COALESCE(
        (SELECT c.handoff_at IS NOT NULL FROM conversations c WHERE c.id = o.conversation_id),
        FALSE);
    facts.returned := EXISTS (SELECT 1 FROM returns r JOIN return_items i ON i.return_id = r.id
        WHERE r.order_id = o.id AND r.status NOT IN ('rejected', 'cancelled'));
    facts.in_full := NOT EXISTS (SELECT 1 FROM returns r JOIN return_items i ON i.return_id = r.id
        WHERE r.order_id = o.id AND r.status NOT IN ('rejected', 'cancelled')
          AND i.reason = 'wrong_item');
    INSERT INTO dashboard_orders VALUES (facts.*)
    ON CONFLICT (order_id) DO UPDATE SET
        number = EXCLUDED.number, day = EXCLUDED.day, confirmed_ms = EXCLUDED.confirmed_ms,
        counted = EXCLUDED.counted, shipped_ms = EXCLUDED.shipped_ms,
        delivered_ms = EXCLUDED.delivered_ms, in_full = EXCLUDED.in_full,
        exception = EXCLUDED.exception, returned = EXCLUDED.returned
    WHERE (dashboard_orders.*) IS DISTINCT FROM (EXCLUDED.*);
END $$;

-- The writes that change an order's facts.
CREATE FUNCTION dashboard_order_written() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status
        OR NEW.confirmed_at IS DISTINCT FROM OLD.confirmed_at
        OR NEW.shipped_at IS DISTINCT FROM OLD.shipped_at
        OR NEW.delivered_at IS DISTINCT FROM OLD.delivered_at
        OR NEW.conversation_id IS DISTINCT FROM OLD.conversation_id THEN
        PERFORM dashboard_order_refresh(NEW.id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER dashboard_order_written
AFTER INSERT OR UPDATE OF status, confirmed_at, shipped_at, delivered_at, conversation_id
ON orders FOR EACH ROW EXECUTE FUNCTION dashboard_order_written();

CREATE FUNCTION dashboard_order_handed_off() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.handoff_at IS DISTINCT FROM OLD.handoff_at THEN
        PERFORM dashboard_order_refresh(o.id) FROM orders o WHERE o.conversation_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER dashboard_order_handed_off AFTER UPDATE OF handoff_at ON conversations
FOR EACH ROW EXECUTE FUNCTION dashboard_order_handed_off();

CREATE FUNCTION dashboard_order_return_written() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'return_items' THEN
        PERFORM dashboard_order_refresh(r.order_id) FROM returns r WHERE r.id = NEW.return_id;
        RETURN NULL;
    END IF;
    PERFORM dashboard_order_refresh(NEW.order_id);
    IF TG_OP = 'UPDATE' AND OLD.order_id IS DISTINCT FROM NEW.order_id THEN
        PERFORM dashboard_order_refresh(OLD.order_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER dashboard_order_return_written
AFTER INSERT OR UPDATE OF status, order_id ON returns
FOR EACH ROW EXECUTE FUNCTION dashboard_order_return_written();
CREATE TRIGGER dashboard_order_return_item AFTER INSERT ON return_items
FOR EACH ROW EXECUTE FUNCTION dashboard_order_return_written();

-- The orders already confirmed.
SELECT dashboard_order_refresh(id) FROM orders WHERE confirmed_at IS NOT NULL;
