//! The LLM settings: flags with environment variables, like every other setting. The
//! API key is a [`SecretString`]: its `Debug` is redacted and it is never logged.

use std::time::Duration;

use anyhow::bail;
use secrecy::SecretString;

/// Which extractor reads chat messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ExtractorMode {
    /// The embedded rules extractor only; no model is called.
    #[default]
    Rules,
    /// The model first; on a timeout, an error or no usable tool call the rules
    /// extractor answers, and the audit trail says why.
    Llm,
    /// The rules extractor answers; the model reads the message too and both outputs
    /// are recorded for staff to compare.
    Shadow,
}

impl ExtractorMode {
    pub fn uses_model(self) -> bool {
        self != ExtractorMode::Rules
    }
}

/// How to reach an OpenAI-compatible chat completions endpoint.
#[derive(Debug, Clone, clap::Args)]
pub struct LlmArgs {
    /// Base URL of the OpenAI-compatible API (…/v1).
    #[arg(long = "openai-base-url", env = "OPENAI_BASE_URL", default_value = DEFAULT_BASE_URL)]
    pub base_url: String,

    /// API key sent as a bearer token; some local endpoints need none.
    #[arg(long = "openai-api-key", env = "OPENAI_API_KEY", hide_env_values = true, value_parser = parse_secret)]
    pub api_key: Option<SecretString>,

    /// The model that reads chat messages (required for `llm`, `shadow` and the eval).
    #[arg(long = "llm-model", env = "GAPLESS_LLM_MODEL")]
    pub model: Option<String>,

    /// How long one turn waits for the model, retries included, in milliseconds.
    #[arg(long = "llm-timeout-ms", env = "GAPLESS_LLM_TIMEOUT_MS", default_value_t = DEFAULT_TIMEOUT_MS)]
    pub timeout_ms: u64,

    /// Retries after a rate limit, a server error or a lost connection (within the timeout).
    #[arg(long = "llm-max-retries", env = "GAPLESS_LLM_MAX_RETRIES", default_value_t = DEFAULT_MAX_RETRIES)]
    pub max_retries: u32,

    /// Let the model word the reply; shown only when it keeps every fact of the template.
    #[arg(long = "llm-phrase", env = "GAPLESS_LLM_PHRASE", default_value_t = false)]
    pub phrase: bool,
}

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
pub const DEFAULT_TIMEOUT_MS: u64 = 8000;
pub const DEFAULT_MAX_RETRIES: u32 = 1;

impl Default for LlmArgs {
    fn default() -> Self {
        LlmArgs {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            model: None,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            max_retries: DEFAULT_MAX_RETRIES,
            phrase: false,
        }
    }
}

fn parse_secret(text: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(text.to_owned()))
}

/// The settings checked: what a model call needs.
#[derive(Debug, Clone)]
pub struct LlmSettings {
    pub base_url: String,
    pub api_key: Option<SecretString>,
    pub model: String,
    pub timeout: Duration,
    pub max_retries: u32,
    pub phrase: bool,
}

impl LlmArgs {
    /// `what` names the feature that needs the model, for the error.
    pub fn settings(&self, what: &str) -> anyhow::Result<LlmSettings> {
        let Some(model) = self.model.as_deref().map(str::trim).filter(|m| !m.is_empty()) else {
            bail!(
                "{what} needs a model: set GAPLESS_LLM_MODEL (and OPENAI_BASE_URL, \
                 OPENAI_API_KEY for the endpoint)"
            );
        };
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            bail!("OPENAI_BASE_URL must be an http:// or https:// URL");
        }
        if self.timeout_ms == 0 {
            bail!("GAPLESS_LLM_TIMEOUT_MS must be more than 0");
        }
        Ok(LlmSettings {
            base_url: self.base_url.trim_end_matches('/').to_owned(),
            api_key: self.api_key.clone(),
            model: model.to_owned(),
            timeout: Duration::from_millis(self.timeout_ms),
            max_retries: self.max_retries,
            phrase: self.phrase,
        })
    }
}
