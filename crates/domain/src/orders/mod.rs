//! Orders as the system of record: the values an order is made of (order numbers,
//! contact details, addresses, priced lines), the events that change it, the fold that
//! rebuilds it, and the pure functions the chat uses to get from one state to the next
//! (pricing, diffing, stock requirements).
//!
//! Nothing here touches a database: the store appends [`OrderEvent`]s (payload =
//! the serde JSON, `type` = [`OrderEvent::kind`], schema version
//! [`ORDER_EVENT_SCHEMA_VERSION`]) and projects [`OrderState`] into its tables.

mod address;
mod contact;
mod diff;
mod event;
mod fulfilment;
mod number;
mod payment;
mod pricing;
mod requirements;
mod state;

pub use address::{
    AddressError, AddressField, CountryCode, CountryError, PostalAddress, UncheckedAddress,
};
pub use contact::{Email, EmailError, Phone, PhoneError};
pub use diff::diff;
pub use event::{
    Customer, OrderEvent, PricedLine, Reservation, Totals, ORDER_EVENT_SCHEMA_VERSION,
};
pub use fulfilment::{
    Carrier, Fulfilment, FulfilmentStatus, TrackingError, TrackingNumber, TrackingUrl,
    MAX_TRACKING_TEXT, MAX_TRACKING_URL,
};
pub use number::{OrderNumber, OrderNumberError};
pub use payment::{
    Payment, PaymentStatus, PaymentTextError, PaymentUrl, ProviderId, MAX_PAYMENT_URL,
    MAX_PROVIDER_ID,
};
pub use pricing::{price_line, totals, PricingError};
pub use requirements::{reservations, shortfalls, stock_requirements, unit_keys, Shortfall};
pub use state::{EventError, ExchangeRef, FoldError, OrderState, OrderStatus, OrderView};

/// The most lines one order may have: a chat order with more is a mistake or abuse,
/// and the bound keeps every per-turn computation small.
pub const MAX_LINES: usize = 50;

/// The quantity bounds of one order line, whoever asks for it: the chat's draft, an
/// agent's checkout or the LLM's tool schema.
pub const MIN_QUANTITY: u32 = 1;
pub const MAX_QUANTITY: u32 = 99;
