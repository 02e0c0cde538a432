-- Payments (CONTRACTS §8): the provider's webhook events already acted on, so that the
-- same event delivered again changes nothing. What they did is in `order_events`
-- (`payment_requested`, `paid`, `payment_expired`, `refunded`).
CREATE TABLE payment_events (
    -- `stripe`.
    provider     TEXT NOT NULL,
    -- The provider's own event id (`evt_…`).
    event_id     TEXT NOT NULL,
    type         TEXT NOT NULL,
    -- The order it was about, when it named one of ours.
    order_number TEXT,
    received_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (provider, event_id)
);
