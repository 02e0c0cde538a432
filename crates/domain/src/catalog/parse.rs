//! From catalog file to [`Catalog`], in two steps.
//!
//! serde reads the file into `Raw*` structs that mirror it loosely (strings where the
//! domain has `Sku` or `Currency`), so that one bad SKU does not hide the next
//! forty problems behind serde's first error. The checks then turn the raw structs
//! into domain types while collecting every problem with its product and field.
//!
//! The raw structs are generic over their children only so that, when serde does
//! fail (a misspelt field, a string where a number belongs), the same definitions
//! can be re-run one level at a time to say which product and option it was.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

use super::{
    normalise_term, Catalog, CatalogError, GroupKind, OptionGroup, OptionValue, Problem, Product,
};
use crate::money::{Currency, Money};
use crate::sku::Sku;

pub const MAX_NAME_CHARS: usize = 120;
pub const MAX_CATEGORY_CHARS: usize = 60;
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// A million dollars in cents: far above anything sold by chat, far below overflow
/// even when multiplied by a large quantity.
pub const MAX_PRICE: Money = Money(100_000_000);
pub const MAX_RETURN_DAYS: u32 = 3650;

// The explicit bounds stop serde from asking the child types for `Default`, which
// it would because of `#[serde(default)]` on the vectors.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "P: Deserialize<'de>"))]
pub(super) struct RawCatalog<P = RawProduct> {
    currency: String,
    // Missing and empty get the same, clearer, message from the checks.
    #[serde(default)]
    products: Vec<P>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "G: Deserialize<'de>"))]
pub(super) struct RawProduct<G = RawGroup> {
    sku: String,
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    price: i64,
    stock: Option<u32>,
    #[serde(default)]
    final_sale: bool,
    return_days: Option<u32>,
    category: Option<String>,
    description: Option<String>,
    #[serde(default)]
    options: Vec<G>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "V: Deserialize<'de>"))]
pub(super) struct RawGroup<V = RawValue> {
    name: String,
    kind: GroupKind,
    #[serde(default)]
    required: bool,
    default: Option<String>,
    #[serde(default)]
    qualifiers: Vec<String>,
    #[serde(default)]
    values: Vec<V>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawValue {
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    price_delta: i64,
    stock: Option<u32>,
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            path: path.into(),
            line: None,
            column: None,
            message: message.into(),
        });
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn into_error(self) -> CatalogError {
        CatalogError { problems: self.0 }
    }
}

pub(super) fn catalog_from_json(text: &str) -> Result<Catalog, CatalogError> {
    match serde_json::from_str::<RawCatalog>(text) {
        Ok(raw) => check_catalog(raw),
        Err(error) => Err(CatalogError { problems: json_problems(text, &error) }),
    }
}

pub(super) fn check_catalog(raw: RawCatalog) -> Result<Catalog, CatalogError> {
    let mut problems = Problems::default();
    let currency = Currency::parse(&raw.currency)
        .map_err(|error| problems.add("currency", error.to_string()))
        .ok();
    if raw.products.is_empty() {
        problems.add("products", "the catalog has no products; it needs at least one");
    }
    let mut skus: HashMap<Sku, String> = HashMap::new();
    let mut terms: HashMap<String, TermOwner> = HashMap::new();
    let mut products = Vec::with_capacity(raw.products.len());
    for (index, raw_product) in raw.products.into_iter().enumerate() {
        let label = product_label(Some(index), &raw_product.sku);
        if let Ok(sku) = Sku::parse(&raw_product.sku) {
            match skus.get(&sku) {
                Some(first) => problems
                    .add(format!("{label}.sku"), format!("SKU {sku} is already used by {first}")),
                None => {
                    skus.insert(sku, label.clone());
                }
            }
        }
        check_terms_are_unique(index, &raw_product, &label, &mut terms, &mut problems);
        if let Some(product) = product(raw_product, &label, &mut problems) {
            products.push(product);
        }
    }
    match currency {
        Some(currency) if problems.is_empty() => Ok(Catalog { currency, products }),
        _ => Err(problems.into_error()),
    }
}

