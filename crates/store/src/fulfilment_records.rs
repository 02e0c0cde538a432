//! What fulfilment in (CONTRACTS §7) writes and reads: API keys for the shop's systems,
//! a `shipped`/`delivered` write with the answer kept for its Idempotency-Key, and the
//! facts the dashboard's delivery numbers are computed from.

use gapless_domain::{
    orders::OrderStatus,
    returns::ReturnStatus,
    staff_metrics::{OrderFulfilmentFacts, NOT_IN_FULL_REASON},
};
use serde_json::Value;
use time::OffsetDateTime;

use crate::OrderWrite;

#[derive(Debug, Clone, PartialEq)]
pub struct NewApiKey {
    pub id: String,
    pub name: String,
    /// Hex SHA-256 of the key; the key itself is never stored.
    pub key_hash: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

/// A `shipped` or `delivered` event (in `order`, through the same path as every other
/// order event) and, when the request carried one, its Idempotency-Key and the answer
/// given, written in one transaction by [`crate::FulfilmentStore::record_fulfilment`].
#[derive(Debug, Clone, PartialEq)]
pub struct FulfilmentWrite {
    pub order: OrderWrite,
    pub api_key_id: String,
    pub idempotency_key: Option<String>,
    pub response: Value,
    pub at: OffsetDateTime,
}

/// The answer kept for an Idempotency-Key.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoredFulfilment {
    pub order_number: String,
    #[sqlx(json)]
    pub response: Value,
}

/// An order as the dashboard's delivery numbers need it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OrderFulfilmentFactRow {
    pub number: String,
    /// As stored, like the other dashboard rows (`ReturnFactRow::status`): a word this
    /// version does not know is read, not a failed dashboard.
    pub status: String,
    pub confirmed_at: Option<OffsetDateTime>,
    pub shipped_at: Option<OffsetDateTime>,
    pub delivered_at: Option<OffsetDateTime>,
    /// Its conversation was handed to a person.
    pub handed_off: bool,
    /// Each item of each return of the order (not cancelled).
    #[sqlx(skip)]
    pub returns: Vec<OrderReturnFactRow>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OrderReturnFactRow {
    pub requested_at: OffsetDateTime,
    /// As stored.
    pub status: String,
    pub reason: String,
}

impl OrderFulfilmentFactRow {
    /// The order as the domain's delivery numbers read it (`None` before its
    /// confirmation). The same definitions as migration 0017's triggers: returned when a
    /// return with items is live (not rejected or cancelled), not in full when one of
    /// those items came back as [`NOT_IN_FULL_REASON`], an exception when its
    /// conversation was handed to a person.
    pub fn facts(&self) -> Option<OrderFulfilmentFacts> {
        let live = |status: &str| {
            status != ReturnStatus::Rejected.as_str() && status != ReturnStatus::Cancelled.as_str()
        };
        Some(OrderFulfilmentFacts {
            number: self.number.clone(),
            confirmed_at: self.confirmed_at?,
            shipped_at: self.shipped_at,
            delivered_at: self.delivered_at,
            cancelled: self.status == OrderStatus::Cancelled.as_str(),
            in_full: !self
                .returns
                .iter()
                .any(|r| live(&r.status) && r.reason == NOT_IN_FULL_REASON),
            exception: self.handed_off,
            returned: self.returns.iter().any(|r| live(&r.status)),
        })
    }
}
