//! The chat widget's way into the chat service: the same turns as the JSON API, with
//! the same per-IP and per-conversation limits (a session holds one conversation, so
//! the latter is the per-session limit).

use std::{net::IpAddr, sync::Arc};

use app::port::{ChatPort, PortError};
use gapless_api::chat::{Conversation, TurnResponse};
use gapless_domain::chat::message::{MessageError, MAX_MESSAGE_CHARS};

use super::error::ChatError;
use super::{limits::RequestLimiter, service::ChatService};

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
        self.service.start_conversation(channel).await.map_err(shopper_error)
    }

    async fn read(&self, conversation: &str) -> Result<Conversation, PortError> {
        self.service.conversation(conversation).await.map_err(shopper_error)
    }

    async fn send(
        &self,
        conversation: &str,
        text: &str,
        idempotency_key: Option<&str>,
        client: Option<IpAddr>,
    ) -> Result<TurnResponse, PortError> {
        self.limiter
            .check(client, conversation)
            .map_err(|retry_after| PortError::RateLimited { retry_after })?;
        self.service.post_message(conversation, text, idempotency_key).await.map_err(shopper_error)
    }
}

/// The API's messages are for developers ("the message is empty"); a shopper reads these.
fn shopper_error(error: ChatError) -> PortError {
    let rejected = |text: String| PortError::Rejected(text);
    match error {
        ChatError::UnknownConversation => PortError::NotFound(
            "This conversation has ended. Reload the page to start a new one.".into(),
        ),
        ChatError::Message(MessageError::Empty) => rejected("Please type a message first.".into()),
        ChatError::Message(MessageError::TooLong { .. }) => rejected(format!(
            "That message is too long. Please keep it under {MAX_MESSAGE_CHARS} characters."
        )),
        ChatError::Message(MessageError::ControlCharacters) => rejected(
            "That message contains characters we cannot read. Please type it again.".into(),
        ),
        // The key rides in the page's form; only an altered page sends a bad one.
        ChatError::BadIdempotencyKey => rejected(error.to_string()),
        ChatError::NoCatalog | ChatError::Busy => PortError::Unavailable,
        ChatError::Internal(cause) => PortError::Internal(cause.into()),
    }
}
