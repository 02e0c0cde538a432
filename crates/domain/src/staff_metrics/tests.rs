//! The dashboard against fixtures whose every number is worked out by hand below, its
//! edges (empty input, zero denominators, half-open periods, contradictory facts), a
//! property test over random facts, and the SVG the charts produce.

use proptest::prelude::*;
use time::macros::datetime;
use time::{Date, Duration, OffsetDateTime, Weekday};

use super::*;

/// The dashboard over facts: counted per day first, as the store keeps them.
fn dashboard(
    conversations: &[ConversationFacts],
    returns: &[ReturnFacts],
    period: Period,
    bucketing: Bucketing,
) -> Dashboard {
    super::dashboard(&ConversationDays::count(conversations), returns, period, bucketing)
}

/// Monday 2025-03-03 00:00 UTC: the fixture week is `[MON, MON + 7 d)`.
const MON: OffsetDateTime = datetime!(2025-03-03 00:00 UTC);

fn week() -> Period {
    Period { from: MON, to: MON + Duration::days(7) }
}

fn at(day: i64, hour: i64, minute: i64) -> OffsetDateTime {
    MON + Duration::days(day) + Duration::hours(hour) + Duration::minutes(minute)
}

fn minutes(n: i64) -> Duration {
    Duration::minutes(n)
}

fn hours(n: i64) -> Duration {
    Duration::hours(n)
}

fn conversation(id: &str, started_at: OffsetDateTime) -> ConversationFacts {
    ConversationFacts {
        id: id.into(),
        started_at,
        outcome: None,
        first_message_at: Some(started_at),
        confirmed_at: None,
        turns: 0,
        clarification_turns: 0,
        order_number: None,
        needs_manual_handling: false,
        payment: PaymentStatus::NotRequired,
    }
}

/// Started at `started_at` with the first message `delay` later, confirmed
/// `to_confirm` after the first message.
fn ordered(
    id: &str,
    started_at: OffsetDateTime,
    delay: Duration,
    to_confirm: Duration,
    turns: u32,
    clarifications: u32,
    manual: bool,
) -> ConversationFacts {
    ConversationFacts {
        outcome: Some(Outcome::Ordered),
        first_message_at: Some(started_at + delay),
        confirmed_at: Some(started_at + delay + to_confirm),
        turns,
        clarification_turns: clarifications,
        order_number: Some(format!("GL-{id}")),
        needs_manual_handling: manual,
        ..conversation(id, started_at)
    }
}

/// Conversations of the fixture week (and two just outside it).
///
/// | id  | started   | outcome    | first → confirmed | turns | clar. | order | manual |
/// |-----|-----------|------------|-------------------|-------|-------|-------|--------|
/// | c10 | Mon 00:00 | failed     | –                 | 2     | 0     | –     |        |
/// | c1  | Mon 09:00 | ordered    | 10 min            | 4     | 1     | GL-c1 |        |
/// | c2  | Mon 10:00 | ordered    | 20 min            | 6     | 2     | GL-c2 | yes    |
/// | c3  | Tue 12:00 | ordered    | 30 min            | 5     | 0     | GL-c3 |        |
/// | c4  | Wed 08:00 | ordered    | 40 min (from 08:01)| 3    | 0     | GL-c4 |        |
/// | c5  | Wed 15:00 | handed off | not confirmed     | 2     | 1     | GL-c5 | yes    |
/// | c6  | Thu 10:00 | abandoned  | not confirmed     | 1     | 1     | –     |        |
/// | c7  | Sun 23:59 | open       | no message yet    | 0     | 0     | –     |        |
/// | c8  | Sun before, 23:59, confirmed Mon 00:05: outside the cohort, in Monday's series |
/// | c9  | next Mon 00:00 (the period's `to`), confirmed 00:10: outside everything      |
fn conversations() -> Vec<ConversationFacts> {
    vec![
        ConversationFacts {
            outcome: Some(Outcome::Failed),
            first_message_at: None,
            turns: 2,
            ..conversation("c10", MON)
        },
        ordered("c1", at(0, 9, 0), minutes(0), minutes(10), 4, 1, false),
        ordered("c2", at(0, 10, 0), minutes(0), minutes(20), 6, 2, true),
        ordered("c3", at(1, 12, 0), minutes(0), minutes(30), 5, 0, false),
        ordered("c4", at(2, 8, 0), minutes(1), minutes(40), 3, 0, false),
        ConversationFacts {
            outcome: Some(Outcome::HandedOff),
            turns: 2,
            clarification_turns: 1,
            order_number: Some("GL-c5".into()),
            needs_manual_handling: true,
            ..conversation("c5", at(2, 15, 0))
        },
        ConversationFacts {
            outcome: Some(Outcome::Abandoned),
            turns: 1,
            clarification_turns: 1,
            ..conversation("c6", at(3, 10, 0))
        },
        ConversationFacts { first_message_at: None, ..conversation("c7", at(6, 23, 59)) },
        ordered("c8", at(-1, 23, 59), minutes(0), minutes(6), 3, 0, false),
        ordered("c9", at(7, 0, 0), minutes(0), minutes(10), 3, 0, false),
    ]
}

fn item(sku: &str, product: &str, reason: &str, decision: &str, quantity: u32) -> ReturnItemFacts {
    ReturnItemFacts {
        sku: sku.into(),
        product: product.into(),
        reason: reason.into(),
        decision: decision.into(),
        quantity,
    }
}

