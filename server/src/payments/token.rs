//! Payment taken at checkout with an agent's delegated payment token (ACP
//! `payment_data.token`, a Stripe shared payment token `spt_…`), CONTRACTS §9.
//!
//! The chat turn that confirms the order charges the token for the order's total
//! ([`Payments::charge_token`]) where it would otherwise ask for a payment link, and
//! writes the `paid` event in the same transaction as `confirmed`. When Stripe says no
//! (declined, or not reachable) the confirmation is taken back as for a link Stripe
//! could not make: nothing is placed and no stock is held. [`TokenCharge`] follows one
//! completion through the turn's retries: a charge whose turn was not written (another
//! writer won the race and the turn was decided again) is sent back when the
//! completion ends ([`TokenCharge::settle`]), so the customer pays once, for the order
//! that was placed.

use std::sync::Mutex;

use gapless_domain::{
    money::Money,
    orders::{OrderEvent, OrderNumber, OrderState, ProviderId},
};

use super::{stripe::StripeError, Payments};

/// One completion's delegated payment token and what was charged with it.
pub struct TokenCharge {
    token: String,
    state: Mutex<Charges>,
}

impl std::fmt::Debug for TokenCharge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCharge").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Charges {
    /// Charged in the attempt being decided, not yet known to be written.
    pending: Option<Charged>,
    /// Written with the order (or perhaps written: the store failed mid-way).
    kept: Vec<ProviderId>,
    /// Charged for an attempt that was not written.
    discarded: Vec<Charged>,
    /// Stripe's last no.
    refused: Option<StripeError>,
}

impl Charges {
    /// The charges no stored write records, once each; they are forgotten here.
    fn take_unrecorded(&mut self) -> Vec<Charged> {
        // Decided but never offered to the store (the turn failed before): not written.
        if let Some(charged) = self.pending.take() {
            self.discarded.push(charged);
        }
        let mut refunds: Vec<Charged> = Vec::new();
        for charged in std::mem::take(&mut self.discarded) {
            let known = refunds.iter().any(|r| r.intent == charged.intent);
            if !known && !self.kept.contains(&charged.intent) {
                refunds.push(charged);
            }
        }
        refunds
    }
}

#[derive(Clone)]
struct Charged {
    intent: ProviderId,
    amount: Money,
    number: OrderNumber,
}

impl TokenCharge {
    pub fn new(token: &str) -> TokenCharge {
        TokenCharge { token: token.to_owned(), state: Mutex::new(Charges::default()) }
    }

    /// Charges the token the total of `order`, confirmed in the turn being decided at
    /// `version`: the `paid` event to write with the confirmation.
    pub async fn charge(
        &self,
        payments: &Payments,
        order_id: &str,
        version: u32,
        number: &OrderNumber,
        order: &OrderState,
    ) -> Result<OrderEvent, StripeError> {
        let charged = payments.charge_token(order_id, version, number, order, &self.token).await;
        let mut state = self.state.lock().expect("not poisoned");
        match &charged {
            Ok(OrderEvent::Paid { payment_intent: Some(intent), amount, .. }) => {
                state.pending = Some(Charged {
                    intent: intent.clone(),
                    amount: *amount,
                    number: number.clone(),
                });
                state.refused = None;
            }
            Ok(_) => {}
            Err(error) => state.refused = Some(error.clone()),
        }
        charged
    }

    /// The attempt's write was stored (or may have been: this is called for a
    /// store error too, so that money that may be recorded is never sent back).
    pub fn written(&self) {
        let mut state = self.state.lock().expect("not poisoned");
        if let Some(charged) = state.pending.take() {
            state.kept.push(charged.intent);
        }
    }

    /// The attempt's write lost a race and was not stored: its charge is sent back at
    /// the end unless a later attempt records the same payment.
    pub fn not_written(&self) {
        let mut state = self.state.lock().expect("not poisoned");
        if let Some(charged) = state.pending.take() {
            state.discarded.push(charged);
        }
    }

    /// Why Stripe did not take the payment, when it did not.
    pub fn refusal(&self) -> Option<StripeError> {
        self.state.lock().expect("not poisoned").refused.clone()
    }

    /// The payment the completion's stored write records, if it charged.
    pub fn kept(&self) -> Option<ProviderId> {
        self.state.lock().expect("not poisoned").kept.last().cloned()
    }

    /// The completion is over: every charge no stored write records goes back to the
    /// customer (best effort, logged; the idempotency key is the PaymentIntent's own).
    pub async fn settle(&self, payments: &Payments) {
        let refunds = self.state.lock().expect("not poisoned").take_unrecorded();
        for Charged { intent, amount, number } in refunds {
            let key = format!("gapless-unplaced-{intent}");
            match payments.refund(&intent, amount.minor(), &key, &number, None).await {
                Ok(refund) => {
                    tracing::warn!(order = %number, %intent, refund = refund.id, "a charge for a turn that was not written was sent back")
                }
                Err(error) => {
                    tracing::error!(order = %number, %intent, %error, "a charge for a turn that was not written could not be sent back: refund it by hand")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charged(intent: &str) -> Charged {
        Charged {
            intent: ProviderId::parse(intent).unwrap(),
            amount: Money(4800),
            number: OrderNumber::from_sequence(1),
        }
    }

    fn intents(charges: &[Charged]) -> Vec<&str> {
        charges.iter().map(|c| c.intent.as_str()).collect()
    }

    #[test]
    fn only_charges_no_stored_write_records_go_back_once() {
        // Lost a race at one version, written at the next: the first goes back.
        let mut charges = Charges {
            kept: vec![ProviderId::parse("pi_2").unwrap()],
            discarded: vec![charged("pi_1")],
            ..Charges::default()
        };
        assert_eq!(intents(&charges.take_unrecorded()), ["pi_1"]);
        assert!(charges.take_unrecorded().is_empty(), "once");
        // Lost a race, then the same PaymentIntent replayed (same version) and written.
        let mut charges = Charges {
            kept: vec![ProviderId::parse("pi_1").unwrap()],
            discarded: vec![charged("pi_1"), charged("pi_1")],
            ..Charges::default()
        };
        assert!(charges.take_unrecorded().is_empty());
        // Charged, and the turn failed before it reached the store; and twice lost.
        let mut charges = Charges {
            pending: Some(charged("pi_3")),
            discarded: vec![charged("pi_1"), charged("pi_1")],
            ..Charges::default()
        };
        assert_eq!(intents(&charges.take_unrecorded()), ["pi_1", "pi_3"]);
    }
}
