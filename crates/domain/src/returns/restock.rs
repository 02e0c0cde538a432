//! Returned units back on sale: what a receipt adds to stock.

use std::collections::BTreeMap;

use super::exchange::BoughtChoices;
use super::status::{Disposition, ItemDisposition, ReturnState};
use crate::catalog::Catalog;
use crate::orders::unit_keys;
use crate::stock::StockKey;

/// Per tracked stock key, the units that `dispositions` put back on sale: each item to
/// restock counts its quantity against the keys of its line as bought (`bought` is
/// indexed by order line). Items discarded, lines unknown and untracked keys add
/// nothing.
pub fn restocked_units(
    catalog: &Catalog,
    state: &ReturnState,
    bought: &[BoughtChoices],
    dispositions: &[ItemDisposition],
) -> Vec<(StockKey, u32)> {
    let mut units: BTreeMap<StockKey, u32> = BTreeMap::new();
    let restocked = dispositions.iter().filter(|d| d.disposition == Disposition::Restock);
    for disposition in restocked {
        let Some(item) = state.items.iter().find(|item| item.line == disposition.line) else {
            continue;
        };
        let Some(line) = bought.get(item.line) else { continue };
        for key in unit_keys(catalog, &line.sku, &line.choices) {
            *units.entry(key).or_insert(0) += item.quantity;
        }
    }
    units.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::catalog::Choice;
    use crate::money::Money;
    use crate::returns::{
        Actor, DecidedItem, Decision, Outcome, ReasonCode, Resolution, ReturnEvent, RuleId,
    };
    use crate::sku::Sku;

    const CATALOG: &str = r#"{
      "currency": "USD",
      "products": [
        { "sku": "TEE", "name": "tee", "price": 2500, "stock": 10,
          "options": [ { "name": "color", "kind": "single",
                         "values": [ { "name": "black", "stock": 3 }, { "name": "white" } ] } ] },
        { "sku": "MUG", "name": "mug", "price": 1200 }
      ]
    }"#;

    fn item(line: usize, sku: &str, quantity: u32) -> DecidedItem {
        DecidedItem {
            line,
            sku: Sku::parse(sku).unwrap(),
            quantity,
            reason: ReasonCode::parse("too_small").unwrap(),
            comment: None,
            value: Money(1000),
            restocking_fee: Money::ZERO,
            decision: Decision {
                outcome: Outcome::Approved,
                rule: RuleId::Approved,
                message: "Approved.".into(),
            },
            exchange: None,
        }
    }

    fn bought(sku: &str, color: Option<&str>) -> BoughtChoices {
        BoughtChoices {
            sku: Sku::parse(sku).unwrap(),
            choices: color
                .map(|c| Choice {
                    group: "color".into(),
                    value: c.into(),
                    qualifier: None,
                    exclude: false,
                })
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn restocked_items_count_against_the_keys_they_were_bought_under() {
        let catalog = Catalog::from_json(CATALOG).unwrap();
        let state = ReturnState::fold(&[ReturnEvent::Requested {
            at: datetime!(2030-06-01 12:00 UTC),
            actor: Actor::Customer,
            resolution: Resolution::Refund,
            items: vec![item(0, "TEE", 2), item(1, "TEE", 1), item(2, "MUG", 1)],
        }])
        .unwrap();
        let lines =
            [bought("TEE", Some("black")), bought("TEE", Some("white")), bought("MUG", None)];
        let all = |disposition| -> Vec<ItemDisposition> {
            (0..3).map(|line| ItemDisposition { line, disposition }).collect()
        };
        let tee = StockKey::product(Sku::parse("TEE").unwrap());
        let black = StockKey::value(Sku::parse("TEE").unwrap(), "color", "black");
        assert_eq!(
            restocked_units(&catalog, &state, &lines, &all(Disposition::Restock)),
            [(tee.clone(), 3), (black, 2)]
        );
        assert_eq!(restocked_units(&catalog, &state, &lines, &all(Disposition::Discard)), []);
        let mixed = [
            ItemDisposition { line: 0, disposition: Disposition::Discard },
            ItemDisposition { line: 1, disposition: Disposition::Restock },
        ];
        assert_eq!(restocked_units(&catalog, &state, &lines, &mixed), [(tee, 1)]);
    }
}
