//! The staff API's answers that the console reads: `GET /api/v1/staff/metrics`, the
//! dashboard of a period (README, "Staff console").

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// The dashboard of a period of whole UTC days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Metrics {
    /// The period, half-open: `[from, to)`.
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub from: OffsetDateTime,
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub to: OffsetDateTime,
    /// The period's first and last day, both included (`YYYY-MM-DD`).
    pub first_day: String,
    pub last_day: String,
    /// `day` or `week`: the width of each of `buckets`.
    pub bucketing: String,
    /// Conversations started in the period.
    pub conversations: u64,
    /// First message → order confirmed.
    pub intent_to_confirmation: Stats,
    /// Conversations with a confirmed order.
    pub conversion: Share,
    /// Conversations with an order that was handed to a person.
    pub exception_rate: Share,
    /// Confirmed orders with a payment link that were paid.
    pub paid_conversion: Share,
    pub handoff_rate: Share,
    /// Turns whose answer asked the shopper to clarify.
    pub clarification_rate: Share,
    /// Returns requested in the period, and their units.
    pub returns: u64,
    pub returned_units: u64,
    pub by_reason: Vec<ReasonShare>,
    pub by_product: Vec<ProductShare>,
    /// Returned items as the policy decided them.
    pub decisions: Decisions,
    pub refund_cycle: RefundCycle,
    pub buckets: Vec<Bucket>,
    /// The console's SVG charts; only where the console asks for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charts: Option<Vec<Chart>>,
    /// Orders confirmed in the period and how their delivery went.
    pub fulfilment: Fulfilment,
    /// Customer emails now (not only of the period).
    pub emails: Emails,
}

/// A ratio with what it counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Share {
    pub numerator: u64,
    pub denominator: u64,
    /// `null` when nothing was counted.
    pub percent: Option<f64>,
}

/// Durations: how many, and their p50 and p90 (nearest rank) in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Stats {
    pub count: u64,
    pub p50_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReasonShare {
    /// The reason's code, and its label in the shop's policy.
    pub reason: String,
    pub label: String,
    pub items: u64,
    pub units: u64,
    pub share: Share,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProductShare {
    pub sku: String,
    pub product: String,
    pub items: u64,
    pub units: u64,
    pub share: Share,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Decisions {
    pub approved: u64,
    pub rejected: u64,
    pub in_review: u64,
}

/// Refund cycle times of the returns completed in the period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RefundCycle {
    pub completed: u64,
    pub request_to_complete: Stats,
    pub request_to_receipt: Stats,
    pub receipt_to_complete: Stats,
}

/// One point of the series: a day or a week from `start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Bucket {
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub start: OffsetDateTime,
    pub conversations_started: u64,
    pub orders_confirmed: u64,
    pub refunds_completed: u64,
}

/// An SVG chart, its text escaped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Chart {
    pub id: String,
    pub svg: String,
}

/// The delivery numbers of the orders confirmed in the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Fulfilment {
    pub delivery_promise_days: i64,
    pub orders: u64,
    pub confirmation_to_shipped: Stats,
    pub confirmation_to_delivered: Stats,
    pub on_time: Share,
    pub on_time_in_full: Share,
    pub perfect_order: Share,
    /// The first 50 orders behind each miss; the ratio says how many there are.
    pub late_orders: Vec<String>,
    pub imperfect_orders: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Emails {
    pub failed: u64,
    pub pending: u64,
    pub sent: u64,
}

/// `GET /api/v1/staff/orders/{number}`: an order as its events leave it, with every
/// event and where it came from, and what the customer was mailed about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StaffOrder {
    pub order: crate::chat::Order,
    pub emails: Vec<OrderEmail>,
    pub events: Vec<StaffOrderEvent>,
}

