//! Questions about an order already placed, returns and people: the turn says what
//! will happen and leaves the I/O to the server as a [`SideRequest`].

use crate::orders::{Email, OrderNumber};

use super::reply::Said;
use super::{note, NoteKind, SideRequest, Turn, TurnCode, TurnNote, Verdict};

impl Turn<'_> {
    pub(super) fn order_status(&mut self, number: Option<&str>, email: Option<&str>) -> Verdict {
        let mut notes = Vec::new();
        let number = self.order_number_from(number, &mut notes);
        let email = email.and_then(|given| match Email::parse(given) {
            Ok(email) => Some(email),
            Err(error) => {
                let content = format!("\"{given}\" doesn't look like an email address: {error}.");
                notes.push(note(
                    NoteKind::Warning,
                    TurnCode::Invalid,
                    Some("email".into()),
                    &content,
                ));
                None
            }
        });
        if number.is_none() && email.is_none() {
            let question = "Which order do you mean? Please give me its number (it looks like \
                            G-100042) and the email address you used."
                .to_owned();
            let mut verdict =
                Verdict::clarify(TurnCode::Missing, question, Some("order_number".into()));
            verdict.notes.extend(notes);
            return verdict;
        }
        let text = match &number {
            Some(number) => format!("Let me look up order {number}."),
            None => "Let me look up your orders.".to_owned(),
        };
        self.requests.push(SideRequest::OrderStatus { number, email });
        let mut verdict = Verdict::accepted(Vec::new()).saying(Said::Closing(text));
        verdict.notes = notes;
        verdict
    }

    /// "Did my payment go through?": the conversation's own placed order is answered
    /// from its events (the conversation id is the shopper's capability, and the order
    /// is shown in it anyway); any other order goes through the status lookup, which
    /// needs its number and email and also tells how its payment stands.
    pub(super) fn payment_status(&mut self, number: Option<&str>, email: Option<&str>) -> Verdict {
        let own = match (number.map(OrderNumber::parse), self.number) {
            (None, Some(_)) => true,
            (Some(Ok(given)), Some(own)) => given == *own,
            _ => false,
        };
        if own && !self.state.is_draft() {
            let text = super::payment::payment_answer(&self.state.payment, &self.state);
            return Verdict::accepted(Vec::new()).saying(Said::Closing(text));
        }
        if number.is_none() && email.is_none() {
            let text = if self.state.lines.is_empty() {
                "You haven't placed an order in this chat. Which order do you mean? Please give \
                 me its number (it looks like G-100042) and the email address you used."
            } else {
                "Your order isn't placed yet, so nothing has been charged. Say \"confirm\" when \
                 you're ready."
            };
            return Verdict::accepted(Vec::new()).saying(Said::Closing(text.to_owned()));
        }
        self.order_status(number, email)
    }

    pub(super) fn start_return(&mut self, number: Option<&str>) -> Verdict {
        let mut notes = Vec::new();
        let number = self.order_number_from(number, &mut notes);
        let text = match &number {
            Some(number) => format!(
                "You can return items from order {number} in our returns portal: choose the \
                 items and a reason, and you'll get a decision right away."
            ),
            None => "You can start a return in our returns portal with your order number and \
                     the email address you ordered with."
                .to_owned(),
        };
        self.requests.push(SideRequest::StartReturn { number });
        let mut verdict = Verdict::accepted(Vec::new()).saying(Said::Closing(text));
        verdict.notes = notes;
        verdict
    }

    pub(super) fn handoff(&mut self, reason: Option<&str>) -> Verdict {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
        self.requests.push(SideRequest::Handoff { reason });
        let text = "I'll ask someone from our team to join this chat; they'll see everything \
                    we've said so far.";
        Verdict::accepted(Vec::new()).saying(Said::Closing(text.to_owned()))
    }

    /// The number the shopper gave, else this conversation's own order once it has been
    /// placed (a draft has nothing to look up or return).
    fn order_number_from(
        &self,
        given: Option<&str>,
        notes: &mut Vec<TurnNote>,
    ) -> Option<OrderNumber> {
        match given.map(OrderNumber::parse) {
            Some(Ok(number)) => Some(number),
            Some(Err(error)) => {
                let content = format!("{error}.");
                notes.push(note(
                    NoteKind::Warning,
                    TurnCode::Invalid,
                    Some("order_number".into()),
                    &content,
                ));
                None
            }
            None if !self.state.is_draft() => self.number.cloned(),
            None => None,
        }
    }
}
