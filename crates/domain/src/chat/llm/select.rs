//! Which products one turn's prompt and tools carry: the ones the phrase index finds
//! in the message and the ones already in the order, bounded in number and in the
//! length of their listing, so that the prompt does not grow with the catalog nor with
//! how much a shop says about each product. The model reaches any other product
//! through the `search_catalog` tool, whose results join the selection for the next
//! call of the same turn.
//!
//! The selection is a smaller [`Catalog`] with the same products as the shop's, so the
//! prompt, the tool enums and the strict parser all work from one list and can never
//! disagree; prices and stock still come only from the full catalog in the validator.

use crate::catalog::Catalog;
use crate::chat::extract::RulesExtractor;
use crate::orders::OrderState;

use super::listing::product_line;

/// Products the message names, at most, besides the order's own lines.
pub const MAX_MENTIONED: usize = 8;
/// Order lines whose products are offered, at most (the line last talked about, then
/// the most recent ones), as far as [`MAX_LISTED_CHARS`] allows.
pub const MAX_ORDER_PRODUCTS: usize = 8;
/// Products one `search_catalog` call adds, at most.
pub const MAX_SEARCH_RESULTS: usize = 5;
/// `search_catalog` calls taken in one model answer, at most; the rest are ignored.
pub const MAX_SEARCHES_PER_CALL: usize = 3;
/// Model calls that may search before the last one, which is offered no search.
pub const MAX_SEARCH_ROUNDS: usize = 2;
/// Characters of product lines one turn's prompt lists at most, searches included. The
/// tools repeat the listed names and values once more, so this is most of what a turn
/// adds to the fixed rules and tools; with it, a call stays under 2,000 tokens.
pub const MAX_LISTED_CHARS: usize = 1_600;
/// Of [`MAX_LISTED_CHARS`], what the products chosen before any search leave free, so
/// that a search can still add a product.
pub const SEARCH_RESERVE_CHARS: usize = 300;

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
    /// Characters of the selected products' lines in the prompt.
    listed: usize,
}

impl Selection {
    /// The product of the line last talked about, the products the message mentions
    /// (best first), then the order's other products (most recent lines first), each
    /// group bounded in number and all of them in the length of their listing: a
    /// product that does not fit is left out and the next one tried. The first product
    /// is always taken, however long, so that the line an edit means is never missing.
    pub fn new(extractor: &RulesExtractor, order: &OrderState, message: &str) -> Selection {
        let full = extractor.catalog();
        let mut selection = Selection {
            catalog: Catalog { currency: full.currency, products: Vec::new() },
            indices: Vec::new(),
            total: full.products.len(),
            searches: Vec::new(),
            listed: 0,
        };
        let budget = MAX_LISTED_CHARS - SEARCH_RESERVE_CHARS;
        let position = |sku| full.products.iter().position(|p| &p.sku == sku);
        let last = order.last_line.and_then(|i| order.lines.get(i)).and_then(|l| position(&l.sku));
        let in_order: Vec<usize> =
            order.lines.iter().rev().filter_map(|line| position(&line.sku)).collect();
        if let Some(index) = last {
            selection.push(full, index, budget);
        }
        let mut taken = 0;
        for index in extractor.mentioned_products(message) {
            if taken < MAX_MENTIONED && selection.push(full, index, budget) {
                taken += 1;
            }
        }
        let mut taken = usize::from(last.is_some());
        for index in in_order {
            if taken < MAX_ORDER_PRODUCTS && selection.push(full, index, budget) {
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
    /// join the selection as far as [`MAX_LISTED_CHARS`] allows. Returns the names
    /// found that the selection now offers, including those already selected.
    pub fn search(&mut self, extractor: &RulesExtractor, query: &str) -> Vec<String> {
        let full = extractor.catalog();
        let found: Vec<usize> =
            extractor.search_products(query).into_iter().take(MAX_SEARCH_RESULTS).collect();
        let mut names = Vec::new();
        for index in found {
            if self.push(full, index, MAX_LISTED_CHARS) || self.indices.contains(&index) {
                names.push(full.products[index].name.clone());
            }
        }
        self.searches.push((query.to_owned(), names.clone()));
        names
    }

    /// Adds a product not yet selected when its line fits in `budget` characters of
    /// listing (the first product always fits).
    fn push(&mut self, full: &Catalog, index: usize, budget: usize) -> bool {
        let Some(product) = full.products.get(index) else { return false };
        if self.indices.contains(&index) {
            return false;
        }
        let chars = product_line(product).chars().count();
        if !self.indices.is_empty() && self.listed + chars > budget {
            return false;
        }
        self.listed += chars;
        self.indices.push(index);
        self.catalog.products.push(product.clone());
        true
    }
}
