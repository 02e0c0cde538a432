//! Returns over HTTP (CONTRACTS §4): what `POST /api/v1/returns/lookup`,
//! `POST /api/v1/returns` and `GET /api/v1/returns/{rma}` answer. The portal pages read
//! these same types, and the webhook and email bodies of return events carry
//! [`ReturnView`]. The request bodies are here too: [`OrderProof`] and [`NewReturn`].

use gapless_domain::{
    catalog::Choice,
    returns::{
        Disposition, NotReturnable, Outcome, RequestedItem, Resolution, ReturnStatus, RuleId,
    },
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// What proves an order: `POST /api/v1/returns/lookup`'s body. Both, or nothing is said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(json!({ "order_number": "G-100042", "email": "ana@example.com" }))))]
pub struct OrderProof {
    pub order_number: String,
    /// Compared without regard to case.
    pub email: String,
}

/// A return request: `POST /api/v1/returns`'s body, and what the portal sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(json!({
    "order_number": "G-100042", "email": "ana@example.com", "resolution": "exchange",
    "items": [ { "line": 0, "quantity": 1, "reason": "too_small", "exchange": { "size": "l" } } ]
}))))]
pub struct NewReturn {
    pub order_number: String,
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub items: Vec<RequestedItem>,
    pub resolution: Resolution,
}

/// An order the customer proved, with what can still come back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Lookup {
    pub order_number: String,
    /// ISO 4217 code of every amount.
    pub currency: String,
    /// When the order was delivered (RFC 3339), `null` while no delivery was reported;
    /// return windows count from it when it is known.
    #[serde(with = "crate::time_format::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime, required = true))]
    pub delivered_at: Option<OffsetDateTime>,
    pub lines: Vec<LookupLine>,
    /// The shop's return reasons, in its order.
    pub reasons: Vec<ReasonChoice>,
    /// What the shop offers instead.
    pub resolutions: Vec<Resolution>,
}

/// One order line in a lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LookupLine {
    /// The line's index: what a return item's `line` names.
    pub line: u32,
    pub sku: String,
    pub name: String,
    /// Units bought.
    pub quantity: u32,
    /// Minor units, as bought.
    pub unit_price: i64,
    /// What was chosen, as on the order.
    pub choices: Vec<Choice>,
    /// Units that may still be returned.
    pub returnable_quantity: u32,
    /// The last instant a return may be asked for (RFC 3339); `null` when unbounded.
    #[serde(with = "crate::time_format::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime, required = true))]
    pub return_by: Option<OffsetDateTime>,
    /// Only when `returnable_quantity` is 0: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<NotReturnable>,
    /// The same, in words for the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Only when the shop offers exchanges and units can come back: per single-choice
    /// group, the other values at the same unit price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_options: Option<Vec<ExchangeOption>>,
}

/// What one option group of a bought line could be exchanged for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExchangeOption {
    #[cfg_attr(feature = "openapi", schema(examples("size")))]
    pub group: String,
    /// The value bought; `null` when the line left the group at no value.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub current: Option<String>,
    pub values: Vec<ExchangeValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExchangeValue {
    #[cfg_attr(feature = "openapi", schema(examples("l")))]
    pub value: String,
    /// One unit is in stock now; the request checks again for its quantity.
    pub available: bool,
}

impl From<gapless_domain::returns::ExchangeOption> for ExchangeOption {
    fn from(option: gapless_domain::returns::ExchangeOption) -> ExchangeOption {
        ExchangeOption {
            group: option.group,
            current: option.current,
            values: option
                .values
                .into_iter()
                .map(|v| ExchangeValue { value: v.value, available: v.available })
                .collect(),
        }
    }
}

/// A return reason of the shop's policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(json!({ "code": "too_small", "label": "Too small" }))))]
pub struct ReasonChoice {
    pub code: String,
    pub label: String,
}

impl From<gapless_domain::returns::ReasonChoice> for ReasonChoice {
    fn from(choice: gapless_domain::returns::ReasonChoice) -> ReasonChoice {
        ReasonChoice { code: choice.code.as_str().to_owned(), label: choice.label }
    }
}

/// The decision on a new return, per item (the `201` of `POST /api/v1/returns`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReturnCreated {
    #[cfg_attr(feature = "openapi", schema(examples("R-7K2M9Q4X")))]
    pub rma: String,
    /// The whole request: approved when any item is, in review when any item waits for
    /// a person and none is approved, else rejected.
    pub status: Outcome,
    pub items: Vec<CreatedItem>,
    /// What the customer does next.
    pub instructions: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedItem {
    pub line: u32,
    pub quantity: u32,
    pub decision: Outcome,
    /// Why, in words the customer understands.
    pub reason: String,
    /// The policy rule that decided.
    pub rule: RuleId,
    /// Minor units kept back of the refund.
    pub restocking_fee: i64,
    /// For an exchange: every choice of the replacement line; `null` otherwise.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub exchange: Option<Vec<Choice>>,
}

