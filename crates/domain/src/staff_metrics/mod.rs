//! The staff console's dashboard (DESIGN "Surfaces", "Returns"): how well the chat turns
//! intent into orders, how often people step in, why goods come back and how long
//! customers wait for their money, over one period, overall and per day or week.
//!
//! Pure arithmetic over plain facts: the server reads [`ConversationDays`] (sums per UTC
//! day, which the store keeps as it writes; [`ConversationDays::count`] makes them from
//! [`ConversationFacts`]) and [`ReturnFacts`] from the database, calls [`dashboard`],
//! and renders the numbers as text and, through [`line_chart`] and [`bar_chart`], as
//! server-side SVG.
//!
//! Which period a fact belongs to:
//! - a conversation to the UTC day it *started* on, and so to the periods that touch that
//!   day (conversion, handoffs, exceptions, clarifications and intent → confirmation are
//!   all about that cohort);
//! - an order confirmation in the per-bucket series to the day it was *confirmed* on;
//! - a return's items (reasons, products, decisions) to the period it was *requested* in;
//! - a refund cycle time to the period the return was *completed* in (as
//!   [`crate::returns::report`] counts it, which this module reuses).
//!
//! So the server passes the days the period touches, and every return requested or
//! completed in it; a superset is fine, facts outside the period are ignored. Periods
//! are half-open, `[from, to)`, and buckets start at UTC midnight (weeks on Monday), cut
//! to the period at both ends.
//!
//! Facts that contradict themselves (confirmed before the first message, completed
//! before received, more clarification turns than turns) are kept out of the number
//! they would bend instead of producing negative durations or rates above 100 %.

mod chart;
mod days;
mod deliveries;
mod fulfilment;
#[cfg(test)]
mod tests;

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::fmt;

use time::{Date, Duration, OffsetDateTime, UtcOffset};

pub use chart::{
    bar_chart, format_duration, format_percent, format_seconds, line_chart, Point, Series, YUnit,
    CHART_HEIGHT, CHART_WIDTH, NO_DATA,
};
pub use days::{
    lead_bucket, lead_ms, rounded_unix_ms, ConversationDay, ConversationDays, LeadTimeCount,
};
pub use deliveries::{
    delivered_days, due_by, due_day, fulfilment_of_days, promise_days, DeliveryClass,
    DeliveryCount, DeliveryDays, DeliveryMisses, FulfilmentLeadCount, Leg,
};
pub use fulfilment::{
    fulfilment_metrics, FulfilmentMetrics, OrderFulfilmentFacts, LISTED, NOT_IN_FULL_REASON,
};

use crate::orders::PaymentStatus;
use crate::returns::{percentiles, report, CycleTime, CycleTimeReport, ReturnStatus};

/// How a conversation ended, as the store records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Ordered,
    Abandoned,
    HandedOff,
    Failed,
}

impl Outcome {
    pub const ALL: [Outcome; 4] =
        [Outcome::Ordered, Outcome::Abandoned, Outcome::HandedOff, Outcome::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ordered => "ordered",
            Outcome::Abandoned => "abandoned",
            Outcome::HandedOff => "handed_off",
            Outcome::Failed => "failed",
        }
    }

    /// The inverse of [`Outcome::as_str`]; `None` for anything else.
    pub fn parse(text: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|outcome| outcome.as_str() == text)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A conversation's status as the store keeps it: still open, or how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConversationStatus {
    Open,
    Ordered,
    Abandoned,
    HandedOff,
    Failed,
}

impl ConversationStatus {
    pub const ALL: [ConversationStatus; 5] = [
        ConversationStatus::Open,
        ConversationStatus::Ordered,
        ConversationStatus::Abandoned,
        ConversationStatus::HandedOff,
        ConversationStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Ordered => Outcome::Ordered.as_str(),
            ConversationStatus::Abandoned => Outcome::Abandoned.as_str(),
            ConversationStatus::HandedOff => Outcome::HandedOff.as_str(),
            ConversationStatus::Failed => Outcome::Failed.as_str(),
        }
    }

    /// How it ended; `None` while it is open.
    pub fn outcome(self) -> Option<Outcome> {
        match self {
            ConversationStatus::Open => None,
            ConversationStatus::Ordered => Some(Outcome::Ordered),
            ConversationStatus::Abandoned => Some(Outcome::Abandoned),
            ConversationStatus::HandedOff => Some(Outcome::HandedOff),
            ConversationStatus::Failed => Some(Outcome::Failed),
        }
    }
}

