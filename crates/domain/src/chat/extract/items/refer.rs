//! Mentions that point at other items: "a black and a white tee" (the product said
//! once for two items), "a white one", "one more", "... no ice in the cokes" (an item
//! already named), "make it a diet coke" and "swap the coke for a diet coke" (one
//! item in place of another).

use crate::catalog::{Choice, GroupKind};
use crate::chat::command::{Command, ItemMention, ItemRef, ProductRef, Span};

use super::super::context::Resolved;
use super::super::pieces::{Piece, PieceKind};
use super::super::words::QUANTITY_FILLERS;
use super::attach::value_hits;
use super::segment::{first_number, Mention, Mode, Target};
use super::Items;

const PRONOUNS: &[&str] = &["one", "ones", "more", "pair", "pairs", "another", "same"];
const ORDERING: &[&str] = &["take", "have", "get", "want", "need", "gimme", "grab", "order"];
#[rustfmt::skip]
const PRONOUN_FILLERS: &[&str] = &[
    "in", "size", "of", "them", "those", "these", "the", "please", "pls", "too", "also", "as",
    "well", "same", "with", "a", "i'll", "ill", "take", "i'd", "id", "like", "want", "get", "add",
    "just", "then", "can", "i", "have", "we", "need", "give", "me", "gimme", "lemme", "throw",
    "for", "my", "thanks", "thx", "color", "colour", "but", "okay", "ok", "cool",
];

