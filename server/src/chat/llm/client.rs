//! One model call as a turn sees it: bounded by the timeout, retried on transient
//! failures within that bound, timed and counted.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use serde::Serialize;

use super::caller::{LlmError, ModelAnswer, ModelRequest, ToolCaller};
use crate::metrics::LlmMetrics;

/// First pause before a retry; doubled each time, never past the deadline.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

#[derive(Clone)]
pub struct ModelClient {
    caller: Arc<dyn ToolCaller>,
    pub model: String,
    timeout: Duration,
    max_retries: u32,
    metrics: Option<LlmMetrics>,
}

/// The outcome of one call with its retries.
#[derive(Debug, Clone, Serialize)]
pub struct ModelRun {
    pub attempts: u32,
    pub latency_ms: f64,
    #[serde(skip)]
    pub answer: Result<ModelAnswer, LlmError>,
}

impl ModelClient {
    pub fn new(
        caller: Arc<dyn ToolCaller>,
        model: String,
        timeout: Duration,
        max_retries: u32,
        metrics: Option<LlmMetrics>,
    ) -> Self {
        ModelClient { caller, model, timeout, max_retries, metrics }
    }

    pub async fn ask(&self, request: &ModelRequest) -> ModelRun {
        let started = Instant::now();
        let deadline = started + self.timeout;
        let mut attempts = 0;
        let answer = loop {
            attempts += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            let result = match tokio::time::timeout(remaining, self.caller.call(request)).await {
                Ok(result) => result,
                Err(_) => Err(self.timed_out()),
            };
            match result {
                Err(error) if error.is_transient() && attempts <= self.max_retries => {
                    let pause = RETRY_PAUSE * 2u32.saturating_pow(attempts - 1);
                    if Instant::now() + pause >= deadline {
                        break Err(error);
                    }
                    tracing::warn!(kind = error.kind(), %error, attempts, "model call failed; retrying");
                    tokio::time::sleep(pause).await;
                }
                other => break other,
            }
        };
        let latency = started.elapsed();
        if let Some(metrics) = &self.metrics {
            metrics.observe_call(latency.as_secs_f64());
            if let Err(error) = &answer {
                metrics.error(error.kind());
            }
        }
        if let Err(error) = &answer {
            tracing::warn!(kind = error.kind(), %error, attempts, "model call gave no answer");
        }
        ModelRun { attempts, latency_ms: latency.as_secs_f64() * 1000.0, answer }
    }

    fn timed_out(&self) -> LlmError {
        LlmError::Timeout(u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX))
    }
}
