//! One chat turn, pure: a message and the order as it stands in, the validated events,
//! the order after and the reply out.
//!
//! ```text
//! message ─► extractor ─► commands ─► validator (here) ─► events ─► order after ─► reply
//! ```
//!
//! The extractor only proposes. Each command is checked here against the catalog, the
//! order (a draft can be edited, a confirmed order only cancelled) and stock, and its
//! outcome recorded as a [`Validation`]: accepted (with the events it produced), a
//! question for the shopper, or a rejection they can read. The reply is built from
//! templates over the validated order, never from numbers in the message, so text that
//! tries to instruct the system ("set the price to 0") can at most do what a shopper
//! may do.
//!
//! # Confirmation in two steps
//!
//! The first "confirm" of a complete order appends [`OrderEvent::SummaryShown`] and
//! answers with the full summary; [`OrderState::awaiting_confirmation`] is then true
//! until anything in the order changes. A "confirm" while it is true appends
//! [`OrderEvent::Confirmed`] with the frozen totals and the stock to reserve. Keeping
//! the step as an event means the fold alone knows where the conversation stands, and
//! the audit trail shows what the shopper saw before they confirmed.
//!
//! # Wiring it to the store
//!
//! Fold the conversation's order (or pass [`OrderState::new`] when it has none yet, or
//! when its order was cancelled: a cancelled order takes no further edits), read the
//! stock levels, call [`take_turn`], then in one transaction append `events` with the
//! next sequence numbers and apply the reservations of a `Confirmed` event (or release
//! those of a `Cancelled` one) with a conditional update per key. If the append loses
//! the sequence race or a reservation no longer fits (a concurrent order took the
//! stock), roll back, re-read the order and the stock and call [`take_turn`] again with
//! the same message: it is deterministic and has no side effects, so the second run
//! simply sees the new stock and answers "only 2 left" instead of confirming.

mod checkout;
mod customer;
mod lines;
pub mod payment;
mod reply;
mod requests;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::chat::command::Command;
use crate::chat::draft::{Clarification, Draft, DraftLine, IssueCode};
use crate::chat::extract::{Extraction, Note, NoteCode, RulesExtractor};
use crate::orders::{Email, OrderEvent, OrderNumber, OrderState};
use crate::stock::StockLevels;

pub use reply::order_status_answer;
use reply::{Reply, Said};

/// Everything one turn reads. `catalog` must be the catalog `extractor` was built from.
#[derive(Debug, Clone, Copy)]
pub struct TurnInput<'a> {
    pub catalog: &'a Catalog,
    pub extractor: &'a RulesExtractor,
    /// Current levels, including what other confirmed orders have reserved.
    pub stock: &'a StockLevels,
    /// The conversation's order, or [`OrderState::new`] when it has none yet.
    pub order: &'a OrderState,
    pub message: &'a str,
    /// The order's number once the store has assigned one: quoted when it is
    /// confirmed or cancelled, and what "where is my order?" means without a number.
    pub order_number: Option<&'a OrderNumber>,
    /// Why the confirmed order can no longer be cancelled in the chat, if it cannot.
    pub cancel_block: Option<CancelBlock>,
    /// The shop emails customers their order's updates (SMTP is set up): only then does
    /// the confirmation promise them.
    pub emails_customer: bool,
}

/// What stops a confirmed order from being cancelled by the shopper: goods that left
/// the shop, or a return already on its way. The store checks the same again when it
/// writes a cancellation, so a race between the two cannot slip through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelBlock {
    Shipped,
    ReturnOpen,
}

/// Everything one turn decided, for the store (events), the shopper (reply, notes),
/// the server's I/O (requests) and the audit trail (all of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnOutcome {
    pub extraction: Extraction,
    /// One per extracted command, in order.
    pub validations: Vec<Validation>,
    /// To append to the order, in order; folding them onto the input order gives
    /// `order_after`. Empty when nothing changed.
    pub events: Vec<OrderEvent>,
    pub order_after: OrderState,
    pub reply: String,
    /// CONTRACTS §2 `messages`.
    pub notes: Vec<TurnNote>,
    pub requests: Vec<SideRequest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    /// Index into `extraction.commands`.
    pub command: usize,
    pub outcome: Outcome,
    pub code: Option<TurnCode>,
    /// What the shopper was told about this command, if anything specific.
    pub message: Option<String>,
    /// Indexes into [`TurnOutcome::events`] of the events this command produced: the
    /// link from message to order event in the audit trail.
    pub events: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Done; its events (possibly none) are in the outcome. An accepted edit may still
    /// come with a question about the line it made ("which size?").
    Accepted,
    /// The shopper must answer first. Customer details and addresses with one bad
    /// field are `Clarify` and keep their good fields (see `events`).
    Clarify,
    /// Nothing changed, and the message says why.
    Rejected,
}

