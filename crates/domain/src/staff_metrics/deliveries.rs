//! The delivery side of the dashboard as sums per UTC day of confirmation, so that the
//! delivery numbers of three years read a few thousand rows instead of every order. The
//! store keeps the sums in the same transaction as the writes they count (triggers, see
//! migration 0017); [`DeliveryDays::count`] is the same arithmetic over plain
//! [`OrderFulfilmentFacts`], the recount the store's sums must equal, and
//! [`fulfilment_of_days`] gives what [`fulfilment_metrics`](super::fulfilment_metrics)
//! gives from every order (the two lead times to within the histograms' 10 %).
//!
//! No promise is needed to keep the sums: an order delivered `k` whole days (rounded up)
//! after its confirmation is on time for a promise of `P` whole days exactly when
//! `k <= P`. Whether an order not delivered yet counts as late depends on the time of
//! the read: every order of a day before [`due_day`] is past due, none after it is, and
//! that one day is read order by order.

use std::collections::BTreeMap;

use time::{Date, Duration, OffsetDateTime, UtcOffset};

use super::days::{lead_bucket, ms_between, stats_of_histogram};
use super::{FulfilmentMetrics, OrderFulfilmentFacts, Period, Ratio};

const DAY_MS: i64 = 86_400_000;

/// How an order went, as far as the delivery rates care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeliveryClass {
    /// Whole days from confirmation to delivery, rounded up (0 at or before the
    /// confirmation); `None` while not delivered.
    pub delivered_days: Option<i64>,
    pub in_full: bool,
    pub exception: bool,
    pub returned: bool,
}

/// `orders` confirmed on `day`, not cancelled, went as `class` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DeliveryCount {
    pub day: Date,
    pub class: DeliveryClass,
    pub orders: u64,
}

/// The two lead times the dashboard reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Leg {
    /// Confirmation → shipped.
    Shipped,
    /// Confirmation → delivered.
    Delivered,
}

/// `orders` confirmed on `day` took `lead_ms` (a [`lead_bucket`]) to `leg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FulfilmentLeadCount {
    pub day: Date,
    pub leg: Leg,
    pub lead_ms: i64,
    pub orders: u64,
}

/// The delivery side of a period, by day of confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeliveryDays {
    pub deliveries: Vec<DeliveryCount>,
    pub lead_times: Vec<FulfilmentLeadCount>,
}

/// The orders the dashboard names behind its misses, first confirmed first, at most
/// [`LISTED`](super::LISTED) each: what [`fulfilment_metrics`](super::fulfilment_metrics)
/// puts in `late` and `not_perfect`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeliveryMisses {
    pub late: Vec<String>,
    pub not_perfect: Vec<String>,
}

/// Whole days from `confirmed_at` to `delivered_at`, rounded up; 0 at or before it.
pub fn delivered_days(confirmed_at: OffsetDateTime, delivered_at: OffsetDateTime) -> i64 {
    let ms = ms_between(confirmed_at, delivered_at);
    if ms <= 0 {
        0
    } else {
        (ms - 1) / DAY_MS + 1
    }
}

/// `now - promise`: an order confirmed up to then and not delivered is past due.
pub fn due_by(now: OffsetDateTime, promise: Duration) -> OffsetDateTime {
    now.checked_sub(promise).unwrap_or(now)
}

/// The UTC day of [`due_by`]: orders confirmed before it and not delivered are past due,
/// orders confirmed after it are not due yet.
pub fn due_day(now: OffsetDateTime, promise: Duration) -> Date {
    due_by(now, promise).to_offset(UtcOffset::UTC).date()
}

impl DeliveryDays {
    /// The sums over `orders`, as the store keeps them: each order not cancelled on the
    /// day of its confirmation.
    pub fn count(orders: &[OrderFulfilmentFacts]) -> DeliveryDays {
        let mut deliveries: BTreeMap<(Date, DeliveryClass), u64> = BTreeMap::new();
        let mut leads: BTreeMap<(Date, Leg, i64), u64> = BTreeMap::new();
        for order in orders.iter().filter(|o| !o.cancelled) {
            let day = order.confirmed_at.to_offset(UtcOffset::UTC).date();
            let class = DeliveryClass {
                delivered_days: order.delivered_at.map(|at| delivered_days(order.confirmed_at, at)),
                in_full: order.in_full,
                exception: order.exception,
                returned: order.returned,
            };
            *deliveries.entry((day, class)).or_default() += 1;
            for (leg, at) in
                [(Leg::Shipped, order.shipped_at), (Leg::Delivered, order.delivered_at)]
            {
                let Some(ms) = at.map(|at| ms_between(order.confirmed_at, at)) else { continue };
                if ms >= 0 {
                    *leads.entry((day, leg, lead_bucket(ms))).or_default() += 1;
                }
            }
        }
        DeliveryDays::from_maps(deliveries, leads)
    }

