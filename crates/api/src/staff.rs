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
