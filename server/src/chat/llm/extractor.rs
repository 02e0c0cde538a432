//! The LLM extractor for one turn: ask the model for tool calls, parse them strictly,
//! decide whether the proposal is usable or the rules extractor must answer, and
//! optionally let the model word the template reply.

use std::{sync::Arc, time::Instant};

use gapless_domain::{
    chat::{
        llm::{
            checked_reply, facts, parse_tool_calls, search_query, selection_prompt, turn_tools,
            LlmExtraction, Selection, MAX_SEARCHES_PER_CALL, MAX_SEARCH_ROUNDS, SEARCH_CATALOG,
        },
        turn::TurnOutcome,
        Extraction, RulesExtractor,
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
    /// The model calls of the turn: one, plus one after each round of searches.
    pub calls: u32,
    /// The `search_catalog` queries run, with the product names each found.
    pub searches: Vec<(String, Vec<String>)>,
    /// The products offered in the last call, by name.
    pub offered: Vec<String>,
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
            "calls": self.calls,
            "searches": self.searches,
            "offered": self.offered,
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

    /// Asks the model about `message`, offering only the products the phrase index
    /// finds in it and those of the order (see [`Selection`]). An answer that calls
    /// `search_catalog` is not taken: the products found join the selection and the
    /// model is asked again, at most [`MAX_SEARCH_ROUNDS`] times, the last time without
    /// the search tool, every call within the one turn's timeout.
    pub async fn propose(
        &self,
        rules: &RulesExtractor,
        order: &OrderState,
        message: &str,
    ) -> Proposal {
        let deadline = Instant::now() + self.client.timeout();
        let mut selection = Selection::new(rules, order, message);
        let (mut calls, mut attempts, mut latency_ms) = (0, 0, 0.0);
        let run = loop {
            let searchable = (calls as usize) < MAX_SEARCH_ROUNDS;
            let request = ModelRequest {
                model: self.client.model.clone(),
                system: selection_prompt(&selection, order, searchable),
                message: message.to_owned(),
                tools: turn_tools(&selection, order, searchable).into(),
            };
            let run = self.client.ask_until(&request, deadline).await;
            calls += 1;
            attempts += run.attempts;
            latency_ms += run.latency_ms;
            let searches: Vec<&str> = match &run.answer {
                Ok(answer) if searchable => answer
                    .tool_calls
                    .iter()
                    .filter(|call| call.name == SEARCH_CATALOG)
                    .map(|call| call.arguments.as_str())
                    .collect(),
                _ => Vec::new(),
            };
            if searches.is_empty() {
                break ModelRun { attempts, latency_ms, answer: run.answer };
            }
            for query in searches.into_iter().take(MAX_SEARCHES_PER_CALL).filter_map(search_query) {
                selection.search(rules, &query);
            }
        };
        let catalog = selection.catalog();
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
        Proposal {
            model: self.client.model.clone(),
            run,
            parsed,
            fallback,
            calls,
            searches: selection.searches().to_vec(),
            offered: catalog.products.iter().map(|p| p.name.clone()).collect(),
        }
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
