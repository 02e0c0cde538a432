//! From tokens and catalog phrases to pieces: the units item mentions are built
//! from. Numbers, qualifiers and negations are recognised here and qualifiers and
//! negations are already applied to the option values they govern.

use std::collections::HashMap;

use crate::chat::command::Span;
use crate::chat::text::{Token, TokenKind};
use crate::orders::MAX_QUANTITY;

use super::index::{Meaning, NamedValue, PhraseIndex, PhraseMatch, Strength, ValueHit};
use super::numbers::{quantity_at, Quantity};
use super::words::{NEGATIONS, SPLITTERS};

#[derive(Debug, Clone, PartialEq)]
pub enum PieceKind {
    /// One product, or every product that answers to a shared word.
    Product {
        products: Vec<usize>,
        said: String,
        strength: Strength,
        implied: Vec<ValueHit>,
        also_value: Vec<ValueHit>,
    },
    Value {
        hits: Vec<ValueHit>,
        qualifier: Option<String>,
        exclude: bool,
    },
    Number(Quantity),
    Qualifier(String),
    Negation,
    /// "and", "plus", ",": the end of one item mention.
    Split,
    /// ".", "!", a line break, or a stretch set aside as contact details: the end of
    /// a thought, which also ends an edit ("remove the socks. a coke please").
    Break,
    Word(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub kind: PieceKind,
    pub span: Span,
    /// The normalised words, for the few rules that look at the wording itself.
    pub text: String,
}

impl Piece {
    pub fn word(&self) -> Option<&str> {
        match &self.kind {
            PieceKind::Word(word) => Some(word),
            _ => None,
        }
    }

    pub fn is_word(&self, words: &[&str]) -> bool {
        self.word().is_some_and(|word| words.contains(&word))
    }

    pub fn is_product(&self) -> bool {
        matches!(self.kind, PieceKind::Product { .. })
    }

    pub fn is_value(&self) -> bool {
        matches!(self.kind, PieceKind::Value { .. })
    }
}

/// The catalog's qualifiers, each with the everyday words that mean it.
#[derive(Debug, Clone, Default)]
pub struct Qualifiers {
    words: HashMap<Vec<String>, String>,
}

impl Qualifiers {
    pub fn new(catalog_qualifiers: impl IntoIterator<Item = String>) -> Qualifiers {
        const SYNONYMS: &[(&str, &[&str])] = &[
            (
                "extra",
                &[
                    "double",
                    "more",
                    "lots of",
                    "a lot of",
                    "loads of",
                    "heavy",
                    "xtra",
                    "additional",
                    "plenty of",
                ],
            ),
            ("light", &["less", "a little", "a bit of", "easy on", "easy", "lite", "not much"]),
        ];
        let mut words = HashMap::new();
        for qualifier in catalog_qualifiers {
            let key = qualifier.trim().to_lowercase();
            let said = key.split_whitespace().map(str::to_owned).collect();
            words.insert(said, qualifier.clone());
            let synonyms = SYNONYMS.iter().find(|(name, _)| *name == key);
            for synonym in synonyms.into_iter().flat_map(|(_, synonyms)| synonyms.iter()) {
                let said = synonym.split_whitespace().map(str::to_owned).collect();
                words.entry(said).or_insert_with(|| qualifier.clone());
            }
        }
        Qualifiers { words }
    }

    /// The qualifier starting at token `at` and how many tokens it takes.
    fn at(&self, tokens: &[Token], at: usize) -> Option<(String, usize)> {
        self.words
            .iter()
            .filter(|(said, _)| {
                said.iter()
                    .enumerate()
                    .all(|(k, word)| tokens.get(at + k).is_some_and(|t| &t.text == word))
            })
            .max_by_key(|(said, _)| said.len())
            .map(|(said, qualifier)| (qualifier.clone(), said.len()))
    }
}

/// Reads the message into pieces. Tokens that are not `usable` (contact details) become
/// one `Break` per stretch.
pub fn pieces(
    tokens: &[Token],
    usable: &[bool],
    matches: &[PhraseMatch],
    index: &PhraseIndex,
    qualifiers: &Qualifiers,
) -> Vec<Piece> {
    let starts: HashMap<usize, &PhraseMatch> = matches.iter().map(|m| (m.start, m)).collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        if !usable[i] {
            if !matches!(found.last(), Some(Piece { kind: PieceKind::Break, .. })) {
                found.push(Piece { kind: PieceKind::Break, span: token.span, text: String::new() });
            }
            i += 1;
            continue;
        }
        if let Some((values, len)) = every_value_at(tokens, usable, i, index) {
            let end = i + len;
            let span = token.span.join(tokens[end - 1].span);
            for (name, hits) in values {
                let kind = PieceKind::Value { hits: hits.clone(), qualifier: None, exclude: false };
                found.push(Piece { kind, span, text: name.clone() });
            }
            i = end;
            continue;
        }
        let (kind, len) = match starts.get(&i) {
            Some(hit) => (phrase_piece(tokens, hit, index), hit.end - hit.start),
            None => plain_piece(tokens, i, index, qualifiers),
        };
        let len = len.max(1);
        let end = (i + len).min(tokens.len());
        let text = tokens[i..end].iter().map(|t| t.text.as_str()).collect::<Vec<_>>().join(" ");
        found.push(Piece { kind, span: token.span.join(tokens[end - 1].span), text });
        i = end;
    }
    pronoun_ones(&mut found);
    let found = colon_quantities(found);
    let mut found = merge_repeated_products(found);
    verbs_not_values(&mut found, index);
    abbreviated_values(&mut found, index);
    values_over_products(&mut found);
    apply_qualifiers(&mut found);
    apply_negations(&mut found);
    found
}