/// The codes of CONTRACTS §2 `messages`, and the validator's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnCode {
    OutOfStock,
    AmbiguousProduct,
    UnknownProduct,
    Missing,
    Invalid,
    QuantityExceeded,
    /// An edit names a product the order does not have.
    NotInOrder,
    EmptyOrder,
    /// The order is confirmed or cancelled and cannot be edited.
    OrderClosed,
    /// The order shipped or has a return open: a person must handle a cancellation.
    CancelRefused,
    /// The summary was shown; the next confirmation places the order.
    ConfirmationNeeded,
    /// The message was longer than the extractor reads.
    Truncated,
    /// Nothing in the message could be used.
    NotUnderstood,
    /// The payment provider could not be asked for a payment link: the order was not
    /// placed.
    PaymentUnavailable,
}

impl TurnCode {
    pub const ALL: [TurnCode; 14] = [
        TurnCode::OutOfStock,
        TurnCode::AmbiguousProduct,
        TurnCode::UnknownProduct,
        TurnCode::Missing,
        TurnCode::Invalid,
        TurnCode::QuantityExceeded,
        TurnCode::NotInOrder,
        TurnCode::EmptyOrder,
        TurnCode::OrderClosed,
        TurnCode::CancelRefused,
        TurnCode::ConfirmationNeeded,
        TurnCode::Truncated,
        TurnCode::NotUnderstood,
        TurnCode::PaymentUnavailable,
    ];

    /// The code as the JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            TurnCode::OutOfStock => "out_of_stock",
            TurnCode::AmbiguousProduct => "ambiguous_product",
            TurnCode::UnknownProduct => "unknown_product",
            TurnCode::Missing => "missing",
            TurnCode::Invalid => "invalid",
            TurnCode::QuantityExceeded => "quantity_exceeded",
            TurnCode::NotInOrder => "not_in_order",
            TurnCode::EmptyOrder => "empty_order",
            TurnCode::OrderClosed => "order_closed",
            TurnCode::CancelRefused => "cancel_refused",
            TurnCode::ConfirmationNeeded => "confirmation_needed",
            TurnCode::Truncated => "truncated",
            TurnCode::NotUnderstood => "not_understood",
            TurnCode::PaymentUnavailable => "payment_unavailable",
        }
    }
}

impl From<IssueCode> for TurnCode {
    fn from(code: IssueCode) -> TurnCode {
        match code {
            IssueCode::AmbiguousProduct => TurnCode::AmbiguousProduct,
            IssueCode::UnknownProduct => TurnCode::UnknownProduct,
            IssueCode::Missing => TurnCode::Missing,
            IssueCode::Invalid => TurnCode::Invalid,
            IssueCode::QuantityExceeded => TurnCode::QuantityExceeded,
            IssueCode::NotInOrder => TurnCode::NotInOrder,
            IssueCode::EmptyOrder => TurnCode::EmptyOrder,
        }
    }
}

/// One machine-readable note, CONTRACTS §2: `{ "type", "code", "param", "content" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnNote {
    #[serde(rename = "type")]
    pub kind: NoteKind,
    pub code: TurnCode,
    /// What the note is about: a field (`email`, `shipping_address.postal_code`,
    /// `quantity`), a SKU or stock key (`TEE/color/black`), or the shopper's word.
    pub param: Option<String>,
    pub content: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteKind {
    Info,
    Warning,
    Error,
}

/// What the server must do with I/O after the turn; the reply already says that it
/// is being done, and the server appends the answer (a status, the portal link).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SideRequest {
    /// Look the order up (by number, or this conversation's order when `None`) and,
    /// when `email` is given, answer only if it matches.
    OrderStatus { number: Option<OrderNumber>, email: Option<Email> },
    /// Flag the conversation for staff.
    Handoff { reason: Option<String> },
    /// Send the returns portal link, for this order when known.
    StartReturn { number: Option<OrderNumber> },
}

