//! Exchanges against the demo catalog: a tee bought in M and black (size has no stock
//! of its own, XL costs 2.00 more; colours have their own stock).

use std::collections::BTreeMap;

use super::*;
use crate::orders::{CountryCode, Email, OrderStatus, Reservation};
use crate::returns::decide::{DecidedItem, Decision, RequestedItem, RuleId};
use crate::returns::policy::ReasonCode;
use crate::stock::{StockKey, StockLevel};
use crate::testing::demo_catalog;

fn sku(code: &str) -> Sku {
    Sku::parse(code).unwrap()
}

fn mention(group: &str, value: &str) -> Choice {
    Choice { group: group.into(), value: value.into(), qualifier: None, exclude: false }
}

fn black_tee_m() -> BoughtChoices {
    BoughtChoices {
        sku: sku("TEE"),
        choices: vec![mention("size", "m"), mention("color", "black")],
    }
}

/// Tee stock as the demo catalog starts, with `navy` sold out.
fn stock() -> StockLevels {
    let mut levels = StockLevels::new();
    let level = |on_hand, reserved| StockLevel { on_hand, reserved };
    levels.insert(StockKey::product(sku("TEE")), level(120, 0));
    levels.insert(StockKey::value(sku("TEE"), "color", "black"), level(60, 0));
    levels.insert(StockKey::value(sku("TEE"), "color", "white"), level(35, 0));
    levels.insert(StockKey::value(sku("TEE"), "color", "navy"), level(20, 20));
    levels.insert(StockKey::value(sku("TEE"), "color", "forest green"), level(4, 0));
    levels
}

fn wish(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
    Some(pairs.iter().map(|(g, v)| ((*g).to_owned(), (*v).to_owned())).collect())
}

fn requested(
    resolution: Resolution,
    items: &[(u32, Option<BTreeMap<String, String>>)],
) -> ReturnRequest {
    ReturnRequest {
        resolution,
        items: items
            .iter()
            .map(|(quantity, exchange)| RequestedItem {
                line: 0,
                quantity: i64::from(*quantity),
                reason: "too_small".into(),
                comment: None,
                exchange: exchange.clone(),
            })
            .collect(),
    }
}

fn decided(request: &ReturnRequest, rule: RuleId) -> ReturnDecision {
    ReturnDecision {
        resolution: request.resolution,
        items: request
            .items
            .iter()
            .map(|item| DecidedItem {
                line: item.line,
                sku: sku("TEE"),
                quantity: item.quantity as u32,
                reason: ReasonCode::parse("too_small").unwrap(),
                comment: None,
                value: Money(2500 * item.quantity),
                restocking_fee: Money::ZERO,
                decision: Decision { outcome: rule.outcome(), rule, message: String::new() },
                exchange: None,
            })
            .collect(),
    }
}

fn plan(request: &ReturnRequest, rule: RuleId) -> Result<Vec<Option<Vec<Choice>>>, ExchangeError> {
    plan_exchanges(&demo_catalog(), &stock(), &[black_tee_m()], request, &decided(request, rule))
}

#[test]
fn options_are_the_other_values_at_the_same_price_with_their_stock() {
    let options = exchange_options(&demo_catalog(), &black_tee_m(), &stock());
    let size = &options[0];
    assert_eq!(size.group, "size");
    assert_eq!(size.current.as_deref(), Some("m"));
    // XL costs 2.00 more: not an exchange.
    let sizes: Vec<_> = size.values.iter().map(|v| (v.value.as_str(), v.available)).collect();
    assert_eq!(sizes, [("s", true), ("l", true)]);
    let colours: Vec<_> =
        options[1].values.iter().map(|v| (v.value.as_str(), v.available)).collect();
    assert_eq!(colours, [("white", true), ("navy", false), ("forest green", true)]);
}

