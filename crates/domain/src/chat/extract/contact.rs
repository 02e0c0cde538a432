//! Who the shopper is and where the order goes: name, email, phone, shipping address
//! and order numbers. These are found before anything else and their tokens are set
//! aside, so the "12" of "12 Main St" never becomes a quantity.

use std::ops::Range;

use crate::chat::command::AddressMention;

use super::address::parse_address;
use crate::chat::text::{Token, TokenKind};

use super::index::PhraseIndex;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<AddressMention>,
    pub order_number: Option<String>,
    /// Token ranges that belong to the above and are not to be read as items.
    pub claimed: Vec<Range<usize>>,
}

pub fn find_contact(message: &str, tokens: &[Token], index: &PhraseIndex) -> Contact {
    let mut contact = Contact::default();
    for (i, token) in tokens.iter().enumerate() {
        match token.kind {
            TokenKind::Email if contact.email.is_none() => {
                contact.email = Some(token.text.clone());
                contact.claimed.push(i..i + 1);
            }
            TokenKind::OrderNumber if contact.order_number.is_none() => {
                contact.order_number = Some(token.text.to_ascii_uppercase());
                contact.claimed.push(i..i + 1);
            }
            _ => {}
        }
    }
    if let Some((range, phone)) = find_phone(message, tokens) {
        contact.phone = Some(phone);
        contact.claimed.push(range);
    }
    if let Some((range, address)) = find_address(message, tokens, &contact.claimed) {
        contact.address = Some(address);
        contact.claimed.push(range);
    }
    if let Some((range, name)) = find_name(message, tokens, index, &contact.claimed) {
        contact.name = Some(name);
        contact.claimed.push(range);
    }
    contact
}

fn is_claimed(claimed: &[Range<usize>], i: usize) -> bool {
    claimed.iter().any(|range| range.contains(&i))
}

fn words_at(tokens: &[Token], at: usize, words: &[&str]) -> bool {
    words.iter().enumerate().all(|(k, word)| {
        tokens.get(at + k).is_some_and(|t| t.text == *word && t.kind != TokenKind::Email)
    })
}

const PHONE_WORDS: &[&str] =
    &["phone", "number", "cell", "mobile", "tel", "call", "text", "reach", "whatsapp", "ph"];

/// Runs of digit groups separated only by spaces, dashes, dots or brackets, with
/// 10 to 15 digits, or 7 or more right after a word like "phone".
fn find_phone(message: &str, tokens: &[Token]) -> Option<(Range<usize>, String)> {
    let mut i = 0;
    while i < tokens.len() {
        if !is_digits(&tokens[i]) {
            i += 1;
            continue;
        }
        let mut end = i + 1;
        while end < tokens.len()
            && is_digits(&tokens[end])
            && joined_like_a_phone(message, &tokens[end - 1], &tokens[end])
        {
            end += 1;
        }
        let digits: String = tokens[i..end].iter().map(|t| t.text.as_str()).collect();
        let cued =
            tokens[i.saturating_sub(4)..i].iter().any(|t| PHONE_WORDS.contains(&t.text.as_str()));
        let plus = message[..tokens[i].span.start].ends_with('+');
        let count = digits.len();
        if (10..=15).contains(&count) || (cued && (7..=15).contains(&count)) {
            let phone = if plus { format!("+{digits}") } else { digits };
            return Some((i..end, phone));
        }
        i = end;
    }
    None
}

fn is_digits(token: &Token) -> bool {
    token.kind == TokenKind::Number && token.text.chars().all(|c| c.is_ascii_digit())
}

fn joined_like_a_phone(message: &str, before: &Token, after: &Token) -> bool {
    message
        .get(before.span.end..after.span.start)
        .is_some_and(|gap| gap.len() <= 3 && gap.chars().all(|c| " -.()".contains(c)))
}

const ADDRESS_VERBS: &[&str] =
    &["ship", "send", "deliver", "delivery", "delivered", "mail", "shipping", "shipped", "post"];
const ADDRESS_OBJECTS: &[&str] =
    &["it", "them", "everything", "this", "that", "all", "the", "my", "order", "stuff", "package"];
const ADDRESS_STOPS: &[&str] =
    &["email", "e-mail", "phone", "thanks", "thank", "thx", "please", "pls", "cheers", "cell"];

