//! How the app's server functions reach the services that live in the `server` crate
//! (which depends on this one, so the app cannot name its types): small traits the
//! server implements and provides as context. Their values are the JSON API's bodies
//! (CONTRACTS), so a page shows exactly what a bridge or a test sees.

use std::{net::IpAddr, sync::Arc};

use gapless_api::{
    chat::{Conversation, TurnResponse},
    returns::{Lookup, ReturnCreated, ReturnList, ReturnView},
    staff::{
        ConversationPage, ConversationTimeline, HandoffQueue, Metrics, StaffOrder, StaffReply,
    },
};

use crate::error::AppError;

/// The chat service as the widget needs it.
#[async_trait::async_trait]
pub trait ChatPort: Send + Sync + 'static {
    async fn start(&self, channel: &str) -> Result<String, PortError>;
    async fn read(&self, conversation: &str) -> Result<Conversation, PortError>;
    /// `client` keys the per-IP rate limit; the conversation keys the per-session one.
    async fn send(
        &self,
        conversation: &str,
        text: &str,
        idempotency_key: Option<&str>,
        client: Option<IpAddr>,
    ) -> Result<TurnResponse, PortError>;
}

/// The returns service as the portal needs it; every call is rate limited per client
/// IP and per order (or RMA), like the API.
#[async_trait::async_trait]
pub trait ReturnsPort: Send + Sync + 'static {
    /// `POST /api/v1/returns/lookup`'s body.
    async fn lookup(
        &self,
        order_number: &str,
        email: &str,
        client: Option<IpAddr>,
    ) -> Result<Lookup, PortError>;
    /// `POST /api/v1/returns`.
    async fn request(
        &self,
        request: gapless_api::returns::NewReturn,
        client: Option<IpAddr>,
    ) -> Result<ReturnCreated, PortError>;
    /// `GET /api/v1/returns/{rma}`'s body (the email in the `Customer-Email` header).
    async fn status(
        &self,
        rma: &str,
        email: &str,
        client: Option<IpAddr>,
    ) -> Result<ReturnView, PortError>;
}

/// What a staff member records on a return from the console, as the form sent it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnActionInput {
    pub kind: String,
    pub note: Option<String>,
    /// As typed, e.g. "22.50": read in the shop's currency by the server.
    pub amount: Option<String>,
    /// Why an amount above what is due is paid.
    pub override_reason: Option<String>,
    /// At receipt, `restock` or `discard` for every item instead of the policy's default.
    pub disposition: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// Unknown, or not for this person: the text says so without saying which.
    #[error("{0}")]
    NotFound(String),
    /// The input cannot be taken; the text says why, for the person at the page.
    #[error("{0}")]
    Rejected(String),
    /// Signed in, but the role does not allow it, or the form's CSRF token is wrong.
    #[error("{0}")]
    Forbidden(String),
    #[error("too many requests; retry after {retry_after} s")]
    RateLimited { retry_after: u64 },
    #[error("the service cannot answer right now")]
    Unavailable,
    #[error("the service failed")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The port the server provided, or a logged internal error.
pub fn get<P: ?Sized + Send + Sync + 'static>() -> Result<Arc<P>, AppError> {
    leptos::prelude::use_context::<Arc<P>>().ok_or_else(|| {
        AppError::internal(
            "reading a service from context",
            MissingContext(std::any::type_name::<P>()),
        )
    })
}

#[derive(Debug, thiserror::Error)]
#[error("the server did not provide {0} to the app")]
struct MissingContext(&'static str);

/// The client's IP address, for the rate limits.
pub async fn client_ip() -> Option<IpAddr> {
    leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .await
        .ok()
        .map(|info| info.0.ip())
}

/// The tower-sessions session of the request.
pub async fn session() -> Result<tower_sessions::Session, AppError> {
    leptos_axum::extract::<tower_sessions::Session>()
        .await
        .map_err(|e| AppError::internal("reading the session", e))
}

/// Maps a port's error to what the person reads, with the HTTP status a client of the
/// server function sees.
pub fn app_error(error: PortError) -> AppError {
    use http::StatusCode;
    let response = leptos::prelude::use_context::<leptos_axum::ResponseOptions>();
    let status = |status: StatusCode| {
        if let Some(response) = &response {
            response.set_status(status);
        }
    };
    match error {
        PortError::NotFound(message) => {
            status(StatusCode::NOT_FOUND);
            AppError::Rejected(message)
        }
        PortError::Rejected(message) => {
            status(StatusCode::UNPROCESSABLE_ENTITY);
            AppError::Rejected(message)
        }
        PortError::Forbidden(message) => {
            status(StatusCode::FORBIDDEN);
            AppError::Rejected(message)
        }
        PortError::RateLimited { retry_after } => {
            status(StatusCode::TOO_MANY_REQUESTS);
            if let (Some(response), Ok(value)) =
                (&response, http::HeaderValue::from_str(&retry_after.to_string()))
            {
                response.insert_header(http::header::RETRY_AFTER, value);
            }
            AppError::TooMany
        }
        PortError::Unavailable => {
            status(StatusCode::SERVICE_UNAVAILABLE);
            AppError::Unavailable
        }
        PortError::Internal(cause) => AppError::internal("a service call", &*cause),
    }
}

/// The query of `GET /api/v1/staff/conversations`, as typed: every field is text (an
/// empty one counts as absent) and the server says what it cannot take.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationFilter {
    /// Words the shopper typed, all of which must appear.
    pub q: Option<String>,
    pub outcome: Option<String>,
    /// Started at or after: RFC 3339 or `YYYY-MM-DD` (UTC midnight).
    pub from: Option<String>,
    /// Started before.
    pub to: Option<String>,
    /// An order number.
    pub order: Option<String>,
    /// The `next` of the page before.
    pub cursor: Option<String>,
    pub limit: Option<String>,
}

