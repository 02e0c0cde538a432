//! The shop as an MCP server: Streamable HTTP at `/mcp` (CONTRACTS §9), one
//! [`ShopTools`] per MCP session and so one order draft per `Mcp-Session-Id`.
//!
//! Each tool is a thin wrapper over [`AgentShop`]: read the arguments, call the shop,
//! answer with the result in `structuredContent` (and the same JSON as text). Arguments
//! that do not fit a tool's schema (an unknown field such as a price or a total, a
//! wrong type) and calls the shop refuses are tool errors (`isError: true`) that change
//! nothing, so that the agent reads why and can correct itself; only our own failures
//! are JSON-RPC errors.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{extract::ConnectInfo, http::request::Parts, Router};
use gapless_domain::chat::AgentChannel;
use rmcp::{
    handler::server::{
        common::{schema_for_input, FromContextPart},
        router::tool::ToolRouter,
        tool::{Extension, ToolCallContext},
    },
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ProtocolVersion,
        ServerCapabilities, ServerConfig,
    },
    service::RequestContext,
    tool, tool_handler, tool_router,
    transport::streamable_http_server::{
        session::local::LocalSessionManager, StreamableHttpServerConfig, StreamableHttpService,
    },
    ErrorData as McpError, RoleServer, ServerHandler,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use super::{
    commands::UpdateOrder,
    shop::{AgentError, AgentSession, AgentShop, NewReturn, OrderLookup, SearchCatalog},
};
use crate::chat::limits::{self, Rate};

/// The conversation's channel, and the extractor its turns show in the staff timeline.
pub const CHANNEL: AgentChannel = AgentChannel::Mcp;

/// How long a quiet session, and with it the way back to its order draft, is kept. An
/// agent waits on a person between calls, so this is far longer than rmcp's default.
const SESSION_IDLE: Duration = Duration::from_secs(60 * 60);

const INSTRUCTIONS: &str = "Gapless shop. Find products with search_catalog, build the \
    order with update_order (lines are named by their index in the order's `lines`), then \
    call confirm_order: the first call returns the summary to show the shopper, a second \
    call with nothing changed places the order. Prices, totals and stock are computed by \
    the shop and are never arguments. order_status, return_options and request_return \
    need the order number together with the email it was placed with.";

/// `/mcp`, limited per client IP like the chat API; tool calls are limited per session
/// inside (see [`ShopTools::call_tool`]). Cancelling `stop` ends every session, so that
/// their open event streams do not hold up a graceful shutdown.
pub fn routes<S: Clone + Send + Sync + 'static>(
    shop: Arc<AgentShop>,
    per_ip: Rate,
    stop: CancellationToken,
) -> Router<S> {
    let mut manager = LocalSessionManager::default();
    manager.session_config.keep_alive = Some(SESSION_IDLE);
    // The shop is served under its own host name: rmcp's default of loopback hosts only
    // guards servers on a developer's machine against DNS rebinding. Cross-site browser
    // requests are refused before they get here (`staff::guard::same_origin`), and a
    // session is a header, never an ambient cookie.
    let config =
        StreamableHttpServerConfig::default().disable_allowed_hosts().with_cancellation_token(stop);
    let service = StreamableHttpService::new(
        move || Ok(ShopTools::new(shop.clone())),
        Arc::new(manager),
        config,
    );
    Router::new().nest_service("/mcp", service).layer(limits::per_ip(per_ip))
}

/// The tools of one MCP session.
#[derive(Clone)]
pub struct ShopTools {
    shop: Arc<AgentShop>,
    session: Arc<AgentSession>,
    tool_router: ToolRouter<Self>,
}

/// A tool's arguments, read here rather than by rmcp's `Parameters`, which would answer
/// arguments out of schema with a JSON-RPC error: CONTRACTS §9 wants a tool error the
/// agent can read.
pub struct Args<T>(Result<T, String>);

impl<S, T: DeserializeOwned> FromContextPart<ToolCallContext<'_, S>> for Args<T> {
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, McpError> {
        let arguments = context.arguments.take().unwrap_or_default();
        Ok(Args(serde_json::from_value(Value::Object(arguments)).map_err(|e| e.to_string())))
    }
}

impl<T> Args<T> {
    fn read(self) -> Result<T, AgentError> {
        self.0.map_err(|error| AgentError::refused("invalid_arguments", error))
    }
}

/// `{}`: the tools that take no arguments take exactly none.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArguments {}

/// The input schema of a tool, from its argument type (objects closed to other fields).
fn schema<T: schemars::JsonSchema + 'static>() -> Arc<Map<String, Value>> {
    schema_for_input::<T>().expect("tool arguments are JSON objects")
}

fn client(parts: &Parts) -> Option<std::net::IpAddr> {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| peer.ip())
}

/// The shop's answer as a tool result.
fn answer(result: Result<Value, AgentError>) -> Result<CallToolResult, McpError> {
    match result {
        Ok(value) => Ok(CallToolResult::structured(value)),
        Err(AgentError::Refused(body)) => Ok(CallToolResult::structured_error(body)),
        Err(AgentError::Internal(cause)) => {
            tracing::error!(error = format!("{cause:#}"), "MCP tool call failed");
            Err(McpError::internal_error("something went wrong on our side", None))
        }
    }
}