/// "ship to 12 Main St, Springfield, 12345", "address: ...", "deliver it to ...".
fn find_address(
    message: &str,
    tokens: &[Token],
    claimed: &[Range<usize>],
) -> Option<(Range<usize>, AddressMention)> {
    let start = address_start(tokens)?;
    let end = address_end(tokens, start, claimed);
    let body = &tokens[start..end];
    let has_number = body.iter().any(|t| t.text.chars().any(|c| c.is_ascii_digit()));
    let words = body.iter().filter(|t| t.kind == TokenKind::Word).count();
    if !has_number || words < 2 {
        return None;
    }
    let text = message.get(body[0].span.start..body[body.len() - 1].span.end)?;
    Some((start..end, parse_address(text)))
}

/// The token after the phrase that announces an address, if there is one.
fn address_start(tokens: &[Token]) -> Option<usize> {
    for (i, token) in tokens.iter().enumerate() {
        if token.text == "address" {
            let mut at = i + 1;
            while tokens.get(at).is_some_and(|t| matches!(t.text.as_str(), "is" | ":" | "=" | "-"))
            {
                at += 1;
            }
            return Some(at);
        }
        if ADDRESS_VERBS.contains(&token.text.as_str()) {
            let mut at = i + 1;
            while tokens.get(at).is_some_and(|t| ADDRESS_OBJECTS.contains(&t.text.as_str())) {
                at += 1;
            }
            if tokens.get(at).is_some_and(|t| matches!(t.text.as_str(), "to" | "at" | ":")) {
                return Some(at + 1);
            }
        }
    }
    None
}

const ABBREVIATIONS: &[&str] =
    &["st", "ave", "rd", "dr", "apt", "blvd", "ln", "ct", "n", "s", "e", "w", "mt", "ft", "no"];

fn address_end(tokens: &[Token], start: usize, claimed: &[Range<usize>]) -> usize {
    let mut end = start;
    while let Some(token) = tokens.get(end) {
        let stop = is_claimed(claimed, end)
            || token.kind == TokenKind::Email
            || ADDRESS_STOPS.contains(&token.text.as_str())
            || matches!(token.text.as_str(), "!" | "?" | "\n")
            || matches!(token.text.as_str(), "and" | "also" | "plus")
            || (token.text == "my" && end > start)
            || (token.text == "."
                && !tokens
                    .get(end.wrapping_sub(1))
                    .is_some_and(|t| ABBREVIATIONS.contains(&t.text.as_str())));
        if stop {
            break;
        }
        end += 1;
    }
    while end > start && tokens[end - 1].is_break() {
        end -= 1;
    }
    end
}

#[rustfmt::skip]
const NAME_STOPS: &[&str] = &[
    "and", "my", "email", "e-mail", "phone", "number", "i", "please", "thanks", "thank", "here",
    "the", "a", "an", "from", "at", "with", "im", "i'm", "is", "mail", "address", "ship", "to",
    "cell", "mobile", "you", "can", "could", "would", "want", "need", "like", "have", "get",
    "order", "ordering", "for", "of", "on", "in", "but", "so", "it", "its", "it's",
];

/// "my name is Ana Ruiz" (strong), "I'm Ana", "this is Ana" (weak: only when what
/// follows cannot be anything but a name, since "I'm looking for a tee" is common).
fn find_name(
    message: &str,
    tokens: &[Token],
    index: &PhraseIndex,
    claimed: &[Range<usize>],
) -> Option<(Range<usize>, String)> {
    const STRONG: &[&[&str]] = &[
        &["my", "name", "is"],
        &["my", "name's"],
        &["my", "names"],
        &["name", "is"],
        &["name", ":"],
        &["name", "-"],
        &["call", "me"],
    ];
    const WEAK: &[&[&str]] =
        &[&["i", "am"], &["i'm"], &["im"], &["this", "is"], &["it's"], &["its"]];
    for (i, _) in tokens.iter().enumerate() {
        if let Some(len) = STRONG.iter().find(|words| words_at(tokens, i, words)).map(|w| w.len()) {
            if let Some(found) = name_after(message, tokens, i + len, index, claimed, false) {
                return Some(found);
            }
        }
    }
    for (i, _) in tokens.iter().enumerate() {
        if let Some(len) = WEAK.iter().find(|words| words_at(tokens, i, words)).map(|w| w.len()) {
            if let Some(found) = name_after(message, tokens, i + len, index, claimed, true) {
                return Some(found);
            }
        }
    }
    None
}