impl Items<'_> {
    /// "a black and a white tee", "2 small and 1 large pepperoni pizza": a stretch
    /// with a quantity and options but no product, contrasting with the next item's
    /// options, is another item of that product.
    pub(super) fn resolve_ellipses(&self, pieces: &[Piece], mentions: &mut [Mention]) {
        for m in 0..mentions.len().saturating_sub(1) {
            let next = &mentions[m + 1];
            let Target::Piece(p) = next.target else { continue };
            let bare = &mentions[m];
            let has_number =
                bare.pieces.clone().any(|i| matches!(pieces[i].kind, PieceKind::Number(_)));
            if bare.target != Target::Nothing
                || !has_number
                || bare.values.is_empty()
                || next.chunk == bare.chunk
                || next.quantity.is_none()
            {
                continue;
            }
            let products = self.products_at(pieces, p);
            if self.contrast(pieces, &products, &bare.values, &next.values) {
                mentions[m].target = Target::Piece(p);
                mentions[m].quantity = first_number(pieces, mentions[m].pieces.clone());
            }
        }
    }

    /// "two large chicken and mushroom pizzas": a count and options, then more options
    /// after "and" ending in the product, without a count of its own, are one item
    /// whose options were listed before its name.
    pub(super) fn counted_lists(&self, pieces: &[Piece], mentions: &mut [Mention]) {
        let only_options = |mention: &Mention| {
            mention.pieces.clone().all(|i| {
                matches!(pieces[i].kind, PieceKind::Value { .. } | PieceKind::Qualifier(_))
            })
        };
        for m in 0..mentions.len() {
            let bare = &mentions[m];
            let range = bare.pieces.clone();
            let counted = matches!(pieces[range.start].kind, PieceKind::Number(_))
                && range.len() >= 2
                && (range.start + 1..range.end).all(|i| {
                    matches!(pieces[i].kind, PieceKind::Value { .. } | PieceKind::Qualifier(_))
                });
            if bare.target != Target::Nothing || bare.mode != Mode::Add || !counted {
                continue;
            }
            let Some(k) = (m + 1..mentions.len()).find(|&k| mentions[k].target != Target::Nothing)
            else {
                continue;
            };
            let Target::Piece(p) = mentions[k].target else { continue };
            let named_after_options = (mentions[k].pieces.start..p).all(|i| {
                matches!(pieces[i].kind, PieceKind::Value { .. } | PieceKind::Qualifier(_))
            });
            if mentions[k].quantity.is_some()
                || !named_after_options
                || !(m + 1..k).all(|j| only_options(&mentions[j]))
            {
                continue;
            }
            let products = self.products_at(pieces, p);
            let values: Vec<usize> = (m..k).flat_map(|j| mentions[j].values.clone()).collect();
            let fits = values
                .iter()
                .all(|&v| value_hits(pieces, v).iter().any(|hit| products.contains(&hit.product)));
            if !fits {
                continue;
            }
            mentions[k].quantity = first_number(pieces, range);
            mentions[k].values.extend(values);
            for mention in &mut mentions[m..k] {
                mention.values.clear();
                mention.absorbed = true;
            }
        }
    }

    /// "a pizza with ham and black olives one medium pizza with ...": options before
    /// the count of the next item, after "and", finish the list of the item before.
    pub(super) fn continued_lists(&self, pieces: &[Piece], mentions: &mut [Mention]) {
        for m in 1..mentions.len() {
            let Target::Piece(p) = mentions[m].target else { continue };
            let start = mentions[m].pieces.start;
            let Some(count) = (start..p).find(|&i| matches!(pieces[i].kind, PieceKind::Number(_)))
            else {
                continue;
            };
            let leading: Vec<usize> =
                mentions[m].values.iter().copied().filter(|&v| v < count).collect();
            let Some(earlier) = (0..m).rev().find(|&k| mentions[k].target != Target::Nothing)
            else {
                continue;
            };
            let Target::Piece(q) = mentions[earlier].target else { continue };
            let takes = self.products_at(pieces, q);
            let fits = leading
                .iter()
                .all(|&v| value_hits(pieces, v).iter().any(|hit| takes.contains(&hit.product)));
            let other_stretch = mentions[earlier].chunk != mentions[m].chunk;
            if leading.is_empty() || !fits || !other_stretch {
                continue;
            }
            mentions[m].values.retain(|v| !leading.contains(v));
            mentions[earlier].values.extend(leading);
        }
    }

    /// "a white one in L", "one more", "2 pairs in large": an item of the product
    /// named just before in this message, or else of the draft's last line.
    pub(super) fn resolve_pronouns(&self, pieces: &[Piece], mentions: &mut [Mention]) {
        for m in 0..mentions.len() {
            let mention = &mentions[m];
            if mention.target != Target::Nothing || mention.mode != Mode::Add {
                continue;
            }
            let words: Vec<&str> = mention
                .pieces
                .clone()
                .filter(|&i| matches!(pieces[i].kind, PieceKind::Word(_) | PieceKind::Qualifier(_)))
                .map(|i| pieces[i].text.as_str())
                .collect();
            let said_another = mention.pieces.clone().any(|i| pieces[i].text == "another");
            let earlier = (0..m).rev().find(|&k| matches!(mentions[k].target, Target::Piece(_)));
            let pronoun = said_another || words.iter().any(|w| PRONOUNS.contains(w));
            // "is the tiramisu good? I'll take one": a bare count after an ordering
            // verb, about a product named in this very message.
            let bare_count = earlier.is_some()
                && words.iter().any(|w| ORDERING.contains(w))
                && mention
                    .pieces
                    .clone()
                    .any(|i| matches!(&pieces[i].kind, PieceKind::Number(q) if !q.article));
            let only_fillers = words.iter().all(|w| {
                PRONOUNS.contains(w) || PRONOUN_FILLERS.contains(w) || QUANTITY_FILLERS.contains(w)
            });
            if !(pronoun || bare_count) || !only_fillers {
                continue;
            }
            let target = match (earlier, self.context.last) {
                (Some(k), _) => Target::Like(k),
                (None, Some(line)) if line < self.context.lines.len() => Target::Line(line),
                _ => continue,
            };
            let quantity = first_number(pieces, mention.pieces.clone());
            // "the 1l one" is that item itself; "the same in white" is another like it.
            let definite = words.iter().any(|w| matches!(*w, "the" | "that" | "this"))
                && !words.contains(&"same");
            mentions[m].target = target;
            mentions[m].quantity = quantity;
            mentions[m].definite = definite;
        }
    }

    /// "2 tees, one black one white", "4 garlic knots, 2 with ranch": counts with
    /// options after an item share its quantity out as items like it. Counts that
    /// add up to more, or options that contradict the item's own ("two socks medium
    /// and one large"), are further items like it instead.
    pub(super) fn distribute(
        &self,
        pieces: &[Piece],
        mentions: &mut [Mention],
        commands: &mut Vec<(Span, Command)>,
    ) {
        self.distribute_last_line(pieces, mentions, commands);
        let mut m = 0;
        while m < mentions.len() {
            let Target::Piece(p) = mentions[m].target else {
                m += 1;
                continue;
            };
            let products = self.products_at(pieces, p);
            // "a pizza with ham and a thin crust": after options listed with "with",
            // "a" and more options go on with the list, unless they contradict it.
            let listing = mentions[m].pieces.clone().any(|i| pieces[i].is_word(&["with"]));
            let parts: Vec<usize> = (m + 1..mentions.len())
                .take_while(|&k| {
                    let part = &mentions[k];
                    let article = first_number(pieces, part.pieces.clone())
                        .is_some_and(|(_, article)| article);
                    let goes_on = listing
                        && article
                        && !self.contrast_single(
                            pieces,
                            &products,
                            &part.values,
                            &mentions[m].values,
                        );
                    part.target == Target::Nothing
                        && !part.values.is_empty()
                        && !goes_on
                        && part
                            .pieces
                            .clone()
                            .any(|i| matches!(&pieces[i].kind, PieceKind::Number(q) if !q.postfix))
                })
                .collect();
            if parts.is_empty() {
                m += 1;
                continue;
            }
            let counts: Vec<(u32, bool)> = parts
                .iter()
                .map(|&k| first_number(pieces, mentions[k].pieces.clone()).unwrap_or((1, true)))
                .collect();
            let total = counts.iter().map(|(count, _)| u64::from(*count)).sum::<u64>();
            let own = &mentions[m].values;
            let contradicts =
                parts.iter().any(|&k| self.contrast(pieces, &products, &mentions[k].values, own));
            let has = mentions[m].quantity.map_or(1, |(q, _)| u64::from(q));
            if !contradicts && total <= has {
                let rest = has - total;
                mentions[m].quantity = Some((rest as u32, false));
                mentions[m].absorbed = rest == 0;
            }
            for (&k, &count) in parts.iter().zip(&counts) {
                mentions[k].target = Target::Like(m);
                mentions[k].quantity = Some(count);
            }
            m = parts.last().map_or(m + 1, |last| last + 1);
        }
    }

    /// "cokes, 2": a count on its own right after an item with none is its quantity.
    pub(super) fn trailing_counts(&self, pieces: &[Piece], mentions: &mut [Mention]) {
        const UNITS: &[&str] = &[
            "please", "pls", "plz", "thanks", "thx", "pairs", "pair", "of", "them", "pcs", "units",
        ];
        for m in 1..mentions.len() {
            let bare = &mentions[m];
            let only_count = bare.target == Target::Nothing
                && bare.mode == Mode::Add
                && bare.pieces.clone().all(|i| match &pieces[i].kind {
                    PieceKind::Number(q) => !q.article,
                    PieceKind::Word(word) => UNITS.contains(&word.as_str()),
                    _ => false,
                });
            // "socks, size L, 3 pairs": the item's options may sit in between.
            let Some(previous) = (0..m).rev().find(|&k| mentions[k].target != Target::Nothing)
            else {
                continue;
            };
            let options_between = (previous + 1..m).all(|k| {
                mentions[k].target == Target::Nothing
                    && mentions[k]
                        .pieces
                        .clone()
                        .all(|i| pieces[i].is_value() || pieces[i].word().is_some())
            });
            let counted = mentions[previous].quantity.is_some_and(|(_, article)| !article);
            let named = matches!(mentions[previous].target, Target::Piece(_));
            if only_count && options_between && named && !counted {
                if let Some(count) = first_number(pieces, bare.pieces.clone()) {
                    mentions[previous].quantity = Some(count);
                    mentions[m].absorbed = true;
                }
            }
        }
    }

    /// "2 beanies" and then "one black one navy": the draft's last line is shared out
    /// the same way, when the message names no product at all.
    fn distribute_last_line(
        &self,
        pieces: &[Piece],
        mentions: &mut [Mention],
        commands: &mut Vec<(Span, Command)>,
    ) {
        let Some(line) = self.context.last.filter(|&i| i < self.context.lines.len()) else {
            return;
        };
        if mentions.iter().any(|m| m.target != Target::Nothing) {
            return;
        }
        // "one black one navy", and "make one of them large".
        let counted = |m: &Mention| {
            let one_of = m.pieces.clone().any(|i| pieces[i].is_word(&["of"]));
            !m.values.is_empty()
                && (m.mode == Mode::Add || (m.mode == Mode::Change && one_of))
                && m.pieces.clone().any(
                    |i| matches!(&pieces[i].kind, PieceKind::Number(q) if !q.postfix && !q.article),
                )
        };
        let parts: Vec<usize> = (0..mentions.len()).filter(|&k| counted(&mentions[k])).collect();
        let counts: Vec<(u32, bool)> = parts
            .iter()
            .filter_map(|&k| first_number(pieces, mentions[k].pieces.clone()))
            .collect();
        let total: u64 = counts.iter().map(|(count, _)| u64::from(*count)).sum();
        let has = u64::from(self.context.lines[line].quantity);
        if parts.is_empty() || counts.len() != parts.len() || total > has {
            return;
        }
        let span = pieces[mentions[parts[0]].pieces.start].span;
        let command = if total == has {
            Command::RemoveItem { target: ItemRef::Last, span }
        } else {
            Command::ChangeQuantity { target: ItemRef::Last, quantity: (has - total) as u32, span }
        };
        commands.push((span, command));
        for (&k, &count) in parts.iter().zip(&counts) {
            mentions[k].target = Target::Line(line);
            mentions[k].quantity = Some(count);
        }
    }

    /// "pepperoni pizza and 2 cokes but no ice in the cokes": "the cokes" are the ones
    /// just ordered, not more of them.
    pub(super) fn absorb_repeats(&self, pieces: &[Piece], mentions: &mut [Mention]) {
        for n in 0..mentions.len() {
            let Target::Piece(p) = mentions[n].target else { continue };
            if !mentions[n].definite
                || mentions[n].quantity.is_some()
                || mentions[n].mode != Mode::Add
            {
                continue;
            }
            let products = self.products_at(pieces, p);
            let names_same = |m: &Mention| match m.target {
                Target::Piece(q) => self.products_at(pieces, q) == products,
                _ => false,
            };
            let earlier = (0..n).rev().find(|&m| names_same(&mentions[m]));
            if let Some(m) = earlier {
                let values = std::mem::take(&mut mentions[n].values);
                mentions[m].values.extend(values);
                mentions[n].absorbed = true;
            }
        }
    }

    /// "a coke, no wait, make it a diet coke" and, a turn later, "make it a pepperoni
    /// pizza": the named product replaces the item "it" stood for.
    pub(super) fn corrections(
        &self,
        pieces: &[Piece],
        mentions: &mut [Mention],
        commands: &mut Vec<(Span, Command)>,
    ) {
        for n in 0..mentions.len() {
            if !mentions[n].refers_back || mentions[n].mode != Mode::Change || mentions[n].absorbed
            {
                continue;
            }
            let products = self.products_of(pieces, mentions, n);
            let earlier = (0..n).rev().find(|&k| {
                !mentions[k].absorbed
                    && !mentions[k].question
                    && matches!(mentions[k].target, Target::Piece(_))
            });
            let said_quantity = mentions[n].quantity.filter(|(_, article)| !article);
            match earlier {
                Some(k) => {
                    let same = self.products_of(pieces, mentions, k) == products;
                    if same {
                        let values = mentions[k].values.clone();
                        mentions[n].values.splice(0..0, values);
                    } else {
                        let replaced = self.own_choices(pieces, mentions, k);
                        mentions[n].carried = self.carry_over(&replaced, &products);
                    }
                    mentions[n].quantity =
                        said_quantity.or(mentions[k].quantity).or(mentions[n].quantity);
                    mentions[k].absorbed = true;
                    mentions[n].mode = Mode::Add;
                    mentions[n].refers_back = false;
                }
                None => {
                    // "make it 2 tees" with tees in the draft edits those tees.
                    let in_draft =
                        self.product_ref(pieces, mentions, n).map(|r| self.context.resolve(&r));
                    if !matches!(in_draft, Some(Resolved::Nothing)) {
                        continue;
                    }
                    let Some(last) = self.context.last.and_then(|i| self.context.lines.get(i))
                    else {
                        continue;
                    };
                    let last_product = self.catalog.products.iter().position(|p| p.sku == last.sku);
                    if last_product.is_some_and(|p| products.contains(&p)) {
                        continue;
                    }
                    let span = self.span_of(pieces, &mentions[n]);
                    commands.push((span, Command::RemoveItem { target: ItemRef::Last, span }));
                    mentions[n].quantity = said_quantity.or(Some((last.quantity, false)));
                    mentions[n].carried = self.carry_over(&last.choices, &products);
                    mentions[n].mode = Mode::Add;
                }
            }
        }
    }

    /// "swap the coke for a diet coke", "a diet coke instead of the coke": the line in
    /// the draft goes, the new product comes in with its quantity.
    pub(super) fn swaps(
        &self,
        pieces: &[Piece],
        mentions: &mut [Mention],
        commands: &mut Vec<(Span, Command)>,
    ) {
        for m in 0..mentions.len() {
            if mentions[m].absorbed {
                continue;
            }
            let old_line = self.product_ref(pieces, mentions, m).map(|r| self.context.resolve(&r));
            let Some(Resolved::One(old_sku)) = old_line else { continue };
            let old = &mentions[m];
            let partner = if old.instead_of {
                (0..mentions.len())
                    .filter(|&n| n != m && !mentions[n].absorbed)
                    .min_by_key(|&n| n.abs_diff(m))
            } else if old.mode == Mode::Change && !old.negated {
                Some(m + 1).filter(|&n| {
                    n < mentions.len() && self.linked_by_swap(pieces, old, &mentions[n])
                })
            } else {
                None
            };
            let Some(n) = partner else { continue };
            let new_ref = self.product_ref(pieces, mentions, n);
            let is_new = new_ref
                .as_ref()
                .is_some_and(|r| !matches!(self.context.resolve(r), Resolved::One(_)));
            let Some(new_ref) = new_ref.filter(|_| is_new) else { continue };
            let said = mentions[n].quantity.filter(|(_, article)| !article).map(|(q, _)| q);
            // "none of those": no swap (the mention reads as a zero quantity later).
            if said == Some(0) {
                continue;
            }
            let quantity = said.or(self.context.quantity_of(&old_sku)).filter(|q| *q > 0);
            let products = self.products_of(pieces, mentions, n);
            if let Some(old_line) = self.context.line_of(&old_sku) {
                mentions[n].carried = self.carry_over(&old_line.choices, &products);
            }
            let choices = self.choices(pieces, mentions, n);
            let span = self.span_of(pieces, &mentions[m]);
            let new_span = self.span_of(pieces, &mentions[n]);
            let target = ItemRef::Product(ProductRef::Known(old_sku));
            commands.push((span, Command::RemoveItem { target, span }));
            let item = ItemMention { product: new_ref, quantity, choices, span: new_span };
            commands.push((new_span, Command::AddItem(item)));
            mentions[m].absorbed = true;
            mentions[n].absorbed = true;
        }
    }

    /// "the coke for a diet coke", "the tee with a hoodie", "the pepperoni to a veggie".
    fn linked_by_swap(&self, pieces: &[Piece], old: &Mention, new: &Mention) -> bool {
        let (Target::Piece(a), Target::Piece(b)) = (&old.target, &new.target) else { return false };
        old.chunk == new.chunk
            && (a + 1..*b).any(|i| pieces[i].is_word(&["for", "with", "to", "into"]))
    }

    /// Whether two lists of values give different values to the same group ("black"
    /// and "white"), which makes them two items rather than one.
    fn contrast(
        &self,
        pieces: &[Piece],
        products: &[usize],
        these: &[usize],
        those: &[usize],
    ) -> bool {
        these.iter().any(|&v| {
            those.iter().any(|&w| {
                let a = self.choice_for(pieces, products, v);
                let b = self.choice_for(pieces, products, w);
                matches!((a, b), (Some(a), Some(b)) if a.group == b.group && a.value != b.value)
            })
        })
    }

    /// Whether the two lists choose different values of a group that holds one: "a
    /// large ... and a small" is another item, "with ham and a thin crust, no onions"
    /// is not.
    fn contrast_single(
        &self,
        pieces: &[Piece],
        products: &[usize],
        these: &[usize],
        those: &[usize],
    ) -> bool {
        let single = |group: &str| {
            products.iter().any(|&p| {
                self.catalog.products[p].option(group).is_some_and(|g| g.kind == GroupKind::Single)
            })
        };
        these.iter().any(|&v| {
            those.iter().any(|&w| {
                let a = self.choice_for(pieces, products, v);
                let b = self.choice_for(pieces, products, w);
                matches!((a, b), (Some(a), Some(b))
                    if a.group == b.group && a.value != b.value && !a.exclude && single(&a.group))
            })
        })
    }

    /// The replaced item's choices that the new product offers too, in its names.
    fn carry_over(&self, choices: &[Choice], products: &[usize]) -> Vec<Choice> {
        let [product] = products else { return Vec::new() };
        let product = &self.catalog.products[*product];
        choices
            .iter()
            .filter_map(|choice| {
                let group = product.option(&choice.group)?;
                let value = group.value(&choice.value)?;
                let qualifier = choice.qualifier.as_ref().filter(|q| group.qualifiers.contains(q));
                Some(Choice {
                    group: group.name.clone(),
                    value: value.name.clone(),
                    qualifier: qualifier.cloned(),
                    exclude: choice.exclude,
                })
            })
            .collect()
    }

    pub(super) fn products_at(&self, pieces: &[Piece], p: usize) -> Vec<usize> {
        match &pieces[p].kind {
            PieceKind::Product { products, .. } => products.clone(),
            _ => Vec::new(),
        }
    }
}
