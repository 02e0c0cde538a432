//! A refund staff record on a return of a paid order goes back through Stripe first
//! (CONTRACTS §8): the return becomes `refunded` only once Stripe accepted, in the same
//! transaction as the order's `refunded` event. The idempotency key is the return and
//! the event it will be, so a second click after a failure (or a retry after a lost
//! race) never refunds twice; and no refund exceeds what was paid and not yet
//! refunded.

use gapless_domain::{
    money::Money,
    orders::{OrderEvent, OrderNumber, PaymentStatus},
};
use gapless_store::{OrderWrite, Store};
use time::OffsetDateTime;

use super::{stored_order, Payments};
use crate::{api_error::ApiError, orders::order_write};

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
) -> Result<Option<OrderWrite>, ApiError> {
    let RefundRequest { rma, return_id, return_seq, amount, at, .. } = *request;
    let Ok(number) = OrderNumber::parse(request.order_number) else { return Ok(None) };
    let Some(order) = stored_order(store, &number).await? else { return Ok(None) };
    let payment = &order.state.payment;
    if payment.status == PaymentStatus::NotRequired || amount <= Money::ZERO {
        return Ok(None);
    }
    if !payment.status.received() {
        return Err(ApiError::invalid(
            "not_paid",
            format!(
                "order {number} was never paid ({}): there is nothing to refund",
                payment.status.as_str()
            ),
        ));
    }
    let refundable = payment.refundable();
    if amount > refundable {
        return Err(ApiError::invalid(
            "refund_over_paid",
            format!(
                "at most {} of what was paid for order {number} can still be refunded",
                refundable.format(&order.state.currency)
            ),
        ));
    }
    let (Some(payments), Some(intent)) = (payments, &payment.payment_intent) else {
        return Err(ApiError::PaymentProvider(format!(
            "order {number} was paid through Stripe, which this server is not set up to reach \
             (GAPLESS_PAYMENTS); nothing was refunded or recorded"
        )));
    };
    let key = format!("gapless-refund-{return_id}-{return_seq}");
    let refund =
        payments.refund(intent, amount.minor(), &key, &number, rma).await.map_err(|e| {
            tracing::warn!(order = %number, rma, error = %e, "refund not sent");
            ApiError::PaymentProvider(format!(
                "The refund was not sent: {e}. Nothing was recorded; try again."
            ))
        })?;
    if matches!(refund.status.as_str(), "failed" | "canceled") {
        return Err(ApiError::PaymentProvider(format!(
            "Stripe did not send the refund (status {}). Nothing was recorded; try again.",
            refund.status
        )));
    }
    let refund_id = gapless_domain::orders::ProviderId::parse(&refund.id).map_err(|_| {
        ApiError::Internal(anyhow::anyhow!("Stripe refund id {:?} is not an id", refund.id))
    })?;
    let event = OrderEvent::Refunded {
        refund: refund_id,
        amount: Money(refund.amount),
        rma: Some(rma.to_owned()),
        at,
    };
    let mut state = order.state;
    state
        .apply(&event)
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("applying a refund")))?;
    tracing::info!(order = %number, rma, refund = %refund.id, amount = refund.amount, "refund sent");
    Ok(Some(order_write(order.id, order.version, &number, &[event], &state, "system")?))
}