/// "all three dips", "every topping", "all the extras": each value of a multi-value
/// group named after "all" or "every", and how many tokens that took.
fn every_value_at<'i>(
    tokens: &[Token],
    usable: &[bool],
    i: usize,
    index: &'i PhraseIndex,
) -> Option<(&'i [NamedValue], usize)> {
    if !matches!(tokens[i].text.as_str(), "all" | "every") {
        return None;
    }
    let mut at = i + 1;
    while tokens.get(at).is_some_and(|t| matches!(t.text.as_str(), "the" | "of" | "your")) {
        at += 1;
    }
    if let Some(count) = quantity_at(tokens, at).filter(|q| !q.article) {
        at += count.len;
    }
    let (values, len) = index.multi_group_at(tokens, at)?;
    let end = at + len;
    usable[i..end].iter().all(|&ok| ok).then_some((values, end - i))
}

/// "a white one", "the 1l one", "another one": after a describing word or a number,
/// "one" stands for a product rather than counting it, unless options follow ("one
/// black one white").
fn pronoun_ones(pieces: &mut [Piece]) {
    for i in 1..pieces.len() {
        let describes = matches!(
            pieces[i - 1].kind,
            PieceKind::Value { .. } | PieceKind::Qualifier(_) | PieceKind::Number(_)
        );
        let mut next = i + 1;
        while pieces.get(next).is_some_and(|p| p.is_word(&["with"])) {
            next += 1;
        }
        let counts_next = pieces.get(next).is_some_and(|next| next.is_value() || next.is_product());
        // "a small one with caramel": after an article and a describing word, "one" is
        // the item even when its options follow.
        let described_item = i >= 2
            && pieces[i - 1].is_value()
            && matches!(&pieces[i - 2].kind, PieceKind::Number(q) if q.article);
        if describes
            && (!counts_next || described_item)
            && pieces[i].text == "one"
            && matches!(pieces[i].kind, PieceKind::Number(_))
        {
            pieces[i].kind = PieceKind::Word("one".to_owned());
        }
    }
}

/// "a pizza pie", "a margherita pizza pie": two names in a row, one of them as
/// narrow as the other or narrower, are one mention of the narrower. A shared last
/// word after a name is the kind of thing it is: "steak and cheese subs".
fn merge_repeated_products(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut kept: Vec<Piece> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        if let (Some(last), PieceKind::Product { products, said, strength, .. }) =
            (kept.last_mut(), &piece.kind)
        {
            if let PieceKind::Product { products: before, said: said_before, .. } = &mut last.kind {
                let within = |a: &[usize], b: &[usize]| a.iter().all(|p| b.contains(p));
                let kind_word = *strength == Strength::Head;
                if kind_word || within(before, products) || within(products, before) {
                    if !kind_word && products.len() < before.len() {
                        before.clone_from(products);
                    }
                    *said_before = format!("{said_before} {said}");
                    last.span = last.span.join(piece.span);
                    last.text = format!("{} {}", last.text, piece.text);
                    continue;
                }
            }
        }
        kept.push(piece);
    }
    kept
}

/// "can I get ...", "can we have ...": an everyday word that is also an option value
/// ("can" the container) is the verb when a pronoun follows it.
fn verbs_not_values(pieces: &mut [Piece], index: &PhraseIndex) {
    for i in 0..pieces.len().saturating_sub(1) {
        let everyday = pieces[i].is_value() && index.is_common(&pieces[i].text);
        if everyday && pieces[i + 1].is_word(&["i", "we", "you", "u"]) {
            pieces[i].kind = PieceKind::Word(pieces[i].text.clone());
        }
    }
}

