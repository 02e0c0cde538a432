//! Webhook endpoints and deliveries (CONTRACTS §6), the store's side of the outbox.
//!
//! The outbox holds one row per order or return event, written in the event's own
//! transaction. The delivery worker then:
//! 1. claims rows not yet fanned out ([`WebhookStore::claim_unfanned`]), renders each
//!    one's body once and records it with one delivery per endpoint that takes the topic
//!    ([`WebhookStore::fan_out`]);
//! 2. claims due deliveries ([`WebhookStore::claim_deliveries`]): pending, not leased by
//!    another worker, endpoint not paused, and the first pending one of its stream for
//!    that endpoint, so one order's messages reach one endpoint in `seq` order;
//! 3. records each attempt ([`WebhookStore::record_attempt`]).
//!
//! Claims are leases (a time until which the row is the claimer's), taken with `FOR
//! UPDATE SKIP LOCKED` on PostgreSQL, so several app servers share the work and a
//! worker that dies mid-send gives its rows back when the lease runs out. Times the
//! worker compares are Unix milliseconds on both backends.

use async_trait::async_trait;
use serde_json::Value;

use crate::StoreError;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not yet sent, or to be retried.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Retried until the deadline without a 2xx; staff may send it again.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "pending" => Ok(DeliveryStatus::Pending),
            "delivered" => Ok(DeliveryStatus::Delivered),
            "failed" => Ok(DeliveryStatus::Failed),
            other => Err(StoreError::Corrupt(format!("unknown delivery status {other:?}"))),
        }
    }
}

impl TryFrom<String> for DeliveryStatus {
    type Error = StoreError;

    fn try_from(text: String) -> Result<Self, StoreError> {
        DeliveryStatus::parse(&text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEndpoint {
    pub id: String,
    pub url: String,
    /// Filters as given (`*`, `order.*`, `return.refunded`), already validated.
    pub events: Vec<String>,
    /// `whsec_…`
    pub secret: String,
    pub created_ms: i64,
}

#[derive(Clone, PartialEq, Eq)]
pub struct EndpointRow {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub secret: String,
    pub paused: bool,
    pub created_ms: i64,
}

/// Never prints the secret.
impl std::fmt::Debug for EndpointRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointRow")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("events", &self.events)
            .field("paused", &self.paused)
            .finish_non_exhaustive()
    }
}

/// An outbox row to fan out: the event it stands for, as the writer stored it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    pub id: i64,
    pub event_id: String,
    /// `order.confirmed`, `return.approved`, …
    pub topic: String,
    /// `order:<order id>` or `return:<return id>`.
    pub stream: String,
    pub seq: u32,
    /// What the writer put there: the event's id, seq and type, and its order's id and
    /// number (or its return's id and RMA). Rows written before 2026-12 also carry the
    /// event's payload; the event itself is read from its own table.
    pub payload: Value,
}

/// One fanned-out row: its rendered body, the endpoints that take it and the email it
/// sends the customer.
#[derive(Debug, Clone, PartialEq)]
pub struct FanOut {
    pub outbox_id: i64,
    pub stream: String,
    pub seq: u32,
    pub body: String,
    pub endpoint_ids: Vec<String>,
    /// The customer's message for this event, when it mails one.
    pub email: Option<crate::email::NewEmail>,
}

/// A delivery a worker holds until its lease runs out: everything needed to send it.
#[derive(Clone, PartialEq)]
pub struct DeliveryClaim {
    pub id: i64,
    pub endpoint_id: String,
    pub url: String,
    pub secret: String,
    /// The `webhook-id`: the event's id, the same for every attempt and endpoint.
    pub message_id: String,
    pub topic: String,
    pub body: String,
    /// Attempts before this one.
    pub attempts: u32,
    pub first_attempt_ms: Option<i64>,
    pub created_ms: i64,
}

impl std::fmt::Debug for DeliveryClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryClaim")
            .field("id", &self.id)
            .field("endpoint_id", &self.endpoint_id)
            .field("message_id", &self.message_id)
            .field("topic", &self.topic)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// What came of one attempt, and what happens next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub delivery_id: i64,
    pub at_ms: i64,
    /// The HTTP status, when the endpoint answered at all.
    pub status_code: Option<u16>,
    pub latency_ms: u32,
    /// Why it was not delivered (no secrets, no bodies): `HTTP 500`, `timed out`, …
    pub error: Option<String>,
    pub next: AttemptNext,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptNext {
    Delivered,
    RetryAt(i64),
    Failed,
}