pub(super) fn check_product(raw: RawProduct) -> Result<Product, CatalogError> {
    let mut problems = Problems::default();
    let label = product_label(None, &raw.sku);
    match product(raw, &label, &mut problems) {
        Some(product) if problems.is_empty() => Ok(product),
        _ => Err(problems.into_error()),
    }
}

/// `products[3] (TEE)`: the index finds it in the file, the SKU in the shop's head.
fn product_label(index: Option<usize>, raw_sku: &str) -> String {
    let base = match index {
        Some(index) => format!("products[{index}]"),
        None => "product".to_owned(),
    };
    match raw_sku.trim() {
        "" => base,
        sku => format!("{base} ({sku})"),
    }
}

struct TermOwner {
    index: usize,
    label: String,
    what: &'static str,
}

/// The agent finds a product by its name or an alias; if two products share one,
/// a shopper saying it could never get the second.
fn check_terms_are_unique(
    index: usize,
    raw: &RawProduct,
    label: &str,
    terms: &mut HashMap<String, TermOwner>,
    problems: &mut Problems,
) {
    let named = std::iter::once(("name".to_owned(), &raw.name, "the name"));
    let aliased = raw
        .aliases
        .iter()
        .enumerate()
        .map(|(j, alias)| (format!("aliases[{j}]"), alias, "an alias"));
    for (field, term, what) in named.chain(aliased) {
        let key = normalise_term(term);
        if key.is_empty() {
            continue;
        }
        match terms.get(&key) {
            Some(owner) if owner.index != index => problems.add(
                format!("{label}.{field}"),
                format!(
                    "{:?} is also {} of {}, so a shopper could not tell the two products apart",
                    term.trim(),
                    owner.what,
                    owner.label
                ),
            ),
            Some(_) => {}
            None => {
                terms.insert(key, TermOwner { index, label: label.to_owned(), what });
            }
        }
    }
}

/// Trims, and reports an empty or over-long text. `None` only when empty.
fn text_field(
    raw: &str,
    path: String,
    what: &str,
    max_chars: usize,
    problems: &mut Problems,
) -> Option<String> {
    let text = raw.trim();
    if text.is_empty() {
        problems.add(path, format!("{what} must not be empty"));
        return None;
    }
    let chars = text.chars().count();
    if chars > max_chars {
        problems
            .add(path, format!("{what} has {chars} characters; at most {max_chars} are allowed"));
    }
    Some(text.to_owned())
}

fn product(raw: RawProduct, label: &str, problems: &mut Problems) -> Option<Product> {
    let before = problems.len();
    let sku = Sku::parse(&raw.sku)
        .map_err(|error| problems.add(format!("{label}.sku"), error.to_string()))
        .ok();
    let name = text_field(&raw.name, format!("{label}.name"), "the name", MAX_NAME_CHARS, problems);
    let aliases: Vec<Option<String>> = raw
        .aliases
        .iter()
        .enumerate()
        .map(|(j, alias)| {
            text_field(alias, format!("{label}.aliases[{j}]"), "an alias", MAX_NAME_CHARS, problems)
        })
        .collect();
    if !(0..=MAX_PRICE.minor()).contains(&raw.price) {
        problems.add(
            format!("{label}.price"),
            format!(
                "the price must be between 0 and {} minor units, not {}",
                MAX_PRICE.minor(),
                raw.price
            ),
        );
    }
    if let Some(days) = raw.return_days.filter(|days| *days > MAX_RETURN_DAYS) {
        problems.add(
            format!("{label}.return_days"),
            format!("return_days must be at most {MAX_RETURN_DAYS} (ten years), not {days}"),
        );
    }
    let category = raw.category.as_deref().map(|category| {
        text_field(
            category,
            format!("{label}.category"),
            "the category",
            MAX_CATEGORY_CHARS,
            problems,
        )
    });
    let description = raw.description.as_deref().map(|description| {
        text_field(
            description,
            format!("{label}.description"),
            "the description",
            MAX_DESCRIPTION_CHARS,
            problems,
        )
    });

    let mut group_names: HashMap<String, usize> = HashMap::new();
    let mut options = Vec::with_capacity(raw.options.len());
    for (j, raw_group) in raw.options.into_iter().enumerate() {
        let at = format!("{label}.options[{j}]");
        let key = normalise_term(&raw_group.name);
        if !key.is_empty() {
            match group_names.get(&key) {
                Some(first) => problems.add(
                    format!("{at}.name"),
                    format!(
                        "{:?} is already the name of options[{first}]; each group in a product needs its own name",
                        raw_group.name.trim()
                    ),
                ),
                None => {
                    group_names.insert(key, j);
                }
            }
        }
        if let Some(group) = group(raw_group, raw.price, &at, problems) {
            options.push(group);
        }
    }

    if problems.len() > before {
        return None;
    }
    let cheapest = cheapest_combination(raw.price, &options);
    if cheapest < 0 {
        problems.add(
            format!("{label}.options"),
            format!(
                "the cheapest combination of options costs {cheapest} minor units; it must not be below zero"
            ),
        );
        return None;
    }
    Some(Product {
        sku: sku?,
        name: name?,
        aliases: aliases.into_iter().collect::<Option<_>>()?,
        price: Money(raw.price),
        stock: raw.stock,
        final_sale: raw.final_sale,
        return_days: raw.return_days,
        category: category.flatten(),
        description: description.flatten(),
        options,
    })
}

