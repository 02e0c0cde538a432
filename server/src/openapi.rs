//! The OpenAPI 3.1 document of the JSON chat and returns APIs (CONTRACTS §2–4), served
//! at `GET /api/v1/openapi.json`.
//!
//! The returns answers are described by the types the service builds and the handlers
//! serialize (`gapless_api::returns`), so they cannot drift. The chat and fulfilment
//! answers are still `serde_json::Value` built in the services, so the types below
//! describe those bodies only: they are never built or serialized, their field names
//! must stay those of CONTRACTS §2–3 and §7, and `tests/api/openapi.rs` checks them
//! against real answers of a running server.

use std::sync::LazyLock;

use axum::{http::header, response::IntoResponse, routing::get, Router};
use gapless_api::returns::{
    CreatedItem, ExchangeOption, ExchangeValue, Lookup, LookupLine, ReasonChoice, ReturnCreated,
    ReturnItemView, ReturnView, TimelineEntry,
};
use gapless_domain::catalog::Choice;
use gapless_domain::returns::{
    Disposition, NotReturnable, Outcome, Resolution, ReturnStatus, RuleId,
};
use utoipa::{OpenApi, ToSchema};

use crate::{
    chat::api as chat_api, fulfilment::api as fulfilment_api, returns::api as returns_api,
    startup::AppState,
};

/// The whole document: the chat operations and the schemas of their bodies.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gapless API",
        version = env!("CARGO_PKG_VERSION"),
        description = "Shoppers order through chat. Start a conversation, send the shopper's \
                       messages one by one, read the reply, the order as it stands and \
                       machine-readable notes on each turn. The conversation id is an \
                       unguessable capability: whoever holds it may read and continue it. \
                       Customers return goods: find the order with its number and email, \
                       ask for a return and get a decision per item at once, then follow \
                       it by its RMA code. The shop's fulfilment systems report shipments \
                       and deliveries with an API key."
    ),
    paths(
        chat_api::create_conversation,
        chat_api::post_message,
        chat_api::read_conversation,
        returns_api::lookup,
        returns_api::request_return,
        returns_api::status,
        fulfilment_api::record,
    ),
    components(schemas(
        NewConversation,
        NewMessage,
        TurnResponse,
        Note,
        NoteType,
        Conversation,
        ConversationMessage,
        Role,
        Order,
        OrderLine,
        Choice,
        Totals,
        Customer,
        Address,
        ErrorBody,
        ErrorDetail,
        ExchangeRef,
        OrderProof,
        Lookup,
        LookupLine,
        ExchangeOption,
        ExchangeValue,
        ReasonChoice,
        NewReturn,
        NewReturnItem,
        ReturnCreated,
        CreatedItem,
        ReturnView,
        ReturnItemView,
        TimelineEntry,
        ReturnStatus,
        Resolution,
        Outcome,
        RuleId,
        Disposition,
        NotReturnable,
        FulfilmentReport,
        Fulfilment,
        Payment,
    )),
    modifiers(&ApiKeyScheme),
    tags(
        (name = "chat", description = "Ordering through chat (CONTRACTS §2–3)"),
        (name = "returns", description = "Returns, exchanges and refunds (CONTRACTS §4)"),
        (name = "fulfilment", description = "Shipments and deliveries from the shop's systems (CONTRACTS §7)")
    )
)]
pub struct ApiDoc;

/// `api_key`: `Authorization: Bearer gk_…`, a key from `gapless api-key add NAME`.
struct ApiKeyScheme;

impl utoipa::Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("gk_ and 64 hex digits")
                    .description(Some("An API key for a system: `gapless api-key add NAME`"))
                    .build(),
            ),
        );
    }
}

/// The document, serialized once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serializes to JSON")
});

/// `GET /api/v1/openapi.json`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(openapi_json))
}

async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT.as_str())
}

/// A new conversation (`201` of `POST /api/v1/conversations`).
#[derive(ToSchema)]
#[schema(examples(json!({ "id": "6f1c0a9e3b2d4e8f9a7b5c3d1e0f2a4b" })))]
pub struct NewConversation {
    /// Opaque and unguessable: whoever holds it may read and continue the conversation.
    pub id: String,
}

