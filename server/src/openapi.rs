//! The OpenAPI 3.1 document of the JSON chat and returns APIs (CONTRACTS §2–4), served
//! at `GET /api/v1/openapi.json`.
//!
//! The answers are described by the types the services build and the handlers serialize
//! (`gapless_api::chat`, `gapless_api::returns`), so they cannot drift. The types below
//! describe request bodies and the error body only; `tests/api/openapi.rs` checks the
//! document against real answers of a running server.

use std::sync::LazyLock;

use axum::{http::header, response::IntoResponse, routing::get, Router};
use gapless_api::{
    chat::{
        Address, Conversation, ConversationMessage, Customer, ExchangeRef, Fulfilment,
        NewConversation, NewMessage, Note, NoteType, Order, OrderLine, Payment, Role, Totals,
        TurnResponse,
    },
    returns::{
        CreatedItem, ExchangeOption, ExchangeValue, Lookup, LookupLine, ReasonChoice,
        ReturnCreated, ReturnItemView, ReturnView, TimelineEntry,
    },
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