/// A return as the customer follows it (`GET /api/v1/returns/{rma}`), and as the
/// `return.*` webhooks carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReturnView {
    pub rma: String,
    pub order_number: String,
    /// ISO 4217 code of the amounts; `null` when the order is gone.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub currency: Option<String>,
    pub status: ReturnStatus,
    pub resolution: Resolution,
    pub items: Vec<ReturnItemView>,
    /// The order that ships an exchange's replacement; `null` before.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub replacement_order: Option<String>,
    pub timeline: Vec<TimelineEntry>,
    /// Minor units refunded or credited; `null` before.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub refund_amount: Option<i64>,
    /// What the customer does next, in words.
    pub instructions: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReturnItemView {
    pub line: u32,
    pub sku: String,
    /// The product's name on the order; `null` when the order is gone.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub name: Option<String>,
    pub quantity: u32,
    /// One of the policy's reason codes.
    pub reason: String,
    pub decision: Outcome,
    pub rule: RuleId,
    /// The decision in words.
    pub message: String,
    /// Minor units: unit price times quantity, as bought.
    pub value: i64,
    pub restocking_fee: i64,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub exchange: Option<Vec<Choice>>,
    /// What happened to the item at receipt; `null` before.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub disposition: Option<Disposition>,
}

/// One step of a return, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TimelineEntry {
    pub status: ReturnStatus,
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
}

/// The returns staff see, newest first (`GET /api/v1/staff/returns?status=…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReturnList {
    pub returns: Vec<ReturnListEntry>,
}

/// One return in the staff list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReturnListEntry {
    pub rma: String,
    pub order_number: String,
    /// The email the order was placed with.
    pub email: String,
    pub status: ReturnStatus,
    pub resolution: Resolution,
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub requested_at: OffsetDateTime,
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
}

/// `GET /api/v1/staff/returns/cycle-times?days=N`: how long the returns completed in
/// `[from, to]` took, request → refund and receipt → refund, in seconds (nearest rank).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CycleTimes {
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub from: OffsetDateTime,
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub to: OffsetDateTime,
    /// Returns completed in the period.
    pub returns: usize,
    /// `null` when none was refunded.
    pub request_to_refund_seconds: Option<SecondsPercentiles>,
    /// `null` when none was received and then refunded.
    pub receipt_to_refund_seconds: Option<SecondsPercentiles>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SecondsPercentiles {
    pub p50: f64,
    pub p90: f64,
}

/// What the customer does next, for a return (or a request) in `status`.
pub fn instructions(status: &str) -> &'static str {
    match status {
        "approved" => "Pack the approved items with a note of your RMA code and send them back within 14 days. We refund as soon as they arrive.",
        "in_review" => "A member of our team will look at your request within two working days. You will find the answer on this page.",
        "rejected" => "None of the items can be returned; each item says why.",
        "received" => "We have your parcel and are checking the items.",
        "refunded" | "credited" | "exchanged" => "This return is complete.",
        "cancelled" => "This return was cancelled.",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The view reads back what it wrote, with the contract's names and words.
    #[test]
    fn a_return_view_round_trips_with_the_contracts_names() {
        let json = serde_json::json!({
            "rma": "R-7K2M9Q4X", "order_number": "G-100042", "currency": "USD",
            "status": "in_review", "resolution": "store_credit",
            "items": [{ "line": 0, "sku": "TEE", "name": "tee", "quantity": 1,
                "reason": "damaged", "decision": "in_review", "rule": "review_reason",
                "message": "A person will look at it.", "value": 2500, "restocking_fee": 0,
                "exchange": null, "disposition": null }],
            "replacement_order": null,
            "timeline": [{ "status": "requested", "at": "2030-06-01T12:00:00Z" }],
            "refund_amount": null,
            "instructions": "…",
        });
        let view: ReturnView = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(view.status, ReturnStatus::InReview);
        assert_eq!(view.items[0].rule, RuleId::ReviewReason);
        assert_eq!(serde_json::to_value(&view).unwrap(), json);
    }

    #[test]
    fn a_lookup_line_names_its_reason_only_when_blocked() {
        let line = LookupLine {
            line: 0,
            sku: "TEE".into(),
            name: "tee".into(),
            quantity: 2,
            unit_price: 2500,
            choices: vec![Choice::new("size", "m")],
            returnable_quantity: 2,
            return_by: None,
            reason: None,
            message: None,
            exchange_options: None,
        };
        let json = serde_json::to_value(&line).unwrap();
        assert!(json.get("reason").is_none() && json.get("exchange_options").is_none());
        assert_eq!(json["return_by"], serde_json::Value::Null);
        let blocked = LookupLine {
            returnable_quantity: 0,
            reason: Some(NotReturnable::NotPaid),
            message: Some("not paid".into()),
            ..line
        };
        assert_eq!(serde_json::to_value(&blocked).unwrap()["reason"], "not_paid");
    }
}
