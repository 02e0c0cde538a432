//! The conversation side of the dashboard as sums per UTC day, so that a dashboard over a
//! year reads a few hundred rows instead of every conversation. The store keeps these
//! sums in the same transaction as the writes they count (database triggers, see
//! migration 0015); [`ConversationDays::count`] is the same arithmetic over plain
//! [`ConversationFacts`], which tests use as the recount the store's sums must equal.
//!
//! A conversation belongs to the day it started (its cohort); an order confirmation also
//! to the day it was confirmed on ([`ConversationDay::orders_confirmed`]). First message →
//! confirmation is kept as a histogram of milliseconds rounded down to two significant
//! digits ([`lead_bucket`]): its p50 and p90 are exact to within 10 %, and exact for
//! times that have only two significant digits (a lead of 20 min is reported as 20 min).

use std::collections::BTreeMap;

use time::{Date, Duration, OffsetDateTime, UtcOffset};

use super::{ConversationFacts, DurationStats, Outcome};
use crate::orders::PaymentStatus;

/// One UTC day's sums over the conversations that started on it, plus the orders
/// confirmed on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationDay {
    pub day: Date,
    pub conversations: u64,
    pub turns: u64,
    /// Each conversation's clarification turns, at most its turns.
    pub clarification_turns: u64,
    /// Conversations with an order (confirmed or not).
    pub orders: u64,
    /// Conversations whose order was confirmed.
    pub confirmed: u64,
    /// Conversations with an order that was handed to a person.
    pub exceptions: u64,
    /// Conversations whose outcome is handed off.
    pub handed_off: u64,
    /// Confirmed orders with a payment link (payment status other than not required).
    pub payment_links: u64,
    /// Confirmed orders whose money was received.
    pub paid: u64,
    /// Orders confirmed on this day, whenever their conversation started.
    pub orders_confirmed: u64,
}

impl ConversationDay {
    pub fn empty(day: Date) -> ConversationDay {
        ConversationDay {
            day,
            conversations: 0,
            turns: 0,
            clarification_turns: 0,
            orders: 0,
            confirmed: 0,
            exceptions: 0,
            handed_off: 0,
            payment_links: 0,
            paid: 0,
            orders_confirmed: 0,
        }
    }

    fn is_empty(&self) -> bool {
        *self == ConversationDay::empty(self.day)
    }

    /// Adds `other`'s sums (the same day, from another part of the store).
    pub fn add(&mut self, other: &ConversationDay) {
        self.conversations += other.conversations;
        self.turns += other.turns;
        self.clarification_turns += other.clarification_turns;
        self.orders += other.orders;
        self.confirmed += other.confirmed;
        self.exceptions += other.exceptions;
        self.handed_off += other.handed_off;
        self.payment_links += other.payment_links;
        self.paid += other.paid;
        self.orders_confirmed += other.orders_confirmed;
    }
}

/// `conversations` of the cohort of `day` took `lead_ms` (a [`lead_bucket`]) from their
/// first message to their order's confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LeadTimeCount {
    pub day: Date,
    pub lead_ms: i64,
    pub conversations: u64,
}

/// The conversation side of a period, day by day.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConversationDays {
    pub days: Vec<ConversationDay>,
    pub lead_times: Vec<LeadTimeCount>,
}

impl ConversationDays {
    /// The sums over `conversations`, as the store keeps them: every fact counted on its
    /// start day (and its confirmation's day), whatever period it was read for.
    pub fn count(conversations: &[ConversationFacts]) -> ConversationDays {
        let utc_day = |at: OffsetDateTime| at.to_offset(UtcOffset::UTC).date();
        let mut days: BTreeMap<Date, ConversationDay> = BTreeMap::new();
        let mut add = |sums: ConversationDay| {
            days.entry(sums.day).or_insert_with(|| ConversationDay::empty(sums.day)).add(&sums)
        };
        let mut leads: BTreeMap<(Date, i64), u64> = BTreeMap::new();
        for c in conversations {
            let confirmed = c.confirmed_at.is_some();
            let has_order = c.order_number.is_some();
            add(ConversationDay {
                conversations: 1,
                turns: u64::from(c.turns),
                clarification_turns: u64::from(c.clarification_turns.min(c.turns)),
                orders: u64::from(has_order),
                confirmed: u64::from(confirmed),
                exceptions: u64::from(has_order && c.needs_manual_handling),
                handed_off: u64::from(c.outcome == Some(Outcome::HandedOff)),
                payment_links: u64::from(confirmed && c.payment != PaymentStatus::NotRequired),
                paid: u64::from(confirmed && c.payment.received()),
                ..ConversationDay::empty(utc_day(c.started_at))
            });
            if let Some(at) = c.confirmed_at {
                add(ConversationDay { orders_confirmed: 1, ..ConversationDay::empty(utc_day(at)) });
            }
            if let Some(lead) = c.first_message_at.zip(c.confirmed_at).and_then(lead_ms) {
                *leads.entry((utc_day(c.started_at), lead_bucket(lead))).or_default() += 1;
            }
        }
        ConversationDays {
            days: days.into_values().filter(|d| !d.is_empty()).collect(),
            lead_times: leads
                .into_iter()
                .map(|((day, lead_ms), conversations)| LeadTimeCount {
                    day,
                    lead_ms,
                    conversations,
                })
                .collect(),
        }
    }

