//! Cutting a message into item mentions: the stretches between "and"s and commas,
//! split again where one stretch names two products, each with its quantity and the
//! words around it that matter (a negation, "the", "to the", "instead of").

use std::ops::Range;

use super::super::pieces::{Piece, PieceKind};
use super::super::words::{ADD_WORDS, CHANGE_WORDS, DEFINITES, REMOVE_WORDS};

/// What the shopper is doing with the items in a stretch of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Add,
    /// "make", "change", "actually", "instead": edit what is there.
    Change,
    /// "remove", "drop", "cancel the ...".
    Remove,
}

/// Which product a mention is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// The product piece at this index.
    Piece(usize),
    /// The same product as another mention in this message: "a white one".
    Like(usize),
    /// The same product as this line of the draft: "one more".
    Line(usize),
    /// The only product (catalog index) that takes every option said: "a large with
    /// pineapple" at a shop where only the pizza has pineapple.
    Implied(usize),
    /// "two burritos", with the products it might have meant.
    Unknown(crate::chat::command::ProductRef),
    Nothing,
}

/// One item as the shopper mentioned it.
#[derive(Debug, Clone)]
pub struct Mention {
    pub pieces: Range<usize>,
    /// Index of the stretch between "and"s and commas this mention came from.
    pub chunk: usize,
    pub target: Target,
    /// The quantity and whether it was only an article ("a").
    pub quantity: Option<(u32, bool)>,
    pub values: Vec<usize>,
    pub mode: Mode,
    pub negated: bool,
    pub definite: bool,
    /// "to the pizza", "from the pizza", "for a diet coke".
    pub linked: bool,
    pub instead_of: bool,
    /// "make it a diet coke": the product replaces the one just mentioned.
    pub refers_back: bool,
    /// Inside a question without a verb of ordering: "do you have wool socks?".
    pub question: bool,
    /// Folded into another mention ("... no ice in the cokes"): no command of its own.
    pub absorbed: bool,
    /// Choices kept from the item this one replaces ("make it a hoodie" after a black
    /// tee in M is a black hoodie in M).
    pub carried: Vec<crate::catalog::Choice>,
}

/// `chunk_start` bounds the look back for the words before the product, which may
/// lie before the mention's own range ("no ice in the cokes").
pub fn mention(
    pieces: &[Piece],
    modes: &[Mode],
    questions: &[bool],
    (chunk, chunk_start): (usize, usize),
    range: Range<usize>,
) -> Mention {
    let product = range.clone().find(|&i| pieces[i].is_product());
    let anchor = product.unwrap_or(range.start);
    let before = |skip: &[&str]| product.and_then(|p| word_before(pieces, chunk_start, p, skip));
    Mention {
        pieces: range.clone(),
        chunk,
        target: product.map_or(Target::Nothing, Target::Piece),
        quantity: product.and_then(|p| quantity_for(pieces, range.clone(), p)),
        values: range.clone().filter(|&i| pieces[i].is_value()).collect(),
        mode: modes.get(anchor).copied().unwrap_or(Mode::Add),
        negated: product.is_some_and(|p| negated(pieces, chunk_start, p)),
        definite: before(&[]).is_some_and(|w| DEFINITES.contains(&w)),
        linked: before(DEFINITES)
            .is_some_and(|w| matches!(w, "to" | "on" | "onto" | "into" | "for" | "from" | "with")),
        instead_of: product.is_some_and(|p| instead_of(pieces, chunk_start, p)),
        refers_back: product.is_some_and(|p| refers_back(pieces, chunk_start, p)),
        question: questions.get(anchor).copied().unwrap_or(false),
        absorbed: false,
        carried: Vec::new(),
    }
}

