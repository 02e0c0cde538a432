//! Ordering through chat over HTTP (CONTRACTS §2–3): what `POST /api/v1/conversations`,
//! `POST /api/v1/conversations/{id}/messages` and `GET /api/v1/conversations/{id}`
//! answer, and the order (CONTRACTS §3) that those, the fulfilment API (§7), the
//! webhooks (§6) and the staff console carry.
//!
//! Codes and statuses are strings here, not closed enums: the contract says more may
//! follow, and a client built on these types must keep reading answers that carry a new
//! one. The server fills them from the domain's enums, so it cannot write a misspelt one.

use gapless_domain::{
    catalog::Choice,
    chat::turn::TurnNote,
    orders::{
        Customer as DomainCustomer, ExchangeRef as DomainExchangeRef,
        Fulfilment as DomainFulfilment, OrderView, Payment as DomainPayment, PaymentStatus,
        PostalAddress, PricedLine,
    },
};
use serde::{Deserialize, Serialize};
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A new conversation (`201` of `POST /api/v1/conversations`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(json!({ "id": "6f1c0a9e3b2d4e8f9a7b5c3d1e0f2a4b" }))))]
pub struct NewConversation {
    /// Opaque and unguessable: whoever holds it may read and continue the conversation.
    pub id: String,
}

/// One shopper message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(json!({ "text": "two large pizzas with ham and extra cheese, no onions" }))))]
pub struct NewMessage {
    /// What the shopper wrote: 1 to 2000 characters, not only whitespace, no control
    /// characters other than newline, carriage return and tab.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
    pub text: String,
}

/// The answer to one shopper message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(json!({
    "reply": "Added 2 × diet coke. Anything else?",
    "order": {
        "number": "G-100042",
        "status": "draft",
        "currency": "USD",
        "lines": [
            { "sku": "DIET-COKE", "name": "diet coke", "quantity": 2, "choices": [],
              "unit_price": 250, "total": 500 }
        ],
        "totals": { "subtotal": 500, "shipping": 0, "total": 500 },
        "customer": { "name": null, "email": null, "phone": null },
        "shipping_address": null,
        "payment": { "status": "not_required" }
    },
    "messages": []
}))))]
pub struct TurnResponse {
    /// What the assistant answers, for the shopper to read.
    pub reply: String,
    /// The conversation's order after this turn; `null` while there is none.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub order: Option<Order>,
    /// Machine-readable notes on this turn (what was not understood, is missing, …).
    pub messages: Vec<Note>,
}

/// A machine-readable note on one turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(json!({
    "type": "warning",
    "code": "missing",
    "param": "shipping_address.postal_code",
    "content": "What is the postal code?"
}))))]
pub struct Note {
    /// How serious it is.
    #[serde(rename = "type")]
    pub kind: NoteType,
    /// What happened. Codes include `out_of_stock`, `ambiguous_product`,
    /// `unknown_product`, `missing`, `invalid`, `quantity_exceeded`, `not_in_order`,
    /// `empty_order`, `order_closed`, `confirmation_needed`, `truncated` and
    /// `not_understood`; more may follow.
    #[cfg_attr(feature = "openapi", schema(examples("out_of_stock", "missing")))]
    pub code: String,
    /// What the note is about: a field (`email`, `shipping_address.postal_code`,
    /// `quantity`), a SKU or stock key (`TEE/color/black`) or the shopper's word;
    /// `null` when it is about the message as a whole.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub param: Option<String>,
    /// The note in words, as the reply puts it.
    pub content: String,
}

/// The severity of a `Note`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum NoteType {
    Info,
    Warning,
    Error,
}

