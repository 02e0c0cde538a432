//! The policy engine: what may be returned from an order ([`returnable`]) and what
//! becomes of each item a customer asks to return ([`decide`]).
//!
//! Both are pure functions of what the store knows (the order's lines, what is
//! already being returned, when it was delivered, how many returns the customer made
//! lately) and a `now` passed in, so every rule can be tested with a fixed clock and a
//! decision can be explained later from the same inputs.
//!
//! A request is checked in two tiers. Input no portal would send (an unknown line, a
//! quantity of zero, a reason the shop does not have, the same line twice) is a
//! [`RequestError`], which the API answers with a 4xx and which records nothing. A
//! well-formed request is then decided item by item: the first rule that applies
//! decides, hard rules (the item cannot be returned) before soft ones (a person should
//! look first), in the order of [`RuleId`].

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

use super::policy::{ReasonCode, Resolution, ReturnPolicy};
use crate::money::Money;
use crate::orders::MAX_LINES;
use crate::sku::Sku;

/// Longer comments are refused rather than cut: the customer should know that what
/// staff read is what they wrote.
pub const MAX_COMMENT_CHARS: usize = 1000;
/// No order line comes near this; a larger number is not a quantity but a mistake or
/// a probe, and is refused before any rule runs.
pub const MAX_RETURN_QUANTITY: i64 = 10_000;

/// One order line as the customer bought it, with what the catalog says about
/// returning it and how much of it is already on its way back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoughtLine {
    pub sku: Sku,
    pub name: String,
    /// Units bought.
    pub quantity: u32,
    pub unit_price: Money,
    /// From the catalog: the product cannot be returned at all.
    pub final_sale: bool,
    /// From the catalog: replaces the policy's `window_days` for this product.
    pub return_days: Option<u32>,
    /// Units of this line in earlier returns that still count: requested, in review,
    /// approved or further along; not rejected, not cancelled (those units can be
    /// asked for again).
    pub already_requested: u32,
}

impl BoughtLine {
    /// Units not yet bought back or on their way back.
    pub fn remaining(&self) -> u32 {
        self.quantity.saturating_sub(self.already_requested)
    }
}

/// When the return window of an order starts: delivery when the shop knows it,
/// otherwise confirmation (a shop without delivery tracking still has a window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderDates {
    pub confirmed_at: OffsetDateTime,
    pub delivered_at: Option<OffsetDateTime>,
    /// The order was cancelled: nothing was sent, so nothing can come back.
    pub cancelled: bool,
    /// The order waits for its payment (CONTRACTS §8): nothing was bought yet, so
    /// nothing can be returned or refunded.
    pub unpaid: bool,
}

impl OrderDates {
    pub fn window_start(&self) -> OffsetDateTime {
        self.delivered_at.unwrap_or(self.confirmed_at)
    }
}

/// Why nothing of a line can be returned; the codes of the lookup answer (CONTRACTS §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum NotReturnable {
    /// The whole order was cancelled.
    OrderCancelled,
    /// The order is not paid yet.
    NotPaid,
    FinalSale,
    WindowClosed,
    AlreadyReturned,
}

impl NotReturnable {
    pub fn as_str(self) -> &'static str {
        self.rule().as_str()
    }

    /// The rule that rejects an item of such a line.
    pub fn rule(self) -> RuleId {
        match self {
            NotReturnable::OrderCancelled => RuleId::OrderCancelled,
            NotReturnable::NotPaid => RuleId::NotPaid,
            NotReturnable::FinalSale => RuleId::FinalSale,
            NotReturnable::WindowClosed => RuleId::WindowClosed,
            NotReturnable::AlreadyReturned => RuleId::AlreadyReturned,
        }
    }
}

/// One line of the lookup answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Returnable {
    /// The index in the order's lines.
    pub line: usize,
    pub returnable_quantity: u32,
    /// Present exactly when `returnable_quantity` is 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<NotReturnable>,
    /// The same, in words for the customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The last instant a return may be requested; `None` when the window reaches
    /// beyond any representable date.
    #[serde(with = "time::serde::rfc3339::option")]
    pub return_by: Option<OffsetDateTime>,
}

/// A request as the API receives it (CONTRACTS §4, without the order number and
/// email, which find the order). Deliberately loose (a signed quantity, the reason
/// as text) so that [`decide`] can name what is wrong instead of serde.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnRequest {
    pub items: Vec<RequestedItem>,
    pub resolution: Resolution,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// The document's name for it since the first version of the API.