/// Each value's delta is checked on its own; this catches several discounts that
/// are harmless alone but add up to a negative price (a multi group allows all).
fn cheapest_combination(price: i64, options: &[OptionGroup]) -> i128 {
    options.iter().fold(i128::from(price), |total, group| {
        let discounts = group
            .values
            .iter()
            .map(|value| i128::from(value.price_delta.minor()))
            .filter(|delta| *delta < 0);
        total
            + match group.kind {
                GroupKind::Single => discounts.min().unwrap_or(0),
                GroupKind::Multi => discounts.sum(),
            }
    })
}

fn group(raw: RawGroup, price: i64, at: &str, problems: &mut Problems) -> Option<OptionGroup> {
    let before = problems.len();
    let name =
        text_field(&raw.name, format!("{at}.name"), "a group name", MAX_NAME_CHARS, problems);
    if raw.values.is_empty() {
        problems.add(format!("{at}.values"), "a group needs at least one value");
    }

    // Every name and alias in the group, to its value's index and canonical name.
    let mut terms: HashMap<String, (usize, String)> = HashMap::new();
    let mut names: Vec<String> = Vec::with_capacity(raw.values.len());
    let mut values: Vec<OptionValue> = Vec::with_capacity(raw.values.len());
    for (k, raw_value) in raw.values.into_iter().enumerate() {
        let vat = format!("{at}.values[{k}]");
        let value_name = text_field(
            &raw_value.name,
            format!("{vat}.name"),
            "a value name",
            MAX_NAME_CHARS,
            problems,
        );
        let aliases: Vec<Option<String>> = raw_value
            .aliases
            .iter()
            .enumerate()
            .map(|(m, alias)| {
                text_field(
                    alias,
                    format!("{vat}.aliases[{m}]"),
                    "an alias",
                    MAX_NAME_CHARS,
                    problems,
                )
            })
            .collect();
        let canonical = raw_value.name.trim().to_owned();
        let named = std::iter::once(("name".to_owned(), &raw_value.name));
        let aliased =
            raw_value.aliases.iter().enumerate().map(|(m, alias)| (format!("aliases[{m}]"), alias));
        for (field, term) in named.chain(aliased) {
            let key = normalise_term(term);
            if key.is_empty() {
                continue;
            }
            match terms.get(&key) {
                Some((other, other_name)) if *other != k => problems.add(
                    format!("{vat}.{field}"),
                    format!(
                        "{:?} already names values[{other}] ({other_name}) in this group",
                        term.trim()
                    ),
                ),
                Some(_) => {}
                None => {
                    terms.insert(key, (k, canonical.clone()));
                }
            }
        }
        let delta = raw_value.price_delta;
        if !(-MAX_PRICE.minor()..=MAX_PRICE.minor()).contains(&delta) {
            problems.add(
                format!("{vat}.price_delta"),
                format!(
                    "price_delta must be between -{max} and {max} minor units, not {delta}",
                    max = MAX_PRICE.minor()
                ),
            );
        } else if (0..=MAX_PRICE.minor()).contains(&price) && price + delta < 0 {
            problems.add(
                format!("{vat}.price_delta"),
                format!("the price {price} with this price_delta {delta} would be below zero"),
            );
        }
        names.push(canonical);
        if let (Some(name), Some(aliases)) =
            (value_name, aliases.into_iter().collect::<Option<Vec<_>>>())
        {
            values.push(OptionValue {
                name,
                aliases,
                price_delta: Money(delta),
                stock: raw_value.stock,
            });
        }
    }

    let default = match (raw.default, raw.kind) {
        (None, _) => None,
        (Some(_), GroupKind::Multi) => {
            problems.add(
                format!("{at}.default"),
                "only a single group can have a default, and this one is multi",
            );
            None
        }
        (Some(default), GroupKind::Single) => match terms.get(&normalise_term(&default)) {
            Some((_, canonical)) => Some(canonical.clone()),
            None => {
                problems.add(
                    format!("{at}.default"),
                    format!(
                        "{:?} is not one of the group's values: {}",
                        default.trim(),
                        names.join(", ")
                    ),
                );
                None
            }
        },
    };

    if raw.kind == GroupKind::Single && !raw.qualifiers.is_empty() {
        problems.add(
            format!("{at}.qualifiers"),
            "only a multi group can have qualifiers, and this one is single",
        );
    }
    let qualifiers: Vec<Option<String>> = raw
        .qualifiers
        .iter()
        .enumerate()
        .map(|(q, qualifier)| {
            text_field(
                qualifier,
                format!("{at}.qualifiers[{q}]"),
                "a qualifier",
                MAX_NAME_CHARS,
                problems,
            )
        })
        .collect();

    if problems.len() > before {
        return None;
    }
    Some(OptionGroup {
        name: name?,
        kind: raw.kind,
        required: raw.required,
        default,
        qualifiers: qualifiers.into_iter().collect::<Option<_>>()?,
        values,
    })
}

