//! What an agent may do in the shop, whichever protocol it speaks: exactly what a
//! shopper in the chat widget may do, through the same services.
//!
//! Order edits and confirmations are turns of a conversation ([`ChatService::post_commands`]):
//! the chat's validator decides prices, stock and customer data, the order's events are
//! written with the turn, and staff read the turn in the conversation's timeline like
//! any other. Looking up an order, or a return, takes its number and the email it was
//! placed with and spends the same budgets as the chat and the returns portal.

use std::{net::IpAddr, sync::Arc};

use gapless_domain::{
    catalog::{GroupKind, Product},
    chat::{command::Command, AgentChannel, Extraction},
    orders::{OrderNumber, OrderState},
    returns::{RequestedItem, Resolution, ReturnRequest},
    stock::{StockKey, StockLevels},
};
use gapless_store::{new_id, Store};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::OnceCell;

use super::commands::{self, OrderCommand, Refusal, UpdateOrder};
use crate::{
    api_error::ApiError,
    chat::error::ChatError,
    chat::{
        limits::RequestLimiter,
        service::{CatalogSnapshot, ChatService, ConfirmPreview, TurnResponse},
    },
    lookups::LookupLimiter,
    payments::token::TokenCharge,
    returns::error::ReturnsError,
    returns::service::{OrderProof, ReturnsService},
};

/// Products one search lists when the agent names no limit, and at most.
const DEFAULT_RESULTS: usize = 10;
const MAX_RESULTS: usize = 25;
/// At or below this many units left a product or value reads "only N left".
const FEW_LEFT: u32 = 5;
/// The longest search query read.
const MAX_QUERY_CHARS: usize = 200;

pub struct AgentShop {
    chat: Arc<ChatService>,
    returns: Arc<ReturnsService>,
    store: Arc<dyn Store>,
    /// Order and return lookups: the budgets the chat and the portal spend too.
    lookups: Arc<LookupLimiter>,
    /// Calls per agent session, as messages per chat conversation.
    calls: RequestLimiter,
}

/// One agent's conversation with the shop (an MCP session): one order draft. The chat
/// conversation that holds it is started by the first call that needs one.
pub struct AgentSession {
    /// `mcp` or `acp`: the conversation's channel and the timeline's extractor.
    channel: AgentChannel,
    /// What the per-session rate limit counts.
    key: String,
    conversation: OnceCell<String>,
}

impl AgentSession {
    pub fn new(channel: AgentChannel) -> AgentSession {
        AgentSession { channel, key: new_id(), conversation: OnceCell::new() }
    }

    /// A session on a conversation started before (an ACP checkout session, which
    /// outlives the server): its rate limit is the conversation's.
    pub fn resume(channel: AgentChannel, conversation: String) -> AgentSession {
        AgentSession {
            channel,
            key: conversation.clone(),
            conversation: OnceCell::new_with(Some(conversation)),
        }
    }

    /// The conversation holding the session's order, once there is one.
    pub fn conversation(&self) -> Option<&str> {
        self.conversation.get().map(String::as_str)
    }
}

/// Why a call did nothing.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The agent can fix this: bad arguments, an unknown order, a limit. The body is
    /// `{ "error": { "code", "message", … } }`.
    #[error("{0}")]
    Refused(Value),
    /// Ours: logged, and answered with no detail.
    #[error("something went wrong on our side")]
    Internal(#[source] anyhow::Error),
}

impl AgentError {
    pub fn refused(code: &str, message: impl Into<String>) -> AgentError {
        AgentError::Refused(json!({ "error": { "code": code, "message": message.into() } }))
    }
}

/// The chat's errors reach an agent as the JSON API would answer them.
impl From<ChatError> for AgentError {
    fn from(error: ChatError) -> Self {
        ApiError::from(error).into()
    }
}

/// The returns' errors reach an agent as the JSON API would answer them.
impl From<ReturnsError> for AgentError {
    fn from(error: ReturnsError) -> Self {
        ApiError::from(error).into()
    }
}

impl From<ApiError> for AgentError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Internal(cause) => AgentError::Internal(cause),
            other => AgentError::refused(other.code(), other.to_string()),
        }
    }
}

/// `search_catalog`'s arguments.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchCatalog {
    /// Words naming what the shopper wants ("black tee", "pizza"); empty lists the
    /// catalog from the start.
    pub query: String,
    /// How many products at most (default 10, at most 25).
    pub limit: Option<usize>,
}