#[cfg_attr(feature = "openapi", schema(as = NewReturnItem))]
pub struct RequestedItem {
    /// The index in the order's lines.
    pub line: usize,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10000))]
    pub quantity: i64,
    /// One of the lookup's `reasons` codes.
    pub reason: String,
    /// At most 1000 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub comment: Option<String>,
    /// For an exchange: the values wanted instead, by option group (`{ "Size": "L" }`);
    /// checked by [`plan_exchanges`](super::plan_exchanges). Required for an exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>, examples(json!({ "size": "l" }))))]
    pub exchange: Option<std::collections::BTreeMap<String, String>>,
}

/// A request item that passed the request-level checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnItem {
    pub line: usize,
    pub quantity: u32,
    pub reason: ReasonCode,
    /// Trimmed; `None` when empty.
    pub comment: Option<String>,
}

/// Input that no portal would send. Each variant names the item (its index in
/// `items`) so that the API can point at it; [`RequestError::code`] is the API's
/// error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("choose at least one item to return")]
    NoItems,
    #[error("a return can have at most {max} items, this one has {items}")]
    TooManyItems { items: usize, max: usize },
    #[error("item {item}: the order has no line {line}; it has {lines} lines")]
    UnknownLine { item: usize, line: usize, lines: usize },
    #[error("item {item}: line {line} is already item {first} of this return; give it once with the total quantity")]
    DuplicateLine { item: usize, line: usize, first: usize },
    #[error(
        "item {item}: the quantity must be between 1 and {MAX_RETURN_QUANTITY}, not {quantity}"
    )]
    Quantity { item: usize, quantity: i64 },
    #[error("item {item}: {reason:?} is not one of this shop's return reasons ({known})")]
    UnknownReason { item: usize, reason: String, known: String },
    #[error(
        "item {item}: the comment has {chars} characters; at most {MAX_COMMENT_CHARS} are allowed"
    )]
    CommentTooLong { item: usize, chars: usize },
}

impl RequestError {
    /// A stable code for the API's `{ "error": { "code", … } }`.
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::NoItems => "no_items",
            RequestError::TooManyItems { .. } => "too_many_items",
            RequestError::UnknownLine { .. } => "unknown_line",
            RequestError::DuplicateLine { .. } => "duplicate_line",
            RequestError::Quantity { .. } => "invalid_quantity",
            RequestError::UnknownReason { .. } => "unknown_reason",
            RequestError::CommentTooLong { .. } => "comment_too_long",
        }
    }

    /// The index in `items` of the item at fault, if it is one item.
    pub fn item(&self) -> Option<usize> {
        match self {
            RequestError::NoItems | RequestError::TooManyItems { .. } => None,
            RequestError::UnknownLine { item, .. }
            | RequestError::DuplicateLine { item, .. }
            | RequestError::Quantity { item, .. }
            | RequestError::UnknownReason { item, .. }
            | RequestError::CommentTooLong { item, .. } => Some(*item),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Outcome {
    Approved,
    Rejected,
    InReview,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Approved => "approved",
            Outcome::Rejected => "rejected",
            Outcome::InReview => "in_review",
        }
    }
}

/// Which rule decided an item, in the order they are tried: the first that applies
/// decides. Stored with the decision so staff and reports can say why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RuleId {
    /// Rejected: the order was cancelled, so nothing of it was sent.
    OrderCancelled,
    /// Rejected: the order waits for its payment, so nothing was bought yet.
    NotPaid,
    /// Rejected: the product is final sale.
    FinalSale,
    /// Rejected: the return window (policy or product override) has closed.
    WindowClosed,
    /// Rejected: every unit is already returned or in another open return.
    AlreadyReturned,
    /// Rejected: more units than bought minus already returned.
    QuantityExceeded,
    /// Rejected: the shop does not offer the resolution asked for.
    ResolutionNotAllowed,
    /// In review: the reason always needs a person (e.g. damaged).
    ReviewReason,
    /// In review: the request's returnable items together exceed the ceiling.
    OverCeiling,
    /// In review: the customer has reached the limit of returns in the period.
    CustomerLimit,
    /// Approved: no rule objected.
    Approved,
}

