//! The chat widget's way into the chat service: the same turns as the JSON API, with
//! the same per-IP and per-conversation limits (a session holds one conversation, so
//! the latter is the per-session limit).

use std::{net::IpAddr, sync::Arc};

use app::port::{ChatPort, PortError};
use serde_json::Value;

use super::{limits::RequestLimiter, service::ChatService};
use crate::api_error::ApiError;

pub struct WidgetChat {
    service: Arc<ChatService>,
    limiter: RequestLimiter,
}

impl WidgetChat {
    pub fn new(service: Arc<ChatService>, limiter: RequestLimiter) -> Self {
        WidgetChat { service, limiter }
    }
}

#[async_trait::async_trait]
impl ChatPort for WidgetChat {
    async fn start(&self, channel: &str) -> Result<String, PortError> {
        Ok(self.service.start_conversation(channel).await?)
    }

    async fn read(&self, conversation: &str) -> Result<Value, PortError> {
        Ok(self.service.conversation(conversation).await?)
    }

    async fn send(
        &self,
        conversation: &str,
        text: &str,
        idempotency_key: Option<&str>,
        client: Option<IpAddr>,
    ) -> Result<Value, PortError> {
        self.limiter
            .check(client, conversation)
            .map_err(|retry_after| PortError::RateLimited { retry_after })?;
        Ok(self.service.post_message(conversation, text, idempotency_key).await?)
    }
}

impl From<ApiError> for PortError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::NotFound(_) => PortError::NotFound(
                "This conversation has ended. Reload the page to start a new one.".into(),
            ),
            ApiError::Invalid { .. } | ApiError::BadRequest(_) => {
                PortError::Rejected(shopper_message(&error))
            }
            ApiError::UnsupportedMediaType => PortError::Rejected(error.to_string()),
            ApiError::RateLimited { retry_after } => PortError::RateLimited { retry_after },
            ApiError::NoCatalog | ApiError::Busy => PortError::Unavailable,
            ApiError::Internal(cause) => PortError::Internal(cause.into()),
        }
    }
}

/// The API's messages are for developers ("the message is empty"); a shopper reads these.
fn shopper_message(error: &ApiError) -> String {
    match error {
        ApiError::Invalid { code: "empty", .. } => "Please type a message first.".into(),
        ApiError::Invalid { code: "too_long", .. } => format!(
            "That message is too long. Please keep it under {} characters.",
            super::service::MAX_MESSAGE_CHARS
        ),
        ApiError::Invalid { code: "invalid_text", .. } => {
            "That message contains characters we cannot read. Please type it again.".into()
        }
        other => other.to_string(),
    }
}
