//! A refund staff record on a return of a paid order goes back through Stripe first
//! (CONTRACTS §8): the return becomes `refunded` only once Stripe accepted, in the same
//! transaction as the order's `refunded` event. The idempotency key is the return and
//! the event it will be, so a second click after a failure (or a retry after a lost
//! race) never refunds twice; and no refund exceeds what was paid and not yet
//! refunded.

use gapless_domain::{
    money::Money,
    orders::{OrderEvent, OrderNumber, OrderState, OrderStatus, PaymentStatus, ProviderId},
};
use gapless_store::{OrderWrite, PaymentEventWrite, Store, StoreError};
use time::OffsetDateTime;

use super::PaymentError;
use super::{stored_order, stripe::Refund, Payments, PROVIDER};
use crate::orders::order_write;

/// A refund a staff member recorded on a return.
#[derive(Debug, Clone)]
pub struct RefundRequest<'a> {
    /// The order the return is of.
    pub order_number: &'a str,
    pub rma: &'a str,
    pub return_id: &'a str,
    /// The seq the return's `refunded` event will have.
    pub return_seq: u32,
    pub amount: Money,
    pub at: OffsetDateTime,
}

/// Sends the refund's amount of the order's payment back and returns the order's
/// `refunded` write; `None` when the order took no payment through a provider (nothing
/// to send: the refund is recorded as before payments).
pub async fn send_refund(
    store: &dyn Store,
    payments: Option<&Payments>,
    request: &RefundRequest<'_>,
) -> Result<Option<OrderWrite>, PaymentError> {
    let RefundRequest { rma, return_id, return_seq, amount, at, .. } = *request;
    let Ok(number) = OrderNumber::parse(request.order_number) else { return Ok(None) };
    let Some(order) = stored_order(store, &number).await? else { return Ok(None) };
    let payment = &order.state.payment;
    if payment.status == PaymentStatus::NotRequired || amount <= Money::ZERO {
        return Ok(None);
    }
    if !payment.status.received() {
        return Err(PaymentError::NotPaid { number, status: payment.status.as_str() });
    }
    let refundable = payment.refundable();
    if amount > refundable {
        let refundable = refundable.format(&order.state.currency);
        return Err(PaymentError::OverPaid { number, refundable });
    }
    let (Some(payments), Some(intent)) = (payments, &payment.payment_intent) else {
        return Err(PaymentError::Provider(format!(
            "order {number} was paid through Stripe, which this server is not set up to reach \
             (GAPLESS_PAYMENTS); nothing was refunded or recorded"
        )));
    };
    let key = format!("gapless-refund-{return_id}-{return_seq}");
    let refund =
        payments.refund(intent, amount.minor(), &key, &number, Some(rma)).await.map_err(|e| {
            tracing::warn!(order = %number, rma, error = %e, "refund not sent");
            PaymentError::Provider(format!(
                "The refund was not sent: {e}. Nothing was recorded; try again."
            ))
        })?;
    let (event, state) = refunded(&refund, Some(rma), at, order.state).map_err(|e| {
        e.unwrap_or_else(|| {
            PaymentError::Provider(format!(
                "Stripe did not send the refund (status {}). Nothing was recorded; try again.",
                refund.status
            ))
        })
    })?;
    tracing::info!(order = %number, rma, refund = %refund.id, amount = refund.amount, "refund sent");
    Ok(Some(order_write(order.id, order.version, &number, &[event], &state, "system")?))
}

/// Tries when another writer keeps moving the order on.
const ATTEMPTS: usize = 5;

/// Sends back what a cancelled order still holds of its payment, and records the
/// order's `refunded` event; the amount sent, or `None` when there was nothing to send
/// (the order is not cancelled, was never paid, or was refunded already).
///
/// A customer who cancels a paid order in the chat, and a payment that arrives for an
/// order cancelled meanwhile, both end here; the payment sweep calls it again for any
/// that failed, until Stripe accepts. The idempotency key is the order's own (one
/// cancellation refund per order), so a retry after a lost answer or a crash between
/// Stripe's acceptance and our write gets the same refund back instead of a second one.
pub async fn refund_cancelled(
    store: &dyn Store,
    payments: &Payments,
    number: &OrderNumber,
) -> Result<Option<Money>, PaymentError> {
    for _ in 0..ATTEMPTS {
        let Some(order) = stored_order(store, number).await? else { return Ok(None) };
        let payment = &order.state.payment;
        let amount = payment.refundable();
        if order.state.status != OrderStatus::Cancelled
            || !payment.status.received()
            || amount <= Money::ZERO
        {
            return Ok(None);
        }
        let Some(intent) = &payment.payment_intent else {
            return Err(PaymentError::Provider(format!(
                "order {number} was paid without a payment id Stripe can refund against"
            )));
        };
        let key = format!("gapless-cancel-refund-{}", order.id);
        let refund =
            payments.refund(intent, amount.minor(), &key, number, None).await.map_err(|e| {
                PaymentError::Provider(format!("the refund of cancelled order {number}: {e}"))
            })?;
        let (event, state) = refunded(&refund, None, OffsetDateTime::now_utc(), order.state)
            .map_err(|e| {
                e.unwrap_or_else(|| {
                    PaymentError::Provider(format!(
                        "Stripe did not send the refund of cancelled order {number} (status {})",
                        refund.status
                    ))
                })
            })?;
        // Kept by the refund's id like a provider event: the same refund twice (two
        // sweeps at once) is written once.
        let write = PaymentEventWrite {
            provider: PROVIDER.to_owned(),
            event_id: refund.id.clone(),
            event_type: "refund.sent".to_owned(),
            order_number: Some(number.to_string()),
            order: Some(order_write(order.id, order.version, number, &[event], &state, "system")?),
            at: OffsetDateTime::now_utc(),
        };
        match store.record_payment_event(&write).await {
            Ok(true) => {
                tracing::info!(order = %number, refund = %refund.id, amount = refund.amount, "refund of a cancelled order sent");
                return Ok(Some(Money(refund.amount)));
            }
            Ok(false) => return Ok(None),
            Err(StoreError::Conflict(_)) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(PaymentError::Busy)
}

/// The order's `refunded` event for a refund Stripe took, and the order after it;
/// `Err(None)` when Stripe did not send it (failed or canceled), for the caller to word.
fn refunded(
    refund: &Refund,
    rma: Option<&str>,
    at: OffsetDateTime,
    mut order: OrderState,
) -> Result<(OrderEvent, OrderState), Option<PaymentError>> {
    if matches!(refund.status.as_str(), "failed" | "canceled") {
        return Err(None);
    }
    let refund_id = ProviderId::parse(&refund.id).map_err(|_| {
        PaymentError::Internal(anyhow::anyhow!("Stripe refund id {:?} is not an id", refund.id))
    })?;
    let event = OrderEvent::Refunded {
        refund: refund_id,
        amount: Money(refund.amount),
        rma: rma.map(str::to_owned),
        at,
    };
    order
        .apply(&event)
        .map_err(|e| PaymentError::Internal(anyhow::Error::new(e).context("applying a refund")))?;
    Ok((event, order))
}
