//! The decision engine, rule by rule and in combination, against the demo policy
//! (30 days, ceiling 20000, 3 returns in 30 days, `damaged` reviewed, 10% fee on
//! `changed_mind`) and a fixed clock.

use proptest::prelude::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::money::Money;
use crate::sku::Sku;

const DEMO_POLICY: &str = include_str!("../../../../demo/return-policy.json");

const CONFIRMED: OffsetDateTime = datetime!(2025-03-01 10:00 UTC);
const DELIVERED: OffsetDateTime = datetime!(2025-03-04 15:30 UTC);

fn policy() -> ReturnPolicy {
    ReturnPolicy::from_json(DEMO_POLICY).unwrap()
}

fn policy_without(resolution: Resolution) -> ReturnPolicy {
    let mut policy = policy();
    policy.resolutions.retain(|offered| *offered != resolution);
    policy
}

fn line(sku: &str, quantity: u32, unit_price: i64) -> BoughtLine {
    BoughtLine {
        sku: Sku::parse(sku).unwrap(),
        name: sku.to_lowercase(),
        quantity,
        unit_price: Money(unit_price),
        final_sale: false,
        return_days: None,
        already_requested: 0,
    }
}

// Line indexes in `lines()`.
const TEE: usize = 0;
const RAIN_JACKET: usize = 1;
const HEADLAMP: usize = 2;
const TENT: usize = 3;
const SOCKS: usize = 4;
const MUG: usize = 5;
const FLEECE: usize = 6;

fn lines() -> Vec<BoughtLine> {
    vec![
        line("TEE", 2, 2500),
        BoughtLine { final_sale: true, ..line("RAIN-JACKET", 1, 12000) },
        BoughtLine { return_days: Some(90), ..line("HEADLAMP", 1, 4500) },
        line("TENT-2P", 1, 30000),
        BoughtLine { already_requested: 3, ..line("SOCKS", 3, 1800) },
        BoughtLine { already_requested: 1, ..line("MUG", 4, 1500) },
        line("FLEECE", 2, 10000),
    ]
}

fn delivered() -> OrderDates {
    OrderDates {
        confirmed_at: CONFIRMED,
        delivered_at: Some(DELIVERED),
        cancelled: false,
        unpaid: false,
    }
}

fn undelivered() -> OrderDates {
    OrderDates { confirmed_at: CONFIRMED, delivered_at: None, cancelled: false, unpaid: false }
}

fn days_after_delivery(days: i64) -> OffsetDateTime {
    DELIVERED + Duration::days(days)
}

/// Request items as `(line, quantity, reason)`.
type Items = &'static [(usize, i64, &'static str)];

fn request(items: &[(usize, i64, &str)], resolution: Resolution) -> ReturnRequest {
    ReturnRequest {
        items: items
            .iter()
            .map(|(line, quantity, reason)| RequestedItem {
                line: *line,
                quantity: *quantity,
                reason: (*reason).to_owned(),
                comment: None,
                exchange: None,
            })
            .collect(),
        resolution,
    }
}

/// One table row: everything that varies between the rule tests.
struct Case {
    name: &'static str,
    items: Items,
    resolution: Resolution,
    policy: fn() -> ReturnPolicy,
    dates: fn() -> OrderDates,
    now: OffsetDateTime,
    recent_returns: u32,
    expected: &'static [RuleId],
}

const BASE: Case = Case {
    name: "",
    items: &[],
    resolution: Resolution::Refund,
    policy,
    dates: delivered,
    now: datetime!(2025-03-14 15:30 UTC),
    recent_returns: 0,
    expected: &[],
};

fn no_exchange() -> ReturnPolicy {
    policy_without(Resolution::Exchange)
}

