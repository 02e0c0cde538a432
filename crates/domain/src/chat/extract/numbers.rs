//! Quantities as shoppers write them: "2", "two", "a", "a couple of", "half a
//! dozen", "twenty one", "x2".

use crate::chat::text::{Token, TokenKind};

/// A quantity found at some token, and how many tokens it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    pub value: u32,
    pub len: usize,
    /// "a"/"an": a quantity, but too common a word to announce an unknown product.
    pub article: bool,
    /// "x2" after the product rather than before it.
    pub postfix: bool,
}

const UNITS: &[(&str, u32)] = &[
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("single", 1),
    ("another", 1),
];

const TENS: &[(&str, u32)] = &[
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
];

/// Word sequences that are a quantity on their own; longest listed first.
const PHRASES: &[(&[&str], u32)] = &[
    (&["half", "a", "dozen"], 6),
    (&["a", "half", "dozen"], 6),
    (&["a", "couple", "of"], 2),
    (&["a", "couple"], 2),
    (&["couple", "of"], 2),
    (&["a", "few"], 3),
    (&["a", "dozen"], 12),
    (&["one", "dozen"], 12),
    (&["dozen"], 12),
    (&["couple"], 2),
    (&["a", "pair", "of"], 1),
];

/// Whether a word counts on its own ("four", "twenty", "dozen"): never a typo of a
/// catalog word ("four" is not "flour").
pub fn is_number_word(word: &str) -> bool {
    UNITS.iter().chain(TENS).any(|(name, _)| *name == word)
        || PHRASES.iter().any(|(words, _)| words.len() == 1 && words[0] == word)
}

/// The digits a spelled-out number stands for inside a catalog term: "twelve inch"
/// for "12 inch". Not "single" or "another", which only count.
pub fn spelled_digits(word: &str) -> Option<String> {
    let spelled =
        UNITS.iter().chain(TENS).filter(|(name, _)| !matches!(*name, "single" | "another"));
    spelled.into_iter().find(|(name, _)| *name == word).map(|(_, value)| value.to_string())
}

/// The quantity starting at token `at`, if any. Quantities above `u32` are capped
/// rather than wrapped, so the draft can reject them by name.
pub fn quantity_at(tokens: &[Token], at: usize) -> Option<Quantity> {
    let token = tokens.get(at)?;
    match token.kind {
        TokenKind::Number => digits(&token.text).map(|value| plain(value, 1)),
        TokenKind::Word => word_quantity(tokens, at),
        _ => None,
    }
}

fn plain(value: u32, len: usize) -> Quantity {
    Quantity { value, len, article: false, postfix: false }
}

fn digits(text: &str) -> Option<u32> {
    if text.contains('.') {
        return None;
    }
    Some(text.parse::<u64>().map_or(u32::MAX, |n| n.min(u64::from(u32::MAX)) as u32))
}

fn word_quantity(tokens: &[Token], at: usize) -> Option<Quantity> {
    let text = tokens[at].text.as_str();
    if let Some(quantity) = phrase_quantity(tokens, at) {
        return Some(quantity);
    }
    if let Some(value) = times(text) {
        let postfix = text.starts_with('x');
        return Some(Quantity { value, len: 1, article: false, postfix });
    }
    if text == "x" {
        let next = tokens.get(at + 1).filter(|t| t.kind == TokenKind::Number)?;
        let value = digits(&next.text)?;
        return Some(Quantity { value, len: 2, article: false, postfix: true });
    }
    if text == "a" || text == "an" {
        return Some(Quantity { value: 1, len: 1, article: true, postfix: false });
    }
    let word_value = |word: &str| -> Option<u32> {
        UNITS.iter().chain(TENS).find(|(name, _)| *name == word).map(|(_, value)| *value)
    };
    let first = word_value(text)?;
    let is_tens = TENS.iter().any(|(name, _)| *name == text);
    let unit_after = tokens
        .get(at + 1)
        .filter(|_| is_tens)
        .and_then(|next| word_value(&next.text))
        .filter(|unit| *unit < 10);
    Some(match unit_after {
        Some(unit) => plain(first + unit, 2),
        None => plain(first, 1),
    })
}

fn phrase_quantity(tokens: &[Token], at: usize) -> Option<Quantity> {
    PHRASES.iter().find_map(|(words, value)| {
        let matches = words.iter().enumerate().all(|(k, word)| {
            tokens.get(at + k).is_some_and(|t| t.kind == TokenKind::Word && t.text == *word)
        });
        matches.then_some(plain(*value, words.len()))
    })
}

/// "x2" and "2x".
fn times(text: &str) -> Option<u32> {
    let number = text.strip_prefix('x').or_else(|| text.strip_suffix('x'))?;
    if number.is_empty() || number.len() > 3 || !number.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    number.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::text::tokenize;

    fn read(message: &str) -> Option<(u32, usize)> {
        quantity_at(&tokenize(message), 0).map(|q| (q.value, q.len))
    }

    #[test]
    fn digits_and_words() {
        assert_eq!(read("3 tees"), Some((3, 1)));
        assert_eq!(read("three tees"), Some((3, 1)));
        assert_eq!(read("twenty one cokes"), Some((21, 2)));
        assert_eq!(read("twenty cokes"), Some((20, 1)));
        assert_eq!(read("tees"), None);
        assert_eq!(read("1.5 l"), None);
    }

    #[test]
    fn idioms() {
        assert_eq!(read("a couple of cokes"), Some((2, 3)));
        assert_eq!(read("couple cokes"), Some((2, 1)));
        assert_eq!(read("half a dozen cookies"), Some((6, 3)));
        assert_eq!(read("a dozen cookies"), Some((12, 2)));
        assert_eq!(read("a few cokes"), Some((3, 2)));
        assert_eq!(read("a pair of socks"), Some((1, 3)));
    }

    #[test]
    fn articles_are_one() {
        let quantity = quantity_at(&tokenize("a tee"), 0).unwrap();
        assert_eq!((quantity.value, quantity.article), (1, true));
    }

    #[test]
    fn times_notation() {
        let quantity = quantity_at(&tokenize("x2"), 0).unwrap();
        assert_eq!((quantity.value, quantity.postfix), (2, true));
        assert_eq!(read("2x"), Some((2, 1)));
        assert_eq!(read("x 3"), Some((3, 2)));
    }

    #[test]
    fn number_words_are_known() {
        assert!(is_number_word("four") && is_number_word("dozen") && is_number_word("twenty"));
        assert!(!is_number_word("flour"));
    }

    #[test]
    fn huge_numbers_saturate() {
        assert_eq!(read("99999999999999999999999"), Some((u32::MAX, 1)));
    }
}
