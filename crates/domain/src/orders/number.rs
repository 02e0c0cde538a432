//! Order numbers: what a shopper reads off the confirmation and types back into the
//! returns portal or a chat, so one spelling per order.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The first sequence number maps here, so that every number has at least six
/// digits and looks like an order number rather than a quantity.
const FIRST_NUMBER: u128 = 100_000;
const MIN_DIGITS: usize = 6;
/// `G-` and the digits of `100_000 + u64::MAX`; longer is not one of ours.
const MAX_DIGITS: usize = 20;

/// `G-` followed by six or more digits, e.g. `G-100042`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrderNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an order number: they look like G-100042")]
pub struct OrderNumberError {
    pub input: String,
}

impl OrderNumber {
    /// Accepts `G-100042` in any case and without the dash (`g100042`), as shoppers
    /// type it; always gives back the one canonical spelling.
    pub fn parse(input: &str) -> Result<OrderNumber, OrderNumberError> {
        let error = || OrderNumberError { input: input.to_owned() };
        let upper = input.trim().to_ascii_uppercase();
        let rest = upper.strip_prefix('G').ok_or_else(error)?;
        let digits = rest.strip_prefix('-').unwrap_or(rest);
        let well_formed = (MIN_DIGITS..=MAX_DIGITS).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit());
        if well_formed {
            Ok(OrderNumber(format!("G-{digits}")))
        } else {
            Err(error())
        }
    }

    /// The number for the `n`th order of a shop (the store's sequence): `G-100000+n`.
    pub fn from_sequence(n: u64) -> OrderNumber {
        // u128 so that no sequence number can overflow.
        OrderNumber(format!("G-{}", FIRST_NUMBER + u128::from(n)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for OrderNumber {
    type Err = OrderNumberError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderNumber::parse(s)
    }
}

impl Serialize for OrderNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for OrderNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        OrderNumber::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn canonical_spelling() {
        assert_eq!(OrderNumber::parse("G-100042").unwrap().as_str(), "G-100042");
        assert_eq!(OrderNumber::parse(" g-100042 ").unwrap().as_str(), "G-100042");
        assert_eq!(OrderNumber::parse("G100042").unwrap().as_str(), "G-100042");
        assert_eq!(OrderNumber::parse("G-12345678901").unwrap().as_str(), "G-12345678901");
    }

    #[test]
    fn rejects_what_is_not_ours() {
        for bad in ["", "G-", "G-12345", "100042", "R-100042", "G-10004a", "G--100042", "G 100042"]
        {
            assert!(OrderNumber::parse(bad).is_err(), "{bad:?}");
        }
        assert!(OrderNumber::parse(&format!("G-{}", "1".repeat(21))).is_err());
    }

    #[test]
    fn sequence_numbers_start_at_100000() {
        assert_eq!(OrderNumber::from_sequence(0).as_str(), "G-100000");
        assert_eq!(OrderNumber::from_sequence(42).as_str(), "G-100042");
        assert_eq!(OrderNumber::from_sequence(u64::MAX).as_str(), "G-18446744073709651615");
    }

    #[test]
    fn serde_is_a_validated_string() {
        let number: OrderNumber = serde_json::from_str("\"g100042\"").unwrap();
        assert_eq!(serde_json::to_string(&number).unwrap(), "\"G-100042\"");
        assert!(serde_json::from_str::<OrderNumber>("\"42\"").is_err());
    }

    proptest! {
        #[test]
        fn every_sequence_number_parses_back(n in any::<u64>()) {
            let number = OrderNumber::from_sequence(n);
            prop_assert_eq!(OrderNumber::parse(number.as_str()), Ok(number));
        }

        #[test]
        fn parse_is_idempotent(input in "[gG]-?[0-9]{0,22}|\\PC{0,12}") {
            if let Ok(number) = OrderNumber::parse(&input) {
                prop_assert_eq!(OrderNumber::parse(number.as_str()), Ok(number.clone()));
                prop_assert!(number.as_str().starts_with("G-"));
            }
        }
    }
}