#[test]
fn each_rule_decides_on_its_own() {
    use RuleId::*;
    let cases = [
        Case {
            name: "a plain return",
            items: &[(TEE, 1, "too_small")],
            expected: &[Approved],
            ..BASE
        },
        Case { name: "every unit", items: &[(TEE, 2, "too_large")], expected: &[Approved], ..BASE },
        Case {
            name: "final sale",
            items: &[(RAIN_JACKET, 1, "too_small")],
            expected: &[FinalSale],
            ..BASE
        },
        Case {
            name: "a day after the window",
            items: &[(TEE, 1, "too_small")],
            now: datetime!(2025-04-04 15:30:01 UTC),
            expected: &[WindowClosed],
            ..BASE
        },
        Case {
            name: "the window's last instant",
            items: &[(TEE, 1, "too_small")],
            now: datetime!(2025-04-03 15:30 UTC),
            expected: &[Approved],
            ..BASE
        },
        Case {
            name: "one second late",
            items: &[(TEE, 1, "too_small")],
            now: datetime!(2025-04-03 15:30:01 UTC),
            expected: &[WindowClosed],
            ..BASE
        },
        Case {
            name: "the product's own window is longer",
            items: &[(HEADLAMP, 1, "too_small")],
            now: datetime!(2025-05-20 00:00 UTC),
            expected: &[Approved],
            ..BASE
        },
        Case {
            name: "the product's own window has closed too",
            items: &[(HEADLAMP, 1, "too_small")],
            now: datetime!(2025-06-03 00:00 UTC),
            expected: &[WindowClosed],
            ..BASE
        },
        Case {
            name: "without delivery the window counts from confirmation",
            items: &[(TEE, 1, "too_small")],
            dates: undelivered,
            now: datetime!(2025-04-01 10:00 UTC),
            expected: &[WindowClosed],
            ..BASE
        },
        Case {
            name: "with delivery the same day is still open",
            items: &[(TEE, 1, "too_small")],
            now: datetime!(2025-04-01 10:00 UTC),
            expected: &[Approved],
            ..BASE
        },
        Case {
            name: "all returned",
            items: &[(SOCKS, 1, "too_small")],
            expected: &[AlreadyReturned],
            ..BASE
        },
        Case {
            name: "more than bought",
            items: &[(TEE, 3, "too_small")],
            expected: &[QuantityExceeded],
            ..BASE
        },
        Case {
            name: "more than is left",
            items: &[(MUG, 4, "too_small")],
            expected: &[QuantityExceeded],
            ..BASE
        },
        Case {
            name: "all that is left",
            items: &[(MUG, 3, "too_small")],
            expected: &[Approved],
            ..BASE
        },
        Case {
            name: "a resolution the shop does not offer",
            items: &[(TEE, 1, "too_small")],
            resolution: Resolution::Exchange,
            policy: no_exchange,
            expected: &[ResolutionNotAllowed],
            ..BASE
        },
        Case {
            name: "an offered resolution",
            items: &[(TEE, 1, "too_small")],
            resolution: Resolution::StoreCredit,
            policy: no_exchange,
            expected: &[Approved],
            ..BASE
        },
        Case { name: "damaged", items: &[(TEE, 1, "damaged")], expected: &[ReviewReason], ..BASE },
        Case {
            name: "over the ceiling",
            items: &[(TENT, 1, "too_small")],
            expected: &[OverCeiling],
            ..BASE
        },
        Case {
            name: "exactly the ceiling",
            items: &[(FLEECE, 2, "too_small")],
            expected: &[Approved],
            ..BASE
        },
        Case {
            name: "the ceiling is per request, not per item",
            items: &[(FLEECE, 2, "too_small"), (TEE, 1, "too_small")],
            expected: &[OverCeiling, OverCeiling],
            ..BASE
        },
        Case {
            name: "the limit reached",
            items: &[(TEE, 1, "too_small")],
            recent_returns: 3,
            expected: &[CustomerLimit],
            ..BASE
        },
        Case {
            name: "just under the limit",
            items: &[(TEE, 1, "too_small")],
            recent_returns: 2,
            expected: &[Approved],
            ..BASE
        },
    ];
    run(&cases);
}

