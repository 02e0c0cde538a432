//! Adding, changing and removing lines: the draft editor decides what the shopper
//! meant, then the lines are priced from the catalog and checked against stock before
//! any event is made.

use std::collections::BTreeMap;

use crate::chat::command::{Command, ItemRef, ProductRef};
use crate::chat::draft::{Applied, Draft, IssueCode};
use crate::orders::{diff, price_line, stock_requirements, PricedLine, Shortfall, MAX_LINES};
use crate::stock::StockKey;

use super::reply;
use super::{draft_of, Outcome, Turn, TurnCode, Verdict};

impl Turn<'_> {
    pub(super) fn edit_lines(&mut self, command: &Command) -> Verdict {
        if !self.state.is_draft() {
            return self.closed();
        }
        if self.state.currency != self.catalog.currency {
            // Prices would be read in the catalog's currency and shown in the order's.
            let reason = format!(
                "Sorry, this order is in {} but our prices are now in {}. Please start a new order.",
                self.state.currency, self.catalog.currency
            );
            return Verdict::rejected(TurnCode::Invalid, reason, None);
        }
        let param = param_of(command);
        let mut draft = draft_of(&self.state);
        match draft.apply(self.catalog, command) {
            Applied::Rejected(rejection) => {
                let param = match rejection.code {
                    IssueCode::QuantityExceeded => Some("quantity".to_owned()),
                    _ => param,
                };
                Verdict::rejected(rejection.code.into(), rejection.reason, param)
            }
            Applied::NeedsClarification(question) => {
                Verdict::clarify(question.code.into(), question.question, param)
            }
            Applied::Unchanged => Verdict::accepted(Vec::new()),
            Applied::Changed { follow_up } => {
                let verdict = self.changed_lines(&draft, param.clone());
                match follow_up {
                    Some(question) if verdict.outcome() == Outcome::Accepted => {
                        verdict.asking(question, param)
                    }
                    _ => verdict,
                }
            }
        }
    }

    /// The draft's lines, priced and checked, as events.
    fn changed_lines(&self, draft: &Draft, param: Option<String>) -> Verdict {
        let after = match self.priced(draft) {
            Ok(after) => after,
            Err(reason) => return Verdict::rejected(TurnCode::Invalid, reason, param),
        };
        if after.len() > MAX_LINES {
            let reason = format!("An order can have at most {MAX_LINES} different items.");
            return Verdict::rejected(TurnCode::QuantityExceeded, reason, param);
        }
        if let Some((shortfall, already)) = self.new_shortfall(&after) {
            let reason = reply::out_of_stock(self.catalog, &shortfall, already);
            return Verdict::rejected(
                TurnCode::OutOfStock,
                reason,
                Some(key_param(&shortfall.key)),
            );
        }
        let state = &self.state;
        Verdict::accepted(diff(state, &after, &state.customer, state.shipping_address.as_ref()))
    }

    /// Prices the draft's lines. A line the command did not touch is the order's line as
    /// it was, price and all: an edit to one line never reprices or rewrites another,
    /// even when the catalog has changed since.
    fn priced(&self, draft: &Draft) -> Result<Vec<PricedLine>, String> {
        let mut untouched: Vec<&PricedLine> = self.state.lines.iter().collect();
        let shown = draft.lines(self.catalog);
        draft
            .raw_lines()
            .iter()
            .zip(&shown)
            .map(|(raw, line)| {
                let same = untouched.iter().position(|old| {
                    old.sku == raw.sku && old.quantity == raw.quantity && old.choices == raw.choices
                });
                match same {
                    Some(at) => Ok(untouched.remove(at).clone()),
                    None => price_line(self.catalog, &line.sku, line.quantity, &line.choices)
                        .map_err(|error| format!("Sorry, I can't price that: {error}.")),
                }
            })
            .collect()
    }

    /// The first stock key this edit asks more of than is available, with how much of
    /// it the order held before. Only keys the edit increases are checked: stock that
    /// ran short since an earlier turn is raised at confirmation, not on every edit.
    fn new_shortfall(&self, after: &[PricedLine]) -> Option<(Shortfall, u32)> {
        let before = stock_requirements(self.catalog, &self.state.lines);
        let wanted = stock_requirements(self.catalog, after);
        first_increase_beyond(&before, &wanted, |key| {
            self.stock.get(key).map(|level| level.available())
        })
    }
}

fn first_increase_beyond(
    before: &BTreeMap<StockKey, u32>,
    wanted: &BTreeMap<StockKey, u32>,
    available: impl Fn(&StockKey) -> Option<u32>,
) -> Option<(Shortfall, u32)> {
    wanted.iter().find_map(|(key, &wanted)| {
        let already = before.get(key).copied().unwrap_or(0);
        let available = available(key)?;
        (wanted > already && wanted > available)
            .then(|| (Shortfall { key: key.clone(), wanted, available }, already))
    })
}

/// `TEE` or `TEE/color/black`.
pub(super) fn key_param(key: &StockKey) -> String {
    match &key.option {
        None => key.sku.to_string(),
        Some((group, value)) => format!("{}/{group}/{value}", key.sku),
    }
}

/// The product a line command is about, as a note's `param`.
fn param_of(command: &Command) -> Option<String> {
    let product = match command {
        Command::AddItem(mention) => &mention.product,
        Command::ChangeQuantity { target: ItemRef::Product(product), .. }
        | Command::SetChoices { target: ItemRef::Product(product), .. }
        | Command::RemoveItem { target: ItemRef::Product(product), .. } => product,
        _ => return None,
    };
    Some(match product {
        ProductRef::Known(sku) => sku.to_string(),
        ProductRef::Ambiguous { said, .. } | ProductRef::Unknown { said, .. } => said.clone(),
    })
}