/// An order's number and the email it was placed with: both, or nothing is said.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLookup {
    /// Like `G-100042`.
    pub order_number: String,
    pub email: String,
}

/// `request_return`'s arguments: CONTRACTS §4's body.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReturn {
    pub order_number: String,
    pub email: String,
    pub items: Vec<ReturnItem>,
    pub resolution: ReturnResolution,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnItem {
    /// The index of the line in `return_options`' `lines`.
    pub line: usize,
    pub quantity: u32,
    /// A reason `code` from `return_options`.
    pub reason: String,
    pub comment: Option<String>,
    /// For an exchange: the values wanted instead, by option group (`{ "size": "l" }`).
    pub exchange: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnResolution {
    Refund,
    Exchange,
    StoreCredit,
}

impl AgentShop {
    pub fn new(
        chat: Arc<ChatService>,
        returns: Arc<ReturnsService>,
        store: Arc<dyn Store>,
        lookups: Arc<LookupLimiter>,
        calls: RequestLimiter,
    ) -> AgentShop {
        AgentShop { chat, returns, store, lookups, calls }
    }

    /// Spends one call of the session's budget.
    pub fn check_rate(&self, session: &AgentSession) -> Result<(), AgentError> {
        self.calls.check(None, &session.key).map_err(|retry_after| {
            AgentError::refused(
                "rate_limited",
                format!("too many calls; try again in {retry_after} s"),
            )
        })
    }

    /// `search_catalog`: products by the words of the chat's product index, with their
    /// options and whether each is in stock now.
    pub async fn search(&self, args: &SearchCatalog) -> Result<Value, AgentError> {
        let query: String = args.query.chars().take(MAX_QUERY_CHARS).collect();
        let limit = args.limit.unwrap_or(DEFAULT_RESULTS).clamp(1, MAX_RESULTS);
        let snapshot = self.chat.catalog().await?;
        let stock = self.store.stock_levels().await.map_err(ApiError::from)?;
        let catalog = &snapshot.catalog;
        let found: Vec<&Product> = if query.trim().is_empty() {
            catalog.products.iter().take(limit).collect()
        } else {
            let indices = snapshot.extractor.search_products(&query);
            indices.into_iter().filter_map(|i| catalog.products.get(i)).take(limit).collect()
        };
        let products: Vec<Value> =
            found.into_iter().map(|product| product_view(product, &stock)).collect();
        Ok(json!({ "currency": catalog.currency, "products": products }))
    }

    /// `get_order`: the session's order (CONTRACTS §3), or null before the first edit.
    pub async fn order(&self, session: &AgentSession) -> Result<Value, AgentError> {
        let Some(conversation) = session.conversation.get() else {
            return Ok(json!({ "order": null }));
        };
        let read = self.chat.conversation(conversation).await?;
        Ok(json!({ "order": read.order }))
    }

    /// `update_order`: the commands as one turn of the session's conversation.
    pub async fn update(
        &self,
        session: &AgentSession,
        args: &UpdateOrder,
    ) -> Result<Value, AgentError> {
        let snapshot = self.chat.catalog().await?;
        let extraction =
            commands::extraction(&snapshot.catalog, &args.commands).map_err(refusal)?;
        let turn = self.turn(session, "update_order", &json!(args), &extraction, None).await?;
        Ok(json!({ "order": turn.order, "messages": turn.messages, "reply": turn.reply }))
    }

    /// A session with its conversation started now, for protocols that name the
    /// session themselves (ACP).
    pub async fn open(&self, channel: AgentChannel) -> Result<AgentSession, AgentError> {
        let conversation = self.chat.start_conversation(channel.as_str()).await?;
        Ok(AgentSession::resume(channel, conversation))
    }

    /// The catalog agents order from, as the validator reads it.
    pub async fn catalog(&self) -> Result<Arc<CatalogSnapshot>, AgentError> {
        Ok(self.chat.catalog().await?)
    }

    /// One turn of typed commands, then `then` (a confirmation, a cancellation) in the
    /// same turn: one call of the agent, one turn in the staff timeline. The commands
    /// are parsed as `update_order`'s are, and refused whole as they are.
    pub async fn act(
        &self,
        session: &AgentSession,
        tool: &str,
        arguments: &Value,
        edits: &[OrderCommand],
        then: &[Command],
    ) -> Result<Value, AgentError> {
        self.act_paying(session, tool, arguments, edits, then, None).await
    }

    /// [`AgentShop::act`], with a confirmation paid for at once by the agent's
    /// delegated payment token in `charge` (ACP `complete`) instead of a payment link.
    pub async fn act_paying(
        &self,
        session: &AgentSession,
        tool: &str,
        arguments: &Value,
        edits: &[OrderCommand],
        then: &[Command],
        charge: Option<&TokenCharge>,
    ) -> Result<Value, AgentError> {
        let mut extraction = if edits.is_empty() {
            Extraction::default()
        } else {
            let snapshot = self.chat.catalog().await?;
            commands::extraction(&snapshot.catalog, edits).map_err(refusal)?
        };
        extraction.commands.extend(then.iter().cloned());
        let turn = self.turn(session, tool, arguments, &extraction, charge).await?;
        Ok(json!({ "order": turn.order, "messages": turn.messages, "reply": turn.reply }))
    }

    /// The session's order, typed, with its number; `None` before the first edit.
    pub async fn order_state(
        &self,
        session: &AgentSession,
    ) -> Result<Option<(OrderNumber, OrderState)>, AgentError> {
        match session.conversation() {
            None => Ok(None),
            Some(conversation) => Ok(self.chat.order_of(conversation).await?),
        }
    }

    /// Whether the session's order could be placed now, and what stands in the way.
    pub async fn readiness(&self, session: &AgentSession) -> Result<ConfirmPreview, AgentError> {
        match session.conversation() {
            None => Ok(ConfirmPreview { ready: false, notes: Vec::new() }),
            Some(conversation) => Ok(self.chat.confirm_preview(conversation).await?),
        }
    }

    /// `confirm_order`: the chat's confirmation, in its two steps. The first call on a
    /// complete order shows the summary (`confirmation_needed`); the second, with
    /// nothing changed in between, places the order.
    pub async fn confirm(&self, session: &AgentSession) -> Result<Value, AgentError> {
        let extraction = Extraction { commands: vec![Command::Confirm], notes: Vec::new() };
        let turn = self.turn(session, "confirm_order", &json!({}), &extraction, None).await?;
        Ok(json!({ "order": turn.order, "messages": turn.messages, "reply": turn.reply }))
    }

    /// `order_status`: the chat's answer to "where is my order", which names the order
    /// only for its number together with the email it was placed with.
    pub async fn order_status(
        &self,
        session: &AgentSession,
        args: &OrderLookup,
    ) -> Result<Value, AgentError> {
        let command = Command::OrderStatus {
            order_number: Some(args.order_number.clone()),
            email: Some(args.email.clone()),
        };
        let extraction = Extraction { commands: vec![command], notes: Vec::new() };
        let arguments = json!({ "order_number": args.order_number, "email": args.email });
        let turn = self.turn(session, "order_status", &arguments, &extraction, None).await?;
        Ok(json!({ "reply": turn.reply, "messages": turn.messages }))
    }

    /// `return_options`: the returns portal's lookup (CONTRACTS §4).
    pub async fn return_options(
        &self,
        client: Option<IpAddr>,
        args: &OrderLookup,
    ) -> Result<Value, AgentError> {
        let proof =
            OrderProof { order_number: args.order_number.clone(), email: args.email.clone() };
        self.check_order(client, &proof)?;
        to_json(&self.returns.lookup(&proof).await?)
    }

    /// `request_return`: the returns portal's request (CONTRACTS §4), decided at once.
    pub async fn request_return(
        &self,
        client: Option<IpAddr>,
        args: &NewReturn,
    ) -> Result<Value, AgentError> {
        let proof =
            OrderProof { order_number: args.order_number.clone(), email: args.email.clone() };
        self.check_order(client, &proof)?;
        let items = args
            .items
            .iter()
            .map(|item| RequestedItem {
                line: item.line,
                quantity: i64::from(item.quantity),
                reason: item.reason.clone(),
                comment: item.comment.clone(),
                exchange: item.exchange.clone(),
            })
            .collect();
        let resolution = match args.resolution {
            ReturnResolution::Refund => Resolution::Refund,
            ReturnResolution::Exchange => Resolution::Exchange,
            ReturnResolution::StoreCredit => Resolution::StoreCredit,
        };
        to_json(&self.returns.request(&proof, &ReturnRequest { items, resolution }).await?)
    }

    /// `shop_policies`: returns, and what an agent can and cannot do here.
    pub async fn policies(&self) -> Result<Value, AgentError> {
        let snapshot = self.chat.catalog().await?;
        let policy = self.returns.policy();
        Ok(json!({
            "currency": snapshot.catalog.currency,
            "returns": {
                "window_days": policy.window_days,
                "window_starts": "at delivery, or at confirmation when no delivery date is known; \
                                  some products have their own window or are final sale",
                "reasons": policy.reason_choices(),
                "resolutions": policy.resolutions.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            },
            "ordering": [
                "Prices, totals and stock are the shop's: no argument sets them.",
                "An order is confirmed in two steps: confirm_order shows the summary, and a \
                 second confirm_order with nothing changed places it.",
                "Confirming needs the customer's name and email and a full shipping address.",
                "An order's status and returns are shown only for its number together with the \
                 email it was placed with.",
            ],
        }))
    }

    fn check_order(&self, client: Option<IpAddr>, proof: &OrderProof) -> Result<(), AgentError> {
        self.lookups
            .check_order(client, &proof.order_number, &proof.email)
            .map_err(|retry_after| ApiError::RateLimited { retry_after }.into())
    }

    /// One turn of the session's conversation, started on first use.
    async fn turn(
        &self,
        session: &AgentSession,
        tool: &str,
        arguments: &Value,
        extraction: &Extraction,
        charge: Option<&TokenCharge>,
    ) -> Result<TurnResponse, AgentError> {
        let conversation = session
            .conversation
            .get_or_try_init(|| self.chat.start_conversation(session.channel.as_str()))
            .await?;
        let text = timeline_text(tool, arguments);
        let channel = session.channel;
        Ok(match charge {
            Some(charge) => {
                self.chat
                    .post_commands_paying(conversation, &text, extraction, channel, charge)
                    .await?
            }
            None => self.chat.post_commands(conversation, &text, extraction, channel).await?,
        })
    }
}

/// A call whose commands the parser refused: `invalid_command`, naming each by index.
fn refusal(refused: Vec<Refusal>) -> AgentError {
    let message = refused
        .iter()
        .map(|r| format!("command {}: {}", r.command, r.reason))
        .collect::<Vec<_>>()
        .join("; ");
    AgentError::Refused(json!({ "error": {
        "code": "invalid_command",
        "message": message,
        "commands": refused,
    }}))
}

/// What the staff timeline shows as the "message" of an agent's turn: the call itself,
/// cut to the length of a chat message (the audit record keeps every command).
fn timeline_text(tool: &str, arguments: &Value) -> String {
    let text = format!("{tool} {arguments}");
    let max = crate::chat::service::MAX_MESSAGE_CHARS;
    if text.chars().count() <= max {
        text
    } else {
        let mut cut: String = text.chars().take(max - 1).collect();
        cut.push('…');
        cut
    }
}

fn product_view(product: &Product, stock: &StockLevels) -> Value {
    let own = stock.get(&StockKey::product(product.sku.clone())).map(|level| level.available());
    let options: Vec<Value> = product
        .options
        .iter()
        .map(|group| {
            let values: Vec<Value> = group
                .values
                .iter()
                .map(|value| {
                    let key = StockKey::value(product.sku.clone(), &group.name, &value.name);
                    let left = stock.get(&key).map(|level| level.available());
                    let mut view = json!({
                        "name": value.name,
                        "in_stock": left.is_none_or(|n| n > 0),
                    });
                    if value.price_delta.0 != 0 {
                        view["price_delta"] = json!(value.price_delta);
                    }
                    view
                })
                .collect();
            let mut view = json!({
                "group": group.name,
                "kind": match group.kind { GroupKind::Single => "single", GroupKind::Multi => "multi" },
                "required": group.required,
                "values": values,
            });
            if let Some(default) = &group.default {
                view["default"] = json!(default);
            }
            if !group.qualifiers.is_empty() {
                view["qualifiers"] = json!(group.qualifiers);
            }
            view
        })
        .collect();
    let mut view = json!({
        "sku": product.sku,
        "name": product.name,
        "price": product.price,
        "in_stock": own.is_none_or(|n| n > 0),
        "stock": stock_words(own),
        "options": options,
    });
    if let Some(description) = &product.description {
        view["description"] = json!(description);
    }
    if product.final_sale {
        view["final_sale"] = json!(true);
    }
    view
}

fn stock_words(left: Option<u32>) -> String {
    match left {
        None => "in stock".to_owned(),
        Some(0) => "out of stock".to_owned(),
        Some(n) if n <= FEW_LEFT => format!("only {n} left"),
        Some(_) => "in stock".to_owned(),
    }
}

/// A typed answer as a tool's structured content.
fn to_json(answer: &impl serde::Serialize) -> Result<Value, AgentError> {
    serde_json::to_value(answer).map_err(|e| AgentError::Internal(e.into()))
}
