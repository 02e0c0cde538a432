//! The shop as an ACP (Agentic Commerce Protocol) seller: checkout sessions at
//! `/acp/checkout_sessions` (CONTRACTS §9), in the shapes of the Agentic Checkout spec
//! for `API-Version: 2025-09-29` (`items: [ { id, quantity } ]`, `fulfillment_address`,
//! `fulfillment_option_id`, flat errors `{ type, code, message, param }`).
//!
//! A checkout session is a conversation with channel `acp`, kept in
//! `acp_checkout_sessions` so that it outlives the server. Every call that changes it is
//! one turn of that conversation through [`AgentShop`]: the chat's validator decides
//! prices, totals, stock and customer data, and staff read the call in the timeline like
//! an MCP one. An item `id` is a catalog SKU; options take the catalog's defaults.
//!
//! - Authentication: `Authorization: Bearer gk_…`, the API keys of `gapless api-key
//!   add` (CONTRACTS §7). A session belongs to the key that created it: any other key
//!   gets `404`, as for an unknown id. Request signing (`Signature`, `Timestamp`) is a
//!   SHOULD of the spec with algorithms agreed out of band; it is not checked.
//! - `Idempotency-Key` (optional, as in 2025-09-29): claimed before the work starts and
//!   answered from the store afterwards, per API key. The same key with the same method,
//!   path and body gets the first answer (`Idempotent-Replayed: true`) and appends
//!   nothing; with anything else it is `409 idempotency_conflict`; while the first is
//!   still running, `409 idempotency_in_flight`.
//! - Payment, with `GAPLESS_PAYMENTS=stripe`: `complete` with `payment_data` (`token`, a
//!   Stripe shared payment token `spt_…` the agent platform was granted for the buyer;
//!   `provider` `stripe`) charges the token for the order's total, decided here, in the
//!   turn that places the order: a PaymentIntent with `confirm=true` and
//!   `payment_method_data[shared_payment_granted_token]`, recorded as `paid` in the same
//!   write as `confirmed` (`order.payment.status` `paid`). A declined token is `402
//!   payment_declined` and Stripe out of reach `503 payment_unavailable`: either way the
//!   order is not placed and holds no stock. Without `payment_data` the order is placed
//!   as the chat places it: a Stripe Checkout link, `order.payment.status` `pending`,
//!   the link in `order.payment.url` and in an info message. Without payments the order
//!   is confirmed unpaid and no token is used.

use std::{sync::Arc, time::Duration};

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use gapless_domain::{
    chat::{
        command::Command,
        turn::{NoteKind, TurnCode, TurnNote},
        AgentChannel,
    },
    orders::{OrderNumber, OrderState, OrderStatus, PaymentStatus},
    sku::Sku,
};
use gapless_store::{AcpClaim, AcpRequestClaim, AcpSessionRow, ApiKeyRow, NewAcpSession, Store};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::{
    commands::{self, OrderCommand},
    shop::{AgentError, AgentSession, AgentShop},
};
use crate::{
    chat::limits::{self, Rate},
    fulfilment::keys,
    payments::{stripe::StripeError, token::TokenCharge, Payments},
};

/// The one version of the spec implemented here.
pub const API_VERSION: &str = "2025-09-29";
/// The conversation's channel, and the extractor its turns show in the staff timeline.
pub const CHANNEL: AgentChannel = AgentChannel::Acp;
/// The one way an order leaves the shop, as the spec's fulfillment option.
const SHIPPING_OPTION: &str = "standard";
/// Items one call may name: each becomes at most one command of the turn.
const MAX_ITEMS: usize = 12;

/// What the handlers share.
pub struct Acp {
    shop: Arc<AgentShop>,
    store: Arc<dyn Store>,
    /// `GAPLESS_PAYMENTS=stripe`: completion charges the agent's token, or asks Stripe
    /// for a payment link without one.
    payments: Option<Arc<Payments>>,
    /// A claim on an Idempotency-Key older than this was abandoned by a server that
    /// stopped mid-request (no request runs longer than the request timeout).
    abandoned_after: Duration,
}

impl Acp {
    pub fn new(
        shop: Arc<AgentShop>,
        store: Arc<dyn Store>,
        payments: Option<Arc<Payments>>,
        request_timeout: Duration,
    ) -> Acp {
        Acp { shop, store, payments, abandoned_after: request_timeout * 2 }
    }
}

/// `/acp/checkout_sessions…`, limited per client IP like the chat API; calls on one
/// session are limited like messages of one conversation.
pub fn routes<S: Clone + Send + Sync + 'static>(acp: Arc<Acp>, per_ip: Rate) -> Router<S> {
    Router::new()
        .route("/acp/checkout_sessions", post(create))
        .route("/acp/checkout_sessions/{id}", post(update).get(read))
        .route("/acp/checkout_sessions/{id}/complete", post(complete))
        .route("/acp/checkout_sessions/{id}/cancel", post(cancel))
        .with_state(acp)
        .layer(limits::per_ip(per_ip))
}

