//! The events that are an order's system of record.
//!
//! Each event holds the values that resulted (a priced line, the whole customer, the
//! whole address), never the command that led to it, so folding them needs no catalog
//! and gives the same order years later, whatever the catalog says by then.

use serde::{Deserialize, Serialize};

use crate::catalog::Choice;
use crate::money::Money;
use crate::orders::address::PostalAddress;
use crate::orders::contact::{Email, Phone};
use crate::orders::fulfilment::{Carrier, TrackingNumber, TrackingUrl};
use crate::orders::payment::{PaymentUrl, ProviderId};
use crate::sku::Sku;
use crate::stock::StockKey;

/// The version of the JSON payloads below; stored next to each event so that a later
/// shape can still read the old rows.
pub const ORDER_EVENT_SCHEMA_VERSION: u32 = 1;

/// One order line as CONTRACTS §3 shows it, priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedLine {
    pub sku: Sku,
    pub name: String,
    pub quantity: u32,
    pub choices: Vec<Choice>,
    pub unit_price: Money,
    pub total: Money,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub subtotal: Money,
    /// Always zero for now; the field is there so that orders keep one shape when
    /// delivery methods arrive.
    pub shipping: Money,
    pub total: Money,
}

/// Units of one stock key held for a confirmed order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Reservation {
    pub key: StockKey,
    pub quantity: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub name: Option<String>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
}

impl Customer {
    pub fn is_empty(&self) -> bool {
        *self == Customer::default()
    }
}

/// What happened to an order. Stored as JSON with a `type` tag (also the `type`
/// column of the events table, see [`OrderEvent::kind`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrderEvent {
    /// The order replaces the goods of an exchange (first event only): its lines are
    /// what the shop ships in place of what comes back, settled by the return `rma`
    /// of order `original`, so nothing is owed for them.
    ExchangeFor {
        rma: String,
        original: String,
    },
    /// Appended at the end of the lines.
    LineAdded {
        line: PricedLine,
    },
    /// The line at `index` is now `line` (same product: quantity, choices or price).
    LineChanged {
        index: usize,
        line: PricedLine,
    },
    /// Later lines move up by one.
    LineRemoved {
        index: usize,
    },
    /// The customer as a whole after the change.
    CustomerIdentified {
        name: Option<String>,
        email: Option<Email>,
        phone: Option<Phone>,
    },
    ShippingAddressSet {
        address: PostalAddress,
    },
    ShippingAddressCleared,
    /// The shopper was shown these totals with the lines and asked to confirm; the
    /// next confirmation places the order unless something changes first.
    SummaryShown {
        totals: Totals,
    },
    /// Totals frozen and stock reserved.
    Confirmed {
        totals: Totals,
        reservations: Vec<Reservation>,
    },
    /// A confirmed order called off; `released` is what it had reserved.
    Cancelled {
        released: Vec<Reservation>,
    },
    /// The goods left the shop (a fulfilment system said so, CONTRACTS §7). A second
    /// one is another parcel or corrected tracking.
    Shipped {
        carrier: Option<Carrier>,
        tracking_number: Option<TrackingNumber>,
        tracking_url: Option<TrackingUrl>,
        /// When it happened, as the fulfilment system reported it.
        #[serde(with = "time::serde::rfc3339")]
        at: time::OffsetDateTime,
    },
    /// The goods reached the customer: return windows count from `at`.
    Delivered {
        carrier: Option<Carrier>,
        tracking_number: Option<TrackingNumber>,
        tracking_url: Option<TrackingUrl>,
        #[serde(with = "time::serde::rfc3339")]
        at: time::OffsetDateTime,
    },
    /// A payment provider was asked for the confirmed total (CONTRACTS §8): the
    /// customer pays at `url` until `expires_at`.
    PaymentRequested {
        /// `stripe`.
        provider: String,
        /// The provider's checkout (a Stripe Checkout Session id).
        session: ProviderId,
        url: PaymentUrl,
        amount: Money,
        #[serde(with = "time::serde::rfc3339")]
        expires_at: time::OffsetDateTime,
    },
    /// The provider says the customer paid `amount` through `session`; or, without a
    /// `session`, the payment was taken with the order's confirmation (an agent's
    /// delegated payment token charged at checkout, CONTRACTS §9), by `provider`, and
    /// must then be the confirmed total with its `payment_intent`.
    Paid {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<ProviderId>,
        /// `stripe`, for a payment taken at checkout (a link's provider is known from
        /// its `payment_requested`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider: Option<String>,
        /// What refunds are made against (a Stripe PaymentIntent id).
        payment_intent: Option<ProviderId>,
        amount: Money,
        #[serde(with = "time::serde::rfc3339")]
        at: time::OffsetDateTime,
    },
    /// The payment link ran out unpaid: the order is called off, and `released` is
    /// what it had reserved (nothing when it was cancelled before).
    PaymentExpired {
        session: ProviderId,
        released: Vec<Reservation>,
    },
    /// Money sent back to the customer through the provider; `rma` is the return it
    /// refunds.
    Refunded {
        refund: ProviderId,
        amount: Money,
        rma: Option<String>,
        #[serde(with = "time::serde::rfc3339")]
        at: time::OffsetDateTime,
    },
}

