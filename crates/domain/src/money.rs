//! Money as integer minor units of one currency.
//!
//! Prices, deltas and totals are added and multiplied many times on the way to an
//! order total; floats would drift by fractions of a cent and make totals disagree
//! between the chat, the order page and the database. Every operation that could
//! overflow is `checked_*`, so a silly quantity becomes an error instead of a wrapped
//! (or panicking) total.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ISO 4217 currency code such as `USD`.
///
/// Stored as three uppercase ASCII letters so that it is `Copy` and compares cheaply;
/// whether the code is one the shop actually trades in is the shop's business, not ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a currency code: expected three letters such as \"USD\"")]
pub struct CurrencyError {
    pub input: String,
}

impl Currency {
    /// Accepts three ASCII letters in any case, surrounded by optional whitespace.
    pub fn parse(input: &str) -> Result<Currency, CurrencyError> {
        let trimmed = input.trim();
        match trimmed.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|byte| byte.is_ascii_alphabetic()) => Ok(Currency([
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
                c.to_ascii_uppercase(),
            ])),
            _ => Err(CurrencyError { input: input.to_owned() }),
        }
    }

    pub fn as_str(&self) -> &str {
        // The bytes are ASCII letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// How many digits follow the decimal point in this currency: a price of `1200`
    /// minor units is ¥1200 but $12.00.
    pub fn minor_unit_exponent(&self) -> u32 {
        match self.as_str() {
            "JPY" | "KRW" | "VND" | "CLP" | "ISK" => 0,
            "BHD" | "KWD" | "JOD" | "OMR" | "TND" => 3,
            _ => 2,
        }
    }

    fn symbol(&self) -> Option<&'static str> {
        Some(match self.as_str() {
            "USD" => "$",
            "EUR" => "€",
            "GBP" => "£",
            "JPY" => "¥",
            "INR" => "₹",
            "KRW" => "₩",
            _ => return None,
        })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Currency {
    type Err = CurrencyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Currency::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// An amount in minor units (cents for USD). It carries no currency: the catalog
/// and each order name exactly one, so pairing every amount with it would only
/// invite mismatches.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(pub i64);

/// Why a typed amount (a staff member's "22.50") is not an amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{input:?} is not an amount in {currency}: write it like {example}, with at most \
     {digits} digits after the point"
)]
pub struct AmountError {
    pub input: String,
    pub currency: String,
    pub example: String,
    pub digits: u32,
}

impl Money {
    pub const ZERO: Money = Money(0);

