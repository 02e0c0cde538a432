//! The seam between the chat and any model provider: one request in, the tool calls
//! (or text) out. The OpenAI-compatible client implements it; tests and other
//! providers can stand in.

use std::sync::Arc;

use async_trait::async_trait;
use gapless_domain::chat::llm::{ToolCall, ToolSpec};
use serde::Serialize;

/// One chat completion: a system prompt, the shopper's message, the tools offered.
#[derive(Debug, Clone)]
pub struct ModelRequest {
    pub model: String,
    pub system: String,
    pub message: String,
    /// Empty when text is wanted (phrasing a reply).
    pub tools: Arc<[ToolSpec]>,
}

/// What the model answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ModelAnswer {
    /// The model as the endpoint names it in its answer.
    pub model: String,
    /// Raw, unparsed: the audit trail keeps exactly what came back.
    pub tool_calls: Vec<ToolCall>,
    pub text: Option<String>,
    pub usage: Option<TokenUsage>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TokenUsage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub total_tokens: u32,
}

/// Why a model call gave no answer. The messages never contain the API key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    #[error("no answer within {0} ms")]
    Timeout(u64),
    #[error("rate limited by the model endpoint: {0}")]
    RateLimited(String),
    #[error("the model endpoint failed: {0}")]
    Server(String),
    /// A 4xx other than 429: a wrong key, model or request. Retrying cannot help.
    #[error("the model endpoint refused the request: {0}")]
    Refused(String),
    #[error("cannot reach the model endpoint: {0}")]
    Transport(String),
    #[error("the model's answer is unreadable: {0}")]
    InvalidAnswer(String),
}

impl LlmError {
    /// The metrics label and the audit trail's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            LlmError::Timeout(_) => "timeout",
            LlmError::RateLimited(_) => "rate_limited",
            LlmError::Server(_) => "server_error",
            LlmError::Refused(_) => "refused",
            LlmError::Transport(_) => "transport",
            LlmError::InvalidAnswer(_) => "invalid_answer",
        }
    }

    /// Whether the same request may succeed when sent again.
    pub fn is_transient(&self) -> bool {
        matches!(self, LlmError::RateLimited(_) | LlmError::Server(_) | LlmError::Transport(_))
    }
}

#[async_trait]
pub trait ToolCaller: Send + Sync {
    /// One attempt: no retries and no deadline, which [`super::ModelClient`] owns.
    async fn call(&self, request: &ModelRequest) -> Result<ModelAnswer, LlmError>;
}
