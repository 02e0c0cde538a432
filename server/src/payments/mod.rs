//! Payments through Stripe Checkout (CONTRACTS §8).
//!
//! With `GAPLESS_PAYMENTS=stripe`, the chat's confirmation asks Stripe for a Checkout
//! Session priced from the stored order ([`checkout`]) and appends `payment_requested`
//! with the link in the same turn; Stripe's webhook ([`webhook`]) appends `paid` or
//! `payment_expired` (which gives the stock back); a refund that staff record on a paid
//! order's return is sent to Stripe's Refunds API first ([`Payments::refund`]). An
//! agent completing an ACP checkout with a delegated payment token is charged at once
//! instead, in the turn that confirms ([`token`]). Every
//! one of these is an order event written with its outbox row, so the shop's systems
//! hear `order.paid` and the rest like any other event. With `none` (the default)
//! nothing here runs and orders are confirmed unpaid, `payment.status` `not_required`.

pub mod checkout;
pub mod config;
mod error;
pub mod refund;
pub mod signature;
pub mod stripe;
pub mod sweep;
pub mod token;
pub mod webhook;

use std::sync::Arc;

use gapless_domain::{
    money::Currency,
    orders::{OrderEvent, OrderNumber, OrderState, PaymentUrl, ProviderId},
};
use gapless_store::Store;
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

pub use config::{PaymentArgs, PaymentMode};
pub use error::PaymentError;
use stripe::{Refund, StripeClient, StripeError};

/// The provider name stored in events and in `payment_events`.
pub const PROVIDER: &str = "stripe";

/// Stripe, configured: what the chat, the webhook and refunds use.
#[derive(Debug)]
pub struct Payments {
    stripe: StripeClient,
    webhook_secret: SecretString,
    /// How long an unpaid order holds its stock: the Checkout Session's lifetime.
    hold: time::Duration,
    /// Where Stripe sends the customer back to (the shop page).
    return_url: String,
}

impl Payments {
    pub fn new(
        stripe: StripeClient,
        webhook_secret: SecretString,
        hold: time::Duration,
        return_url: String,
    ) -> Payments {
        Payments { stripe, webhook_secret, hold, return_url }
    }

    /// The configured provider, or `None` for `GAPLESS_PAYMENTS=none`.
    pub fn from_args(args: &PaymentArgs) -> anyhow::Result<Option<Arc<Payments>>> {
        args.payments().map(|p| p.map(Arc::new))
    }

    /// Asks Stripe for a Checkout Session for the confirmed `order` and returns the
    /// `payment_requested` event that records it. The idempotency key is the order and
    /// the version it was confirmed at, so a retry of the same request gets the same
    /// session back.
    pub async fn request_payment(
        &self,
        order_id: &str,
        version: u32,
        number: &OrderNumber,
        order: &OrderState,
    ) -> Result<OrderEvent, StripeError> {
        let expires_at = OffsetDateTime::now_utc() + self.hold;
        let form = checkout::session_form(number, order, expires_at, &self.return_url);
        let key = format!("gapless-checkout-{order_id}-{version}");
        let session = self.stripe.create_checkout_session(&form, &key).await?;
        let unexpected = |what: &str| StripeError::Unexpected(format!("checkout session {what}"));
        let amount = order.totals.total;
        if session.amount_total.is_some_and(|total| total != amount.minor()) {
            return Err(unexpected("total differs from the order's"));
        }
        let url = session.url.as_deref().ok_or_else(|| unexpected("without a url"))?;
        Ok(OrderEvent::PaymentRequested {
            provider: PROVIDER.to_owned(),
            session: ProviderId::parse(&session.id).map_err(|_| unexpected("id"))?,
            url: PaymentUrl::parse(url).map_err(|_| unexpected("url"))?,
            amount,
            expires_at: OffsetDateTime::from_unix_timestamp(session.expires_at)
                .map_err(|_| unexpected("expiry"))?,
        })
    }