    /// Sorted by day (lead times by day and lead), one row per day and per day and lead,
    /// rows of zeros left out: the form [`ConversationDays::count`] gives, so that two
    /// sums can be compared.
    pub fn normalized(&self) -> ConversationDays {
        let mut days: BTreeMap<Date, ConversationDay> = BTreeMap::new();
        for sums in &self.days {
            days.entry(sums.day).or_insert_with(|| ConversationDay::empty(sums.day)).add(sums);
        }
        let mut leads: BTreeMap<(Date, i64), u64> = BTreeMap::new();
        for lead in &self.lead_times {
            *leads.entry((lead.day, lead.lead_ms)).or_default() += lead.conversations;
        }
        ConversationDays {
            days: days.into_values().filter(|d| !d.is_empty()).collect(),
            lead_times: leads
                .into_iter()
                .filter(|&(_, conversations)| conversations > 0)
                .map(|((day, lead_ms), conversations)| LeadTimeCount {
                    day,
                    lead_ms,
                    conversations,
                })
                .collect(),
        }
    }
}

/// `at` as Unix milliseconds rounded to the nearest one, as SQLite reads times: what the
/// dashboard's sums are kept in, on both databases.
pub fn rounded_unix_ms(at: OffsetDateTime) -> i64 {
    i64::try_from((at.unix_timestamp_nanos() + 500_000).div_euclid(1_000_000)).unwrap_or(i64::MAX)
}

/// `at - since` in milliseconds, each rounded to the millisecond first.
pub(super) fn ms_between(since: OffsetDateTime, at: OffsetDateTime) -> i64 {
    rounded_unix_ms(at).saturating_sub(rounded_unix_ms(since))
}

/// First message → confirmation in milliseconds, each time rounded to the nearest
/// millisecond first (as SQLite reads times); `None` when the confirmation came first.
pub fn lead_ms((first_message_at, confirmed_at): (OffsetDateTime, OffsetDateTime)) -> Option<i64> {
    let lead = ms_between(first_message_at, confirmed_at);
    (lead >= 0).then_some(lead)
}

/// `ms` rounded down to two significant digits, in steps of at most 10^10 ms (115 days):
/// 357 → 350, 1,358 → 1,300, 86,400,357 → 86,000,000. The store computes the same in SQL.
pub fn lead_bucket(ms: i64) -> i64 {
    let mut step: i64 = 1;
    while ms >= step.saturating_mul(100) && step < 10_000_000_000 {
        step *= 10;
    }
    ms / step * step
}

/// p50 and p90 (nearest rank) over a histogram of (milliseconds, how many).
pub(super) fn stats_of_histogram(histogram: &BTreeMap<i64, u64>) -> DurationStats {
    let count: u64 = histogram.values().sum();
    let at_rank = |percent: u64| {
        let rank = (percent * count).div_ceil(100).max(1);
        let mut seen = 0;
        histogram.iter().find_map(|(&ms, &n)| {
            seen += n;
            (seen >= rank).then(|| Duration::milliseconds(ms))
        })
    };
    if count == 0 {
        return DurationStats::default();
    }
    DurationStats { count, p50: at_rank(50), p90: at_rank(90) }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn buckets_keep_two_significant_digits() {
        for (ms, bucket) in [
            (0, 0),
            (99, 99),
            (100, 100),
            (357, 350),
            (1_358, 1_300),
            (1_200_000, 1_200_000),
            (86_400_357, 86_000_000),
            (999_999_999_999, 990_000_000_000),
            (5_000_000_000_000, 5_000_000_000_000),
            (5_123_456_789_012, 5_120_000_000_000),
        ] {
            assert_eq!(lead_bucket(ms), bucket, "{ms}");
        }
    }

    #[test]
    fn lead_times_round_each_time_to_the_millisecond() {
        let first = datetime!(2030-01-01 00:00:00.0004 UTC);
        assert_eq!(lead_ms((first, datetime!(2030-01-01 00:00:00.3575 UTC))), Some(358));
        assert_eq!(lead_ms((datetime!(2030-01-01 00:00:00.0005 UTC), first)), None);
        assert_eq!(lead_ms((first, first)), Some(0));
    }

    #[test]
    fn percentiles_of_a_histogram_are_nearest_rank() {
        let histogram: BTreeMap<i64, u64> = [(1_000, 3), (2_000, 1), (9_000, 1)].into();
        let stats = stats_of_histogram(&histogram);
        assert_eq!(stats.count, 5);
        assert_eq!(stats.p50, Some(Duration::seconds(1)), "rank 3 of 5");
        assert_eq!(stats.p90, Some(Duration::seconds(9)), "rank 5 of 5");
        assert_eq!(stats_of_histogram(&BTreeMap::new()), DurationStats::default());
    }
}
