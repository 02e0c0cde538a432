//! The dashboard's sums per day (migration 0015), as both backends read them.

use gapless_domain::staff_metrics::{ConversationDay, ConversationDays, LeadTimeCount};
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
