//! Who the shopper is and where the order goes: name, email, phone, shipping address
//! and order numbers. These are found before anything else and their tokens are set
//! aside, so the "12" of "12 Main St" never becomes a quantity.

use std::ops::Range;

use crate::orders::UncheckedAddress;

use super::address::{is_street_suffix, parse_address};
use super::numbers::quantity_at;
use crate::chat::text::{Token, TokenKind};

use super::index::PhraseIndex;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<UncheckedAddress>,
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
    let address = find_address(message, tokens, &contact.claimed, index)
        .or_else(|| find_bare_address(message, tokens, &contact.claimed, index));
    if let Some((range, address)) = address {
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
    index: &PhraseIndex,
) -> Option<(Range<usize>, UncheckedAddress)> {
    let start = address_start(tokens)?;
    let end = address_end(tokens, start, claimed, index);
    let body = &tokens[start..end];
    let has_number = body.iter().any(|t| t.text.chars().any(|c| c.is_ascii_digit()));
    let words = body.iter().filter(|t| t.kind == TokenKind::Word).count();
    if !has_number || words < 2 {
        return None;
    }
    let text = message.get(body[0].span.start..body[body.len() - 1].span.end)?;
    Some((start..end, parse_address(text)))
}

/// "12 Main St, Springfield, 62701, US" on its own: an address line nothing announces.
/// It takes a house number, one to three words of street name and a street suffix,
/// and after them a city, postal code or country. When the street name is made of
/// catalog words ("2 tees way too big") only a postal code or a country will do.
fn find_bare_address(
    message: &str,
    tokens: &[Token],
    claimed: &[Range<usize>],
    index: &PhraseIndex,
) -> Option<(Range<usize>, UncheckedAddress)> {
    for start in 0..tokens.len() {
        if is_claimed(claimed, start) || !is_house_number(&tokens[start]) {
            continue;
        }
        let Some(suffix) = street_suffix_after(tokens, start, claimed) else { continue };
        let end = address_end(tokens, start, claimed, index);
        if end <= suffix {
            continue;
        }
        let Some(text) = message.get(tokens[start].span.start..tokens[end - 1].span.end) else {
            continue;
        };
        let address = parse_address(text);
        let placed = address.postal_code.is_some() || address.country.is_some();
        let street_of_catalog_words =
            tokens[start + 1..suffix].iter().any(|t| index.knows(&t.text));
        if placed || (address.city.is_some() && !street_of_catalog_words) {
            return Some((start..end, address));
        }
    }
    None
}

/// "12", "221b": digits, perhaps with one letter after them.
fn is_house_number(token: &Token) -> bool {
    let text = token.text.as_str();
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    let rest = &text[digits..];
    (1..=6).contains(&digits)
        && match token.kind {
            TokenKind::Number => rest.is_empty(),
            TokenKind::Word => rest.len() == 1 && rest.chars().all(|c| c.is_ascii_alphabetic()),
            _ => false,
        }
}

