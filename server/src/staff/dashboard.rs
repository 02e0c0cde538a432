//! The staff dashboard: how the chat turns intent into orders, how often people step
//! in, why goods come back and how long refunds take, over a period of days. The
//! arithmetic and the SVG charts are the domain's (`gapless_domain::staff_metrics`);
//! this file reads the facts, maps the store's words to the domain's, and answers
//! `GET /api/v1/staff/metrics?from=YYYY-MM-DD&to=YYYY-MM-DD` (both days included;
//! the last 30 days by default).
//!
//! What counts as what:
//! - abandoned: a conversation still open with nothing new for [`ABANDONED_AFTER`];
//! - needing manual handling: a conversation with an order that was handed to a person;
//! - a clarification: a turn whose answer asked about an unknown or ambiguous product, a
//!   missing detail, or understood nothing;
//! - delivered in full: no item of the order came back for the reason
//!   `gapless_domain::staff_metrics::NOT_IN_FULL_REASON` (the fulfilment API reports
//!   whole orders, not lines);
//! - returned (for the perfect order rate): a return requested and not rejected.

use std::collections::HashMap;

use axum::{
    extract::{Query, State},
    routing::get,
    Json, Router,
};
use gapless_api::staff::{
    Bucket, Chart, Decisions, Emails, Fulfilment, Metrics, ProductShare, ReasonShare, RefundCycle,
    Share, Stats,
};
use gapless_domain::{
    orders::PaymentStatus,
    returns::{ReturnPolicy, ReturnStatus},
    staff_metrics::{
        bar_chart, dashboard, due_by, due_day, fulfilment_of_days, line_chart, promise_days,
        Bucketing, ConversationFacts, Dashboard, DurationStats, FulfilmentMetrics, Outcome, Period,
        Ratio, ReturnFacts, ReturnItemFacts, YUnit,
    },
};
use gapless_store::{ConversationFactRow, OrderFulfilmentFactRow, ReturnFactRow, Store};
use serde::Deserialize;
use time::{Date, Duration, OffsetDateTime};

use super::{error::StaffError, extractor::StaffUser};
use crate::{api_error::ApiError, startup::AppState};

/// An open conversation quiet for this long counts as abandoned.
pub const ABANDONED_AFTER: Duration = Duration::hours(24);
/// `GAPLESS_DELIVERY_PROMISE_DAYS` when not set.
pub const DEFAULT_DELIVERY_PROMISE: Duration = Duration::days(5);
/// The longest period one dashboard covers.
const MAX_DAYS: i64 = 3 * 366;
/// The period when none is asked for.
const DEFAULT_DAYS: i64 = 30;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/staff/metrics", get(metrics))
}

/// Days as `YYYY-MM-DD`, both included; either may be left out.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}

async fn metrics(
    _staff: StaffUser,
    State(state): State<AppState>,
    Query(query): Query<DashboardQuery>,
) -> Result<Json<Metrics>, ApiError> {
    let now = OffsetDateTime::now_utc();
    let period = period(&query, now)?;
    let value = everything(
        state.store.as_ref(),
        period,
        now,
        state.returns.policy(),
        state.delivery_promise,
        false,
    )
    .await?;
    Ok(Json(value))
}

/// The whole dashboard of `period` as the API and the console show it: conversion,
/// exceptions and returns, the delivery numbers, and the customer emails that failed or
/// wait (those are counts of now, not of the period).
pub async fn everything(
    store: &dyn Store,
    period: Period,
    now: OffsetDateTime,
    policy: &ReturnPolicy,
    promise: Duration,
    charts: bool,
) -> Result<Metrics, StaffError> {
    // Three independent reads, side by side: each is a few queries on its own pooled
    // connection.
    let (found, delivery, emails) = tokio::try_join!(
        read(store, period),
        read_fulfilment(store, period, now, promise),
        async { Ok::<_, StaffError>(store.email_health().await?) },
    )?;
    let emails = Emails { failed: emails.failed, pending: emails.pending, sent: emails.sent };
    Ok(metrics_of(&found, policy, charts, fulfilment_view(&delivery, promise), emails))
}