/// One shopper message.
#[derive(ToSchema)]
#[schema(examples(json!({ "text": "two large pizzas with ham and extra cheese, no onions" })))]
pub struct NewMessage {
    /// What the shopper wrote: 1 to 2000 characters, not only whitespace, no control
    /// characters other than newline, carriage return and tab.
    #[schema(min_length = 1, max_length = 2000)]
    pub text: String,
}

/// The answer to one shopper message.
#[derive(ToSchema)]
#[schema(examples(json!({
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
        "shipping_address": null
    },
    "messages": []
})))]
pub struct TurnResponse {
    /// What the assistant answers, for the shopper to read.
    pub reply: String,
    /// The conversation's order after this turn; `null` while there is none.
    #[schema(required = true)]
    pub order: Option<Order>,
    /// Machine-readable notes on this turn (what was not understood, is missing, …).
    pub messages: Vec<Note>,
}

/// A machine-readable note on one turn.
#[derive(ToSchema)]
#[schema(examples(json!({
    "type": "warning",
    "code": "missing",
    "param": "shipping_address.postal_code",
    "content": "What is the postal code?"
})))]
pub struct Note {
    /// How serious it is.
    #[serde(rename = "type")]
    pub kind: NoteType,
    /// What happened. Codes include `out_of_stock`, `ambiguous_product`,
    /// `unknown_product`, `missing`, `invalid`, `quantity_exceeded`, `not_in_order`,
    /// `empty_order`, `order_closed`, `confirmation_needed`, `truncated` and
    /// `not_understood`; more may follow.
    #[schema(examples("out_of_stock", "missing"))]
    pub code: String,
    /// What the note is about: a field (`email`, `shipping_address.postal_code`,
    /// `quantity`), a SKU or stock key (`TEE/color/black`) or the shopper's word;
    /// `null` when it is about the message as a whole.
    #[schema(required = true)]
    pub param: Option<String>,
    /// The note in words, as the reply puts it.
    pub content: String,
}

/// The severity of a `Note`.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum NoteType {
    Info,
    Warning,
    Error,
}

/// A conversation as it stands: its messages so far and its current order.
#[derive(ToSchema)]
#[schema(examples(json!({
    "id": "6f1c0a9e3b2d4e8f9a7b5c3d1e0f2a4b",
    "started_at": "2025-05-01T12:00:00Z",
    "outcome": null,
    "messages": [
        { "id": "0d4e2b7a9c1f4a3e8b6d5c2f1a0e9b8d", "role": "shopper",
          "text": "two diet cokes", "at": "2025-05-01T12:00:05Z" },
        { "id": "0d4e2b7a9c1f4a3e8b6d5c2f1a0e9b8d", "role": "assistant",
          "text": "Added 2 × diet coke. Anything else?", "at": "2025-05-01T12:00:05Z" }
    ],
    "order": null
})))]
pub struct Conversation {
    /// The conversation id.
    pub id: String,
    /// When it started (RFC 3339).
    #[schema(format = DateTime)]
    pub started_at: String,
    /// How it ended: `ordered` once an order is confirmed, `handed_off` when the shopper
    /// asked for a person; `null` while neither happened.
    #[schema(required = true, examples("ordered", "handed_off"))]
    pub outcome: Option<String>,
    /// Every message in time order: each shopper message followed by the assistant's
    /// reply, and what staff wrote after a handoff.
    pub messages: Vec<ConversationMessage>,
    /// The current order; `null` while there is none.
    #[schema(required = true)]
    pub order: Option<Order>,
}

/// One message of a conversation.
#[derive(ToSchema)]
pub struct ConversationMessage {
    /// The turn's id: a shopper message and the reply to it share it.
    pub id: String,
    /// Who wrote it.
    pub role: Role,
    /// What was written.
    pub text: String,
    /// When the shopper's message was received (RFC 3339).
    #[schema(format = DateTime)]
    pub at: String,
}

/// Who wrote a `ConversationMessage`.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Shopper,
    Assistant,
    /// A member of the shop's staff, after the shopper asked for a person.
    Staff,
}