/// "five med diet sprites": a value the item in its stretch cannot take, that is the
/// start of exactly one value the item can take, is that value cut short.
fn abbreviated_values(pieces: &mut [Piece], index: &PhraseIndex) {
    let mut longer = Vec::new();
    let stretch_end = |i: usize| matches!(pieces[i].kind, PieceKind::Split | PieceKind::Break);
    for i in 0..pieces.len() {
        let PieceKind::Value { hits, .. } = &pieces[i].kind else { continue };
        if pieces[i].text.contains(' ') || pieces[i].text.chars().count() < 3 {
            continue;
        }
        let after = (i + 1..pieces.len()).take_while(|&k| !stretch_end(k));
        let before = (0..i).rev().take_while(|&k| !stretch_end(k));
        let Some(item) = after.chain(before).find(|&k| pieces[k].is_product()) else { continue };
        let PieceKind::Product { products, .. } = &pieces[item].kind else { continue };
        if hits.iter().any(|hit| products.contains(&hit.product)) {
            continue;
        }
        if let Some(hits) = index.value_starting_with(&pieces[i].text, products) {
            longer.push((i, hits));
        }
    }
    for (i, value) in longer {
        if let PieceKind::Value { hits, .. } = &mut pieces[i].kind {
            *hits = value;
        }
    }
}

/// "a burrito with steak, beans and guacamole": a word that is both a product and an
/// option value is the value when it continues the options of an item that takes it
/// ("with ..."), or when a qualifier or negation governs it ("extra guac"). A side
/// of its own is said as one: "and a side of guacamole".
fn values_over_products(pieces: &mut [Piece]) {
    for i in 0..pieces.len() {
        let PieceKind::Product { also_value, .. } = &pieces[i].kind else { continue };
        if also_value.is_empty() {
            continue;
        }
        let governed =
            i > 0 && matches!(pieces[i - 1].kind, PieceKind::Qualifier(_) | PieceKind::Negation);
        let mut with = false;
        let mut describes = false;
        for k in (0..i).rev() {
            match &pieces[k].kind {
                PieceKind::Value { .. }
                | PieceKind::Qualifier(_)
                | PieceKind::Negation
                | PieceKind::Split => {}
                // "with", "that has", "topped with", "including": options follow.
                PieceKind::Word(word)
                    if matches!(
                        word.as_str(),
                        "with" | "has" | "have" | "having" | "including" | "topped"
                    ) =>
                {
                    with = true
                }
                // "a burrito along with ...", "a bowl that comes with ...".
                PieceKind::Word(_) if with => {}
                PieceKind::Word(word)
                    if matches!(
                        word.as_str(),
                        "the" | "some" | "add" | "both" | "all" | "each"
                    ) => {}
                PieceKind::Product { products, .. } => {
                    describes =
                        with && also_value.iter().any(|hit| products.contains(&hit.product));
                    break;
                }
                _ => break,
            }
        }
        // "guacamole on the side", "guac as a side": the side itself.
        let side = pieces[i + 1..].iter().take(3).any(|p| p.is_word(&["side"]));
        if (governed || describes) && !side {
            let hits = also_value.clone();
            pieces[i].kind = PieceKind::Value { hits, qualifier: None, exclude: false };
        }
    }
}

/// "cokes: 2": a colon between a product and a number that closes the item gives
/// the quantity ("3 tees: 1 small, 1 medium" lists parts instead).
fn colon_quantities(pieces: Vec<Piece>) -> Vec<Piece> {
    let closes = |i: usize| {
        pieces
            .get(i + 1)
            .is_none_or(|next| matches!(next.kind, PieceKind::Split | PieceKind::Break))
    };
    let drop: Vec<usize> = (1..pieces.len().saturating_sub(1))
        .filter(|&i| {
            pieces[i].text == ":"
                && pieces[i - 1].is_product()
                && matches!(pieces[i + 1].kind, PieceKind::Number(_))
                && closes(i + 1)
        })
        .collect();
    let mut kept = Vec::with_capacity(pieces.len());
    for (i, mut piece) in pieces.into_iter().enumerate() {
        if drop.contains(&i) {
            continue;
        }
        if drop.contains(&i.wrapping_sub(1)) {
            if let PieceKind::Number(quantity) = &mut piece.kind {
                quantity.postfix = true;
            }
        }
        kept.push(piece);
    }
    kept
}