// ---------------------------------------------------------------------------------------
// Requests: the spec's shapes, closed to any other field (a price, a total).

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// A catalog SKU.
    pub id: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Buyer {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(default)]
    pub phone_number: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub name: String,
    pub line_one: String,
    #[serde(default)]
    pub line_two: Option<String>,
    pub city: String,
    pub state: String,
    pub country: String,
    pub postal_code: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    pub items: Vec<Item>,
    #[serde(default)]
    pub buyer: Option<Buyer>,
    #[serde(default)]
    pub fulfillment_address: Option<Address>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    /// The whole cart: lines not named are removed.
    #[serde(default)]
    pub items: Option<Vec<Item>>,
    #[serde(default)]
    pub buyer: Option<Buyer>,
    #[serde(default)]
    pub fulfillment_address: Option<Address>,
    #[serde(default)]
    pub fulfillment_option_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    #[serde(default)]
    pub buyer: Option<Buyer>,
    /// Required by the spec; without it (an agent that cannot delegate payment) the
    /// order is placed with a payment link.
    #[serde(default)]
    pub payment_data: Option<PaymentData>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentData {
    pub token: String,
    pub provider: String,
    #[serde(default)]
    pub billing_address: Option<Address>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// Why the agent gave up (`reason_code`, …): kept in the timeline, never acted on.
    #[serde(default)]
    pub intent_trace: Option<Value>,
}

// ---------------------------------------------------------------------------------------
// Errors: the spec's flat shape.

/// An answer that is not a checkout session: `{ "type", "code", "message", "param"? }`.
#[derive(Debug)]
pub struct AcpError {
    status: StatusCode,
    kind: &'static str,
    code: String,
    message: String,
    param: Option<String>,
    retry_after: Option<u64>,
}

impl AcpError {
    fn new(status: StatusCode, kind: &'static str, code: &str, message: impl Into<String>) -> Self {
        AcpError {
            status,
            kind,
            code: code.to_owned(),
            message: message.into(),
            param: None,
            retry_after: None,
        }
    }

    fn invalid(code: &str, message: impl Into<String>) -> Self {
        AcpError::new(StatusCode::BAD_REQUEST, "invalid_request", code, message)
    }

    fn at(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    fn not_found() -> Self {
        AcpError::new(
            StatusCode::NOT_FOUND,
            "invalid_request",
            "not_found",
            "no such checkout session",
        )
    }

    fn not_allowed(status: &str) -> Self {
        AcpError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            "invalid_state",
            format!("the checkout session is {status} and takes no more changes"),
        )
    }

    fn internal(cause: anyhow::Error) -> Self {
        tracing::error!(error = format!("{cause:#}"), "ACP call failed");
        AcpError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "processing_error",
            "internal",
            "something went wrong on our side",
        )
    }

    fn body(&self) -> Value {
        let mut body = json!({ "type": self.kind, "code": self.code, "message": self.message });
        if let Some(param) = &self.param {
            body["param"] = json!(param);
        }
        if self.code == "unsupported_api_version" || self.code == "missing_api_version" {
            body["supported_versions"] = json!([API_VERSION]);
        }
        body
    }
}

impl From<AgentError> for AcpError {
    fn from(error: AgentError) -> Self {
        match error {
            AgentError::Internal(cause) => AcpError::internal(cause),
            AgentError::Refused(body) => {
                let code = body["error"]["code"].as_str().unwrap_or("invalid").to_owned();
                let message = body["error"]["message"].as_str().unwrap_or_default().to_owned();
                match code.as_str() {
                    "rate_limited" => AcpError::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "invalid_request",
                        "rate_limited",
                        message,
                    ),
                    "not_found" => AcpError::not_found(),
                    "busy" => AcpError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "service_unavailable",
                        "busy",
                        message,
                    ),
                    _ => AcpError::invalid(&code, message),
                }
            }
        }
    }
}

impl From<gapless_store::StoreError> for AcpError {
    fn from(error: gapless_store::StoreError) -> Self {
        AcpError::internal(anyhow::Error::new(error))
    }
}

// ---------------------------------------------------------------------------------------
// Handlers.

/// What kind of POST, on which session.
enum Call {
    Create,
    Update(String),
    Complete(String),
    Cancel(String),
}

impl Call {
    fn path(&self) -> String {
        match self {
            Call::Create => "/acp/checkout_sessions".to_owned(),
            Call::Update(id) => format!("/acp/checkout_sessions/{id}"),
            Call::Complete(id) => format!("/acp/checkout_sessions/{id}/complete"),
            Call::Cancel(id) => format!("/acp/checkout_sessions/{id}/cancel"),
        }
    }
}

async fn create(State(acp): State<Arc<Acp>>, headers: HeaderMap, body: Bytes) -> Response {
    acp.post(&headers, Call::Create, &body).await
}

async fn update(
    State(acp): State<Arc<Acp>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    acp.post(&headers, Call::Update(id), &body).await
}

async fn complete(
    State(acp): State<Arc<Acp>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    acp.post(&headers, Call::Complete(id), &body).await
}

async fn cancel(
    State(acp): State<Arc<Acp>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    acp.post(&headers, Call::Cancel(id), &body).await
}

