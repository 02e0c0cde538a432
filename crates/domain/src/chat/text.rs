//! The first two stages of reading a message: normalise the characters and cut
//! them into tokens that remember where they came from.
//!
//! Shoppers type on phones: curly quotes, en dashes, accents, emojis, no capitals or
//! all capitals. Catalog terms go through the same functions, so "T-Shirt" in the
//! catalog and "t shirt" in a message meet as the same two tokens.

use crate::chat::command::Span;

/// Longer messages are read only this far: a chat turn that long is not an order, and
/// the bound keeps every later stage linear in something small.
pub const MAX_MESSAGE_BYTES: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Lower case, accents folded, curly quotes made straight.
    pub text: String,
    pub kind: TokenKind,
    /// Where the token is in the original message.
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Word,
    /// Digits, possibly with one decimal point: "3", "1.5".
    Number,
    Email,
    /// "G-100042": letters, a dash, digits.
    OrderNumber,
    /// A comma, full stop, question or exclamation mark, semicolon, colon or line
    /// break: shoppers separate items and thoughts with them.
    Break,
}

impl Token {
    pub fn is_word(&self, word: &str) -> bool {
        self.kind == TokenKind::Word && self.text == word
    }

    pub fn is_break(&self) -> bool {
        self.kind == TokenKind::Break
    }
}

/// One character as the extractor wants to see it; `None` drops it (emojis, symbols).
pub fn fold_char(c: char) -> Option<char> {
    let folded = match c {
        '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{2032}' | '`' | '\u{00B4}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{2033}' => '"',
        '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{3000}' => ' ',
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ñ' | 'Ñ' => 'n',
        'ç' | 'Ç' => 'c',
        _ => c,
    };
    if folded.is_control() && folded != '\n' {
        return Some(' ');
    }
    let lower = folded.to_lowercase().next().unwrap_or(folded);
    Some(lower)
}

/// The message as the later stages read it: folded characters, cut at
/// [`MAX_MESSAGE_BYTES`] on a character boundary.
pub fn normalize(message: &str) -> String {
    bounded(message).chars().filter_map(fold_char).collect()
}

/// The part of a message the extractor reads.
pub fn bounded(message: &str) -> &str {
    if message.len() <= MAX_MESSAGE_BYTES {
        return message;
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    &message[..end]
}

/// Cuts a message into tokens. Whitespace-separated chunks that are an email address
/// or an order number stay whole; everything else splits into words, numbers and
/// breaks, with apostrophes kept inside words ("i'm", "that's") and other
/// punctuation (dashes, slashes, brackets, emojis) dropped.
pub fn tokenize(message: &str) -> Vec<Token> {
    let message = bounded(message);
    let mut tokens = Vec::new();
    for (start, chunk) in chunks(message) {
        let (mut core_start, mut core) = trim_chunk_punctuation(start, chunk);
        // "email:ana@example.com" is one chunk with the address at its end.
        if let Some(colon) = core.rfind([':', '=']).filter(|_| core.contains('@')) {
            let tail = &core[colon + 1..];
            if is_email(tail) {
                split_chunk(&core[..colon + 1], core_start, &mut tokens);
                core_start += colon + 1;
                core = tail;
            }
        }
        if let Some(kind) = whole_chunk_kind(core) {
            tokens.push(Token {
                text: core.chars().filter_map(fold_char).collect(),
                kind,
                span: Span::new(core_start, core_start + core.len()),
            });
            let after = core_start + core.len();
            split_chunk(&message[after..start + chunk.len()], after, &mut tokens);
        } else {
            split_chunk(chunk, start, &mut tokens);
        }
    }
    tokens
}

/// Whitespace-separated chunks with their byte offsets; a line break is a chunk of
/// its own, since shoppers list items one per line.
fn chunks(message: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let mut start: Option<usize> = None;
    for (at, c) in message.char_indices() {
        let blank = c.is_whitespace() || fold_char(c) == Some(' ');
        if blank {
            if let Some(from) = start.take() {
                found.push((from, &message[from..at]));
            }
            if c == '\n' {
                found.push((at, &message[at..at + 1]));
            }
        } else if start.is_none() {
            start = Some(at);
        }
    }
    if let Some(from) = start {
        found.push((from, &message[from..]));
    }
    found
}

/// "(G-100042)," and "ana@example.com." keep their core for the whole-chunk checks.
fn trim_chunk_punctuation(start: usize, chunk: &str) -> (usize, &str) {
    let leading = chunk.len() - chunk.trim_start_matches(['(', '[', '<', '"', '\'', '#']).len();
    let core = chunk[leading..].trim_end_matches(|c: char| !c.is_alphanumeric());
    (start + leading, core)
}

fn whole_chunk_kind(core: &str) -> Option<TokenKind> {
    if is_email(core) {
        Some(TokenKind::Email)
    } else if is_order_number(core) {
        Some(TokenKind::OrderNumber)
    } else {
        None
    }
}

pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let allowed = |c: char| c.is_alphanumeric() || "._%+-".contains(c);
    !local.is_empty()
        && local.chars().all(allowed)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-')
}

/// "G-100042", "g100042": one to three letters, then a dash and four or more digits or
/// no dash and five or more.
pub fn is_order_number(text: &str) -> bool {
    let letters = text.chars().take_while(|c| c.is_ascii_alphabetic()).count();
    if !(1..=3).contains(&letters) {
        return false;
    }
    let rest = &text[letters..];
    let (digits, least) = match rest.strip_prefix('-') {
        Some(digits) => (digits, 4),
        None => (rest, 5),
    };
    digits.len() >= least && digits.chars().all(|c| c.is_ascii_digit())
}