/// Reads the message with the rules extractor and validates what it proposes. Pure and
/// deterministic: the same input gives the same outcome, so the server may re-run a
/// turn whose events could not be stored (see the module docs).
pub fn take_turn(input: TurnInput<'_>) -> TurnOutcome {
    let extraction = if input.message.trim().is_empty() {
        Extraction::default()
    } else {
        input.extractor.extract(input.message, &draft_of(input.order).context())
    };
    take_turn_with(input, extraction)
}

/// Validates commands some other extractor (an LLM) proposed for this message, exactly
/// as [`take_turn`] validates the rules extractor's.
pub fn take_turn_with(input: TurnInput<'_>, extraction: Extraction) -> TurnOutcome {
    let mut turn = Turn::new(&input);
    for note in &extraction.notes {
        turn.extraction_note(note);
    }
    for (index, command) in extraction.commands.iter().enumerate() {
        let verdict = turn.handle(command);
        turn.record(index, verdict);
    }
    let nothing_used = extraction.commands.is_empty() && extraction.notes.is_empty();
    turn.finish(extraction, nothing_used)
}

/// The draft editor over an order's lines: the chat's line edits (adding up identical
/// lines, completing a line that lacks a size, "that" and "it") live there.
fn draft_of(order: &OrderState) -> Draft {
    let lines = order
        .lines
        .iter()
        .map(|line| DraftLine {
            sku: line.sku.clone(),
            quantity: line.quantity,
            choices: line.choices.clone(),
        })
        .collect();
    Draft::from_lines(lines, order.last_line)
}

/// The decision about one command.
#[derive(Debug, Default)]
struct Verdict {
    outcome: Option<Outcome>,
    code: Option<TurnCode>,
    message: Option<String>,
    notes: Vec<TurnNote>,
    events: Vec<OrderEvent>,
    said: Vec<Said>,
}

impl Verdict {
    fn accepted(events: Vec<OrderEvent>) -> Verdict {
        Verdict { outcome: Some(Outcome::Accepted), events, ..Verdict::default() }
    }

    fn rejected(code: TurnCode, reason: String, param: Option<String>) -> Verdict {
        Verdict {
            outcome: Some(Outcome::Rejected),
            code: Some(code),
            notes: vec![note(NoteKind::Error, code, param, &reason)],
            said: vec![Said::Problem(reason.clone())],
            message: Some(reason),
            ..Verdict::default()
        }
    }

    fn clarify(code: TurnCode, question: String, param: Option<String>) -> Verdict {
        Verdict {
            outcome: Some(Outcome::Clarify),
            code: Some(code),
            notes: vec![note(NoteKind::Warning, code, param, &question)],
            said: vec![Said::Question(question.clone())],
            message: Some(question),
            ..Verdict::default()
        }
    }

    /// An accepted edit that leaves a question about the line it made ("which size?").
    fn asking(self, question: Clarification, param: Option<String>) -> Verdict {
        let code = TurnCode::from(question.code);
        let mut verdict = self.saying(Said::Question(question.question.clone()));
        verdict.notes.push(note(NoteKind::Warning, code, param, &question.question));
        verdict.code = Some(code);
        verdict.message = Some(question.question);
        verdict
    }

    fn saying(mut self, said: Said) -> Verdict {
        self.said.push(said);
        self
    }

    fn outcome(&self) -> Outcome {
        self.outcome.unwrap_or(Outcome::Accepted)
    }
}

fn note(kind: NoteKind, code: TurnCode, param: Option<String>, content: &str) -> TurnNote {
    TurnNote { kind, code, param, content: content.to_owned() }
}

/// A turn in progress: the order as the commands so far left it.
struct Turn<'a> {
    catalog: &'a Catalog,
    stock: &'a StockLevels,
    message: &'a str,
    number: Option<&'a OrderNumber>,
    cancel_block: Option<CancelBlock>,
    emails_customer: bool,
    state: OrderState,
    events: Vec<OrderEvent>,
    validations: Vec<Validation>,
    notes: Vec<TurnNote>,
    requests: Vec<SideRequest>,
    reply: Reply,
    /// Something in this message was refused or needs an answer: a confirmation in the
    /// same message must not go ahead without it.
    unresolved: bool,
}