impl RuleId {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::OrderCancelled => "order_cancelled",
            RuleId::NotPaid => "not_paid",
            RuleId::FinalSale => "final_sale",
            RuleId::WindowClosed => "window_closed",
            RuleId::AlreadyReturned => "already_returned",
            RuleId::QuantityExceeded => "quantity_exceeded",
            RuleId::ResolutionNotAllowed => "resolution_not_allowed",
            RuleId::ReviewReason => "review_reason",
            RuleId::OverCeiling => "over_ceiling",
            RuleId::CustomerLimit => "customer_limit",
            RuleId::Approved => "approved",
        }
    }

    pub fn outcome(self) -> Outcome {
        match self {
            RuleId::OrderCancelled
            | RuleId::NotPaid
            | RuleId::FinalSale
            | RuleId::WindowClosed
            | RuleId::AlreadyReturned
            | RuleId::QuantityExceeded
            | RuleId::ResolutionNotAllowed => Outcome::Rejected,
            RuleId::ReviewReason | RuleId::OverCeiling | RuleId::CustomerLimit => Outcome::InReview,
            RuleId::Approved => Outcome::Approved,
        }
    }
}

/// What became of one item, and why, in words the customer understands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub outcome: Outcome,
    pub rule: RuleId,
    pub message: String,
}

impl Decision {
    fn new(rule: RuleId, message: impl Into<String>) -> Decision {
        Decision { outcome: rule.outcome(), rule, message: message.into() }
    }
}

/// One item of a decided request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecidedItem {
    pub line: usize,
    pub sku: Sku,
    pub quantity: u32,
    pub reason: ReasonCode,
    pub comment: Option<String>,
    /// Unit price times quantity, as bought.
    pub value: Money,
    /// What the reason's restocking fee keeps back of `value` (rounded down, in the
    /// customer's favour); zero for rejected items and fee-free reasons.
    pub restocking_fee: Money,
    pub decision: Decision,
    /// For an exchange: all the choices of the replacement line (the bought ones with
    /// the wished values swapped in). Absent for other resolutions and rejected items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Vec<crate::catalog::Choice>>,
}

/// The whole request decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnDecision {
    pub resolution: Resolution,
    /// In the order of the request.
    pub items: Vec<DecidedItem>,
}

impl ReturnDecision {
    /// The return's status after the policy has spoken: in review if any item is (a
    /// person must act before anything ships), else approved if any item is (the
    /// approved items get the RMA), else rejected.
    pub fn outcome(&self) -> Outcome {
        let has = |wanted: Outcome| self.items.iter().any(|item| item.decision.outcome == wanted);
        if has(Outcome::InReview) {
            Outcome::InReview
        } else if has(Outcome::Approved) {
            Outcome::Approved
        } else {
            Outcome::Rejected
        }
    }

    /// Units per order line that this return takes out of what is still returnable:
    /// everything not rejected. Add these to `already_requested` for the next request.
    pub fn claimed_units(&self) -> impl Iterator<Item = (usize, u32)> + '_ {
        self.items
            .iter()
            .filter(|item| item.decision.outcome != Outcome::Rejected)
            .map(|item| (item.line, item.quantity))
    }
}

/// What stands in the way of returning anything of a line, and until when it can be.
struct LineStatus {
    blocked: Option<NotReturnable>,
    return_by: Option<OffsetDateTime>,
    window_days: u32,
}

fn line_status(
    line: &BoughtLine,
    policy: &ReturnPolicy,
    dates: &OrderDates,
    now: OffsetDateTime,
) -> LineStatus {
    let window_days = line.return_days.unwrap_or(policy.window_days);
    // `None` only beyond the calendar's end: such a window never closes.
    let return_by = dates.window_start().checked_add(Duration::days(i64::from(window_days)));
    let blocked = if dates.cancelled {
        Some(NotReturnable::OrderCancelled)
    } else if dates.unpaid {
        Some(NotReturnable::NotPaid)
    } else if line.final_sale {
        Some(NotReturnable::FinalSale)
    } else if return_by.is_some_and(|deadline| now > deadline) {
        Some(NotReturnable::WindowClosed)
    } else if line.remaining() == 0 {
        Some(NotReturnable::AlreadyReturned)
    } else {
        None
    };
    LineStatus { blocked, return_by, window_days }
}

fn day(at: Option<OffsetDateTime>) -> Date {
    at.map(|at| at.date()).unwrap_or(Date::MAX)
}

