//! Exchanges: the same product back in another size or colour.
//!
//! A customer who asks for an exchange names, per item, the values of the product's
//! single-choice groups they want instead (`{ "Size": "L" }`). [`plan_exchanges`]
//! checks those wishes against the catalog and stock when the return is requested,
//! so the customer hears at once that XL is sold out or costs more; every other
//! choice of the bought line (a multi-choice add-on, an excluded value) is kept.
//! [`replacement_lines`] prices the replacement from the catalog when staff record
//! the exchange, and the server writes it as a new confirmed order whose stock is
//! reserved like any other.
//!
//! Only a swap at the same unit price is an exchange: a dearer or cheaper variant
//! would need a payment or a part refund, which is a refund and a new order.

use std::collections::BTreeMap;

use serde::Serialize;

use super::decide::{Outcome, ReturnDecision, ReturnRequest};
use super::policy::Resolution;
use crate::catalog::{Catalog, Choice, GroupKind, Product};
use crate::money::Money;
use crate::orders::{
    price_line, reservations, shortfalls, stock_requirements, Customer, ExchangeRef, FoldError,
    OrderEvent, OrderState, PostalAddress, PricedLine, PricingError,
};
use crate::sku::Sku;
use crate::stock::StockLevels;

/// Most groups one exchange wish may name; a product has a handful.
pub const MAX_EXCHANGE_GROUPS: usize = 8;

/// One bought line as an exchange needs it: the product and what was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoughtChoices {
    pub sku: Sku,
    pub choices: Vec<Choice>,
}

/// An exchange wish that cannot be met. `item` is the index in the request's items.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    #[error("item {item}: choose the size or colour of the {product} you would like instead")]
    Missing { item: usize, product: String },
    #[error("item {item}: a replacement is only chosen when the resolution is an exchange")]
    NotAnExchange { item: usize },
    #[error("item {item}: the {product} is no longer sold, so it cannot be exchanged; choose a refund or store credit")]
    ProductGone { item: usize, product: String },
    #[error("item {item}: the {product} has no {group:?} to choose; it has {groups}")]
    UnknownGroup { item: usize, product: String, group: String, groups: String },
    #[error("item {item}: the {product} {group} cannot be exchanged, only sizes, colours and other one-of choices")]
    NotSwappable { item: usize, product: String, group: String },
    #[error("item {item}: the {product} {group} cannot be {value:?}; choose one of {values}")]
    UnknownValue { item: usize, product: String, group: String, value: String, values: String },
    #[error("item {item}: that is the {product} you have; choose another size or colour")]
    Unchanged { item: usize, product: String },
    #[error("item {item}: the {product} you chose costs {wanted}, not {bought}; an exchange must cost the same, so choose a refund and order it anew")]
    PriceDiffers { item: usize, product: String, bought: String, wanted: String },
    #[error("item {item}: the {product} you chose is out of stock; choose another size or colour, or a refund")]
    OutOfStock { item: usize, product: String },
    #[error("item {item}: {error}")]
    Pricing { item: usize, error: PricingError },
}

impl ExchangeError {
    /// A stable code for the API's `{ "error": { "code", … } }`.
    pub fn code(&self) -> &'static str {
        match self {
            ExchangeError::Missing { .. } => "exchange_missing",
            ExchangeError::NotAnExchange { .. } => "exchange_not_requested",
            ExchangeError::ProductGone { .. } => "exchange_product_gone",
            ExchangeError::UnknownGroup { .. } => "exchange_unknown_group",
            ExchangeError::NotSwappable { .. } => "exchange_not_swappable",
            ExchangeError::UnknownValue { .. } => "exchange_unknown_value",
            ExchangeError::Unchanged { .. } => "exchange_unchanged",
            ExchangeError::PriceDiffers { .. } => "exchange_price_differs",
            ExchangeError::OutOfStock { .. } => "exchange_out_of_stock",
            ExchangeError::Pricing { .. } => "exchange_invalid",
        }
    }
}

/// One value a bought line could be exchanged for, for the lookup answer and the
/// portal's choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExchangeOption {
    pub group: String,
    /// The value bought, if the line has one for this group.
    pub current: Option<String>,
    /// The other values at the same unit price, in catalog order.
    pub values: Vec<ExchangeValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExchangeValue {
    pub value: String,
    /// Whether one unit is in stock now (the request checks again for the quantity).
    pub available: bool,
}

