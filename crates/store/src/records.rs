//! What the chat pipeline writes and reads, in the store's own terms: rows, JSON
//! payloads and integer minor units. The server maps domain types to these, so the
//! store needs no knowledge of what an event means.

use gapless_domain::{
    chat::Extractor,
    orders::{OrderStatus, PaymentStatus},
    staff_metrics::{ConversationStatus, Outcome},
    stock::StockKey,
};
use serde_json::Value;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq)]
pub struct NewConversation {
    pub id: String,
    pub channel: String,
    pub started_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ConversationRow {
    pub id: String,
    pub channel: String,
    pub started_at: OffsetDateTime,
    pub order_id: Option<String>,
    /// The number of `order_id`, for replies and the API.
    pub order_number: Option<String>,
    #[sqlx(try_from = "String")]
    pub outcome: ConversationStatus,
    #[sqlx(try_from = "i64")]
    pub turn_count: u32,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TurnRow {
    pub id: String,
    #[sqlx(try_from = "i64")]
    pub seq: u32,
    pub text: String,
    pub received_at: OffsetDateTime,
    #[sqlx(try_from = "String")]
    pub extractor: Extractor,
    pub reply: String,
    #[sqlx(json)]
    pub audit: Value,
    #[sqlx(json)]
    pub response: Value,
}

/// One chat turn and everything it changes, written in one transaction by
/// [`crate::ChatStore::record_turn`].
#[derive(Debug, Clone, PartialEq)]
pub struct TurnWrite {
    pub conversation_id: String,
    pub turn_id: String,
    /// The turn's number in the conversation: the conversation's `turn_count + 1` when
    /// it was read. Another writer that got there first makes this a conflict.
    pub seq: u32,
    pub text: String,
    pub received_at: OffsetDateTime,
    pub idempotency_key: Option<String>,
    pub extractor: Extractor,
    pub audit: Value,
    pub reply: String,
    /// The answer as a replay of the turn's idempotency key returns it: whole for a turn
    /// with a key, only `{"messages": […]}` for one without (what the dashboard counts).
    pub response: Value,
    /// How the conversation ended, if this turn ends it.
    pub outcome: Option<Outcome>,
    pub handoff: bool,
    pub order: Option<OrderWrite>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderWrite {
    pub order_id: String,
    /// From [`crate::ChatStore::next_order_number`] when the order is new.
    pub number: String,
    /// The seq of the last event the turn saw: 0 for a new order.
    pub expected_version: u32,
    pub events: Vec<EventWrite>,
    pub actor: String,
    pub projection: OrderProjection,
    /// Units to reserve; the whole turn fails with [`crate::StoreError::OutOfStock`] if
    /// any key has fewer available.
    pub reserve: Vec<(StockKey, u32)>,
    pub release: Vec<(StockKey, u32)>,
}

/// The outbox message of an order event (CONTRACTS §6): which event of which order.
/// The event's payload stays in `order_events` alone: the delivery worker renders the
/// webhook body from the order's events read there, and a copy here was most of every
/// outbox row, each written three times (added, claimed, fanned out).
#[derive(Debug, serde::Serialize)]
pub(crate) struct OrderOutboxMessage<'a> {
    pub(crate) event_id: &'a str,
    pub(crate) order_id: &'a str,
    pub(crate) order_number: &'a str,
    pub(crate) seq: i64,
    #[serde(rename = "type")]
    pub(crate) kind: &'a str,
}

impl<'a> OrderOutboxMessage<'a> {
    pub(crate) fn of(order: &'a OrderWrite, event: &'a EventWrite, seq: i64) -> Self {
        OrderOutboxMessage {
            event_id: &event.id,
            order_id: &order.order_id,
            order_number: &order.number,
            seq,
            kind: &event.event_type,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventWrite {
    pub id: String,
    pub event_type: String,
    pub schema_version: u32,
    pub payload: Value,
}

/// The order as the CRM tables show it after the turn's events.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderProjection {
    pub status: OrderStatus,
    pub currency: String,
    pub subtotal: i64,
    pub shipping: i64,
    pub total: i64,
    pub shipping_address: Option<Value>,
    pub customer: Option<CustomerWrite>,
    pub lines: Vec<LineWrite>,
    /// The first `shipped` event's time; kept once set.
    pub shipped_at: Option<OffsetDateTime>,
    /// The `delivered` event's time; kept once set (the demo may set it directly).
    pub delivered_at: Option<OffsetDateTime>,
    /// `payment.status` (CONTRACTS §8): `not_required` for orders without a provider.
    pub payment_status: PaymentStatus,
    /// When a pending payment link runs out; `None` when none is pending.
    pub payment_expires_at: Option<OffsetDateTime>,
    /// The order as its events fold to after this write (`OrderState` as JSON), read
    /// back by [`crate::ChatStore::order_snapshot`] instead of folding every event;
    /// `None` leaves the order without one (its readers fold the events).
    pub snapshot: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CustomerWrite {
    pub email: String,
    pub name: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineWrite {
    pub sku: String,
    pub name: String,
    pub quantity: u32,
    pub choices: Value,
    pub unit_price: i64,
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EventRow {
    pub id: String,
    #[sqlx(try_from = "i64")]
    pub seq: u32,
    #[sqlx(rename = "type")]
    pub event_type: String,
    #[sqlx(try_from = "i64")]
    pub schema_version: u32,
    #[sqlx(json)]
    pub payload: Value,
    pub conversation_id: Option<String>,
    pub message_id: Option<String>,
    pub actor: String,
    pub created_at: OffsetDateTime,
}

/// Enough of an order to answer "where is my order" once the email matches.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OrderSummary {
    pub id: String,
    pub number: String,
    #[sqlx(try_from = "String")]
    pub status: OrderStatus,
    pub email: Option<String>,
    pub currency: String,
    pub total: i64,
    pub updated_at: OffsetDateTime,
}

/// Where an order write comes from, for the columns of its events: a chat turn, or
/// staff acting on a return (an exchange's replacement), which has no conversation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OrderSource<'a> {
    pub conversation_id: Option<&'a str>,
    pub message_id: Option<&'a str>,
    pub idempotency_key: Option<&'a str>,
}

impl<'a> OrderSource<'a> {
    pub(crate) fn turn(turn: &'a TurnWrite) -> Self {
        OrderSource {
            conversation_id: Some(&turn.conversation_id),
            message_id: Some(&turn.turn_id),
            idempotency_key: turn.idempotency_key.as_deref(),
        }
    }
}

/// A conversation as the staff dashboard counts it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ConversationFactRow {
    pub id: String,
    pub started_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// As stored, for the same reason as [`ReturnFactRow::status`].
    pub outcome: String,
    /// The first shopper message.
    pub first_message_at: Option<OffsetDateTime>,
    /// When its order was confirmed.
    pub confirmed_at: Option<OffsetDateTime>,
    pub order_number: Option<String>,
    /// Its order's `payment.status`; `None` without an order.
    pub payment_status: Option<String>,
    pub handed_off: bool,
    #[sqlx(try_from = "i64")]
    pub turns: u32,
    /// Turns whose answer asked the shopper to clarify (an unknown or ambiguous
    /// product, a missing detail, nothing understood).
    #[sqlx(try_from = "i64")]
    pub clarification_turns: u32,
}

/// A return as the staff dashboard counts it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReturnFactRow {
    pub rma: String,
    /// As stored: the dashboard leaves out a status it does not know (a newer server
    /// wrote it) rather than failing the whole read.
    pub status: String,
    pub requested_at: OffsetDateTime,
    pub received_at: Option<OffsetDateTime>,
    /// The refunded, exchanged or credited event.
    pub completed_at: Option<OffsetDateTime>,
    #[sqlx(skip)]
    pub items: Vec<ReturnItemFactRow>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReturnItemFactRow {
    pub sku: String,
    /// The order line's name, as bought.
    pub name: String,
    pub reason: String,
    pub decision: String,
    #[sqlx(try_from = "i64")]
    pub quantity: u32,
}

/// The codes of a turn's notes that mean the assistant asked the shopper to clarify.
pub const CLARIFICATION_CODES: [&str; 4] =
    ["ambiguous_product", "unknown_product", "missing", "not_understood"];
