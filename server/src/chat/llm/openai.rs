//! [`ToolCaller`] over any OpenAI-compatible chat completions endpoint, with
//! `async-openai`. One attempt per call: retries and the deadline belong to
//! [`super::ModelClient`], so they are the same for every provider.

use std::time::Duration;

use anyhow::Context;
use async_openai::{
    config::OpenAIConfig,
    error::OpenAIError,
    middleware::ReqwestService,
    types::chat::{
        ChatCompletionMessageToolCalls, ChatCompletionRequestMessage,
        ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage, ChatCompletionTool,
        ChatCompletionToolChoiceOption, ChatCompletionTools, CreateChatCompletionRequest,
        CreateChatCompletionResponse, FunctionObject, ToolChoiceOptions,
    },
    Client,
};
use async_trait::async_trait;
use gapless_domain::chat::llm::ToolCall;
use secrecy::ExposeSecret;

use super::{
    caller::{LlmError, ModelAnswer, ModelRequest, TokenUsage, ToolCaller},
    config::LlmSettings,
};

/// Connecting must not eat the whole turn's budget.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Error texts kept for logs and the audit trail.
const MAX_ERROR_CHARS: usize = 300;

pub struct OpenAiCaller {
    client: Client<OpenAIConfig>,
}

impl OpenAiCaller {
    pub fn new(settings: &LlmSettings) -> anyhow::Result<Self> {
        crate::tls::install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .context("cannot build the HTTP client for the model endpoint")?;
        let key = settings.api_key.as_ref().map(|k| k.expose_secret().to_owned());
        let config = OpenAIConfig::new()
            .with_api_base(settings.base_url.clone())
            .with_api_key(key.unwrap_or_default());
        // The plain transport, without the crate's own retry layer (up to 3 retries with
        // its own pauses): retries must stay within the turn's deadline and be counted.
        let client =
            Client::build(http.clone(), config).with_http_service(ReqwestService::new(http));
        Ok(OpenAiCaller { client })
    }
}

#[async_trait]
impl ToolCaller for OpenAiCaller {
    async fn call(&self, request: &ModelRequest) -> Result<ModelAnswer, LlmError> {
        let response = self.client.chat().create(completion_request(request)).await;
        answer(response.map_err(llm_error)?)
    }
}

fn completion_request(request: &ModelRequest) -> CreateChatCompletionRequest {
    let messages: Vec<ChatCompletionRequestMessage> = vec![
        ChatCompletionRequestSystemMessage { content: request.system.clone().into(), name: None }
            .into(),
        ChatCompletionRequestUserMessage { content: request.message.clone().into(), name: None }
            .into(),
    ];
    let tools: Option<Vec<ChatCompletionTools>> = (!request.tools.is_empty()).then(|| {
        request
            .tools
            .iter()
            .map(|tool| {
                ChatCompletionTools::Function(ChatCompletionTool {
                    function: FunctionObject {
                        name: tool.name.to_owned(),
                        description: Some(tool.description.clone()),
                        parameters: Some(tool.parameters.clone()),
                        strict: None,
                    },
                })
            })
            .collect()
    });
    let tool_choice =
        tools.as_ref().map(|_| ChatCompletionToolChoiceOption::Mode(ToolChoiceOptions::Auto));
    CreateChatCompletionRequest {
        model: request.model.clone(),
        messages,
        tools,
        tool_choice,
        ..Default::default()
    }
}

fn answer(response: CreateChatCompletionResponse) -> Result<ModelAnswer, LlmError> {
    let Some(choice) = response.choices.into_iter().next() else {
        return Err(LlmError::InvalidAnswer("no choices in the answer".to_owned()));
    };
    let message = choice.message;
    let tool_calls = message
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .map(|call| match call {
            ChatCompletionMessageToolCalls::Function(call) => {
                ToolCall::new(call.function.name, call.function.arguments)
            }
            // Never offered: named so that the parser refuses it as an unknown tool.
            ChatCompletionMessageToolCalls::Custom(call) => {
                ToolCall::new(format!("custom:{}", call.custom_tool.name), call.custom_tool.input)
            }
        })
        .collect();
    Ok(ModelAnswer {
        model: response.model,
        tool_calls,
        text: message.content.or(message.refusal),
        usage: response.usage.map(|u| TokenUsage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            total_tokens: u.total_tokens,
        }),
    })
}

fn llm_error(error: OpenAIError) -> LlmError {
    match error {
        OpenAIError::ApiError(response) => {
            let status = response.status_code;
            let message = clip(&response.api_error.message);
            match status.as_u16() {
                429 => LlmError::RateLimited(format!("{status}: {message}")),
                500..=599 => LlmError::Server(format!("{status}: {message}")),
                _ => LlmError::Refused(format!("{status}: {message}")),
            }
        }
        OpenAIError::Reqwest(error) if error.is_decode() => {
            LlmError::InvalidAnswer(clip(&error.to_string()))
        }
        OpenAIError::Reqwest(error) => LlmError::Transport(clip(&error.to_string())),
        // The body is left out: it may be long, and it is not ours to keep.
        OpenAIError::JSONDeserialize(error, _) => LlmError::InvalidAnswer(clip(&error.to_string())),
        other => LlmError::InvalidAnswer(clip(&other.to_string())),
    }
}

fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_ERROR_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}