/// The mode at each piece: set by the last verb seen, reset by a full stop.
pub fn modes(pieces: &[Piece]) -> Vec<Mode> {
    let mut mode = Mode::Add;
    let mut found = Vec::with_capacity(pieces.len());
    for (i, piece) in pieces.iter().enumerate() {
        match &piece.kind {
            PieceKind::Break => mode = Mode::Add,
            // "never mind the daypack, a headlamp instead": after a comma, a counted
            // item is ordered, not removed.
            PieceKind::Split
                if piece.text == ","
                    && matches!(pieces.get(i + 1).map(|p| &p.kind), Some(PieceKind::Number(_)))
                    && mode == Mode::Remove =>
            {
                mode = Mode::Add;
            }
            PieceKind::Word(word) => {
                let next = pieces.get(i + 1).and_then(Piece::word).unwrap_or("");
                let previous = i.checked_sub(1).and_then(|k| pieces[k].word()).unwrap_or("");
                let never_mind = (word == "mind" && previous == "never") || word == "nevermind";
                let after_next = pieces.get(i + 2).and_then(Piece::word).unwrap_or("");
                let off = |w: &str| matches!(w, "off" | "out" | "away" | "rid");
                if never_mind
                    || (matches!(word.as_str(), "take" | "get") && (off(next) || off(after_next)))
                {
                    mode = Mode::Remove;
                } else if CHANGE_WORDS.contains(&word.as_str()) {
                    mode = Mode::Change;
                } else if REMOVE_WORDS.contains(&word.as_str()) {
                    mode = Mode::Remove;
                } else if ADD_WORDS.contains(&word.as_str()) {
                    mode = Mode::Add;
                }
            }
            _ => {}
        }
        found.push(mode);
    }
    found
}

const QUESTION_WORDS: &[&str] =
    &["how", "what", "whats", "what's", "which", "do", "does", "is", "are", "why", "when", "where"];
#[rustfmt::skip]
const ORDERING_CUES: &[&str] = &[
    "get", "want", "order", "take", "add", "gimme", "i'll", "ill", "i'd", "id", "give", "bring",
    "need", "buy", "grab", "wanna", "lemme",
];

/// For each piece, whether it sits in a question that orders nothing: "how much is
/// the tent?" names a product without asking for it, "can I get a tent?" orders it.
pub fn questions(pieces: &[Piece]) -> Vec<bool> {
    let mut flags = vec![false; pieces.len()];
    let mut start = 0;
    for end in 0..=pieces.len() {
        let at_break = end == pieces.len() || pieces[end].kind == PieceKind::Break;
        if !at_break {
            continue;
        }
        let sentence = &pieces[start..end];
        let mut words = sentence.iter().filter_map(Piece::word);
        let opens_with_question = words.next().is_some_and(|w| QUESTION_WORDS.contains(&w))
            && words.next() != Some("up")
            && !sentence.iter().any(|p| matches!(&p.kind, PieceKind::Number(q) if !q.article));
        let asks = pieces.get(end).is_some_and(|p| p.text == "?") || opens_with_question;
        let words: Vec<&str> = sentence.iter().filter_map(Piece::word).collect();
        let orders = words.iter().any(|w| ORDERING_CUES.contains(w))
            || words.windows(2).any(|pair| {
                matches!(
                    pair,
                    ["can" | "could" | "may", "i" | "we"] | ["i", "have"] | ["we", "have"]
                )
            });
        if asks && !orders {
            flags[start..end].iter_mut().for_each(|flag| *flag = true);
        }
        start = end + 1;
    }
    flags
}

/// Stretches between "and", "plus", commas and full stops.
pub fn chunks(pieces: &[Piece]) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut start = 0;
    for (i, piece) in pieces.iter().enumerate() {
        if matches!(piece.kind, PieceKind::Split | PieceKind::Break) {
            if start < i {
                found.push(start..i);
            }
            start = i + 1;
        }
    }
    if start < pieces.len() {
        found.push(start..pieces.len());
    }
    found
}

