//! Rate limits on the chat API: per client IP (a script hammering the shop) and per
//! conversation (one runaway client), answered with 429 and our error body.

use std::{sync::Arc, time::Duration};

use axum::{
    body::Body,
    http::{header, HeaderValue, Request, Response},
    response::IntoResponse,
};
use governor::middleware::NoOpMiddleware;
use tower_governor::{
    governor::{GovernorConfig, GovernorConfigBuilder},
    key_extractor::{KeyExtractor, PeerIpKeyExtractor},
    GovernorError, GovernorLayer,
};

use crate::api_error::ApiError;

/// Requests per second refilled and the burst allowed, for one key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: u32,
}

/// Keys a request by the conversation in its path: `/api/v1/conversations/{id}/…`.
#[derive(Debug, Clone, Copy)]
pub struct ConversationKey;

impl KeyExtractor for ConversationKey {
    type Key = String;

    fn extract<T>(&self, request: &Request<T>) -> Result<Self::Key, GovernorError> {
        request
            .uri()
            .path()
            .strip_prefix("/api/v1/conversations/")
            .and_then(|rest| rest.split('/').next())
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

fn config<K>(key: K, rate: Rate) -> Arc<GovernorConfig<K, NoOpMiddleware>>
where
    K: KeyExtractor + Send + Sync + 'static,
    K::Key: Send + Sync + 'static,
{
    let period = Duration::from_secs_f64(1.0 / rate.per_second.max(0.001));
    let config = GovernorConfigBuilder::default()
        .key_extractor(key)
        .period(period)
        .burst_size(rate.burst.max(1))
        .finish()
        .expect("a positive period and burst");
    let config = Arc::new(config);
    // Forget keys that have been quiet, so the table does not grow without bound.
    let limiter = config.limiter().clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            limiter.retain_recent();
        }
    });
    config
}

pub fn per_ip(rate: Rate) -> GovernorLayer<PeerIpKeyExtractor, NoOpMiddleware, Body> {
    GovernorLayer::new(config(PeerIpKeyExtractor, rate)).error_handler(too_many)
}

pub fn per_conversation(rate: Rate) -> GovernorLayer<ConversationKey, NoOpMiddleware, Body> {
    GovernorLayer::new(config(ConversationKey, rate)).error_handler(too_many)
}

fn too_many(error: GovernorError) -> Response<Body> {
    match error {
        GovernorError::TooManyRequests { wait_time, .. } => {
            let mut response = ApiError::RateLimited { retry_after: wait_time }.into_response();
            if let Ok(value) = HeaderValue::from_str(&wait_time.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        GovernorError::UnableToExtractKey | GovernorError::Other { .. } => {
            ApiError::BadRequest("the request could not be attributed to a client".into())
                .into_response()
        }
    }
}

/// Limits checked by hand where no layer fits, keyed by the client's IP and by a
/// subject: the chat widget's conversation (one per session), a returns lookup's order.
pub struct RequestLimiter {
    per_ip: Arc<GovernorConfig<PeerIpKeyExtractor, NoOpMiddleware>>,
    per_subject: Arc<GovernorConfig<ConversationKey, NoOpMiddleware>>,
}

impl RequestLimiter {
    pub fn new(per_ip: Rate, per_subject: Rate) -> Self {
        RequestLimiter {
            per_ip: config(PeerIpKeyExtractor, per_ip),
            per_subject: config(ConversationKey, per_subject),
        }
    }

    /// `Err(seconds to wait)` when either limit is exhausted.
    pub fn check(&self, client: Option<std::net::IpAddr>, subject: &str) -> Result<(), u64> {
        use governor::clock::{Clock, DefaultClock};
        let wait = |not_until: governor::NotUntil<_>| {
            not_until.wait_time_from(DefaultClock::default().now()).as_secs().max(1)
        };
        if let Some(ip) = client {
            self.per_ip.limiter().check_key(&ip).map_err(wait)?;
        }
        self.per_subject.limiter().check_key(&subject.to_owned()).map_err(wait)
    }
}