/// What the bought line could become: per single-choice group, the other values at
/// the same price. Empty when the product is gone or has nothing to swap.
pub fn exchange_options(
    catalog: &Catalog,
    bought: &BoughtChoices,
    stock: &StockLevels,
) -> Vec<ExchangeOption> {
    let Some(product) = catalog.product(&bought.sku) else { return Vec::new() };
    let Ok(price) = price_line(catalog, &bought.sku, 1, &bought.choices) else {
        return Vec::new();
    };
    product
        .options
        .iter()
        .filter(|group| group.kind == GroupKind::Single)
        .filter_map(|group| {
            let current = current_value(product, &bought.choices, &group.name);
            let values: Vec<ExchangeValue> = group
                .values
                .iter()
                .filter(|value| Some(value.name.as_str()) != current.as_deref())
                .filter_map(|value| {
                    let choices = swap(&bought.choices, &group.name, &value.name);
                    let line = price_line(catalog, &bought.sku, 1, &choices).ok()?;
                    (line.unit_price == price.unit_price).then(|| ExchangeValue {
                        value: value.name.clone(),
                        available: in_stock(catalog, &line, stock),
                    })
                })
                .collect();
            (!values.is_empty()).then(|| ExchangeOption {
                group: group.name.clone(),
                current,
                values,
            })
        })
        .collect()
}

/// Checks every item's exchange wish and returns, per item of `decision`, the choices
/// of its replacement: `Some` for an item that is not rejected when the resolution is
/// an exchange, `None` otherwise. Nothing is reserved here; stock is checked so that
/// the customer is not promised a sold-out size.
pub fn plan_exchanges(
    catalog: &Catalog,
    stock: &StockLevels,
    bought: &[BoughtChoices],
    request: &ReturnRequest,
    decision: &ReturnDecision,
) -> Result<Vec<Option<Vec<Choice>>>, ExchangeError> {
    let exchanging = request.resolution == Resolution::Exchange;
    let mut planned = Vec::with_capacity(decision.items.len());
    let mut replacements = Vec::new();
    for (item, (asked, decided)) in request.items.iter().zip(&decision.items).enumerate() {
        let wish = asked.exchange.as_ref().filter(|wish| !wish.is_empty());
        if !exchanging {
            if wish.is_some() {
                return Err(ExchangeError::NotAnExchange { item });
            }
            planned.push(None);
            continue;
        }
        if decided.decision.outcome == Outcome::Rejected {
            planned.push(None);
            continue;
        }
        let line = &bought[decided.line];
        let wish = wish.ok_or_else(|| ExchangeError::Missing {
            item,
            product: catalog
                .product(&line.sku)
                .map_or_else(|| line.sku.to_string(), |p| p.name.clone()),
        })?;
        let choices = replacement_choices(catalog, line, wish, item)?;
        let priced = price_line(catalog, &line.sku, decided.quantity, &choices)
            .map_err(|error| ExchangeError::Pricing { item, error })?;
        replacements.push((item, priced));
        planned.push(Some(choices));
    }
    // Stock is checked for all replacements together: two items may want the last L.
    let lines: Vec<PricedLine> = replacements.iter().map(|(_, line)| line.clone()).collect();
    let short = shortfalls(&stock_requirements(catalog, &lines), stock);
    if let Some(shortfall) = short.first() {
        let (item, line) = replacements
            .iter()
            .find(|(_, line)| {
                stock_requirements(catalog, std::slice::from_ref(line)).contains_key(&shortfall.key)
            })
            .unwrap_or(&replacements[0]);
        return Err(ExchangeError::OutOfStock { item: *item, product: line.name.clone() });
    }
    Ok(planned)
}

/// Why the replacement of a received exchange cannot be shipped now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplacementError {
    #[error("this return has no item to replace")]
    Nothing,
    #[error("the replacement cannot be priced: {0}")]
    Pricing(#[from] PricingError),
    #[error(
        "the replacement {product} is out of stock now; record a refund or store credit instead"
    )]
    OutOfStock { product: String },
    #[error("the replacement order is inconsistent: {0}")]
    Event(#[from] FoldError),
}

/// One item to ship again: the product, how many, and the replacement's choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplacementItem {
    pub sku: Sku,
    pub quantity: u32,
    pub choices: Vec<Choice>,
}

/// The events of the order that ships an exchange's replacement: marked as the
/// exchange for `rma`, the lines priced from the catalog now, the original order's
/// customer and address, and confirmed with its stock reserved. Returns the events
/// and the order they fold to.
pub fn replacement_order(
    catalog: &Catalog,
    stock: &StockLevels,
    exchange: ExchangeRef,
    items: &[ReplacementItem],
    customer: &Customer,
    address: Option<&PostalAddress>,
) -> Result<(Vec<OrderEvent>, OrderState), ReplacementError> {
    if items.is_empty() {
        return Err(ReplacementError::Nothing);
    }
    let lines = items
        .iter()
        .map(|item| price_line(catalog, &item.sku, item.quantity, &item.choices))
        .collect::<Result<Vec<_>, _>>()?;
    let needs = stock_requirements(catalog, &lines);
    if let Some(short) = shortfalls(&needs, stock).first() {
        let product = catalog
            .product(&short.key.sku)
            .map_or_else(|| short.key.sku.to_string(), |p| p.name.clone());
        return Err(ReplacementError::OutOfStock { product });
    }
    let mut events =
        vec![OrderEvent::ExchangeFor { rma: exchange.rma, original: exchange.original }];
    events.extend(lines.into_iter().map(|line| OrderEvent::LineAdded { line }));
    if !customer.is_empty() {
        events.push(OrderEvent::CustomerIdentified {
            name: customer.name.clone(),
            email: customer.email.clone(),
            phone: customer.phone.clone(),
        });
    }
    if let Some(address) = address {
        events.push(OrderEvent::ShippingAddressSet { address: address.clone() });
    }
    let draft = OrderState::fold(catalog.currency, &events)?;
    events.push(OrderEvent::Confirmed { totals: draft.totals, reservations: reservations(&needs) });
    let order = OrderState::fold(catalog.currency, &events)?;
    Ok((events, order))
}