fn phrase_piece(tokens: &[Token], hit: &PhraseMatch, index: &PhraseIndex) -> PieceKind {
    let phrase = index.phrase(hit.phrase);
    match &phrase.meaning {
        Meaning::Products(products) => {
            let said: Vec<&str> =
                tokens[hit.start..hit.end].iter().map(|t| t.text.as_str()).collect();
            PieceKind::Product {
                products: products.clone(),
                said: said.join(" "),
                strength: phrase.strength,
                implied: phrase.implied.clone(),
                also_value: phrase.also_value.clone(),
            }
        }
        Meaning::Value(hits) => {
            PieceKind::Value { hits: hits.clone(), qualifier: None, exclude: false }
        }
    }
}

fn plain_piece(
    tokens: &[Token],
    i: usize,
    index: &PhraseIndex,
    qualifiers: &Qualifiers,
) -> (PieceKind, usize) {
    let token = &tokens[i];
    let text = token.text.as_str();
    match token.kind {
        TokenKind::Break if text == "," => return (PieceKind::Split, 1),
        TokenKind::Break => return (PieceKind::Break, 1),
        TokenKind::Email | TokenKind::OrderNumber => return (PieceKind::Break, 1),
        _ => {}
    }
    if let Some(len) = negation_at(tokens, i) {
        return (PieceKind::Negation, len);
    }
    if let Some((qualifier, len)) = qualifiers.at(tokens, i) {
        return (PieceKind::Qualifier(qualifier), len);
    }
    if let Some(quantity) = quantity_at(tokens, i) {
        // "bottle 750": too many to be a count, and what a value of the catalog is
        // called without its unit.
        if token.kind == TokenKind::Number && quantity.value > MAX_QUANTITY {
            let hits = index.values_by_number(text);
            if !hits.is_empty() {
                return (PieceKind::Value { hits, qualifier: None, exclude: false }, 1);
            }
        }
        return (PieceKind::Number(quantity), quantity.len);
    }
    if SPLITTERS.contains(&text) {
        return (PieceKind::Split, 1);
    }
    (PieceKind::Word(token.text.clone()), 1)
}

/// "no", "without", "hold the", "don't want", "leave off".
fn negation_at(tokens: &[Token], i: usize) -> Option<usize> {
    let text = |k: usize| tokens.get(k).map(|t| t.text.as_str()).unwrap_or("");
    let word = text(i);
    if NEGATIONS.contains(&word) {
        return Some(1);
    }
    let dont = matches!(word, "don't" | "dont" | "do") && (word != "do" || text(i + 1) == "not");
    if dont {
        let verb = if word == "do" { i + 2 } else { i + 1 };
        if matches!(text(verb), "want" | "need" | "add" | "put" | "like" | "include") {
            return Some(verb + 1 - i);
        }
    }
    if matches!(word, "leave" | "take") && matches!(text(i + 1), "off" | "out") {
        return Some(2);
    }
    None
}

/// "extra cheese", "light on the sauce": a qualifier governs the value right after it.
fn apply_qualifiers(pieces: &mut [Piece]) {
    for i in 0..pieces.len() {
        let PieceKind::Qualifier(qualifier) = &pieces[i].kind else { continue };
        let qualifier = qualifier.clone();
        let mut at = i + 1;
        while at < pieces.len() && pieces[at].is_word(&["on", "the", "of", "with", "some"]) {
            at += 1;
        }
        if let Some(PieceKind::Value { qualifier: slot, .. }) =
            pieces.get_mut(at).map(|p| &mut p.kind)
        {
            *slot = Some(qualifier);
        }
    }
}

/// Words between a negation and what it leaves out, anywhere in its list.
const NEGATION_FILLERS: &[&str] = &["the", "any", "more", "on", "my"];
/// Words only between a negation and its first value: "do not add any ham", "don't
/// want it on thin crust" (after a value, "add" starts something else).
const NEGATION_LEADS: &[&str] = &["it", "adding", "add", "have", "put", "of"];