/// serde stops at the first error and knows only its line and column. Re-reading
/// the file as a tree, one product, group and value at a time, finds every such
/// error and names where it is; the line and column go on the one serde reported.
fn json_problems(text: &str, error: &serde_json::Error) -> Vec<Problem> {
    let line = (error.line() > 0).then_some(error.line());
    let column = (error.line() > 0).then_some(error.column());
    let full = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
    let whole_file = Problem { path: String::new(), line, column, message: message.clone() };
    if error.classify() != serde_json::error::Category::Data {
        return vec![whole_file];
    }
    let Ok(tree) = serde_json::from_str::<Value>(text) else {
        return vec![whole_file];
    };
    let mut located = locate_data_errors(&tree);
    match located.iter_mut().find(|problem| problem.message == message) {
        Some(problem) => {
            problem.line = line;
            problem.column = column;
        }
        // Something only the streaming parse sees, such as a field given twice.
        None => located.insert(0, whole_file),
    }
    located
}

fn locate_data_errors(tree: &Value) -> Vec<Problem> {
    let mut problems = Problems::default();
    let top = match RawCatalog::<Value>::deserialize(tree) {
        Ok(top) => top,
        Err(error) => {
            problems.add("", error.to_string());
            return problems.0;
        }
    };
    for (i, product_tree) in top.products.iter().enumerate() {
        let raw_sku = product_tree.get("sku").and_then(Value::as_str).unwrap_or("");
        let label = product_label(Some(i), raw_sku);
        let product = match RawProduct::<Value>::deserialize(product_tree) {
            Ok(product) => product,
            Err(error) => {
                problems.add(label, error.to_string());
                continue;
            }
        };
        for (j, group_tree) in product.options.iter().enumerate() {
            let at = format!("{label}.options[{j}]");
            let group = match RawGroup::<Value>::deserialize(group_tree) {
                Ok(group) => group,
                Err(error) => {
                    problems.add(at, error.to_string());
                    continue;
                }
            };
            for (k, value_tree) in group.values.iter().enumerate() {
                if let Err(error) = RawValue::deserialize(value_tree) {
                    problems.add(format!("{at}.values[{k}]"), error.to_string());
                }
            }
        }
    }
    problems.0
}
