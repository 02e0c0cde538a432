//! What an order needs from stock, and where stock falls short.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Choice};
use crate::orders::event::{PricedLine, Reservation};
use crate::sku::Sku;
use crate::stock::{StockKey, StockLevels};

/// One stock key that cannot cover what an order wants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortfall {
    pub key: StockKey,
    pub wanted: u32,
    pub available: u32,
}

/// Per stock key the catalog tracks, the units these lines take: a line counts
/// against its product when the product's stock is tracked, and against every chosen
/// value that has its own stock (a colour, a size). Excluded values take nothing, and
/// lines whose product left the catalog are not counted (nothing can be known).
pub fn stock_requirements(catalog: &Catalog, lines: &[PricedLine]) -> BTreeMap<StockKey, u32> {
    let mut needs: BTreeMap<StockKey, u32> = BTreeMap::new();
    let mut need = |key: StockKey, quantity: u32| {
        let entry = needs.entry(key).or_insert(0);
        *entry = entry.saturating_add(quantity);
    };
    for line in lines {
        for key in unit_keys(catalog, &line.sku, &line.choices) {
            need(key, line.quantity);
        }
    }
    needs
}

/// The tracked stock keys one unit of `sku` with `choices` counts against: the
/// product's own, and each chosen value's that has its own stock. Empty for a product
/// no longer in the catalog.
pub fn unit_keys(catalog: &Catalog, sku: &Sku, choices: &[Choice]) -> Vec<StockKey> {
    let Some(product) = catalog.product(sku) else { return Vec::new() };
    let mut keys = Vec::new();
    if product.stock.is_some() {
        keys.push(StockKey::product(product.sku.clone()));
    }
    for choice in choices.iter().filter(|choice| !choice.exclude) {
        let Some(group) = product.option(&choice.group) else { continue };
        let Some(value) = group.value(&choice.value) else { continue };
        if value.stock.is_some() {
            keys.push(StockKey::value(product.sku.clone(), &group.name, &value.name));
        }
    }
    keys
}

/// The keys where `levels` has less available to promise than wanted. A key absent
/// from `levels` is not tracked and never falls short.
pub fn shortfalls(requirements: &BTreeMap<StockKey, u32>, levels: &StockLevels) -> Vec<Shortfall> {
    requirements
        .iter()
        .filter_map(|(key, &wanted)| {
            let available = levels.get(key)?.available();
            (wanted > available).then(|| Shortfall { key: key.clone(), wanted, available })
        })
        .collect()
}

/// The requirements as the reservations a `Confirmed` event carries, in key order.
pub fn reservations(requirements: &BTreeMap<StockKey, u32>) -> Vec<Reservation> {
    requirements
        .iter()
        .filter(|(_, &quantity)| quantity > 0)
        .map(|(key, &quantity)| Reservation { key: key.clone(), quantity })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Choice;
    use crate::orders::pricing::price_line;
    use crate::sku::Sku;
    use crate::stock::StockLevel;
    use crate::testing::demo_catalog;

    fn sku(code: &str) -> Sku {
        Sku::parse(code).unwrap()
    }

    fn priced(code: &str, quantity: u32, choices: &[Choice]) -> PricedLine {
        price_line(&demo_catalog(), &sku(code), quantity, choices).unwrap()
    }

    #[test]
    fn products_and_values_with_their_own_stock_count() {
        let catalog = demo_catalog();
        let lines = [
            priced("TEE", 2, &[Choice::new("size", "m"), Choice::new("color", "black")]),
            priced("TEE", 1, &[Choice::new("size", "l"), Choice::new("color", "black")]),
            priced("TRAIL-BOTTLE", 1, &[Choice::new("capacity", "750 ml")]),
            priced("PIZZA-PEP", 3, &[Choice::new("crust", "gluten-free")]),
            priced("COKE", 4, &[]),
        ];
        let needs = stock_requirements(&catalog, &lines);
        let expected: BTreeMap<StockKey, u32> = [
            (StockKey::product(sku("TEE")), 3),
            (StockKey::value(sku("TEE"), "color", "black"), 3),
            (StockKey::product(sku("TRAIL-BOTTLE")), 1),
            (StockKey::value(sku("PIZZA-PEP"), "crust", "gluten-free"), 3),
        ]
        .into_iter()
        .collect();
        assert_eq!(needs, expected);
        assert_eq!(reservations(&needs).len(), 4);
        assert_eq!(
            reservations(&needs)[0].key,
            StockKey::value(sku("PIZZA-PEP"), "crust", "gluten-free")
        );
    }

    #[test]
    fn excluded_values_and_unknown_products_take_nothing() {
        let catalog = demo_catalog();
        let mut line = priced("PIZZA-PEP", 1, &[Choice::excluded("crust", "gluten-free")]);
        assert!(stock_requirements(&catalog, std::slice::from_ref(&line)).is_empty());
        line.sku = sku("GONE");
        assert!(stock_requirements(&catalog, &[line]).is_empty());
    }

    #[test]
    fn shortfalls_use_available_to_promise_and_skip_untracked_keys() {
        let black = StockKey::value(sku("TEE"), "color", "black");
        let tee = StockKey::product(sku("TEE"));
        let mut levels = StockLevels::new();
        levels.insert(black.clone(), StockLevel { on_hand: 5, reserved: 2 });
        levels.insert(tee.clone(), StockLevel { on_hand: 100, reserved: 0 });
        let wanted: BTreeMap<StockKey, u32> =
            [(black.clone(), 4), (tee.clone(), 4), (StockKey::product(sku("COKE")), 1000)]
                .into_iter()
                .collect();
        assert_eq!(
            shortfalls(&wanted, &levels),
            [Shortfall { key: black, wanted: 4, available: 3 }]
        );
        levels.insert(tee.clone(), StockLevel { on_hand: 1, reserved: 5 });
        // Keys in order: the product before its values.
        assert_eq!(
            shortfalls(&wanted, &levels)[0],
            Shortfall { key: tee, wanted: 4, available: 0 }
        );
    }
}
