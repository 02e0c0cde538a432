//! From "the order before" and "the order as it should be" to the events in between.
//!
//! The chat edits a working copy of the lines; the events must say what changed and
//! nothing more, in an order that folds: removals first (highest index first, so the
//! others keep their place), then changes at the indexes that remain, then additions
//! at the end, then the customer and the address.

use crate::orders::address::PostalAddress;
use crate::orders::event::{Customer, OrderEvent, PricedLine};
use crate::orders::state::OrderState;

/// The fewest line events that turn `before.lines` into `after_lines`, where a line
/// may change in place only while it stays the same product (a tee that became a mug
/// is a removal and an addition, which is what the audit trail should say), followed
/// by `CustomerIdentified` and `ShippingAddressSet`/`ShippingAddressCleared` when
/// those differ.
pub fn diff(
    before: &OrderState,
    after_lines: &[PricedLine],
    customer: &Customer,
    address: Option<&PostalAddress>,
) -> Vec<OrderEvent> {
    let mut events = line_events(&before.lines, after_lines);
    if *customer != before.customer {
        events.push(OrderEvent::CustomerIdentified {
            name: customer.name.clone(),
            email: customer.email.clone(),
            phone: customer.phone.clone(),
        });
    }
    if address != before.shipping_address.as_ref() {
        events.push(match address {
            Some(address) => OrderEvent::ShippingAddressSet { address: address.clone() },
            None => OrderEvent::ShippingAddressCleared,
        });
    }
    events
}

/// What happens to one line of `before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Remove,
    /// Becomes `after[j]`.
    Keep(usize),
}

fn line_events(before: &[PricedLine], after: &[PricedLine]) -> Vec<OrderEvent> {
    let (steps, appended_from) = align(before, after);
    let mut events = Vec::new();
    for (i, _) in steps.iter().enumerate().rev().filter(|(_, step)| **step == Step::Remove) {
        events.push(OrderEvent::LineRemoved { index: i });
    }
    let mut position = 0;
    for (i, step) in steps.iter().enumerate() {
        if let Step::Keep(j) = *step {
            if before[i] != after[j] {
                events.push(OrderEvent::LineChanged { index: position, line: after[j].clone() });
            }
            position += 1;
        }
    }
    for line in &after[appended_from..] {
        events.push(OrderEvent::LineAdded { line: line.clone() });
    }
    events
}

/// An order-preserving alignment of the two lists with the fewest events, found by
/// dynamic programming over suffixes: `cost[i][j]` is the cheapest way to turn
/// `before[i..]` into `after[j..]`. Additions only ever append, so once `before` is
/// used up the rest of `after` is added, and once `after` is used up the rest of
/// `before` is removed. Ties keep a line rather than remove it.
fn align(before: &[PricedLine], after: &[PricedLine]) -> (Vec<Step>, usize) {
    let (n, m) = (before.len(), after.len());
    let mut cost = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..=n).rev() {
        for j in (0..=m).rev() {
            cost[i][j] = if i == n {
                m - j
            } else if j == m {
                n - i
            } else {
                let remove = 1 + cost[i + 1][j];
                match keep_cost(&before[i], &after[j]) {
                    Some(keep) => (keep + cost[i + 1][j + 1]).min(remove),
                    None => remove,
                }
            };
        }
    }
    let mut steps = Vec::with_capacity(n);
    let (mut i, mut j) = (0, 0);
    while i < n {
        let keep = (j < m)
            .then(|| keep_cost(&before[i], &after[j]))
            .flatten()
            .filter(|keep| keep + cost[i + 1][j + 1] == cost[i][j]);
        if keep.is_some() {
            steps.push(Step::Keep(j));
            j += 1;
        } else {
            steps.push(Step::Remove);
        }
        i += 1;
    }
    (steps, j)
}

