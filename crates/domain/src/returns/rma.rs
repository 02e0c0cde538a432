//! Return merchandise authorisation codes: what a customer writes on the parcel and
//! reads out on the phone, so they avoid characters that look or sound alike.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Digits and capitals without `0`/`O`, `1`/`I`/`L`: a code copied from a phone
/// screen onto a box by hand must come back as the same code.
pub const RMA_ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
pub const RMA_CHARS: usize = 8;

/// `R-` and eight characters of [`RMA_ALPHABET`], e.g. `R-7KQ2M9XD`.
///
/// 31⁸ ≈ 8.5 × 10¹¹ codes. The code is not a secret (looking a return up also takes
/// the order's email), only a short unique name; the store still has to check that a
/// new code is not taken and draw again if it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RmaCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a return code: they look like R-7KQ2M9XD")]
pub struct RmaCodeError {
    pub input: String,
}

impl RmaCode {
    /// Accepts any case and a missing dash (`r7kq2m9xd`), as people type it; always
    /// gives back the canonical spelling.
    pub fn parse(input: &str) -> Result<RmaCode, RmaCodeError> {
        let error = || RmaCodeError { input: input.to_owned() };
        let upper = input.trim().to_ascii_uppercase();
        let rest = upper.strip_prefix('R').ok_or_else(error)?;
        let code = rest.strip_prefix('-').unwrap_or(rest);
        let well_formed =
            code.len() == RMA_CHARS && code.bytes().all(|byte| RMA_ALPHABET.contains(&byte));
        if well_formed {
            Ok(RmaCode(format!("R-{code}")))
        } else {
            Err(error())
        }
    }

    /// The code for a random number the caller drew (so this crate needs no random
    /// number generator). Base 31 digits of `random`: every code is reachable, and the
    /// bias from 2⁶⁴ not being a multiple of 31⁸ is below one in ten million.
    pub fn from_random(random: u64) -> RmaCode {
        let base = RMA_ALPHABET.len() as u64;
        let mut rest = random;
        let mut code = String::with_capacity(2 + RMA_CHARS);
        code.push_str("R-");
        for _ in 0..RMA_CHARS {
            // The remainder is below 31, so the index is in bounds.
            code.push(char::from(RMA_ALPHABET[(rest % base) as usize]));
            rest /= base;
        }
        RmaCode(code)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RmaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for RmaCode {
    type Err = RmaCodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RmaCode::parse(s)
    }
}

impl Serialize for RmaCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RmaCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        RmaCode::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn canonical_spelling() {
        assert_eq!(RmaCode::parse("R-7KQ2M9XD").unwrap().as_str(), "R-7KQ2M9XD");
        assert_eq!(RmaCode::parse(" r-7kq2m9xd ").unwrap().as_str(), "R-7KQ2M9XD");
        assert_eq!(RmaCode::parse("R7KQ2M9XD").unwrap().as_str(), "R-7KQ2M9XD");
    }

    #[test]
    fn rejects_ambiguous_characters_and_wrong_shapes() {
        for bad in [
            "",
            "R-",
            "R-7KQ2M9X",
            "R-7KQ2M9XDD",
            "G-7KQ2M9XD",
            "7KQ2M9XD",
            "R--7KQ2M9XD",
            "R 7KQ2M9XD",
            "R-0KQ2M9XD",
            "R-OKQ2M9XD",
            "R-1KQ2M9XD",
            "R-IKQ2M9XD",
            "R-LKQ2M9XD",
            "R-7KQ2M9X-",
            "R-ÄKQ2M9XD",
        ] {
            assert!(RmaCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_alphabet_has_no_look_alikes() {
        for ambiguous in b"01OIL" {
            assert!(!RMA_ALPHABET.contains(ambiguous), "{}", char::from(*ambiguous));
        }
        let mut sorted = RMA_ALPHABET.to_vec();
        sorted.dedup();
        assert_eq!(sorted.len(), RMA_ALPHABET.len());
    }

    #[test]
    fn generation_is_base_31_of_the_random_number() {
        assert_eq!(RmaCode::from_random(0).as_str(), "R-22222222");
        assert_eq!(RmaCode::from_random(1).as_str(), "R-32222222");
        assert_eq!(RmaCode::from_random(31).as_str(), "R-23222222");
        assert_eq!(RmaCode::from_random(31u64.pow(8) - 1).as_str(), "R-ZZZZZZZZ");
        assert_eq!(RmaCode::from_random(31u64.pow(8)).as_str(), "R-22222222");
        assert_ne!(RmaCode::from_random(u64::MAX), RmaCode::from_random(u64::MAX - 1));
    }

    #[test]
    fn serde_is_a_validated_string() {
        let code: RmaCode = serde_json::from_str("\"r7kq2m9xd\"").unwrap();
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"R-7KQ2M9XD\"");
        assert!(serde_json::from_str::<RmaCode>("\"R-0000000\"").is_err());
    }

    proptest! {
        #[test]
        fn every_generated_code_parses_back(random in any::<u64>()) {
            let code = RmaCode::from_random(random);
            prop_assert_eq!(code.as_str().len(), 2 + RMA_CHARS);
            prop_assert_eq!(RmaCode::parse(code.as_str()), Ok(code.clone()));
            prop_assert_eq!(RmaCode::parse(&code.as_str().to_lowercase()), Ok(code));
        }

        #[test]
        fn parse_is_idempotent(input in "[rR]-?[0-9A-Za-z]{0,10}|\\PC{0,12}") {
            if let Ok(code) = RmaCode::parse(&input) {
                prop_assert_eq!(RmaCode::parse(code.as_str()), Ok(code.clone()));
                prop_assert!(code.as_str().starts_with("R-"));
            }
        }
    }
}