/// One customer email about an order or its returns (CONTRACTS §10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrderEmail {
    pub id: i64,
    /// The order or return event it tells of.
    pub event_id: String,
    /// The event's topic, `order.confirmed` or `return.refunded`.
    #[serde(rename = "type")]
    pub kind: String,
    pub rma: Option<String>,
    pub to: String,
    pub subject: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: u32,
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub queued_at: OffsetDateTime,
    #[serde(with = "crate::time_format::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_attempt_at: Option<OffsetDateTime>,
    /// Only while pending.
    #[serde(with = "crate::time_format::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub next_attempt_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    /// When it was sent or given up on.
    #[serde(with = "crate::time_format::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub done_at: Option<OffsetDateTime>,
}

/// One stored order event and where it came from: a chat turn (its conversation and its
/// number there), the fulfilment API, a payment provider, or a staff member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StaffOrderEvent {
    pub id: String,
    pub seq: u32,
    #[serde(rename = "type")]
    pub kind: String,
    pub actor: String,
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
    pub conversation_id: Option<String>,
    pub turn_id: Option<String>,
    pub turn_seq: Option<u32>,
    /// The event as stored (its `type` and fields).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: serde_json::Value,
}

/// `GET /api/v1/staff/handoffs`: the open handoffs, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HandoffQueue {
    pub conversations: Vec<Handoff>,
}

/// A conversation waiting for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Handoff {
    /// The conversation.
    pub id: String,
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub started_at: OffsetDateTime,
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub handoff_at: OffsetDateTime,
    pub order_number: Option<String>,
    pub turns: u32,
    /// The shopper's latest message.
    pub last_message: Option<String>,
    /// Staff replies so far.
    pub replies: u32,
}

/// `201` of `POST /api/v1/staff/conversations/{id}/replies`: the reply as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StaffReply {
    pub id: String,
    pub conversation_id: String,
    pub text: String,
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
    /// The handoff was closed with this reply.
    pub closed: bool,
}

/// `GET /api/v1/staff/conversations?…`: one page, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConversationPage {
    pub conversations: Vec<ConversationSummary>,
    /// The cursor of the next page; `null` on the last.
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConversationSummary {
    pub id: String,
    /// `widget`, `api`, `mcp`, `acp`, …
    pub channel: String,
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub started_at: OffsetDateTime,
    /// `open`, `ordered`, `handed_off`, …
    pub outcome: String,
    pub order_number: Option<String>,
    pub turns: u32,
}

/// `GET /api/v1/staff/conversations/{id}/timeline`: every turn's audit record, the
/// staff replies, and the customer emails about its order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConversationTimeline {
    pub id: String,
    pub channel: String,
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub started_at: OffsetDateTime,
    pub outcome: String,
    pub order_number: Option<String>,
    pub turns: Vec<AuditTurn>,
    pub staff_replies: Vec<AuditReply>,
    pub emails: Vec<AuditEmail>,
}

/// One turn from the shopper's message to the reply. The parts of the audit record are
/// kept as they were stored: their shape is the extractor's and the validator's, and an
/// older turn keeps the shape it was written with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditTurn {
    pub seq: u32,
    pub message: AuditMessage,
    /// `rules`, `llm`, `llm→rules` or `rules+shadow`.
    pub extractor: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub commands: serde_json::Value,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub notes: serde_json::Value,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub validation: serde_json::Value,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub requests: serde_json::Value,
    /// The order events the turn appended.
    pub events: Vec<AuditEventRef>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub order_after: serde_json::Value,
    pub reply: String,
    /// `null` for a turn stored without them.
    pub timings_ms: Option<AuditTimings>,
    /// The model's side of the turn when one ran, else `null`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub llm: serde_json::Value,
}

/// A turn's audit record as the chat stores it beside the turn, and as the timeline and
/// the audit export read it back. What the extractor and the validator said keeps the
/// shape it was written with (an older turn keeps an older shape); every part defaults
/// when absent, so an older record still reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TurnAudit {
    /// `rules`, `llm`, `llm→rules`, `rules+shadow`, `mcp` or `acp`.
    #[serde(default)]
    pub extractor: String,
    #[serde(default)]
    pub extraction: AuditExtraction,
    /// Per command: accepted, a question, or refused, and why.
    #[serde(default)]
    pub validations: serde_json::Value,
    /// Side requests: an order's status, a person, a return.
    #[serde(default)]
    pub requests: serde_json::Value,
    #[serde(default)]
    pub events: Vec<AuditEventRef>,
    /// The order as the turn left it.
    #[serde(default)]
    pub order_after: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timings_ms: Option<AuditTimings>,
    /// The model's side of the turn, when one ran: model, raw tool calls, refused calls,
    /// tokens, latency, fallback reason, shadow comparison.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<serde_json::Value>,
}

