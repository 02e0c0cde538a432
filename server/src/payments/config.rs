//! The payment settings. The secrets are `SecretString`s (redacted in `Debug`) and
//! `hide_env_values`, so neither logs nor `--help` ever show them.

use std::time::Duration;

use anyhow::bail;
use secrecy::{ExposeSecret, SecretString};

use super::{stripe::StripeClient, Payments};

pub const DEFAULT_HOLD_MINUTES: u32 = 60;
/// Stripe lets a Checkout Session live from 30 minutes to 24 hours.
const HOLD_MINUTES: std::ops::RangeInclusive<u32> = 30..=1440;
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
pub const DEFAULT_ATTEMPTS: u32 = 3;
pub const DEFAULT_SWEEP_SECONDS: u64 = 60;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum PaymentMode {
    /// Orders are confirmed unpaid (`payment.status` `not_required`).
    #[default]
    None,
    /// Confirmation creates a Stripe Checkout Session; the order waits for payment.
    Stripe,
}

#[derive(Debug, Clone, clap::Args)]
pub struct PaymentArgs {
    /// How orders are paid: `none` (confirmed unpaid, as without payments) or `stripe`
    /// (Stripe Checkout; needs STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET and
    /// GAPLESS_PAYMENT_RETURN_URL).
    #[arg(long = "payments", env = "GAPLESS_PAYMENTS", value_enum, default_value = "none")]
    pub mode: PaymentMode,

    /// Stripe's API address; tests point it at a fake on loopback.
    #[arg(long = "stripe-api-base", env = "STRIPE_API_BASE", default_value = super::stripe::DEFAULT_API_BASE)]
    pub stripe_api_base: String,

    /// Stripe secret key (`sk_test_…` or `sk_live_…`, or a restricted `rk_…` key).
    #[arg(long = "stripe-secret-key", env = "STRIPE_SECRET_KEY", hide_env_values = true, value_parser = parse_secret)]
    pub stripe_secret_key: Option<SecretString>,

    /// Signing secret of the webhook endpoint (`whsec_…`) that Stripe shows when the
    /// endpoint /api/v1/payments/stripe/webhook is added.
    #[arg(long = "stripe-webhook-secret", env = "STRIPE_WEBHOOK_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub stripe_webhook_secret: Option<SecretString>,

    /// Minutes an unpaid order holds its stock: the payment link's lifetime (30 to
    /// 1440). When it runs out the order is cancelled and the stock given back.
    #[arg(long = "payment-hold-minutes", env = "GAPLESS_PAYMENT_HOLD_MINUTES", default_value_t = DEFAULT_HOLD_MINUTES)]
    pub hold_minutes: u32,

    /// Where Stripe sends the customer after paying or giving up: the shop page
    /// (`https://shop.example/`); `?paid=G-…` is added after a payment.
    #[arg(long = "payment-return-url", env = "GAPLESS_PAYMENT_RETURN_URL")]
    pub return_url: Option<String>,

    /// How long one request to Stripe may take, in milliseconds.
    #[arg(long = "stripe-timeout-ms", env = "STRIPE_TIMEOUT_MS", default_value_t = DEFAULT_TIMEOUT_MS)]
    pub stripe_timeout_ms: u64,

    /// Tries per Stripe request when Stripe cannot be reached or answers 5xx.
    #[arg(long = "stripe-attempts", env = "STRIPE_ATTEMPTS", default_value_t = DEFAULT_ATTEMPTS)]
    pub stripe_attempts: u32,

    /// Seconds between payment sweeps, which settle with Stripe what its webhooks did
    /// not tell (links past their expiry, refunds of cancelled orders still owed);
    /// 0 turns the sweep off.
    #[arg(long = "payment-sweep-seconds", env = "GAPLESS_PAYMENT_SWEEP_SECONDS", default_value_t = DEFAULT_SWEEP_SECONDS)]
    pub sweep_seconds: u64,
}

