//! Reading an address the way people write one: by commas when there are any, else
//! by the street suffix and the postal code. What cannot be classified is left out
//! rather than guessed; the validator asks for what is missing.

use crate::orders::UncheckedAddress;

#[rustfmt::skip]
const STREET_SUFFIXES: &[&str] = &[
    "st", "street", "ave", "avenue", "av", "rd", "road", "blvd", "boulevard", "ln", "lane", "dr",
    "drive", "way", "ct", "court", "pl", "place", "ter", "terrace", "pkwy", "parkway", "hwy",
    "highway", "cir", "circle", "sq", "square", "row", "walk", "close", "crescent", "strasse",
    "straße",
];

const UNIT_WORDS: &[&str] =
    &["apt", "apartment", "suite", "ste", "unit", "#", "floor", "fl", "building", "bldg", "room"];

const COUNTRIES: &[(&str, &str)] = &[
    ("united states of america", "US"),
    ("united states", "US"),
    ("usa", "US"),
    ("us", "US"),
    ("u.s.", "US"),
    ("u.s.a.", "US"),
    ("america", "US"),
    ("canada", "CA"),
    ("united kingdom", "GB"),
    ("uk", "GB"),
    ("england", "GB"),
    ("great britain", "GB"),
    ("germany", "DE"),
    ("france", "FR"),
    ("spain", "ES"),
    ("mexico", "MX"),
    ("ireland", "IE"),
    ("australia", "AU"),
    ("netherlands", "NL"),
    ("italy", "IT"),
    ("portugal", "PT"),
    // Two-letter codes that are no US state and no everyday word.
    ("gb", "GB"),
    ("fr", "FR"),
    ("mx", "MX"),
    ("au", "AU"),
    ("nl", "NL"),
    ("ie", "IE"),
    ("es", "ES"),
    ("pt", "PT"),
];

#[rustfmt::skip]
const US_STATES: &[&str] = &[
    "al", "ak", "az", "ar", "ca", "co", "ct", "de", "fl", "ga", "hi", "id", "il", "in", "ia", "ks",
    "ky", "la", "me", "md", "ma", "mi", "mn", "ms", "mo", "mt", "ne", "nv", "nh", "nj", "nm", "ny",
    "nc", "nd", "oh", "ok", "or", "pa", "ri", "sc", "sd", "tn", "tx", "ut", "vt", "va", "wa", "wv",
    "wi", "wy", "dc",
];

/// Whether a word ends a street name: "st", "Street", "ave.".
pub fn is_street_suffix(word: &str) -> bool {
    STREET_SUFFIXES.contains(&word.to_lowercase().trim_end_matches('.'))
}

/// The fields of an address as one shopper wrote it; fields it does not have stay
/// `None` (the country is never assumed).
pub fn parse_address(text: &str) -> UncheckedAddress {
    let parts: Vec<&str> = text
        .split([',', ';', '\n'])
        .map(|part| part.trim().trim_end_matches('.').trim())
        .filter(|part| !part.is_empty())
        .collect();
    let mut address = UncheckedAddress::default();
    match parts.as_slice() {
        [] => {}
        [only] => parse_one_line(only, &mut address),
        [first, rest @ ..] => {
            let words: Vec<&str> = first.split_whitespace().collect();
            let unit = words.iter().position(|w| UNIT_WORDS.contains(&w.to_lowercase().as_str()));
            match unit.filter(|u| *u > 0) {
                Some(u) => {
                    address.line1 = Some(words[..u].join(" "));
                    address.line2 = Some(words[u..].join(" "));
                }
                None => address.line1 = Some((*first).to_owned()),
            }
            for part in rest {
                classify_part(part, &mut address);
            }
        }
    }
    address
}

fn classify_part(part: &str, address: &mut UncheckedAddress) {
    let lower = part.to_lowercase();
    let first_word = lower.split_whitespace().next().unwrap_or("");
    if UNIT_WORDS.contains(&first_word) || lower.starts_with('#') {
        address.line2.get_or_insert_with(|| part.to_owned());
        return;
    }
    if let Some(code) = country_code(&lower) {
        address.country.get_or_insert_with(|| code.to_owned());
        return;
    }
    let mut words: Vec<&str> = part.split_whitespace().collect();
    if let Some(postal) = take_postal_code(&mut words) {
        address.postal_code.get_or_insert(postal);
    }
    if let Some(region) = take_region(&mut words) {
        address.region.get_or_insert(region);
    }
    if words.is_empty() {
        return;
    }
    let rest = words.join(" ");
    if address.city.is_none() {
        address.city = Some(rest);
    } else if address.region.is_none() {
        address.region = Some(rest);
    }
}