/// Who is signed in to the staff console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffIdentity {
    pub id: String,
    pub email: String,
    pub role: String,
    /// The session's CSRF token, which every console form must send back.
    pub csrf: String,
}

/// The staff side as the console needs it: sign-in on the request's session, and the
/// same queries and actions as `/api/v1/staff/…`. Every call that reads or changes data
/// takes the signed-in identity, which the console gets from [`StaffPort::current`].
#[async_trait::async_trait]
pub trait StaffPort: Send + Sync + 'static {
    /// The account signed in on this session, if it still exists and is enabled.
    async fn current(
        &self,
        session: &tower_sessions::Session,
    ) -> Result<Option<StaffIdentity>, PortError>;
    /// Checks the credentials (same answer for every failure, rate limited), renews the
    /// session id and signs the session in.
    async fn sign_in(
        &self,
        session: &tower_sessions::Session,
        email: &str,
        password: String,
        client: Option<IpAddr>,
    ) -> Result<StaffIdentity, PortError>;
    async fn sign_out(&self, session: &tower_sessions::Session) -> Result<(), PortError>;
    /// `GET /api/v1/staff/conversations?…`'s body.
    async fn conversations(
        &self,
        staff: &StaffIdentity,
        filter: &ConversationFilter,
    ) -> Result<ConversationPage, PortError>;
    /// `GET /api/v1/staff/conversations/{id}/timeline`'s body.
    async fn timeline(
        &self,
        staff: &StaffIdentity,
        id: &str,
    ) -> Result<ConversationTimeline, PortError>;
    /// `GET /api/v1/staff/returns?status=…`'s body.
    async fn returns(
        &self,
        staff: &StaffIdentity,
        status: Option<&str>,
    ) -> Result<ReturnList, PortError>;
    /// `GET /api/v1/staff/metrics?from=…&to=…`'s body, with the SVG charts in `charts`.
    async fn dashboard(
        &self,
        staff: &StaffIdentity,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<Metrics, PortError>;
    /// `GET /api/v1/staff/orders/{number}`'s body.
    async fn order(&self, staff: &StaffIdentity, number: &str) -> Result<StaffOrder, PortError>;
    /// `GET /api/v1/staff/handoffs`'s body.
    async fn handoffs(&self, staff: &StaffIdentity) -> Result<HandoffQueue, PortError>;
    /// `POST /api/v1/staff/conversations/{id}/replies`.
    async fn reply(
        &self,
        staff: &StaffIdentity,
        conversation: &str,
        text: &str,
        close: bool,
    ) -> Result<StaffReply, PortError>;
    /// Webhook endpoints with their latest deliveries (admins only).
    async fn webhooks(
        &self,
        staff: &StaffIdentity,
    ) -> Result<Vec<crate::staff::webhooks::EndpointDeliveries>, PortError>;
    /// `POST /api/v1/staff/webhooks`.
    async fn add_webhook(
        &self,
        staff: &StaffIdentity,
        url: &str,
        events: &[String],
    ) -> Result<crate::staff::webhooks::CreatedEndpoint, PortError>;
    /// Pause, resume, remove, or send a test event.
    async fn webhook_action(
        &self,
        staff: &StaffIdentity,
        endpoint: &str,
        action: crate::staff::webhooks::EndpointAction,
    ) -> Result<(), PortError>;
    /// API keys for the shop's systems, newest last (admins only).
    async fn api_keys(
        &self,
        staff: &StaffIdentity,
    ) -> Result<Vec<crate::staff::api_keys::ApiKeyView>, PortError>;
    async fn add_api_key(
        &self,
        staff: &StaffIdentity,
        name: &str,
    ) -> Result<crate::staff::api_keys::CreatedApiKey, PortError>;
    async fn revoke_api_key(&self, staff: &StaffIdentity, id: &str) -> Result<(), PortError>;
    /// A failed delivery back in the queue.
    async fn send_again(
        &self,
        staff: &StaffIdentity,
        endpoint: &str,
        delivery: i64,
    ) -> Result<(), PortError>;
    /// `POST /api/v1/staff/returns/{rma}/events`.
    async fn record_return(
        &self,
        staff: &StaffIdentity,
        rma: &str,
        action: ReturnActionInput,
    ) -> Result<gapless_api::returns::ReturnView, PortError>;
}