impl From<Outcome> for ConversationStatus {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Ordered => ConversationStatus::Ordered,
            Outcome::Abandoned => ConversationStatus::Abandoned,
            Outcome::HandedOff => ConversationStatus::HandedOff,
            Outcome::Failed => ConversationStatus::Failed,
        }
    }
}

impl fmt::Display for ConversationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One conversation as the dashboard needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationFacts {
    pub id: String,
    pub started_at: OffsetDateTime,
    /// `None` while the conversation is open.
    pub outcome: Option<Outcome>,
    /// The shopper's first message: when the intent was stated.
    pub first_message_at: Option<OffsetDateTime>,
    /// When the order this conversation made was confirmed; `None` if none was.
    pub confirmed_at: Option<OffsetDateTime>,
    /// Shopper turns.
    pub turns: u32,
    /// Turns answered with a clarifying question (at most `turns`).
    pub clarification_turns: u32,
    /// The order the conversation created, confirmed or not.
    pub order_number: Option<String>,
    /// The order landed in the exception queue (staff had to handle it by hand).
    pub needs_manual_handling: bool,
    /// Where its order's payment stands (`not_required` without an order or a
    /// provider).
    pub payment: PaymentStatus,
}

/// One return as the dashboard needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnFacts {
    pub rma: String,
    pub requested_at: OffsetDateTime,
    pub status: ReturnStatus,
    pub items: Vec<ReturnItemFacts>,
    /// Time of the `received` event, if any.
    pub received_at: Option<OffsetDateTime>,
    /// Time of the event that completed the return (refunded, exchanged or credited).
    pub completed_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnItemFacts {
    pub sku: String,
    /// The product's name, as staff should read it.
    pub product: String,
    /// The reason as staff should read it (code or label; grouped by exact text).
    pub reason: String,
    /// The policy's (or staff's) decision: `approved`, `rejected` or `in_review`.
    pub decision: String,
    pub quantity: u32,
}

/// `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: OffsetDateTime,
    pub to: OffsetDateTime,
}

impl Period {
    pub fn contains(&self, at: OffsetDateTime) -> bool {
        self.from <= at && at < self.to
    }

    /// Whether any of the UTC day `day` lies in the period: the days whose conversations
    /// the dashboard counts (a period of whole days, as the console asks for, holds
    /// exactly its days).
    pub fn touches_day(&self, day: Date) -> bool {
        let midnight = day.midnight().assume_utc();
        let next =
            day.next_day().map_or(OffsetDateTime::new_utc(Date::MAX, time::Time::MAX), |d| {
                d.midnight().assume_utc()
            });
        midnight < self.to && self.from < next
    }
}

/// The width of one point of the dashboard's series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucketing {
    /// UTC calendar days.
    Day,
    /// ISO weeks, Monday 00:00 UTC to the next Monday.
    Week,
}

/// A series never has more points than this; a longer period is cut after the first
/// `MAX_BUCKETS` buckets (use [`Bucketing::for_period`] to stay well below it).
pub const MAX_BUCKETS: usize = 1000;

/// Periods up to this many days are shown by day, longer ones by week.
pub const MAX_DAILY_DAYS: i64 = 62;

impl Bucketing {
    /// Days for up to [`MAX_DAILY_DAYS`], weeks beyond.
    pub fn for_period(period: Period) -> Bucketing {
        if period.to - period.from <= Duration::days(MAX_DAILY_DAYS) {
            Bucketing::Day
        } else {
            Bucketing::Week
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Bucketing::Day => "day",
            Bucketing::Week => "week",
        }
    }

    /// The first bucket boundary after `at` (UTC midnight, on a Monday for weeks);
    /// `None` past the end of the calendar.
    fn next_boundary(self, at: OffsetDateTime) -> Option<OffsetDateTime> {
        let date = at.to_offset(UtcOffset::UTC).date();
        let next = match self {
            Bucketing::Day => date.next_day()?,
            Bucketing::Week => {
                let days_left = 7 - i64::from(date.weekday().number_days_from_monday());
                date.checked_add(Duration::days(days_left))?
            }
        };
        Some(next.midnight().assume_utc())
    }
}

/// `numerator` of `denominator`, both kept so the console can say "12 of 40" and link
/// to the 12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ratio {
    pub numerator: u64,
    pub denominator: u64,
}

impl Ratio {
    pub fn new(numerator: u64, denominator: u64) -> Ratio {
        Ratio { numerator, denominator }
    }

    /// 0.0 to 1.0 when the numerator is part of the denominator; `None` for `x of 0`.
    pub fn fraction(&self) -> Option<f64> {
        (self.denominator != 0).then(|| self.numerator as f64 / self.denominator as f64)
    }