fn a_return(
    rma: &str,
    requested_at: OffsetDateTime,
    status: ReturnStatus,
    received_at: Option<OffsetDateTime>,
    completed_at: Option<OffsetDateTime>,
    items: Vec<ReturnItemFacts>,
) -> ReturnFacts {
    ReturnFacts { rma: rma.into(), requested_at, status, items, received_at, completed_at }
}

/// Returns of the fixture week.
///
/// | rma | requested      | status   | received  | completed      | req→done | rcpt→done |
/// |-----|----------------|----------|-----------|----------------|----------|-----------|
/// | r1  | Mon 10:00      | refunded | Wed 10:00 | Wed 16:00      | 54 h     | 6 h       |
/// | r2  | Tue 09:00      | refunded | Thu 09:00 | Fri 09:00      | 72 h     | 24 h      |
/// | r3  | Wed 12:00      | rejected | –         | –              |          |           |
/// | r4  | Feb 20 09:00   | credited | Mar 1 09:00 | Fri 21:00    | 372 h    | 156 h     |
/// | r5  | Thu 10:00      | received | Sat 10:00 | –              |          |           |
/// | r6  | Sat 10:00      | refunded | Sun 00:00 | next Mon 00:00 (the `to`: not this week) |
///
/// r4 was requested before the week (its items do not count) and completed in it (its
/// cycle time does). Feb 20 09:00 → Mar 7 21:00 is 15 d 12 h = 372 h; Mar 1 09:00 →
/// Mar 7 21:00 is 6 d 12 h = 156 h.
fn returns() -> Vec<ReturnFacts> {
    use ReturnStatus::*;
    vec![
        a_return(
            "r1",
            at(0, 10, 0),
            Refunded,
            Some(at(2, 10, 0)),
            Some(at(2, 16, 0)),
            vec![
                item("TEE", "Tee", "too_small", "approved", 2),
                item("SOCK", "Socks", "changed_mind", "approved", 1),
            ],
        ),
        a_return(
            "r2",
            at(1, 9, 0),
            Refunded,
            Some(at(3, 9, 0)),
            Some(at(4, 9, 0)),
            vec![
                item("TEE", "Tee", "too_small", "approved", 1),
                item("MUG", "Mug", "damaged", "in_review", 1),
            ],
        ),
        a_return(
            "r3",
            at(2, 12, 0),
            Rejected,
            None,
            None,
            vec![item("HOOD", "Hoodie", "changed_mind", "rejected", 3)],
        ),
        a_return(
            "r4",
            datetime!(2025-02-20 09:00 UTC),
            Credited,
            Some(datetime!(2025-03-01 09:00 UTC)),
            Some(at(4, 21, 0)),
            vec![item("TEE", "Tee", "too_small", "approved", 5)],
        ),
        a_return(
            "r5",
            at(3, 10, 0),
            Received,
            Some(at(5, 10, 0)),
            None,
            vec![item("MUG", "Mug", "damaged", "approved", 1)],
        ),
        a_return(
            "r6",
            at(5, 10, 0),
            Refunded,
            Some(at(6, 0, 0)),
            Some(at(7, 0, 0)),
            vec![item("SOCK", "Socks", "too_small", "approved", 2)],
        ),
    ]
}

fn fixture() -> Dashboard {
    dashboard(&conversations(), &returns(), week(), Bucketing::Day)
}

#[test]
fn the_fixture_week_starts_on_a_monday() {
    assert_eq!(MON.weekday(), Weekday::Monday);
}

#[test]
fn conversation_numbers_by_hand() {
    let dash = fixture();
    // Started in [Mon, next Mon): c10, c1..c7 = 8 (c8 before, c9 at `to`).
    assert_eq!(dash.conversations, 8);
    // Confirmed of those: c1..c4 → 4 of 8 = 50 %.
    assert_eq!(dash.conversion, Ratio::new(4, 8));
    assert_eq!(dash.conversion.percent(), Some(50.0));
    // Orders (an order number): c1..c5 = 5; manual: c2, c5 → 2 of 5 = 40 %.
    assert_eq!(dash.exception_rate, Ratio::new(2, 5));
    assert_eq!(dash.exception_rate.percent(), Some(40.0));
    // Handed off: c5 → 1 of 8 = 12.5 %.
    assert_eq!(dash.handoff_rate, Ratio::new(1, 8));
    assert_eq!(dash.handoff_rate.percent(), Some(12.5));
    // Clarifications 0+1+2+0+0+1+1+0 = 5 of turns 2+4+6+5+3+2+1+0 = 23.
    assert_eq!(dash.clarification_rate, Ratio::new(5, 23));
    // Intent → confirmation: [10, 20, 30, 40] min. Nearest rank: p50 is rank
    // ⌈0.5 × 4⌉ = 2 → 20 min, p90 rank ⌈0.9 × 4⌉ = 4 → 40 min. c8 is not in the cohort.
    assert_eq!(
        dash.intent_to_confirmation,
        DurationStats { count: 4, p50: Some(minutes(20)), p90: Some(minutes(40)) }
    );
}

