//! What a turn that places an order becomes when a payment provider is configured
//! (CONTRACTS §8): the server asks the provider for a payment link after the pure turn
//! decided to confirm, then either adds the link to the turn or, when the provider
//! cannot be reached, takes the confirmation back so that nothing is reserved for an
//! order nobody can pay. Both stay pure: the server does the I/O in between.

use crate::{
    money::Money,
    orders::{OrderEvent, OrderState, Payment, PaymentStatus},
};

use super::{NoteKind, TurnCode, TurnNote, TurnOutcome};

/// Whether the turn places the order: the moment to ask for a payment link.
pub fn confirms(outcome: &TurnOutcome) -> bool {
    outcome.events.iter().any(|e| matches!(e, OrderEvent::Confirmed { .. }))
}

/// Adds `requested` (a [`OrderEvent::PaymentRequested`]) after the confirmation, to
/// the order and the audit link of the command that confirmed, and tells the shopper
/// where to pay. An event that does not fit the order changes nothing and is the error.
pub fn add_payment_link(
    outcome: &mut TurnOutcome,
    requested: OrderEvent,
) -> Result<(), crate::orders::EventError> {
    outcome.order_after.apply(&requested)?;
    let index = outcome.events.len();
    let confirmed = outcome.events.iter().position(|e| matches!(e, OrderEvent::Confirmed { .. }));
    if let Some(validation) =
        outcome.validations.iter_mut().find(|v| confirmed.is_some_and(|c| v.events.contains(&c)))
    {
        validation.events.push(index);
    }
    outcome.events.push(requested);
    if let Some(url) = &outcome.order_after.payment.url {
        outcome.reply.push_str(&format!(
            " Please pay {} here to complete it: {url}",
            outcome.order_after.totals.total.format(&outcome.order_after.currency)
        ));
    }
    Ok(())
}

/// Takes the confirmation out of the turn (the provider could not be asked): the
/// order stays as it was before, awaiting confirmation, and the shopper is told to
/// confirm again in a moment.
pub fn payment_unavailable(outcome: &mut TurnOutcome, before: &OrderState) {
    let confirmed = outcome.events.iter().position(|e| matches!(e, OrderEvent::Confirmed { .. }));
    let Some(confirmed) = confirmed else { return };
    outcome.events.remove(confirmed);
    for validation in &mut outcome.validations {
        if validation.events.contains(&confirmed) {
            validation.outcome = super::Outcome::Rejected;
            validation.code = Some(TurnCode::PaymentUnavailable);
        }
        validation.events.retain(|&e| e != confirmed);
        for e in &mut validation.events {
            if *e > confirmed {
                *e -= 1;
            }
        }
    }
    let mut order = before.clone();
    // The events that remain applied to `before` already once, in this order.
    let replayed = outcome.events.iter().all(|event| order.apply(event).is_ok());
    outcome.order_after = if replayed { order } else { before.clone() };
    if !replayed {
        outcome.events.clear();
    }
    const SORRY: &str = "I couldn't set up the payment for your order just now, so it is not \
                         placed yet. Please say \"confirm\" again in a minute.";
    outcome.reply = SORRY.to_owned();
    outcome.notes.push(TurnNote {
        kind: NoteKind::Error,
        code: TurnCode::PaymentUnavailable,
        param: None,
        content: SORRY.to_owned(),
    });
}

/// Whether a turn cancels an order that holds money received: the server then sends
/// it back once the cancellation is stored (the turn's reply already says so).
pub fn refund_due(outcome: &TurnOutcome, before: &OrderState) -> bool {
    let cancels = outcome.events.iter().any(|e| matches!(e, OrderEvent::Cancelled { .. }));
    cancels && before.payment.status.received() && before.payment.refundable() > Money::ZERO
}

/// "Did my payment go through?" for the conversation's own order.
pub fn payment_answer(payment: &Payment, order: &OrderState) -> String {
    let total = order.totals.total.format(&order.currency);
    match payment.status {
        PaymentStatus::NotRequired => "There is nothing to pay online for this order.".to_owned(),
        PaymentStatus::Pending => match &payment.url {
            Some(url) => {
                format!("I haven't received your payment yet. You can pay {total} here: {url}")
            }
            None => "I haven't received your payment yet.".to_owned(),
        },
        PaymentStatus::Paid => {
            format!("Yes, your payment of {} went through.", payment.paid.format(&order.currency))
        }
        PaymentStatus::Expired => "The payment link expired before it was used, so the order \
                                   was cancelled. You're welcome to order again."
            .to_owned(),
        PaymentStatus::Refunded => format!(
            "Your payment was received and {} has been refunded to you.",
            payment.refunded.format(&order.currency)
        ),
        PaymentStatus::PartiallyRefunded => format!(
            "Your payment of {} was received; {} of it has been refunded to you.",
            payment.paid.format(&order.currency),
            payment.refunded.format(&order.currency)
        ),
    }
}
