//! From pieces to item commands: cut the message into item mentions, give each its
//! quantity and options, then decide whether a mention adds a line or edits one the
//! draft already has.

mod attach;
mod refer;
mod segment;

use std::collections::HashMap;
use std::ops::Range;

use crate::catalog::{Catalog, Choice};
use crate::chat::command::{Command, ItemMention, ItemRef, ProductRef, Span};
use crate::sku::Sku;

use super::context::{DraftContext, Resolved};
use super::extraction::{Note, NoteCode};
use super::index::{PhraseIndex, ValueHit};
use super::pieces::{Piece, PieceKind};
use super::words::REMOVE_WORDS;
use super::words::{ADD_WORDS, CHANGE_WORDS, KIND_WORDS, NOT_PRODUCTS, QUANTITY_FILLERS};
use segment::{chunks, first_number, mention, modes, ordering_verb_before, questions};
use segment::{split_after_product, split_between_products};
use segment::{Mention, Mode, Target};

/// Everything item-related that one message says, read against the draft.
pub struct Items<'a> {
    pub catalog: &'a Catalog,
    pub index: &'a PhraseIndex,
    pub context: &'a DraftContext,
}

/// Unknown products already looked up in this message, by what was said.
type Unknowns = HashMap<String, ProductRef>;

impl Items<'_> {
    /// The item commands of a message, each with the span it came from, in message
    /// order.
    pub fn commands(&self, pieces: &[Piece], notes: &mut Vec<Note>) -> Vec<(Span, Command)> {
        let modes = modes(pieces);
        let mut mentions = self.mentions(pieces, &modes);
        let mut commands = Vec::new();
        // Mentions that point at other items take their product first, so that
        // options can then find every item they may belong to.
        self.resolve_ellipses(pieces, &mut mentions);
        self.counted_lists(pieces, &mut mentions);
        self.trailing_counts(pieces, &mut mentions);
        self.resolve_pronouns(pieces, &mut mentions);
        self.implied_products(pieces, &mut mentions);
        self.distribute(pieces, &mut mentions, &mut commands);
        self.absorb_repeats(pieces, &mut mentions);
        self.continued_lists(pieces, &mut mentions);
        let orphans = self.attach_values(pieces, &mut mentions);
        self.corrections(pieces, &mut mentions, &mut commands);
        self.swaps(pieces, &mut mentions, &mut commands);
        for m in 0..mentions.len() {
            if !mentions[m].absorbed && !mentions[m].question {
                self.mention_commands(pieces, &mentions, m, notes, &mut commands);
            }
        }
        self.orphan_value_commands(pieces, &modes, &orphans, notes, &mut commands);
        self.orphan_quantity_commands(pieces, &modes, &mentions, notes, &mut commands);
        self.remove_it(pieces, &mentions, &mut commands);
        commands.sort_by_key(|(span, _)| span.start);
        commands
    }

    /// One mention per stretch between "and"s and commas, more where a stretch holds
    /// several items.
    fn mentions(&self, pieces: &[Piece], modes: &[Mode]) -> Vec<Mention> {
        let questions = questions(pieces);
        let mut unknowns = Unknowns::new();
        let mut mentions = Vec::new();
        for (chunk, range) in chunks(pieces).into_iter().enumerate() {
            let chunk_start = range.start;
            let parts = split_between_products(pieces, range)
                .into_iter()
                .flat_map(|sub| split_after_product(pieces, sub));
            for sub in parts {
                let mut found =
                    mention(pieces, modes, &questions, (chunk, chunk_start), sub.clone());
                if let Some(other) = self.something_else(pieces, &found, &mut unknowns) {
                    found.target = other;
                }
                if found.target == Target::Nothing {
                    if let Some(unknown) = self.unknown_product(pieces, sub.clone(), &mut unknowns)
                    {
                        found.target = unknown;
                        found.quantity = first_number(pieces, sub);
                    }
                }
                mentions.push(found);
            }
        }
        mentions
    }

    /// "two burritos": a quantity and then a noun the catalog does not know.
    fn unknown_product(
        &self,
        pieces: &[Piece],
        range: Range<usize>,
        unknowns: &mut Unknowns,
    ) -> Option<Target> {
        for i in range.clone() {
            let PieceKind::Number(quantity) = &pieces[i].kind else { continue };
            if quantity.article && !ordering_verb_before(pieces, i) {
                continue;
            }
            let mut at = i + 1;
            while at < range.end
                && matches!(pieces[at].kind, PieceKind::Value { .. } | PieceKind::Qualifier(_))
            {
                at += 1;
            }
            let Some(word) = pieces.get(at).filter(|_| at < range.end).and_then(Piece::word) else {
                continue;
            };
            if self.could_be_a_product(word) {
                return Some(Target::Unknown(self.unknown(word.to_owned(), unknowns)));
            }
        }
        None
    }

    /// "a coke zero", "a root beer float": a product name followed by a word the
    /// catalog does not know, closing the item, names something else.
    fn something_else(
        &self,
        pieces: &[Piece],
        mention: &Mention,
        unknowns: &mut Unknowns,
    ) -> Option<Target> {
        let Target::Piece(p) = mention.target else { return None };
        let next = p + 1;
        let word = pieces.get(next).filter(|_| next < mention.pieces.end)?.word()?;
        let closes = (next + 1..mention.pieces.end)
            .all(|i| pieces[i].is_word(&["please", "pls", "plz", "thanks", "thx"]));
        let unknown = word.chars().count() >= 4
            && word.chars().all(char::is_alphabetic)
            && !self.index.is_common(word)
            && !self.index.knows(word)
            && !KIND_WORDS.contains(&word)
            && !ADD_WORDS.contains(&word)
            && !CHANGE_WORDS.contains(&word)
            && !REMOVE_WORDS.contains(&word);
        let PieceKind::Product { said, .. } = &pieces[p].kind else { return None };
        (closes && unknown)
            .then(|| Target::Unknown(self.unknown(format!("{said} {word}"), unknowns)))
    }

    /// Suggestions are worked out once, here: they cost an edit distance per term.
    fn unknown(&self, said: String, unknowns: &mut Unknowns) -> ProductRef {
        let found = unknowns.entry(said).or_insert_with_key(|said| {
            let suggestions = self.index.suggestions(said);
            let suggestions = suggestions.into_iter().map(|i| self.catalog.products[i].sku.clone());
            ProductRef::Unknown { said: said.clone(), suggestions: suggestions.collect() }
        });
        found.clone()
    }

    fn could_be_a_product(&self, word: &str) -> bool {
        word.chars().count() >= 3
            && word.chars().all(char::is_alphabetic)
            && !self.index.is_common(word)
            && !self.index.knows(word)
            && !NOT_PRODUCTS.contains(&word)
            && !ADD_WORDS.contains(&word)
            && !CHANGE_WORDS.contains(&word)
            && !REMOVE_WORDS.contains(&word)
    }

    fn product_ref(&self, pieces: &[Piece], mentions: &[Mention], m: usize) -> Option<ProductRef> {
        match &mentions[m].target {
            Target::Piece(p) => {
                let PieceKind::Product { products, said, .. } = &pieces[*p].kind else {
                    return None;
                };
                let skus: Vec<Sku> =
                    products.iter().map(|&i| self.catalog.products[i].sku.clone()).collect();
                Some(match skus.as_slice() {
                    [one] => ProductRef::Known(one.clone()),
                    _ => ProductRef::Ambiguous { said: said.clone(), candidates: skus },
                })
            }
            Target::Like(k) if *k != m => self.product_ref(pieces, mentions, *k),
            Target::Line(line) => {
                self.context.lines.get(*line).map(|l| ProductRef::Known(l.sku.clone()))
            }
            Target::Unknown(product) => Some(product.clone()),
            Target::Implied(p) => Some(ProductRef::Known(self.catalog.products[*p].sku.clone())),
            _ => None,
        }
    }

    /// From the mention's first word to its last, options attached from elsewhere
    /// included.
    fn span_of(&self, pieces: &[Piece], mention: &Mention) -> Span {
        let own = pieces[mention.pieces.start].span.join(pieces[mention.pieces.end - 1].span);
        mention.values.iter().fold(own, |span, &v| span.join(pieces[v].span))
    }

    /// The mention's choices: for "a white one" those of the item it echoes, then its
    /// own.
    fn choices(&self, pieces: &[Piece], mentions: &[Mention], m: usize) -> Vec<Choice> {
        let products = self.products_of(pieces, mentions, m);
        let inherited = match &mentions[m].target {
            Target::Like(k) if *k != m => self.own_choices(pieces, mentions, *k),
            Target::Line(line) => {
                self.context.lines.get(*line).map(|l| l.choices.clone()).unwrap_or_default()
            }
            _ => mentions[m].carried.clone(),
        };
        let own = self.own_choices(pieces, mentions, m);
        // "... with ham, and a small one with pepperoni": a list of its own replaces the
        // other item's list of that group rather than adding to it.
        let mut choices: Vec<Choice> =
            inherited.into_iter().filter(|c| !own.iter().any(|o| o.group == c.group)).collect();
        for choice in own {
            self.merge_choice(&products, &mut choices, choice);
        }
        choices
    }

    /// What one mention asks of the draft: remove a line, edit one, or add one.
    fn mention_commands(
        &self,
        pieces: &[Piece],
        mentions: &[Mention],
        m: usize,
        notes: &mut Vec<Note>,
        commands: &mut Vec<(Span, Command)>,
    ) {
        let mention = &mentions[m];
        let Some(product) = self.product_ref(pieces, mentions, m) else { return };
        let span = self.span_of(pieces, mention);
        let choices = self.choices(pieces, mentions, m);
        let in_draft = self.draft_target(&product);
        if mention.negated || mention.mode == Mode::Remove || mention.instead_of {
            let command = self.removal(mention, in_draft, product, choices, span);
            commands.push((span, command));
            return;
        }
        if mention.quantity.is_some_and(|(value, _)| value == 0) {
            notes.push(Note::new(NoteCode::ZeroQuantity, span));
            return;
        }
        let editing = mention.mode == Mode::Change
            || mention.linked
            || (mention.definite && mention.quantity.is_none());
        // "a white one" is a new item like the last; "the 1l one" is the last item.
        let new_like_another =
            matches!(mention.target, Target::Like(_) | Target::Line(_)) && !mention.definite;
        match in_draft.filter(|_| editing && !new_like_another) {
            Some(target) => {
                for command in edits(target, mention.quantity, choices, span) {
                    commands.push((span, command));
                }
            }
            None => {
                let quantity = mention.quantity.map(|(value, _)| value);
                let item = ItemMention { product, quantity, choices, span };
                commands.push((span, Command::AddItem(item)));
            }
        }
    }

    /// The draft line(s) a product the shopper named can be, as an edit target.
    fn draft_target(&self, product: &ProductRef) -> Option<ItemRef> {
        match self.context.resolve(product) {
            Resolved::One(sku) => Some(ItemRef::Product(ProductRef::Known(sku))),
            Resolved::Many(candidates) => {
                let said = said_of(product);
                Some(ItemRef::Product(ProductRef::Ambiguous { said, candidates }))
            }
            Resolved::Nothing => None,
        }
    }

    /// "no coke after all", "remove 2 cokes", "remove the onions from the pizza".
    fn removal(
        &self,
        mention: &Mention,
        in_draft: Option<ItemRef>,
        product: ProductRef,
        choices: Vec<Choice>,
        span: Span,
    ) -> Command {
        if let Some(command) = self.fewer(&in_draft, mention, span) {
            return command;
        }
        let target = in_draft.unwrap_or(ItemRef::Product(product));
        if !choices.is_empty() && !mention.negated && mention.mode == Mode::Remove {
            // The options go, the item stays.
            let choices = choices
                .into_iter()
                .map(|c| Choice { exclude: true, qualifier: None, ..c })
                .collect();
            return Command::SetChoices { target, choices, span };
        }
        Command::RemoveItem { target, span }
    }

    /// "remove 2 cokes" from a line of 3 leaves 1; removing as many or more removes
    /// the line (decided by the caller when this is `None`).
    fn fewer(&self, in_draft: &Option<ItemRef>, mention: &Mention, span: Span) -> Option<Command> {
        let (count, article) = mention.quantity?;
        let Some(ItemRef::Product(ProductRef::Known(sku))) = in_draft else { return None };
        let has = self.context.quantity_of(sku)?;
        (!article && mention.mode == Mode::Remove && count < has).then(|| Command::ChangeQuantity {
            target: ItemRef::Product(ProductRef::Known(sku.clone())),
            quantity: has - count,
            span,
        })
    }

    /// Values that belong to no item in this message edit the draft line that has
    /// their group, the last touched first: "no onions", "in black, size M".
    fn orphan_value_commands(
        &self,
        pieces: &[Piece],
        modes: &[Mode],
        orphans: &[usize],
        notes: &mut Vec<Note>,
        commands: &mut Vec<(Span, Command)>,
    ) {
        let mut grouped: Vec<(ItemRef, Vec<Choice>, Span)> = Vec::new();
        for &v in orphans {
            let PieceKind::Value { hits, qualifier, exclude } = &pieces[v].kind else { continue };
            let removing = modes.get(v) == Some(&Mode::Remove);
            let Some((target, hit)) = self.draft_line_for(hits) else {
                notes.push(Note::new(NoteCode::OptionWithoutItem, pieces[v].span));
                continue;
            };
            let choice = self.choice(hit, qualifier.as_deref(), *exclude || removing);
            let span = pieces[v].span;
            match grouped.iter_mut().find(|(t, _, _)| *t == target) {
                Some((_, choices, joined)) => {
                    choices.push(choice);
                    *joined = joined.join(span);
                }
                None => grouped.push((target, vec![choice], span)),
            }
        }
        for (target, choices, span) in grouped {
            commands.push((span, Command::SetChoices { target, choices, span }));
        }
    }

    /// The draft line a stray value is about: the last touched line if its product
    /// has the value, else the most recent line that has it.
    fn draft_line_for(&self, hits: &[ValueHit]) -> Option<(ItemRef, ValueHit)> {
        let product_hit = |sku: &Sku| {
            let p = self.catalog.products.iter().position(|product| &product.sku == sku)?;
            hits.iter().find(|hit| hit.product == p).copied()
        };
        let lines = &self.context.lines;
        if let Some(last) = self.context.last.and_then(|i| lines.get(i)) {
            if let Some(hit) = product_hit(&last.sku) {
                return Some((ItemRef::Last, hit));
            }
        }
        lines.iter().rev().find_map(|line| {
            product_hit(&line.sku)
                .map(|hit| (ItemRef::Product(ProductRef::Known(line.sku.clone())), hit))
        })
    }

    /// "make that 3", "make it three", "3 please": a number with no item of its own is
    /// the new quantity of the last line, but only among words that say so ("set the
    /// price to 1" is not a quantity).
    fn orphan_quantity_commands(
        &self,
        pieces: &[Piece],
        modes: &[Mode],
        mentions: &[Mention],
        notes: &mut Vec<Note>,
        commands: &mut Vec<(Span, Command)>,
    ) {
        let lone = mentions.iter().all(|m| m.target == Target::Nothing);
        let last_quantity =
            self.context.last.and_then(|i| self.context.lines.get(i)).map(|l| l.quantity);
        for (m, mention) in mentions.iter().enumerate().filter(|(_, m)| m.target == Target::Nothing)
        {
            // "two cokes actually three": the item just named is the last line by the
            // time this command is applied.
            let named_before =
                mentions[..m].iter().any(|k| matches!(k.target, Target::Piece(_)) && !k.question);
            if last_quantity.is_none() && !named_before {
                continue;
            }
            let numbers: Vec<usize> = mention
                .pieces
                .clone()
                .filter(|&i| matches!(&pieces[i].kind, PieceKind::Number(q) if !q.article))
                .collect();
            let [n] = numbers.as_slice() else { continue };
            let PieceKind::Number(quantity) = &pieces[*n].kind else { continue };
            let only_fillers = mention.pieces.clone().all(|i| match &pieces[i].kind {
                PieceKind::Word(word) => QUANTITY_FILLERS.contains(&word.as_str()),
                PieceKind::Number(_) | PieceKind::Value { .. } | PieceKind::Qualifier(_) => true,
                _ => false,
            });
            let mode = modes.get(*n).copied().unwrap_or(Mode::Add);
            let changing = mode == Mode::Change || (lone && mode == Mode::Add);
            let span = pieces[*n].span;
            if !only_fillers || !(changing || mode == Mode::Remove) {
                continue;
            }
            if mode == Mode::Remove {
                // "remove one": one fewer of the last line.
                if let Some(has) =
                    last_quantity.filter(|has| *has > quantity.value && !named_before)
                {
                    let command = Command::ChangeQuantity {
                        target: ItemRef::Last,
                        quantity: has - quantity.value,
                        span,
                    };
                    commands.push((span, command));
                }
                continue;
            }
            if quantity.value == 0 {
                notes.push(Note::new(NoteCode::ZeroQuantity, span));
                continue;
            }
            let command =
                Command::ChangeQuantity { target: ItemRef::Last, quantity: quantity.value, span };
            commands.push((span, command));
        }
    }
}