/// The delivery numbers of `period` (orders confirmed in it), from the sums per day the
/// store keeps (migration 0017), the orders of the one day that is partly past due, and
/// the first misses to name.
pub async fn read_fulfilment(
    store: &dyn Store,
    period: Period,
    now: OffsetDateTime,
    promise: Duration,
) -> Result<FulfilmentMetrics, StaffError> {
    let (first_day, end_day) = days_of(period);
    let due_by = due_by(now, promise);
    let due = due_day(now, promise);
    let due_orders = async {
        if !period.touches_day(due) {
            return Ok(Vec::new());
        }
        let start = due.midnight().assume_utc().max(period.from);
        let end = due.next_day().map_or(period.to, |d| d.midnight().assume_utc().min(period.to));
        let rows = store.order_fulfilment_facts(start, end).await?;
        Ok(rows.iter().filter_map(OrderFulfilmentFactRow::facts).collect::<Vec<_>>())
    };
    let (days, due_orders, misses) = tokio::try_join!(
        store.delivery_days(first_day, end_day),
        due_orders,
        store.delivery_misses(first_day, end_day, promise_days(promise), due_by),
    )?;
    Ok(fulfilment_of_days(&days, &due_orders, misses, period, promise, now))
}

/// The delivery numbers as the API writes them, each ratio with its numerator and
/// denominator and the orders behind its misses.
pub fn fulfilment_view(found: &FulfilmentMetrics, promise: Duration) -> Fulfilment {
    Fulfilment {
        delivery_promise_days: promise.whole_days(),
        orders: found.orders,
        confirmation_to_shipped: stats(&found.confirmation_to_shipped),
        confirmation_to_delivered: stats(&found.confirmation_to_delivered),
        on_time: share(&found.on_time),
        on_time_in_full: share(&found.on_time_in_full),
        perfect_order: share(&found.perfect),
        late_orders: found.late.clone(),
        imperfect_orders: found.not_perfect.clone(),
    }
}

fn share(r: &Ratio) -> Share {
    Share { numerator: r.numerator, denominator: r.denominator, percent: r.percent() }
}

fn stats(s: &DurationStats) -> Stats {
    Stats {
        count: s.count,
        p50_seconds: s.p50.map(|d| d.as_seconds_f64()),
        p90_seconds: s.p90.map(|d| d.as_seconds_f64()),
    }
}

/// The half-open period `[from 00:00, the day after to 00:00)` in UTC.
pub fn period(query: &DashboardQuery, now: OffsetDateTime) -> Result<Period, StaffError> {
    let day = |text: &Option<String>, name: &'static str| -> Result<Option<Date>, StaffError> {
        let Some(text) = text.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let format = time::macros::format_description!("[year]-[month]-[day]");
        Date::parse(text, &format)
            .map(Some)
            .map_err(|_| StaffError::BadDay { name, text: text.to_owned() })
    };
    let today = now.date();
    let to = day(&query.to, "to")?.unwrap_or(today);
    let from = day(&query.from, "from")?.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    if from > to {
        return Err(StaffError::BadPeriod("from must not be after to".into()));
    }
    if (to - from).whole_days() >= MAX_DAYS {
        return Err(StaffError::BadPeriod(format!("a dashboard covers at most {MAX_DAYS} days")));
    }
    let end = to.next_day().ok_or_else(|| StaffError::BadPeriod("to is too late".into()))?;
    Ok(Period { from: from.midnight().assume_utc(), to: end.midnight().assume_utc() })
}

/// The dashboard of `period`, from the store's facts.
pub async fn read(store: &dyn Store, period: Period) -> Result<Dashboard, StaffError> {
    let (first_day, end_day) = days_of(period);
    let (conversations, returns) = tokio::try_join!(
        store.conversation_days(first_day, end_day),
        store.return_facts(period.from, period.to),
    )?;
    let returns: Vec<ReturnFacts> = returns.iter().filter_map(return_facts).collect();
    Ok(dashboard(&conversations, &returns, period, Bucketing::for_period(period)))
}