#[test]
fn daily_series_by_hand() {
    let dash = fixture();
    let labels: Vec<String> = dash.buckets.iter().map(Bucket::label).collect();
    assert_eq!(
        labels,
        [
            "2025-03-03",
            "2025-03-04",
            "2025-03-05",
            "2025-03-06",
            "2025-03-07",
            "2025-03-08",
            "2025-03-09"
        ]
    );
    assert_eq!(dash.buckets[0].start, MON);
    assert_eq!(dash.buckets[6].end, MON + Duration::days(7));
    let started: Vec<u64> = dash.buckets.iter().map(|b| b.conversations_started).collect();
    // Mon c10 c1 c2, Tue c3, Wed c4 c5, Thu c6, Sun c7.
    assert_eq!(started, [3, 1, 2, 1, 0, 0, 1]);
    let confirmed: Vec<u64> = dash.buckets.iter().map(|b| b.orders_confirmed).collect();
    // Mon: c8 (started Sunday before) c1 c2; Tue c3; Wed c4 (08:41). c9 is next week.
    assert_eq!(confirmed, [3, 1, 1, 0, 0, 0, 0]);
}

#[test]
fn return_numbers_by_hand() {
    let dash = fixture();
    // Requested in the week: r1 r2 r3 r5 r6 (r4 in February).
    assert_eq!(dash.returns, 5);
    // Items 2+2+1+1+1 = 7; units 2+1 + 1+1 + 3 + 1 + 2 = 11.
    assert_eq!(dash.returned, Tally { items: 7, units: 11 });
    // too_small: r1 TEE 2, r2 TEE 1, r6 SOCK 2 → 3 items, 5 units.
    // changed_mind: r1 SOCK 1, r3 HOOD 3 → 2 items, 4 units.
    // damaged: r2 MUG 1, r5 MUG 1 → 2 items, 2 units.
    let reasons: Vec<(&str, u64, u64, Ratio)> = dash
        .by_reason
        .iter()
        .map(|r| (r.reason.as_str(), r.tally.items, r.tally.units, r.share))
        .collect();
    assert_eq!(
        reasons,
        [
            ("too_small", 3, 5, Ratio::new(5, 11)),
            ("changed_mind", 2, 4, Ratio::new(4, 11)),
            ("damaged", 2, 2, Ratio::new(2, 11)),
        ]
    );
    // Hoodie 1 item 3 units, Socks 2 items 3 units, Tee 2 items 3 units: a tie at 3
    // units, broken by name; then Mug 2 items 2 units.
    let products: Vec<(&str, &str, u64, u64)> = dash
        .by_product
        .iter()
        .map(|p| (p.product.as_str(), p.sku.as_str(), p.tally.items, p.tally.units))
        .collect();
    assert_eq!(
        products,
        [
            ("Hoodie", "HOOD", 1, 3),
            ("Socks", "SOCK", 2, 3),
            ("Tee", "TEE", 2, 3),
            ("Mug", "MUG", 2, 2)
        ]
    );
    let shares: u64 = dash.by_product.iter().map(|p| p.share.numerator).sum();
    assert_eq!(shares, 11);
    // Approved: r1 TEE 2, r1 SOCK 1, r2 TEE 1, r5 MUG 1, r6 SOCK 2 → 5 items, 7 units.
    assert_eq!(
        dash.decisions,
        DecisionSplit {
            approved: Tally { items: 5, units: 7 },
            rejected: Tally { items: 1, units: 3 },
            in_review: Tally { items: 1, units: 1 },
            other: Tally::default(),
        }
    );
    assert_eq!(dash.reason_bars()[0], ("too_small".to_owned(), 5));
    assert_eq!(dash.product_bars()[3], ("Mug".to_owned(), 2));
}

#[test]
fn refund_cycle_times_by_hand() {
    let dash = fixture();
    // Completed in the week: r1 (Wed), r2 (Fri 09:00), r4 (Fri 21:00); r6 at `to` is not.
    // Request → complete [54, 72, 372] h: p50 rank ⌈1.5⌉ = 2 → 72 h, p90 rank ⌈2.7⌉ = 3.
    // Receipt → complete [6, 24, 156] h: 24 h and 156 h.
    // Request → receipt [48, 48, 216] h (Feb 20 09:00 → Mar 1 09:00 is 9 days): the two
    // parts of each return add up to its whole cycle.
    assert_eq!(
        dash.refund_cycle,
        RefundCycle {
            completed: 3,
            request_to_complete: DurationStats {
                count: 3,
                p50: Some(hours(72)),
                p90: Some(hours(372))
            },
            request_to_receipt: DurationStats {
                count: 3,
                p50: Some(hours(48)),
                p90: Some(hours(216))
            },
            receipt_to_complete: DurationStats {
                count: 3,
                p50: Some(hours(24)),
                p90: Some(hours(156))
            },
        }
    );
    // Wednesday: r1 alone.
    let wednesday = dash.buckets[2].refunds;
    assert_eq!(wednesday.completed, 1);
    assert_eq!(wednesday.request_to_complete.p50, Some(hours(54)));
    assert_eq!(wednesday.request_to_complete.p90, Some(hours(54)));
    assert_eq!(wednesday.receipt_to_complete.p50, Some(hours(6)));
    // Friday: r2 and r4. [72, 372]: p50 rank ⌈1.0⌉ = 1 → 72 h, p90 rank ⌈1.8⌉ = 2 → 372 h.
    let friday = dash.buckets[4].refunds;
    assert_eq!(friday.completed, 2);
    assert_eq!(friday.request_to_complete.p50, Some(hours(72)));
    assert_eq!(friday.request_to_complete.p90, Some(hours(372)));
    assert_eq!(friday.receipt_to_complete.p50, Some(hours(24)));
    assert_eq!(friday.receipt_to_complete.p90, Some(hours(156)));
    for i in [0, 1, 3, 5, 6] {
        assert_eq!(dash.buckets[i].refunds, RefundCycle::default(), "bucket {i}");
    }
    // The series has gaps where nothing was completed.
    let series = dash.refund_cycle_series();
    assert_eq!(series.len(), 4);
    let p50: Vec<Option<f64>> = series[0].points.iter().map(|p| p.value).collect();
    assert_eq!(p50, [None, None, Some(54.0 * 3600.0), None, Some(72.0 * 3600.0), None, None]);
}

