//! `gapless bench-llm`: what the LLM path costs beyond the model's own time. A fake
//! OpenAI-compatible model on loopback answers at once with fixed tool calls, so every
//! millisecond measured is ours: the system prompt, the request's JSON, the HTTP round
//! trip through `async-openai`, reading the answer, the strict parse and the validator.
//! The rules path (extract + validate) is measured in the same run for comparison.
//! No database: a turn's reads and writes are the same on both paths.

use std::{
    fmt,
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::Context;
use axum::{http::header, routing::post, Router};
use gapless_domain::{
    catalog::Catalog,
    chat::{
        turn::{take_turn, take_turn_with, TurnInput},
        RulesExtractor,
    },
    orders::OrderState,
    stock::StockLevels,
};
use serde_json::json;

use crate::chat::llm::{self, LlmArgs};

#[derive(Debug, clap::Args)]
pub struct BenchLlmArgs {
    /// Turns to time on each path (after a warm-up).
    #[arg(long, default_value_t = 2000)]
    pub turns: usize,
    /// The catalog the turns run against.
    #[arg(long, default_value = "demo/catalog.json")]
    pub catalog: PathBuf,
    /// The shopper's message.
    #[arg(long, default_value = "hi, two black tees in M and a trail bottle")]
    pub message: String,
}

pub struct Report {
    pub turns: usize,
    pub llm: (Duration, Duration),
    pub rules: (Duration, Duration),
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        writeln!(
            f,
            "llm path, {} turns against a zero-delay fake model on loopback (prompt, HTTP, \
             parse, validate): p50 {:.3} ms, p99 {:.3} ms",
            self.turns,
            ms(self.llm.0),
            ms(self.llm.1)
        )?;
        write!(
            f,
            "rules path, same turns (extract, validate): p50 {:.3} ms, p99 {:.3} ms",
            ms(self.rules.0),
            ms(self.rules.1)
        )
    }
}

/// What the fake model always answers: the tool calls for the default message.
fn fixed_answer() -> String {
    let call = |id: &str, name: &str, arguments: serde_json::Value| {
        json!({ "id": id, "type": "function",
                "function": { "name": name, "arguments": arguments.to_string() } })
    };
    json!({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 1_700_000_000,
        "model": "bench-model",
        "choices": [ { "index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": null, "tool_calls": [
                call("call_0", "add_item", json!({ "product": "tee", "quantity": 2,
                                                   "options": { "size": "m", "color": "black" } })),
                call("call_1", "add_item", json!({ "product": "trail bottle" })),
            ] } } ],
        "usage": { "prompt_tokens": 900, "completion_tokens": 40, "total_tokens": 940 }
    })
    .to_string()
}

pub async fn run(args: &BenchLlmArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(args.turns > 0, "--turns must be at least 1");
    let text = std::fs::read_to_string(&args.catalog)
        .with_context(|| format!("cannot read the catalog file {}", args.catalog.display()))?;
    let catalog = Catalog::from_json(&text)
        .with_context(|| format!("the catalog file {} is not valid", args.catalog.display()))?;

    let answer = fixed_answer();
    let fake = Router::new().route(
        "/v1/chat/completions",
        post(move || {
            let answer = answer.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], answer) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, fake).await });

    let settings = LlmArgs {
        base_url: format!("http://{address}/v1"),
        model: Some("bench-model".into()),
        max_retries: 0,
        ..LlmArgs::default()
    }
    .settings("bench-llm")?;
    let model = llm::openai_extractor(&settings, None)?;
    let rules = RulesExtractor::new(&catalog);
    let stock = StockLevels::default();
    let order = OrderState::new(catalog.currency);
    let input = TurnInput {
        catalog: &catalog,
        extractor: &rules,
        stock: &stock,
        order: &order,
        message: &args.message,
        order_number: None,
        cancel_block: None,
        emails_customer: false,
    };

    let warm_up = (args.turns / 10).clamp(10, 200);
    let mut llm_times = Vec::with_capacity(args.turns);
    let mut rules_times = Vec::with_capacity(args.turns);
    for i in 0..warm_up + args.turns {
        let started = Instant::now();
        let proposal = model.propose(&rules, &order, &args.message).await;
        let extraction = proposal.extraction().cloned().with_context(|| {
            format!("the fake model's answer was not usable: {:?}", proposal.fallback)
        })?;
        let outcome = take_turn_with(input, extraction);
        let llm_time = started.elapsed();
        anyhow::ensure!(!outcome.events.is_empty(), "the model's calls changed nothing");

        let started = Instant::now();
        let outcome = take_turn(input);
        let rules_time = started.elapsed();
        anyhow::ensure!(!outcome.events.is_empty(), "the rules extractor changed nothing");
        if i >= warm_up {
            llm_times.push(llm_time);
            rules_times.push(rules_time);
        }
    }
    Ok(Report { turns: args.turns, llm: percentiles(llm_times), rules: percentiles(rules_times) })
}

/// p50 and p99, nearest rank.
fn percentiles(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    (at(0.5), at(0.99))
}
