//! The LLM extractor's I/O around the pure core in `gapless_domain::chat::llm`: the
//! settings, the provider seam ([`ToolCaller`]) with its OpenAI-compatible client,
//! retries and the timeout ([`ModelClient`]), and one turn's proposal and phrasing
//! ([`LlmExtractor`]). The model only proposes; the validator decides, as for the rules
//! extractor.

mod caller;
mod client;
mod config;
mod extractor;
mod openai;

use std::sync::Arc;

pub use caller::{LlmError, ModelAnswer, ModelRequest, TokenUsage, ToolCaller};
pub use client::{ModelClient, ModelRun};
pub use config::{ExtractorMode, LlmArgs, LlmSettings};
pub use extractor::{Fallback, LlmExtractor, Phrasing, Proposal};
pub use openai::OpenAiCaller;

use crate::metrics::LlmMetrics;

/// The extractor for `settings` over the OpenAI-compatible client.
pub fn openai_extractor(
    settings: &LlmSettings,
    metrics: Option<LlmMetrics>,
) -> anyhow::Result<LlmExtractor> {
    let caller: Arc<dyn ToolCaller> = Arc::new(OpenAiCaller::new(settings)?);
    let client = ModelClient::new(
        caller,
        settings.model.clone(),
        settings.timeout,
        settings.max_retries,
        metrics,
    );
    Ok(LlmExtractor::new(client, settings.phrase))
}
