-- Payments on the order row (CONTRACTS §8), so that the payment sweep finds the orders
-- that need it without folding every order: unpaid links past their expiry (whose
-- `checkout.session.expired` webhook never came) and cancelled orders with money still
-- to send back. The order's events stay the truth; these columns are their projection,
-- written in the same transaction as the events.
--
-- Times are fixed-width UTC text with six fractional digits, written by the store (see
-- sqlite_sessions.rs): text order is time order.

-- `payment.status`: not_required, pending, paid, expired, refunded, partially_refunded.
ALTER TABLE orders ADD COLUMN payment_status TEXT NOT NULL DEFAULT 'not_required';
-- When a pending payment link runs out.
ALTER TABLE orders ADD COLUMN payment_expires_at TEXT;

-- Orders placed before this migration: the last payment event decides. A refund is
-- taken as the whole payment (before this migration a refund came only from returns,
-- and a cancelled order could have none); the sweep folds the events before it acts.
UPDATE orders SET
    payment_status = COALESCE((
        SELECT CASE e.type
            WHEN 'payment_requested' THEN 'pending'
            WHEN 'paid' THEN 'paid'
            WHEN 'payment_expired' THEN 'expired'
            WHEN 'refunded' THEN 'refunded'
        END
        FROM order_events e
        WHERE e.order_id = orders.id
          AND e.type IN ('payment_requested', 'paid', 'payment_expired', 'refunded')
        ORDER BY e.seq DESC LIMIT 1), 'not_required'),
    payment_expires_at = (
        SELECT strftime('%Y-%m-%dT%H:%M:%S', json_extract(e.payload, '$.expires_at')) || '.000000Z'
        FROM order_events e
        WHERE e.order_id = orders.id AND e.type = 'payment_requested'
        ORDER BY e.seq DESC LIMIT 1);

-- What the sweep reads; few orders are ever in these states for long.
CREATE INDEX orders_payment_pending ON orders (payment_expires_at)
    WHERE payment_status = 'pending';
CREATE INDEX orders_payment_to_refund ON orders (id)
    WHERE status = 'cancelled' AND payment_status IN ('paid', 'partially_refunded');