#[tool_router]
impl ShopTools {
    pub fn new(shop: Arc<AgentShop>) -> ShopTools {
        ShopTools {
            shop,
            session: Arc::new(AgentSession::new(CHANNEL)),
            tool_router: Self::tool_router(),
        }
    }

    /// Find products by words; each comes with its SKU, price (minor units of
    /// `currency`), options and whether it and each option value are in stock.
    #[tool(input_schema = schema::<SearchCatalog>(), annotations(read_only_hint = true))]
    async fn search_catalog(&self, args: Args<SearchCatalog>) -> Result<CallToolResult, McpError> {
        answer(match args.read() {
            Ok(args) => self.shop.search(&args).await,
            Err(refused) => Err(refused),
        })
    }

    /// This session's order (CONTRACTS §3 shape), or null before anything was added.
    #[tool(input_schema = schema::<NoArguments>(), annotations(read_only_hint = true))]
    async fn get_order(&self, args: Args<NoArguments>) -> Result<CallToolResult, McpError> {
        answer(match args.read() {
            Ok(_) => self.shop.order(&self.session).await,
            Err(refused) => Err(refused),
        })
    }

    /// Edit this session's order with typed commands (add, set_quantity, set_option,
    /// remove, customer, address). Returns the order after them and a message for each
    /// problem (out_of_stock, missing, invalid, …). A call with a command that names an
    /// unknown product, option or field is refused whole.
    #[tool(input_schema = schema::<UpdateOrder>())]
    async fn update_order(&self, args: Args<UpdateOrder>) -> Result<CallToolResult, McpError> {
        answer(match args.read() {
            Ok(args) => self.shop.update(&self.session, &args).await,
            Err(refused) => Err(refused),
        })
    }

    /// Confirm this session's order. The first call on a complete order returns the
    /// summary (message `confirmation_needed`): show it to the shopper, and call again
    /// once they agree. The second call, with nothing changed, places the order.
    #[tool(input_schema = schema::<NoArguments>())]
    async fn confirm_order(&self, args: Args<NoArguments>) -> Result<CallToolResult, McpError> {
        answer(match args.read() {
            Ok(_) => self.shop.confirm(&self.session).await,
            Err(refused) => Err(refused),
        })
    }

    /// The status of an order placed before, given its number and the email it was
    /// placed with; a wrong pair gets the same answer as an unknown order.
    #[tool(input_schema = schema::<OrderLookup>(), annotations(read_only_hint = true))]
    async fn order_status(&self, args: Args<OrderLookup>) -> Result<CallToolResult, McpError> {
        answer(match args.read() {
            Ok(args) => self.shop.order_status(&self.session, &args).await,
            Err(refused) => Err(refused),
        })
    }

    /// What of an order can be returned (each line's `returnable_quantity` or the
    /// reason it cannot), the reasons to choose from and the resolutions offered.
    #[tool(input_schema = schema::<OrderLookup>(), annotations(read_only_hint = true))]
    async fn return_options(
        &self,
        args: Args<OrderLookup>,
        Extension(parts): Extension<Parts>,
    ) -> Result<CallToolResult, McpError> {
        answer(match args.read() {
            Ok(args) => self.shop.return_options(client(&parts), &args).await,
            Err(refused) => Err(refused),
        })
    }

    /// Ask for a return of lines of an order; every item is decided at once
    /// (approved, rejected with the reason, or in review) and an RMA code returned.
    #[tool(input_schema = schema::<NewReturn>())]
    async fn request_return(
        &self,
        args: Args<NewReturn>,
        Extension(parts): Extension<Parts>,
    ) -> Result<CallToolResult, McpError> {
        answer(match args.read() {
            Ok(args) => self.shop.request_return(client(&parts), &args).await,
            Err(refused) => Err(refused),
        })
    }

    /// The shop's return policy and the rules of ordering here.
    #[tool(input_schema = schema::<NoArguments>(), annotations(read_only_hint = true))]
    async fn shop_policies(&self, args: Args<NoArguments>) -> Result<CallToolResult, McpError> {
        answer(match args.read() {
            Ok(_) => self.shop.policies().await,
            Err(refused) => Err(refused),
        })
    }
}

#[tool_handler]
impl ServerHandler for ShopTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("gapless", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    /// Revisions with sessions only: the order draft lives in the session, and the
    /// sessionless 2026-07-28 revision would start a new draft with every call.
    fn supported_protocol_versions(&self) -> std::borrow::Cow<'static, [ProtocolVersion]> {
        std::borrow::Cow::Borrowed(ProtocolVersion::known_up_to(
            &ProtocolVersion::LATEST_WITH_INITIALIZE,
        ))
    }

    /// Spends the session's budget, then routes the call.
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        if let Err(limited) = self.shop.check_rate(&self.session) {
            return answer(Err(limited)).map(Into::into);
        }
        self.tool_router.call(ToolCallContext::new(self, request, context)).await
    }
}