#[test]
fn the_first_rule_that_applies_decides() {
    use RuleId::*;
    let cases = [
        Case {
            name: "final sale before a closed window",
            items: &[(RAIN_JACKET, 1, "too_small")],
            now: datetime!(2026-01-01 00:00 UTC),
            expected: &[FinalSale],
            ..BASE
        },
        Case {
            name: "a closed window before already returned",
            items: &[(SOCKS, 1, "too_small")],
            now: datetime!(2026-01-01 00:00 UTC),
            expected: &[WindowClosed],
            ..BASE
        },
        Case {
            name: "already returned before too many",
            items: &[(SOCKS, 5, "too_small")],
            expected: &[AlreadyReturned],
            ..BASE
        },
        Case {
            name: "the item's own problem before the resolution",
            items: &[(RAIN_JACKET, 1, "too_small"), (MUG, 9, "too_small"), (TEE, 1, "too_small")],
            resolution: Resolution::Exchange,
            policy: no_exchange,
            expected: &[FinalSale, QuantityExceeded, ResolutionNotAllowed],
            ..BASE
        },
        Case {
            name: "rejections before reviews",
            items: &[(RAIN_JACKET, 1, "damaged"), (MUG, 4, "damaged")],
            recent_returns: 10,
            expected: &[FinalSale, QuantityExceeded],
            ..BASE
        },
        Case {
            name: "a resolution refused before a review reason",
            items: &[(TEE, 1, "damaged")],
            resolution: Resolution::Exchange,
            policy: no_exchange,
            expected: &[ResolutionNotAllowed],
            ..BASE
        },
        Case {
            name: "the review reason before the ceiling and the limit",
            items: &[(TENT, 1, "damaged"), (TEE, 1, "too_small")],
            recent_returns: 3,
            expected: &[ReviewReason, OverCeiling],
            ..BASE
        },
        Case {
            name: "the ceiling before the limit",
            items: &[(TENT, 1, "too_small")],
            recent_returns: 3,
            expected: &[OverCeiling],
            ..BASE
        },
        Case {
            name: "rejected items do not count towards the ceiling",
            items: &[(RAIN_JACKET, 1, "too_small"), (FLEECE, 2, "too_small")],
            expected: &[FinalSale, Approved],
            ..BASE
        },
        Case {
            name: "reviewed items do count towards the ceiling",
            items: &[(FLEECE, 2, "damaged"), (TEE, 1, "too_small")],
            expected: &[ReviewReason, OverCeiling],
            ..BASE
        },
        Case {
            name: "a mixed request",
            items: &[
                (TEE, 1, "changed_mind"),
                (RAIN_JACKET, 1, "too_small"),
                (HEADLAMP, 1, "damaged"),
            ],
            recent_returns: 1,
            expected: &[Approved, FinalSale, ReviewReason],
            ..BASE
        },
    ];
    run(&cases);
}

fn run(cases: &[Case]) {
    for case in cases {
        let decision = decide(
            &(case.policy)(),
            &lines(),
            &(case.dates)(),
            case.recent_returns,
            case.now,
            &request(case.items, case.resolution),
        )
        .unwrap_or_else(|error| panic!("{}: {error}", case.name));
        let rules: Vec<RuleId> = decision.items.iter().map(|item| item.decision.rule).collect();
        assert_eq!(rules, case.expected, "{}", case.name);
        for item in &decision.items {
            assert_eq!(item.decision.outcome, item.decision.rule.outcome(), "{}", case.name);
            assert!(!item.decision.message.is_empty(), "{}", case.name);
        }
    }
}

fn decide_now(items: &[(usize, i64, &str)]) -> ReturnDecision {
    decide(
        &policy(),
        &lines(),
        &delivered(),
        0,
        days_after_delivery(10),
        &request(items, Resolution::Refund),
    )
    .unwrap()
}