#[test]
fn the_cycle_time_code_agrees_with_returns_report() {
    // The same numbers through the returns module's own report.
    let cycles: Vec<CycleTime> = returns().iter().filter_map(cycle_time).collect();
    let report = report(&cycles, week().from, week().to);
    let refund_cycle = fixture().refund_cycle;
    assert_eq!(report.returns as u64, refund_cycle.completed);
    let (request, receipt) = (report.request_to_refund.unwrap(), report.receipt_to_refund.unwrap());
    assert_eq!(
        (Some(request.p50), Some(request.p90)),
        (refund_cycle.request_to_complete.p50, refund_cycle.request_to_complete.p90)
    );
    assert_eq!(
        (Some(receipt.p50), Some(receipt.p90)),
        (refund_cycle.receipt_to_complete.p50, refund_cycle.receipt_to_complete.p90)
    );
}

#[test]
fn weekly_buckets_start_on_monday_and_are_cut_to_the_period() {
    let period = Period { from: at(2, 12, 0), to: datetime!(2025-03-20 00:00 UTC) };
    let dash = dashboard(&conversations(), &returns(), period, Bucketing::Week);
    let bounds: Vec<(OffsetDateTime, OffsetDateTime)> =
        dash.buckets.iter().map(|b| (b.start, b.end)).collect();
    assert_eq!(
        bounds,
        [
            (at(2, 12, 0), datetime!(2025-03-10 00:00 UTC)),
            (datetime!(2025-03-10 00:00 UTC), datetime!(2025-03-17 00:00 UTC)),
            (datetime!(2025-03-17 00:00 UTC), datetime!(2025-03-20 00:00 UTC)),
        ]
    );
    assert_eq!(dash.buckets[0].label(), "2025-03-05");
    // Conversations count by the whole UTC day they started on, so a period from Wed
    // 12:00 holds all of Wednesday's: c4 (Wed 08:00) and c5 c6 c7 this week;
    // c9 (Mon 10th) the next.
    let started: Vec<u64> = dash.buckets.iter().map(|b| b.conversations_started).collect();
    assert_eq!(started, [4, 1, 0]);
    // r1 (Wed 16:00, after the 12:00 start), r2 and r4 (Fri) this week; r6 (Mon 10th
    // 00:00) the next.
    let completed: Vec<u64> = dash.buckets.iter().map(|b| b.refunds.completed).collect();
    assert_eq!(completed, [3, 1, 0]);
    assert_eq!(dash.refund_cycle.completed, 4);
}

#[test]
fn a_period_in_another_offset_is_the_same_instants() {
    let period =
        Period { from: datetime!(2025-03-03 01:00 +01:00), to: datetime!(2025-03-10 01:00 +01:00) };
    let shifted = dashboard(&conversations(), &returns(), period, Bucketing::Day);
    let fixture = fixture();
    assert_eq!(shifted.buckets, fixture.buckets);
    assert_eq!(shifted.conversion, fixture.conversion);
    assert_eq!(shifted.refund_cycle, fixture.refund_cycle);
}

#[test]
fn empty_input_gives_zeros_and_nones() {
    let dash = dashboard(&[], &[], week(), Bucketing::Day);
    assert_eq!(dash.conversations, 0);
    assert_eq!(dash.returns, 0);
    for ratio in [dash.conversion, dash.exception_rate, dash.handoff_rate, dash.clarification_rate]
    {
        assert_eq!(ratio, Ratio::new(0, 0));
        assert_eq!(ratio.percent(), None);
        assert_eq!(ratio.fraction(), None);
    }
    assert_eq!(dash.intent_to_confirmation, DurationStats::default());
    assert_eq!(dash.refund_cycle, RefundCycle::default());
    assert_eq!(dash.returned, Tally::default());
    assert!(dash.by_reason.is_empty() && dash.by_product.is_empty());
    assert_eq!(dash.decisions, DecisionSplit::default());
    assert_eq!(dash.buckets.len(), 7);
    assert!(dash.buckets.iter().all(|b| b.conversations_started == 0
        && b.orders_confirmed == 0
        && b.refunds == RefundCycle::default()));
    // The charts of an empty dashboard: zero lines are data, missing cycle times are not.
    assert!(!line_chart("Activity", &dash.activity_series(), YUnit::Count).contains(NO_DATA));
    assert!(line_chart("Refunds", &dash.refund_cycle_series(), YUnit::Duration).contains(NO_DATA));
    assert!(bar_chart("Reasons", &dash.reason_bars()).contains(NO_DATA));
}

#[test]
fn empty_and_backwards_periods_have_no_buckets() {
    for period in [Period { from: MON, to: MON }, Period { from: MON + hours(1), to: MON }] {
        let dash = dashboard(&conversations(), &returns(), period, Bucketing::Day);
        assert!(dash.buckets.is_empty());
        assert_eq!(dash.conversations, 0);
        assert_eq!(dash.refund_cycle.completed, 0);
        assert_eq!(dash.conversion.percent(), None);
        assert!(line_chart("Activity", &dash.activity_series(), YUnit::Count).contains(NO_DATA));
    }
}