/// The bought line's choices with the wished single-choice values swapped in, after
/// checking that every group and value exists, something changes and the price stays.
fn replacement_choices(
    catalog: &Catalog,
    bought: &BoughtChoices,
    wish: &BTreeMap<String, String>,
    item: usize,
) -> Result<Vec<Choice>, ExchangeError> {
    let product = catalog
        .product(&bought.sku)
        .ok_or_else(|| ExchangeError::ProductGone { item, product: bought.sku.to_string() })?;
    if wish.len() > MAX_EXCHANGE_GROUPS {
        return Err(ExchangeError::UnknownGroup {
            item,
            product: product.name.clone(),
            group: format!("{} groups", wish.len()),
            groups: group_names(product),
        });
    }
    let mut choices = bought.choices.clone();
    for (group_name, value_name) in wish {
        let group = product.option(group_name).ok_or_else(|| ExchangeError::UnknownGroup {
            item,
            product: product.name.clone(),
            group: group_name.clone(),
            groups: group_names(product),
        })?;
        if group.kind != GroupKind::Single {
            return Err(ExchangeError::NotSwappable {
                item,
                product: product.name.clone(),
                group: group.name.clone(),
            });
        }
        let value = group.value(value_name).ok_or_else(|| ExchangeError::UnknownValue {
            item,
            product: product.name.clone(),
            group: group.name.clone(),
            value: value_name.clone(),
            values: group.values.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", "),
        })?;
        choices = swap(&choices, &group.name, &value.name);
    }
    let before = price_line(catalog, &bought.sku, 1, &bought.choices)
        .map_err(|error| ExchangeError::Pricing { item, error })?;
    let after = price_line(catalog, &bought.sku, 1, &choices)
        .map_err(|error| ExchangeError::Pricing { item, error })?;
    if same_values(&before.choices, &after.choices) {
        return Err(ExchangeError::Unchanged { item, product: product.name.clone() });
    }
    if before.unit_price != after.unit_price {
        return Err(ExchangeError::PriceDiffers {
            item,
            product: product.name.clone(),
            bought: format_money(before.unit_price, catalog),
            wanted: format_money(after.unit_price, catalog),
        });
    }
    Ok(choices)
}

/// `choices` with the single value of `group` replaced by (or, if absent, set to)
/// `value`; everything else kept in place.
fn swap(choices: &[Choice], group: &str, value: &str) -> Vec<Choice> {
    let mut swapped: Vec<Choice> = Vec::with_capacity(choices.len() + 1);
    let mut replaced = false;
    for choice in choices {
        if choice.group == group && !choice.exclude {
            if !replaced {
                swapped.push(Choice {
                    group: group.to_owned(),
                    value: value.to_owned(),
                    qualifier: None,
                    exclude: false,
                });
                replaced = true;
            }
        } else {
            swapped.push(choice.clone());
        }
    }
    if !replaced {
        swapped.push(Choice {
            group: group.to_owned(),
            value: value.to_owned(),
            qualifier: None,
            exclude: false,
        });
    }
    swapped
}

/// The value the bought line has for a single-choice group: chosen, or the
/// group's default when the shopper left it.
fn current_value(product: &Product, choices: &[Choice], group: &str) -> Option<String> {
    choices
        .iter()
        .find(|choice| choice.group == group && !choice.exclude)
        .map(|choice| choice.value.clone())
        .or_else(|| product.option(group)?.default.clone())
}

fn same_values(a: &[Choice], b: &[Choice]) -> bool {
    let key = |choices: &[Choice]| {
        let mut values: Vec<(String, String, bool)> =
            choices.iter().map(|c| (c.group.clone(), c.value.clone(), c.exclude)).collect();
        values.sort();
        values
    };
    key(a) == key(b)
}

fn in_stock(catalog: &Catalog, line: &PricedLine, stock: &StockLevels) -> bool {
    shortfalls(&stock_requirements(catalog, std::slice::from_ref(line)), stock).is_empty()
}

fn group_names(product: &Product) -> String {
    product.options.iter().map(|g| g.name.as_str()).collect::<Vec<_>>().join(", ")
}

fn format_money(amount: Money, catalog: &Catalog) -> String {
    amount.format(&catalog.currency)
}

#[cfg(test)]
#[path = "exchange_tests.rs"]
mod tests;
