//! Stock-keeping unit codes.
//!
//! A SKU is the key that joins the catalog, order lines, returns and stock; staff
//! type them by hand and shops export them from spreadsheets. Normalising once,
//! here (trim, uppercase, a small alphabet), means `tee-black` and `TEE-BLACK ` can
//! never become two different products further down.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub const MAX_SKU_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sku(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkuError {
    #[error("a SKU must not be empty")]
    Empty,
    #[error("a SKU has at most {MAX_SKU_LEN} characters, this one has {0}")]
    TooLong(usize),
    #[error("a SKU may contain only letters A-Z, digits, '-' and '_', not {0:?}")]
    InvalidChar(char),
}

impl Sku {
    pub fn parse(input: &str) -> Result<Sku, SkuError> {
        let normalised = input.trim().to_ascii_uppercase();
        if normalised.is_empty() {
            return Err(SkuError::Empty);
        }
        if let Some(bad) = normalised
            .chars()
            .find(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
        {
            return Err(SkuError::InvalidChar(bad));
        }
        // Only ASCII is left, so bytes are characters.
        if normalised.len() > MAX_SKU_LEN {
            return Err(SkuError::TooLong(normalised.len()));
        }
        Ok(Sku(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Sku {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Sku {
    type Err = SkuError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Sku::parse(s)
    }
}

impl Serialize for Sku {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Sku {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Sku::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn trims_and_uppercases() {
        assert_eq!(Sku::parse("tee-black").unwrap().as_str(), "TEE-BLACK");
        assert_eq!(Sku::parse("  pizza_pep\n").unwrap().to_string(), "PIZZA_PEP");
        assert_eq!(Sku::parse("A1").unwrap(), Sku::parse("a1").unwrap());
    }

    #[test]
    fn rejects_empty() {
        assert_eq!(Sku::parse(""), Err(SkuError::Empty));
        assert_eq!(Sku::parse("   "), Err(SkuError::Empty));
    }

    #[test]
    fn rejects_characters_outside_the_alphabet() {
        assert_eq!(Sku::parse("tee black"), Err(SkuError::InvalidChar(' ')));
        assert_eq!(Sku::parse("TEE/1"), Err(SkuError::InvalidChar('/')));
        assert_eq!(Sku::parse("tée"), Err(SkuError::InvalidChar('é')));
    }

    #[test]
    fn length_limit_is_64() {
        assert!(Sku::parse(&"A".repeat(64)).is_ok());
        assert_eq!(Sku::parse(&"A".repeat(65)), Err(SkuError::TooLong(65)));
    }

    #[test]
    fn serde_is_a_validated_string() {
        let sku: Sku = serde_json::from_str("\"tee\"").unwrap();
        assert_eq!(sku.as_str(), "TEE");
        assert_eq!(serde_json::to_string(&sku).unwrap(), "\"TEE\"");
        assert!(serde_json::from_str::<Sku>("\"no spaces\"").is_err());
    }

    proptest! {
        #[test]
        fn parse_is_idempotent(input in "[ a-zA-Z0-9_\\-]{0,70}|\\PC{0,10}") {
            let first = Sku::parse(&input);
            if let Ok(sku) = &first {
                prop_assert_eq!(Sku::parse(sku.as_ref()), first.clone());
            }
        }

        #[test]
        fn valid_alphabet_always_parses(input in "[a-zA-Z0-9_\\-]{1,64}") {
            let sku = Sku::parse(&input).unwrap();
            prop_assert_eq!(sku.as_str(), input.to_ascii_uppercase());
        }
    }
}
