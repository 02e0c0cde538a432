//! The dashboard's sums per day (migrations 0015 and 0017), as both backends read them.

use gapless_domain::staff_metrics::{
    ConversationDay, ConversationDays, DeliveryClass, DeliveryCount, DeliveryDays,
    FulfilmentLeadCount, LeadTimeCount, Leg,
};
use time::Date;

use crate::StoreError;

/// A row of `dashboard_days` (PostgreSQL: the sum of a day's shards).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct DayRow {
    day: Date,
    conversations: i64,
    turns: i64,
    clarification_turns: i64,
    orders: i64,
    confirmed: i64,
    exceptions: i64,
    handed_off: i64,
    payment_links: i64,
    paid: i64,
    orders_confirmed: i64,
}

/// A row of `dashboard_lead_times`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct LeadTimeRow {
    day: Date,
    lead_ms: i64,
    conversations: i64,
}

/// A sum the triggers keep can only go below zero if the database was edited by hand.
fn count(value: i64, what: &str, day: Date) -> Result<u64, StoreError> {
    u64::try_from(value)
        .map_err(|_| StoreError::Corrupt(format!("dashboard sum {what} of {day} is {value}")))
}

pub(crate) fn conversation_days(
    days: Vec<DayRow>,
    leads: Vec<LeadTimeRow>,
) -> Result<ConversationDays, StoreError> {
    let days = days
        .into_iter()
        .map(|r| {
            let day = r.day;
            Ok(ConversationDay {
                day,
                conversations: count(r.conversations, "conversations", day)?,
                turns: count(r.turns, "turns", day)?,
                clarification_turns: count(r.clarification_turns, "clarification_turns", day)?,
                orders: count(r.orders, "orders", day)?,
                confirmed: count(r.confirmed, "confirmed", day)?,
                exceptions: count(r.exceptions, "exceptions", day)?,
                handed_off: count(r.handed_off, "handed_off", day)?,
                payment_links: count(r.payment_links, "payment_links", day)?,
                paid: count(r.paid, "paid", day)?,
                orders_confirmed: count(r.orders_confirmed, "orders_confirmed", day)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let lead_times = leads
        .into_iter()
        .map(|r| {
            Ok(LeadTimeCount {
                day: r.day,
                lead_ms: r.lead_ms,
                conversations: count(r.conversations, "lead time", r.day)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(ConversationDays { days, lead_times })
}

/// A row of `dashboard_deliveries` (or a sum of them over the period).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct DeliveryRow {
    day: Date,
    delivered_days: i64,
    in_full: bool,
    exception: bool,
    returned: bool,
    orders: i64,
}

/// A row of `dashboard_fulfilment_times` (summed over the period).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct FulfilmentLeadRow {
    day: Date,
    leg: String,
    lead_ms: i64,
    orders: i64,
}

pub(crate) fn delivery_days(
    rows: Vec<DeliveryRow>,
    leads: Vec<FulfilmentLeadRow>,
) -> Result<DeliveryDays, StoreError> {
    let deliveries = rows
        .into_iter()
        .map(|r| {
            Ok(DeliveryCount {
                day: r.day,
                class: DeliveryClass {
                    delivered_days: (r.delivered_days >= 0).then_some(r.delivered_days),
                    in_full: r.in_full,
                    exception: r.exception,
                    returned: r.returned,
                },
                orders: count(r.orders, "deliveries", r.day)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let lead_times = leads
        .into_iter()
        .map(|r| {
            let leg = match r.leg.as_str() {
                "shipped" => Leg::Shipped,
                "delivered" => Leg::Delivered,
                other => {
                    return Err(StoreError::Corrupt(format!("unknown fulfilment leg {other:?}")))
                }
            };
            Ok(FulfilmentLeadCount {
                day: r.day,
                leg,
                lead_ms: r.lead_ms,
                orders: count(r.orders, "fulfilment time", r.day)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(DeliveryDays { deliveries, lead_times }.normalized())
}

/// `[from, to)` as Unix milliseconds (`dashboard_orders.confirmed_ms`).
pub(crate) fn day_ms(day: Date) -> i64 {
    (day.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Of `dashboard_orders` (the `?`/`$` placeholders given by `p`: from and to in ms, the
/// promise in days, due-by in ms, the limit): the first late orders, and the first that
/// were not perfect. Counted, decided (delivered, or past due), by confirmation.
/// `delivered_days` is how the backend reads the column of that name.
pub(crate) fn misses_sql(
    p: impl Fn(usize) -> String,
    delivered_days: &str,
    not_perfect: bool,
) -> String {
    let (from, to, promise, due_by, limit) = (p(1), p(2), p(3), p(4), p(5));
    let d = delivered_days;
    let miss = if not_perfect {
        format!("({d} = -1 OR {d} > {promise} OR NOT in_full OR exception OR returned)")
    } else {
        format!("({d} = -1 OR {d} > {promise})")
    };
    format!(
        "SELECT number FROM dashboard_orders
         WHERE confirmed_ms >= {from} AND confirmed_ms < {to} AND counted
           AND ({d} >= 0 OR confirmed_ms <= {due_by}) AND {miss}
         ORDER BY confirmed_ms, order_id LIMIT {limit}"
    )
}