fn message(decision: &ReturnDecision, item: usize) -> &str {
    &decision.items[item].decision.message
}

#[test]
fn customers_are_told_why_in_plain_words() {
    let decision = decide_now(&[
        (RAIN_JACKET, 1, "too_small"),
        (SOCKS, 1, "too_small"),
        (MUG, 4, "too_small"),
        (TEE, 3, "too_small"),
        (HEADLAMP, 1, "damaged"),
    ]);
    assert_eq!(
        message(&decision, 0),
        "This item was a final-sale purchase and cannot be returned."
    );
    assert_eq!(
        message(&decision, 1),
        "All units of this item have already been returned or are part of an open return."
    );
    assert_eq!(
        message(&decision, 2),
        "You asked to return 4 units of this item, but only 3 units can be returned: you bought 4 units and 1 is already returned or part of an open return."
    );
    assert_eq!(
        message(&decision, 3),
        "You asked to return 3 units of this item, but only 2 units can be returned: you bought 2 units."
    );
    assert!(
        message(&decision, 4).contains("\u{201c}Arrived damaged\u{201d} are checked by our team")
    );

    let late = decide(
        &policy(),
        &lines(),
        &delivered(),
        0,
        days_after_delivery(45),
        &request(&[(TEE, 1, "too_small")], Resolution::Refund),
    )
    .unwrap();
    assert_eq!(
        message(&late, 0),
        "The 30-day return window for this item (counted from delivery) closed on 2025-04-03."
    );
    let unconfirmed = decide(
        &policy(),
        &lines(),
        &undelivered(),
        0,
        days_after_delivery(95),
        &request(&[(HEADLAMP, 1, "too_small")], Resolution::Refund),
    )
    .unwrap();
    assert_eq!(
        message(&unconfirmed, 0),
        "The 90-day return window for this item (counted from when your order was confirmed) closed on 2025-05-30."
    );

    let exchange = decide(
        &no_exchange(),
        &lines(),
        &delivered(),
        0,
        days_after_delivery(1),
        &request(&[(TEE, 1, "too_small")], Resolution::Exchange),
    )
    .unwrap();
    assert_eq!(
        message(&exchange, 0),
        "This shop does not offer an exchange for returns; please choose a refund or store credit instead."
    );
    let limited = decide(
        &policy(),
        &lines(),
        &delivered(),
        5,
        days_after_delivery(1),
        &request(&[(TEE, 1, "too_small")], Resolution::Refund),
    )
    .unwrap();
    assert!(message(&limited, 0).starts_with("You have made 5 returns in the last 30 days"));
}

#[test]
fn restocking_fees_follow_the_reason_and_round_down() {
    let mut order = lines();
    order[TEE].unit_price = Money(1999);
    let decision = decide(
        &policy(),
        &order,
        &delivered(),
        0,
        days_after_delivery(1),
        &request(
            &[
                (TEE, 1, "changed_mind"),
                (FLEECE, 1, "changed_mind"),
                (RAIN_JACKET, 1, "changed_mind"),
                (MUG, 1, "too_small"),
            ],
            Resolution::Refund,
        ),
    )
    .unwrap();
    let fees: Vec<(Money, Money)> =
        decision.items.iter().map(|item| (item.value, item.restocking_fee)).collect();
    assert_eq!(
        fees,
        [
            (Money(1999), Money(199)),
            (Money(10000), Money(1000)),
            // Rejected: nothing comes back, so nothing is kept back.
            (Money(12000), Money::ZERO),
            (Money(1500), Money::ZERO),
        ]
    );
    assert_eq!(
        message(&decision, 0),
        "Approved. A restocking fee of 10% applies to returns for this reason."
    );
    assert!(!message(&decision, 2).contains("restocking"));
}