async fn read(State(acp): State<Arc<Acp>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let answer = async {
        let key = acp.authenticate(&headers).await?;
        check_version(&headers)?;
        let row = acp.session_row(&key, &id).await?;
        let session = AgentSession::resume(CHANNEL, row.conversation_id.clone());
        acp.shop.check_rate(&session)?;
        acp.view(&headers, &row, &session, &[], &[]).await
    }
    .await;
    respond(&headers, answer.map(|view| (StatusCode::OK, view)), false)
}

impl Acp {
    /// Every POST: the key, the version, then the Idempotency-Key's claim, the work, and
    /// the answer kept for replays.
    async fn post(&self, headers: &HeaderMap, call: Call, body: &[u8]) -> Response {
        let key = match self.authenticate(headers).await {
            Ok(key) => key,
            Err(error) => return respond(headers, Err(error), false),
        };
        if let Err(error) = check_version(headers) {
            return respond(headers, Err(error), false);
        }
        let idempotency_key = match idempotency_key(headers) {
            Ok(found) => found,
            Err(error) => return respond(headers, Err(error), false),
        };
        if let Some(idempotency_key) = &idempotency_key {
            let now_ms = unix_ms(OffsetDateTime::now_utc());
            let claim = AcpRequestClaim {
                api_key_id: key.id.clone(),
                idempotency_key: idempotency_key.clone(),
                request_hash: request_hash(&call.path(), body),
                claimed_ms: now_ms,
                abandoned_before_ms: now_ms - self.abandoned_after.as_millis() as i64,
            };
            match self.store.claim_acp_request(&claim).await {
                Ok(AcpClaim::Claimed) => {}
                Ok(AcpClaim::Taken(stored)) => {
                    let answer = if stored.request_hash != claim.request_hash {
                        Err(AcpError::new(
                            StatusCode::CONFLICT,
                            "invalid_request",
                            "idempotency_conflict",
                            "this Idempotency-Key was used with another request",
                        ))
                    } else if let Some((status, body)) = stored.answer {
                        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                        return replayed(headers, status, body);
                    } else {
                        let mut busy = AcpError::new(
                            StatusCode::CONFLICT,
                            "invalid_request",
                            "idempotency_in_flight",
                            "a request with this Idempotency-Key is being processed",
                        );
                        busy.retry_after = Some(1);
                        Err(busy)
                    };
                    return respond(headers, answer, false);
                }
                Err(error) => return respond(headers, Err(error.into()), false),
            }
        }
        let answer = self.perform(headers, &key, &call, body).await;
        if let Some(idempotency_key) = &idempotency_key {
            let kept = match &answer {
                // Ours: the same request may be sent again and do the work then.
                Err(error) if error.status.is_server_error() => {
                    self.store.release_acp_request(&key.id, idempotency_key).await
                }
                Ok((status, body)) => {
                    self.store
                        .finish_acp_request(&key.id, idempotency_key, status.as_u16(), body)
                        .await
                }
                Err(error) => {
                    self.store
                        .finish_acp_request(
                            &key.id,
                            idempotency_key,
                            error.status.as_u16(),
                            &error.body(),
                        )
                        .await
                }
            };
            if let Err(error) = kept {
                tracing::error!(%error, "the answer to an ACP Idempotency-Key was not kept");
            }
        }
        respond(headers, answer, false)
    }

    async fn perform(
        &self,
        headers: &HeaderMap,
        key: &ApiKeyRow,
        call: &Call,
        body: &[u8],
    ) -> Result<(StatusCode, Value), AcpError> {
        match call {
            Call::Create => {
                let request: CreateRequest = parse(body)?;
                self.create(headers, key, &request).await.map(|view| (StatusCode::CREATED, view))
            }
            Call::Update(id) => {
                let request: UpdateRequest = parse(body)?;
                self.update(headers, key, id, &request).await.map(|view| (StatusCode::OK, view))
            }
            Call::Complete(id) => {
                let request: CompleteRequest = parse(body)?;
                self.complete(headers, key, id, &request).await.map(|view| (StatusCode::OK, view))
            }
            Call::Cancel(id) => {
                let request: CancelRequest = if body.iter().all(u8::is_ascii_whitespace) {
                    CancelRequest { intent_trace: None }
                } else {
                    parse(body)?
                };
                self.cancel(headers, key, id, &request).await.map(|view| (StatusCode::OK, view))
            }
        }
    }

    async fn create(
        &self,
        headers: &HeaderMap,
        key: &ApiKeyRow,
        request: &CreateRequest,
    ) -> Result<Value, AcpError> {
        if request.items.is_empty() {
            return Err(
                AcpError::invalid("invalid", "items must name at least one item").at("$.items")
            );
        }
        let snapshot = self.shop.catalog().await?;
        let items = check_items(&snapshot.catalog, &request.items)?;
        let mut edits = item_edits(None, &items);
        edits.extend(details(request.buyer.as_ref(), request.fulfillment_address.as_ref()));
        check_size(&edits)?;
        let session = self.shop.open(CHANNEL).await?;
        let conversation = session.conversation().expect("an opened session").to_owned();
        let row = AcpSessionRow {
            id: format!("cs_{}", gapless_store::new_id()),
            api_key_id: key.id.clone(),
            conversation_id: conversation.clone(),
            created_at: OffsetDateTime::now_utc(),
            canceled_at: None,
        };
        self.store
            .create_acp_session(&NewAcpSession {
                id: row.id.clone(),
                api_key_id: row.api_key_id.clone(),
                conversation_id: conversation,
                created_at: row.created_at,
            })
            .await?;
        let turn = self
            .shop
            .act(&session, "create_checkout_session", &json!(request), &edits, &[])
            .await?;
        self.view(headers, &row, &session, &notes_of(&turn), &items).await
    }