    /// `fraction × 100`; `None` for `x of 0`.
    pub fn percent(&self) -> Option<f64> {
        self.fraction().map(|fraction| fraction * 100.0)
    }
}

impl fmt::Display for Ratio {
    /// "12 of 40".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {}", self.numerator, self.denominator)
    }
}

/// p50 and p90 (nearest rank, as [`crate::returns::percentiles`]) of `count` durations;
/// both `None` when `count` is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DurationStats {
    pub count: u64,
    pub p50: Option<Duration>,
    pub p90: Option<Duration>,
}

impl DurationStats {
    pub fn of(durations: &[Duration]) -> DurationStats {
        let found = percentiles(durations);
        DurationStats {
            count: durations.len() as u64,
            p50: found.map(|p| p.p50),
            p90: found.map(|p| p.p90),
        }
    }
}

/// Refund cycle times of the returns completed in a period or bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RefundCycle {
    /// Returns completed (refunded, exchanged or credited) in the period.
    pub completed: u64,
    /// Request → complete: the whole cycle the customer waits. For a refund through a
    /// payment provider, complete is when the provider took the refund (money sent).
    pub request_to_complete: DurationStats,
    /// Request → received: the customer's part (sending the parcel back).
    pub request_to_receipt: DurationStats,
    /// Received → complete: the shop's part.
    pub receipt_to_complete: DurationStats,
}

impl RefundCycle {
    /// Over the `cycles` completed in `[from, to)`, through [`report`].
    fn of(cycles: &[CycleTime], from: OffsetDateTime, to: OffsetDateTime) -> RefundCycle {
        let report: CycleTimeReport = report(cycles, from, to);
        let count = report.returns as u64;
        let stats = |found: Option<crate::returns::Percentiles>| DurationStats {
            count,
            p50: found.map(|p| p.p50),
            p90: found.map(|p| p.p90),
        };
        let to_receipt: Vec<Duration> = cycles
            .iter()
            .filter(|c| from <= c.completed_at && c.completed_at < to)
            .map(|c| c.received_at - c.requested_at)
            .collect();
        RefundCycle {
            completed: count,
            request_to_complete: stats(report.request_to_refund),
            request_to_receipt: DurationStats::of(&to_receipt),
            receipt_to_complete: stats(report.receipt_to_refund),
        }
    }
}

/// Returned item lines and the units on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    pub items: u64,
    pub units: u64,
}

impl Tally {
    fn add(&mut self, quantity: u32) {
        self.items += 1;
        self.units += u64::from(quantity);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonRow {
    pub reason: String,
    pub tally: Tally,
    /// This reason's units of all units returned in the period.
    pub share: Ratio,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRow {
    pub sku: String,
    /// The name on the first item seen for this SKU.
    pub product: String,
    pub tally: Tally,
    /// This product's units of all units returned in the period.
    pub share: Ratio,
}

/// Returned items by the decision on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecisionSplit {
    pub approved: Tally,
    pub rejected: Tally,
    pub in_review: Tally,
    /// Any other decision text (a sign that the server and the domain disagree).
    pub other: Tally,
}

/// One day or week of the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// UTC; the first bucket starts at the period's `from`, the last ends at its `to`.
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub conversations_started: u64,
    /// Orders confirmed in this bucket, whenever their conversation started.
    pub orders_confirmed: u64,
    /// Returns completed in this bucket.
    pub refunds: RefundCycle,
}

impl Bucket {
    fn empty(start: OffsetDateTime, end: OffsetDateTime) -> Bucket {
        Bucket {
            start,
            end,
            conversations_started: 0,
            orders_confirmed: 0,
            refunds: RefundCycle::default(),
        }
    }