/// One row of an endpoint's deliveries, for staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    pub id: i64,
    pub endpoint_id: String,
    pub event_id: String,
    pub topic: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub created_ms: i64,
    pub next_attempt_ms: i64,
    pub last_attempt_ms: Option<i64>,
    pub last_status: Option<u16>,
    pub last_latency_ms: Option<u32>,
    pub last_error: Option<String>,
    pub done_ms: Option<i64>,
}

/// What `/metrics` and the console say about the backlog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxHealth {
    /// Outbox rows not fanned out yet, and when the oldest of them was written (its
    /// event's time is not known here: the id order is the write order).
    pub unfanned: u64,
    /// Deliveries pending, and the creation time of the oldest.
    pub pending: u64,
    pub oldest_pending_ms: Option<i64>,
    pub failed: u64,
}

/// Webhook endpoints and the delivery of outbox messages to them.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// `Ok(false)` and nothing written when the id is taken.
    async fn add_endpoint(&self, new: &NewEndpoint) -> Result<bool, StoreError>;

    /// Oldest first.
    async fn endpoints(&self) -> Result<Vec<EndpointRow>, StoreError>;

    /// Removes the endpoint and its deliveries; `false` for an unknown id.
    async fn remove_endpoint(&self, id: &str) -> Result<bool, StoreError>;

    /// `false` for an unknown id. A paused endpoint keeps getting deliveries queued; none
    /// is sent until it is resumed.
    async fn set_endpoint_paused(&self, id: &str, paused: bool) -> Result<bool, StoreError>;

    /// Up to `limit` outbox rows not fanned out and not leased, oldest first, leased to
    /// the caller until `now_ms + lease_ms`.
    async fn claim_unfanned(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError>;

    /// One transaction: each row's body and fan-out time, and a pending delivery (due
    /// now) per endpoint named. A delivery that exists already (another worker fanned
    /// the row out too) is left as it is; an endpoint removed meanwhile is skipped.
    async fn fan_out(&self, rows: &[FanOut], now_ms: i64) -> Result<(), StoreError>;

    /// Up to `limit` due deliveries, leased to the caller until `now_ms + lease_ms`:
    /// pending, due, not leased, endpoint not paused, and for their endpoint the first of
    /// their stream that is neither delivered nor failed (nor still to be fanned out).
    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<DeliveryClaim>, StoreError>;

    /// Records an attempt and frees the lease. Does nothing to a delivery that is no
    /// longer pending.
    async fn record_attempt(&self, attempt: &AttemptRecord) -> Result<(), StoreError> {
        self.record_attempts(std::slice::from_ref(attempt)).await
    }

    /// [`WebhookStore::record_attempt`] for a whole round in one transaction: one
    /// write (one fsync on SQLite) however many were sent.
    async fn record_attempts(&self, attempts: &[AttemptRecord]) -> Result<(), StoreError>;

    /// Gives claimed deliveries back unsent (a worker shutting down).
    async fn release_deliveries(&self, ids: &[i64]) -> Result<(), StoreError>;

    /// The endpoint's deliveries, newest first, at most `limit`, only `status` if given.
    async fn deliveries(
        &self,
        endpoint_id: &str,
        status: Option<DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<DeliveryRow>, StoreError>;

    /// A failed delivery back to pending, due now, attempts counted afresh; `false`
    /// when there is no failed delivery with this id for this endpoint.
    async fn redeliver(
        &self,
        endpoint_id: &str,
        delivery_id: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError>;

    /// A message for one endpoint only, outside any order or return (topic
    /// `webhook.test`), due now; returns the delivery's id, `None` (and nothing
    /// written) for an unknown endpoint.
    async fn enqueue_test(
        &self,
        endpoint_id: &str,
        event_id: &str,
        body: &str,
        now_ms: i64,
    ) -> Result<Option<i64>, StoreError>;

    async fn outbox_health(&self) -> Result<OutboxHealth, StoreError>;

    /// Deletes deliveries delivered before `before_ms`, then outbox rows fanned out
    /// before it that no delivery refers to any more; returns the outbox rows deleted.
    async fn prune_outbox(&self, before_ms: i64) -> Result<u64, StoreError>;
}
