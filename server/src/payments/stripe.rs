//! The one place Gapless talks to Stripe: form-encoded POSTs to `STRIPE_API_BASE`
//! with the secret key as bearer token and an `Idempotency-Key` on every request, so a
//! retry (ours, or a staff member's second click) never charges or refunds twice.
//! Connection errors, timeouts and 5xx answers are tried again with growing delays; a
//! 4xx is Stripe's decision and is returned at once.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{de::DeserializeOwned, Deserialize};

/// Stripe's own API.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StripeError {
    /// Not reached, or it failed on its side, on every try.
    #[error("Stripe cannot be reached: {0}")]
    Unavailable(String),
    /// Stripe answered no (a 4xx): its message says why. `kind` is Stripe's error
    /// `type` (`card_error` for a declined card, `invalid_request_error`, …).
    #[error("Stripe refused: {message}")]
    Refused { status: u16, kind: Option<String>, code: Option<String>, message: String },
    /// An answer that is not what Stripe documents.
    #[error("Stripe answered something unexpected: {0}")]
    Unexpected(String),
}

/// A Checkout Session as far as we read it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    pub url: Option<String>,
    pub amount_total: Option<i64>,
    pub expires_at: i64,
    /// `open`, `complete` or `expired`.
    #[serde(default)]
    pub status: Option<String>,
    /// `paid`, `unpaid` or `no_payment_required`.
    #[serde(default)]
    pub payment_status: Option<String>,
    #[serde(default)]
    pub payment_intent: Option<String>,
    #[serde(default)]
    pub client_reference_id: Option<String>,
}

impl StripeError {
    /// The customer's payment method said no (a card declined, HTTP 402 with a
    /// `card_error`), as opposed to Stripe being unreachable or refusing our request.
    pub fn is_declined(&self) -> bool {
        matches!(self, StripeError::Refused { status, kind, .. }
            if *status == 402 || kind.as_deref() == Some("card_error"))
    }
}

/// A PaymentIntent as far as we read it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    /// Minor units.
    pub amount: i64,
    /// Lower case, as Stripe writes it.
    pub currency: String,
    /// `succeeded`, `processing`, `requires_action`, `requires_payment_method`,
    /// `requires_capture` or `canceled`.
    pub status: String,
}

/// A refund as far as we read it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Refund {
    pub id: String,
    pub amount: i64,
    /// `pending`, `requires_action`, `succeeded`, `failed` or `canceled`.
    pub status: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(rename = "type")]
    kind: Option<String>,
    code: Option<String>,
    message: Option<String>,
}

pub struct StripeClient {
    http: reqwest::Client,
    base: String,
    secret: SecretString,
    attempts: u32,
    first_delay: Duration,
}

impl std::fmt::Debug for StripeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeClient").field("base", &self.base).finish_non_exhaustive()
    }
}

impl StripeClient {
    /// `attempts` tries per request (at least one), `timeout` each, delays doubling
    /// from `first_delay` between them.
    pub fn new(
        base: &str,
        secret: SecretString,
        timeout: Duration,
        attempts: u32,
        first_delay: Duration,
    ) -> anyhow::Result<StripeClient> {
        crate::tls::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Gapless/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(StripeClient {
            http,
            base: base.trim_end_matches('/').to_owned(),
            secret,
            attempts: attempts.max(1),
            first_delay,
        })
    }

    /// `POST /v1/checkout/sessions`.
    pub async fn create_checkout_session(
        &self,
        form: &[(String, String)],
        idempotency_key: &str,
    ) -> Result<CheckoutSession, StripeError> {
        self.post("/v1/checkout/sessions", form, idempotency_key).await
    }

    /// `POST /v1/checkout/sessions/{id}/expire`: the link stops working now.
    pub async fn expire_checkout_session(
        &self,
        session: &str,
        idempotency_key: &str,
    ) -> Result<CheckoutSession, StripeError> {
        let path = format!("/v1/checkout/sessions/{session}/expire");
        self.post(&path, &[], idempotency_key).await
    }

    /// `GET /v1/checkout/sessions/{id}`: the session as Stripe has it now.
    pub async fn retrieve_checkout_session(
        &self,
        session: &str,
    ) -> Result<CheckoutSession, StripeError> {
        let path = format!("/v1/checkout/sessions/{session}");
        self.send(reqwest::Method::GET, &path, &[], None).await
    }

    /// `POST /v1/payment_intents`: with `confirm=true`, the payment is attempted now.
    /// A declined card is a 402 `card_error` ([`StripeError::is_declined`]).
    pub async fn create_payment_intent(
        &self,
        form: &[(String, String)],
        idempotency_key: &str,
    ) -> Result<PaymentIntent, StripeError> {
        self.post("/v1/payment_intents", form, idempotency_key).await
    }

    /// `POST /v1/refunds`.
    pub async fn create_refund(
        &self,
        form: &[(String, String)],
        idempotency_key: &str,
    ) -> Result<Refund, StripeError> {
        self.post("/v1/refunds", form, idempotency_key).await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &[(String, String)],
        idempotency_key: &str,
    ) -> Result<T, StripeError> {
        self.send(reqwest::Method::POST, path, form, Some(idempotency_key)).await
    }

    /// One request, tried again on 5xx and connection errors: a POST always carries
    /// an idempotency key, so a retry never does anything twice; a GET changes
    /// nothing.
    async fn send<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        form: &[(String, String)],
        idempotency_key: Option<&str>,
    ) -> Result<T, StripeError> {
        let url = format!("{}{path}", self.base);
        let mut delay = self.first_delay;
        let mut last = StripeError::Unavailable("not tried".into());
        for attempt in 1..=self.attempts {
            if attempt > 1 {
                tokio::time::sleep(delay).await;
                delay = delay.saturating_mul(2);
            }
            let mut request =
                self.http.request(method.clone(), &url).bearer_auth(self.secret.expose_secret());
            if let Some(key) = idempotency_key {
                request = request.header("Idempotency-Key", key).form(form);
            }
            let sent = request.send().await;
            let response = match sent {
                Ok(response) => response,
                Err(error) => {
                    // Without the URL's query or the headers: nothing secret.
                    last = StripeError::Unavailable(error.without_url().to_string());
                    tracing::warn!(path, attempt, error = %last, "Stripe request failed");
                    continue;
                }
            };
            let status = response.status();
            let body = match response.bytes().await {
                Ok(body) => body,
                Err(error) => {
                    last = StripeError::Unavailable(error.without_url().to_string());
                    continue;
                }
            };
            if status.is_server_error() {
                last = StripeError::Unavailable(format!("HTTP {}", status.as_u16()));
                tracing::warn!(path, attempt, status = status.as_u16(), "Stripe answered 5xx");
                continue;
            }
            if !status.is_success() {
                let detail = serde_json::from_slice::<ErrorBody>(&body).ok().map(|b| b.error);
                let code = detail.as_ref().and_then(|d| d.code.clone());
                let kind = detail.as_ref().and_then(|d| d.kind.clone());
                let message = detail
                    .and_then(|d| d.message)
                    .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
                return Err(StripeError::Refused { status: status.as_u16(), kind, code, message });
            }
            return serde_json::from_slice(&body)
                .map_err(|e| StripeError::Unexpected(format!("{path}: {e}")));
        }
        Err(last)
    }
}