/// The UTC days `[first, end)` that `period` touches.
fn days_of(period: Period) -> (Date, Date) {
    let utc = |at: OffsetDateTime| at.to_offset(time::UtcOffset::UTC);
    let (from, to) = (utc(period.from), utc(period.to));
    let end =
        if to.time() == time::Time::MIDNIGHT { Some(to.date()) } else { to.date().next_day() };
    (from.date(), end.unwrap_or(Date::MAX))
}

/// A conversation's facts as the domain counts them (the dashboard's recount).
pub fn conversation(row: &ConversationFactRow, now: OffsetDateTime) -> ConversationFacts {
    let outcome = match row.outcome.as_str() {
        "open" if now - row.updated_at >= ABANDONED_AFTER => Some(Outcome::Abandoned),
        other => Outcome::parse(other),
    };
    ConversationFacts {
        id: row.id.clone(),
        started_at: row.started_at,
        outcome,
        first_message_at: row.first_message_at,
        confirmed_at: row.confirmed_at,
        turns: row.turns,
        clarification_turns: row.clarification_turns,
        order_number: row.order_number.clone(),
        needs_manual_handling: row.order_number.is_some() && row.handed_off,
        payment: row
            .payment_status
            .as_deref()
            .and_then(|text| PaymentStatus::ALL.into_iter().find(|s| s.as_str() == text))
            .unwrap_or_default(),
    }
}

/// `None` for a status the domain does not know (a newer server wrote it): such a
/// return is left out rather than miscounted.
pub fn return_facts(row: &ReturnFactRow) -> Option<ReturnFacts> {
    let status = ReturnStatus::ALL.into_iter().find(|s| s.as_str() == row.status)?;
    Some(ReturnFacts {
        rma: row.rma.clone(),
        requested_at: row.requested_at,
        status,
        items: row
            .items
            .iter()
            .map(|item| ReturnItemFacts {
                sku: item.sku.clone(),
                product: item.name.clone(),
                reason: item.reason.clone(),
                decision: item.decision.clone(),
                quantity: item.quantity,
            })
            .collect(),
        received_at: row.received_at,
        completed_at: row.completed_at,
    })
}

