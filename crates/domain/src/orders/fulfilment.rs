//! What comes back from the shop's fulfilment systems (CONTRACTS §7): an order shipped
//! (with a carrier and tracking) or delivered. The values are parsed once here, so an
//! event never holds a tracking link that is not a web address or a carrier name that
//! spans a page.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The longest carrier name or tracking number kept.
pub const MAX_TRACKING_TEXT: usize = 100;
/// The longest tracking URL kept.
pub const MAX_TRACKING_URL: usize = 2000;

/// Which step of fulfilment a [`Fulfilment`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FulfilmentStatus {
    Shipped,
    Delivered,
}

impl FulfilmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FulfilmentStatus::Shipped => "shipped",
            FulfilmentStatus::Delivered => "delivered",
        }
    }
}

/// One `shipped` or `delivered` event as the order JSON lists it (`"fulfilments"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fulfilment {
    pub status: FulfilmentStatus,
    pub carrier: Option<Carrier>,
    pub tracking_number: Option<TrackingNumber>,
    pub tracking_url: Option<TrackingUrl>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Why a carrier, tracking number or tracking URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackingError {
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} contains control characters")]
    Control { field: &'static str },
    #[error("tracking_url must be an http:// or https:// address without spaces")]
    NotAWebAddress,
}

fn short_text(text: &str, field: &'static str) -> Result<String, TrackingError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(TrackingError::Empty { field });
    }
    if text.chars().count() > MAX_TRACKING_TEXT {
        return Err(TrackingError::TooLong { field, max: MAX_TRACKING_TEXT });
    }
    if text.chars().any(char::is_control) {
        return Err(TrackingError::Control { field });
    }
    Ok(text.to_owned())
}

macro_rules! tracking_text {
    ($name:ident, $field:literal, $what:literal) => {
        #[doc = $what]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(text: &str) -> Result<Self, TrackingError> {
                short_text(text, $field).map($name)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = TrackingError;
            fn try_from(text: String) -> Result<Self, TrackingError> {
                $name::parse(&text)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

tracking_text!(Carrier, "carrier", "A carrier's name as the fulfilment system gave it (\"UPS\").");
tracking_text!(TrackingNumber, "tracking_number", "A parcel's tracking number at its carrier.");

/// A link a customer can open to follow the parcel: only `http://` and `https://`
/// (never `javascript:` or `data:`), because the chat and the portal show it as a link.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrackingUrl(String);

impl TrackingUrl {
    pub fn parse(text: &str) -> Result<TrackingUrl, TrackingError> {
        let field = "tracking_url";
        let text = text.trim();
        if text.is_empty() {
            return Err(TrackingError::Empty { field });
        }
        if text.chars().count() > MAX_TRACKING_URL {
            return Err(TrackingError::TooLong { field, max: MAX_TRACKING_URL });
        }
        let lower = text.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .ok_or(TrackingError::NotAWebAddress)?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        if host.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(TrackingError::NotAWebAddress);
        }
        Ok(TrackingUrl(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TrackingUrl {
    type Error = TrackingError;
    fn try_from(text: String) -> Result<Self, TrackingError> {
        TrackingUrl::parse(&text)
    }
}

impl From<TrackingUrl> for String {
    fn from(value: TrackingUrl) -> String {
        value.0
    }
}

impl fmt::Display for TrackingUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_urls_are_web_addresses_only() {
        let ok = TrackingUrl::parse(" https://track.example/1Z999?x=1 ").unwrap();
        assert_eq!(ok.as_str(), "https://track.example/1Z999?x=1");
        assert!(TrackingUrl::parse("HTTP://ups.com/x").is_ok());
        for bad in
            ["javascript:alert(1)", "data:text/html,hi", "ftp://x/y", "https://", "https:// x"]
        {
            assert_eq!(TrackingUrl::parse(bad), Err(TrackingError::NotAWebAddress), "{bad}");
        }
        assert_eq!(TrackingUrl::parse(""), Err(TrackingError::Empty { field: "tracking_url" }));
        let long = format!("https://x/{}", "a".repeat(MAX_TRACKING_URL));
        assert!(matches!(TrackingUrl::parse(&long), Err(TrackingError::TooLong { .. })));
    }

    #[test]
    fn carriers_and_numbers_are_short_trimmed_text() {
        assert_eq!(Carrier::parse("  UPS ").unwrap().as_str(), "UPS");
        assert_eq!(TrackingNumber::parse("1Z999").unwrap().to_string(), "1Z999");
        assert_eq!(Carrier::parse(" "), Err(TrackingError::Empty { field: "carrier" }));
        assert_eq!(
            TrackingNumber::parse("a\u{0}b"),
            Err(TrackingError::Control { field: "tracking_number" })
        );
        assert!(Carrier::parse(&"x".repeat(MAX_TRACKING_TEXT + 1)).is_err());
        // The same checks when read back from JSON.
        assert!(serde_json::from_str::<Carrier>("\"\"").is_err());
        assert!(serde_json::from_str::<TrackingUrl>("\"javascript:x\"").is_err());
    }
}