#[test]
fn zero_denominators_only_where_nothing_was_counted() {
    // One conversation with no turns and no order.
    let only = [conversation("x", MON)];
    let dash = dashboard(&only, &[], week(), Bucketing::Day);
    assert_eq!(dash.conversion, Ratio::new(0, 1));
    assert_eq!(dash.conversion.percent(), Some(0.0));
    assert_eq!(dash.exception_rate.percent(), None);
    assert_eq!(dash.clarification_rate.percent(), None);
}

#[test]
fn contradictory_facts_do_not_bend_the_numbers() {
    let conversations = [
        // More clarifications than turns: counted as 3 of 3.
        ConversationFacts { turns: 3, clarification_turns: 9, ..conversation("a", MON) },
        // Confirmed before the first message: no lead time, still a conversion.
        ConversationFacts {
            first_message_at: Some(at(0, 10, 0)),
            confirmed_at: Some(at(0, 9, 0)),
            ..conversation("b", MON)
        },
        // Manual handling without an order: not an exception of an order.
        ConversationFacts { needs_manual_handling: true, ..conversation("c", MON) },
    ];
    let returns = [
        // Completed before it was received, and a completed status without times.
        a_return("x", MON, ReturnStatus::Refunded, Some(at(2, 0, 0)), Some(at(1, 0, 0)), vec![]),
        a_return("y", MON, ReturnStatus::Exchanged, None, Some(at(1, 0, 0)), vec![]),
        // Times of completion on a return that is not completed.
        a_return("z", MON, ReturnStatus::Received, Some(at(1, 0, 0)), Some(at(2, 0, 0)), vec![]),
        // An unknown decision text.
        a_return(
            "w",
            MON,
            ReturnStatus::Requested,
            None,
            None,
            vec![item("A", "A", "r", "maybe", 2)],
        ),
    ];
    let dash = dashboard(&conversations, &returns, week(), Bucketing::Day);
    assert_eq!(dash.clarification_rate, Ratio::new(3, 3));
    assert_eq!(dash.intent_to_confirmation, DurationStats::default());
    assert_eq!(dash.conversion, Ratio::new(1, 3));
    assert_eq!(dash.exception_rate, Ratio::new(0, 0));
    assert_eq!(dash.refund_cycle, RefundCycle::default());
    assert_eq!(dash.returns, 4);
    assert_eq!(dash.decisions.other, Tally { items: 1, units: 2 });
}

#[test]
fn long_periods_are_capped_and_the_calendar_ends_are_safe() {
    let long = Period { from: MON, to: MON + Duration::days(5000) };
    assert_eq!(dashboard(&[], &[], long, Bucketing::Day).buckets.len(), MAX_BUCKETS);
    assert_eq!(Bucketing::for_period(long), Bucketing::Week);
    assert_eq!(Bucketing::for_period(week()), Bucketing::Day);
    let sixty_two = Period { from: MON, to: MON + Duration::days(MAX_DAILY_DAYS) };
    assert_eq!(Bucketing::for_period(sixty_two), Bucketing::Day);

    let first = Date::MIN.midnight().assume_utc();
    let last = Date::MAX.with_hms(23, 59, 59).unwrap().assume_utc();
    let everything = Period { from: first, to: last };
    for bucketing in [Bucketing::Day, Bucketing::Week] {
        let dash = dashboard(&conversations(), &returns(), everything, bucketing);
        assert_eq!(dash.buckets.len(), MAX_BUCKETS);
        assert_eq!(dash.conversations, 10);
        let end = Period { from: last - Duration::days(10), to: last };
        let dash = dashboard(&[conversation("z", last - hours(1))], &[], end, bucketing);
        assert_eq!(dash.buckets.last().unwrap().end, last);
        assert_eq!(dash.buckets.iter().map(|b| b.conversations_started).sum::<u64>(), 1);
    }
}

#[test]
fn outcomes_and_ratios() {
    for outcome in Outcome::ALL {
        assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
    }
    assert_eq!(Outcome::HandedOff.to_string(), "handed_off");
    assert_eq!(Outcome::parse("HandedOff"), None);
    assert_eq!(Outcome::parse(""), None);
    assert_eq!(Ratio::new(12, 40).to_string(), "12 of 40");
    assert_eq!(Ratio::new(3, 5).percent(), Some(60.0));
    assert_eq!(Ratio::new(0, 0).percent(), None);
    assert_eq!(Ratio::new(u64::MAX, u64::MAX).fraction(), Some(1.0));
}

#[test]
fn formatting() {
    assert_eq!(format_duration(Duration::seconds(45)), "45 s");
    assert_eq!(format_duration(minutes(12)), "12 min");
    assert_eq!(format_duration(minutes(90)), "1.5 h");
    assert_eq!(format_duration(minutes(210)), "3.5 h");
    assert_eq!(format_duration(hours(47)), "47 h");
    assert_eq!(format_duration(hours(48)), "2 d");
    assert_eq!(format_duration(hours(60)), "2.5 d");
    assert_eq!(format_duration(Duration::ZERO), "0 s");
    assert_eq!(format_percent(12.5), "12.5 %");
    assert_eq!(format_percent(60.0), "60.0 %");
    assert_eq!(format_percent(f64::NAN), "–");
}