/// A conversation as it stands: its messages so far and its current order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(json!({
    "id": "6f1c0a9e3b2d4e8f9a7b5c3d1e0f2a4b",
    "started_at": "2025-05-01T12:00:00Z",
    "outcome": "open",
    "messages": [
        { "id": "0d4e2b7a9c1f4a3e8b6d5c2f1a0e9b8d", "role": "shopper",
          "text": "two diet cokes", "at": "2025-05-01T12:00:05Z" },
        { "id": "0d4e2b7a9c1f4a3e8b6d5c2f1a0e9b8d", "role": "assistant",
          "text": "Added 2 × diet coke. Anything else?", "at": "2025-05-01T12:00:05Z" }
    ],
    "order": null
}))))]
pub struct Conversation {
    /// The conversation id.
    pub id: String,
    /// When it started (RFC 3339).
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub started_at: OffsetDateTime,
    /// How it ended: `ordered` once an order is confirmed, `handed_off` when the shopper
    /// asked for a person; `open` while neither happened.
    #[cfg_attr(feature = "openapi", schema(examples("open", "ordered", "handed_off")))]
    pub outcome: String,
    /// Every message in time order: each shopper message followed by the assistant's
    /// reply, and what staff wrote after a handoff.
    pub messages: Vec<ConversationMessage>,
    /// The current order; `null` while there is none.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub order: Option<Order>,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConversationMessage {
    /// The turn's id: a shopper message and the reply to it share it.
    pub id: String,
    /// Who wrote it.
    pub role: Role,
    /// What was written.
    pub text: String,
    /// When the shopper's message was received (RFC 3339).
    #[serde(with = "crate::time_format")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
}

/// Who wrote a `ConversationMessage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Shopper,
    Assistant,
    /// A member of the shop's staff, after the shopper asked for a person.
    Staff,
}

/// An order (CONTRACTS §3). Amounts are integers in minor units of `currency`
/// (cents for USD).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(json!({
    "number": "G-100042",
    "status": "draft",
    "currency": "USD",
    "lines": [
        { "sku": "PIZZA", "name": "pizza", "quantity": 2,
          "choices": [ { "group": "size", "value": "large" },
                       { "group": "topping", "value": "ham" },
                       { "group": "topping", "value": "cheese", "qualifier": "extra" },
                       { "group": "topping", "value": "onions", "exclude": true } ],
          "unit_price": 1500, "total": 3000 }
    ],
    "totals": { "subtotal": 3000, "shipping": 0, "total": 3000 },
    "customer": { "name": "Ana Ruiz", "email": "ana@example.com", "phone": "+15555550100" },
    "shipping_address": { "line1": "12 Main St", "line2": null, "city": "Springfield",
                          "postal_code": "62701", "region": null, "country": "US" },
    "payment": { "status": "not_required" }
}))))]
pub struct Order {
    /// The order number shoppers and staff quote.
    #[cfg_attr(feature = "openapi", schema(examples("G-100042")))]
    pub number: String,
    /// `draft`, `confirmed`, `cancelled`, `shipped` or `delivered`; more may follow.
    #[cfg_attr(
        feature = "openapi",
        schema(examples("draft", "confirmed", "cancelled", "shipped", "delivered"))
    )]
    pub status: String,
    /// ISO 4217 code of every amount in the order.
    #[cfg_attr(feature = "openapi", schema(examples("USD")))]
    pub currency: String,
    /// The lines, in the order they were added.
    pub lines: Vec<OrderLine>,
    /// The sum of the lines while a draft; frozen when the order is confirmed.
    pub totals: Totals,
    /// Who ordered; each field `null` until the shopper gives it.
    pub customer: Customer,
    /// Where to ship; `null` until the shopper gives any of it.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub shipping_address: Option<Address>,
    /// Only on an order that ships an exchange's replacement: the return and the
    /// original order it settles (nothing is owed for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_for: Option<ExchangeRef>,
    /// Only once the order shipped: what the fulfilment systems reported, oldest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfilments: Option<Vec<Fulfilment>>,
    /// How the order is paid (CONTRACTS §8); `not_required` without a payment provider.
    pub payment: Payment,
}