/// A negation leaves out the values after it, across "and"/"or"/"," ("no onions or
/// olives"), until something else starts.
fn apply_negations(pieces: &mut [Piece]) {
    let mut i = 0;
    while i < pieces.len() {
        if pieces[i].kind != PieceKind::Negation {
            i += 1;
            continue;
        }
        let mut at = i + 1;
        let mut seen_value = false;
        while at < pieces.len() {
            match &mut pieces[at].kind {
                PieceKind::Value { exclude, .. } => {
                    *exclude = true;
                    seen_value = true;
                }
                PieceKind::Split if seen_value => {}
                // "no extra cheese" leaves out the extra; "no onions, extra cheese" stops.
                PieceKind::Qualifier(_) if !seen_value => {}
                // "without a thin crust", "don't want it on thin crust", "without adding
                // ham".
                PieceKind::Number(q) if q.article && !seen_value => {}
                PieceKind::Word(word) if NEGATION_FILLERS.contains(&word.as_str()) => {}
                PieceKind::Word(word) if !seen_value && NEGATION_LEADS.contains(&word.as_str()) => {
                }
                _ => break,
            }
            at += 1;
        }
        i = at.max(i + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::text::tokenize;
    use crate::testing::demo_catalog;

    fn read(message: &str) -> Vec<PieceKind> {
        let catalog = demo_catalog();
        let index = PhraseIndex::new(&catalog);
        let qualifiers = Qualifiers::new(
            catalog.products.iter().flat_map(|p| &p.options).flat_map(|g| g.qualifiers.clone()),
        );
        let tokens = tokenize(message);
        let usable = vec![true; tokens.len()];
        let matches = index.find_phrases(&tokens, &usable);
        pieces(&tokens, &usable, &matches, &index, &qualifiers)
            .into_iter()
            .map(|p| p.kind)
            .collect()
    }

    fn excluded(kind: &PieceKind) -> Option<bool> {
        match kind {
            PieceKind::Value { exclude, .. } => Some(*exclude),
            _ => None,
        }
    }

    #[test]
    fn negation_covers_a_list_of_values() {
        let kinds = read("pizza without onions or olives and a coke");
        let flags: Vec<bool> = kinds.iter().filter_map(excluded).collect();
        assert_eq!(flags, [true, true]);
        let kinds = read("hold the onions");
        assert_eq!(kinds.iter().filter_map(excluded).collect::<Vec<_>>(), [true]);
    }

    #[test]
    fn negation_verbs_beyond_no() {
        for message in [
            "pizza but avoid onions",
            "pizza but not onions",
            "pizza, leave off the onions",
            "pizza minus the onions",
            "pizza, skip the onions",
            "pizza and do not add any onions",
            "pizza but i don't want it on thin crust",
            "pizza without a thin crust",
        ] {
            let flags: Vec<bool> = read(message).iter().filter_map(excluded).collect();
            assert_eq!(flags, [true], "{message}");
        }
        let kinds = read("without onions and with olives and add ham");
        assert_eq!(kinds.iter().filter_map(excluded).collect::<Vec<_>>(), [true, false, false]);
    }

    #[test]
    fn no_extra_leaves_out_the_extra() {
        let kinds = read("no extra cheese");
        assert!(kinds.iter().any(|k| matches!(
            k,
            PieceKind::Value { qualifier: Some(q), exclude: true, .. } if q == "extra"
        )));
        let kinds = read("additional cheese");
        assert!(kinds.iter().any(|k| matches!(
            k,
            PieceKind::Value { qualifier: Some(q), exclude: false, .. } if q == "extra"
        )));
    }

    #[test]
    fn negation_stops_at_a_qualifier() {
        let kinds = read("no onions and extra cheese");
        let flags: Vec<bool> = kinds.iter().filter_map(excluded).collect();
        assert_eq!(flags, [true, false]);
    }

    #[test]
    fn qualifiers_reach_over_small_words() {
        let kinds = read("light on the sauce");
        assert!(kinds.iter().any(|k| matches!(
            k,
            PieceKind::Value { qualifier: Some(q), .. } if q == "light"
        )));
        let kinds = read("double cheese");
        assert!(kinds.iter().any(|k| matches!(
            k,
            PieceKind::Value { qualifier: Some(q), .. } if q == "extra"
        )));
    }

    #[test]
    fn a_number_too_big_to_count_may_be_a_value_without_its_unit() {
        let kinds = read("bottle 750");
        assert!(matches!(&kinds[1], PieceKind::Value { hits, .. } if !hits.is_empty()));
        assert!(matches!(read("bottle 2")[1], PieceKind::Number(Quantity { value: 2, .. })));
        assert!(matches!(read("120 tees")[0], PieceKind::Number(Quantity { value: 120, .. })));
    }

    #[test]
    fn all_of_a_group_is_each_of_its_values() {
        let kinds = read("knots with all three dips");
        assert_eq!(kinds.iter().filter(|k| matches!(k, PieceKind::Value { .. })).count(), 3);
        let kinds = read("ignore all previous instructions");
        assert!(!kinds.iter().any(|k| matches!(k, PieceKind::Value { .. })));
    }

    #[test]
    fn splits_and_numbers() {
        let kinds = read("two tees, and a coke");
        assert!(matches!(kinds[0], PieceKind::Number(Quantity { value: 2, .. })));
        assert_eq!(kinds[2], PieceKind::Split);
        assert_eq!(kinds[3], PieceKind::Split);
    }
}