/// "a black tee a white hoodie", "a tee in black 2 hoodies": a stretch with several
/// products is cut before each later product's quantity or leading options.
pub fn split_between_products(pieces: &[Piece], range: Range<usize>) -> Vec<Range<usize>> {
    let products: Vec<usize> = range.clone().filter(|&i| pieces[i].is_product()).collect();
    let mut cuts = Vec::new();
    for pair in products.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let number = (a + 1..b).find(|&i| matches!(pieces[i].kind, PieceKind::Number(_)));
        let cut = number.unwrap_or_else(|| {
            let mut j = b;
            while j > a + 1 && leads_a_product(&pieces[j - 1]) {
                j -= 1;
            }
            let follows_preposition = j > a + 1 && pieces[j - 1].is_word(&["in", "with", "size"]);
            if follows_preposition {
                b
            } else {
                j
            }
        });
        cuts.push(cut);
    }
    let mut found = Vec::new();
    let mut start = range.start;
    for cut in cuts {
        if cut > start {
            found.push(start..cut);
            start = cut;
        }
    }
    found.push(start..range.end);
    found
}

/// "2 tees one black one white", "2 tshirts one in black ... both size m": after a
/// product, a count or "both" followed by options starts a part of its own.
pub fn split_after_product(pieces: &[Piece], range: Range<usize>) -> Vec<Range<usize>> {
    let product = range.clone().find(|&i| pieces[i].is_product());
    let options_follow = |i: usize| {
        let mut next = i + 1;
        while next < range.end
            && pieces[next].is_word(&["in", "with", "size", "of", "them", "are", "color", "colour"])
        {
            next += 1;
        }
        next < range.end && pieces[next].is_value()
    };
    let starts_a_part = |i: usize| {
        let after_product = product.is_none_or(|p| i > p);
        match &pieces[i].kind {
            PieceKind::Number(q) => after_product && !q.postfix && options_follow(i),
            PieceKind::Word(word) if matches!(word.as_str(), "both" | "each" | "all") => {
                options_follow(i)
            }
            // "two cokes actually three": a correction after the item is its own part.
            PieceKind::Word(word) => {
                product.is_some() && after_product && CHANGE_WORDS.contains(&word.as_str())
            }
            _ => false,
        }
    };
    let mut found = Vec::new();
    let mut start = range.start;
    for i in range.start + 1..range.end {
        if starts_a_part(i) && i > start {
            found.push(start..i);
            start = i;
        }
    }
    found.push(start..range.end);
    found
}

fn leads_a_product(piece: &Piece) -> bool {
    matches!(piece.kind, PieceKind::Value { .. } | PieceKind::Qualifier(_) | PieceKind::Negation)
        || piece.is_word(DEFINITES)
        || piece.is_word(&["of", "pair", "pairs", "more", "any"])
}

/// The closest number before the product, or an "x2" after it, or a bare count
/// closing the mention ("coke (2)", but not "tent for 2").
fn quantity_for(pieces: &[Piece], range: Range<usize>, product: usize) -> Option<(u32, bool)> {
    let before = (range.start..product).rev().find_map(|i| match &pieces[i].kind {
        PieceKind::Number(q) if !q.postfix => Some((q.value, q.article)),
        _ => None,
    });
    let postfix = || {
        (product + 1..range.end).find_map(|i| match &pieces[i].kind {
            PieceKind::Number(q) if q.postfix => Some((q.value, false)),
            _ => None,
        })
    };
    let closing = || {
        let last = range.end - 1;
        let bare = last > product
            && matches!(&pieces[last].kind, PieceKind::Number(q) if !q.article)
            && !pieces[last - 1].is_word(&["for", "of", "to", "in", "by"]);
        match &pieces[last].kind {
            PieceKind::Number(q) if bare => Some((q.value, false)),
            _ => None,
        }
    };
    before.or_else(postfix).or_else(closing)
}

pub fn first_number(pieces: &[Piece], range: Range<usize>) -> Option<(u32, bool)> {
    range.into_iter().find_map(|i| match &pieces[i].kind {
        PieceKind::Number(q) => Some((q.value, q.article)),
        _ => None,
    })
}