#[test]
fn options_are_empty_for_a_product_without_choices_or_no_longer_sold() {
    let headlamp = BoughtChoices { sku: sku("HEADLAMP"), choices: vec![] };
    assert!(exchange_options(&demo_catalog(), &headlamp, &stock()).is_empty());
    let gone = BoughtChoices { sku: sku("DISCONTINUED"), choices: vec![] };
    assert!(exchange_options(&demo_catalog(), &gone, &stock()).is_empty());
}

#[test]
fn a_size_swap_keeps_every_other_choice() {
    let request = requested(Resolution::Exchange, &[(1, wish(&[("Size", "L")]))]);
    let planned = plan(&request, RuleId::Approved).unwrap();
    assert_eq!(planned, [Some(vec![mention("size", "l"), mention("color", "black")])]);
}

#[test]
fn a_group_the_line_left_at_its_default_is_added() {
    let bought = BoughtChoices { sku: sku("TEE"), choices: vec![mention("color", "black")] };
    let request = requested(Resolution::Exchange, &[(1, wish(&[("size", "s")]))]);
    let planned = plan_exchanges(
        &demo_catalog(),
        &stock(),
        &[bought],
        &request,
        &decided(&request, RuleId::Approved),
    )
    .unwrap();
    assert_eq!(planned, [Some(vec![mention("color", "black"), mention("size", "s")])]);
}

#[test]
fn items_under_review_get_their_replacement_planned_and_rejected_ones_none() {
    let request = requested(Resolution::Exchange, &[(1, wish(&[("color", "white")]))]);
    assert!(plan(&request, RuleId::ReviewReason).unwrap()[0].is_some());
    // A rejected item ships nothing back, whatever it asked for.
    assert_eq!(plan(&request, RuleId::WindowClosed).unwrap(), [None]);
}

#[test]
fn refunds_plan_nothing_and_refuse_a_wish() {
    let refund = requested(Resolution::Refund, &[(1, None)]);
    assert_eq!(plan(&refund, RuleId::Approved).unwrap(), [None]);
    let confused = requested(Resolution::Refund, &[(1, wish(&[("size", "l")]))]);
    assert_eq!(plan(&confused, RuleId::Approved), Err(ExchangeError::NotAnExchange { item: 0 }));
    // An empty wish is no wish (a form's untouched selects).
    let untouched = requested(Resolution::StoreCredit, &[(1, wish(&[]))]);
    assert_eq!(plan(&untouched, RuleId::Approved).unwrap(), [None]);
}

#[test]
fn every_bad_wish_names_the_item_and_what_is_wrong() {
    let cases: [(Option<BTreeMap<String, String>>, &str); 7] = [
        (None, "exchange_missing"),
        (wish(&[]), "exchange_missing"),
        (wish(&[("fit", "slim")]), "exchange_unknown_group"),
        (wish(&[("size", "xxl")]), "exchange_unknown_value"),
        (wish(&[("size", "M"), ("color", "Black")]), "exchange_unchanged"),
        (wish(&[("size", "xl")]), "exchange_price_differs"),
        (wish(&[("color", "navy")]), "exchange_out_of_stock"),
    ];
    for (wish, code) in cases {
        let request = requested(Resolution::Exchange, &[(1, wish.clone())]);
        let error = plan(&request, RuleId::Approved).unwrap_err();
        assert_eq!(error.code(), code, "{wish:?}: {error}");
        assert!(error.to_string().starts_with("item 0: "), "{error}");
    }
    let dearer = requested(Resolution::Exchange, &[(1, wish(&[("size", "xl")]))]);
    assert_eq!(
        plan(&dearer, RuleId::Approved).unwrap_err().to_string(),
        "item 0: the tee you chose costs $27.00, not $25.00; an exchange must cost \
         the same, so choose a refund and order it anew"
    );
}

#[test]
fn a_multi_choice_group_cannot_be_swapped() {
    let pizza =
        BoughtChoices { sku: sku("PIZZA-MARG"), choices: vec![mention("topping", "olives")] };
    let request = requested(Resolution::Exchange, &[(1, wish(&[("topping", "ham")]))]);
    let mut decision = decided(&request, RuleId::Approved);
    decision.items[0].sku = sku("PIZZA-MARG");
    let error =
        plan_exchanges(&demo_catalog(), &stock(), &[pizza], &request, &decision).unwrap_err();
    assert_eq!(error.code(), "exchange_not_swappable");
}