fn split_chunk(chunk: &str, offset: usize, tokens: &mut Vec<Token>) {
    let chars: Vec<(usize, char)> = chunk.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let Some(f) = fold_char(c) else {
            i += 1;
            continue;
        };
        if f.is_alphanumeric() {
            let end = word_end(&chars, i);
            let last = chars.get(end).map_or(chunk.len(), |(at, _)| *at);
            let raw = &chunk[at..last];
            let text: String = raw.chars().filter_map(fold_char).collect();
            let kind = if is_number_text(&text) { TokenKind::Number } else { TokenKind::Word };
            tokens.push(Token { text, kind, span: Span::new(offset + at, offset + last) });
            i = end;
        } else {
            if let Some(mark) = break_mark(f) {
                let width = c.len_utf8();
                tokens.push(Token {
                    text: mark.to_string(),
                    kind: TokenKind::Break,
                    span: Span::new(offset + at, offset + at + width),
                });
            } else if f == '&' || f == '+' {
                tokens.push(Token {
                    text: "and".to_owned(),
                    kind: TokenKind::Word,
                    span: Span::new(offset + at, offset + at + c.len_utf8()),
                });
            }
            i += 1;
        }
    }
}

/// Index just past the word starting at `i`: letters and digits, an apostrophe
/// between letters, a decimal point between digits.
fn word_end(chars: &[(usize, char)], i: usize) -> usize {
    let folded = |k: usize| chars.get(k).and_then(|(_, c)| fold_char(*c));
    let mut end = i;
    while let Some(c) = folded(end) {
        let next_is_alnum = folded(end + 1).is_some_and(char::is_alphanumeric);
        let prev_is_digit = end > i && folded(end - 1).is_some_and(|p| p.is_ascii_digit());
        let next_is_digit = folded(end + 1).is_some_and(|n| n.is_ascii_digit());
        if c.is_alphanumeric()
            || (c == '\'' && end > i && next_is_alnum)
            || (c == '.' && prev_is_digit && next_is_digit)
        {
            end += 1;
        } else {
            break;
        }
    }
    end.max(i + 1)
}

fn break_mark(c: char) -> Option<char> {
    match c {
        ',' | '.' | '!' | '?' | ';' | ':' | '\n' => Some(c),
        _ => None,
    }
}

fn is_number_text(text: &str) -> bool {
    let mut parts = text.split('.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next();
    !whole.is_empty()
        && whole.chars().all(|c| c.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()))
        && parts.next().is_none()
}

/// A catalog term as the tokens a message would have for it.
pub fn term_words(term: &str) -> Vec<String> {
    tokenize(term).into_iter().filter(|token| !token.is_break()).map(|token| token.text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(message: &str) -> Vec<String> {
        tokenize(message).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn lowercases_and_folds_unicode() {
        assert_eq!(normalize("Jalapeños – “Extra” I’m"), "jalapenos - \"extra\" i'm");
        assert_eq!(texts("I’M Hungry"), ["i'm", "hungry"]);
    }

    #[test]
    fn punctuation_becomes_breaks_or_disappears() {
        assert_eq!(texts("hi, two black tees (M)!"), ["hi", ",", "two", "black", "tees", "m", "!"]);
        assert_eq!(texts("t-shirt / hoodie 🍕"), ["t", "shirt", "hoodie"]);
        assert_eq!(texts("pizza & coke + fries"), ["pizza", "and", "coke", "and", "fries"]);
    }

    #[test]
    fn keeps_emails_order_numbers_and_decimals_whole() {
        let tokens = tokenize("order G-100042, mail Ana.Ruiz@Example.com. 1.5 l");
        let kinds: Vec<_> = tokens.iter().map(|t| (t.text.as_str(), t.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("order", TokenKind::Word),
                ("g-100042", TokenKind::OrderNumber),
                (",", TokenKind::Break),
                ("mail", TokenKind::Word),
                ("ana.ruiz@example.com", TokenKind::Email),
                (".", TokenKind::Break),
                ("1.5", TokenKind::Number),
                ("l", TokenKind::Word),
            ]
        );
    }

    #[test]
    fn an_email_after_a_colon_is_still_an_email() {
        let tokens = tokenize("email:ana@example.com");
        assert_eq!(tokens.last().map(|t| t.kind), Some(TokenKind::Email));
        assert_eq!(tokens[0].text, "email");
    }

    #[test]
    fn spans_point_into_the_original_message() {
        let message = "Größe “XL” für Zoë, bitte";
        for token in tokenize(message) {
            let original = token.span.text(message);
            assert!(!original.is_empty(), "{token:?}");
            let refolded: String = original.chars().filter_map(fold_char).collect();
            assert_eq!(refolded, token.text);
        }
    }

    #[test]
    fn a_full_stop_after_a_number_is_a_break() {
        assert_eq!(texts("make it 3."), ["make", "it", "3", "."]);
        assert_eq!(texts("x2 2x"), ["x2", "2x"]);
    }

    #[test]
    fn line_breaks_separate() {
        assert_eq!(texts("a tee\n2 cokes"), ["a", "tee", "\n", "2", "cokes"]);
    }

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        let message = "é".repeat(MAX_MESSAGE_BYTES);
        assert!(bounded(&message).len() <= MAX_MESSAGE_BYTES);
        assert!(!tokenize(&message).is_empty());
    }

    #[test]
    fn catalog_terms_become_message_words() {
        assert_eq!(term_words("T-Shirt"), ["t", "shirt"]);
        assert_eq!(term_words("gluten-free"), ["gluten", "free"]);
        assert_eq!(term_words("500ml"), ["500ml"]);
    }
}
