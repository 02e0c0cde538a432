//! Refund cycle time (DESIGN "Returns"): how long customers wait, from asking to being
//! paid and from the parcel arriving to being paid, as p50/p90 over a period.
//!
//! Computed from the times of the return's audited events and nothing else, so the
//! number on the staff console can always be traced to the events behind it.
//! "Refund" here means the return was completed: refunded, exchanged or credited
//! ([`CycleTime::completed`] says which, for anyone who wants only one kind).

use time::{Duration, OffsetDateTime};

use super::status::{ReturnEvent, ReturnFoldError, ReturnState, ReturnStatus};

/// The cycle time of one completed return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CycleTime {
    /// Refunded, exchanged or credited.
    pub completed: ReturnStatus,
    pub requested_at: OffsetDateTime,
    pub received_at: OffsetDateTime,
    pub completed_at: OffsetDateTime,
    pub request_to_refund: Duration,
    pub receipt_to_refund: Duration,
}

impl CycleTime {
    /// `None` until the return is completed. The state machine only completes a
    /// return after receipt, so a completed return always has both durations.
    pub fn of(state: &ReturnState) -> Option<CycleTime> {
        if !state.status.is_completed() {
            return None;
        }
        let requested_at = state.requested_at();
        let received_at = state.reached(ReturnStatus::Received)?;
        let completed_at = state.reached(state.status)?;
        Some(CycleTime {
            completed: state.status,
            requested_at,
            received_at,
            completed_at,
            request_to_refund: completed_at - requested_at,
            receipt_to_refund: completed_at - received_at,
        })
    }
}

