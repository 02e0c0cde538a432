//! Shipping addresses: filled in over several messages ("12 Main St", later "it's apt
//! 4"), so every field is optional until confirmation asks for the ones a parcel needs.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub const MAX_ADDRESS_FIELD_CHARS: usize = 120;
const MIN_POSTAL_CODE_CHARS: usize = 2;
const MAX_POSTAL_CODE_CHARS: usize = 10;

/// The officially assigned ISO 3166-1 alpha-2 codes (249 of them).
#[rustfmt::skip]
const ISO_3166_ALPHA_2: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// An assigned ISO 3166-1 alpha-2 country code, uppercase. `UK`, which the standard
/// reserves for the United Kingdom and people write anyway, is read as `GB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a country code: use two letters such as US, GB or DE")]
pub struct CountryError {
    pub input: String,
}

impl CountryCode {
    pub fn parse(input: &str) -> Result<CountryCode, CountryError> {
        let upper = input.trim().to_ascii_uppercase();
        let code = if upper == "UK" { "GB" } else { upper.as_str() };
        match code.as_bytes() {
            [a, b] if ISO_3166_ALPHA_2.contains(&code) => Ok(CountryCode([*a, *b])),
            _ => Err(CountryError { input: input.to_owned() }),
        }
    }

    pub fn as_str(&self) -> &str {
        // Two ASCII letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("ZZ")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CountryCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        CountryCode::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A shipping address as CONTRACTS §3 shows it. Text fields are trimmed with inner
/// whitespace collapsed; an empty field is `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub region: Option<String>,
    pub country: Option<CountryCode>,
}

/// The fields a parcel cannot go without, by their names in the order JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressField {
    Line1,
    Line2,
    City,
    PostalCode,
    Region,
    Country,
}

impl AddressField {
    pub fn name(self) -> &'static str {
        match self {
            AddressField::Line1 => "line1",
            AddressField::Line2 => "line2",
            AddressField::City => "city",
            AddressField::PostalCode => "postal_code",
            AddressField::Region => "region",
            AddressField::Country => "country",
        }
    }

    /// How a shopper would call it.
    pub fn label(self) -> &'static str {
        match self {
            AddressField::Line1 => "street and number",
            AddressField::Line2 => "apartment or suite",
            AddressField::City => "city",
            AddressField::PostalCode => "postal code",
            AddressField::Region => "state or region",
            AddressField::Country => "country",
        }
    }
}

/// A shipping address as someone gave it (the chat reads it from a message): every
/// field optional and nothing checked yet; [`PostalAddress::from_unchecked`] checks it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UncheckedAddress {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
}

/// One field of an address that could not be taken, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {} {reason}", .field.label())]
pub struct AddressError {
    pub field: AddressField,
    pub reason: String,
}

impl PostalAddress {
    /// The fields given that are usable, and the problems with the others: a
    /// shopper who mistyped the country should not have to repeat the street.
    pub fn from_unchecked(fields: &UncheckedAddress) -> (PostalAddress, Vec<AddressError>) {
        let mut errors = Vec::new();
        let mut text = |field: AddressField, value: &Option<String>| {
            let cleaned = value.as_deref().and_then(clean_text)?;
            match check_field(field, &cleaned) {
                Ok(()) => Some(cleaned),
                Err(reason) => {
                    errors.push(AddressError { field, reason });
                    None
                }
            }
        };
        let mut address = PostalAddress {
            line1: text(AddressField::Line1, &fields.line1),
            line2: text(AddressField::Line2, &fields.line2),
            city: text(AddressField::City, &fields.city),
            postal_code: text(AddressField::PostalCode, &fields.postal_code),
            region: text(AddressField::Region, &fields.region),
            country: None,
        };
        if let Some(given) = fields.country.as_deref().and_then(clean_text) {
            match CountryCode::parse(&given) {
                Ok(code) => address.country = Some(code),
                Err(error) => errors.push(AddressError {
                    field: AddressField::Country,
                    reason: format!(
                        "{:?} is not a two-letter country code such as US",
                        error.input
                    ),
                }),
            }
        }
        (address, errors)
    }

