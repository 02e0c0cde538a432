//! What the extractor is told about the draft: the leaf the extractor's stages and the
//! draft that builds it both depend on.

use serde::{Deserialize, Serialize};

use crate::catalog::Choice;
use crate::chat::command::ProductRef;
use crate::sku::Sku;

/// What the draft already holds, as far as reading a message needs to know: "make
/// that 3" needs the last line, "the pizza" needs to know which pizza is there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftContext {
    pub lines: Vec<ContextLine>,
    /// Index into `lines` of the line the conversation last touched.
    pub last: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextLine {
    pub sku: Sku,
    pub quantity: u32,
    pub choices: Vec<Choice>,
}

/// Which draft lines a product the shopper named can mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    One(Sku),
    /// "the pizza" with two different pizzas in the draft.
    Many(Vec<Sku>),
    Nothing,
}

impl DraftContext {
    pub fn empty() -> DraftContext {
        DraftContext::default()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn resolve(&self, product: &ProductRef) -> Resolved {
        let candidates = product.candidates();
        let mut skus: Vec<Sku> = Vec::new();
        for line in &self.lines {
            if candidates.contains(&line.sku) && !skus.contains(&line.sku) {
                skus.push(line.sku.clone());
            }
        }
        match skus.len() {
            0 => Resolved::Nothing,
            1 => Resolved::One(skus.remove(0)),
            _ => Resolved::Many(skus),
        }
    }

    /// The line with this product, the last touched if several.
    pub fn line_of(&self, sku: &Sku) -> Option<&ContextLine> {
        let last = self.last.and_then(|i| self.lines.get(i)).filter(|line| &line.sku == sku);
        last.or_else(|| self.lines.iter().rev().find(|line| &line.sku == sku))
    }

    pub fn quantity_of(&self, sku: &Sku) -> Option<u32> {
        self.line_of(sku).map(|line| line.quantity)
    }
}
