//! Which products one turn's prompt and tools carry: the ones the phrase index finds
//! in the message and the ones already in the order, bounded, so that the prompt does
//! not grow with the catalog. The model reaches any other product through the
//! `search_catalog` tool, whose results join the selection for the next call of the
//! same turn.
//!
//! The selection is a smaller [`Catalog`] with the same products as the shop's, so the
//! prompt, the tool enums and the strict parser all work from one list and can never
//! disagree; prices and stock still come only from the full catalog in the validator.

use crate::catalog::Catalog;
use crate::chat::extract::RulesExtractor;
use crate::orders::OrderState;

/// Products the message names, at most, besides the order's own lines.
pub const MAX_MENTIONED: usize = 8;
/// Order lines whose products are always offered, at most (the most recent ones).
pub const MAX_ORDER_PRODUCTS: usize = 8;
/// Products one `search_catalog` call adds, at most.
pub const MAX_SEARCH_RESULTS: usize = 5;
/// `search_catalog` calls taken in one model answer, at most; the rest are ignored.
pub const MAX_SEARCHES_PER_CALL: usize = 3;
/// Model calls that may search before the last one, which is offered no search.
pub const MAX_SEARCH_ROUNDS: usize = 2;

/// The products offered to the model in one turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// The selected products in the order they were selected, with the shop's
    /// currency.
    catalog: Catalog,
    /// Index into the full catalog of each selected product.
    indices: Vec<usize>,
    /// How many products the full catalog has.
    total: usize,
    /// Each search run so far: the query and the names found.
    searches: Vec<(String, Vec<String>)>,
}

impl Selection {
    /// The order's products (most recent lines first) and the products the message
    /// mentions, best first, each bounded.
    pub fn new(extractor: &RulesExtractor, order: &OrderState, message: &str) -> Selection {
        let full = extractor.catalog();
        let mut selection = Selection {
            catalog: Catalog { currency: full.currency, products: Vec::new() },
            indices: Vec::new(),
            total: full.products.len(),
            searches: Vec::new(),
        };
        let in_order: Vec<usize> = order
            .lines
            .iter()
            .rev()
            .filter_map(|line| full.products.iter().position(|p| p.sku == line.sku))
            .collect();
        let mut taken = 0;
        for index in in_order {
            if taken < MAX_ORDER_PRODUCTS && selection.push(full, index) {
                taken += 1;
            }
        }
        let mut taken = 0;
        for index in extractor.mentioned_products(message) {
            if taken < MAX_MENTIONED && selection.push(full, index) {
                taken += 1;
            }
        }
        selection
    }

    /// The selected products as a catalog: what the prompt lists, the tools enumerate
    /// and the parser accepts.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// How many products the shop's catalog has.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The searches run so far in this turn: the query and the names found.
    pub fn searches(&self) -> &[(String, Vec<String>)] {
        &self.searches
    }

    /// Runs one `search_catalog` query: the products found, best first and bounded,
    /// join the selection. Returns the names found, including those already selected.
    pub fn search(&mut self, extractor: &RulesExtractor, query: &str) -> Vec<String> {
        let full = extractor.catalog();
        let found: Vec<usize> =
            extractor.search_products(query).into_iter().take(MAX_SEARCH_RESULTS).collect();
        for &index in &found {
            self.push(full, index);
        }
        let names: Vec<String> =
            found.iter().map(|&index| full.products[index].name.clone()).collect();
        self.searches.push((query.to_owned(), names.clone()));
        names
    }

    fn push(&mut self, full: &Catalog, index: usize) -> bool {
        if self.indices.contains(&index) || index >= full.products.len() {
            return false;
        }
        self.indices.push(index);
        self.catalog.products.push(full.products[index].clone());
        true
    }
}