    async fn update(
        &self,
        headers: &HeaderMap,
        key: &ApiKeyRow,
        id: &str,
        request: &UpdateRequest,
    ) -> Result<Value, AcpError> {
        let (row, session, order) = self.open_session(key, id).await?;
        if order.as_ref().is_some_and(|(_, state)| state.status != OrderStatus::Draft) {
            return Err(AcpError::not_allowed("completed"));
        }
        if let Some(option) = &request.fulfillment_option_id {
            if option != SHIPPING_OPTION {
                return Err(AcpError::invalid(
                    "invalid",
                    format!("the only fulfillment option is {SHIPPING_OPTION:?}"),
                )
                .at("$.fulfillment_option_id"));
            }
        }
        let snapshot = self.shop.catalog().await?;
        let items = match &request.items {
            Some(items) => check_items(&snapshot.catalog, items)?,
            None => Vec::new(),
        };
        let mut edits = match &request.items {
            Some(_) => item_edits(order.as_ref().map(|(_, state)| state), &items),
            None => Vec::new(),
        };
        edits.extend(details(request.buyer.as_ref(), request.fulfillment_address.as_ref()));
        check_size(&edits)?;
        self.shop.check_rate(&session)?;
        let notes = if edits.is_empty() {
            Vec::new()
        } else {
            let turn = self
                .shop
                .act(&session, "update_checkout_session", &json!(request), &edits, &[])
                .await?;
            notes_of(&turn)
        };
        self.view(headers, &row, &session, &notes, &items).await
    }

