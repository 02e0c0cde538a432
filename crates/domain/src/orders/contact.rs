//! How to reach a customer: email and phone, checked once when they enter the system
//! so that confirmations, returns lookups and the CRM all see one spelling.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_LOCAL_PART_CHARS: usize = 64;
const MAX_LABEL_CHARS: usize = 63;
const MIN_PHONE_DIGITS: usize = 7;
const MAX_PHONE_DIGITS: usize = 15;

/// An email address: trimmed, domain lowercased (the local part keeps its case, which
/// some mail servers honour), with a syntax sane enough to catch typos such as a
/// missing dot or a space, without pretending to implement all of RFC 5322.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

/// Why an email address was refused, in words a shopper can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("the email address is empty")]
    Empty,
    #[error("an email address has at most {MAX_EMAIL_CHARS} characters")]
    TooLong,
    #[error("an email address has no spaces")]
    Space,
    #[error("an email address has exactly one @")]
    At,
    #[error("the part before the @ is missing, too long or has characters that do not belong")]
    LocalPart,
    #[error("the part after the @ is not a domain such as example.com")]
    Domain,
}

impl Email {
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.chars().count() > MAX_EMAIL_CHARS {
            return Err(EmailError::TooLong);
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::Space);
        }
        let (local, domain) = match trimmed.split('@').collect::<Vec<_>>().as_slice() {
            [local, domain] => (*local, domain.to_lowercase()),
            _ => return Err(EmailError::At),
        };
        if !is_local_part(local) {
            return Err(EmailError::LocalPart);
        }
        if !is_domain(&domain) {
            return Err(EmailError::Domain);
        }
        Ok(Email(format!("{local}@{domain}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_local_part(local: &str) -> bool {
    const NOT_ALLOWED: &str = "<>()[]\\,;:\"";
    !local.is_empty()
        && local.chars().count() <= MAX_LOCAL_PART_CHARS
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && !local.chars().any(|c| NOT_ALLOWED.contains(c))
}

/// Dot-separated labels of letters (any script), digits and inner hyphens, ending in a
/// top-level label of two or more characters that is not all digits.
fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.chars().count() <= MAX_LABEL_CHARS
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let top_ok = labels
        .last()
        .is_some_and(|top| top.chars().count() >= 2 && !top.chars().all(|c| c.is_ascii_digit()));
    labels.len() >= 2 && labels.iter().all(label_ok) && top_ok
}

/// A phone number as digits, with a leading `+` when the shopper gave one: spaces,
/// dashes, dots and brackets are dropped, so `(555) 123-4567` is stored `5551234567`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("a phone number has only digits, spaces, dashes, dots, brackets and a leading +")]
    Character,
    #[error("a phone number has {MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits")]
    Length,
}