#[test]
fn the_return_takes_the_most_cautious_outcome() {
    let cases: [(Items, Outcome); 5] = [
        (&[(TEE, 1, "too_small")], Outcome::Approved),
        (&[(TEE, 1, "too_small"), (RAIN_JACKET, 1, "too_small")], Outcome::Approved),
        (&[(TEE, 1, "too_small"), (HEADLAMP, 1, "damaged")], Outcome::InReview),
        (&[(RAIN_JACKET, 1, "too_small"), (HEADLAMP, 1, "damaged")], Outcome::InReview),
        (&[(RAIN_JACKET, 1, "too_small"), (SOCKS, 1, "too_small")], Outcome::Rejected),
    ];
    for (items, expected) in cases {
        let decision = decide_now(items);
        assert_eq!(decision.outcome(), expected, "{items:?}");
        assert_eq!(ReturnStatus::from(decision.outcome()).as_str(), expected.as_str());
    }
    let decision =
        decide_now(&[(TEE, 2, "too_small"), (RAIN_JACKET, 1, "too_small"), (MUG, 2, "damaged")]);
    assert_eq!(decision.claimed_units().collect::<Vec<_>>(), [(TEE, 2), (MUG, 2)]);
}

#[test]
fn request_level_errors() {
    let long = "x".repeat(MAX_COMMENT_CHARS + 1);
    let with_comment = |comment: &str| ReturnRequest {
        items: vec![RequestedItem {
            line: TEE,
            quantity: 1,
            reason: "too_small".into(),
            comment: Some(comment.to_owned()),
            exchange: None,
        }],
        resolution: Resolution::Refund,
    };
    let too_many = ReturnRequest {
        items: (0..51)
            .map(|line| RequestedItem {
                line,
                quantity: 1,
                reason: "too_small".into(),
                comment: None,
                exchange: None,
            })
            .collect(),
        resolution: Resolution::Refund,
    };
    let cases: Vec<(ReturnRequest, RequestError, &str)> = vec![
        (request(&[], Resolution::Refund), RequestError::NoItems, "no_items"),
        (too_many, RequestError::TooManyItems { items: 51, max: 50 }, "too_many_items"),
        (
            request(&[(7, 1, "too_small")], Resolution::Refund),
            RequestError::UnknownLine { item: 0, line: 7, lines: 7 },
            "unknown_line",
        ),
        (
            request(
                &[(TEE, 1, "too_small"), (MUG, 1, "too_small"), (TEE, 1, "damaged")],
                Resolution::Refund,
            ),
            RequestError::DuplicateLine { item: 2, line: TEE, first: 0 },
            "duplicate_line",
        ),
        (
            request(&[(TEE, 0, "too_small")], Resolution::Refund),
            RequestError::Quantity { item: 0, quantity: 0 },
            "invalid_quantity",
        ),
        (
            request(&[(TEE, -2, "too_small")], Resolution::Refund),
            RequestError::Quantity { item: 0, quantity: -2 },
            "invalid_quantity",
        ),
        (
            request(&[(TEE, 10_001, "too_small")], Resolution::Refund),
            RequestError::Quantity { item: 0, quantity: 10_001 },
            "invalid_quantity",
        ),
        (
            request(&[(TEE, i64::MAX, "too_small")], Resolution::Refund),
            RequestError::Quantity { item: 0, quantity: i64::MAX },
            "invalid_quantity",
        ),
        (
            request(&[(TEE, 1, "too_small"), (MUG, 1, "broken")], Resolution::Refund),
            RequestError::UnknownReason {
                item: 1,
                reason: "broken".into(),
                known: "too_small, too_large, changed_mind, not_as_described, damaged, wrong_item"
                    .into(),
            },
            "unknown_reason",
        ),
        (
            request(&[(TEE, 1, "")], Resolution::Refund),
            RequestError::UnknownReason {
                item: 0,
                reason: String::new(),
                known: "too_small, too_large, changed_mind, not_as_described, damaged, wrong_item"
                    .into(),
            },
            "unknown_reason",
        ),
        (
            with_comment(&long),
            RequestError::CommentTooLong { item: 0, chars: MAX_COMMENT_CHARS + 1 },
            "comment_too_long",
        ),
        (
            // The first problem in item order wins.
            request(&[(TEE, 0, "broken"), (99, 1, "too_small")], Resolution::Refund),
            RequestError::Quantity { item: 0, quantity: 0 },
            "invalid_quantity",
        ),
    ];
    for (request, expected, code) in cases {
        let error = decide(&policy(), &lines(), &delivered(), 0, days_after_delivery(1), &request)
            .expect_err(code);
        assert_eq!(error, expected);
        assert_eq!(error.code(), code);
        assert!(!error.to_string().is_empty());
    }
    assert_eq!(RequestError::NoItems.item(), None);
    assert_eq!(RequestError::CommentTooLong { item: 3, chars: 2000 }.item(), Some(3));
}