    async fn complete(
        &self,
        headers: &HeaderMap,
        key: &ApiKeyRow,
        id: &str,
        request: &CompleteRequest,
    ) -> Result<Value, AcpError> {
        let (row, session, order) = self.open_session(key, id).await?;
        if let Some(data) = &request.payment_data {
            if data.provider != "stripe" {
                return Err(AcpError::invalid(
                    "invalid",
                    "the only payment provider is \"stripe\"",
                )
                .at("$.payment_data.provider"));
            }
            if data.token.trim().is_empty() {
                return Err(AcpError::invalid("invalid", "the payment token is empty")
                    .at("$.payment_data.token"));
            }
        }
        if order.as_ref().is_some_and(|(_, state)| state.status != OrderStatus::Draft) {
            // Completed before: the same state again.
            return self.view(headers, &row, &session, &[], &[]).await;
        }
        let edits = details(request.buyer.as_ref(), None);
        self.shop.check_rate(&session)?;
        // The agent platform showed the buyer the session before they chose to pay: that
        // is the chat's summary. The chat's confirmation takes two turns (the summary,
        // then the order), so a complete that gets the summary takes the second at once.
        let mut arguments = json!(request);
        if request.payment_data.is_some() {
            arguments["payment_data"]["token"] = json!("(not stored)");
        }
        // The token is charged only where payments are on, in the turn that confirms.
        let charge = match (&self.payments, &request.payment_data) {
            (Some(_), Some(data)) => Some(TokenCharge::new(&data.token)),
            _ => None,
        };
        let placed = self.place(&session, &arguments, &edits, charge.as_ref()).await;
        if let (Some(payments), Some(charge)) = (&self.payments, &charge) {
            // Whatever happened: a charge no stored order records goes back.
            charge.settle(payments).await;
        }
        let notes = placed?;
        if notes.iter().any(|note| note.code == TurnCode::PaymentUnavailable) {
            return Err(match charge.as_ref().and_then(TokenCharge::refusal) {
                Some(refusal) if declined(&refusal) => {
                    let message = match &refusal {
                        StripeError::Refused { kind: Some(kind), message, .. }
                            if kind == "card_error" =>
                        {
                            format!("the payment was declined: {message} The order was not placed.")
                        }
                        _ => "the payment token was not accepted; the order was not placed"
                            .to_owned(),
                    };
                    AcpError::new(
                        StatusCode::PAYMENT_REQUIRED,
                        "invalid_request",
                        "payment_declined",
                        message,
                    )
                    .at("$.payment_data.token")
                }
                _ => AcpError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "service_unavailable",
                    "payment_unavailable",
                    "the payment provider could not be reached: the order was not placed; try \
                     again",
                ),
            });
        }
        self.view(headers, &row, &session, &notes, &[]).await
    }

    /// The chat's confirmation in its two turns (the summary, then the order), paid with
    /// `charge` when there is one: the notes of the last turn.
    async fn place(
        &self,
        session: &AgentSession,
        arguments: &Value,
        edits: &[OrderCommand],
        charge: Option<&TokenCharge>,
    ) -> Result<Vec<TurnNote>, AcpError> {
        let tool = "complete_checkout_session";
        let confirm = [Command::Confirm];
        let mut turn =
            self.shop.act_paying(session, tool, arguments, edits, &confirm, charge).await?;
        if notes_of(&turn).iter().any(|note| note.code == TurnCode::ConfirmationNeeded) {
            turn = self.shop.act_paying(session, tool, &json!({}), &[], &confirm, charge).await?;
        }
        Ok(notes_of(&turn))
    }

    async fn cancel(
        &self,
        headers: &HeaderMap,
        key: &ApiKeyRow,
        id: &str,
        request: &CancelRequest,
    ) -> Result<Value, AcpError> {
        let (row, session, order) = self.open_session(key, id).await?;
        if order.as_ref().is_some_and(|(_, state)| state.status != OrderStatus::Draft) {
            return Err(AcpError::not_allowed("completed"));
        }
        self.shop.check_rate(&session)?;
        let turn = self
            .shop
            .act(&session, "cancel_checkout_session", &json!(request), &[], &[Command::Cancel])
            .await?;
        let at = OffsetDateTime::now_utc();
        if !self.store.cancel_acp_session(&row.id, at).await? {
            return Err(AcpError::not_allowed("canceled"));
        }
        let row = AcpSessionRow { canceled_at: Some(at), ..row };
        self.view(headers, &row, &session, &notes_of(&turn), &[]).await
    }

    async fn authenticate(&self, headers: &HeaderMap) -> Result<ApiKeyRow, AcpError> {
        let authorization =
            headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
        match keys::authenticate(self.store.as_ref(), authorization).await {
            Ok(Some(key)) => Ok(key),
            Ok(None) => Err(AcpError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                "unauthorized",
                keys::NO_KEY,
            )),
            Err(error) => Err(AcpError::from(AgentError::from(error))),
        }
    }

    /// The session of this key; any other key's is as unknown as a made-up id.
    async fn session_row(&self, key: &ApiKeyRow, id: &str) -> Result<AcpSessionRow, AcpError> {
        let row = self.store.acp_session(id).await?.ok_or_else(AcpError::not_found)?;
        if row.api_key_id != key.id {
            return Err(AcpError::not_found());
        }
        Ok(row)
    }

    /// A session that still takes changes, with its order.
    async fn open_session(
        &self,
        key: &ApiKeyRow,
        id: &str,
    ) -> Result<(AcpSessionRow, AgentSession, Option<(OrderNumber, OrderState)>), AcpError> {
        let row = self.session_row(key, id).await?;
        if row.canceled_at.is_some() {
            return Err(AcpError::not_allowed("canceled"));
        }
        let session = AgentSession::resume(CHANNEL, row.conversation_id.clone());
        let order = self.shop.order_state(&session).await?;
        Ok((row, session, order))
    }

    /// The session as the spec shows it, from the order as its events leave it.
    /// `turn_notes` are the messages of the call just made; what stands in the way of
    /// completing is added from a dry run of the confirmation.
    async fn view(
        &self,
        headers: &HeaderMap,
        row: &AcpSessionRow,
        session: &AgentSession,
        turn_notes: &[TurnNote],
        items: &[(Sku, u32)],
    ) -> Result<Value, AcpError> {
        let snapshot = self.shop.catalog().await?;
        let order = self.shop.order_state(session).await?;
        let state = order.as_ref().map(|(_, state)| state);
        let placed = state.is_some_and(|s| s.status != OrderStatus::Draft);
        let preview = if row.canceled_at.is_some() || placed {
            None
        } else {
            Some(self.shop.readiness(session).await?)
        };
        let status = match (row.canceled_at, state.map(|s| s.status)) {
            (Some(_), _) | (_, Some(OrderStatus::Cancelled)) => "canceled",
            (_, Some(OrderStatus::Confirmed | OrderStatus::Shipped | OrderStatus::Delivered)) => {
                "completed"
            }
            _ if preview.as_ref().is_some_and(|p| p.ready) => "ready_for_payment",
            _ => "not_ready_for_payment",
        };
        let lines = state.map(|s| s.lines.as_slice()).unwrap_or_default();
        let mut messages: Vec<Value> = Vec::new();
        let preview_notes = preview.as_ref().map(|p| p.notes.as_slice()).unwrap_or_default();
        for note in turn_notes.iter().chain(preview_notes) {
            if let Some(message) = message(note, items, lines) {
                if !messages.contains(&message) {
                    messages.push(message);
                }
            }
        }
        let line_items: Vec<Value> = lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let attributes: Vec<Value> = line
                    .choices
                    .iter()
                    .map(|choice| {
                        let value = match (&choice.qualifier, choice.exclude) {
                            (_, true) => format!("no {}", choice.value),
                            (Some(q), false) => format!("{q} {}", choice.value),
                            (None, false) => choice.value.clone(),
                        };
                        json!({ "display_name": choice.group, "value": value })
                    })
                    .collect();
                let mut item = json!({
                    "id": format!("line_{i}"),
                    "item": { "id": line.sku, "quantity": line.quantity },
                    "name": line.name,
                    "unit_amount": line.unit_price,
                    "base_amount": line.total,
                    "discount": 0,
                    "subtotal": line.total,
                    "tax": 0,
                    "total": line.total,
                });
                if let Some(description) =
                    snapshot.catalog.product(&line.sku).and_then(|p| p.description.as_ref())
                {
                    item["description"] = json!(description);
                }
                if !attributes.is_empty() {
                    item["custom_attributes"] = json!(attributes);
                }
                item
            })
            .collect();
        let totals = state.map(|s| s.totals).unwrap_or_default();
        let currency = snapshot.catalog.currency.as_str().to_ascii_lowercase();
        let origin = origin(headers);
        let mut view = json!({
            "id": row.id,
            "status": status,
            "currency": currency,
            "line_items": line_items,
            "fulfillment_options": [{
                "type": "shipping",
                "id": SHIPPING_OPTION,
                "title": "Standard shipping",
                "subtotal": totals.shipping,
                "tax": 0,
                "total": totals.shipping,
            }],
            "fulfillment_option_id": SHIPPING_OPTION,
            "totals": [
                { "type": "items_base_amount", "display_text": "Item(s) total", "amount": totals.subtotal },
                { "type": "subtotal", "display_text": "Subtotal", "amount": totals.subtotal },
                { "type": "fulfillment", "display_text": "Shipping", "amount": totals.shipping },
                { "type": "tax", "display_text": "Tax", "amount": 0 },
                { "type": "total", "display_text": "Total", "amount": totals.total },
            ],
            "messages": messages,
            "links": [ { "type": "return_policy", "url": format!("{origin}/returns") } ],
        });
        if self.payments.is_some() {
            view["payment_provider"] =
                json!({ "provider": "stripe", "supported_payment_methods": ["card"] });
        }
        if let Some(state) = state {
            if let Some(email) = &state.customer.email {
                let name = state.customer.name.as_deref().unwrap_or_default();
                let (first, last) = name.split_once(' ').unwrap_or((name, ""));
                let mut buyer =
                    json!({ "first_name": first, "last_name": last, "email": email.as_str() });
                if let Some(phone) = &state.customer.phone {
                    buyer["phone_number"] = json!(phone.as_str());
                }
                view["buyer"] = buyer;
            }
            if let Some(address) = &state.shipping_address {
                view["fulfillment_address"] = json!({
                    "name": state.customer.name.as_deref().unwrap_or_default(),
                    "line_one": address.line1.as_deref().unwrap_or_default(),
                    "line_two": address.line2.as_deref().unwrap_or_default(),
                    "city": address.city.as_deref().unwrap_or_default(),
                    "state": address.region.as_deref().unwrap_or_default(),
                    "country": address.country.as_ref().map(|c| c.as_str()).unwrap_or_default(),
                    "postal_code": address.postal_code.as_deref().unwrap_or_default(),
                });
            }
        }
        if let (Some((number, state)), true) = (&order, placed) {
            let payment = &state.payment;
            let pending_url = payment
                .url
                .as_ref()
                .filter(|_| payment.status == PaymentStatus::Pending)
                .map(|url| url.as_str().to_owned());
            let mut order_view = json!({
                "id": number.as_str(),
                "checkout_session_id": row.id,
                "permalink_url": pending_url.clone().unwrap_or_else(|| format!("{origin}/returns")),
                "number": number.as_str(),
                "status": state.status.as_str(),
                "payment": { "status": payment.status.as_str() },
            });
            if let Some(url) = &pending_url {
                order_view["payment"]["url"] = json!(url);
                view["messages"].as_array_mut().expect("an array").push(json!({
                    "type": "info",
                    "content_type": "plain",
                    "content": format!(
                        "Order {number} is placed and waits for payment: pay at {url}"
                    ),
                }));
            }
            view["order"] = order_view;
        }
        Ok(view)
    }
}

