//! `/metrics` in the Prometheus text format: request counts and latencies measured by a
//! middleware, and the shop's key counts (conversations by outcome, orders and returns by
//! status, chat turns) read from the database, so every app server on one PostgreSQL
//! reports the same business figures. The LLM extractor adds the model's latency, its
//! errors by kind and the turns that fell back to the rules extractor.
//!
//! Only a scraper with `GAPLESS_METRICS_TOKEN` (`Authorization: Bearer …`) reads it;
//! without the setting it is off. The counts are full-table counts: they are read at
//! most once per `GAPLESS_METRICS_REFRESH_MS` (one scrape reads, concurrent ones wait
//! for it), and scrapes in between are served from that snapshot.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    extract::{Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use gapless_store::{MetricsSnapshot, Store};
use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

use secrecy::{ExposeSecret, SecretString};

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

/// The webhook worker's figures; cloning shares them.
#[derive(Debug, Clone, Default)]
pub struct WebhookMetrics {
    attempts: Family<OutcomeLabels, Counter>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

impl WebhookMetrics {
    /// One attempt: `delivered`, `retry` or `failed`.
    pub fn attempt(&self, outcome: &str) {
        self.attempts.get_or_create(&OutcomeLabels { outcome: outcome.to_owned() }).inc();
    }
}

/// The customer email step's figures; cloning shares them.
#[derive(Debug, Clone, Default)]
pub struct EmailMetrics {
    attempts: Family<OutcomeLabels, Counter>,
}

impl EmailMetrics {
    /// One attempt: `sent`, `retry` or `failed`.
    pub fn attempt(&self, outcome: &str) {
        self.attempts.get_or_create(&OutcomeLabels { outcome: outcome.to_owned() }).inc();
    }
}

pub struct Metrics {
    registry: Registry,
    email: EmailMetrics,
    email_pending: Gauge,
    email_failed: Gauge,
    llm: LlmMetrics,
    webhooks: WebhookMetrics,
    webhook_lag: Gauge<f64, std::sync::atomic::AtomicU64>,
    webhook_pending: Gauge,
    webhook_failed: Gauge,
    requests: Family<StatusLabels, Counter>,
    duration: Histogram,
    conversations: Family<StateLabels, Gauge>,
    orders: Family<StateLabels, Gauge>,
    returns: Family<StateLabels, Gauge>,
    chat_turns: Gauge,
    /// The bearer token a scraper must send; `None`: `/metrics` is off.
    token: Option<SecretString>,
    /// How long one read of the counts is served.
    refresh: Duration,
    /// The counts last read and when; the lock also makes concurrent scrapes share one
    /// read.
    counts: tokio::sync::Mutex<Option<(Instant, Arc<MetricsSnapshot>)>>,
}

impl Default for Metrics {
    /// Off (no token), counts read at every scrape: for tools that only need the
    /// LLM figures.
    fn default() -> Self {
        Metrics::new(None, Duration::ZERO)
    }
}

impl Metrics {
    pub fn new(token: Option<SecretString>, refresh: Duration) -> Self {
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
        let webhooks = WebhookMetrics::default();
        registry.register(
            "webhook_attempts",
            "Webhook sends, by outcome: delivered, retry (will be tried again), failed (given up)",
            webhooks.attempts.clone(),
        );
        let webhook_lag = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "webhook_lag_seconds",
            "Age of the oldest webhook message not yet delivered (0 when none waits)",
            webhook_lag.clone(),
        );
        let webhook_pending = Gauge::default();
        registry.register(
            "webhook_pending_messages",
            "Webhook messages waiting to be delivered, across endpoints",
            webhook_pending.clone(),
        );
        let webhook_failed = Gauge::default();
        registry.register(
            "webhook_failed_messages",
            "Webhook messages given up on, until staff send them again",
            webhook_failed.clone(),
        );
        let email = EmailMetrics::default();
        registry.register(
            "email_attempts",
            "Customer email sends, by outcome: sent, retry (will be tried again), failed (given up)",
            email.attempts.clone(),
        );
        let email_pending = Gauge::default();
        registry.register(
            "email_pending_messages",
            "Customer emails waiting to be sent",
            email_pending.clone(),
        );
        let email_failed = Gauge::default();
        registry.register(
            "email_failed_messages",
            "Customer emails refused (5xx) or given up on; staff see why on the order page",
            email_failed.clone(),
        );
        let token = token.filter(|t| !t.expose_secret().trim().is_empty());
        Metrics {
            registry,
            email,
            email_pending,
            email_failed,
            llm,
            webhooks,
            webhook_lag,
            webhook_pending,
            webhook_failed,
            requests,
            duration,
            conversations,
            orders,
            returns,
            chat_turns,
            token,
            refresh,
            counts: tokio::sync::Mutex::new(None),
        }
    }
}

