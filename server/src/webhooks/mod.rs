//! Webhooks out (CONTRACTS §6): every order and return event reaches the shop's own
//! systems as a signed POST.
//!
//! - [`Webhooks`]: endpoints (add, list, remove, pause), their deliveries, "send again"
//!   and "send a test event", shared by the CLI, the staff API and the console.
//! - [`worker`]: the delivery loop `gapless serve` runs.
//! - [`render`]: the message bodies.
//! - [`api`]: the admin routes under `/api/v1/staff/webhooks`.

pub mod api;
pub mod render;
pub mod worker;

use std::sync::Arc;

use base64::Engine;
use gapless_domain::webhooks::{EventFilter, FilterError};
use gapless_store::{
    new_id, unix_ms, DeliveryRow, DeliveryStatus, EndpointRow, NewEndpoint, Store, StoreError,
};
use time::OffsetDateTime;

/// Longest endpoint URL accepted.
const MAX_URL: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("{0}")]
    BadUrl(String),
    #[error(transparent)]
    BadFilter(#[from] FilterError),
    #[error("no webhook endpoint {0}")]
    UnknownEndpoint(String),
    #[error("no failed delivery {0} for this endpoint")]
    NotFailed(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub use app::staff::webhooks::{CreatedEndpoint, DeliveryView, EndpointView};

fn endpoint_view(row: EndpointRow) -> EndpointView {
    EndpointView {
        id: row.id,
        url: row.url,
        events: row.events,
        paused: row.paused,
        created_at: ms_rfc3339(row.created_ms),
    }
}

fn delivery_view(row: DeliveryRow) -> DeliveryView {
    DeliveryView {
        id: row.id,
        event_id: row.event_id,
        kind: row.topic,
        status: row.status.as_str().to_owned(),
        attempts: row.attempts,
        created_at: ms_rfc3339(row.created_ms),
        next_attempt_at: (row.status == DeliveryStatus::Pending)
            .then(|| ms_rfc3339(row.next_attempt_ms)),
        last_attempt_at: row.last_attempt_ms.map(ms_rfc3339),
        last_status: row.last_status,
        last_latency_ms: row.last_latency_ms,
        last_error: row.last_error,
        done_at: row.done_ms.map(ms_rfc3339),
    }
}

fn ms_rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(crate::json_time::rfc3339)
        .unwrap_or_default()
}

/// Endpoints and deliveries, for the CLI, the API and the console alike.
#[derive(Clone)]
pub struct Webhooks {
    store: Arc<dyn Store>,
}

impl Webhooks {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Webhooks { store }
    }

    /// Adds an endpoint for `url` taking `events` (none given: all).
    pub async fn add(&self, url: &str, events: &[String]) -> Result<CreatedEndpoint, WebhookError> {
        let url = check_url(url)?;
        let filters = if events.is_empty() {
            vec![EventFilter::parse("*")?]
        } else {
            EventFilter::parse_all(events)?
        };
        let events: Vec<String> = filters.iter().map(|f| f.as_str().to_owned()).collect();
        let id = format!("ep_{}", new_id());
        let secret = new_secret();
        let new = NewEndpoint {
            id: id.clone(),
            url: url.clone(),
            events: events.clone(),
            secret: secret.clone(),
            created_ms: unix_ms(OffsetDateTime::now_utc()),
        };
        if !self.store.add_endpoint(&new).await? {
            return Err(StoreError::Conflict("endpoint id taken".into()).into());
        }
        tracing::info!(endpoint = %id, events = ?events, "webhook endpoint added");
        Ok(CreatedEndpoint { id, url, events, secret })
    }

    pub async fn list(&self) -> Result<Vec<EndpointView>, WebhookError> {
        Ok(self.store.endpoints().await?.into_iter().map(endpoint_view).collect())
    }

    pub async fn remove(&self, id: &str) -> Result<(), WebhookError> {
        if self.store.remove_endpoint(id).await? {
            tracing::info!(endpoint = %id, "webhook endpoint removed");
            Ok(())
        } else {
            Err(WebhookError::UnknownEndpoint(id.to_owned()))
        }
    }

    pub async fn set_paused(&self, id: &str, paused: bool) -> Result<(), WebhookError> {
        if self.store.set_endpoint_paused(id, paused).await? {
            tracing::info!(endpoint = %id, paused, "webhook endpoint paused or resumed");
            Ok(())
        } else {
            Err(WebhookError::UnknownEndpoint(id.to_owned()))
        }
    }

    pub async fn deliveries(
        &self,
        id: &str,
        status: Option<DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<DeliveryView>, WebhookError> {
        self.known(id).await?;
        let rows = self.store.deliveries(id, status, limit.clamp(1, 500)).await?;
        Ok(rows.into_iter().map(delivery_view).collect())
    }

    /// A failed delivery back in the queue, due now.
    pub async fn send_again(&self, id: &str, delivery: i64) -> Result<(), WebhookError> {
        self.known(id).await?;
        let now = unix_ms(OffsetDateTime::now_utc());
        if self.store.redeliver(id, delivery, now).await? {
            Ok(())
        } else {
            Err(WebhookError::NotFailed(delivery))
        }
    }

    /// Queues a `webhook.test` message for this endpoint only; returns its delivery id.
    pub async fn send_test(&self, id: &str) -> Result<i64, WebhookError> {
        let now = OffsetDateTime::now_utc();
        let event_id = format!("test_{}", new_id());
        let body = render::test_body(now);
        self.store
            .enqueue_test(id, &event_id, &body, unix_ms(now))
            .await?
            .ok_or_else(|| WebhookError::UnknownEndpoint(id.to_owned()))
    }

    async fn known(&self, id: &str) -> Result<(), WebhookError> {
        if self.store.endpoints().await?.iter().any(|e| e.id == id) {
            Ok(())
        } else {
            Err(WebhookError::UnknownEndpoint(id.to_owned()))
        }
    }
}

/// An absolute `http` or `https` URL with a host, no credentials in it.
fn check_url(url: &str) -> Result<String, WebhookError> {
    let url = url.trim();
    if url.len() > MAX_URL {
        return Err(WebhookError::BadUrl(format!("the URL is longer than {MAX_URL} characters")));
    }
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| WebhookError::BadUrl(format!("{url:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(WebhookError::BadUrl(format!(
            "{url:?} is not an http:// or https:// URL with a host"
        )));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(WebhookError::BadUrl(
            "put no user or password in the URL: receivers check the signature".into(),
        ));
    }
    Ok(parsed.to_string())
}

/// `whsec_` and 32 random bytes in base64: a Standard Webhooks secret.
fn new_secret() -> String {
    use ring::rand::SecureRandom;
    let mut key = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut key)
        .expect("the operating system's random source works");
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_absolute_http_without_credentials() {
        assert_eq!(check_url(" https://crm.example/hook ").unwrap(), "https://crm.example/hook");
        assert!(check_url("http://127.0.0.1:9000/x?token=1").is_ok());
        for bad in ["", "crm.example/hook", "ftp://crm.example/", "https://u:p@crm.example/"] {
            assert!(check_url(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(check_url(&format!("https://a.example/{}", "x".repeat(MAX_URL))).is_err());
    }

    #[test]
    fn secrets_are_standard_webhooks_keys() {
        let secret = new_secret();
        assert!(secret.starts_with("whsec_"));
        assert_ne!(secret, new_secret());
        let key = base64::engine::general_purpose::STANDARD
            .decode(secret.trim_start_matches("whsec_"))
            .unwrap();
        assert_eq!(key.len(), 32);
        assert!(standardwebhooks::Webhook::new(&secret).is_ok());
    }
}