// ---------------------------------------------------------------------------------------
// From the spec's requests to our commands, and from our notes to the spec's messages.

/// Each item's SKU, checked against the catalog (an unknown id changes nothing).
fn check_items(
    catalog: &gapless_domain::catalog::Catalog,
    items: &[Item],
) -> Result<Vec<(Sku, u32)>, AcpError> {
    if items.len() > MAX_ITEMS {
        return Err(AcpError::invalid("invalid", format!("at most {MAX_ITEMS} items per call"))
            .at("$.items"));
    }
    let mut checked: Vec<(Sku, u32)> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let sku = Sku::parse(&item.id)
            .ok()
            .filter(|sku| sku.as_str() == item.id && catalog.product(sku).is_some())
            .ok_or_else(|| {
                AcpError::invalid("unknown_item", format!("no item has the id {:?}", item.id))
                    .at(format!("$.items[{i}].id"))
            })?;
        if item.quantity == 0 {
            return Err(AcpError::invalid("invalid", "a quantity is at least 1")
                .at(format!("$.items[{i}].quantity")));
        }
        if checked.iter().any(|(seen, _)| *seen == sku) {
            return Err(AcpError::invalid("invalid", format!("{:?} is listed twice", item.id))
                .at(format!("$.items[{i}].id")));
        }
        checked.push((sku, item.quantity));
    }
    Ok(checked)
}

