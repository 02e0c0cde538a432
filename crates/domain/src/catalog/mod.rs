//! The catalog file (CONTRACTS §1) and the products it describes.
//!
//! The chat agent resolves a shopper's words against product names, aliases and
//! option values, so a catalog that imports must already be one the agent can use:
//! no two products answering to the same word, no default that names a missing
//! value, no option that makes a price negative. [`Catalog::from_json`] is the only
//! door in and checks all of that at once, reporting every problem rather than the
//! first, because a shop fixing a spreadsheet export wants the whole list.

mod choice;
mod parse;
#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::money::{Currency, Money};
use crate::sku::Sku;

pub use choice::Choice;
pub use parse::{
    MAX_CATEGORY_CHARS, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, MAX_PRICE, MAX_RETURN_DAYS,
};

/// Stock at or below this (but above zero) is worth telling the shopper about.
pub const LOW_STOCK_THRESHOLD: u32 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Catalog {
    pub currency: Currency,
    pub products: Vec<Product>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    pub sku: Sku,
    pub name: String,
    pub aliases: Vec<String>,
    pub price: Money,
    /// `None`: not tracked, always available.
    pub stock: Option<u32>,
    pub final_sale: bool,
    /// `None`: the shop's usual return window applies.
    pub return_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub options: Vec<OptionGroup>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionGroup {
    pub name: String,
    pub kind: GroupKind,
    pub required: bool,
    /// Always a canonical value name, even when the file named it by an alias.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub qualifiers: Vec<String>,
    pub values: Vec<OptionValue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupKind {
    /// At most one value, e.g. a size.
    Single,
    /// Any number of values, e.g. pizza toppings.
    Multi,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionValue {
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "is_zero")]
    pub price_delta: Money,
    /// `None`: limited only by the product's own stock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock: Option<u32>,
}

fn is_zero(money: &Money) -> bool {
    *money == Money::ZERO
}

/// Why a catalog was not imported: every problem found, so the shop can fix them in
/// one pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}", lines(.problems))]
pub struct CatalogError {
    pub problems: Vec<Problem>,
}

/// One problem, located both ways a person might look for it: by the product and
/// field (`path`) and, for JSON syntax and type errors, by position in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// E.g. `products[3] (TEE).options[1].default`; empty when the problem is the
    /// file as a whole.
    pub path: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

fn lines(problems: &[Problem]) -> String {
    problems.iter().map(Problem::to_string).collect::<Vec<_>>().join("\n")
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let position = match (self.line, self.column) {
            (Some(line), Some(column)) => Some(format!("line {line}, column {column}")),
            (Some(line), None) => Some(format!("line {line}")),
            _ => None,
        };
        match (self.path.is_empty(), position) {
            (true, None) => write!(f, "{}", self.message),
            (true, Some(position)) => write!(f, "{position}: {}", self.message),
            (false, None) => write!(f, "{}: {}", self.path, self.message),
            (false, Some(position)) => write!(f, "{} ({position}): {}", self.path, self.message),
        }
    }
}

impl Catalog {
    /// Parses and checks a catalog file; nothing partial ever comes out.
    pub fn from_json(text: &str) -> Result<Catalog, CatalogError> {
        parse::catalog_from_json(text)
    }

    /// The catalog as a file that [`Catalog::from_json`] reads back to an equal value.
    pub fn to_json_pretty(&self) -> String {
        // Only strings, integers, booleans and sequences: serialization cannot fail.
        serde_json::to_string_pretty(self).expect("a catalog always serializes to JSON")
    }

    pub fn product(&self, sku: &Sku) -> Option<&Product> {
        self.products.iter().find(|product| &product.sku == sku)
    }

    /// Distinct categories in the order the file first mentions them, which is the
    /// order the shop chose for its menu.
    pub fn categories(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for category in self.products.iter().filter_map(|p| p.category.as_deref()) {
            if !seen.contains(&category) {
                seen.push(category);
            }
        }
        seen
    }
}

/// Runs the same checks as [`Catalog::from_json`], so a catalog stored as JSON (in a
/// database, say) cannot come back in a state the importer would have refused.
impl<'de> Deserialize<'de> for Catalog {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = parse::RawCatalog::deserialize(deserializer)?;
        parse::check_catalog(raw).map_err(serde::de::Error::custom)
    }
}

/// Checks everything about one product that does not depend on the others.
impl<'de> Deserialize<'de> for Product {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = parse::RawProduct::deserialize(deserializer)?;
        parse::check_product(raw).map_err(serde::de::Error::custom)
    }
}

impl Product {
    /// Tracked and nearly gone: 1 to [`LOW_STOCK_THRESHOLD`] units on hand.
    pub fn is_low_stock(&self) -> bool {
        matches!(self.stock, Some(n) if (1..=LOW_STOCK_THRESHOLD).contains(&n))
    }

    /// The option group with this name, ignoring case.
    pub fn option(&self, group: &str) -> Option<&OptionGroup> {
        let wanted = normalise_term(group);
        self.options.iter().find(|candidate| normalise_term(&candidate.name) == wanted)
    }
}

impl OptionGroup {
    /// The value with this name or alias, ignoring case and extra spaces.
    pub fn value(&self, name: &str) -> Option<&OptionValue> {
        let wanted = normalise_term(name);
        self.values.iter().find(|value| value.answers_to(&wanted))
    }

    pub fn default_value(&self) -> Option<&OptionValue> {
        self.default.as_deref().and_then(|name| self.value(name))
    }
}

impl OptionValue {
    fn answers_to(&self, normalised: &str) -> bool {
        std::iter::once(&self.name)
            .chain(&self.aliases)
            .any(|term| normalise_term(term) == normalised)
    }
}

/// How names and aliases are compared: case and runs of whitespace do not matter,
/// since shoppers type "T  Shirt" as readily as "t shirt".
pub fn normalise_term(term: &str) -> String {
    term.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}