/// 0 for the same line, 1 for a change to the same product, `None` when one line
/// cannot become the other.
fn keep_cost(before: &PricedLine, after: &PricedLine) -> Option<usize> {
    if before == after {
        Some(0)
    } else if before.sku == after.sku {
        Some(1)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Currency, Money};
    use crate::orders::address::CountryCode;
    use crate::orders::contact::Email;
    use crate::sku::Sku;
    use proptest::prelude::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn line(code: &str, quantity: u32) -> PricedLine {
        PricedLine {
            sku: Sku::parse(code).unwrap(),
            name: code.to_lowercase(),
            quantity,
            choices: vec![],
            unit_price: Money(100),
            total: Money(100 * i64::from(quantity)),
        }
    }

    fn state(lines: &[PricedLine]) -> OrderState {
        let events: Vec<OrderEvent> =
            lines.iter().map(|line| OrderEvent::LineAdded { line: line.clone() }).collect();
        OrderState::fold(usd(), &events).unwrap()
    }

    fn line_diff(before: &[PricedLine], after: &[PricedLine]) -> Vec<OrderEvent> {
        let before = state(before);
        diff(&before, after, &before.customer, before.shipping_address.as_ref())
    }

    #[test]
    fn minimal_line_events() {
        let (a, b, c) = (line("A", 1), line("B", 1), line("C", 1));
        let cases: Vec<(Vec<PricedLine>, Vec<PricedLine>, Vec<OrderEvent>)> = vec![
            (vec![a.clone()], vec![a.clone()], vec![]),
            (
                vec![a.clone(), b.clone(), c.clone()],
                vec![a.clone(), c.clone()],
                vec![OrderEvent::LineRemoved { index: 1 }],
            ),
            (
                vec![a.clone(), b.clone()],
                vec![a.clone(), line("B", 3)],
                vec![OrderEvent::LineChanged { index: 1, line: line("B", 3) }],
            ),
            (
                vec![a.clone()],
                vec![b.clone()],
                vec![
                    OrderEvent::LineRemoved { index: 0 },
                    OrderEvent::LineAdded { line: b.clone() },
                ],
            ),
            (
                vec![a.clone(), b.clone(), c.clone()],
                vec![line("C", 2)],
                vec![
                    OrderEvent::LineRemoved { index: 1 },
                    OrderEvent::LineRemoved { index: 0 },
                    OrderEvent::LineChanged { index: 0, line: line("C", 2) },
                ],
            ),
            (
                vec![a.clone(), b.clone()],
                vec![b.clone(), a.clone()],
                vec![
                    OrderEvent::LineRemoved { index: 0 },
                    OrderEvent::LineAdded { line: a.clone() },
                ],
            ),
            (
                vec![],
                vec![a.clone(), b.clone()],
                vec![OrderEvent::LineAdded { line: a }, OrderEvent::LineAdded { line: b }],
            ),
        ];
        for (before, after, expected) in cases {
            assert_eq!(line_diff(&before, &after), expected, "{before:?} -> {after:?}");
        }
    }

    #[test]
    fn customer_and_address_follow_the_lines() {
        let before = state(&[line("A", 1)]);
        let customer = Customer {
            name: Some("Ana".into()),
            email: Some(Email::parse("ana@example.com").unwrap()),
            phone: None,
        };
        let address = PostalAddress {
            city: Some("Springfield".into()),
            country: Some(CountryCode::parse("US").unwrap()),
            ..PostalAddress::default()
        };
        let events = diff(&before, &[line("A", 2)], &customer, Some(&address));
        let kinds: Vec<&str> = events.iter().map(OrderEvent::kind).collect();
        assert_eq!(kinds, ["line_changed", "customer_identified", "shipping_address_set"]);
        let mut after = before.clone();
        events.iter().for_each(|event| after.apply(event).unwrap());
        let cleared = diff(&after, &after.lines, &Customer::default(), None);
        let kinds: Vec<&str> = cleared.iter().map(OrderEvent::kind).collect();
        assert_eq!(kinds, ["customer_identified", "shipping_address_cleared"]);
    }

    fn lines() -> impl Strategy<Value = Vec<PricedLine>> {
        prop::collection::vec(
            (prop::sample::select(vec!["A", "B", "C", "D"]), 1u32..=4)
                .prop_map(|(code, quantity)| line(code, quantity)),
            0..7,
        )
    }

    fn customers() -> impl Strategy<Value = Customer> {
        prop::option::of(prop::sample::select(vec!["Ana", "Bo"])).prop_map(|name| Customer {
            name: name.map(String::from),
            email: None,
            phone: None,
        })
    }

    fn addresses() -> impl Strategy<Value = Option<PostalAddress>> {
        prop::option::of(prop::sample::select(vec!["Springfield", "Shelbyville"]).prop_map(
            |city| PostalAddress { city: Some(city.to_owned()), ..PostalAddress::default() },
        ))
    }

    proptest! {
        #[test]
        fn folding_the_diff_gives_the_new_order(
            before_lines in lines(),
            before_customer in customers(),
            before_address in addresses(),
            after_lines in lines(),
            customer in customers(),
            address in addresses(),
        ) {
            let mut events: Vec<OrderEvent> = before_lines
                .iter()
                .map(|line| OrderEvent::LineAdded { line: line.clone() })
                .collect();
            events.extend(diff(&OrderState::new(usd()), &[], &before_customer, before_address.as_ref()));
            let before = OrderState::fold(usd(), &events).unwrap();
            let changes = diff(&before, &after_lines, &customer, address.as_ref());
            events.extend(changes.iter().cloned());
            let after = OrderState::fold(usd(), &events).unwrap();
            prop_assert_eq!(&after.lines, &after_lines);
            prop_assert_eq!(&after.customer, &customer);
            prop_assert_eq!(&after.shipping_address, &address);
            prop_assert_eq!(after.totals, crate::orders::pricing::totals(&after_lines).unwrap());
            // Minimal: never more line events than lines involved, none when nothing changed.
            let line_events = changes.iter().filter(|e| e.kind().starts_with("line_")).count();
            prop_assert!(line_events <= before_lines.len() + after_lines.len());
            if before_lines == after_lines {
                prop_assert_eq!(line_events, 0);
            }
            // A diff against itself is empty.
            prop_assert!(diff(&after, &after.lines, &after.customer, after.shipping_address.as_ref()).is_empty());
        }

        #[test]
        fn one_shopper_edit_is_one_event(
            before_lines in lines(),
            at in any::<prop::sample::Index>(),
            edit in 0u8..3,
            quantity in 5u32..9,
        ) {
            let mut after_lines = before_lines.clone();
            match (edit, after_lines.is_empty()) {
                (0, false) => { after_lines.remove(at.index(before_lines.len())); }
                (1, false) => { after_lines[at.index(before_lines.len())] = line(before_lines[at.index(before_lines.len())].sku.as_ref(), quantity); }
                _ => after_lines.push(line("E", quantity)),
            }
            let events = line_diff(&before_lines, &after_lines);
            prop_assert_eq!(events.len(), 1, "{:?}", events);
        }

        #[test]
        fn the_diff_never_exceeds_rewriting_everything(
            before_lines in lines(),
            after_lines in lines(),
        ) {
            prop_assert!(line_diff(&before_lines, &after_lines).len() <= before_lines.len() + after_lines.len());
        }
    }
}