impl Metrics {
    pub fn llm(&self) -> LlmMetrics {
        self.llm.clone()
    }

    pub fn webhooks(&self) -> WebhookMetrics {
        self.webhooks.clone()
    }

    pub fn email(&self) -> EmailMetrics {
        self.email.clone()
    }

    fn observe(&self, status: StatusCode, seconds: f64) {
        let class = format!("{}xx", status.as_u16() / 100);
        self.requests.get_or_create(&StatusLabels { status: class }).inc();
        self.duration.observe(seconds);
    }

    /// The shop's counts, read again only when the last read is older than `refresh`.
    async fn counts(
        &self,
        store: &dyn Store,
    ) -> Result<Arc<MetricsSnapshot>, gapless_store::StoreError> {
        let mut cached = self.counts.lock().await;
        if let Some((read_at, snapshot)) = cached.as_ref() {
            if read_at.elapsed() < self.refresh {
                return Ok(snapshot.clone());
            }
        }
        let snapshot = Arc::new(store.metrics_snapshot().await?);
        *cached = Some((Instant::now(), snapshot.clone()));
        Ok(snapshot)
    }

    /// Whether `request` carries the scrape token; compared in constant time.
    fn allows(&self, headers: &axum::http::HeaderMap) -> bool {
        let Some(token) = &self.token else { return false };
        let Some(sent) = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token)
        else {
            return false;
        };
        let (sent, expected) = (sent.trim().as_bytes(), token.expose_secret().as_bytes());
        sent.len() == expected.len()
            && sent.iter().zip(expected).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
    }

    async fn render(&self, store: &dyn Store) -> Result<String, gapless_store::StoreError> {
        let snapshot = self.counts(store).await?;
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
        let outbox = store.outbox_health().await?;
        let now = gapless_store::unix_ms(time::OffsetDateTime::now_utc());
        self.webhook_lag
            .set(outbox.oldest_pending_ms.map_or(0.0, |at| (now - at).max(0) as f64 / 1000.0));
        self.webhook_pending
            .set(i64::try_from(outbox.pending + outbox.unfanned).unwrap_or(i64::MAX));
        self.webhook_failed.set(i64::try_from(outbox.failed).unwrap_or(i64::MAX));
        let email = store.email_health().await?;
        self.email_pending.set(i64::try_from(email.pending).unwrap_or(i64::MAX));
        self.email_failed.set(i64::try_from(email.failed).unwrap_or(i64::MAX));
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

/// `GET /metrics`, with `Authorization: Bearer $GAPLESS_METRICS_TOKEN`.
pub async fn scrape(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if state.metrics.token.is_none() {
        return (
            StatusCode::NOT_FOUND,
            "/metrics is off: set GAPLESS_METRICS_TOKEN to scrape it\n",
        )
            .into_response();
    }
    if !state.metrics.allows(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
            "send Authorization: Bearer <GAPLESS_METRICS_TOKEN>\n",
        )
            .into_response();
    }
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