/// The cycle time of a return from its events: `Ok(None)` while it is not completed,
/// an error when the events are not a valid return.
pub fn cycle_time(events: &[ReturnEvent]) -> Result<Option<CycleTime>, ReturnFoldError> {
    ReturnState::fold(events).map(|state| CycleTime::of(&state))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percentiles {
    pub p50: Duration,
    pub p90: Duration,
}

/// p50 and p90 by the nearest-rank method: sort ascending, and the p-th percentile is
/// the value at 1-based rank ⌈p/100 × n⌉. Always one of the measured durations (no
/// interpolation), so "p90 = 3 days" means some customer really waited 3 days, and
/// with few returns (the usual case for a small shop) it does not invent precision.
/// `None` for no durations.
pub fn percentiles(durations: &[Duration]) -> Option<Percentiles> {
    if durations.is_empty() {
        return None;
    }
    let mut sorted = durations.to_vec();
    sorted.sort();
    Some(Percentiles { p50: nearest_rank(&sorted, 50), p90: nearest_rank(&sorted, 90) })
}

/// `sorted` is not empty and `percent` is 1 to 100.
fn nearest_rank(sorted: &[Duration], percent: usize) -> Duration {
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// The console's numbers for one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CycleTimeReport {
    /// Completed returns counted: those completed at or after `from` and before `to`.
    pub returns: usize,
    pub request_to_refund: Option<Percentiles>,
    pub receipt_to_refund: Option<Percentiles>,
}

/// Percentiles over the returns completed in `[from, to)` (a return belongs to the
/// period in which its customer was paid, however long ago it was asked for).
pub fn report(cycles: &[CycleTime], from: OffsetDateTime, to: OffsetDateTime) -> CycleTimeReport {
    let in_period: Vec<&CycleTime> = cycles
        .iter()
        .filter(|cycle| from <= cycle.completed_at && cycle.completed_at < to)
        .collect();
    let request: Vec<Duration> = in_period.iter().map(|cycle| cycle.request_to_refund).collect();
    let receipt: Vec<Duration> = in_period.iter().map(|cycle| cycle.receipt_to_refund).collect();
    CycleTimeReport {
        returns: in_period.len(),
        request_to_refund: percentiles(&request),
        receipt_to_refund: percentiles(&receipt),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::money::Money;
    use crate::returns::decide::{DecidedItem, Decision, Outcome, RuleId};
    use crate::returns::policy::{ReasonCode, Resolution};
    use crate::returns::status::Actor;
    use crate::sku::Sku;

    const T0: OffsetDateTime = datetime!(2025-03-01 09:00 UTC);

    fn hours(n: i64) -> Duration {
        Duration::hours(n)
    }

    fn item() -> DecidedItem {
        DecidedItem {
            line: 0,
            sku: Sku::parse("TEE").unwrap(),
            quantity: 1,
            reason: ReasonCode::parse("too_small").unwrap(),
            comment: None,
            exchange: None,
            value: Money(2500),
            restocking_fee: Money::ZERO,
            decision: Decision {
                outcome: Outcome::Approved,
                rule: RuleId::Approved,
                message: "Approved.".into(),
            },
        }
    }

    /// A clock that only moves when the test says so.
    struct Clock(OffsetDateTime);

    impl Clock {
        fn advance(&mut self, by: Duration) -> OffsetDateTime {
            self.0 += by;
            self.0
        }
    }

    /// Requested at `start`, approved at once, received after `to_receipt`, refunded
    /// `to_refund` after that.
    fn refunded_return(
        start: OffsetDateTime,
        to_receipt: Duration,
        to_refund: Duration,
    ) -> Vec<ReturnEvent> {
        let staff = || Actor::Staff { id: "ana".into() };
        let mut clock = Clock(start);
        vec![
            ReturnEvent::Requested {
                at: clock.0,
                actor: Actor::Customer,
                resolution: Resolution::Refund,
                items: vec![item()],
            },
            ReturnEvent::Approved { at: clock.0, actor: Actor::System, note: None },
            ReturnEvent::Received {
                at: clock.advance(to_receipt),
                actor: staff(),
                dispositions: vec![],
            },
            ReturnEvent::Refunded {
                at: clock.advance(to_refund),
                actor: staff(),
                amount: Money(2500),
                override_reason: None,
            },
        ]
    }

    #[test]
    fn durations_come_from_the_event_times() {
        let events = refunded_return(T0, hours(50), hours(6));
        let cycle = cycle_time(&events).unwrap().unwrap();
        assert_eq!(cycle.completed, ReturnStatus::Refunded);
        assert_eq!(cycle.request_to_refund, hours(56));
        assert_eq!(cycle.receipt_to_refund, hours(6));
        assert_eq!(cycle.completed_at, T0 + hours(56));
    }

    #[test]
    fn only_completed_returns_have_a_cycle_time() {
        let events = refunded_return(T0, hours(50), hours(6));
        assert_eq!(cycle_time(&events[..3]).unwrap(), None);
        assert_eq!(cycle_time(&events[..2]).unwrap(), None);
        let mut credited = events[..3].to_vec();
        credited.push(ReturnEvent::Credited {
            at: T0 + hours(51),
            actor: Actor::System,
            amount: Money(2500),
            override_reason: None,
        });
        let cycle = cycle_time(&credited).unwrap().unwrap();
        assert_eq!(cycle.completed, ReturnStatus::Credited);
        assert_eq!(cycle.receipt_to_refund, hours(1));
        assert!(cycle_time(&events[1..]).is_err(), "a stream without its request is refused");
    }

    #[test]
    fn nearest_rank_percentiles() {
        let cases: Vec<(Vec<i64>, i64, i64)> = vec![
            (vec![7], 7, 7),
            (vec![1, 2], 1, 2),
            (vec![3, 1, 2], 2, 3),
            (vec![4, 1, 3, 2], 2, 4),
            ((1..=10).collect(), 5, 9),
            ((1..=11).rev().collect(), 6, 10),
            ((1..=20).collect(), 10, 18),
            ((1..=100).collect(), 50, 90),
            ((1..=101).collect(), 51, 91),
            (vec![5, 5, 5, 100], 5, 100),
        ];
        for (values, p50, p90) in cases {
            let durations: Vec<Duration> = values.iter().map(|h| hours(*h)).collect();
            assert_eq!(
                percentiles(&durations),
                Some(Percentiles { p50: hours(p50), p90: hours(p90) }),
                "{values:?}"
            );
        }
        assert_eq!(percentiles(&[]), None);
    }

    #[test]
    fn a_report_counts_returns_completed_in_the_period() {
        let march = datetime!(2025-03-01 00:00 UTC);
        let april = datetime!(2025-04-01 00:00 UTC);
        let streams = [
            // Asked in February, paid in March: counts for March.
            refunded_return(datetime!(2025-02-20 09:00 UTC), hours(24 * 8), hours(48)),
            refunded_return(T0, hours(24), hours(2)),
            refunded_return(T0 + hours(24), hours(72), hours(10)),
            // Paid exactly at the end of March: belongs to April.
            refunded_return(april - hours(30), hours(24), hours(6)),
            // Not yet paid.
            refunded_return(T0, hours(24), hours(2))[..3].to_vec(),
        ];
        let cycles: Vec<CycleTime> =
            streams.iter().filter_map(|events| cycle_time(events).unwrap()).collect();
        assert_eq!(cycles.len(), 4);
        let report = report(&cycles, march, april);
        assert_eq!(report.returns, 3);
        // Request → refund: 26h, 82h, 240h.
        assert_eq!(report.request_to_refund, Some(Percentiles { p50: hours(82), p90: hours(240) }));
        // Receipt → refund: 2h, 10h, 48h.
        assert_eq!(report.receipt_to_refund, Some(Percentiles { p50: hours(10), p90: hours(48) }));
        let empty = super::report(&cycles, datetime!(2024-01-01 00:00 UTC), march);
        assert_eq!(
            empty,
            CycleTimeReport { returns: 0, request_to_refund: None, receipt_to_refund: None }
        );
        let april_report = super::report(&cycles, april, april + hours(24 * 30));
        assert_eq!(april_report.returns, 1);
    }
}