    /// This address with the fields `newer` has replaced, so "it's apt 4" after a full
    /// address only adds the apartment.
    pub fn merged_with(&self, newer: &PostalAddress) -> PostalAddress {
        fn pick<T: Clone>(old: &Option<T>, new: &Option<T>) -> Option<T> {
            new.clone().or_else(|| old.clone())
        }
        PostalAddress {
            line1: pick(&self.line1, &newer.line1),
            line2: pick(&self.line2, &newer.line2),
            city: pick(&self.city, &newer.city),
            postal_code: pick(&self.postal_code, &newer.postal_code),
            region: pick(&self.region, &newer.region),
            country: pick(&self.country, &newer.country),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == PostalAddress::default()
    }

    /// Street, city, postal code and country: enough for a parcel.
    pub fn is_complete(&self) -> bool {
        self.missing().is_empty()
    }

    /// The required fields still missing, in the order an address is written.
    pub fn missing(&self) -> Vec<AddressField> {
        [
            (AddressField::Line1, self.line1.is_none()),
            (AddressField::City, self.city.is_none()),
            (AddressField::PostalCode, self.postal_code.is_none()),
            (AddressField::Country, self.country.is_none()),
        ]
        .into_iter()
        .filter_map(|(field, missing)| missing.then_some(field))
        .collect()
    }
}

/// "12 Main St, Apt 4, Springfield, IL 62701, US".
impl fmt::Display for PostalAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let region_and_code = [self.region.as_deref(), self.postal_code.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let parts: Vec<&str> = [
            self.line1.as_deref(),
            self.line2.as_deref(),
            self.city.as_deref(),
            Some(region_and_code.as_str()).filter(|s| !s.is_empty()),
            self.country.as_ref().map(CountryCode::as_str),
        ]
        .into_iter()
        .flatten()
        .collect();
        f.write_str(&parts.join(", "))
    }
}

fn clean_text(value: &str) -> Option<String> {
    let cleaned = value.split_whitespace().collect::<Vec<_>>().join(" ");
    (!cleaned.is_empty()).then_some(cleaned)
}