/// The edits that make the order's lines the cart `items`: quantities set, new items
/// added, lines not named removed (from the last, so that the indexes before stay).
fn item_edits(order: Option<&OrderState>, items: &[(Sku, u32)]) -> Vec<OrderCommand> {
    let lines = order.map(|state| state.lines.as_slice()).unwrap_or_default();
    let mut kept = vec![false; lines.len()];
    let mut edits = Vec::new();
    for (sku, quantity) in items {
        match lines.iter().enumerate().position(|(i, line)| !kept[i] && line.sku == *sku) {
            Some(line) => {
                kept[line] = true;
                if lines[line].quantity != *quantity {
                    edits.push(OrderCommand::SetQuantity(commands::SetQuantity {
                        line,
                        quantity: *quantity,
                    }));
                }
            }
            None => edits.push(OrderCommand::Add(commands::AddItem {
                sku: sku.to_string(),
                quantity: *quantity,
                choices: Default::default(),
            })),
        }
    }
    for line in (0..lines.len()).rev().filter(|&line| !kept[line]) {
        edits.push(OrderCommand::Remove(commands::LineRef { line }));
    }
    edits
}

/// The buyer and the address as the chat's customer and address commands.
fn details(buyer: Option<&Buyer>, address: Option<&Address>) -> Vec<OrderCommand> {
    let mut edits = Vec::new();
    if let Some(buyer) = buyer {
        let name = format!("{} {}", buyer.first_name.trim(), buyer.last_name.trim());
        edits.push(OrderCommand::Customer(commands::Customer {
            name: Some(name.trim().to_owned()).filter(|n| !n.is_empty()),
            email: Some(buyer.email.clone()),
            phone: buyer.phone_number.clone().filter(|p| !p.trim().is_empty()),
        }));
    }
    if let Some(address) = address {
        let given = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        edits.push(OrderCommand::Address(commands::Address {
            line1: address.line_one.clone(),
            line2: address.line_two.as_deref().and_then(given),
            city: address.city.clone(),
            postal_code: address.postal_code.clone(),
            region: given(&address.state),
            country: address.country.clone(),
        }));
    }
    edits
}

fn check_size(edits: &[OrderCommand]) -> Result<(), AcpError> {
    if edits.len() > gapless_domain::chat::llm::MAX_TOOL_CALLS {
        return Err(AcpError::invalid("invalid", "too many changes in one call; send fewer items"));
    }
    Ok(())
}

fn notes_of(turn: &Value) -> Vec<TurnNote> {
    serde_json::from_value(turn["messages"].clone()).unwrap_or_default()
}

/// A note of the validator as the spec's message, with `param` as a JSONPath into the
/// request or the session; the summary the chat would show needs no message here.
fn message(
    note: &TurnNote,
    items: &[(Sku, u32)],
    lines: &[gapless_domain::orders::PricedLine],
) -> Option<Value> {
    if note.code == TurnCode::ConfirmationNeeded {
        return None;
    }
    let code = match note.code {
        TurnCode::OutOfStock => "out_of_stock",
        TurnCode::Missing => "missing",
        _ => "invalid",
    };
    let mut message = match note.kind {
        NoteKind::Info => json!({ "type": "info" }),
        NoteKind::Warning | NoteKind::Error => json!({ "type": "error", "code": code }),
    };
    message["content_type"] = json!("plain");
    message["content"] = json!(note.content);
    if note.kind != NoteKind::Info {
        // Who can fix it (a field of later versions of the spec).
        message["resolution"] = json!(match note.code {
            TurnCode::Missing => "requires_buyer_input",
            _ => "recoverable",
        });
    }
    if let Some(param) = note.param.as_deref().and_then(|param| json_path(param, items, lines)) {
        message["param"] = json!(param);
    }
    Some(message)
}

fn json_path(
    param: &str,
    items: &[(Sku, u32)],
    lines: &[gapless_domain::orders::PricedLine],
) -> Option<String> {
    let field = |name: &str| match name {
        "line1" => Some("line_one"),
        "line2" => Some("line_two"),
        "city" => Some("city"),
        "postal_code" => Some("postal_code"),
        "region" => Some("state"),
        "country" => Some("country"),
        _ => None,
    };
    match param {
        "name" => return Some("$.buyer.first_name".to_owned()),
        "email" => return Some("$.buyer.email".to_owned()),
        "phone" => return Some("$.buyer.phone_number".to_owned()),
        "shipping_address" => return Some("$.fulfillment_address".to_owned()),
        _ => {}
    }
    if let Some(name) = param.strip_prefix("shipping_address.") {
        return field(name).map(|field| format!("$.fulfillment_address.{field}"));
    }
    // A SKU, or a stock key `SKU/group/value`.
    let sku = param.split('/').next()?;
    if let Some(i) = items.iter().position(|(item, _)| item.as_str() == sku) {
        return Some(format!("$.items[{i}]"));
    }
    lines.iter().position(|line| line.sku.as_str() == sku).map(|i| format!("$.line_items[{i}]"))
}

