//! What the returns portal writes and reads, in the store's own terms: strings for
//! statuses and decisions, JSON payloads and integer minor units. The server maps the
//! domain's returns types (`gapless_domain::returns`) to these.

use gapless_domain::{
    orders::{OrderStatus, PaymentStatus},
    returns::ReturnStatus,
};
use serde_json::Value;
use time::OffsetDateTime;

/// A confirmed order as the returns lookup needs it, with what each line has already
/// had claimed by returns.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReturnableOrder {
    #[sqlx(rename = "id")]
    pub order_id: String,
    pub number: String,
    pub email: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: OrderStatus,
    pub currency: String,
    pub confirmed_at: Option<OffsetDateTime>,
    pub delivered_at: Option<OffsetDateTime>,
    /// `payment.status` (CONTRACTS §8): a return needs the order paid, or no payment
    /// required.
    #[sqlx(try_from = "String")]
    pub payment_status: PaymentStatus,
    #[sqlx(skip)]
    pub lines: Vec<ReturnableLine>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReturnableLine {
    /// `order_lines.position`: the `line` of a return item and of a claim.
    #[sqlx(rename = "position", try_from = "i64")]
    pub line: u32,
    pub sku: String,
    pub name: String,
    #[sqlx(try_from = "i64")]
    pub quantity: u32,
    pub unit_price: i64,
    /// The line's choices as stored (CONTRACTS §3 `choices`).
    #[sqlx(json)]
    pub choices: Value,
    /// Units held by returns that are approved or in review (0 when none ever were).
    #[sqlx(try_from = "i64")]
    pub claimed: u32,
}

