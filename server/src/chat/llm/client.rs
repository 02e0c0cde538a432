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

    /// The longest a turn waits for the model, over all its calls.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub async fn ask(&self, request: &ModelRequest) -> ModelRun {
        self.ask_until(request, Instant::now() + self.timeout).await
    }

    /// One call with its retries, all of them before `deadline`: several calls of one
    /// turn share the turn's deadline.
    pub async fn ask_until(&self, request: &ModelRequest, deadline: Instant) -> ModelRun {
        let started = Instant::now();
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

#[cfg(test)]
mod tests {
    use std::{collections::VecDeque, sync::Mutex};

    use async_trait::async_trait;

    use super::*;

    /// Answers from a script, each after its pause; counts the calls.
    struct Scripted {
        script: Mutex<VecDeque<(Duration, Result<ModelAnswer, LlmError>)>>,
        calls: Mutex<u32>,
    }

    impl Scripted {
        fn new(script: Vec<(Duration, Result<ModelAnswer, LlmError>)>) -> Arc<Scripted> {
            Arc::new(Scripted { script: Mutex::new(script.into()), calls: Mutex::new(0) })
        }

        fn calls(&self) -> u32 {
            *self.calls.lock().unwrap()
        }
    }

    #[async_trait]
    impl ToolCaller for Scripted {
        async fn call(&self, _request: &ModelRequest) -> Result<ModelAnswer, LlmError> {
            *self.calls.lock().unwrap() += 1;
            let next = self.script.lock().unwrap().pop_front();
            let (pause, answer) = next.expect("a scripted answer");
            tokio::time::sleep(pause).await;
            answer
        }
    }

    fn client(caller: Arc<Scripted>, timeout_ms: u64, max_retries: u32) -> ModelClient {
        ModelClient::new(caller, "m".into(), Duration::from_millis(timeout_ms), max_retries, None)
    }

    fn request() -> ModelRequest {
        ModelRequest {
            model: "m".into(),
            system: String::new(),
            message: "hi".into(),
            tools: Arc::from(Vec::new()),
        }
    }

    const NOW: Duration = Duration::ZERO;

    #[tokio::test]
    async fn transient_failures_are_retried_up_to_the_limit() {
        let caller = Scripted::new(vec![
            (NOW, Err(LlmError::RateLimited("slow down".into()))),
            (NOW, Err(LlmError::Server("502".into()))),
            (NOW, Ok(ModelAnswer { model: "m".into(), ..ModelAnswer::default() })),
        ]);
        let run = client(caller.clone(), 5_000, 2).ask(&request()).await;
        assert!(run.answer.is_ok(), "{:?}", run.answer);
        assert_eq!((run.attempts, caller.calls()), (3, 3));

        let caller = Scripted::new(vec![
            (NOW, Err(LlmError::Server("500".into()))),
            (NOW, Err(LlmError::Server("500".into()))),
        ]);
        let run = client(caller.clone(), 5_000, 1).ask(&request()).await;
        assert_eq!(run.answer.unwrap_err().kind(), "server_error");
        assert_eq!(caller.calls(), 2);
    }

    #[tokio::test]
    async fn a_refusal_is_not_retried() {
        let caller = Scripted::new(vec![(NOW, Err(LlmError::Refused("401: bad key".into())))]);
        let run = client(caller.clone(), 5_000, 3).ask(&request()).await;
        assert_eq!(run.answer.unwrap_err().kind(), "refused");
        assert_eq!(caller.calls(), 1);
    }

    #[tokio::test]
    async fn the_timeout_bounds_every_attempt_together() {
        let slow = Duration::from_secs(10);
        let caller = Scripted::new(vec![
            (Duration::from_millis(60), Err(LlmError::Transport("reset".into()))),
            (slow, Ok(ModelAnswer::default())),
        ]);
        let started = Instant::now();
        let run = client(caller.clone(), 200, 5).ask(&request()).await;
        assert_eq!(run.answer.unwrap_err(), LlmError::Timeout(200));
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        assert_eq!(run.attempts, 2);
    }
}