/// The commands the extractor read from the message, and its notes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditExtraction {
    #[serde(default)]
    pub commands: serde_json::Value,
    #[serde(default)]
    pub notes: serde_json::Value,
}

/// An order event a turn appended: the link from message to order event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEventRef {
    pub id: String,
    /// Its number in the order's event stream.
    pub seq: u32,
    /// `line_added`, `confirmed`, …
    #[serde(rename = "type")]
    pub kind: String,
}

/// Where a turn's time went, in milliseconds; the stages that did not run are absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditTimings {
    /// Reading the catalog, the order and the stock.
    #[serde(default)]
    pub load: f64,
    /// Asking the model, when one is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<f64>,
    /// Validating and deciding the turn.
    #[serde(default)]
    pub turn: f64,
    /// Asking the payment provider for a link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<f64>,
    /// The model phrasing the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phrase: Option<f64>,
}

impl AuditTimings {
    /// The stages that ran, in the order they run.
    pub fn stages(&self) -> Vec<(&'static str, f64)> {
        [
            ("load", Some(self.load)),
            ("model", self.model),
            ("turn", Some(self.turn)),
            ("payment", self.payment),
            ("phrase", self.phrase),
        ]
        .into_iter()
        .filter_map(|(stage, ms)| Some((stage, ms?)))
        .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditMessage {
    pub text: String,
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditReply {
    pub id: String,
    /// The staff member's email.
    pub staff: String,
    pub text: String,
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEmail {
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub subject: String,
    pub status: String,
    pub attempts: u32,
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub queued_at: OffsetDateTime,
    #[serde(with = "crate::time_format::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub done_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_turn_audit_is_stored_with_the_keys_the_timeline_and_export_read() {
        let audit = TurnAudit {
            extractor: "rules".into(),
            extraction: AuditExtraction { commands: json!([{ "add": "TEE" }]), notes: json!([]) },
            validations: json!([]),
            requests: json!([]),
            events: vec![AuditEventRef { id: "e1".into(), seq: 3, kind: "line_added".into() }],
            order_after: json!({ "status": "draft" }),
            timings_ms: Some(AuditTimings { load: 0.5, turn: 0.25, ..AuditTimings::default() }),
            llm: None,
        };
        let stored = serde_json::to_value(&audit).unwrap();
        assert_eq!(
            stored,
            json!({
                "extractor": "rules",
                "extraction": { "commands": [{ "add": "TEE" }], "notes": [] },
                "validations": [],
                "requests": [],
                "events": [{ "id": "e1", "seq": 3, "type": "line_added" }],
                "order_after": { "status": "draft" },
                "timings_ms": { "load": 0.5, "turn": 0.25 },
            })
        );
        assert_eq!(serde_json::from_value::<TurnAudit>(stored).unwrap(), audit);
        assert_eq!(audit.timings_ms.unwrap().stages(), [("load", 0.5), ("turn", 0.25)]);
    }

    #[test]
    fn an_older_record_still_reads() {
        // No timings, no extraction notes, a key this version does not know.
        let old = json!({
            "extractor": "llm",
            "extraction": { "commands": [] },
            "events": [{ "id": "e9", "seq": 1, "type": "confirmed" }],
            "llm": { "model": "m" },
            "retired": true,
        });
        let audit: TurnAudit = serde_json::from_value(old).unwrap();
        assert_eq!(audit.events[0].kind, "confirmed");
        assert_eq!(audit.extraction.notes, serde_json::Value::Null);
        assert_eq!(audit.timings_ms, None);
        assert_eq!(audit.llm, Some(json!({ "model": "m" })));
    }
}