    /// The bucket's first day, `2025-03-03`.
    pub fn label(&self) -> String {
        let date = self.start.to_offset(UtcOffset::UTC).date();
        format!("{}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
    }
}

/// Everything the staff dashboard shows for one period.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    pub period: Period,
    pub bucketing: Bucketing,
    /// Conversations started in the period.
    pub conversations: u64,
    /// First message → order confirmed, over conversations started in the period that
    /// have both times.
    pub intent_to_confirmation: DurationStats,
    /// Conversations started in the period whose order was confirmed (at any time).
    pub conversion: Ratio,
    /// Orders needing manual handling of the conversations started in the period that
    /// have an order number.
    pub exception_rate: Ratio,
    /// Orders paid of the confirmed orders that asked for a payment (a payment link
    /// was made), in conversations started in the period.
    pub paid_conversion: Ratio,
    /// Conversations handed off to a human of those started in the period.
    pub handoff_rate: Ratio,
    /// Clarifying turns of all turns, in conversations started in the period.
    pub clarification_rate: Ratio,
    /// Returns requested in the period.
    pub returns: u64,
    /// Their items and units.
    pub returned: Tally,
    /// By units, most first, then by reason.
    pub by_reason: Vec<ReasonRow>,
    /// By units, most first, then by product name and SKU.
    pub by_product: Vec<ProductRow>,
    pub decisions: DecisionSplit,
    /// Over the returns completed in the period.
    pub refund_cycle: RefundCycle,
    /// The period day by day or week by week, oldest first.
    pub buckets: Vec<Bucket>,
}

/// The dashboard for `period`, with series per `bucketing`. See the module docs for
/// which facts count where. Never panics; empty input gives zeros and `None`s.
pub fn dashboard(
    conversations: &ConversationDays,
    returns: &[ReturnFacts],
    period: Period,
    bucketing: Bucketing,
) -> Dashboard {
    let bounds = bucket_bounds(period, bucketing);
    let mut buckets: Vec<Bucket> =
        bounds.iter().map(|&(start, end)| Bucket::empty(start, end)).collect();

    // Conversations: the cohort of the days the period touches, each day in the bucket
    // holding it (the first day in the first bucket when the period starts after
    // midnight); confirmations on the day they happened.
    let in_period = |day: Date| period.touches_day(day);
    let bucket_of_day = |day: Date| {
        let midnight = day.midnight().assume_utc();
        bucket_of(&bounds, bounds.first().map_or(midnight, |first| midnight.max(first.0)))
    };
    let mut cohort = ConversationDay::empty(Date::MIN);
    for day in conversations.days.iter().filter(|d| in_period(d.day)) {
        let confirmed_today = day.orders_confirmed;
        cohort.add(&ConversationDay { orders_confirmed: 0, ..*day });
        if let Some(i) = bucket_of_day(day.day) {
            buckets[i].conversations_started += day.conversations;
            buckets[i].orders_confirmed += confirmed_today;
        }
    }
    let mut lead_times: BTreeMap<i64, u64> = BTreeMap::new();
    for lead in conversations.lead_times.iter().filter(|l| in_period(l.day)) {
        *lead_times.entry(lead.lead_ms).or_default() += lead.conversations;
    }
    let conversion = Ratio::new(cohort.confirmed, cohort.conversations);
    let exception_rate = Ratio::new(cohort.exceptions, cohort.orders);
    let handoff_rate = Ratio::new(cohort.handed_off, cohort.conversations);
    let paid_conversion = Ratio::new(cohort.paid, cohort.payment_links);
    let clarification_rate = Ratio::new(cohort.clarification_turns, cohort.turns);

    // Returns: what was asked for in the period.
    let requested: Vec<&ReturnFacts> =
        returns.iter().filter(|r| period.contains(r.requested_at)).collect();
    let mut returned = Tally::default();
    let mut reasons: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut products: BTreeMap<&str, (&str, Tally)> = BTreeMap::new();
    let mut decisions = DecisionSplit::default();
    for item in requested.iter().flat_map(|r| &r.items) {
        returned.add(item.quantity);
        reasons.entry(&item.reason).or_default().add(item.quantity);
        products.entry(&item.sku).or_insert((&item.product, Tally::default())).1.add(item.quantity);
        let decision = match item.decision.as_str() {
            "approved" => &mut decisions.approved,
            "rejected" => &mut decisions.rejected,
            "in_review" => &mut decisions.in_review,
            _ => &mut decisions.other,
        };
        decision.add(item.quantity);
    }
    let share = |tally: Tally| Ratio::new(tally.units, returned.units);
    let mut by_reason: Vec<ReasonRow> = reasons
        .into_iter()
        .map(|(reason, tally)| ReasonRow { reason: reason.to_owned(), tally, share: share(tally) })
        .collect();
    by_reason.sort_by(|a, b| {
        (Reverse(a.tally.units), &a.reason).cmp(&(Reverse(b.tally.units), &b.reason))
    });
    let mut by_product: Vec<ProductRow> = products
        .into_iter()
        .map(|(sku, (product, tally))| ProductRow {
            sku: sku.to_owned(),
            product: product.to_owned(),
            tally,
            share: share(tally),
        })
        .collect();
    by_product.sort_by(|a, b| {
        (Reverse(a.tally.units), &a.product, &a.sku).cmp(&(
            Reverse(b.tally.units),
            &b.product,
            &b.sku,
        ))
    });

    // Refund cycle times: what was completed in the period, through returns::report.
    let cycles: Vec<CycleTime> = returns.iter().filter_map(cycle_time).collect();
    let refund_cycle = RefundCycle::of(&cycles, period.from, period.to);
    let mut per_bucket: Vec<Vec<CycleTime>> = vec![Vec::new(); bounds.len()];
    for cycle in &cycles {
        if let Some(i) = bucket_of(&bounds, cycle.completed_at) {
            per_bucket[i].push(*cycle);
        }
    }
    for ((bucket, cycles), &(start, end)) in buckets.iter_mut().zip(&per_bucket).zip(&bounds) {
        bucket.refunds = RefundCycle::of(cycles, start, end);
    }

    Dashboard {
        period,
        bucketing,
        conversations: cohort.conversations,
        intent_to_confirmation: days::stats_of_histogram(&lead_times),
        conversion,
        exception_rate,
        paid_conversion,
        handoff_rate,
        clarification_rate,
        returns: requested.len() as u64,
        returned,
        by_reason,
        by_product,
        decisions,
        refund_cycle,
        buckets,
    }
}

/// A completed return's cycle time, as [`CycleTime::of`] would give it from the events;
/// `None` while not completed or when its times are missing or out of order.
fn cycle_time(facts: &ReturnFacts) -> Option<CycleTime> {
    if !facts.status.is_completed() {
        return None;
    }
    let requested_at = facts.requested_at;
    let received_at = facts.received_at?;
    let completed_at = facts.completed_at?;
    if !(requested_at <= received_at && received_at <= completed_at) {
        return None;
    }
    Some(CycleTime {
        completed: facts.status,
        requested_at,
        received_at,
        completed_at,
        request_to_refund: completed_at - requested_at,
        receipt_to_refund: completed_at - received_at,
    })
}

/// The buckets' `[start, end)`, covering the period (at most [`MAX_BUCKETS`] of them).
fn bucket_bounds(period: Period, bucketing: Bucketing) -> Vec<(OffsetDateTime, OffsetDateTime)> {
    let to = period.to.to_offset(UtcOffset::UTC);
    let mut start = period.from.to_offset(UtcOffset::UTC);
    let mut bounds = Vec::new();
    while start < to && bounds.len() < MAX_BUCKETS {
        let end = bucketing.next_boundary(start).map_or(to, |next| next.min(to));
        bounds.push((start, end));
        start = end;
    }
    bounds
}

/// The index of the bucket holding `at`, if any.
fn bucket_of(bounds: &[(OffsetDateTime, OffsetDateTime)], at: OffsetDateTime) -> Option<usize> {
    let after = bounds.partition_point(|&(start, _)| start <= at);
    let i = after.checked_sub(1)?;
    (at < bounds[i].1).then_some(i)
}

/// Ready-made chart inputs, so that every page draws the same numbers the same way.
impl Dashboard {
    fn series(&self, name: &str, value: impl Fn(&Bucket) -> Option<f64>) -> Series {
        Series {
            name: name.to_owned(),
            points: self
                .buckets
                .iter()
                .map(|bucket| Point { label: bucket.label(), value: value(bucket) })
                .collect(),
        }
    }