/// One line of an `Order`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(json!({
    "sku": "TEE", "name": "tee", "quantity": 2,
    "choices": [ { "group": "size", "value": "m" }, { "group": "color", "value": "black" } ],
    "unit_price": 2500, "total": 5000
}))))]
pub struct OrderLine {
    /// The catalog product.
    #[cfg_attr(feature = "openapi", schema(examples("PIZZA")))]
    pub sku: String,
    /// The product's name in the catalog.
    #[cfg_attr(feature = "openapi", schema(examples("pizza")))]
    pub name: String,
    /// How many.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub quantity: u32,
    /// The values chosen or defaulted for single groups, the values added for multi
    /// groups, and the values the shopper asked to leave out.
    pub choices: Vec<Choice>,
    /// Price of one unit with its choices, in minor units.
    pub unit_price: i64,
    /// `unit_price × quantity`, in minor units.
    pub total: i64,
}

/// The amounts of an `Order`, in minor units of its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(json!({ "subtotal": 3000, "shipping": 0, "total": 3000 }))))]
pub struct Totals {
    /// The sum of the line totals.
    pub subtotal: i64,
    /// Always 0 for now.
    pub shipping: i64,
    /// `subtotal + shipping`.
    pub total: i64,
}

/// The shopper of an `Order`; each field is `null` until given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(json!({ "name": "Ana Ruiz", "email": "ana@example.com", "phone": null }))))]
pub struct Customer {
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, format = "email"))]
    pub email: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub phone: Option<String>,
}

/// A shipping address. Text fields are trimmed with inner whitespace collapsed; a field
/// not given is `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(json!({
    "line1": "12 Main St", "line2": null, "city": "Springfield",
    "postal_code": "62701", "region": null, "country": "US"
}))))]
pub struct Address {
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub line1: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub line2: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub city: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub postal_code: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2 code.
    #[cfg_attr(feature = "openapi", schema(required = true, examples("US")))]
    pub country: Option<String>,
}

/// The return an exchange's replacement order settles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExchangeRef {
    #[cfg_attr(feature = "openapi", schema(examples("R-7K2M9Q4X")))]
    pub rma: String,
    #[cfg_attr(feature = "openapi", schema(examples("G-100042")))]
    pub original: String,
}

/// A shipment or delivery as a fulfilment system reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(json!({ "status": "shipped", "carrier": "UPS", "tracking_number": "1Z999AA10123456784",
    "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456784", "at": "2030-06-02T09:00:00Z" }))))]
pub struct Fulfilment {
    /// `shipped` or `delivered`.
    #[cfg_attr(feature = "openapi", schema(examples("shipped", "delivered")))]
    pub status: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub carrier: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub tracking_number: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub tracking_url: Option<String>,
    /// RFC 3339, UTC.
    pub at: String,
}

/// An order's payment (CONTRACTS §8): the status always, the link while it can be used,
/// and the amounts once there are any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(json!({ "status": "pending", "provider": "stripe",
    "url": "https://checkout.stripe.com/c/pay/cs_test_a1B2", "expires_at": "2030-06-01T11:00:00Z",
    "amount": 5000 }))))]
pub struct Payment {
    /// `not_required`, `pending`, `paid`, `expired`, `refunded` or `partially_refunded`.
    #[cfg_attr(
        feature = "openapi",
        schema(examples(
            "not_required",
            "pending",
            "paid",
            "expired",
            "refunded",
            "partially_refunded"
        ))
    )]
    pub status: String,
    /// `stripe`; absent when not required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Only while `pending`: where the customer pays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Only while `pending`: when the link runs out (RFC 3339, UTC); the order is then
    /// cancelled and its stock given back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Minor units asked for; absent when not required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// Minor units received, once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid: Option<i64>,
    /// When it was paid (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<String>,
    /// Minor units sent back so far, once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunded: Option<i64>,
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

impl From<OrderView<'_>> for Order {
    fn from(view: OrderView<'_>) -> Order {
        let order = view.order;
        Order {
            number: view.number.to_string(),
            status: order.status.as_str().to_owned(),
            currency: order.currency.as_str().to_owned(),
            lines: order.lines.iter().map(OrderLine::from).collect(),
            totals: Totals {
                subtotal: order.totals.subtotal.0,
                shipping: order.totals.shipping.0,
                total: order.totals.total.0,
            },
            customer: Customer::from(&order.customer),
            shipping_address: order.shipping_address.as_ref().map(Address::from),
            exchange_for: order.exchange_for.as_ref().map(ExchangeRef::from),
            fulfilments: (!order.fulfilments.is_empty())
                .then(|| order.fulfilments.iter().map(Fulfilment::from).collect()),
            payment: Payment::from(&order.payment),
        }
    }
}

