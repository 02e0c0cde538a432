//! The payment sweep: what Stripe's webhooks should have told us but may not have.
//!
//! A webhook can be lost (the endpoint was misconfigured, the server was down for longer
//! than Stripe retries, the signing secret was rotated), and a refund can fail. So every
//! [`SweepSettings::interval`] the sweep looks at the orders the store names
//! ([`gapless_store::PaymentStore::payment_followups`]) and settles each against Stripe's own record:
//!
//! - a payment link past its expiry (plus [`SweepSettings::grace`], the time Stripe
//!   takes to send `checkout.session.expired`): the session is read from Stripe. Paid
//!   after all → the order is marked paid; expired → the payment expires and the stock
//!   goes back; still open → it is ended now, then expired. Each is recorded through the
//!   webhook's own path, as if Stripe had sent it, under an event id of ours
//!   (`gapless-sweep:…`), so a late webhook changes nothing;
//! - a cancelled order that still holds money: it is refunded
//!   ([`refund_cancelled`]).
//!
//! Nothing is decided from our clock alone: an order is called off only when Stripe
//! says its link is no longer payable.

use std::{sync::Arc, time::Duration};

use gapless_domain::orders::{OrderNumber, OrderStatus, PaymentStatus};
use gapless_store::Store;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use super::{
    refund::refund_cancelled,
    stored_order,
    webhook::{self, EventData, SessionObject, StripeEvent},
    PaymentError, Payments,
};

#[derive(Debug, Clone, Copy)]
pub struct SweepSettings {
    /// How often the sweep runs.
    pub interval: Duration,
    /// How long after a link's expiry Stripe's own `expired` event is waited for.
    pub grace: time::Duration,
    /// Orders looked at per round.
    pub batch: u32,
}

impl Default for SweepSettings {
    fn default() -> Self {
        SweepSettings {
            interval: Duration::from_secs(60),
            grace: time::Duration::minutes(10),
            batch: 100,
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Links Stripe says were paid after all, now recorded.
    pub paid: u32,
    /// Links that ran out, now expired (stock given back).
    pub expired: u32,
    /// Cancelled orders whose money was sent back.
    pub refunded: u32,
    /// Orders that could not be settled this round (Stripe unreachable or refusing);
    /// they are tried again next round.
    pub failed: u32,
}

/// Runs the sweep every `settings.interval` until `stop` is cancelled.
pub fn spawn(
    store: Arc<dyn Store>,
    payments: Arc<Payments>,
    settings: SweepSettings,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(settings.interval) => {}
            }
            let now = OffsetDateTime::now_utc();
            match sweep_once(store.as_ref(), &payments, settings, now).await {
                Ok(swept) if swept != Swept::default() => {
                    tracing::info!(?swept, "payment sweep");
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "payment sweep failed"),
            }
        }
    })
}

/// One round at time `now`.
pub async fn sweep_once(
    store: &dyn Store,
    payments: &Payments,
    settings: SweepSettings,
    now: OffsetDateTime,
) -> Result<Swept, PaymentError> {
    let mut swept = Swept::default();
    for number in store.payment_followups(now - settings.grace, settings.batch).await? {
        let Ok(number) = OrderNumber::parse(&number) else {
            tracing::warn!(number, "payment sweep: a stored order number does not parse");
            continue;
        };
        match settle(store, payments, &number).await {
            Ok(Settled::Paid) => swept.paid += 1,
            Ok(Settled::Expired) => swept.expired += 1,
            Ok(Settled::Refunded) => swept.refunded += 1,
            Ok(Settled::Nothing) => {}
            Err(error) => {
                tracing::warn!(order = %number, %error, "payment sweep: not settled, trying again next round");
                swept.failed += 1;
            }
        }
    }
    Ok(swept)
}

enum Settled {
    Paid,
    Expired,
    Refunded,
    Nothing,
}

async fn settle(
    store: &dyn Store,
    payments: &Payments,
    number: &OrderNumber,
) -> Result<Settled, PaymentError> {
    let Some(order) = stored_order(store, number).await? else { return Ok(Settled::Nothing) };
    let payment = &order.state.payment;
    if payment.status == PaymentStatus::Pending {
        let Some(session) = &payment.session else { return Ok(Settled::Nothing) };
        let provider = |e: super::stripe::StripeError| PaymentError::Provider(e.to_string());
        let mut current = payments.checkout_session(session).await.map_err(provider)?;
        if current.status.as_deref() == Some("open") {
            current = payments.expire_now(session).await.map_err(provider)?;
        }
        let paid = current.status.as_deref() == Some("complete")
            && current.payment_status.as_deref() == Some("paid");
        let kind = match current.status.as_deref() {
            Some("complete") if paid => "checkout.session.completed",
            Some("expired") => "checkout.session.expired",
            // Complete but the money is still on its way (a bank transfer): wait.
            _ => return Ok(Settled::Nothing),
        };
        let event = StripeEvent {
            id: format!("gapless-sweep:{session}:{kind}"),
            kind: kind.to_owned(),
            data: EventData {
                object: SessionObject {
                    id: Some(current.id.clone()),
                    client_reference_id: Some(number.to_string()),
                    payment_status: current.payment_status.clone(),
                    payment_intent: current.payment_intent.clone(),
                    amount_total: current.amount_total,
                },
            },
        };
        let outcome = webhook::handle(store, &event).await?;
        if outcome != "recorded" {
            return Ok(Settled::Nothing);
        }
        if !paid {
            return Ok(Settled::Expired);
        }
        // Paid for an order cancelled meanwhile: the money goes back now.
        refund_cancelled(store, payments, number).await?;
        return Ok(Settled::Paid);
    }
    if order.state.status == OrderStatus::Cancelled {
        return Ok(match refund_cancelled(store, payments, number).await? {
            Some(_) => Settled::Refunded,
            None => Settled::Nothing,
        });
    }
    Ok(Settled::Nothing)
}