// --- Property ---------------------------------------------------------------------

fn any_time() -> impl Strategy<Value = OffsetDateTime> {
    // Two weeks around the fixture week, to the minute.
    (-7 * 24 * 60..14 * 24 * 60i64).prop_map(|m| MON + minutes(m))
}

fn any_conversation() -> impl Strategy<Value = ConversationFacts> {
    (
        any_time(),
        proptest::option::of(proptest::sample::select(Outcome::ALL.to_vec())),
        proptest::option::of(any_time()),
        proptest::option::of(any_time()),
        0..20u32,
        0..25u32,
        proptest::option::of("[A-Z]{2}"),
        any::<bool>(),
    )
        .prop_map(|(started_at, outcome, first, confirmed, turns, clar, order, manual)| {
            ConversationFacts {
                id: "p".into(),
                started_at,
                outcome,
                first_message_at: first,
                confirmed_at: confirmed,
                turns,
                clarification_turns: clar,
                order_number: order,
                needs_manual_handling: manual,
                payment: PaymentStatus::NotRequired,
            }
        })
}

fn any_return() -> impl Strategy<Value = ReturnFacts> {
    let any_item = (
        proptest::sample::select(vec!["A", "B", "C"]),
        proptest::sample::select(vec!["too_small", "damaged", "changed_mind"]),
        proptest::sample::select(vec!["approved", "rejected", "in_review", "?"]),
        0..5u32,
    )
        .prop_map(|(sku, reason, decision, quantity)| item(sku, sku, reason, decision, quantity));
    (
        any_time(),
        proptest::sample::select(ReturnStatus::ALL.to_vec()),
        proptest::collection::vec(any_item, 0..4),
        proptest::option::of(any_time()),
        proptest::option::of(any_time()),
    )
        .prop_map(|(requested_at, status, items, received_at, completed_at)| {
            a_return("p", requested_at, status, received_at, completed_at, items)
        })
}

fn stats_hold(stats: DurationStats) -> Result<(), TestCaseError> {
    prop_assert_eq!(stats.p50.is_some(), stats.count > 0);
    prop_assert_eq!(stats.p90.is_some(), stats.count > 0);
    if let (Some(p50), Some(p90)) = (stats.p50, stats.p90) {
        prop_assert!(Duration::ZERO <= p50 && p50 <= p90, "{:?}", stats);
    }
    Ok(())
}

proptest! {
    #[test]
    fn ratios_are_fractions_and_p50_is_at_most_p90(
        conversations in proptest::collection::vec(any_conversation(), 0..30),
        returns in proptest::collection::vec(any_return(), 0..30),
        weekly in any::<bool>(),
        days in 0..10i64,
    ) {
        let period = Period { from: MON, to: MON + Duration::days(days) };
        let bucketing = if weekly { Bucketing::Week } else { Bucketing::Day };
        let dash = dashboard(&conversations, &returns, period, bucketing);
        let shares = dash.by_reason.iter().map(|r| r.share).chain(dash.by_product.iter().map(|p| p.share));
        for ratio in [dash.conversion, dash.exception_rate, dash.handoff_rate, dash.clarification_rate]
            .into_iter()
            .chain(shares)
        {
            prop_assert!(ratio.numerator <= ratio.denominator, "{:?}", ratio);
            match ratio.fraction() {
                Some(f) => prop_assert!((0.0..=1.0).contains(&f), "{:?}", ratio),
                None => prop_assert_eq!(ratio.denominator, 0),
            }
        }
        stats_hold(dash.intent_to_confirmation)?;
        stats_hold(dash.refund_cycle.request_to_complete)?;
        stats_hold(dash.refund_cycle.receipt_to_complete)?;
        for bucket in &dash.buckets {
            stats_hold(bucket.refunds.request_to_complete)?;
            stats_hold(bucket.refunds.receipt_to_complete)?;
            prop_assert!(bucket.start < bucket.end);
        }
        // The buckets partition the period.
        let started: u64 = dash.buckets.iter().map(|b| b.conversations_started).sum();
        prop_assert_eq!(started, dash.conversations);
        let completed: u64 = dash.buckets.iter().map(|b| b.refunds.completed).sum();
        prop_assert_eq!(completed, dash.refund_cycle.completed);
        let units: u64 = dash.by_reason.iter().map(|r| r.tally.units).sum();
        prop_assert_eq!(units, dash.returned.units);
        let d = dash.decisions;
        prop_assert_eq!(d.approved.items + d.rejected.items + d.in_review.items + d.other.items, dash.returned.items);
        // Charts of whatever came out are well formed.
        check_svg(&line_chart("Activity", &dash.activity_series(), YUnit::Count)).map_err(TestCaseError::fail)?;
        check_svg(&line_chart("Refunds", &dash.refund_cycle_series(), YUnit::Duration)).map_err(TestCaseError::fail)?;
        check_svg(&bar_chart("Products", &dash.product_bars())).map_err(TestCaseError::fail)?;
    }
}

// --- SVG --------------------------------------------------------------------------

