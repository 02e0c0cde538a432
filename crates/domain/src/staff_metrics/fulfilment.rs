//! The operations numbers a COO asks for first, from what fulfilment reported (CONTRACTS
//! §7): order cycle time, on-time delivery, on-time-in-full and the perfect order rate.
//!
//! The cohort is the orders *confirmed* in the period and not cancelled. An order is
//! *due* `promise` after its confirmation (the shop's `delivery_promise_days`), and it
//! counts towards the delivery rates once that is decided: when it was delivered, or
//! when it is past due without a delivery (late, whenever it arrives). Orders not yet
//! due and not yet delivered are left out rather than counted as failures.
//!
//! - on time: delivered by its due time;
//! - in full: nothing of it came back as the wrong item (the caller decides per order;
//!   see the server's dashboard);
//! - perfect: on time, in full, no handoff or exception in its conversation and no
//!   return (an order can still leave the perfect set while its return window is open).
//!
//! Times that contradict each other (shipped before confirmed) are kept out of the
//! cycle times, as the rest of the dashboard does.

use time::{Duration, OffsetDateTime};

use super::{DurationStats, Period, Ratio};

/// The return reason that says an order did not arrive as ordered: an order with an item
/// returned for it (and the return not rejected or cancelled) was not delivered in full
/// (the fulfilment API reports whole orders, not lines).
pub const NOT_IN_FULL_REASON: &str = "wrong_item";

/// One order as the delivery numbers need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFulfilmentFacts {
    pub number: String,
    pub confirmed_at: OffsetDateTime,
    /// The first `shipped` event.
    pub shipped_at: Option<OffsetDateTime>,
    pub delivered_at: Option<OffsetDateTime>,
    pub cancelled: bool,
    /// Everything arrived as ordered (no item came back as the wrong one).
    pub in_full: bool,
    /// Its conversation was handed to a person or its order needed manual handling.
    pub exception: bool,
    /// A return of it was requested (and not rejected or cancelled).
    pub returned: bool,
}

/// The delivery numbers of one period, each with the order numbers behind a miss so
/// the console can link to them.
/// At most this many orders are named behind a miss (`late`, `not_perfect`): the first
/// ones in the order given; the ratio's numerator and denominator say how many there are.
pub const LISTED: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FulfilmentMetrics {
    /// Orders confirmed in the period, not cancelled.
    pub orders: u64,
    pub confirmation_to_shipped: DurationStats,
    pub confirmation_to_delivered: DurationStats,
    /// Delivered by the promise, of the orders whose outcome is decided.
    pub on_time: Ratio,
    pub on_time_in_full: Ratio,
    pub perfect: Ratio,
    /// Decided orders that were not on time (late or not delivered by their due time).
    pub late: Vec<String>,
    /// Decided orders that were not perfect.
    pub not_perfect: Vec<String>,
}