/// The index of the street suffix closing one to three words after a house number.
fn street_suffix_after(tokens: &[Token], number: usize, claimed: &[Range<usize>]) -> Option<usize> {
    for (at, token) in tokens.iter().enumerate().take(number + 5).skip(number + 1) {
        if token.kind != TokenKind::Word
            || is_claimed(claimed, at)
            || !token.text.chars().all(char::is_alphabetic)
        {
            return None;
        }
        if at > number + 1 && is_street_suffix(&token.text) {
            return Some(at);
        }
    }
    None
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

fn address_end(
    tokens: &[Token],
    start: usize,
    claimed: &[Range<usize>],
    index: &PhraseIndex,
) -> usize {
    let mut end = start;
    while let Some(token) = tokens.get(end) {
        let stop = is_claimed(claimed, end)
            || (token.is_break() && items_follow(tokens, end + 1, index))
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

/// "…, 62701, 2 cokes": after a break, a quantity and then a word of the catalog
/// start an item, not the next part of an address.
fn items_follow(tokens: &[Token], at: usize, index: &PhraseIndex) -> bool {
    let Some(quantity) = quantity_at(tokens, at) else { return false };
    tokens
        .get(at + quantity.len..)
        .unwrap_or_default()
        .iter()
        .take(3)
        .take_while(|t| t.kind == TokenKind::Word)
        .any(|t| index.knows(&t.text) && !is_street_suffix(&t.text))
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
    let ends_cleanly_at = |at: usize| {
        tokens.get(at).is_none_or(|t| {
            t.is_break() || t.kind == TokenKind::Email || NAME_STOPS.contains(&t.text.as_str())
        })
    };
    // "Shopper 7", "Ana 2nd": a number closing the name belongs to it, not to an item.
    if tokens.get(end).is_some_and(is_name_number)
        && !is_claimed(claimed, end)
        && ends_cleanly_at(end + 1)
    {
        end += 1;
    }
    if weak && !ends_cleanly_at(end) {
        return None;
    }
    let raw = message.get(tokens[start].span.start..tokens[end - 1].span.end)?;
    Some((start..end, display_name(raw)))
}

/// "7", "2nd", "3rd": a short number or ordinal, as people add to a name to tell
/// namesakes apart.
fn is_name_number(token: &Token) -> bool {
    let text = token.text.as_str();
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    let suffix = &text[digits..];
    (1..=4).contains(&digits)
        && match token.kind {
            TokenKind::Number => suffix.is_empty(),
            TokenKind::Word => matches!(suffix, "st" | "nd" | "rd" | "th"),
            _ => false,
        }
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
    use crate::chat::text::tokenize;
    use crate::testing::demo_catalog;

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
    fn a_number_closing_a_name_is_part_of_it() {
        let found = contact("my name is Shopper 7, shopper7@example.com");
        assert_eq!(found.name.as_deref(), Some("Shopper 7"));
        assert_eq!(found.claimed.iter().map(|r| r.len()).sum::<usize>(), 3);
        assert_eq!(contact("I'm Ana 2nd").name.as_deref(), Some("Ana 2nd"));
        assert_eq!(contact("name: Bob Smith 3").name.as_deref(), Some("Bob Smith 3"));
        // A number that goes on to count something stays out of the name.
        assert_eq!(contact("my name is Bob Smith 3 tees").name.as_deref(), Some("Bob Smith"));
        assert_eq!(contact("i'm 2 tees short").name, None);
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
    fn finds_bare_address_lines() {
        let address = contact("12 Main St, Springfield, 62701, US").address.unwrap();
        assert_eq!(address.line1.as_deref(), Some("12 Main St"));
        assert_eq!(address.city.as_deref(), Some("Springfield"));
        assert_eq!(address.postal_code.as_deref(), Some("62701"));
        assert_eq!(address.country.as_deref(), Some("US"));
        let address = contact("221 Baker Street, London NW1 6XE, GB").address.unwrap();
        assert_eq!(address.line1.as_deref(), Some("221 Baker Street"));
        assert_eq!(address.city.as_deref(), Some("London"));
        assert_eq!(address.postal_code.as_deref(), Some("NW1 6XE"));
        assert_eq!(address.country.as_deref(), Some("GB"));
        let found = contact("hi im ana, 2 cokes, 12 main st springfield il 62701");
        assert_eq!(found.address.unwrap().region.as_deref(), Some("IL"));
    }

    #[test]
    fn bare_address_lines_need_a_street_and_a_place() {
        assert_eq!(contact("2 tees way too big").address, None);
        assert_eq!(contact("2 tees, way too big").address, None);
        assert_eq!(contact("12 main").address, None);
        assert_eq!(contact("3 large pepperoni pizzas").address, None);
    }

    #[test]
    fn an_address_stops_where_items_start() {
        let found = contact("ship to 9 Elm Rd, Dover, NH 03820, 2 black tees in m");
        assert_eq!(found.address.unwrap().postal_code.as_deref(), Some("03820"));
        let found = contact("12 main st springfield il 62701, 2 cokes");
        assert_eq!(found.address.unwrap().city.as_deref(), Some("springfield"));
    }

    #[test]
    fn no_address_without_a_number() {
        assert_eq!(contact("send it to me").address, None);
    }
}