    fn from_maps(
        deliveries: BTreeMap<(Date, DeliveryClass), u64>,
        leads: BTreeMap<(Date, Leg, i64), u64>,
    ) -> DeliveryDays {
        DeliveryDays {
            deliveries: deliveries
                .into_iter()
                .filter(|&(_, orders)| orders > 0)
                .map(|((day, class), orders)| DeliveryCount { day, class, orders })
                .collect(),
            lead_times: leads
                .into_iter()
                .filter(|&(_, orders)| orders > 0)
                .map(|((day, leg, lead_ms), orders)| FulfilmentLeadCount {
                    day,
                    leg,
                    lead_ms,
                    orders,
                })
                .collect(),
        }
    }

    /// Sorted, one row per key, rows of zeros left out: the form [`DeliveryDays::count`]
    /// gives, so that two sums can be compared.
    pub fn normalized(&self) -> DeliveryDays {
        self.summed(|day, _| day)
    }

    /// As the store reads the days from `from` on: the orders delivered and the lead
    /// times summed over the whole period (each given as of `from`), the orders not
    /// delivered yet day by day (the read decides which are past due).
    pub fn as_read_from(&self, from: Date) -> DeliveryDays {
        self.summed(|day, delivered| if delivered { from } else { day })
    }

    fn summed(&self, day_of: impl Fn(Date, bool) -> Date) -> DeliveryDays {
        let mut deliveries: BTreeMap<(Date, DeliveryClass), u64> = BTreeMap::new();
        for d in &self.deliveries {
            let day = day_of(d.day, d.class.delivered_days.is_some());
            *deliveries.entry((day, d.class)).or_default() += d.orders;
        }
        let mut leads: BTreeMap<(Date, Leg, i64), u64> = BTreeMap::new();
        for l in &self.lead_times {
            *leads.entry((day_of(l.day, true), l.leg, l.lead_ms)).or_default() += l.orders;
        }
        DeliveryDays::from_maps(deliveries, leads)
    }
}

/// The delivery numbers of `period` (whole UTC days) from its sums per day, as decided at
/// `now` for `promise` (whole days; a part of a day counts as a whole one). `due_day` are
/// the orders confirmed on [`due_day`] (only those matter, and only when not delivered),
/// `misses` the orders to name. Equal to
/// [`fulfilment_metrics`](super::fulfilment_metrics) over the same orders, except that
/// the lead times' p50 and p90 come from the histograms.
pub fn fulfilment_of_days(
    days: &DeliveryDays,
    due_day_orders: &[OrderFulfilmentFacts],
    misses: DeliveryMisses,
    period: Period,
    promise: Duration,
    now: OffsetDateTime,
) -> FulfilmentMetrics {
    let promise_days = promise_days(promise);
    let due = due_day(now, promise);
    let mut metrics = FulfilmentMetrics {
        late: misses.late,
        not_perfect: misses.not_perfect,
        ..FulfilmentMetrics::default()
    };
    let count = |ratio: &mut Ratio, yes: bool, n: u64| {
        ratio.denominator += n;
        ratio.numerator += if yes { n } else { 0 };
    };
    for d in days.deliveries.iter().filter(|d| period.touches_day(d.day)) {
        metrics.orders += d.orders;
        let on_time = match d.class.delivered_days {
            Some(k) => k <= promise_days,
            // Past due without a delivery: late, whenever it arrives.
            None if d.day < due => false,
            // Not due yet, or on the day read order by order below.
            None => continue,
        };
        let otif = on_time && d.class.in_full;
        let perfect = otif && !d.class.exception && !d.class.returned;
        count(&mut metrics.on_time, on_time, d.orders);
        count(&mut metrics.on_time_in_full, otif, d.orders);
        count(&mut metrics.perfect, perfect, d.orders);
    }
    let due_by = due_by(now, promise);
    let past_due = due_day_orders.iter().filter(|o| {
        !o.cancelled
            && o.delivered_at.is_none()
            && period.contains(o.confirmed_at)
            && o.confirmed_at.to_offset(UtcOffset::UTC).date() == due
            && o.confirmed_at <= due_by
    });
    for _ in past_due {
        count(&mut metrics.on_time, false, 1);
        count(&mut metrics.on_time_in_full, false, 1);
        count(&mut metrics.perfect, false, 1);
    }
    let mut histograms: BTreeMap<Leg, BTreeMap<i64, u64>> = BTreeMap::new();
    for l in days.lead_times.iter().filter(|l| period.touches_day(l.day)) {
        *histograms.entry(l.leg).or_default().entry(l.lead_ms).or_default() += l.orders;
    }
    let stats = |leg| histograms.get(&leg).map(stats_of_histogram).unwrap_or_default();
    metrics.confirmation_to_shipped = stats(Leg::Shipped);
    metrics.confirmation_to_delivered = stats(Leg::Delivered);
    metrics
}