    /// Reads an amount as people type it in `currency`, e.g. "22.5", "22.50" or "22"
    /// dollars as 2250 cents; no sign, no symbol, no more digits after the point than
    /// the currency has, nothing that overflows.
    pub fn parse_decimal(input: &str, currency: &Currency) -> Result<Money, AmountError> {
        let digits = currency.minor_unit_exponent();
        let error = || AmountError {
            input: input.to_owned(),
            currency: currency.to_string(),
            example: Money(12345).format_number(digits),
            digits,
        };
        let text = input.trim();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(error());
        }
        if fraction.len() > digits as usize || (text.contains('.') && fraction.is_empty()) {
            return Err(error());
        }
        let scale = 10i64.pow(digits);
        let padded = format!("{fraction:0<width$}", width = digits as usize);
        let minor = whole
            .parse::<i64>()
            .ok()
            .and_then(|w| w.checked_mul(scale))
            .and_then(|w| w.checked_add(padded.parse::<i64>().unwrap_or(0)))
            .ok_or_else(error)?;
        Ok(Money(minor))
    }

    /// The number alone, e.g. "123.45" for 12345 with two digits.
    fn format_number(self, digits: u32) -> String {
        if digits == 0 {
            return self.0.to_string();
        }
        let scale = 10i64.pow(digits);
        format!("{}.{:0width$}", self.0 / scale, self.0 % scale, width = digits as usize)
    }

    pub const fn from_minor(minor: i64) -> Money {
        Money(minor)
    }

    pub const fn minor(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// Quantities are never negative, hence `u32`.
    pub fn checked_mul(self, quantity: u32) -> Option<Money> {
        self.0.checked_mul(i64::from(quantity)).map(Money)
    }

    /// Formats for people, e.g. `$12.00`, `-€3.50`, `¥1200`, `12.00 CHF`.
    pub fn format(&self, currency: &Currency) -> String {
        let exponent = currency.minor_unit_exponent();
        // unsigned_abs keeps i64::MIN representable.
        let magnitude = self.0.unsigned_abs();
        let number = if exponent == 0 {
            magnitude.to_string()
        } else {
            let scale = 10u64.pow(exponent);
            format!(
                "{}.{:0width$}",
                magnitude / scale,
                magnitude % scale,
                width = exponent as usize
            )
        };
        let sign = if self.0 < 0 { "-" } else { "" };
        match currency.symbol() {
            Some(symbol) => format!("{sign}{symbol}{number}"),
            None => format!("{sign}{number} {currency}"),
        }
    }
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn typed_amounts_read_in_minor_units_of_their_currency() {
        let usd = Currency::parse("USD").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        for (text, minor) in [("22.50", 2250), ("22.5", 2250), ("22", 2200), (" 0.07 ", 7)] {
            assert_eq!(Money::parse_decimal(text, &usd), Ok(Money(minor)), "{text}");
        }
        assert_eq!(Money::parse_decimal("1200", &jpy), Ok(Money(1200)));
        for bad in ["", "-1", "1.234", "12.", ".5", "$12", "1,5", "1e3", "99999999999999999999"] {
            assert!(Money::parse_decimal(bad, &usd).is_err(), "{bad:?}");
        }
        assert!(Money::parse_decimal("12.5", &jpy).is_err());
        let error = Money::parse_decimal("abc", &usd).unwrap_err();
        assert_eq!(
            error.to_string(),
            "\"abc\" is not an amount in USD: write it like 123.45, with at most 2 digits after \
             the point"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn currency(code: &str) -> Currency {
        Currency::parse(code).expect("valid currency")
    }

    #[test]
    fn currency_parses_three_letters_in_any_case() {
        assert_eq!(currency("usd").as_str(), "USD");
        assert_eq!(currency(" eUr ").to_string(), "EUR");
    }

    #[test]
    fn currency_rejects_anything_else() {
        for bad in ["", "US", "USDX", "U$D", "12A", "ÜSD", "U D"] {
            assert!(Currency::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn minor_unit_exponents() {
        assert_eq!(currency("JPY").minor_unit_exponent(), 0);
        assert_eq!(currency("isk").minor_unit_exponent(), 0);
        assert_eq!(currency("KWD").minor_unit_exponent(), 3);
        assert_eq!(currency("TND").minor_unit_exponent(), 3);
        assert_eq!(currency("USD").minor_unit_exponent(), 2);
        assert_eq!(currency("CHF").minor_unit_exponent(), 2);
    }

    #[test]
    fn currency_serde_is_a_string_and_validates() {
        assert_eq!(serde_json::to_string(&currency("usd")).unwrap(), "\"USD\"");
        assert_eq!(serde_json::from_str::<Currency>("\"gbp\"").unwrap(), currency("GBP"));
        assert!(serde_json::from_str::<Currency>("\"dollars\"").is_err());
    }

    #[test]
    fn formats_with_symbols_and_codes() {
        assert_eq!(Money(1200).format(&currency("USD")), "$12.00");
        assert_eq!(Money(350).format(&currency("EUR")), "€3.50");
        assert_eq!(Money(100).format(&currency("GBP")), "£1.00");
        assert_eq!(Money(1200).format(&currency("JPY")), "¥1200");
        assert_eq!(Money(1200).format(&currency("CHF")), "12.00 CHF");
        assert_eq!(Money(1500).format(&currency("KWD")), "1.500 KWD");
        assert_eq!(Money(5).format(&currency("USD")), "$0.05");
        assert_eq!(Money(0).format(&currency("USD")), "$0.00");
    }

    #[test]
    fn formats_negatives_with_the_sign_first() {
        assert_eq!(Money(-200).format(&currency("USD")), "-$2.00");
        assert_eq!(Money(-5).format(&currency("CHF")), "-0.05 CHF");
        assert_eq!(Money(i64::MIN).format(&currency("USD")), "-$92233720368547758.08");
    }

    #[test]
    fn money_serializes_as_a_bare_integer() {
        assert_eq!(serde_json::to_string(&Money(2500)).unwrap(), "2500");
        assert_eq!(serde_json::from_str::<Money>("-75").unwrap(), Money(-75));
        assert!(serde_json::from_str::<Money>("12.5").is_err());
    }

    #[test]
    fn checked_arithmetic_reports_overflow() {
        assert_eq!(Money(2500).checked_mul(2), Some(Money(5000)));
        assert_eq!(Money(i64::MAX).checked_add(Money(1)), None);
        assert_eq!(Money(i64::MIN).checked_sub(Money(1)), None);
        assert_eq!(Money(i64::MAX).checked_mul(2), None);
        assert_eq!(Money::ZERO.checked_mul(u32::MAX), Some(Money::ZERO));
    }

    fn fits(value: i128) -> Option<Money> {
        i64::try_from(value).ok().map(Money)
    }

    proptest! {
        #[test]
        fn checked_add_agrees_with_i128(a in any::<i64>(), b in any::<i64>()) {
            prop_assert_eq!(Money(a).checked_add(Money(b)), fits(i128::from(a) + i128::from(b)));
        }

        #[test]
        fn checked_sub_agrees_with_i128(a in any::<i64>(), b in any::<i64>()) {
            prop_assert_eq!(Money(a).checked_sub(Money(b)), fits(i128::from(a) - i128::from(b)));
        }

        #[test]
        fn checked_mul_agrees_with_i128(a in any::<i64>(), q in any::<u32>()) {
            prop_assert_eq!(Money(a).checked_mul(q), fits(i128::from(a) * i128::from(q)));
        }

        #[test]
        fn format_never_panics_and_keeps_the_digits(a in any::<i64>(), code in "[A-Z]{3}") {
            let currency = Currency::parse(&code).unwrap();
            let text = Money(a).format(&currency);
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            let expected = a.unsigned_abs().to_string();
            prop_assert_eq!(digits.trim_start_matches('0'), expected.trim_start_matches('0'));
            prop_assert_eq!(text.starts_with('-'), a < 0);
        }
    }
}