#[test]
fn what_passes_validation_is_normalised() {
    let mut at_limit = request(&[(TEE, 1, " Too_Small ")], Resolution::Refund);
    at_limit.items[0].comment = Some(format!("  {}  ", "é".repeat(MAX_COMMENT_CHARS)));
    let items = validate(&lines(), &policy(), &at_limit).unwrap();
    assert_eq!(items[0].reason.as_str(), "too_small");
    assert_eq!(items[0].comment.as_deref().map(|c| c.chars().count()), Some(MAX_COMMENT_CHARS));
    let mut blank = request(&[(TEE, 1, "too_small")], Resolution::Refund);
    blank.items[0].comment = Some("   ".into());
    assert_eq!(validate(&lines(), &policy(), &blank).unwrap()[0].comment, None);
    // A huge but bounded quantity is a rule's business, not a malformed request.
    let decision = decide_now(&[(TEE, MAX_RETURN_QUANTITY, "too_small")]);
    assert_eq!(decision.items[0].decision.rule, RuleId::QuantityExceeded);
}

#[test]
fn requests_come_in_as_the_contract_shows() {
    let json = serde_json::json!({
        "items": [ { "line": 0, "quantity": 1, "reason": "too_small", "comment": "…" },
                   { "line": 2, "quantity": 1, "reason": "damaged" } ],
        "resolution": "store_credit"
    });
    let request: ReturnRequest = serde_json::from_value(json).unwrap();
    assert_eq!(request.resolution, Resolution::StoreCredit);
    assert_eq!(request.items[1].comment, None);
    let decision = decide_now(&[(TEE, 1, "too_small")]);
    let value = serde_json::to_value(&decision.items[0]).unwrap();
    assert_eq!(value["decision"]["outcome"], "approved");
    assert_eq!(value["decision"]["rule"], "approved");
    assert_eq!(value["value"], 2500);
    for rule in [RuleId::FinalSale, RuleId::ResolutionNotAllowed, RuleId::OverCeiling] {
        assert_eq!(serde_json::to_value(rule).unwrap(), rule.as_str());
    }
}