fn name_after(
    message: &str,
    tokens: &[Token],
    start: usize,
    index: &PhraseIndex,
    claimed: &[Range<usize>],
    weak: bool,
) -> Option<(Range<usize>, String)> {
    let mut end = start;
    while end < tokens.len() && end - start < 3 {
        let token = &tokens[end];
        let text = token.text.as_str();
        let plausible = token.kind == TokenKind::Word
            && !is_claimed(claimed, end)
            && text.chars().all(|c| c.is_alphabetic() || c == '\'')
            && !NAME_STOPS.contains(&text)
            && !(weak && (index.is_common(text) || index.knows(text) || text.ends_with("ing")));
        if !plausible {
            break;
        }
        end += 1;
    }
    if end == start {
        return None;
    }
    let next = tokens.get(end);
    let ends_cleanly = next.is_none_or(|t| {
        t.is_break() || t.kind == TokenKind::Email || NAME_STOPS.contains(&t.text.as_str())
    });
    if weak && !ends_cleanly {
        return None;
    }
    let raw = message.get(tokens[start].span.start..tokens[end - 1].span.end)?;
    Some((start..end, display_name(raw)))
}

/// Keeps the shopper's capitals when they typed any; otherwise capitalises each word.
fn display_name(raw: &str) -> String {
    if raw.chars().any(char::is_uppercase) {
        return raw.to_owned();
    }
    raw.split_whitespace()
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::tests::demo_catalog;
    use crate::chat::text::tokenize;

    fn contact(message: &str) -> Contact {
        let index = PhraseIndex::new(&demo_catalog());
        find_contact(message, &tokenize(message), &index)
    }

    #[test]
    fn finds_names() {
        assert_eq!(contact("my name is ana ruiz").name.as_deref(), Some("Ana Ruiz"));
        assert_eq!(contact("hi I'm Ana, ana@example.com").name.as_deref(), Some("Ana"));
        assert_eq!(contact("Name: Jean-Luc Picard").name.as_deref(), Some("Jean-Luc Picard"));
        assert_eq!(contact("i'm looking for a tee").name, None);
        assert_eq!(contact("im hungry").name, None);
        assert_eq!(contact("i'm ana and i want a tee").name.as_deref(), Some("Ana"));
    }

    #[test]
    fn finds_emails_and_order_numbers() {
        let found = contact("where is G-100042? I'm ana@example.com");
        assert_eq!(found.order_number.as_deref(), Some("G-100042"));
        assert_eq!(found.email.as_deref(), Some("ana@example.com"));
        assert_eq!(found.name, None);
    }

    #[test]
    fn finds_phones() {
        assert_eq!(contact("call me at 555-123-4567").phone.as_deref(), Some("5551234567"));
        assert_eq!(contact("+1 (555) 123 4567").phone.as_deref(), Some("+15551234567"));
        assert_eq!(contact("phone 555 1234").phone.as_deref(), Some("5551234"));
        assert_eq!(contact("2 tees and 3 cokes").phone, None);
        assert_eq!(contact("ship to 12 Main St, Springfield, 12345").phone, None);
    }

    #[test]
    fn finds_addresses_with_commas() {
        let address = contact("ship to 12 Main St, Springfield, 12345").address.unwrap();
        assert_eq!(address.line1.as_deref(), Some("12 Main St"));
        assert_eq!(address.city.as_deref(), Some("Springfield"));
        assert_eq!(address.postal_code.as_deref(), Some("12345"));
        assert_eq!(address.country, None);
    }

    #[test]
    fn finds_addresses_without_commas() {
        let address = contact("address: 400 oak avenue apt 3 portland or 97201").address.unwrap();
        assert_eq!(address.line1.as_deref(), Some("400 oak avenue"));
        assert_eq!(address.line2.as_deref(), Some("apt 3"));
        assert_eq!(address.city.as_deref(), Some("portland"));
        assert_eq!(address.region.as_deref(), Some("OR"));
        assert_eq!(address.postal_code.as_deref(), Some("97201"));
    }

    #[test]
    fn address_stops_before_other_details() {
        let found = contact("deliver to 9 Elm Rd, Dover, NH 03820, USA and my email is a@b.co");
        let address = found.address.unwrap();
        assert_eq!(address.line1.as_deref(), Some("9 Elm Rd"));
        assert_eq!(address.city.as_deref(), Some("Dover"));
        assert_eq!(address.region.as_deref(), Some("NH"));
        assert_eq!(address.postal_code.as_deref(), Some("03820"));
        assert_eq!(address.country.as_deref(), Some("US"));
        assert_eq!(found.email.as_deref(), Some("a@b.co"));
    }

    #[test]
    fn no_address_without_a_number() {
        assert_eq!(contact("send it to me").address, None);
    }
}