fn check_field(field: AddressField, value: &str) -> Result<(), String> {
    if value.chars().count() > MAX_ADDRESS_FIELD_CHARS {
        return Err(format!("has at most {MAX_ADDRESS_FIELD_CHARS} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err("has characters that do not belong in an address".to_owned());
    }
    if field == AddressField::PostalCode && !is_postal_code(value) {
        return Err(format!(
            "{value:?} does not look like a postal code: {MIN_POSTAL_CODE_CHARS} to \
             {MAX_POSTAL_CODE_CHARS} letters and digits with at least one digit"
        ));
    }
    Ok(())
}

/// Loose on purpose: formats differ by country (62701, SW1A 1AA, 10115, H2X-1Y4), but
/// all have digits and none has other punctuation than a space or a dash.
fn is_postal_code(value: &str) -> bool {
    let length = value.chars().count();
    (MIN_POSTAL_CODE_CHARS..=MAX_POSTAL_CODE_CHARS).contains(&length)
        && value.chars().any(|c| c.is_ascii_digit())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mention(fields: [Option<&str>; 6]) -> UncheckedAddress {
        let [line1, line2, city, postal_code, region, country] =
            fields.map(|f| f.map(String::from));
        UncheckedAddress { line1, line2, city, postal_code, region, country }
    }

    #[test]
    fn the_code_list_is_the_assigned_one() {
        assert_eq!(ISO_3166_ALPHA_2.len(), 249);
        let mut sorted = ISO_3166_ALPHA_2.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 249, "sorted and unique");
    }

    #[test]
    fn country_codes() {
        assert_eq!(CountryCode::parse("us").unwrap().as_str(), "US");
        assert_eq!(CountryCode::parse(" De ").unwrap().to_string(), "DE");
        assert_eq!(CountryCode::parse("uk").unwrap().as_str(), "GB");
        for bad in ["", "U", "USA", "XX", "ZZ", "1A", "United States"] {
            assert!(CountryCode::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(serde_json::to_string(&CountryCode::parse("fr").unwrap()).unwrap(), "\"FR\"");
        assert!(serde_json::from_str::<CountryCode>("\"QQ\"").is_err());
    }

    #[test]
    fn a_mention_becomes_a_clean_address() {
        let (address, errors) = PostalAddress::from_unchecked(&mention([
            Some(" 12  Main St "),
            None,
            Some("Springfield"),
            Some("62701"),
            Some("IL"),
            Some("us"),
        ]));
        assert!(errors.is_empty());
        assert_eq!(address.line1.as_deref(), Some("12 Main St"));
        assert_eq!(address.country.unwrap().as_str(), "US");
        assert!(address.is_complete());
        assert_eq!(address.to_string(), "12 Main St, Springfield, IL 62701, US");
        let json = serde_json::to_value(&address).unwrap();
        assert_eq!(json["line2"], serde_json::Value::Null);
        assert_eq!(json["country"], "US");
    }

    #[test]
    fn bad_fields_are_reported_and_the_rest_kept() {
        let (address, errors) = PostalAddress::from_unchecked(&mention([
            Some("12 Main St"),
            Some("   "),
            Some("Springfield"),
            Some("!!!"),
            None,
            Some("Narnia"),
        ]));
        assert_eq!(address.line1.as_deref(), Some("12 Main St"));
        assert_eq!(address.line2, None);
        let fields: Vec<AddressField> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, [AddressField::PostalCode, AddressField::Country]);
        assert_eq!(address.missing(), [AddressField::PostalCode, AddressField::Country]);
        assert!(errors[0].to_string().starts_with("the postal code"));
    }

    #[test]
    fn merging_replaces_only_what_is_given() {
        let (full, _) = PostalAddress::from_unchecked(&mention([
            Some("12 Main St"),
            None,
            Some("Springfield"),
            Some("62701"),
            None,
            Some("US"),
        ]));
        let (unit, _) =
            PostalAddress::from_unchecked(&mention([None, Some("Apt 4"), None, None, None, None]));
        let merged = full.merged_with(&unit);
        assert_eq!(merged.line2.as_deref(), Some("Apt 4"));
        assert_eq!(merged.line1, full.line1);
        assert_eq!(PostalAddress::default().missing().len(), 4);
    }

    #[test]
    fn postal_codes_of_several_countries() {
        for good in ["62701", "SW1A 1AA", "10115", "H2X-1Y4", "D02 X285"] {
            assert!(is_postal_code(good), "{good}");
        }
        for bad in ["", "ABCDE", "1", "12345678901", "627/01"] {
            assert!(!is_postal_code(bad), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn from_unchecked_never_panics_and_keeps_fields_clean(
            fields in proptest::array::uniform6(proptest::option::of("\\PC{0,130}"))
        ) {
            let [a, b, c, d, e, f] = fields;
            let mention = UncheckedAddress {
                line1: a, line2: b, city: c, postal_code: d, region: e, country: f,
            };
            let (address, _) = PostalAddress::from_unchecked(&mention);
            for text in [&address.line1, &address.line2, &address.city, &address.region].into_iter().flatten() {
                prop_assert!(!text.is_empty() && text.trim() == text);
                prop_assert!(text.chars().count() <= MAX_ADDRESS_FIELD_CHARS);
            }
            if let Some(code) = &address.postal_code {
                prop_assert!(is_postal_code(code));
            }
            prop_assert_eq!(address.merged_with(&PostalAddress::default()), address.clone());
        }
    }
}
