//! Putting each option value with the item it belongs to, and reading values as the
//! catalog's canonical choices.

use crate::catalog::{Choice, GroupKind};

use super::super::index::ValueHit;
use super::super::pieces::{Piece, PieceKind};
use super::segment::{first_number, Mention, Mode, Target};
use super::Items;

impl Items<'_> {
    /// Moves values that their own mention's product cannot take to the item they most
    /// likely belong to; returns those that fit no item in this message (they may be
    /// about a line already in the draft).
    pub(super) fn attach_values(&self, pieces: &[Piece], mentions: &mut [Mention]) -> Vec<usize> {
        let mut moving: Vec<(usize, usize)> = Vec::new();
        for m in 0..mentions.len() {
            let products = self.products_of(pieces, mentions, m);
            let values = std::mem::take(&mut mentions[m].values);
            for v in values {
                if !products.is_empty() && accepts(pieces, &products, v) {
                    mentions[m].values.push(v);
                } else {
                    moving.push((m, v));
                }
            }
        }
        let for_all = for_all(pieces, mentions);
        let mut orphans = Vec::new();
        for (from, v) in moving {
            let takers = if for_all[from] {
                self.every_earlier_taker(pieces, mentions, from, v)
            } else {
                self.nearest_taker(pieces, mentions, from, v).into_iter().collect()
            };
            // "shorts M and L": a bare value that contradicts the item it would join is
            // another item like it.
            if let [to] = takers[..] {
                let bare = mentions[from].target == Target::Nothing;
                if bare && to < from && self.single_group_taken(pieces, mentions, to, v) {
                    mentions[from].target = Target::Like(to);
                    mentions[from].quantity = first_number(pieces, mentions[from].pieces.clone());
                    mentions[from].values.push(v);
                    continue;
                }
            }
            if takers.is_empty() {
                orphans.push(v);
            }
            for to in takers {
                mentions[to].values.push(v);
            }
        }
        for mention in mentions.iter_mut() {
            mention.values.sort_unstable();
        }
        orphans
    }

    /// "a thin crust with tuna and no peppers", "two large pepperoni": a counted item
    /// with options and no product is the one product that takes all of them, when
    /// no item named in the message or already in the draft could take them instead.
    /// Where several products could, nothing is guessed (the shopper gets asked).
    pub(super) fn implied_products(&self, pieces: &[Piece], mentions: &mut [Mention]) {
        for m in 0..mentions.len() {
            let mention = &mentions[m];
            let counted = first_number(pieces, mention.pieces.clone()).is_some();
            if mention.target != Target::Nothing
                || mention.mode != Mode::Add
                || mention.question
                || !counted
                || mention.values.is_empty()
            {
                continue;
            }
            let takers =
                |products: &[usize]| mention.values.iter().any(|&v| accepts(pieces, products, v));
            let named = (0..mentions.len()).any(|k| {
                k != m && {
                    let products = self.products_of(pieces, mentions, k);
                    !products.is_empty() && takers(&products)
                }
            });
            let in_draft = self.context.lines.iter().any(|line| {
                let p = self.catalog.products.iter().position(|p| p.sku == line.sku);
                p.is_some_and(|p| takers(&[p]))
            });
            if named || in_draft {
                continue;
            }
            let mut candidates: Vec<usize> =
                value_hits(pieces, mention.values[0]).iter().map(|hit| hit.product).collect();
            for &v in &mention.values[1..] {
                let hits = value_hits(pieces, v);
                candidates.retain(|p| hits.iter().any(|hit| hit.product == *p));
            }
            candidates.sort_unstable();
            candidates.dedup();
            if let [product] = candidates[..] {
                mentions[m].target = Target::Implied(product);
                mentions[m].quantity = first_number(pieces, mentions[m].pieces.clone());
            }
        }
    }

    /// The item a stray value most likely belongs to: items in the same stretch first,
    /// then earlier items nearest first ("black tee, M"), then later ones ("large, two
    /// pizzas"); an item whose single group is still free beats one already set.
    fn nearest_taker(
        &self,
        pieces: &[Piece],
        mentions: &[Mention],
        from: usize,
        v: usize,
    ) -> Option<usize> {
        let has_product = !matches!(mentions[from].target, Target::Nothing);
        let same_chunk =
            (0..mentions.len()).filter(|&m| m != from && mentions[m].chunk == mentions[from].chunk);
        let earlier = (0..from).rev().filter(|_| !has_product);
        let later = (from + 1..mentions.len()).filter(|_| !has_product);
        let takers: Vec<usize> = same_chunk
            .chain(earlier)
            .chain(later)
            .filter(|&m| !mentions[m].absorbed && self.takes(pieces, mentions, m, v))
            .collect();
        takers
            .iter()
            .copied()
            .find(|&m| !self.single_group_taken(pieces, mentions, m, v))
            .or_else(|| takers.first().copied())
    }

    /// "a black and a white tee, both size M".
    fn every_earlier_taker(
        &self,
        pieces: &[Piece],
        mentions: &[Mention],
        from: usize,
        v: usize,
    ) -> Vec<usize> {
        (0..from).filter(|&m| !mentions[m].absorbed && self.takes(pieces, mentions, m, v)).collect()
    }

    fn takes(&self, pieces: &[Piece], mentions: &[Mention], m: usize, v: usize) -> bool {
        let products = self.products_of(pieces, mentions, m);
        !products.is_empty() && accepts(pieces, &products, v)
    }

    /// Catalog indices of the products a mention may be about.
    pub(super) fn products_of(
        &self,
        pieces: &[Piece],
        mentions: &[Mention],
        m: usize,
    ) -> Vec<usize> {
        match &mentions[m].target {
            Target::Piece(p) => match &pieces[*p].kind {
                PieceKind::Product { products, .. } => products.clone(),
                _ => Vec::new(),
            },
            Target::Like(other) if *other != m => self.products_of(pieces, mentions, *other),
            Target::Implied(p) => vec![*p],
            Target::Line(line) => self
                .context
                .lines
                .get(*line)
                .and_then(|line| self.catalog.products.iter().position(|p| p.sku == line.sku))
                .into_iter()
                .collect(),
            _ => Vec::new(),
        }
    }

    fn single_group_taken(
        &self,
        pieces: &[Piece],
        mentions: &[Mention],
        m: usize,
        v: usize,
    ) -> bool {
        let products = self.products_of(pieces, mentions, m);
        let Some(choice) = self.choice_for(pieces, &products, v) else { return false };
        let group = products.iter().find_map(|&p| self.catalog.products[p].option(&choice.group));
        if !group.is_some_and(|g| g.kind == GroupKind::Single) {
            return false;
        }
        mentions[m].values.iter().any(|&other| {
            self.choice_for(pieces, &products, other).is_some_and(|c| c.group == choice.group)
        })
    }

    /// The value as a canonical choice of the first of these products that has it.
    pub(super) fn choice_for(
        &self,
        pieces: &[Piece],
        products: &[usize],
        v: usize,
    ) -> Option<Choice> {
        let PieceKind::Value { hits, qualifier, exclude } = &pieces[v].kind else { return None };
        let hit = products.iter().find_map(|&p| hits.iter().find(|hit| hit.product == p))?;
        Some(self.choice(*hit, qualifier.as_deref(), *exclude))
    }

    /// A qualifier the group does not list is dropped: "extra" means nothing for a size.
    pub(super) fn choice(&self, hit: ValueHit, qualifier: Option<&str>, exclude: bool) -> Choice {
        let group = &self.catalog.products[hit.product].options[hit.group];
        let value = &group.values[hit.value];
        let qualifier = qualifier.and_then(|q| {
            group.qualifiers.iter().find(|allowed| allowed.eq_ignore_ascii_case(q)).cloned()
        });
        // An excluded value keeps its qualifier: "no extra cheese" leaves out only the
        // extra.
        Choice { group: group.name.clone(), value: value.name.clone(), qualifier, exclude }
    }

    /// What the mention says about options: values its product term implies ("buffalo
    /// wings"), then the values attached to it, later ones winning.
    pub(super) fn own_choices(
        &self,
        pieces: &[Piece],
        mentions: &[Mention],
        m: usize,
    ) -> Vec<Choice> {
        let products = self.products_of(pieces, mentions, m);
        let implied = match &mentions[m].target {
            Target::Piece(p) => match &pieces[*p].kind {
                PieceKind::Product { implied, .. } => implied.clone(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        let implied = implied
            .into_iter()
            .filter(|hit| products.len() == 1 && hit.product == products[0])
            .map(|hit| self.choice(hit, None, false));
        let attached =
            mentions[m].values.iter().filter_map(|&v| self.choice_for(pieces, &products, v));
        let mut choices: Vec<Choice> = Vec::new();
        for choice in implied.chain(attached) {
            self.merge_choice(&products, &mut choices, choice);
        }
        choices
    }

    /// Adds a choice to a list the way the draft would: it replaces the value of a
    /// single group and any earlier mention of the same value.
    pub(super) fn merge_choice(
        &self,
        products: &[usize],
        choices: &mut Vec<Choice>,
        choice: Choice,
    ) {
        let single = products.iter().any(|&p| {
            self.catalog.products[p]
                .option(&choice.group)
                .is_some_and(|g| g.kind == GroupKind::Single)
        });
        choices.retain(|c| {
            let same_value = c.group == choice.group && c.value == choice.value;
            !(same_value || (single && c.group == choice.group && !choice.exclude))
        });
        choices.push(choice);
    }
}

fn accepts(pieces: &[Piece], products: &[usize], v: usize) -> bool {
    value_hits(pieces, v).iter().any(|hit| products.contains(&hit.product))
}

pub(super) fn value_hits(pieces: &[Piece], v: usize) -> &[ValueHit] {
    match &pieces[v].kind {
        PieceKind::Value { hits, .. } => hits,
        _ => &[],
    }
}

/// "both", "all", "each": the values are meant for every item before them, and so
/// are the bare values listed right after ("both large and black").
fn for_all(pieces: &[Piece], mentions: &[Mention]) -> Vec<bool> {
    let mut flags = vec![false; mentions.len()];
    for m in 0..mentions.len() {
        let mention = &mentions[m];
        if mention.target != Target::Nothing {
            continue;
        }
        let says_all = mention.pieces.clone().any(|i| pieces[i].is_word(&["both", "all", "each"]));
        let only_values =
            mention.pieces.clone().all(|i| pieces[i].is_value() || pieces[i].word().is_some());
        flags[m] = says_all || (m > 0 && flags[m - 1] && only_values);
    }
    flags
}
