//! The body of a webhook message (CONTRACTS §6): the event, and the order (or return) as
//! that event left it, so that a CRM never has to fold events itself. A receiver written
//! in Rust can read a message with these same types.

use serde::{Deserialize, Serialize};

use crate::{chat::Order, returns::ReturnView};

/// What every message carries, whatever its type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookMessage<D> {
    /// The topic: `order.confirmed`, `return.refunded`, `webhook.test`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// When the event happened (RFC 3339).
    pub timestamp: String,
    pub data: D,
}

/// The event a message stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRef {
    pub id: String,
    /// Its place among its order's (or return's) events, from 1.
    pub seq: u32,
    #[serde(rename = "type")]
    pub kind: String,
    /// RFC 3339.
    pub at: String,
}

/// `order.*`: the event and the order after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderData {
    pub event: EventRef,
    pub order: Order,
}

/// `return.*`: the event, the return after it, and its order's number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnData {
    pub event: EventRef,
    #[serde(rename = "return")]
    pub return_: ReturnView,
    pub order_number: String,
}

/// `webhook.test`: what the console's "send a test event" button sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestData {
    pub message: String,
}