fn not_returnable_message(
    why: NotReturnable,
    status: &LineStatus,
    line: &BoughtLine,
    dates: &OrderDates,
) -> String {
    match why {
        NotReturnable::OrderCancelled => {
            "This order was cancelled, so there is nothing to send back.".to_owned()
        }
        NotReturnable::NotPaid => "This order is not paid yet, so there is nothing to return \
                                   or refund. Pay it with the link we sent, or ask us to \
                                   cancel it."
            .to_owned(),
        NotReturnable::FinalSale => {
            "This item was a final-sale purchase and cannot be returned.".to_owned()
        }
        NotReturnable::WindowClosed => {
            let counted = if dates.delivered_at.is_some() {
                "delivery"
            } else {
                "when your order was confirmed"
            };
            format!(
                "The {}-day return window for this item (counted from {counted}) closed on {}.",
                status.window_days,
                day(status.return_by)
            )
        }
        NotReturnable::AlreadyReturned => {
            let units =
                if line.quantity == 1 { "This item has" } else { "All units of this item have" };
            format!("{units} already been returned or are part of an open return.")
        }
    }
}

/// For the lookup answer: per line, how many units may still be returned and, where
/// none, why (CONTRACTS §4). Rules in the same order as [`decide`], so the lookup
/// never offers what the decision would refuse for the same reason.
pub fn returnable(
    lines: &[BoughtLine],
    policy: &ReturnPolicy,
    dates: &OrderDates,
    now: OffsetDateTime,
) -> Vec<Returnable> {
    lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let status = line_status(line, policy, dates, now);
            let message =
                status.blocked.map(|why| not_returnable_message(why, &status, line, dates));
            Returnable {
                line: index,
                returnable_quantity: if status.blocked.is_some() { 0 } else { line.remaining() },
                reason: status.blocked,
                message,
                return_by: status.return_by,
            }
        })
        .collect()
}

