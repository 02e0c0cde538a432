//! `/metrics` in the Prometheus text format: request counts and latencies measured by a
//! middleware, and the shop's key counts (conversations by outcome, orders and returns by
//! status, chat turns) read from the database at each scrape, so every app server on
//! one PostgreSQL reports the same business figures. The LLM extractor adds the model's
//! latency, its errors by kind and the turns that fell back to the rules extractor.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use gapless_store::Store;
use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

use crate::startup::AppState;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    /// `2xx`, `4xx`, …: a label per status code would only add noise.
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

/// The LLM extractor's figures; cloning shares them (prometheus-client metrics are
/// handles).
#[derive(Debug, Clone)]
pub struct LlmMetrics {
    latency: Histogram,
    errors: Family<KindLabels, Counter>,
    fallbacks: Family<KindLabels, Counter>,
    rejected_calls: Counter,
}

impl LlmMetrics {
    /// One model call (retries included) that answered or failed.
    pub fn observe_call(&self, seconds: f64) {
        self.latency.observe(seconds);
    }

    pub fn error(&self, kind: &str) {
        self.errors.get_or_create(&KindLabels { kind: kind.to_owned() }).inc();
    }

    pub fn fallback(&self, reason: &str) {
        self.fallbacks.get_or_create(&KindLabels { kind: reason.to_owned() }).inc();
    }

    pub fn rejected_calls(&self, n: usize) {
        self.rejected_calls.inc_by(n as u64);
    }
}

pub struct Metrics {
    registry: Registry,
    llm: LlmMetrics,
    requests: Family<StatusLabels, Counter>,
    duration: Histogram,
    conversations: Family<StateLabels, Gauge>,
    orders: Family<StateLabels, Gauge>,
    returns: Family<StateLabels, Gauge>,
    chat_turns: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("gapless");
        let requests = Family::<StatusLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by status class",
            requests.clone(),
        );
        // 0.5 ms to ~2 s: chat turns sit at the low end, lookups at 150 ms by design.
        let duration = Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
            0.0005, 2.0, 13,
        ));
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            duration.clone(),
        );
        let conversations = Family::<StateLabels, Gauge>::default();
        registry.register("conversations", "Conversations by outcome", conversations.clone());
        let orders = Family::<StateLabels, Gauge>::default();
        registry.register("orders", "Orders by status", orders.clone());
        let returns = Family::<StateLabels, Gauge>::default();
        registry.register("returns", "Returns by status", returns.clone());
        let chat_turns = Gauge::default();
        registry.register("chat_turns", "Chat turns recorded", chat_turns.clone());
        let llm = LlmMetrics {
            // 10 ms to ~40 s: a model answers in hundreds of milliseconds to seconds.
            latency: Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                0.01, 2.0, 13,
            )),
            errors: Family::default(),
            fallbacks: Family::default(),
            rejected_calls: Counter::default(),
        };
        registry.register(
            "llm_call_duration_seconds",
            "Time the model took to answer one chat turn, retries included",
            llm.latency.clone(),
        );
        registry.register("llm_errors", "Model calls that failed, by kind", llm.errors.clone());
        registry.register(
            "llm_fallbacks",
            "Turns the rules extractor answered because the model gave nothing usable, by reason",
            llm.fallbacks.clone(),
        );
        registry.register(
            "llm_rejected_tool_calls",
            "Tool calls refused by the strict parser",
            llm.rejected_calls.clone(),
        );
        Metrics { registry, llm, requests, duration, conversations, orders, returns, chat_turns }
    }
}

impl Metrics {
    pub fn llm(&self) -> LlmMetrics {
        self.llm.clone()
    }

    fn observe(&self, status: StatusCode, seconds: f64) {
        let class = format!("{}xx", status.as_u16() / 100);
        self.requests.get_or_create(&StatusLabels { status: class }).inc();
        self.duration.observe(seconds);
    }

    async fn render(&self, store: &dyn Store) -> Result<String, gapless_store::StoreError> {
        let snapshot = store.metrics_snapshot().await?;
        for (family, counts) in [
            (&self.conversations, &snapshot.conversations_by_outcome),
            (&self.orders, &snapshot.orders_by_status),
            (&self.returns, &snapshot.returns_by_status),
        ] {
            family.clear();
            for (state, n) in counts {
                family
                    .get_or_create(&StateLabels { state: state.clone() })
                    .set(i64::try_from(*n).unwrap_or(i64::MAX));
            }
        }
        self.chat_turns.set(i64::try_from(snapshot.chat_turns).unwrap_or(i64::MAX));
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        Ok(text)
    }
}

/// Counts and times every request.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.observe(response.status(), started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`.
pub async fn scrape(State(state): State<AppState>) -> Response {
    match state.metrics.render(state.store.as_ref()).await {
        Ok(text) => (
            [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
            text,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "reading metrics from the database failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