/// The promise in whole days, a started day counted as a whole one (the shop sets it
/// in days).
pub fn promise_days(promise: Duration) -> i64 {
    let whole = promise.whole_days();
    if promise > Duration::days(whole) {
        whole + 1
    } else {
        whole
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::datetime;

    use super::*;
    use crate::staff_metrics::fulfilment_metrics;

    const START: OffsetDateTime = datetime!(2030-06-01 00:00 UTC);

    fn order(i: usize, parts: (u32, Option<u32>, Option<u32>, u8)) -> OrderFulfilmentFacts {
        let (confirmed, ship, deliver, flags) = parts;
        // Whole milliseconds, as the store keeps them.
        let confirmed_at = START + Duration::milliseconds(i64::from(confirmed) * 1_000);
        OrderFulfilmentFacts {
            number: format!("G-{i}"),
            confirmed_at,
            shipped_at: ship.map(|s| confirmed_at + Duration::seconds(i64::from(s)) * 60),
            // Now and then before the confirmation (times that contradict each other).
            delivered_at: deliver
                .map(|d| confirmed_at + Duration::minutes(i64::from(d)) - Duration::hours(2)),
            cancelled: flags & 1 != 0,
            in_full: flags & 2 == 0,
            exception: flags & 4 != 0,
            returned: flags & 8 != 0,
        }
    }

    fn misses(found: &FulfilmentMetrics) -> DeliveryMisses {
        DeliveryMisses { late: found.late.clone(), not_perfect: found.not_perfect.clone() }
    }

    #[test]
    fn whole_days_are_rounded_up_and_exact_at_the_promise() {
        let at = datetime!(2030-06-01 12:00 UTC);
        assert_eq!(delivered_days(at, at), 0);
        assert_eq!(delivered_days(at, at - Duration::hours(1)), 0);
        assert_eq!(delivered_days(at, at + Duration::milliseconds(1)), 1);
        assert_eq!(delivered_days(at, at + Duration::days(5)), 5, "on time for 5 days");
        assert_eq!(delivered_days(at, at + Duration::days(5) + Duration::milliseconds(1)), 6);
        assert_eq!(promise_days(Duration::days(5)), 5);
        assert_eq!(promise_days(Duration::days(5) + Duration::hours(1)), 6);
        assert_eq!(
            due_day(datetime!(2030-06-10 03:00 UTC), Duration::days(5)),
            datetime!(2030-06-05 0:00 UTC).date()
        );
    }

    proptest! {
        /// The sums give every rate and count that the orders themselves give, for any
        /// period, promise and time of reading; the lead times to within 10 %.
        #[test]
        fn the_sums_give_what_the_orders_give(
            parts in prop::collection::vec(
                (0u32..(40 * 86_400), prop::option::of(0u32..20_000), prop::option::of(0u32..15_000), 0u8..16),
                0..60),
            first in 0i64..40,
            length in 1i64..40,
            promise in 1i64..8,
            now_s in 0i64..(50 * 86_400),
        ) {
            let orders: Vec<OrderFulfilmentFacts> =
                parts.iter().enumerate().map(|(i, p)| order(i, *p)).collect();
            let from = START + Duration::days(first);
            let period = Period { from, to: from + Duration::days(length) };
            let promise = Duration::days(promise);
            let now = START + Duration::seconds(now_s);
            let exact = fulfilment_metrics(&orders, period, promise, now);
            let days = DeliveryDays::count(&orders);
            // The store reads the period's days only.
            let read = DeliveryDays {
                deliveries: days.deliveries.iter().filter(|d| period.touches_day(d.day)).copied().collect(),
                lead_times: days.lead_times.iter().filter(|l| period.touches_day(l.day)).copied().collect(),
            }
            .as_read_from(from.date());
            let due: Vec<OrderFulfilmentFacts> = orders
                .iter()
                .filter(|o| o.confirmed_at.date() == due_day(now, promise))
                .cloned()
                .collect();
            for sums in [&days, &read] {
                let found = fulfilment_of_days(sums, &due, misses(&exact), period, promise, now);
                prop_assert_eq!(found.orders, exact.orders);
                prop_assert_eq!(found.on_time, exact.on_time);
                prop_assert_eq!(found.on_time_in_full, exact.on_time_in_full);
                prop_assert_eq!(found.perfect, exact.perfect);
                for (sums, exact) in [
                    (found.confirmation_to_shipped, exact.confirmation_to_shipped),
                    (found.confirmation_to_delivered, exact.confirmation_to_delivered),
                ] {
                    prop_assert_eq!(sums.count, exact.count);
                    for (a, b) in [(sums.p50, exact.p50), (sums.p90, exact.p90)] {
                        let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
                        prop_assert!(a <= b && b.as_seconds_f64() * 0.9 <= a.as_seconds_f64() + 0.001,
                            "{} vs {}", a, b);
                    }
                }
            }
        }
    }
}