impl Default for PaymentArgs {
    fn default() -> Self {
        PaymentArgs {
            mode: PaymentMode::None,
            stripe_api_base: super::stripe::DEFAULT_API_BASE.to_owned(),
            stripe_secret_key: None,
            stripe_webhook_secret: None,
            hold_minutes: DEFAULT_HOLD_MINUTES,
            return_url: None,
            stripe_timeout_ms: DEFAULT_TIMEOUT_MS,
            stripe_attempts: DEFAULT_ATTEMPTS,
            sweep_seconds: DEFAULT_SWEEP_SECONDS,
        }
    }
}

fn parse_secret(text: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(text.to_owned()))
}

fn is_web_address(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        !rest.split(['/', '?', '#']).next().unwrap_or("").is_empty()
            && !url.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

impl PaymentArgs {
    /// The configured provider, or `None` for `none`; every missing or bad setting of
    /// `stripe` is named, so the server does not start half configured.
    pub fn payments(&self) -> anyhow::Result<Option<Payments>> {
        if self.mode == PaymentMode::None {
            return Ok(None);
        }
        let mut problems = Vec::new();
        let secret =
            self.stripe_secret_key.clone().filter(|s| !s.expose_secret().trim().is_empty());
        if secret.is_none() {
            problems.push("STRIPE_SECRET_KEY is not set".to_owned());
        }
        let webhook =
            self.stripe_webhook_secret.clone().filter(|s| !s.expose_secret().trim().is_empty());
        if webhook.is_none() {
            problems.push("STRIPE_WEBHOOK_SECRET is not set".to_owned());
        }
        if !is_web_address(&self.stripe_api_base) {
            problems.push(format!(
                "STRIPE_API_BASE must be an http:// or https:// address, not {:?}",
                self.stripe_api_base
            ));
        }
        let return_url = self.return_url.clone().unwrap_or_default();
        if !is_web_address(&return_url) {
            problems.push(
                "GAPLESS_PAYMENT_RETURN_URL must be the shop page's http:// or https:// address"
                    .to_owned(),
            );
        }
        if !HOLD_MINUTES.contains(&self.hold_minutes) {
            problems.push(format!(
                "GAPLESS_PAYMENT_HOLD_MINUTES must be 30 to 1440 (Stripe's limits), not {}",
                self.hold_minutes
            ));
        }
        let (Some(secret), Some(webhook), true) = (secret, webhook, problems.is_empty()) else {
            bail!("GAPLESS_PAYMENTS=stripe is not fully configured: {}", problems.join("; "));
        };
        let stripe = StripeClient::new(
            &self.stripe_api_base,
            secret,
            Duration::from_millis(self.stripe_timeout_ms.max(1)),
            self.stripe_attempts,
            Duration::from_millis(200),
        )?;
        tracing::info!(
            api = %self.stripe_api_base,
            hold_minutes = self.hold_minutes,
            "payments through Stripe Checkout"
        );
        Ok(Some(Payments::new(
            stripe,
            webhook,
            time::Duration::minutes(i64::from(self.hold_minutes)),
            return_url,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_needs_nothing_and_stripe_names_what_is_missing() {
        assert!(PaymentArgs::default().payments().unwrap().is_none());
        let stripe = PaymentArgs {
            mode: PaymentMode::Stripe,
            hold_minutes: 10,
            stripe_secret_key: Some("sk_test_do_not_print".to_owned().into()),
            ..PaymentArgs::default()
        };
        let error = stripe.payments().unwrap_err().to_string();
        for named in ["STRIPE_WEBHOOK_SECRET", "GAPLESS_PAYMENT_RETURN_URL", "HOLD_MINUTES"] {
            assert!(error.contains(named), "{error}");
        }
        assert!(!error.contains("STRIPE_SECRET_KEY"), "{error}");
        assert!(!format!("{error} {stripe:?}").contains("sk_test_do_not_print"));
        let complete = PaymentArgs {
            stripe_webhook_secret: Some("whsec_x".to_owned().into()),
            return_url: Some("https://shop.example/".into()),
            hold_minutes: 30,
            ..stripe
        };
        assert!(complete.payments().unwrap().is_some());
    }
}