/// A small well-formedness check: one `<svg>` root, every tag closed in order,
/// attributes quoted, and every `&` the start of one of the five XML entities.
fn check_svg(svg: &str) -> Result<(), String> {
    if !svg.starts_with("<svg ") || !svg.ends_with("</svg>") {
        return Err(format!("not one svg element: {svg}"));
    }
    if svg.matches("<svg").count() != 1 || svg.matches("</svg>").count() != 1 {
        return Err("more than one svg element".into());
    }
    for (i, _) in svg.match_indices('&') {
        let rest = &svg[i..];
        if !["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].iter().any(|e| rest.starts_with(e)) {
            return Err(format!("bare & at {i}: {}", &rest[..rest.len().min(20)]));
        }
    }
    for bad in ["NaN", "inf", "<script", "javascript:", "href", "http://", "https://"] {
        let without_ns = svg.replace(r#"xmlns="http://www.w3.org/2000/svg""#, "");
        if without_ns.contains(bad) {
            return Err(format!("contains {bad}"));
        }
    }
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = svg;
    while let Some(open) = rest.find('<') {
        if rest[..open].contains('>') {
            return Err("a > outside a tag".into());
        }
        let close = rest[open..].find('>').ok_or("unclosed <")? + open;
        let tag = &rest[open + 1..close];
        if tag.contains('<') {
            return Err(format!("< inside a tag: {tag}"));
        }
        if !tag.matches('"').count().is_multiple_of(2) {
            return Err(format!("unbalanced quotes: {tag}"));
        }
        if let Some(name) = tag.strip_prefix('/') {
            match stack.pop() {
                Some(open_name) if open_name == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
        } else if !tag.ends_with('/') {
            stack.push(tag.split_whitespace().next().unwrap_or(""));
        }
        rest = &rest[close + 1..];
        if stack.is_empty() && !rest.is_empty() {
            return Err("content after the root".into());
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed {stack:?}"));
    }
    Ok(())
}

fn points(values: &[Option<f64>]) -> Vec<Point> {
    values
        .iter()
        .enumerate()
        .map(|(i, value)| Point { label: format!("2025-03-{:02}", i + 1), value: *value })
        .collect()
}

fn series(name: &str, values: &[Option<f64>]) -> Series {
    Series { name: name.into(), points: points(values) }
}

fn assert_accessible(svg: &str) {
    check_svg(svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
    assert!(svg.contains(r#"role="img""#));
    assert!(svg.contains(r#"viewBox="0 0 640 240""#));
    assert!(svg.contains(r#"width="100%""#));
    assert!(svg.contains("<title id=\"chart-") && svg.contains("<desc id=\"chart-"));
    assert!(svg.contains("aria-labelledby=\"chart-"));
}

#[test]
fn the_checker_catches_broken_svg() {
    assert!(check_svg(r#"<svg a="1"><g></svg>"#).is_err());
    assert!(check_svg(r#"<svg a="1"><text>a & b</text></svg>"#).is_err());
    assert!(check_svg(r#"<svg a="1"></svg><svg></svg>"#).is_err());
    assert!(check_svg(r#"<svg a="1><text/></svg>"#).is_err());
    assert!(check_svg(r#"<svg a="1"><text>&amp;</text><g/></svg>"#).is_ok());
}

#[test]
fn a_line_chart_of_the_fixture() {
    let dash = fixture();
    let svg = line_chart("Conversations & orders", &dash.activity_series(), YUnit::Count);
    assert_accessible(&svg);
    assert!(
        svg.contains("<title id=\"chart-") && svg.contains(">Conversations &amp; orders</title>")
    );
    assert!(svg.contains(
        "From 2025-03-03 to 2025-03-09. Conversations started: total 8; highest 3 (2025-03-03); \
         lowest 0 (2025-03-07); latest 1 (2025-03-09). Orders confirmed: total 5; highest 3 \
         (2025-03-03); lowest 0 (2025-03-06); latest 0 (2025-03-09)."
    ));
    // Two lines, the second dashed; a marker with a tooltip per point (7 ≤ 40).
    assert_eq!(svg.matches("<path class=\"chart-line").count(), 2);
    assert_eq!(svg.matches("stroke-dasharray=\"6 3\"").count(), 2, "legend and line");
    assert_eq!(svg.matches("<circle").count(), 14);
    assert!(svg.contains("<title>Orders confirmed, 2025-03-03: 3</title>"));
    // y axis 0..3 by 1.
    for tick in ["0", "1", "2", "3"] {
        assert!(svg.contains(&format!("fill=\"currentColor\">{tick}</text>")), "{tick}");
    }
    assert_eq!(svg, line_chart("Conversations & orders", &dash.activity_series(), YUnit::Count));
}

#[test]
fn a_duration_chart_uses_one_unit_and_breaks_at_gaps() {
    let svg = line_chart("Refund cycle", &fixture().refund_cycle_series(), YUnit::Duration);
    assert_accessible(&svg);
    // The largest value is 372 h = 15.5 d: ticks 0, 5, 10, 15, 20 d.
    for tick in ["0 d", "5 d", "10 d", "15 d", "20 d"] {
        assert!(svg.contains(&format!(">{tick}</text>")), "{tick}\n{svg}");
    }
    assert!(svg.contains("Request → complete p90: highest 15.5 d (2025-03-07)"), "{svg}");
    // Wednesday and Friday are not neighbours: each is an isolated point, two path moves.
    assert!(svg.contains(r#"d="M"#));
    assert!(!svg.contains(" L"), "no segment joins points across a gap");
    assert!(svg.contains(" M"));
}

#[test]
fn a_percent_chart() {
    let svg = line_chart(
        "Conversion",
        &[series("Conversion", &[Some(50.0), Some(12.5)])],
        YUnit::Percent,
    );
    assert_accessible(&svg);
    assert!(svg.contains("highest 50.0 % (2025-03-01); lowest 12.5 % (2025-03-02)"));
    for tick in ["0 %", "20 %", "40 %", "60 %"] {
        assert!(svg.contains(&format!(">{tick}</text>")), "{tick}");
    }
}

#[test]
fn labels_are_escaped_everywhere() {
    let evil = r#"<script>alert("x")</script> & 'co'"#;
    let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;co&apos;";
    let mut line = series(evil, &[Some(1.0), Some(2.0)]);
    line.points[0].label = evil.into();
    let svg = line_chart(evil, &[line], YUnit::Count);
    assert_accessible(&svg);
    assert!(!svg.contains("<script"));
    assert!(svg.contains(escaped));
    let bars = bar_chart(evil, &[(evil.to_owned(), 3), ("b\u{0}\u{7}".to_owned(), 1)]);
    assert_accessible(&bars);
    assert!(!bars.contains("<script") && bars.contains("&lt;script&gt;"));
    assert!(!bars.contains('\u{0}') && bars.contains("b\u{FFFD}\u{FFFD}"));
}

#[test]
fn empty_charts_say_so() {
    let nothing: [Series; 0] = [];
    let cases = [
        line_chart("Activity", &nothing, YUnit::Count),
        line_chart("Activity", &[series("a", &[])], YUnit::Count),
        line_chart("Refunds", &[series("a", &[None, None])], YUnit::Duration),
        line_chart("Odd", &[series("a", &[Some(f64::NAN), Some(f64::INFINITY)])], YUnit::Percent),
        bar_chart("Reasons", &[]),
    ];
    for svg in cases {
        assert_accessible(&svg);
        assert!(
            svg.contains("<desc id=\"chart-") && svg.contains("\">No data in this period.</desc>")
        );
        assert!(svg.contains(">No data in this period</text>"));
    }
}

#[test]
fn odd_values_draw_without_nan() {
    let svg = line_chart(
        "Odd",
        &[series("a", &[Some(f64::NAN), Some(0.0), Some(-3.0), None, Some(0.0)])],
        YUnit::Count,
    );
    assert_accessible(&svg);
    // One point, then a gap, then another: a path with two moves, both drawn as markers.
    assert_eq!(svg.matches("<circle").count(), 3);
    let single = line_chart("One", &[series("a", &[Some(7.0)])], YUnit::Percent);
    assert_accessible(&single);
    assert!(single.contains("<circle") && single.contains("2025-03-01. a: highest 7.0 %"));
}

#[test]
fn long_series_mark_only_isolated_points_and_thin_the_x_labels() {
    let mut values: Vec<Option<f64>> = (0..100).map(|i| Some(f64::from(i % 10))).collect();
    values[50] = None;
    values[52] = None;
    let svg = line_chart("Long", &[series("a", &values)], YUnit::Count);
    assert_accessible(&svg);
    assert_eq!(svg.matches("<circle").count(), 1, "only point 51 stands alone");
    assert!(svg.matches("chart-x-label").count() <= 7);
}

#[test]
fn a_bar_chart_of_the_fixture_and_a_long_one() {
    let svg = bar_chart("Returned units by product", &fixture().product_bars());
    assert_accessible(&svg);
    assert!(svg.contains("4 bars, 11 in total: Hoodie 3; Socks 3; Tee 3; Mug 2."));
    assert_eq!(svg.matches("<rect").count(), 4);
    assert!(svg.contains("<title>Hoodie: 3</title>"));

    let many: Vec<(String, u64)> = (0..25).map(|i| (format!("p{i:02}"), 30 - i)).collect();
    let svg = bar_chart("Many", &many);
    assert_accessible(&svg);
    assert_eq!(svg.matches("<rect").count(), 8);
    // 17 not drawn: 22 + 21 + … + 6 = 17 × 14 = 238.
    assert!(svg.contains(">17 more: 238</text>"));
    assert!(svg.contains("p19 11; and 5 more."));

    let zeros = bar_chart("Zeros", &[("a".into(), 0), ("b".into(), 0)]);
    assert_accessible(&zeros);
    assert!(zeros.contains(r#"width="0.0""#));
}

#[test]
fn paid_conversion_counts_confirmed_orders_that_asked_for_a_payment() {
    let paid = |id: &str, payment: PaymentStatus| ConversationFacts {
        payment,
        ..ordered(id, at(1, 9, 0), minutes(1), minutes(5), 3, 0, false)
    };
    let facts = vec![
        paid("a", PaymentStatus::Paid),
        paid("b", PaymentStatus::PartiallyRefunded),
        paid("c", PaymentStatus::Pending),
        paid("d", PaymentStatus::Expired),
        // Confirmed without a provider: not in the count.
        paid("e", PaymentStatus::NotRequired),
        // A payment status without a confirmation cannot happen; it is not counted.
        ConversationFacts { payment: PaymentStatus::Paid, ..conversation("f", at(1, 9, 0)) },
        // Started before the period: another cohort.
        ConversationFacts { started_at: at(-1, 9, 0), ..paid("g", PaymentStatus::Paid) },
    ];
    let dash = dashboard(&facts, &[], week(), Bucketing::Day);
    assert_eq!(dash.paid_conversion, Ratio::new(2, 4));
    let unpaid = dashboard(&facts[4..5], &[], week(), Bucketing::Day);
    assert_eq!(unpaid.paid_conversion, Ratio::new(0, 0));
}