impl From<&PricedLine> for OrderLine {
    fn from(line: &PricedLine) -> OrderLine {
        OrderLine {
            sku: line.sku.to_string(),
            name: line.name.clone(),
            quantity: line.quantity,
            choices: line.choices.clone(),
            unit_price: line.unit_price.0,
            total: line.total.0,
        }
    }
}

impl From<&DomainCustomer> for Customer {
    fn from(customer: &DomainCustomer) -> Customer {
        Customer {
            name: customer.name.clone(),
            email: customer.email.as_ref().map(ToString::to_string),
            phone: customer.phone.as_ref().map(ToString::to_string),
        }
    }
}

impl From<&PostalAddress> for Address {
    fn from(address: &PostalAddress) -> Address {
        Address {
            line1: address.line1.clone(),
            line2: address.line2.clone(),
            city: address.city.clone(),
            postal_code: address.postal_code.clone(),
            region: address.region.clone(),
            country: address.country.map(|c| c.as_str().to_owned()),
        }
    }
}

impl From<&DomainExchangeRef> for ExchangeRef {
    fn from(exchange: &DomainExchangeRef) -> ExchangeRef {
        ExchangeRef { rma: exchange.rma.clone(), original: exchange.original.clone() }
    }
}

impl From<&DomainFulfilment> for Fulfilment {
    fn from(step: &DomainFulfilment) -> Fulfilment {
        Fulfilment {
            status: step.status.as_str().to_owned(),
            carrier: step.carrier.as_ref().map(ToString::to_string),
            tracking_number: step.tracking_number.as_ref().map(ToString::to_string),
            tracking_url: step.tracking_url.as_ref().map(ToString::to_string),
            at: rfc3339(step.at),
        }
    }
}

impl From<&DomainPayment> for Payment {
    /// The status always; nothing else while not required; the link and its expiry only
    /// while pending; what was received and sent back only once paid.
    fn from(payment: &DomainPayment) -> Payment {
        let mut view = Payment {
            status: payment.status.as_str().to_owned(),
            provider: None,
            url: None,
            expires_at: None,
            amount: None,
            paid: None,
            paid_at: None,
            refunded: None,
        };
        if payment.status == PaymentStatus::NotRequired {
            return view;
        }
        view.provider = payment.provider.clone();
        if payment.status == PaymentStatus::Pending {
            view.url = payment.url.as_ref().map(ToString::to_string);
            view.expires_at = payment.expires_at.map(rfc3339);
        }
        view.amount = Some(payment.amount.0);
        if payment.status.received() {
            view.paid = Some(payment.paid.0);
            view.paid_at = payment.paid_at.map(rfc3339);
            view.refunded = Some(payment.refunded.0);
        }
        view
    }
}