/// An order (CONTRACTS §3). Amounts are integers in minor units of `currency`
/// (cents for USD).
#[derive(ToSchema)]
#[schema(examples(json!({
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
                          "postal_code": "62701", "region": null, "country": "US" }
})))]
pub struct Order {
    /// The order number shoppers and staff quote.
    #[schema(examples("G-100042"))]
    pub number: String,
    /// `draft`, `confirmed`, `cancelled`, `shipped` or `delivered`; more may follow.
    #[schema(examples("draft", "confirmed", "cancelled", "shipped", "delivered"))]
    pub status: String,
    /// ISO 4217 code of every amount in the order.
    #[schema(examples("USD"))]
    pub currency: String,
    /// The lines, in the order they were added.
    pub lines: Vec<OrderLine>,
    /// The sum of the lines while a draft; frozen when the order is confirmed.
    pub totals: Totals,
    /// Who ordered; each field `null` until the shopper gives it.
    pub customer: Customer,
    /// Where to ship; `null` until the shopper gives any of it.
    #[schema(required = true)]
    pub shipping_address: Option<Address>,
    /// Only on an order that ships an exchange's replacement: the return and the
    /// original order it settles (nothing is owed for it).
    pub exchange_for: Option<ExchangeRef>,
    /// Only once the order shipped: what the fulfilment systems reported, oldest first.
    pub fulfilments: Option<Vec<Fulfilment>>,
    /// How the order is paid (CONTRACTS §8); `not_required` without a payment provider.
    pub payment: Payment,
}

/// An order's payment (CONTRACTS §8).
#[derive(ToSchema)]
#[schema(examples(json!({ "status": "pending", "provider": "stripe",
    "url": "https://checkout.stripe.com/c/pay/cs_test_a1B2", "expires_at": "2030-06-01T11:00:00Z",
    "amount": 5000 })))]
pub struct Payment {
    /// `not_required`, `pending`, `paid`, `expired`, `refunded` or `partially_refunded`.
    #[schema(examples(
        "not_required",
        "pending",
        "paid",
        "expired",
        "refunded",
        "partially_refunded"
    ))]
    pub status: String,
    /// `stripe`; absent when not required.
    pub provider: Option<String>,
    /// Only while `pending`: where the customer pays.
    pub url: Option<String>,
    /// Only while `pending`: when the link runs out (RFC 3339, UTC); the order is then
    /// cancelled and its stock given back.
    pub expires_at: Option<String>,
    /// Minor units asked for; absent when not required.
    pub amount: Option<i64>,
    /// Minor units received, once paid.
    pub paid: Option<i64>,
    /// When it was paid (RFC 3339, UTC).
    pub paid_at: Option<String>,
    /// Minor units sent back so far, once paid.
    pub refunded: Option<i64>,
}

/// A shipment or delivery as a fulfilment system reported it.
#[derive(ToSchema)]
#[schema(examples(json!({ "status": "shipped", "carrier": "UPS", "tracking_number": "1Z999AA10123456784",
    "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456784", "at": "2030-06-02T09:00:00Z" })))]
pub struct Fulfilment {
    /// `shipped` or `delivered`.
    #[schema(examples("shipped", "delivered"))]
    pub status: String,
    #[schema(required = true)]
    pub carrier: Option<String>,
    #[schema(required = true)]
    pub tracking_number: Option<String>,
    #[schema(required = true)]
    pub tracking_url: Option<String>,
    /// RFC 3339, UTC.
    pub at: String,
}

/// A report of `POST /api/v1/orders/{number}/fulfilments` (CONTRACTS §7).
#[derive(ToSchema)]
#[schema(examples(json!({ "status": "shipped", "carrier": "UPS", "tracking_number": "1Z999AA10123456784",
    "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456784" })))]
pub struct FulfilmentReport {
    /// `shipped` or `delivered`.
    #[schema(examples("shipped", "delivered"))]
    pub status: String,
    /// The carrier's name, at most 100 characters.
    #[schema(max_length = 100)]
    pub carrier: Option<String>,
    /// At most 100 characters.
    #[schema(max_length = 100)]
    pub tracking_number: Option<String>,
    /// An `http://` or `https://` address the customer can open.
    #[schema(max_length = 2000)]
    pub tracking_url: Option<String>,
    /// When it happened (RFC 3339; not in the future); when the report arrives if left out.
    pub at: Option<String>,
}

/// The return an exchange's replacement order settles.
#[derive(ToSchema)]
pub struct ExchangeRef {
    #[schema(examples("R-7K2M9Q4X"))]
    pub rma: String,
    #[schema(examples("G-100042"))]
    pub original: String,
}

