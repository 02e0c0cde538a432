//! The LLM extractor for one turn: ask the model for tool calls, parse them strictly,
//! decide whether the proposal is usable or the rules extractor must answer, and
//! optionally let the model word the template reply.

use std::sync::Arc;

use gapless_domain::{
    catalog::Catalog,
    chat::{
        llm::{checked_reply, facts, parse_tool_calls, system_prompt, LlmExtraction, ToolSpec},
        turn::TurnOutcome,
        Extraction,
    },
    orders::OrderState,
};
use serde_json::{json, Value};

use super::{
    caller::ModelRequest,
    client::{ModelClient, ModelRun},
};

/// What the model proposed for one message.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub model: String,
    pub run: ModelRun,
    pub parsed: LlmExtraction,
    /// Why the rules extractor must answer instead, when it must.
    pub fallback: Option<Fallback>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    /// The metrics label: an error kind, `no_tool_call` or `rejected_calls`.
    pub kind: &'static str,
    /// For staff: what happened, in words.
    pub reason: String,
}

impl Proposal {
    /// The commands to validate, when the model proposed any that parsed.
    pub fn extraction(&self) -> Option<&Extraction> {
        self.fallback.is_none().then_some(&self.parsed.extraction)
    }

    /// The audit trail's `llm` record: model, raw tool calls, refused calls, tokens,
    /// latency and the fallback reason.
    pub fn audit(&self) -> Value {
        let (answer, error) = match &self.run.answer {
            Ok(answer) => (Some(answer), None),
            Err(error) => {
                (None, Some(json!({ "kind": error.kind(), "message": error.to_string() })))
            }
        };
        json!({
            "model": answer.map_or(self.model.as_str(), |a| a.model.as_str()),
            "latency_ms": self.run.latency_ms,
            "attempts": self.run.attempts,
            "tool_calls": answer.map(|a| &a.tool_calls),
            "text": answer.and_then(|a| a.text.as_ref()),
            "usage": answer.and_then(|a| a.usage),
            "rejected_calls": self.parsed.rejected,
            "error": error,
            "fallback": self.fallback.as_ref().map(|f| &f.reason),
        })
    }
}

/// A reply worded by the model, or why the template stands.
#[derive(Debug, Clone)]
pub struct Phrasing {
    pub reply: String,
    pub audit: Value,
}

const PHRASE_PROMPT: &str = "\
You reword an online shop assistant's reply so that it reads naturally and kindly. Keep \
every fact listed below exactly as written, character for character. Add no number, price, \
total, discount, date, promise or offer of your own, and nothing the reply does not say. \
Answer with the reworded reply only.
Facts to keep:";

#[derive(Clone)]
pub struct LlmExtractor {
    client: ModelClient,
    phrase: bool,
}

impl LlmExtractor {
    pub fn new(client: ModelClient, phrase: bool) -> Self {
        LlmExtractor { client, phrase }
    }

    pub fn model(&self) -> &str {
        &self.client.model
    }

    pub async fn propose(
        &self,
        catalog: &Catalog,
        tools: Arc<[ToolSpec]>,
        order: &OrderState,
        message: &str,
    ) -> Proposal {
        let request = ModelRequest {
            model: self.client.model.clone(),
            system: system_prompt(catalog, order),
            message: message.to_owned(),
            tools,
        };
        let run = self.client.ask(&request).await;
        let (parsed, fallback) = match &run.answer {
            Err(error) => (
                LlmExtraction::default(),
                Some(Fallback { kind: error.kind(), reason: format!("{}: {error}", error.kind()) }),
            ),
            Ok(answer) => {
                let parsed = parse_tool_calls(catalog, &answer.tool_calls);
                let fallback = if answer.tool_calls.is_empty() {
                    Some(Fallback {
                        kind: "no_tool_call",
                        reason: "the model called no tool".to_owned(),
                    })
                } else if parsed.extraction.commands.is_empty() {
                    Some(Fallback {
                        kind: "rejected_calls",
                        reason: format!(
                            "every tool call was refused ({} of {})",
                            parsed.rejected.len(),
                            answer.tool_calls.len()
                        ),
                    })
                } else {
                    None
                };
                (parsed, fallback)
            }
        };
        Proposal { model: self.client.model.clone(), run, parsed, fallback }
    }

    pub fn phrases(&self) -> bool {
        self.phrase
    }

    /// The model's wording of `outcome.reply`, used only when
    /// [`checked_reply`] finds every fact in it and no number of its own.
    pub async fn phrase(&self, outcome: &TurnOutcome) -> Phrasing {
        let facts = facts(outcome);
        let mut system = PHRASE_PROMPT.to_owned();
        for fact in &facts {
            system.push_str("\n- ");
            system.push_str(fact);
        }
        let request = ModelRequest {
            model: self.client.model.clone(),
            system,
            message: outcome.reply.clone(),
            tools: Arc::from(Vec::new()),
        };
        let run = self.client.ask(&request).await;
        let text = run.answer.as_ref().ok().and_then(|a| a.text.clone()).unwrap_or_default();
        let reply = checked_reply(&outcome.reply, &facts, &text);
        let used = run.answer.is_ok() && reply != outcome.reply;
        let audit = json!({
            "used": used,
            "latency_ms": run.latency_ms,
            "text": run.answer.as_ref().ok().and_then(|a| a.text.as_ref()),
            "usage": run.answer.as_ref().ok().and_then(|a| a.usage),
            "error": run.answer.as_ref().err().map(|e| json!({ "kind": e.kind(), "message": e.to_string() })),
        });
        Phrasing { reply, audit }
    }
}