/// The dashboard as the API writes it; with `charts`, also the SVG charts the console
/// shows.
pub fn metrics_of(
    found: &Dashboard,
    policy: &ReturnPolicy,
    charts: bool,
    fulfilment: Fulfilment,
    emails: Emails,
) -> Metrics {
    let labels: HashMap<String, String> = policy
        .reason_choices()
        .into_iter()
        .map(|choice| (choice.code.as_str().to_owned(), choice.label))
        .collect();
    let label = |code: &str| labels.get(code).cloned().unwrap_or_else(|| code.to_owned());
    let charts = charts.then(|| {
        let reasons: Vec<(String, u64)> =
            found.reason_bars().into_iter().map(|(code, units)| (label(&code), units)).collect();
        let chart = |id: &str, svg: String| Chart { id: id.to_owned(), svg };
        vec![
            chart(
                "activity",
                line_chart(
                    "Conversations and confirmed orders",
                    &found.activity_series(),
                    YUnit::Count,
                ),
            ),
            chart(
                "refund-cycle",
                line_chart("Refund cycle time", &found.refund_cycle_series(), YUnit::Duration),
            ),
            chart("reasons", bar_chart("Returned units by reason", &reasons)),
            chart("products", bar_chart("Returned units by product", &found.product_bars())),
        ]
    });
    Metrics {
        from: found.period.from,
        to: found.period.to,
        first_day: found.period.from.date().to_string(),
        last_day: (found.period.to - Duration::days(1)).date().to_string(),
        bucketing: found.bucketing.as_str().to_owned(),
        conversations: found.conversations,
        intent_to_confirmation: stats(&found.intent_to_confirmation),
        conversion: share(&found.conversion),
        exception_rate: share(&found.exception_rate),
        paid_conversion: share(&found.paid_conversion),
        handoff_rate: share(&found.handoff_rate),
        clarification_rate: share(&found.clarification_rate),
        returns: found.returns,
        returned_units: found.returned.units,
        by_reason: found
            .by_reason
            .iter()
            .map(|row| ReasonShare {
                reason: row.reason.clone(),
                label: label(&row.reason),
                items: row.tally.items,
                units: row.tally.units,
                share: share(&row.share),
            })
            .collect(),
        by_product: found
            .by_product
            .iter()
            .map(|row| ProductShare {
                sku: row.sku.clone(),
                product: row.product.clone(),
                items: row.tally.items,
                units: row.tally.units,
                share: share(&row.share),
            })
            .collect(),
        decisions: Decisions {
            approved: found.decisions.approved.items,
            rejected: found.decisions.rejected.items,
            in_review: found.decisions.in_review.items,
        },
        refund_cycle: RefundCycle {
            completed: found.refund_cycle.completed,
            request_to_complete: stats(&found.refund_cycle.request_to_complete),
            request_to_receipt: stats(&found.refund_cycle.request_to_receipt),
            receipt_to_complete: stats(&found.refund_cycle.receipt_to_complete),
        },
        buckets: found
            .buckets
            .iter()
            .map(|b| Bucket {
                start: b.start,
                conversations_started: b.conversations_started,
                orders_confirmed: b.orders_confirmed,
                refunds_completed: b.refunds.completed,
            })
            .collect(),
        charts,
        fulfilment,
        emails,
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn query(from: Option<&str>, to: Option<&str>) -> DashboardQuery {
        DashboardQuery { from: from.map(str::to_owned), to: to.map(str::to_owned) }
    }

    #[test]
    fn a_period_is_whole_utc_days_with_both_ends_included() {
        let now = datetime!(2030-06-15 13:45 UTC);
        let default = period(&query(None, None), now).unwrap();
        assert_eq!(default.from, datetime!(2030-05-17 00:00 UTC));
        assert_eq!(default.to, datetime!(2030-06-16 00:00 UTC));
        let june = period(&query(Some("2030-06-01"), Some("2030-06-30")), now).unwrap();
        assert_eq!(
            (june.from, june.to),
            (datetime!(2030-06-01 00:00 UTC), datetime!(2030-07-01 00:00 UTC))
        );
    }

    #[test]
    fn bad_periods_are_refused_with_a_reason() {
        let now = datetime!(2030-06-15 13:45 UTC);
        for (from, to, code) in [
            (Some("2030-6-1"), None, "invalid_date"),
            (Some("yesterday"), None, "invalid_date"),
            (Some("2030-06-10"), Some("2030-06-01"), "invalid_period"),
            (Some("2000-01-01"), Some("2030-01-01"), "invalid_period"),
        ] {
            match period(&query(from, to), now) {
                Err(error) => assert_eq!(error.code(), code, "{from:?}"),
                other => panic!("{from:?} {to:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn quiet_open_conversations_are_abandoned_and_handed_off_orders_are_exceptions() {
        let now = datetime!(2030-06-15 12:00 UTC);
        let row =
            |outcome: &str, quiet_hours: i64, order: bool, handed_off: bool| ConversationFactRow {
                id: "c".into(),
                started_at: now - Duration::hours(48),
                updated_at: now - Duration::hours(quiet_hours),
                outcome: outcome.into(),
                first_message_at: None,
                confirmed_at: None,
                order_number: order.then(|| "G-100001".into()),
                payment_status: None,
                handed_off,
                turns: 1,
                clarification_turns: 0,
            };
        assert_eq!(
            conversation(&row("open", 25, false, false), now).outcome,
            Some(Outcome::Abandoned)
        );
        assert_eq!(conversation(&row("open", 2, false, false), now).outcome, None);
        assert_eq!(
            conversation(&row("ordered", 90, true, false), now).outcome,
            Some(Outcome::Ordered)
        );
        let exception = conversation(&row("handed_off", 1, true, true), now);
        assert_eq!(exception.outcome, Some(Outcome::HandedOff));
        assert!(exception.needs_manual_handling);
        assert!(!conversation(&row("handed_off", 1, false, true), now).needs_manual_handling);
    }
}