    /// Conversations started and orders confirmed per bucket; draw with [`YUnit::Count`].
    pub fn activity_series(&self) -> Vec<Series> {
        vec![
            self.series("Conversations started", |b| Some(b.conversations_started as f64)),
            self.series("Orders confirmed", |b| Some(b.orders_confirmed as f64)),
        ]
    }

    /// Refund cycle p50 and p90, request → complete and receipt → complete, per bucket
    /// (a gap where nothing was completed); draw with [`YUnit::Duration`].
    pub fn refund_cycle_series(&self) -> Vec<Series> {
        let seconds = |d: Option<Duration>| d.map(|d| d.as_seconds_f64());
        vec![
            self.series("Request → complete p50", |b| seconds(b.refunds.request_to_complete.p50)),
            self.series("Request → complete p90", |b| seconds(b.refunds.request_to_complete.p90)),
            self.series("Receipt → complete p50", |b| seconds(b.refunds.receipt_to_complete.p50)),
            self.series("Receipt → complete p90", |b| seconds(b.refunds.receipt_to_complete.p90)),
        ]
    }

    /// Returned units by reason, most first; for [`bar_chart`].
    pub fn reason_bars(&self) -> Vec<(String, u64)> {
        self.by_reason.iter().map(|row| (row.reason.clone(), row.tally.units)).collect()
    }

    /// Returned units by product, most first; for [`bar_chart`].
    pub fn product_bars(&self) -> Vec<(String, u64)> {
        self.by_product.iter().map(|row| (row.product.clone(), row.tally.units)).collect()
    }
}