impl OrderEvent {
    /// The `type` tag, e.g. `line_added`.
    pub fn kind(&self) -> &'static str {
        match self {
            OrderEvent::ExchangeFor { .. } => "exchange_for",
            OrderEvent::LineAdded { .. } => "line_added",
            OrderEvent::LineChanged { .. } => "line_changed",
            OrderEvent::LineRemoved { .. } => "line_removed",
            OrderEvent::CustomerIdentified { .. } => "customer_identified",
            OrderEvent::ShippingAddressSet { .. } => "shipping_address_set",
            OrderEvent::ShippingAddressCleared => "shipping_address_cleared",
            OrderEvent::SummaryShown { .. } => "summary_shown",
            OrderEvent::Confirmed { .. } => "confirmed",
            OrderEvent::Cancelled { .. } => "cancelled",
            OrderEvent::Shipped { .. } => "shipped",
            OrderEvent::Delivered { .. } => "delivered",
            OrderEvent::PaymentRequested { .. } => "payment_requested",
            OrderEvent::Paid { .. } => "paid",
            OrderEvent::PaymentExpired { .. } => "payment_expired",
            OrderEvent::Refunded { .. } => "refunded",
        }
    }

    pub fn schema_version(&self) -> u32 {
        ORDER_EVENT_SCHEMA_VERSION
    }

    /// Whether the event changes what would be ordered (and so invalidates a summary
    /// the shopper has seen).
    pub fn changes_content(&self) -> bool {
        matches!(
            self,
            OrderEvent::LineAdded { .. }
                | OrderEvent::LineChanged { .. }
                | OrderEvent::LineRemoved { .. }
                | OrderEvent::CustomerIdentified { .. }
                | OrderEvent::ShippingAddressSet { .. }
                | OrderEvent::ShippingAddressCleared
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line() -> PricedLine {
        PricedLine {
            sku: Sku::parse("TEE").unwrap(),
            name: "tee".into(),
            quantity: 2,
            choices: vec![Choice::new("size", "m")],
            unit_price: Money(2500),
            total: Money(5000),
        }
    }

    #[test]
    fn events_are_tagged_snake_case_json() {
        let added = OrderEvent::LineAdded { line: line() };
        let value = serde_json::to_value(&added).unwrap();
        assert_eq!(value["type"], "line_added");
        assert_eq!(value["line"]["unit_price"], 2500);
        assert_eq!(value["line"]["choices"][0], json!({"group": "size", "value": "m"}));
        assert_eq!(serde_json::from_value::<OrderEvent>(value).unwrap(), added);
        let removed = serde_json::to_value(OrderEvent::LineRemoved { index: 1 }).unwrap();
        assert_eq!(removed, json!({"type": "line_removed", "index": 1}));
        let cleared = serde_json::to_value(OrderEvent::ShippingAddressCleared).unwrap();
        assert_eq!(cleared, json!({"type": "shipping_address_cleared"}));
    }

    #[test]
    fn kind_is_the_serialized_tag() {
        let events = [
            OrderEvent::LineAdded { line: line() },
            OrderEvent::LineChanged { index: 0, line: line() },
            OrderEvent::LineRemoved { index: 0 },
            OrderEvent::CustomerIdentified { name: None, email: None, phone: None },
            OrderEvent::ShippingAddressSet { address: PostalAddress::default() },
            OrderEvent::ShippingAddressCleared,
            OrderEvent::SummaryShown { totals: Totals::default() },
            OrderEvent::Confirmed { totals: Totals::default(), reservations: vec![] },
            OrderEvent::Cancelled { released: vec![] },
            OrderEvent::Shipped {
                carrier: Some(Carrier::parse("UPS").unwrap()),
                tracking_number: None,
                tracking_url: None,
                at: time::macros::datetime!(2030-06-01 10:00 UTC),
            },
            OrderEvent::Delivered {
                carrier: None,
                tracking_number: None,
                tracking_url: None,
                at: time::macros::datetime!(2030-06-02 10:00 UTC),
            },
            OrderEvent::PaymentRequested {
                provider: "stripe".into(),
                session: ProviderId::parse("cs_1").unwrap(),
                url: PaymentUrl::parse("https://pay.example/cs_1").unwrap(),
                amount: Money(5000),
                expires_at: time::macros::datetime!(2030-06-01 11:00 UTC),
            },
            OrderEvent::Paid {
                session: Some(ProviderId::parse("cs_1").unwrap()),
                provider: None,
                payment_intent: None,
                amount: Money(5000),
                at: time::macros::datetime!(2030-06-01 10:30 UTC),
            },
            OrderEvent::PaymentExpired {
                session: ProviderId::parse("cs_1").unwrap(),
                released: vec![],
            },
            OrderEvent::Refunded {
                refund: ProviderId::parse("re_1").unwrap(),
                amount: Money(2500),
                rma: Some("R-1".into()),
                at: time::macros::datetime!(2030-06-09 10:30 UTC),
            },
        ];
        for event in events {
            let value = serde_json::to_value(&event).unwrap();
            assert_eq!(value["type"], event.kind());
            assert_eq!(event.schema_version(), 1);
        }
    }

    #[test]
    fn fulfilment_events_carry_rfc3339_times_and_checked_tracking() {
        let shipped = json!({"type": "shipped", "carrier": "UPS", "tracking_number": "1Z9",
            "tracking_url": "https://ups.example/1Z9", "at": "2030-06-01T10:00:00Z"});
        let event: OrderEvent = serde_json::from_value(shipped.clone()).unwrap();
        assert_eq!(serde_json::to_value(&event).unwrap(), shipped);
        let bad = json!({"type": "shipped", "carrier": null, "tracking_number": null,
            "tracking_url": "javascript:alert(1)", "at": "2030-06-01T10:00:00Z"});
        assert!(serde_json::from_value::<OrderEvent>(bad).is_err());
    }

    #[test]
    fn event_payloads_validate_what_they_carry() {
        let bad_email =
            json!({"type": "customer_identified", "name": null, "email": "nope", "phone": null});
        assert!(serde_json::from_value::<OrderEvent>(bad_email).is_err());
        let reservation = json!({"type": "cancelled", "released": [
            {"key": {"sku": "tee", "option": ["color", "black"]}, "quantity": 2}
        ]});
        let OrderEvent::Cancelled { released } = serde_json::from_value(reservation).unwrap()
        else {
            panic!()
        };
        assert_eq!(released[0].key, StockKey::value(Sku::parse("TEE").unwrap(), "color", "black"));
    }
}