/// One line of an `Order`.
#[derive(ToSchema)]
#[schema(examples(json!({
    "sku": "TEE", "name": "tee", "quantity": 2,
    "choices": [ { "group": "size", "value": "m" }, { "group": "color", "value": "black" } ],
    "unit_price": 2500, "total": 5000
})))]
pub struct OrderLine {
    /// The catalog product.
    #[schema(examples("PIZZA"))]
    pub sku: String,
    /// The product's name in the catalog.
    #[schema(examples("pizza"))]
    pub name: String,
    /// How many.
    #[schema(minimum = 1)]
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
#[derive(ToSchema)]
#[schema(examples(json!({ "subtotal": 3000, "shipping": 0, "total": 3000 })))]
pub struct Totals {
    /// The sum of the line totals.
    pub subtotal: i64,
    /// Always 0 for now.
    pub shipping: i64,
    /// `subtotal + shipping`.
    pub total: i64,
}

/// The shopper of an `Order`; each field is `null` until given.
#[derive(ToSchema)]
#[schema(examples(json!({ "name": "Ana Ruiz", "email": "ana@example.com", "phone": null })))]
pub struct Customer {
    #[schema(required = true)]
    pub name: Option<String>,
    #[schema(required = true, format = "email")]
    pub email: Option<String>,
    #[schema(required = true)]
    pub phone: Option<String>,
}

/// A shipping address. Text fields are trimmed with inner whitespace collapsed; a field
/// not given is `null`.
#[derive(ToSchema)]
#[schema(examples(json!({
    "line1": "12 Main St", "line2": null, "city": "Springfield",
    "postal_code": "62701", "region": null, "country": "US"
})))]
pub struct Address {
    #[schema(required = true)]
    pub line1: Option<String>,
    #[schema(required = true)]
    pub line2: Option<String>,
    #[schema(required = true)]
    pub city: Option<String>,
    #[schema(required = true)]
    pub postal_code: Option<String>,
    #[schema(required = true)]
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2 code.
    #[schema(required = true, examples("US"))]
    pub country: Option<String>,
}

/// The body of every `4xx` and `5xx` answer of the API. Nothing was changed.
#[derive(ToSchema)]
#[schema(examples(json!({ "error": { "code": "not_found", "message": "no such conversation" } })))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(ToSchema)]
pub struct ErrorDetail {
    /// For programs: `not_found`, `malformed`, `unsupported_media_type`, `empty`,
    /// `too_long`, `invalid_text`, `invalid`, `invalid_idempotency_key`,
    /// `rate_limited`, `no_catalog`, `busy` or `internal`.
    #[schema(examples("not_found"))]
    pub code: String,
    /// For people: what to change or when to try again.
    #[schema(examples("no such conversation"))]
    pub message: String,
}

// Returns (CONTRACTS §4).

/// What proves an order: both, or nothing is said.
#[derive(ToSchema)]
#[schema(examples(json!({ "order_number": "G-100042", "email": "ana@example.com" })))]
pub struct OrderProof {
    pub order_number: String,
    /// Compared without regard to case.
    pub email: String,
}

/// A return request.
#[derive(ToSchema)]
#[schema(examples(json!({
    "order_number": "G-100042", "email": "ana@example.com", "resolution": "exchange",
    "items": [ { "line": 0, "quantity": 1, "reason": "too_small", "exchange": { "size": "l" } } ]
})))]
pub struct NewReturn {
    pub order_number: String,
    pub email: String,
    #[schema(min_items = 1)]
    pub items: Vec<NewReturnItem>,
    /// `refund`, `exchange` or `store_credit`.
    #[schema(examples("refund", "exchange", "store_credit"))]
    pub resolution: String,
}

#[derive(ToSchema)]
pub struct NewReturnItem {
    /// The index of the order line.
    pub line: u32,
    #[schema(minimum = 1, maximum = 10000)]
    pub quantity: i64,
    /// One of the lookup's `reasons` codes.
    pub reason: String,
    /// At most 1000 characters.
    #[schema(max_length = 1000)]
    pub comment: Option<String>,
    /// For an exchange, required: the values wanted instead, by group.
    #[schema(value_type = Option<Object>, examples(json!({ "size": "l" })))]
    pub exchange: Option<std::collections::BTreeMap<String, String>>,
}
