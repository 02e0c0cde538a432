//! Where stock is counted and how much of it a new order may take.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::sku::Sku;

/// A product as a whole, or one value of one option group (a size, a colour) when the
/// catalog gives that value its own stock.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StockKey {
    pub sku: Sku,
    /// `None` for the product's own stock, else `(group, value)` by canonical names.
    pub option: Option<(String, String)>,
}

impl StockKey {
    pub fn product(sku: Sku) -> Self {
        StockKey { sku, option: None }
    }

    pub fn value(sku: Sku, group: &str, value: &str) -> Self {
        StockKey { sku, option: Some((group.to_owned(), value.to_owned())) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub on_hand: u32,
    pub reserved: u32,
}

impl StockLevel {
    /// Available to promise: what a new order may still take.
    pub fn available(self) -> u32 {
        self.on_hand.saturating_sub(self.reserved)
    }
}

/// Only tracked stock appears here: a key that is absent is not limited.
pub type StockLevels = BTreeMap<StockKey, StockLevel>;