impl Phone {
    pub fn parse(input: &str) -> Result<Phone, PhoneError> {
        let trimmed = input.trim();
        let (plus, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => ("+", rest),
            None => ("", trimmed),
        };
        let mut digits = String::new();
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(PhoneError::Character),
            }
        }
        if !(MIN_PHONE_DIGITS..=MAX_PHONE_DIGITS).contains(&digits.len()) {
            return Err(PhoneError::Length);
        }
        Ok(Phone(format!("{plus}{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_newtype_traits {
    ($name:ident, $error:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                $name::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

string_newtype_traits!(Email, EmailError);
string_newtype_traits!(Phone, PhoneError);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails_are_trimmed_and_their_domain_lowercased() {
        assert_eq!(
            Email::parse(" Ana.Lopez@Example.COM ").unwrap().as_str(),
            "Ana.Lopez@example.com"
        );
        assert_eq!(
            Email::parse("a+tag@mail.example.co.uk").unwrap().as_str(),
            "a+tag@mail.example.co.uk"
        );
        assert_eq!(Email::parse("josé@bücher.de").unwrap().as_str(), "josé@bücher.de");
    }

    #[test]
    fn emails_that_are_not() {
        let cases = [
            ("", EmailError::Empty),
            ("   ", EmailError::Empty),
            ("ana example.com", EmailError::Space),
            ("ana@exa mple.com", EmailError::Space),
            ("ana.example.com", EmailError::At),
            ("ana@@example.com", EmailError::At),
            ("a@b@example.com", EmailError::At),
            ("@example.com", EmailError::LocalPart),
            (".ana@example.com", EmailError::LocalPart),
            ("an..a@example.com", EmailError::LocalPart),
            ("a<b@example.com", EmailError::LocalPart),
            ("ana@example", EmailError::Domain),
            ("ana@.com", EmailError::Domain),
            ("ana@example.", EmailError::Domain),
            ("ana@example..com", EmailError::Domain),
            ("ana@-example.com", EmailError::Domain),
            ("ana@example.c", EmailError::Domain),
            ("ana@1.2.3.4", EmailError::Domain),
            ("ana@exa_mple.com", EmailError::Domain),
        ];
        for (input, error) in cases {
            assert_eq!(Email::parse(input), Err(error), "{input:?}");
        }
    }

    #[test]
    fn email_length_limits() {
        let local = "a".repeat(64);
        assert!(Email::parse(&format!("{local}@example.com")).is_ok());
        assert_eq!(Email::parse(&format!("a{local}@example.com")), Err(EmailError::LocalPart));
        let long = format!("ana@{}.com", "a.".repeat(124));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }

    #[test]
    fn phones_keep_digits_and_a_leading_plus() {
        assert_eq!(Phone::parse("(555) 123-4567").unwrap().as_str(), "5551234567");
        assert_eq!(Phone::parse(" +44 20 7946.0958 ").unwrap().as_str(), "+442079460958");
        assert_eq!(Phone::parse("1234567").unwrap().as_str(), "1234567");
    }

    #[test]
    fn phones_that_are_not() {
        for (input, error) in [
            ("", PhoneError::Length),
            ("123456", PhoneError::Length),
            ("1234567890123456", PhoneError::Length),
            ("555-CALL-NOW", PhoneError::Character),
            ("55+51234567", PhoneError::Character),
            ("++5551234567", PhoneError::Character),
            ("555/1234567", PhoneError::Character),
        ] {
            assert_eq!(Phone::parse(input), Err(error), "{input:?}");
        }
    }

    #[test]
    fn serde_validates() {
        let email: Email = serde_json::from_str("\"Ana@EXAMPLE.com\"").unwrap();
        assert_eq!(serde_json::to_string(&email).unwrap(), "\"Ana@example.com\"");
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
        let phone: Phone = serde_json::from_str("\"+1 (555) 123-4567\"").unwrap();
        assert_eq!(phone.as_str(), "+15551234567");
        assert!(serde_json::from_str::<Phone>("\"12\"").is_err());
    }

    proptest! {
        #[test]
        fn email_parse_is_idempotent_and_bounded(input in "\\PC{0,40}|[a-zA-Z0-9.+_-]{1,70}@[a-zA-Z0-9.-]{1,30}") {
            if let Ok(email) = Email::parse(&input) {
                prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
                prop_assert!(email.as_str().chars().count() <= MAX_EMAIL_CHARS);
                prop_assert_eq!(email.as_str().matches('@').count(), 1);
                prop_assert!(!email.as_str().contains(char::is_whitespace));
            }
        }

        #[test]
        fn plausible_addresses_parse(local in "[a-z0-9][a-z0-9._+-]{0,20}[a-z0-9]", host in "[a-z][a-z0-9-]{0,10}[a-z0-9]", top in "[a-z]{2,6}") {
            prop_assume!(!local.contains(".."));
            let input = format!("{local}@{host}.{top}");
            prop_assert_eq!(Email::parse(&input).map(|e| e.to_string()), Ok(input));
        }

        #[test]
        fn phone_parse_keeps_exactly_the_digits(input in "\\+?[0-9 ().-]{0,30}") {
            let digits: String = input.chars().filter(char::is_ascii_digit).collect();
            match Phone::parse(&input) {
                Ok(phone) => {
                    prop_assert_eq!(phone.as_str().trim_start_matches('+'), digits.as_str());
                    prop_assert_eq!(Phone::parse(phone.as_str()), Ok(phone.clone()));
                }
                Err(_) => prop_assert!(!(7..=15).contains(&digits.len())),
            }
        }
    }
}