    /// Charges an agent's delegated payment `token` (ACP `payment_data.token`, a Stripe
    /// shared payment token `spt_…`) the total of `order`, which this turn confirms,
    /// and returns the `paid` event that records it with the confirmation. The amount
    /// and currency are the order's, never the agent's. The idempotency key is the
    /// order, the version it is confirmed at and the token, so a retry of the same
    /// completion gets the same PaymentIntent back instead of a second charge, while
    /// another token (after a decline) is a charge of its own.
    pub async fn charge_token(
        &self,
        order_id: &str,
        version: u32,
        number: &OrderNumber,
        order: &OrderState,
        token: &str,
    ) -> Result<OrderEvent, StripeError> {
        let amount = order.totals.total;
        let currency = order.currency.as_str().to_ascii_lowercase();
        let form: Vec<(String, String)> = vec![
            ("amount".into(), amount.minor().to_string()),
            ("currency".into(), currency.clone()),
            ("confirm".into(), "true".into()),
            ("payment_method_types[0]".into(), "card".into()),
            ("payment_method_data[shared_payment_granted_token]".into(), token.to_owned()),
            ("metadata[order_number]".into(), number.to_string()),
        ];
        let digest = &crate::fulfilment::keys::hash(token)[..16];
        let key = format!("gapless-charge-{order_id}-{version}-{digest}");
        let intent = self.stripe.create_payment_intent(&form, &key).await?;
        let unexpected = |what: &str| StripeError::Unexpected(format!("payment intent {what}"));
        let id = ProviderId::parse(&intent.id).map_err(|_| unexpected("id"))?;
        if intent.amount != amount.minor() || !intent.currency.eq_ignore_ascii_case(&currency) {
            tracing::error!(order = %number, intent = %id, "Stripe charged another amount than the order's: refund it by hand");
            return Err(unexpected("amount differs from the order's"));
        }
        if intent.status != "succeeded" {
            // Not money received (3-D Secure wanted, still processing): the order is
            // not placed on it.
            tracing::warn!(order = %number, intent = %id, status = intent.status, "a delegated payment did not succeed");
            return Err(StripeError::Refused {
                status: 402,
                kind: Some("card_error".into()),
                code: Some(intent.status.clone()),
                message: format!("the payment was not completed ({})", intent.status),
            });
        }
        Ok(OrderEvent::Paid {
            session: None,
            provider: Some(PROVIDER.to_owned()),
            payment_intent: Some(id),
            amount,
            at: OffsetDateTime::now_utc(),
        })
    }

    /// Ends a payment link that is no longer wanted (the order was cancelled). Stripe
    /// then sends `checkout.session.expired`, which records it. Best effort: a link
    /// that stays open runs out at its expiry anyway.
    pub async fn expire(&self, session: &ProviderId) {
        if let Err(error) = self.expire_now(session).await {
            tracing::warn!(%session, %error, "could not end the payment link of a cancelled order");
        }
    }

    /// Sends `amount` (minor units) of the payment `payment_intent` back: for return
    /// `rma`, or for the whole order when it was cancelled (`None`).
    pub async fn refund(
        &self,
        payment_intent: &ProviderId,
        amount: i64,
        idempotency_key: &str,
        number: &OrderNumber,
        rma: Option<&str>,
    ) -> Result<Refund, StripeError> {
        let mut form = vec![
            ("payment_intent".to_owned(), payment_intent.to_string()),
            ("amount".to_owned(), amount.to_string()),
            ("metadata[order_number]".to_owned(), number.to_string()),
        ];
        match rma {
            Some(rma) => form.push(("metadata[rma]".to_owned(), rma.to_owned())),
            None => form.push(("reason".to_owned(), "requested_by_customer".to_owned())),
        }
        self.stripe.create_refund(&form, idempotency_key).await
    }

    /// The Checkout Session as Stripe has it now.
    pub async fn checkout_session(
        &self,
        session: &ProviderId,
    ) -> Result<stripe::CheckoutSession, StripeError> {
        self.stripe.retrieve_checkout_session(session.as_str()).await
    }

    /// Ends an open payment link now and returns the session as it then is; Stripe
    /// refuses when the session is no longer open (paid meanwhile).
    pub async fn expire_now(
        &self,
        session: &ProviderId,
    ) -> Result<stripe::CheckoutSession, StripeError> {
        let key = format!("gapless-expire-{session}");
        self.stripe.expire_checkout_session(session.as_str(), &key).await
    }

    pub(crate) fn webhook_secret(&self) -> &str {
        self.webhook_secret.expose_secret()
    }
}

/// An order as its events leave it, with what appending to it needs.
pub struct StoredOrder {
    pub id: String,
    /// The seq of its last event.
    pub version: u32,
    pub number: OrderNumber,
    pub state: OrderState,
}

/// Order `number` folded from its events; `None` when there is no such order.
pub async fn stored_order(
    store: &dyn Store,
    number: &OrderNumber,
) -> anyhow::Result<Option<StoredOrder>> {
    let Some(summary) = store.order_summary(number.as_str()).await? else {
        return Ok(None);
    };
    let currency = Currency::parse(&summary.currency)
        .map_err(|e| anyhow::anyhow!("order {number} currency: {e}"))?;
    let rows = store.order_events(&summary.id).await?;
    let (state, version) = crate::orders::fold_events(rows, currency)?;
    Ok(Some(StoredOrder { id: summary.id, version, number: number.clone(), state }))
}
