//! Confirming and cancelling: the two steps that change what an order commits to.

use crate::orders::{
    diff, reservations, shortfalls, stock_requirements, OrderEvent, OrderState, OrderStatus,
};

use super::lines::key_param;
use super::reply::{self, Said};
use super::{draft_of, note, NoteKind, Turn, TurnCode, TurnNote, Verdict};

impl Turn<'_> {
    /// Checks, in the order a shopper can fix them: something to order, every line
    /// complete and still sold, who and where, stock; then the summary, then the order.
    pub(super) fn confirm(&mut self) -> Verdict {
        match self.state.status {
            OrderStatus::Draft => {}
            OrderStatus::Confirmed | OrderStatus::Shipped | OrderStatus::Delivered => {
                let already = reply::already_confirmed(self.number);
                return Verdict::accepted(Vec::new()).saying(Said::Ack(already));
            }
            OrderStatus::Cancelled => return self.closed(),
        }
        if self.unresolved {
            let first = "Let's sort that out first; then say \"confirm\" again.".to_owned();
            return Verdict::clarify(TurnCode::ConfirmationNeeded, first, None);
        }
        if self.state.lines.is_empty() {
            let empty = "Your order is empty: tell me what you'd like first.".to_owned();
            return Verdict::rejected(TurnCode::EmptyOrder, empty, None);
        }
        if let Some(question) = draft_of(&self.state).missing(self.catalog) {
            return Verdict::clarify(question.code.into(), question.question, None);
        }
        if let Some(gone) = self.state.lines.iter().find(|l| self.catalog.product(&l.sku).is_none())
        {
            let reason = format!(
                "Sorry, the {} is no longer sold. Please remove it, then confirm again.",
                gone.name
            );
            return Verdict::rejected(TurnCode::Invalid, reason, Some(gone.sku.to_string()));
        }
        if let Some(verdict) = missing_details(&self.state) {
            return verdict;
        }
        let needs = stock_requirements(self.catalog, &self.state.lines);
        if let Some(short) = shortfalls(&needs, self.stock).into_iter().next() {
            let reason = reply::short_at_confirmation(self.catalog, &short);
            return Verdict::rejected(TurnCode::OutOfStock, reason, Some(key_param(&short.key)));
        }
        let totals = self.state.totals;
        if !self.state.awaiting_confirmation {
            let summary = reply::summary(&self.state);
            let mut verdict = Verdict::accepted(vec![OrderEvent::SummaryShown { totals }]);
            verdict.outcome = Some(super::Outcome::Clarify);
            verdict.code = Some(TurnCode::ConfirmationNeeded);
            verdict.notes = vec![note(
                NoteKind::Info,
                TurnCode::ConfirmationNeeded,
                None,
                reply::ASK_TO_CONFIRM,
            )];
            return verdict.saying(Said::Closing(summary));
        }
        let confirmed = OrderEvent::Confirmed { totals, reservations: reservations(&needs) };
        let text = reply::confirmed(&self.state, self.number, self.emails_customer);
        Verdict::accepted(vec![confirmed]).saying(Said::Closing(text))
    }

    /// A draft is emptied (the customer's details stay for the next try); a confirmed
    /// order is cancelled and its stock released.
    pub(super) fn cancel(&mut self) -> Verdict {
        let state = &self.state;
        match state.status {
            OrderStatus::Draft if state.lines.is_empty() => Verdict::accepted(Vec::new())
                .saying(Said::Ack("There's nothing in your order to cancel.".to_owned())),
            OrderStatus::Draft => {
                let events = diff(state, &[], &state.customer, state.shipping_address.as_ref());
                let text = "Okay, I've cleared your order. Tell me whenever you'd like something.";
                Verdict::accepted(events).saying(Said::Closing(text.to_owned()))
            }
            OrderStatus::Confirmed if self.cancel_block.is_some() => {
                let reason = reply::cancel_refused(self.cancel_block, self.number);
                Verdict::rejected(TurnCode::CancelRefused, reason, None)
            }
            // Its events say so: no need for the server to have looked.
            OrderStatus::Shipped | OrderStatus::Delivered => {
                let reason = reply::cancel_refused(Some(super::CancelBlock::Shipped), self.number);
                Verdict::rejected(TurnCode::CancelRefused, reason, None)
            }
            OrderStatus::Confirmed => {
                let released = state.reservations.clone();
                let mut text = reply::cancelled(self.number);
                // Money received goes back: the server sends the refund once the
                // cancellation is stored (and keeps trying until the provider takes it).
                let refundable = state.payment.refundable();
                if state.payment.status.received() && refundable > crate::money::Money::ZERO {
                    text.push_str(&format!(
                        " The {} you paid is being refunded to your original payment method.",
                        refundable.format(&state.currency)
                    ));
                }
                Verdict::accepted(vec![OrderEvent::Cancelled { released }])
                    .saying(Said::Closing(text))
            }
            OrderStatus::Cancelled => Verdict::accepted(Vec::new())
                .saying(Said::Ack("This order is already cancelled.".to_owned())),
        }
    }
}

/// What is still needed about the customer and the address, as one question with a
/// note per field.
fn missing_details(state: &OrderState) -> Option<Verdict> {
    let mut wanted: Vec<String> = Vec::new();
    let mut notes: Vec<TurnNote> = Vec::new();
    let mut need = |param: String, words: String, wanted_words: Option<String>| {
        notes.push(note(NoteKind::Warning, TurnCode::Missing, Some(param), &words));
        wanted.extend(wanted_words);
    };
    if state.customer.name.is_none() {
        need("name".into(), "your name".into(), Some("your name".into()));
    }
    if state.customer.email.is_none() {
        need("email".into(), "your email address".into(), Some("your email address".into()));
    }
    match &state.shipping_address {
        None => {
            let words = "your shipping address (street and number, city, postal code and country)";
            need("shipping_address".into(), words.into(), Some(words.into()));
        }
        Some(address) => {
            let missing = address.missing();
            let labels: Vec<String> = missing.iter().map(|f| f.label().to_owned()).collect();
            let all = (!missing.is_empty())
                .then(|| format!("the {} of your shipping address", reply::and_list(&labels)));
            for (i, field) in missing.iter().enumerate() {
                let words = format!("the {} of your shipping address", field.label());
                let first = if i == 0 { all.clone() } else { None };
                need(format!("shipping_address.{}", field.name()), words, first);
            }
        }
    }
    if wanted.is_empty() {
        return None;
    }
    let question = format!("Before I can place your order I need {}.", reply::and_list(&wanted));
    let mut verdict = Verdict::clarify(TurnCode::Missing, question, None);
    verdict.notes = notes;
    Some(verdict)
}
