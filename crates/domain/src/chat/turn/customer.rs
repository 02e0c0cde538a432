//! Who the shopper is and where the parcel goes. Each field is checked on its own: a
//! mistyped email does not lose the name given with it.

use crate::orders::{diff, Customer, Email, Phone, PostalAddress, UncheckedAddress};

use super::reply::{self, Said};
use super::{note, NoteKind, Outcome, Turn, TurnCode, Verdict};

pub const MAX_NAME_CHARS: usize = 100;

/// A field that could not be taken: its name in the order JSON and what to tell.
struct Refused {
    field: String,
    reason: String,
}

impl Turn<'_> {
    pub(super) fn identify(
        &mut self,
        name: Option<&str>,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Verdict {
        if !self.state.is_draft() {
            return self.closed();
        }
        let mut customer = self.state.customer.clone();
        let mut refused = Vec::new();
        if let Some(given) = name {
            match clean_name(given) {
                Some(name) => customer.name = Some(name),
                None => refused.push(Refused {
                    field: "name".into(),
                    reason: format!("\"{}\" doesn't look like a name.", given.trim()),
                }),
            }
        }
        if let Some(given) = email.filter(|given| !given.trim().is_empty()) {
            match Email::parse(given) {
                Ok(email) => customer.email = Some(email),
                Err(error) => refused.push(Refused {
                    field: "email".into(),
                    reason: format!(
                        "\"{}\" doesn't look like an email address ({error}). Could you type it again?",
                        given.trim()
                    ),
                }),
            }
        }
        if let Some(given) = phone.filter(|given| !given.trim().is_empty()) {
            match Phone::parse(given) {
                Ok(phone) => customer.phone = Some(phone),
                Err(error) => refused.push(Refused {
                    field: "phone".into(),
                    reason: format!(
                        "\"{}\" doesn't look like a phone number: {error}.",
                        given.trim()
                    ),
                }),
            }
        }
        let said = customer_acknowledgements(&self.state.customer, &customer, self.emails_customer);
        let state = &self.state;
        let events = diff(state, &state.lines, &customer, state.shipping_address.as_ref());
        partly_taken(events, said, refused)
    }

    pub(super) fn set_address(&mut self, mention: &UncheckedAddress) -> Verdict {
        if !self.state.is_draft() {
            return self.closed();
        }
        let (given, errors) = PostalAddress::from_unchecked(mention);
        let before = self.state.shipping_address.clone().unwrap_or_default();
        let merged = before.merged_with(&given);
        let address = (!merged.is_empty()).then_some(merged);
        let said = match &address {
            Some(address) if *address != before => vec![Said::Ack(reply::shipping_to(address))],
            _ => Vec::new(),
        };
        let refused = errors
            .into_iter()
            .map(|error| Refused {
                field: format!("shipping_address.{}", error.field.name()),
                reason: reply::sentence(&error.to_string()),
            })
            .collect();
        let state = &self.state;
        let events = diff(state, &state.lines, &state.customer, address.as_ref());
        partly_taken(events, said, refused)
    }
}

/// Accepted when every field was taken; a question about the refused ones when some
/// were taken (their events stand); rejected when none was.
fn partly_taken(
    events: Vec<crate::orders::OrderEvent>,
    said: Vec<Said>,
    refused: Vec<Refused>,
) -> Verdict {
    if refused.is_empty() {
        let mut verdict = Verdict::accepted(events);
        verdict.said = said;
        return verdict;
    }
    let message = refused.iter().map(|r| r.reason.as_str()).collect::<Vec<_>>().join(" ");
    let outcome = if events.is_empty() { Outcome::Rejected } else { Outcome::Clarify };
    let kind = if events.is_empty() { NoteKind::Error } else { NoteKind::Warning };
    let notes = refused
        .iter()
        .map(|r| note(kind, TurnCode::Invalid, Some(r.field.clone()), &r.reason))
        .collect();
    let mut all_said = said;
    all_said.push(Said::Problem(message.clone()));
    Verdict {
        outcome: Some(outcome),
        code: Some(TurnCode::Invalid),
        message: Some(message),
        notes,
        events,
        said: all_said,
    }
}

/// What the shopper is told about the details they gave. The shop's email is promised
/// only when it sends email (`emails`).
fn customer_acknowledgements(before: &Customer, after: &Customer, emails: bool) -> Vec<Said> {
    let mut said = Vec::new();
    if let Some(name) = after.name.as_ref().filter(|_| after.name != before.name) {
        said.push(Said::Ack(format!("Thanks, {name}.")));
    }
    if let Some(email) = after.email.as_ref().filter(|_| after.email != before.email) {
        said.push(Said::Ack(if emails {
            format!("I'll send order updates to {email}.")
        } else {
            format!("Your email {email} is noted.")
        }));
    }
    if let Some(phone) = after.phone.as_ref().filter(|_| after.phone != before.phone) {
        said.push(Said::Ack(format!("Your phone number {phone} is noted.")));
    }
    said
}

/// A name as people write it: whitespace collapsed, at least one letter, no email
/// address or markup, and not a paragraph.
pub fn clean_name(given: &str) -> Option<String> {
    let name = given.split_whitespace().collect::<Vec<_>>().join(" ");
    let plausible = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name.chars().any(char::is_alphabetic)
        && !name.chars().any(|c| c.is_control() || "@<>{}[]\\/|=_#$%^*~`".contains(c));
    plausible.then_some(name)
}