impl<'a> Turn<'a> {
    fn new(input: &TurnInput<'a>) -> Turn<'a> {
        Turn {
            catalog: input.catalog,
            stock: input.stock,
            message: input.message,
            number: input.order_number,
            cancel_block: input.cancel_block,
            emails_customer: input.emails_customer,
            state: input.order.clone(),
            events: Vec::new(),
            validations: Vec::new(),
            notes: Vec::new(),
            requests: Vec::new(),
            reply: Reply::new(reply::opens_with_greeting(input.message)),
            unresolved: false,
        }
    }

    fn handle(&mut self, command: &Command) -> Verdict {
        match command {
            Command::AddItem(_)
            | Command::ChangeQuantity { .. }
            | Command::SetChoices { .. }
            | Command::RemoveItem { .. } => self.edit_lines(command),
            Command::IdentifyCustomer { name, email, phone } => {
                self.identify(name.as_deref(), email.as_deref(), phone.as_deref())
            }
            Command::SetShippingAddress(address) => self.set_address(address),
            Command::Confirm => self.confirm(),
            Command::Cancel => self.cancel(),
            Command::OrderStatus { order_number, email } => {
                self.order_status(order_number.as_deref(), email.as_deref())
            }
            Command::PaymentStatus { order_number, email } => {
                self.payment_status(order_number.as_deref(), email.as_deref())
            }
            Command::StartReturn { order_number } => self.start_return(order_number.as_deref()),
            Command::Handoff { reason } => self.handoff(reason.as_deref()),
        }
    }

    /// Applies the verdict's events to the working order and files everything else.
    fn record(&mut self, command: usize, verdict: Verdict) {
        let mut state = self.state.clone();
        if verdict.events.iter().any(|event| state.apply(event).is_err()) {
            // The validator only emits events that fit; should one not, the command is
            // refused as a whole rather than half-applied.
            let refused = "Sorry, I couldn't make that change.".to_owned();
            return self.record(command, Verdict::rejected(TurnCode::Invalid, refused, None));
        }
        self.state = state;
        if verdict.events.iter().any(|event| event.kind().starts_with("line_")) {
            self.reply.lines_changed = true;
        }
        if verdict.outcome() != Outcome::Accepted {
            self.unresolved = true;
        }
        let first = self.events.len();
        let outcome = verdict.outcome();
        self.events.extend(verdict.events);
        self.notes.extend(verdict.notes);
        self.reply.extend(verdict.said);
        self.validations.push(Validation {
            command,
            outcome,
            code: verdict.code,
            message: verdict.message,
            events: (first..self.events.len()).collect(),
        });
    }

    /// What the extractor noticed but could not turn into a command.
    fn extraction_note(&mut self, found: &Note) {
        let words = found.span.text(self.message).trim();
        let (kind, code, param, content) = match found.code {
            NoteCode::ZeroQuantity => (
                NoteKind::Error,
                TurnCode::QuantityExceeded,
                Some("quantity".to_owned()),
                reply::zero_quantity(),
            ),
            NoteCode::OptionWithoutItem => (
                NoteKind::Warning,
                TurnCode::Missing,
                Some(words.to_owned()),
                format!("Which item should \"{words}\" go with?"),
            ),
            NoteCode::Truncated => (
                NoteKind::Warning,
                TurnCode::Truncated,
                None,
                "Your message was long, so I only read the first part of it.".to_owned(),
            ),
        };
        self.unresolved = true;
        self.reply.extend(vec![match kind {
            NoteKind::Error => Said::Problem(content.clone()),
            _ => Said::Question(content.clone()),
        }]);
        self.notes.push(note(kind, code, param, &content));
    }

    fn finish(mut self, extraction: Extraction, nothing_used: bool) -> TurnOutcome {
        if nothing_used {
            let (code, content) = reply::fallback(self.message, self.catalog);
            if let Some(code) = code {
                self.notes.push(note(NoteKind::Info, code, None, &content));
            }
            self.reply.extend(vec![Said::Closing(content)]);
        }
        let reply = self.reply.render(&self.state, self.catalog, &draft_of(&self.state));
        TurnOutcome {
            extraction,
            validations: self.validations,
            events: self.events,
            order_after: self.state,
            reply,
            notes: self.notes,
            requests: self.requests,
        }
    }

    /// Why a confirmed or cancelled order takes no edits.
    fn closed(&self) -> Verdict {
        Verdict::rejected(TurnCode::OrderClosed, reply::closed(&self.state, self.number), None)
    }
}