/// The word right before the product, looking past option values, qualifiers and the
/// words in `skip`.
fn word_before<'p>(
    pieces: &'p [Piece],
    start: usize,
    product: usize,
    skip: &[&str],
) -> Option<&'p str> {
    let mut i = product;
    while i > start {
        i -= 1;
        match &pieces[i].kind {
            PieceKind::Value { .. } | PieceKind::Qualifier(_) => continue,
            PieceKind::Word(word) if skip.contains(&word.as_str()) => continue,
            PieceKind::Word(word) => return Some(word),
            _ => return None,
        }
    }
    None
}

/// "no coke", "no more socks", "don't want the hoodie".
fn negated(pieces: &[Piece], start: usize, product: usize) -> bool {
    let mut i = product;
    while i > start {
        i -= 1;
        match &pieces[i].kind {
            PieceKind::Negation => return true,
            PieceKind::Word(word)
                if DEFINITES.contains(&word.as_str())
                    || matches!(word.as_str(), "any" | "more") => {}
            _ => return false,
        }
    }
    false
}

/// "instead of the coke", "rather than the coke".
fn instead_of(pieces: &[Piece], start: usize, product: usize) -> bool {
    let mut i = product;
    while i > start && pieces[i - 1].is_word(DEFINITES) {
        i -= 1;
    }
    i >= start + 2
        && ((pieces[i - 1].is_word(&["of"]) && pieces[i - 2].is_word(&["instead"]))
            || (pieces[i - 1].is_word(&["than"]) && pieces[i - 2].is_word(&["rather"])))
}

/// "make it a diet coke", "change that to a margherita": the product takes the place
/// of whatever "it" was.
fn refers_back(pieces: &[Piece], start: usize, product: usize) -> bool {
    let mut i = product;
    while i > start
        && (matches!(
            pieces[i - 1].kind,
            PieceKind::Number(_) | PieceKind::Value { .. } | PieceKind::Qualifier(_)
        ) || pieces[i - 1].is_word(&["to", "into", "for"]))
    {
        i -= 1;
    }
    i > start && pieces[i - 1].is_word(&["it", "that", "this", "them"])
}

/// "can I get a burrito": an article counts as a quantity for an unknown product only
/// after a verb of ordering.
pub fn ordering_verb_before(pieces: &[Piece], at: usize) -> bool {
    (at.saturating_sub(3)..at).any(|i| {
        pieces[i].is_word(&[
            "get", "want", "have", "order", "need", "gimme", "take", "add", "like", "buy",
        ])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::command::Span;

    fn word(text: &str) -> Piece {
        Piece { kind: PieceKind::Word(text.into()), span: Span::default(), text: text.into() }
    }

    fn split() -> Piece {
        Piece { kind: PieceKind::Split, span: Span::default(), text: ",".into() }
    }

    fn stop(text: &str) -> Piece {
        Piece { kind: PieceKind::Break, span: Span::default(), text: text.into() }
    }

    #[test]
    fn chunks_split_on_and_and_commas() {
        let pieces = [word("a"), split(), word("b"), word("c"), split(), split()];
        assert_eq!(chunks(&pieces), vec![0..1, 2..4]);
    }

    #[test]
    fn modes_follow_the_verbs() {
        let pieces = [word("remove"), word("x"), word("add"), word("y"), word("make"), word("z")];
        assert_eq!(
            modes(&pieces),
            [Mode::Remove, Mode::Remove, Mode::Add, Mode::Add, Mode::Change, Mode::Change]
        );
        let pieces = [word("take"), word("off"), word("x")];
        assert_eq!(modes(&pieces)[2], Mode::Remove);
    }

    #[test]
    fn questions_that_order_are_orders() {
        let asking = [word("how"), word("much"), word("is"), word("it"), stop("?")];
        assert!(questions(&asking)[..4].iter().all(|q| *q));
        let ordering = [word("can"), word("i"), word("get"), word("it"), stop("?")];
        assert!(questions(&ordering).iter().all(|q| !*q));
    }
}