/// Checks what does not depend on the rules, item by item, and gives the first
/// problem found.
pub fn validate(
    lines: &[BoughtLine],
    policy: &ReturnPolicy,
    request: &ReturnRequest,
) -> Result<Vec<ReturnItem>, RequestError> {
    if request.items.is_empty() {
        return Err(RequestError::NoItems);
    }
    if request.items.len() > MAX_LINES {
        return Err(RequestError::TooManyItems { items: request.items.len(), max: MAX_LINES });
    }
    let mut items: Vec<ReturnItem> = Vec::with_capacity(request.items.len());
    for (index, raw) in request.items.iter().enumerate() {
        if raw.line >= lines.len() {
            return Err(RequestError::UnknownLine {
                item: index,
                line: raw.line,
                lines: lines.len(),
            });
        }
        if let Some(first) = items.iter().position(|item| item.line == raw.line) {
            return Err(RequestError::DuplicateLine { item: index, line: raw.line, first });
        }
        let quantity = u32::try_from(raw.quantity)
            .ok()
            .filter(|quantity| *quantity >= 1 && i64::from(*quantity) <= MAX_RETURN_QUANTITY)
            .ok_or(RequestError::Quantity { item: index, quantity: raw.quantity })?;
        let reason = ReasonCode::parse(&raw.reason)
            .ok()
            .filter(|code| policy.reason(code).is_some())
            .ok_or_else(|| RequestError::UnknownReason {
                item: index,
                reason: raw.reason.clone(),
                known: policy
                    .reasons
                    .iter()
                    .map(|reason| reason.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        let comment = raw.comment.as_deref().map(str::trim).filter(|text| !text.is_empty());
        if let Some(text) = comment {
            let chars = text.chars().count();
            if chars > MAX_COMMENT_CHARS {
                return Err(RequestError::CommentTooLong { item: index, chars });
            }
        }
        items.push(ReturnItem {
            line: raw.line,
            quantity,
            reason,
            comment: comment.map(str::to_owned),
        });
    }
    Ok(items)
}

/// Decides every item of a request (see the module docs for the two tiers).
///
/// `recent_returns` is how many returns the customer asked for in the policy's
/// customer-limit period before this one (see
/// [`super::CustomerLimit::counted_since`]); reaching the limit sends this one to
/// review. The value ceiling compares the sum over the items that no hard rule
/// rejected, since only those would come back.
pub fn decide(
    policy: &ReturnPolicy,
    lines: &[BoughtLine],
    dates: &OrderDates,
    recent_returns: u32,
    now: OffsetDateTime,
    request: &ReturnRequest,
) -> Result<ReturnDecision, RequestError> {
    let items = validate(lines, policy, request)?;
    let resolution_allowed = policy.allows(request.resolution);

    // First pass: hard rules, item by item.
    let hard: Vec<Option<Decision>> = items
        .iter()
        .map(|item| {
            let line = &lines[item.line];
            let status = line_status(line, policy, dates, now);
            if let Some(why) = status.blocked {
                let message = not_returnable_message(why, &status, line, dates);
                return Some(Decision::new(why.rule(), message));
            }
            if item.quantity > line.remaining() {
                return Some(Decision::new(
                    RuleId::QuantityExceeded,
                    quantity_message(line, item.quantity),
                ));
            }
            if !resolution_allowed {
                return Some(Decision::new(
                    RuleId::ResolutionNotAllowed,
                    resolution_message(policy, request.resolution),
                ));
            }
            None
        })
        .collect();

    let value_of = |item: &ReturnItem| -> i128 {
        i128::from(lines[item.line].unit_price.minor()) * i128::from(item.quantity)
    };
    let returnable_value: i128 = items
        .iter()
        .zip(&hard)
        .filter(|(_, decision)| decision.is_none())
        .map(|(item, _)| value_of(item))
        .sum();
    let over_ceiling = returnable_value > i128::from(policy.auto_approve_ceiling.minor());
    let over_limit = recent_returns >= policy.customer_limit.returns;

    // Second pass: soft rules for what the hard rules let through.
    let decided = items
        .into_iter()
        .zip(hard)
        .map(|(item, hard)| {
            let reason = policy.reason(&item.reason).expect("validate checked the reason");
            let fee_percent = reason.restocking_fee_percent.unwrap_or(0);
            let decision = hard.unwrap_or_else(|| {
                let decision = if reason.review {
                    Decision::new(
                        RuleId::ReviewReason,
                        format!(
                            "Returns for the reason \u{201c}{}\u{201d} are checked by our team before they are approved. We will let you know by email.",
                            reason.label
                        ),
                    )
                } else if over_ceiling {
                    Decision::new(
                        RuleId::OverCeiling,
                        "Returns of this value are checked by our team before they are approved. We will let you know by email.",
                    )
                } else if over_limit {
                    Decision::new(
                        RuleId::CustomerLimit,
                        format!(
                            "You have made {recent_returns} returns in the last {} days, so our team will check this one before it is approved. We will let you know by email.",
                            policy.customer_limit.days
                        ),
                    )
                } else {
                    Decision::new(RuleId::Approved, "Approved.")
                };
                match fee_percent {
                    0 => decision,
                    percent => Decision {
                        message: format!(
                            "{} A restocking fee of {percent}% applies to returns for this reason.",
                            decision.message
                        ),
                        ..decision
                    },
                }
            });
            let value = value_of(&item);
            let restocking_fee = if decision.outcome == Outcome::Rejected {
                0
            } else {
                value * i128::from(fee_percent) / 100
            };
            DecidedItem {
                line: item.line,
                sku: lines[item.line].sku.clone(),
                quantity: item.quantity,
                reason: item.reason,
                comment: item.comment,
                value: saturating_money(value),
                restocking_fee: saturating_money(restocking_fee),
                decision,
                exchange: None,
            }
        })
        .collect();
    Ok(ReturnDecision { resolution: request.resolution, items: decided })
}

fn saturating_money(minor: i128) -> Money {
    Money(i64::try_from(minor).unwrap_or(if minor < 0 { i64::MIN } else { i64::MAX }))
}

fn quantity_message(line: &BoughtLine, asked: u32) -> String {
    let remaining = line.remaining();
    let units = |n: u32| if n == 1 { "1 unit".to_owned() } else { format!("{n} units") };
    let mut message = format!(
        "You asked to return {} of this item, but only {} can be returned: you bought {}",
        units(asked),
        units(remaining),
        units(line.quantity)
    );
    if line.already_requested > 0 {
        let verb = if line.already_requested == 1 { "is" } else { "are" };
        message.push_str(&format!(
            " and {} {verb} already returned or part of an open return",
            line.already_requested
        ));
    }
    message.push('.');
    message
}

fn resolution_message(policy: &ReturnPolicy, asked: Resolution) -> String {
    let offered: Vec<&str> = policy.resolutions.iter().map(|r| r.words()).collect();
    let offered = match offered.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    format!(
        "This shop does not offer {} for returns; please choose {offered} instead.",
        asked.words()
    )
}