impl Items<'_> {
    /// "remove that", "take it off": the last line goes.
    fn remove_it(
        &self,
        pieces: &[Piece],
        mentions: &[Mention],
        commands: &mut Vec<(Span, Command)>,
    ) {
        const IT: &[&str] = &["it", "that", "this", "them", "those"];
        if self.context.last.is_none() || mentions.iter().any(|m| m.target != Target::Nothing) {
            return;
        }
        for mention in mentions.iter().filter(|m| m.mode == Mode::Remove && m.values.is_empty()) {
            let words: Vec<&str> =
                mention.pieces.clone().filter_map(|i| pieces[i].word()).collect();
            let only_words = words.len() == mention.pieces.len();
            let fillers = words.iter().all(|w| {
                REMOVE_WORDS.contains(w)
                    || QUANTITY_FILLERS.contains(w)
                    || IT.contains(w)
                    || matches!(*w, "away" | "out" | "rid" | "mind" | "never")
            });
            if only_words && fillers && words.iter().any(|w| IT.contains(w)) {
                let span =
                    pieces[mention.pieces.start].span.join(pieces[mention.pieces.end - 1].span);
                commands.push((span, Command::RemoveItem { target: ItemRef::Last, span }));
                return;
            }
        }
    }
}

/// A new quantity and new choices for a line. "make it a large" says "a" without
/// meaning one.
fn edits(
    target: ItemRef,
    quantity: Option<(u32, bool)>,
    choices: Vec<Choice>,
    span: Span,
) -> Vec<Command> {
    let mut found = Vec::new();
    if let Some((value, article)) = quantity {
        if !article || choices.is_empty() {
            found.push(Command::ChangeQuantity { target: target.clone(), quantity: value, span });
        }
    }
    if !choices.is_empty() {
        found.push(Command::SetChoices { target, choices, span });
    }
    found
}

fn said_of(product: &ProductRef) -> String {
    match product {
        ProductRef::Known(sku) => sku.to_string(),
        ProductRef::Ambiguous { said, .. } | ProductRef::Unknown { said, .. } => said.clone(),
    }
}