/// A new return, written in one transaction by [`crate::ReturnsStore::create_return`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewReturn {
    pub id: String,
    pub rma: String,
    pub order_id: String,
    pub email: String,
    pub resolution: String,
    /// The status after `events`.
    pub status: ReturnStatus,
    pub requested_at: OffsetDateTime,
    pub items: Vec<ReturnItemWrite>,
    /// Stored with seq 1, 2, …; the return's version becomes their number.
    pub events: Vec<ReturnEventWrite>,
    /// `(line, quantity)`: the units this return holds, its approved and in-review
    /// items. The whole write fails with [`crate::StoreError::OverClaimed`] if any line
    /// has fewer left.
    pub claims: Vec<(u32, u32)>,
    /// The customer limit the decision relied on: when `max_recent` is set, the
    /// returns of this email requested since `counted_since` (not rejected, not
    /// cancelled) are counted again inside the write, and more than `max_recent` fail
    /// it with [`crate::StoreError::Conflict`], so that the caller decides again.
    pub counted_since: OffsetDateTime,
    pub max_recent: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReturnItemWrite {
    pub line: u32,
    pub sku: String,
    pub quantity: u32,
    pub reason: String,
    pub comment: Option<String>,
    pub decision: String,
    pub rule: String,
    pub message: String,
    pub value: i64,
    pub restocking_fee: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReturnEventWrite {
    pub id: String,
    pub event_type: String,
    pub schema_version: u32,
    pub payload: Value,
    pub actor: String,
    pub at: OffsetDateTime,
}

/// A return with its items and events. Times read back truncated to the microsecond
/// on both backends.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReturnRow {
    pub id: String,
    pub rma: String,
    pub order_id: String,
    pub order_number: String,
    pub email: String,
    #[sqlx(try_from = "String")]
    pub status: ReturnStatus,
    pub resolution: String,
    /// The number of events.
    #[sqlx(try_from = "i64")]
    pub version: u32,
    pub refund_amount: Option<i64>,
    pub requested_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// In the order they were written.
    #[sqlx(skip)]
    pub items: Vec<ReturnItemRow>,
    /// By seq.
    #[sqlx(skip)]
    pub events: Vec<ReturnEventRow>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReturnItemRow {
    #[sqlx(try_from = "i64")]
    pub line: u32,
    pub sku: String,
    #[sqlx(try_from = "i64")]
    pub quantity: u32,
    pub reason: String,
    pub comment: Option<String>,
    pub decision: String,
    pub rule: String,
    pub message: String,
    pub value: i64,
    pub restocking_fee: i64,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReturnEventRow {
    pub id: String,
    #[sqlx(try_from = "i64")]
    pub seq: u32,
    #[sqlx(rename = "type")]
    pub event_type: String,
    #[sqlx(json)]
    pub payload: Value,
    pub actor: String,
    #[sqlx(rename = "created_at")]
    pub at: OffsetDateTime,
}

/// An event with the return it belongs to, for reads that span returns.
#[derive(sqlx::FromRow)]
pub(crate) struct EventOfReturn {
    pub return_id: String,
    #[sqlx(flatten)]
    pub event: ReturnEventRow,
}

/// Events appended to a return by staff or the system, written in one transaction by
/// [`crate::ReturnsStore::update_return`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnUpdate {
    pub return_id: String,
    /// The version (number of events) the caller read; another writer that got there
    /// first makes this a conflict.
    pub expected_version: u32,
    pub events: Vec<ReturnEventWrite>,
    /// The status after `events`.
    pub status: ReturnStatus,
    /// `(line, quantity)`: claims given back, by items rejected or a return cancelled.
    pub release: Vec<(u32, u32)>,
    /// Kept as it was when `None`.
    pub refund_amount: Option<i64>,
    pub at: OffsetDateTime,
    /// An exchange's replacement, a new confirmed order written (and its stock
    /// reserved) in the same transaction; the whole update fails with
    /// [`crate::StoreError::OutOfStock`] if the stock is gone.
    pub replacement: Option<crate::OrderWrite>,
    /// The paid order's `refunded` event when the refund went back through the payment
    /// provider, written in the same transaction.
    pub order_refund: Option<crate::OrderWrite>,
    /// Units back on sale with this update (a receipt's `restock` items): added to
    /// `on_hand` of each tracked key. Keys the shop does not track are skipped.
    pub restock: Vec<(gapless_domain::stock::StockKey, u32)>,
}

/// One row of the staff list of returns.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReturnListRow {
    pub rma: String,
    pub order_number: String,
    pub email: String,
    #[sqlx(try_from = "String")]
    pub status: ReturnStatus,
    /// `refund`, `exchange` or `store_credit`: what the customer asked for.
    pub resolution: String,
    pub requested_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Claims summed per line, by line: a return may list a line twice, and taking row
/// locks in one order keeps concurrent requests from deadlocking on PostgreSQL.
pub(crate) fn claims_by_line(claims: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut by_line = std::collections::BTreeMap::<u32, u32>::new();
    for &(line, quantity) in claims {
        let total = by_line.entry(line).or_default();
        *total = total.saturating_add(quantity);
    }
    by_line.into_iter().filter(|&(_, quantity)| quantity > 0).collect()
}

/// A unique violation while creating a return: its code, or (unlikely) its id, was
/// taken by another writer.
pub(crate) fn return_conflict(error: sqlx::Error) -> crate::StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            if db.message().contains("rma") || db.constraint().is_some_and(|c| c.contains("rma")) {
                crate::StoreError::Conflict("rma taken".into())
            } else {
                crate::StoreError::Conflict(db.message().to_owned())
            }
        }
        _ => crate::StoreError::Database(error),
    }
}

/// The outbox payload of a return event: which event of which return (the event's own
/// payload stays in `return_events`, read from there when the row is fanned out).
pub(crate) fn outbox_payload(
    return_id: &str,
    rma: &str,
    order_id: &str,
    seq: i64,
    event: &ReturnEventWrite,
) -> Value {
    serde_json::json!({
        "event_id": event.id,
        "return_id": return_id,
        "rma": rma,
        "order_id": order_id,
        "seq": seq,
        "type": event.event_type,
    })
}

/// Rows of (return id, event) grouped per return, keeping the order they came in.
pub(crate) fn group_events(rows: Vec<EventOfReturn>) -> Vec<Vec<ReturnEventRow>> {
    let mut groups: Vec<Vec<ReturnEventRow>> = Vec::new();
    let mut current: Option<String> = None;
    for EventOfReturn { return_id, event } in rows {
        if current.as_deref() == Some(return_id.as_str()) {
            if let Some(group) = groups.last_mut() {
                group.push(event);
                continue;
            }
        }
        current = Some(return_id);
        groups.push(vec![event]);
    }
    groups
}

pub(crate) fn count(n: i64) -> Result<u32, crate::StoreError> {
    u32::try_from(n).map_err(|_| crate::StoreError::Corrupt(format!("count out of range: {n}")))
}

/// Statuses after which the customer has what the return was for.
pub(crate) const COMPLETED: [&str; 3] = ["refunded", "exchanged", "credited"];
