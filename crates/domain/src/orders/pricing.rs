//! Prices come from the catalog and nowhere else: a line's unit price is the product's
//! price plus the delta of every value chosen for it, computed with checked
//! arithmetic so that no input can wrap a total.

use crate::catalog::{Catalog, Choice, GroupKind};
use crate::money::Money;
use crate::orders::event::{PricedLine, Totals};
use crate::orders::{MAX_QUANTITY, MIN_QUANTITY};
use crate::sku::Sku;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("{0} is not in the catalog")]
    UnknownProduct(Sku),
    #[error("the {product} has no option {group:?}")]
    UnknownGroup { product: String, group: String },
    #[error("the {product} {group} cannot be {value:?}")]
    UnknownValue { product: String, group: String, value: String },
    #[error("the {product} takes one {group}, not several")]
    SeveralValues { product: String, group: String },
    #[error("a quantity is between {MIN_QUANTITY} and {MAX_QUANTITY}, not {0}")]
    Quantity(u32),
    #[error("the price of the {0} came out below zero")]
    Negative(String),
    #[error("the amount is too large to compute")]
    Overflow,
}

/// Prices `quantity` of a product with these choices. Excluded values ("no onions")
/// cost nothing; qualifiers ("extra cheese") do not change the price, the catalog has
/// no field for that.
pub fn price_line(
    catalog: &Catalog,
    sku: &Sku,
    quantity: u32,
    choices: &[Choice],
) -> Result<PricedLine, PricingError> {
    if !(MIN_QUANTITY..=MAX_QUANTITY).contains(&quantity) {
        return Err(PricingError::Quantity(quantity));
    }
    let product = catalog.product(sku).ok_or_else(|| PricingError::UnknownProduct(sku.clone()))?;
    let mut unit_price = product.price;
    let mut singles_seen: Vec<&str> = Vec::new();
    for choice in choices.iter().filter(|choice| !choice.exclude) {
        let group = product.option(&choice.group).ok_or_else(|| PricingError::UnknownGroup {
            product: product.name.clone(),
            group: choice.group.clone(),
        })?;
        let value = group.value(&choice.value).ok_or_else(|| PricingError::UnknownValue {
            product: product.name.clone(),
            group: group.name.clone(),
            value: choice.value.clone(),
        })?;
        if group.kind == GroupKind::Single {
            if singles_seen.contains(&group.name.as_str()) {
                return Err(PricingError::SeveralValues {
                    product: product.name.clone(),
                    group: group.name.clone(),
                });
            }
            singles_seen.push(&group.name);
        }
        unit_price = unit_price.checked_add(value.price_delta).ok_or(PricingError::Overflow)?;
    }
    if unit_price < Money::ZERO {
        return Err(PricingError::Negative(product.name.clone()));
    }
    let total = unit_price.checked_mul(quantity).ok_or(PricingError::Overflow)?;
    Ok(PricedLine {
        sku: product.sku.clone(),
        name: product.name.clone(),
        quantity,
        choices: choices.to_vec(),
        unit_price,
        total,
    })
}

/// The sum of the line totals; shipping is free until delivery methods exist.
pub fn totals(lines: &[PricedLine]) -> Result<Totals, PricingError> {
    let subtotal = lines
        .iter()
        .try_fold(Money::ZERO, |sum, line| sum.checked_add(line.total))
        .ok_or(PricingError::Overflow)?;
    let shipping = Money::ZERO;
    let total = subtotal.checked_add(shipping).ok_or(PricingError::Overflow)?;
    Ok(Totals { subtotal, shipping, total })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::demo_catalog;
    use proptest::prelude::*;

    fn sku(code: &str) -> Sku {
        Sku::parse(code).unwrap()
    }

    fn c(group: &str, value: &str) -> Choice {
        Choice::new(group, value)
    }

    #[test]
    fn unit_price_adds_every_chosen_delta() {
        let catalog = demo_catalog();
        let tee = price_line(&catalog, &sku("TEE"), 2, &[c("size", "m"), c("color", "black")]);
        let tee = tee.unwrap();
        assert_eq!(
            (tee.unit_price, tee.total, tee.name.as_str()),
            (Money(2500), Money(5000), "tee")
        );
        let xl = price_line(&catalog, &sku("TEE"), 1, &[c("size", "xl")]).unwrap();
        assert_eq!(xl.unit_price, Money(2700));
        let pizza = price_line(
            &catalog,
            &sku("PIZZA-VEG"),
            2,
            &[
                c("size", "large"),
                c("crust", "gluten-free"),
                c("topping", "cheese").with_qualifier("extra"),
                c("topping", "olives"),
                Choice::excluded("topping", "onions"),
            ],
        )
        .unwrap();
        // 1300 + 400 + 200 + 150 + 100; the excluded onions cost nothing.
        assert_eq!((pizza.unit_price, pizza.total), (Money(2150), Money(4300)));
        let small = price_line(&catalog, &sku("TRAIL-BOTTLE"), 1, &[c("capacity", "500 ml")]);
        assert_eq!(small.unwrap().unit_price, Money(2200));
    }

    #[test]
    fn what_cannot_be_priced() {
        let catalog = demo_catalog();
        let tee = sku("TEE");
        assert_eq!(price_line(&catalog, &tee, 0, &[]), Err(PricingError::Quantity(0)));
        assert_eq!(price_line(&catalog, &tee, 100, &[]), Err(PricingError::Quantity(100)));
        assert_eq!(
            price_line(&catalog, &sku("NOPE"), 1, &[]),
            Err(PricingError::UnknownProduct(sku("NOPE")))
        );
        assert!(matches!(
            price_line(&catalog, &tee, 1, &[c("flavour", "mint")]),
            Err(PricingError::UnknownGroup { .. })
        ));
        assert!(matches!(
            price_line(&catalog, &tee, 1, &[c("size", "xxl")]),
            Err(PricingError::UnknownValue { .. })
        ));
        assert!(matches!(
            price_line(&catalog, &tee, 1, &[c("size", "m"), c("size", "l")]),
            Err(PricingError::SeveralValues { .. })
        ));
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        let mut catalog = demo_catalog();
        catalog.products[0].price = Money(i64::MAX);
        let code = catalog.products[0].sku.clone();
        assert_eq!(price_line(&catalog, &code, 2, &[]), Err(PricingError::Overflow));
        let line = price_line(&catalog, &code, 1, &[]).unwrap();
        assert_eq!(totals(&[line.clone(), line]), Err(PricingError::Overflow));
    }

    #[test]
    fn totals_sum_the_lines() {
        let catalog = demo_catalog();
        let lines = [
            price_line(&catalog, &sku("COKE"), 3, &[]).unwrap(),
            price_line(&catalog, &sku("COOKIE"), 1, &[]).unwrap(),
        ];
        assert_eq!(
            totals(&lines).unwrap(),
            Totals { subtotal: Money(1050), shipping: Money::ZERO, total: Money(1050) }
        );
        assert_eq!(totals(&[]).unwrap(), Totals::default());
    }

    proptest! {
        #[test]
        fn line_total_is_unit_price_times_quantity(product in 0usize..40, quantity in 1u32..=99) {
            let catalog = demo_catalog();
            let product = &catalog.products[product % catalog.products.len()];
            let line = price_line(&catalog, &product.sku, quantity, &[]).unwrap();
            prop_assert_eq!(line.unit_price, product.price);
            prop_assert_eq!(line.total.minor(), product.price.minor() * i64::from(quantity));
        }
    }
}