#[test]
fn the_lookup_says_what_can_come_back_and_why_not() {
    let now = days_after_delivery(40);
    let found = returnable(&lines(), &policy(), &delivered(), now);
    let summary: Vec<(usize, u32, Option<&str>)> = found
        .iter()
        .map(|line| (line.line, line.returnable_quantity, line.reason.map(NotReturnable::as_str)))
        .collect();
    assert_eq!(
        summary,
        [
            (TEE, 0, Some("window_closed")),
            (RAIN_JACKET, 0, Some("final_sale")),
            (HEADLAMP, 1, None),
            (TENT, 0, Some("window_closed")),
            (SOCKS, 0, Some("window_closed")),
            (MUG, 0, Some("window_closed")),
            (FLEECE, 0, Some("window_closed")),
        ]
    );
    let early = returnable(&lines(), &policy(), &delivered(), days_after_delivery(2));
    let quantities: Vec<(u32, Option<NotReturnable>)> =
        early.iter().map(|line| (line.returnable_quantity, line.reason)).collect();
    assert_eq!(
        quantities,
        [
            (2, None),
            (0, Some(NotReturnable::FinalSale)),
            (1, None),
            (1, None),
            (0, Some(NotReturnable::AlreadyReturned)),
            (3, None),
            (2, None),
        ]
    );
    assert_eq!(early[TEE].return_by, Some(datetime!(2025-04-03 15:30 UTC)));
    assert_eq!(early[HEADLAMP].return_by, Some(datetime!(2025-06-02 15:30 UTC)));
    assert_eq!(early[TEE].message, None);
    assert_eq!(
        early[RAIN_JACKET].message.as_deref(),
        Some("This item was a final-sale purchase and cannot be returned.")
    );
    let value = serde_json::to_value(&early[SOCKS]).unwrap();
    assert_eq!(value["returnable_quantity"], 0);
    assert_eq!(value["reason"], "already_returned");
    assert_eq!(value["return_by"], "2025-04-03T15:30:00Z");
    let open = serde_json::to_value(&early[TEE]).unwrap();
    assert!(open.get("reason").is_none());
}

#[test]
fn a_window_beyond_the_calendar_never_closes() {
    let mut order = lines();
    order[TEE].return_days = Some(u32::MAX);
    let found = returnable(&order, &policy(), &delivered(), datetime!(9999-12-31 00:00 UTC));
    assert_eq!(found[TEE].returnable_quantity, 2);
    assert_eq!(found[TEE].return_by, None);
}

// ---- properties -------------------------------------------------------------------

const REASONS: [&str; 7] =
    ["too_small", "too_large", "changed_mind", "not_as_described", "damaged", "wrong_item", "nope"];

fn arb_line() -> impl Strategy<Value = BoughtLine> {
    (1u32..6, 0i64..30_000, prop::bool::weighted(0.2), prop::option::of(0u32..120)).prop_map(
        |(quantity, price, final_sale, return_days)| BoughtLine {
            final_sale,
            return_days,
            ..line("ITEM", quantity, price)
        },
    )
}

fn arb_request(lines: usize) -> impl Strategy<Value = ReturnRequest> {
    let item = (0..lines + 1, -1i64..8, 0..REASONS.len()).prop_map(|(line, quantity, reason)| {
        RequestedItem {
            line,
            quantity,
            reason: REASONS[reason].to_owned(),
            comment: None,
            exchange: None,
        }
    });
    (prop::collection::vec(item, 0..5), 0..Resolution::ALL.len()).prop_map(|(items, resolution)| {
        ReturnRequest { items, resolution: Resolution::ALL[resolution] }
    })
}

fn arb_order() -> impl Strategy<Value = (Vec<BoughtLine>, Vec<(ReturnRequest, u32, i64)>)> {
    prop::collection::vec(arb_line(), 1..6).prop_flat_map(|lines| {
        let count = lines.len();
        let step = (arb_request(count), 0u32..6, 0i64..150);
        (Just(lines), prop::collection::vec(step, 1..10))
    })
}

