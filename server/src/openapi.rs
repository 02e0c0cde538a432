//! The OpenAPI 3.1 document of the JSON chat and returns APIs (CONTRACTS §2–4), served
//! at `GET /api/v1/openapi.json`.
//!
//! The bodies, asked and answered, are described by the types the handlers read and the
//! services build (`gapless_api`), so they cannot drift; `tests/api/openapi.rs` checks
//! the document against real answers of a running server.

use std::sync::LazyLock;

use axum::{http::header, response::IntoResponse, routing::get, Router};
use gapless_api::{
    chat::{
        Address, Conversation, ConversationMessage, Customer, ExchangeRef, Fulfilment,
        NewConversation, NewMessage, Note, NoteType, Order, OrderLine, Payment, Role, Totals,
        TurnResponse,
    },
    error::{ErrorBody, ErrorDetail},
    fulfilment::FulfilmentReport,
    returns::{
        CreatedItem, ExchangeOption, ExchangeValue, Lookup, LookupLine, NewReturn, OrderProof,
        ReasonChoice, ReturnCreated, ReturnItemView, ReturnView, TimelineEntry,
    },
};
use gapless_domain::catalog::Choice;
use gapless_domain::returns::{
    Disposition, NotReturnable, Outcome, RequestedItem, Resolution, ReturnStatus, RuleId,
};
use utoipa::OpenApi;

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
        RequestedItem,
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