impl From<&TurnNote> for Note {
    fn from(note: &TurnNote) -> Note {
        Note {
            kind: match note.kind {
                gapless_domain::chat::turn::NoteKind::Info => NoteType::Info,
                gapless_domain::chat::turn::NoteKind::Warning => NoteType::Warning,
                gapless_domain::chat::turn::NoteKind::Error => NoteType::Error,
            },
            code: note.code.as_str().to_owned(),
            param: note.param.clone(),
            content: note.content.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use gapless_domain::orders::{OrderNumber, OrderState};
    use serde_json::{json, Value};

    use super::*;

    /// Orders in every shape the JSON has, as the domain keeps them, each with the
    /// order JSON of CONTRACTS §3 it shows as: a fresh draft, a draft with everything
    /// given, a confirmed order waiting for its payment, a paid and partly refunded one
    /// that shipped and was delivered, an expired one, an exchange's replacement.
    fn states() -> Vec<(Value, Value)> {
        let line = json!({ "sku": "TEE", "name": "tee", "quantity": 2,
            "choices": [ { "group": "size", "value": "m" },
                         { "group": "topping", "value": "onions", "exclude": true },
                         { "group": "topping", "value": "cheese", "qualifier": "extra" } ],
            "unit_price": 2500, "total": 5000 });
        let totals = json!({ "subtotal": 5000, "shipping": 0, "total": 5000 });
        let customer =
            json!({ "name": "Ana", "email": "ana@example.com", "phone": "+15555550100" });
        let address = json!({ "line1": "12 Main St", "line2": null, "city": "Springfield",
            "postal_code": "62701", "region": null, "country": "US" });
        let nobody = json!({ "name": null, "email": null, "phone": null });
        let zero = json!({ "subtotal": 0, "shipping": 0, "total": 0 });
        let shown = |status: &str, payment: Value| {
            json!({ "number": "G-100042", "status": status, "currency": "USD",
                "lines": [line], "totals": totals, "customer": customer,
                "shipping_address": address, "payment": payment })
        };
        let not_required = json!({ "status": "not_required" });
        let with = |mut order: Value, key: &str, value: Value| {
            order[key] = value;
            order
        };
        let fulfilments = json!([
            { "status": "shipped", "carrier": "UPS", "tracking_number": "1Z9",
              "tracking_url": "https://ups.example/1Z9", "at": "2030-06-02T09:00:00.5Z" },
            { "status": "delivered", "carrier": null, "tracking_number": null,
              "tracking_url": null, "at": "2030-06-04T15:00:00Z" } ]);
        let states = vec![
            json!({ "status": "draft", "currency": "USD", "lines": [], "totals": zero,
                "customer": nobody, "shipping_address": null }),
            json!({ "status": "draft", "currency": "EUR", "lines": [line], "totals": totals,
                "customer": customer, "shipping_address": address,
                "awaiting_confirmation": true, "last_line": 0 }),
            json!({ "status": "confirmed", "currency": "USD", "lines": [line], "totals": totals,
                "customer": customer, "shipping_address": address,
                "payment": { "status": "pending", "provider": "stripe", "session": "cs_test_1",
                    "url": "https://checkout.stripe.com/c/pay/cs_test_1", "amount": 5000,
                    "expires_at": "2030-06-01T11:00:00Z", "paid": 0, "refunded": 0 } }),
            json!({ "status": "delivered", "currency": "USD", "lines": [line], "totals": totals,
                "customer": customer, "shipping_address": address,
                "fulfilments": [
                    { "status": "shipped", "carrier": "UPS", "tracking_number": "1Z9",
                      "tracking_url": "https://ups.example/1Z9", "at": "2030-06-02T09:00:00.5Z" },
                    { "status": "delivered", "carrier": null, "tracking_number": null,
                      "tracking_url": null, "at": "2030-06-04T15:00:00Z" } ],
                "payment": { "status": "partially_refunded", "provider": "stripe",
                    "session": "cs_test_2", "url": "https://checkout.stripe.com/c/pay/cs_test_2",
                    "amount": 5000, "paid": 5000, "paid_at": "2030-06-01T10:05:00Z",
                    "payment_intent": "pi_1", "refunded": 2250 } }),
            json!({ "status": "cancelled", "currency": "USD", "lines": [line], "totals": totals,
                "customer": customer, "shipping_address": address,
                "payment": { "status": "expired", "provider": "stripe", "session": "cs_test_3",
                    "url": "https://checkout.stripe.com/c/pay/cs_test_3", "amount": 5000,
                    "expires_at": "2030-06-01T11:00:00Z" } }),
            json!({ "status": "confirmed", "currency": "USD", "lines": [line], "totals": totals,
                "customer": customer, "shipping_address": address,
                "exchange_for": { "rma": "R-7K2M9Q4X", "original": "G-100041" } }),
        ];
        // What the chat carries between turns (`awaiting_confirmation`, `last_line`), the
        // payment's provider ids and a link that can no longer be used are not shown;
        // `fulfilments` only once something shipped, `exchange_for` only when set.
        let shown = vec![
            json!({ "number": "G-100042", "status": "draft", "currency": "USD", "lines": [],
                "totals": zero, "customer": nobody, "shipping_address": null,
                "payment": not_required }),
            with(
                with(shown("draft", not_required.clone()), "currency", json!("EUR")),
                "payment",
                not_required.clone(),
            ),
            shown(
                "confirmed",
                json!({ "status": "pending", "provider": "stripe",
                "url": "https://checkout.stripe.com/c/pay/cs_test_1",
                "expires_at": "2030-06-01T11:00:00Z", "amount": 5000 }),
            ),
            with(
                shown(
                    "delivered",
                    json!({ "status": "partially_refunded", "provider": "stripe",
                "amount": 5000, "paid": 5000, "paid_at": "2030-06-01T10:05:00Z",
                "refunded": 2250 }),
                ),
                "fulfilments",
                fulfilments,
            ),
            shown(
                "cancelled",
                json!({ "status": "expired", "provider": "stripe",
                "amount": 5000 }),
            ),
            with(
                shown("confirmed", not_required),
                "exchange_for",
                json!({ "rma": "R-7K2M9Q4X", "original": "G-100041" }),
            ),
        ];
        states.into_iter().zip(shown).collect()
    }

    /// The order shows as the order JSON of CONTRACTS §3, and reads back to itself.
    #[test]
    fn the_typed_order_is_the_order_json() {
        let number = OrderNumber::parse("G-100042").unwrap();
        for (state, expected) in states() {
            let order: OrderState = serde_json::from_value(state.clone()).expect("a valid state");
            let typed = Order::from(OrderView { number: &number, order: &order });
            assert_eq!(serde_json::to_value(&typed).unwrap(), expected, "{state}");
            assert_eq!(serde_json::from_value::<Order>(expected).unwrap(), typed);
        }
    }

    /// The status always; nothing else while not required; the link and its expiry only
    /// while pending; what was received and sent back only once paid.
    #[test]
    fn a_payment_shows_what_each_status_needs() {
        use gapless_domain::{
            money::Money,
            orders::{PaymentUrl, ProviderId},
        };
        let shown = |payment: &DomainPayment| serde_json::to_value(Payment::from(payment)).unwrap();
        assert_eq!(shown(&DomainPayment::default()), json!({ "status": "not_required" }));
        let pending = DomainPayment {
            status: PaymentStatus::Pending,
            provider: Some("stripe".into()),
            session: Some(ProviderId::parse("cs_1").unwrap()),
            url: Some(PaymentUrl::parse("https://pay.example/cs_1").unwrap()),
            amount: Money(5000),
            expires_at: Some(time::macros::datetime!(2030-06-01 11:00 UTC)),
            ..DomainPayment::default()
        };
        assert_eq!(
            shown(&pending),
            json!({ "status": "pending", "provider": "stripe",
                "url": "https://pay.example/cs_1", "expires_at": "2030-06-01T11:00:00Z",
                "amount": 5000 })
        );
        let paid = DomainPayment {
            status: PaymentStatus::Paid,
            paid: Money(5000),
            paid_at: Some(time::macros::datetime!(2030-06-01 10:30 UTC)),
            ..pending
        };
        let json = shown(&paid);
        assert!(json.get("url").is_none(), "a paid link is not shown: {json}");
        assert_eq!(json["paid"], 5000);
        assert_eq!(json["paid_at"], "2030-06-01T10:30:00Z");
        assert_eq!(json["refunded"], 0);
    }

    #[test]
    fn a_turn_response_reads_back_to_itself() {
        let answer = json!({
            "reply": "What is the postal code?",
            "order": null,
            "messages": [ { "type": "warning", "code": "missing",
                "param": "shipping_address.postal_code", "content": "What is the postal code?" } ]
        });
        let typed: TurnResponse = serde_json::from_value(answer.clone()).unwrap();
        assert_eq!(typed.messages[0].kind, NoteType::Warning);
        assert_eq!(serde_json::to_value(&typed).unwrap(), answer);
    }
}
