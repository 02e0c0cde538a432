//! What payments (CONTRACTS §8) write: a provider's webhook event, kept by its id so
//! that a second delivery changes nothing, with the order event it led to.

use time::OffsetDateTime;

use crate::OrderWrite;

/// A provider's webhook event and what it appends to an order, written in one
/// transaction by [`crate::PaymentStore::record_payment_event`].
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentEventWrite {
    /// `stripe`.
    pub provider: String,
    /// The provider's event id (`evt_…`).
    pub event_id: String,
    /// The provider's event type (`checkout.session.completed`).
    pub event_type: String,
    pub order_number: Option<String>,
    /// `None` for an event that changes no order (one it already shows, or a type we
    /// only acknowledge).
    pub order: Option<OrderWrite>,
    pub at: OffsetDateTime,
}