#[test]
fn stock_is_checked_for_all_replacements_together() {
    // Forest green has 4: one item of 3 fits, two items of 3 do not.
    let one = requested(Resolution::Exchange, &[(3, wish(&[("color", "forest green")]))]);
    assert!(plan(&one, RuleId::Approved).is_ok());
    let green = wish(&[("color", "forest green")]);
    let two = requested(Resolution::Exchange, &[(3, green.clone()), (3, green)]);
    let mut decision = decided(&two, RuleId::Approved);
    decision.items[1].line = 1;
    let bought = [black_tee_m(), black_tee_m()];
    let error = plan_exchanges(&demo_catalog(), &stock(), &bought, &two, &decision).unwrap_err();
    assert_eq!(error.code(), "exchange_out_of_stock");
}

fn replacement(
    items: &[ReplacementItem],
) -> Result<(Vec<OrderEvent>, OrderState), ReplacementError> {
    let customer = Customer {
        name: Some("Ana".into()),
        email: Some(Email::parse("ana@example.com").unwrap()),
        phone: None,
    };
    let address = PostalAddress {
        line1: Some("1 Main St".into()),
        line2: None,
        city: Some("Springfield".into()),
        postal_code: Some("12345".into()),
        region: None,
        country: Some(CountryCode::parse("US").unwrap()),
    };
    replacement_order(
        &demo_catalog(),
        &stock(),
        ExchangeRef { rma: "R-ABCD2345".into(), original: "G-100042".into() },
        items,
        &customer,
        Some(&address),
    )
}

#[test]
fn the_replacement_is_a_confirmed_order_that_reserves_its_stock() {
    let item = ReplacementItem {
        sku: sku("TEE"),
        quantity: 2,
        choices: vec![mention("size", "l"), mention("color", "white")],
    };
    let (events, order) = replacement(&[item]).unwrap();
    let kinds: Vec<_> = events.iter().map(OrderEvent::kind).collect();
    assert_eq!(
        kinds,
        ["exchange_for", "line_added", "customer_identified", "shipping_address_set", "confirmed"]
    );
    assert_eq!(order.status, OrderStatus::Confirmed);
    assert_eq!(order.totals.total, Money(5000));
    assert_eq!(order.customer.name.as_deref(), Some("Ana"));
    assert_eq!(
        order.exchange_for,
        Some(ExchangeRef { rma: "R-ABCD2345".into(), original: "G-100042".into() })
    );
    assert_eq!(
        order.reservations,
        [
            Reservation { key: StockKey::product(sku("TEE")), quantity: 2 },
            Reservation { key: StockKey::value(sku("TEE"), "color", "white"), quantity: 2 },
        ]
    );
    // Folding the stored events gives the same order.
    assert_eq!(OrderState::fold(demo_catalog().currency, &events).unwrap(), order);
}

#[test]
fn a_replacement_out_of_stock_or_empty_is_refused() {
    let navy = ReplacementItem {
        sku: sku("TEE"),
        quantity: 1,
        choices: vec![mention("size", "l"), mention("color", "navy")],
    };
    assert_eq!(
        replacement(&[navy]).unwrap_err(),
        ReplacementError::OutOfStock { product: "tee".into() }
    );
    assert_eq!(replacement(&[]).unwrap_err(), ReplacementError::Nothing);
}

#[test]
fn an_order_becomes_a_replacement_only_with_its_first_event() {
    let catalog = demo_catalog();
    let line = price_line(&catalog, &sku("TEE"), 1, &[]).unwrap();
    let mark = OrderEvent::ExchangeFor { rma: "R-ABCD2345".into(), original: "G-100042".into() };
    let late = OrderState::fold(catalog.currency, &[OrderEvent::LineAdded { line }, mark]);
    assert_eq!(late.unwrap_err().error, crate::orders::EventError::ExchangeNotFirst);
}