fn parse_one_line(line: &str, address: &mut UncheckedAddress) {
    let mut words: Vec<&str> = line.split_whitespace().collect();
    take_country(&mut words, address);
    if let Some(postal) = take_postal_code(&mut words) {
        address.postal_code = Some(postal);
    }
    take_country(&mut words, address);
    if words.len() > 2 {
        if let Some(region) = take_region(&mut words) {
            address.region = Some(region);
        }
    }
    let suffix = words.iter().rposition(|w| is_street_suffix(w));
    let street_end = match suffix {
        Some(at) => at + 1,
        None => words.len(),
    };
    address.line1 = Some(words[..street_end].join(" ")).filter(|line| !line.is_empty());
    let mut rest = &words[street_end..];
    if let Some(first) = rest.first() {
        if UNIT_WORDS.contains(&first.to_lowercase().as_str()) || first.starts_with('#') {
            let take = if first.starts_with('#') && first.len() > 1 { 1 } else { 2 };
            let take = take.min(rest.len());
            address.line2 = Some(rest[..take].join(" "));
            rest = &rest[take..];
        }
    }
    if !rest.is_empty() {
        address.city = Some(rest.join(" "));
    }
}

fn take_country(words: &mut Vec<&str>, address: &mut UncheckedAddress) {
    for take in (1..=3).rev() {
        if words.len() <= take {
            continue;
        }
        let tail = words[words.len() - take..].join(" ").to_lowercase();
        if let Some(code) = country_code(&tail) {
            address.country.get_or_insert_with(|| code.to_owned());
            words.truncate(words.len() - take);
            return;
        }
    }
}

fn country_code(text: &str) -> Option<&'static str> {
    let text = text.trim().trim_end_matches('.');
    COUNTRIES.iter().find(|(name, _)| name.trim_end_matches('.') == text).map(|(_, code)| *code)
}

/// A postal code at the end: "12345", "12345-6789", "M5V 2T6", "SW1A 1AA", "10115".
fn take_postal_code(words: &mut Vec<&str>) -> Option<String> {
    if words.len() >= 2 {
        let pair = format!("{} {}", words[words.len() - 2], words[words.len() - 1]);
        if is_two_part_postal_code(words[words.len() - 2], words[words.len() - 1]) {
            words.truncate(words.len() - 2);
            return Some(pair.to_uppercase());
        }
    }
    let last = *words.last()?;
    if is_postal_code(last) {
        words.pop();
        return Some(last.to_uppercase());
    }
    None
}

fn is_postal_code(word: &str) -> bool {
    let digits = word.chars().filter(char::is_ascii_digit).count();
    let us_plus_four = word.len() == 10
        && word.as_bytes().get(5) == Some(&b'-')
        && word.chars().filter(char::is_ascii_digit).count() == 9;
    (4..=6).contains(&word.len()) && digits == word.len() || us_plus_four
}

fn is_two_part_postal_code(first: &str, second: &str) -> bool {
    let shape = |word: &str| -> String {
        word.chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    '9'
                } else if c.is_ascii_alphabetic() {
                    'a'
                } else {
                    '?'
                }
            })
            .collect()
    };
    let (a, b) = (shape(first), shape(second));
    let canadian = a == "a9a" && b == "9a9";
    let british =
        matches!(a.as_str(), "a9" | "a99" | "aa9" | "aa99" | "a9a" | "aa9a") && b == "9aa";
    canadian || british
}

fn take_region(words: &mut Vec<&str>) -> Option<String> {
    let last = *words.last()?;
    let is_state = last.len() == 2
        && last.chars().all(|c| c.is_ascii_alphabetic())
        && (last.chars().all(|c| c.is_ascii_uppercase())
            || US_STATES.contains(&last.to_lowercase().as_str()));
    if is_state {
        words.pop();
        return Some(last.to_uppercase());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_separate_the_parts() {
        let address = parse_address("12 Main St, Apt 4, Springfield, IL 62704, USA");
        assert_eq!(address.line1.as_deref(), Some("12 Main St"));
        assert_eq!(address.line2.as_deref(), Some("Apt 4"));
        assert_eq!(address.city.as_deref(), Some("Springfield"));
        assert_eq!(address.region.as_deref(), Some("IL"));
        assert_eq!(address.postal_code.as_deref(), Some("62704"));
        assert_eq!(address.country.as_deref(), Some("US"));
    }

    #[test]
    fn one_line_splits_at_the_street_suffix() {
        let address = parse_address("400 oak avenue apt 3 portland or 97201");
        assert_eq!(address.line1.as_deref(), Some("400 oak avenue"));
        assert_eq!(address.line2.as_deref(), Some("apt 3"));
        assert_eq!(address.city.as_deref(), Some("portland"));
        assert_eq!(address.region.as_deref(), Some("OR"));
        assert_eq!(address.postal_code.as_deref(), Some("97201"));
    }

    #[test]
    fn canadian_and_british_postal_codes() {
        assert_eq!(
            parse_address("1 King St W, Toronto, ON M5H 1A1").postal_code.as_deref(),
            Some("M5H 1A1")
        );
        assert_eq!(
            parse_address("10 Downing St, London, SW1A 2AA").postal_code.as_deref(),
            Some("SW1A 2AA")
        );
    }
}
