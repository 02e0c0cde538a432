//! Payment for an order (CONTRACTS §8): what a payment provider (Stripe Checkout
//! first) was asked for, and what it said happened. The order carries a [`Payment`];
//! without a provider it stays `not_required`, as orders were before payments.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::money::Money;

/// The longest provider id kept (Stripe's are well under 100 characters).
pub const MAX_PROVIDER_ID: usize = 255;
/// The longest payment link kept.
pub const MAX_PAYMENT_URL: usize = 2000;

/// Where an order's payment stands: `payment.status` of CONTRACTS §8.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// No provider was asked: the order was placed unpaid (no provider configured, or
    /// an exchange the return settles).
    #[default]
    NotRequired,
    /// A payment link was made; the customer has not paid yet.
    Pending,
    Paid,
    /// The link ran out unpaid: the order was called off and its stock given back.
    Expired,
    /// Everything paid was sent back.
    Refunded,
    /// Some of what was paid was sent back.
    PartiallyRefunded,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 6] = [
        PaymentStatus::NotRequired,
        PaymentStatus::Pending,
        PaymentStatus::Paid,
        PaymentStatus::Expired,
        PaymentStatus::Refunded,
        PaymentStatus::PartiallyRefunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::NotRequired => "not_required",
            PaymentStatus::Pending => "pending",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Expired => "expired",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::PartiallyRefunded => "partially_refunded",
        }
    }

    /// Money was received (some of it may have been sent back since).
    pub fn received(self) -> bool {
        matches!(
            self,
            PaymentStatus::Paid | PaymentStatus::Refunded | PaymentStatus::PartiallyRefunded
        )
    }
}

/// Why a provider id or payment link was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentTextError {
    #[error("a provider id must be 1 to {MAX_PROVIDER_ID} visible ASCII characters")]
    BadId,
    #[error("a payment link must be an https:// address without spaces, at most {MAX_PAYMENT_URL} characters")]
    BadUrl,
}

/// An id the provider gave (a Checkout Session `cs_…`, a PaymentIntent `pi_…`, a
/// refund `re_…`): short visible ASCII, so it can go in a log line or a URL path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProviderId(String);

impl ProviderId {
    pub fn parse(text: &str) -> Result<ProviderId, PaymentTextError> {
        let ok = !text.is_empty()
            && text.len() <= MAX_PROVIDER_ID
            && text.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(ProviderId(text.to_owned()))
        } else {
            Err(PaymentTextError::BadId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where the customer pays: `https://` only, because the chat and the widget show it
/// as a link.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PaymentUrl(String);

impl PaymentUrl {
    pub fn parse(text: &str) -> Result<PaymentUrl, PaymentTextError> {
        let lower = text.to_ascii_lowercase();
        // Plain http only for a provider on loopback (the tests' fake Stripe).
        let rest = lower.strip_prefix("https://").or_else(|| {
            lower
                .strip_prefix("http://")
                .filter(|rest| rest.starts_with("127.0.0.1") || rest.starts_with("localhost"))
        });
        let host = rest.and_then(|rest| rest.split(['/', '?', '#']).next()).unwrap_or("");
        let ok = !host.is_empty()
            && text.len() <= MAX_PAYMENT_URL
            && !text.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(PaymentUrl(text.to_owned()))
        } else {
            Err(PaymentTextError::BadUrl)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_conversions {
    ($name:ident) => {
        impl TryFrom<String> for $name {
            type Error = PaymentTextError;
            fn try_from(text: String) -> Result<Self, PaymentTextError> {
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

string_conversions!(ProviderId);
string_conversions!(PaymentUrl);

/// An order's payment as its events leave it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub status: PaymentStatus,
    /// `stripe`; none while not required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The provider's checkout (a Stripe Checkout Session id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<ProviderId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<PaymentUrl>,
    /// What the customer was asked to pay.
    #[serde(default)]
    pub amount: Money,
    /// When the link stops working unpaid.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub expires_at: Option<OffsetDateTime>,
    /// What the provider says was received.
    #[serde(default)]
    pub paid: Money,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub paid_at: Option<OffsetDateTime>,
    /// The provider's payment (a Stripe PaymentIntent id): what refunds are made against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_intent: Option<ProviderId>,
    /// What was sent back so far.
    #[serde(default)]
    pub refunded: Money,
}

impl Payment {
    /// What can still be sent back.
    pub fn refundable(&self) -> Money {
        self.paid.checked_sub(self.refunded).filter(|m| *m > Money::ZERO).unwrap_or(Money::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_ids_are_short_visible_ascii() {
        assert_eq!(ProviderId::parse("cs_test_a1B2").unwrap().as_str(), "cs_test_a1B2");
        for bad in ["", "cs test", "cs\u{0}", &"x".repeat(MAX_PROVIDER_ID + 1)] {
            assert_eq!(ProviderId::parse(bad), Err(PaymentTextError::BadId), "{bad:?}");
        }
        assert!(serde_json::from_str::<ProviderId>("\"a b\"").is_err());
    }

    #[test]
    fn payment_links_are_https_or_loopback() {
        assert!(PaymentUrl::parse("https://checkout.stripe.com/c/pay/cs_test_1#x").is_ok());
        assert!(PaymentUrl::parse("http://127.0.0.1:4242/pay/cs_1").is_ok());
        for bad in [
            "http://checkout.example/pay",
            "javascript:alert(1)",
            "https://",
            "https://a b",
            "data:text/html,x",
        ] {
            assert_eq!(PaymentUrl::parse(bad), Err(PaymentTextError::BadUrl), "{bad}");
        }
    }

    #[test]
    fn statuses_are_the_contract_words() {
        for status in PaymentStatus::ALL {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert!(PaymentStatus::PartiallyRefunded.received());
        assert!(!PaymentStatus::Pending.received());
    }

    #[test]
    fn nothing_refundable_beyond_what_was_paid() {
        let payment = Payment { paid: Money(5000), refunded: Money(2000), ..Payment::default() };
        assert_eq!(payment.refundable(), Money(3000));
        let over = Payment { paid: Money(5000), refunded: Money(6000), ..Payment::default() };
        assert_eq!(over.refundable(), Money::ZERO);
    }
}