/// Stripe said no to the token itself (declined, expired, spent, unknown), as opposed to
/// our key or Stripe's availability, which the agent cannot fix by paying otherwise.
fn declined(refusal: &StripeError) -> bool {
    refusal.is_declined() || matches!(refusal, StripeError::Refused { status: 400 | 404, .. })
}

// ---------------------------------------------------------------------------------------
// Headers, hashing, answers.

fn check_version(headers: &HeaderMap) -> Result<(), AcpError> {
    match headers.get("api-version").map(|value| value.to_str().unwrap_or_default()) {
        None => Err(AcpError::invalid(
            "missing_api_version",
            format!("send the API-Version header; this shop speaks {API_VERSION}"),
        )),
        Some(API_VERSION) => Ok(()),
        Some(other) => Err(AcpError::invalid(
            "unsupported_api_version",
            format!("API-Version {other:?} is not supported; this shop speaks {API_VERSION}"),
        )),
    }
}

/// 1 to 255 visible ASCII characters, when sent.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, AcpError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default();
    if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(AcpError::invalid(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(Some(key.to_owned()))
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AcpError> {
    serde_json::from_slice(body).map_err(|error| AcpError::invalid("invalid", error.to_string()))
}

/// What "the same request" means: the path and the body as JSON, its keys sorted and
/// its spacing gone (a body that is not JSON counts as its bytes).
fn request_hash(path: &str, body: &[u8]) -> String {
    let body = match serde_json::from_slice::<Value>(body) {
        Ok(value) => canonical(&value),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    keys::hash(&format!("POST {path}\n{body}"))
}

fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(key, value)| format!("{}:{}", json!(key), canonical(value)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(values) => {
            format!("[{}]", values.iter().map(canonical).collect::<Vec<_>>().join(","))
        }
        other => other.to_string(),
    }
}

/// Where the shop's pages are, as this request reached it.
fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| host.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
        .unwrap_or("localhost");
    let forwarded = headers.get("x-forwarded-proto").and_then(|value| value.to_str().ok());
    let local =
        host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]");
    let scheme = match forwarded {
        Some("http") => "http",
        Some(_) => "https",
        None if local => "http",
        None => "https",
    };
    format!("{scheme}://{host}")
}

fn unix_ms(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

fn respond(
    headers: &HeaderMap,
    answer: Result<(StatusCode, Value), AcpError>,
    replay: bool,
) -> Response {
    let mut response = match answer {
        Ok((status, body)) => (status, Json(body)).into_response(),
        Err(error) => {
            let mut response = (error.status, Json(error.body())).into_response();
            if let Some(seconds) = error.retry_after {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            response
        }
    };
    let out = response.headers_mut();
    out.insert(HeaderName::from_static("api-version"), HeaderValue::from_static(API_VERSION));
    for echoed in ["idempotency-key", "request-id"] {
        if let Some(value) = headers.get(echoed) {
            out.insert(HeaderName::from_static(echoed), value.clone());
        }
    }
    if replay {
        out.insert(
            HeaderName::from_static("idempotent-replayed"),
            HeaderValue::from_static("true"),
        );
    }
    response
}

fn replayed(headers: &HeaderMap, status: StatusCode, body: Value) -> Response {
    respond(headers, Ok((status, body)), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_request_hashes_the_same_whatever_its_spacing_and_key_order() {
        let a =
            request_hash("/acp/checkout_sessions", br#"{"items":[{"id":"COKE","quantity":1}]}"#);
        let b = request_hash(
            "/acp/checkout_sessions",
            b"{ \"items\" : [ { \"quantity\": 1, \"id\": \"COKE\" } ] }",
        );
        assert_eq!(a, b);
        let other =
            request_hash("/acp/checkout_sessions", br#"{"items":[{"id":"COKE","quantity":2}]}"#);
        assert_ne!(a, other);
        let elsewhere = request_hash(
            "/acp/checkout_sessions/cs_1",
            br#"{"items":[{"id":"COKE","quantity":1}]}"#,
        );
        assert_ne!(a, elsewhere);
    }

    #[test]
    fn a_cart_becomes_the_edits_that_make_it() {
        let sku = |s: &str| Sku::parse(s).unwrap();
        let edits = item_edits(None, &[(sku("COKE"), 2)]);
        assert!(
            matches!(&edits[..], [OrderCommand::Add(add)] if add.sku == "COKE" && add.quantity == 2)
        );
    }

    #[test]
    fn notes_point_into_the_request() {
        let items = [(Sku::parse("POLES").unwrap(), 2)];
        assert_eq!(json_path("POLES", &items, &[]).as_deref(), Some("$.items[0]"));
        assert_eq!(json_path("email", &items, &[]).as_deref(), Some("$.buyer.email"));
        assert_eq!(
            json_path("shipping_address.region", &items, &[]).as_deref(),
            Some("$.fulfillment_address.state")
        );
        assert_eq!(json_path("burrito", &items, &[]), None);
    }
}