proptest! {
    /// However customers split, repeat and combine their requests, and whatever the
    /// clock and their history, no line ever has more units approved or in review
    /// than were bought.
    #[test]
    fn never_more_units_than_bought((mut order, steps) in arb_order(), delivered_known in any::<bool>()) {
        let policy = policy();
        let dates = OrderDates {
            confirmed_at: CONFIRMED,
            delivered_at: delivered_known.then_some(DELIVERED),
            cancelled: false,
            unpaid: false,
        };
        for (request, recent_returns, day) in steps {
            let now = CONFIRMED + Duration::days(day);
            let Ok(decision) = decide(&policy, &order, &dates, recent_returns, now, &request) else {
                continue;
            };
            prop_assert_eq!(decision.items.len(), request.items.len());
            for item in &decision.items {
                if item.decision.outcome != Outcome::Rejected {
                    prop_assert!(item.quantity <= order[item.line].remaining());
                    prop_assert!(!order[item.line].final_sale);
                }
            }
            for (line, units) in decision.claimed_units() {
                order[line].already_requested += units;
            }
            for line in &order {
                prop_assert!(line.already_requested <= line.quantity, "{:?}", line);
            }
        }
    }

    /// The lookup offers exactly what a request for that many units would not reject.
    #[test]
    fn the_lookup_agrees_with_the_decision(
        (order, _) in arb_order(),
        day in 0i64..150,
        already in prop::collection::vec(0u32..7, 6),
    ) {
        let policy = policy();
        let mut order = order;
        for (line, already) in order.iter_mut().zip(already) {
            line.already_requested = already.min(line.quantity);
        }
        let dates = delivered();
        let now = CONFIRMED + Duration::days(day);
        for found in returnable(&order, &policy, &dates, now) {
            let line = &order[found.line];
            let quantity = i64::from(found.returnable_quantity.max(1));
            let request = ReturnRequest {
                items: vec![RequestedItem {
                    line: found.line, quantity, reason: "too_small".into(), comment: None, exchange: None,
                }],
                resolution: Resolution::Refund,
            };
            let decision = decide(&policy, &order, &dates, 0, now, &request).unwrap();
            let rule = decision.items[0].decision.rule;
            match found.reason {
                Some(why) => {
                    prop_assert_eq!(found.returnable_quantity, 0);
                    prop_assert_eq!(rule, why.rule());
                }
                None => {
                    prop_assert_eq!(found.returnable_quantity, line.remaining());
                    prop_assert!(found.returnable_quantity > 0);
                    prop_assert_ne!(decision.items[0].decision.outcome, Outcome::Rejected);
                }
            }
        }
    }
}

#[test]
fn nothing_of_a_cancelled_order_can_come_back() {
    let cancelled = OrderDates { cancelled: true, ..delivered() };
    let found = returnable(&lines(), &policy(), &cancelled, days_after_delivery(2));
    assert!(found
        .iter()
        .all(|line| line.returnable_quantity == 0
            && line.reason == Some(NotReturnable::OrderCancelled)));
    let decision = decide(
        &policy(),
        &lines(),
        &cancelled,
        0,
        days_after_delivery(2),
        &request(&[(TEE, 1, "too_small")], Resolution::Refund),
    )
    .unwrap();
    assert_eq!(decision.outcome(), Outcome::Rejected);
    assert_eq!(decision.items[0].decision.rule, RuleId::OrderCancelled);
    assert_eq!(decision.items[0].restocking_fee, Money::ZERO);
}

#[test]
fn nothing_of_an_unpaid_order_can_be_returned() {
    let unpaid = OrderDates { unpaid: true, ..undelivered() };
    let found = returnable(&lines(), &policy(), &unpaid, CONFIRMED + Duration::days(1));
    assert!(found.iter().all(|line| line.returnable_quantity == 0
        && line.reason == Some(NotReturnable::NotPaid)
        && line.message.as_deref().is_some_and(|m| m.contains("not paid"))));
    let decision = decide(
        &policy(),
        &lines(),
        &unpaid,
        0,
        CONFIRMED + Duration::days(1),
        &request(&[(TEE, 1, "too_small")], Resolution::Refund),
    )
    .unwrap();
    assert_eq!(decision.outcome(), Outcome::Rejected);
    assert_eq!(decision.items[0].decision.rule, RuleId::NotPaid);
    // Once paid, the same request goes through.
    let paid = OrderDates { unpaid: false, ..unpaid };
    let decision = decide(
        &policy(),
        &lines(),
        &paid,
        0,
        CONFIRMED + Duration::days(1),
        &request(&[(TEE, 1, "too_small")], Resolution::Refund),
    )
    .unwrap();
    assert_ne!(decision.items[0].decision.rule, RuleId::NotPaid);
}