/// The metrics of `orders` confirmed in `period`, with `promise` from confirmation to
/// delivery, as decided at `now`. Never panics; empty input gives zeros and `None`s.
pub fn fulfilment_metrics(
    orders: &[OrderFulfilmentFacts],
    period: Period,
    promise: Duration,
    now: OffsetDateTime,
) -> FulfilmentMetrics {
    let cohort: Vec<&OrderFulfilmentFacts> =
        orders.iter().filter(|o| !o.cancelled && period.contains(o.confirmed_at)).collect();
    let since_confirmed = |at: Option<OffsetDateTime>, o: &OrderFulfilmentFacts| {
        at.filter(|at| *at >= o.confirmed_at).map(|at| at - o.confirmed_at)
    };
    let shipped: Vec<Duration> =
        cohort.iter().filter_map(|o| since_confirmed(o.shipped_at, o)).collect();
    let delivered: Vec<Duration> =
        cohort.iter().filter_map(|o| since_confirmed(o.delivered_at, o)).collect();

    let mut metrics = FulfilmentMetrics {
        orders: cohort.len() as u64,
        confirmation_to_shipped: DurationStats::of(&shipped),
        confirmation_to_delivered: DurationStats::of(&delivered),
        ..FulfilmentMetrics::default()
    };
    for order in cohort {
        let due = order.confirmed_at.checked_add(promise).unwrap_or(order.confirmed_at);
        let decided = order.delivered_at.is_some() || now >= due;
        if !decided {
            continue;
        }
        let on_time = order.delivered_at.is_some_and(|at| at <= due);
        let otif = on_time && order.in_full;
        let perfect = otif && !order.exception && !order.returned;
        let count = |ratio: &mut Ratio, yes: bool| {
            ratio.denominator += 1;
            ratio.numerator += u64::from(yes);
        };
        count(&mut metrics.on_time, on_time);
        count(&mut metrics.on_time_in_full, otif);
        count(&mut metrics.perfect, perfect);
        if !on_time && metrics.late.len() < LISTED {
            metrics.late.push(order.number.clone());
        }
        if !perfect && metrics.not_perfect.len() < LISTED {
            metrics.not_perfect.push(order.number.clone());
        }
    }
    metrics
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const PROMISE: Duration = Duration::days(5);
    const NOW: OffsetDateTime = datetime!(2030-06-30 12:00 UTC);

    fn june() -> Period {
        Period { from: datetime!(2030-06-01 00:00 UTC), to: datetime!(2030-07-01 00:00 UTC) }
    }

    /// Confirmed on June `day` at noon, shipped and delivered `ship`/`deliver` days later.
    fn order(
        number: &str,
        day: u8,
        ship: Option<i64>,
        deliver: Option<i64>,
    ) -> OrderFulfilmentFacts {
        let confirmed_at = datetime!(2030-06-01 12:00 UTC) + Duration::days(i64::from(day) - 1);
        OrderFulfilmentFacts {
            number: number.to_owned(),
            confirmed_at,
            shipped_at: ship.map(|d| confirmed_at + Duration::days(d)),
            delivered_at: deliver.map(|d| confirmed_at + Duration::days(d)),
            cancelled: false,
            in_full: true,
            exception: false,
            returned: false,
        }
    }

    #[test]
    fn nothing_gives_zeros() {
        let found = fulfilment_metrics(&[], june(), PROMISE, NOW);
        assert_eq!(found, FulfilmentMetrics::default());
        assert_eq!(found.on_time.percent(), None);
    }

    #[test]
    fn cycle_times_are_percentiles_from_confirmation() {
        let orders: Vec<_> =
            (1..=10).map(|i| order(&format!("G-{i}"), 1, Some(i), Some(i + 1))).collect();
        let found = fulfilment_metrics(&orders, june(), PROMISE, NOW);
        assert_eq!(found.orders, 10);
        assert_eq!(found.confirmation_to_shipped.count, 10);
        assert_eq!(found.confirmation_to_shipped.p50, Some(Duration::days(5)));
        assert_eq!(found.confirmation_to_shipped.p90, Some(Duration::days(9)));
        assert_eq!(found.confirmation_to_delivered.p50, Some(Duration::days(6)));
        assert_eq!(found.confirmation_to_delivered.p90, Some(Duration::days(10)));
    }

    #[test]
    fn on_time_counts_decided_orders_only() {
        let orders = [
            order("G-ON", 1, Some(1), Some(5)),   // due day 5 exactly: on time
            order("G-LATE", 1, Some(1), Some(6)), // a day late
            order("G-LOST", 2, Some(1), None),    // past due, never delivered: late
            order("G-WAIT", 28, Some(1), None),   // due July 3rd: not decided yet
            order("G-EARLY", 28, Some(0), Some(1)), // not due yet, but delivered: decided
        ];
        let found = fulfilment_metrics(&orders, june(), PROMISE, NOW);
        assert_eq!(found.orders, 5);
        assert_eq!(found.on_time, Ratio::new(2, 4));
        assert_eq!(found.late, ["G-LATE", "G-LOST"]);
    }

    #[test]
    fn perfect_needs_on_time_in_full_no_exception_and_no_return() {
        let mut wrong_item = order("G-WRONG", 1, Some(1), Some(2));
        wrong_item.in_full = false;
        let mut handed_off = order("G-HANDOFF", 1, Some(1), Some(2));
        handed_off.exception = true;
        let mut returned = order("G-RETURNED", 1, Some(1), Some(2));
        returned.returned = true;
        let orders = [
            order("G-PERFECT", 1, Some(1), Some(2)),
            wrong_item,
            handed_off,
            returned,
            order("G-LATE", 1, Some(1), Some(9)),
        ];
        let found = fulfilment_metrics(&orders, june(), PROMISE, NOW);
        assert_eq!(found.on_time, Ratio::new(4, 5));
        assert_eq!(found.on_time_in_full, Ratio::new(3, 5));
        assert_eq!(found.perfect, Ratio::new(1, 5));
        assert_eq!(found.not_perfect, ["G-WRONG", "G-HANDOFF", "G-RETURNED", "G-LATE"]);
    }

    #[test]
    fn cancelled_orders_outside_the_period_and_bent_times_are_left_out() {
        let mut cancelled = order("G-CANCELLED", 1, None, None);
        cancelled.cancelled = true;
        let mut may = order("G-MAY", 1, Some(1), Some(2));
        may.confirmed_at = datetime!(2030-05-31 23:59 UTC);
        let mut bent = order("G-BENT", 1, None, None);
        bent.shipped_at = Some(bent.confirmed_at - Duration::hours(1));
        bent.delivered_at = Some(bent.confirmed_at + Duration::days(1));
        let found = fulfilment_metrics(&[cancelled, may, bent], june(), PROMISE, NOW);
        assert_eq!(found.orders, 1);
        assert_eq!(found.confirmation_to_shipped.count, 0, "shipped before confirmed");
        assert_eq!(found.confirmation_to_delivered.count, 1);
        assert_eq!(found.on_time, Ratio::new(1, 1));
    }
}
