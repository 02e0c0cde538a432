//! A return's life as events: requested → approved | rejected | in review → received →
//! refunded, exchanged or credited (DESIGN "Returns").
//!
//! Each transition is one audited [`ReturnEvent`] with its time and who made it; the
//! return's state, its customer-facing timeline and its refund cycle time are all
//! folds of those events. Folding refuses any transition the state machine does not
//! have, so a refund can never be recorded for goods that never arrived, and a stream
//! that is corrupt or out of order is reported rather than half-applied.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::decide::{DecidedItem, Outcome, ReturnDecision};
use super::policy::{Resolution, ReturnPolicy};
use crate::money::Money;

/// The version of the JSON payloads of [`ReturnEvent`]; stored next to each event so
/// that a later shape can still read the old rows.
pub const RETURN_EVENT_SCHEMA_VERSION: u32 = 1;

/// Notes from staff are for the customer's timeline and the audit, not essays.
pub const MAX_NOTE_CHARS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReturnStatus {
    Requested,
    Approved,
    Rejected,
    InReview,
    Received,
    Refunded,
    Exchanged,
    Credited,
    Cancelled,
}

impl ReturnStatus {
    pub const ALL: [ReturnStatus; 9] = [
        ReturnStatus::Requested,
        ReturnStatus::Approved,
        ReturnStatus::Rejected,
        ReturnStatus::InReview,
        ReturnStatus::Received,
        ReturnStatus::Refunded,
        ReturnStatus::Exchanged,
        ReturnStatus::Credited,
        ReturnStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReturnStatus::Requested => "requested",
            ReturnStatus::Approved => "approved",
            ReturnStatus::Rejected => "rejected",
            ReturnStatus::InReview => "in_review",
            ReturnStatus::Received => "received",
            ReturnStatus::Refunded => "refunded",
            ReturnStatus::Exchanged => "exchanged",
            ReturnStatus::Credited => "credited",
            ReturnStatus::Cancelled => "cancelled",
        }
    }

    /// The statuses this one may move to; empty for the final ones.
    pub fn next(self) -> &'static [ReturnStatus] {
        use ReturnStatus::*;
        match self {
            Requested => &[Approved, Rejected, InReview],
            InReview => &[Approved, Rejected],
            Approved => &[Received, Cancelled],
            Received => &[Refunded, Exchanged, Credited],
            Rejected | Refunded | Exchanged | Credited | Cancelled => &[],
        }
    }

    pub fn can_become(self, next: ReturnStatus) -> bool {
        self.next().contains(&next)
    }

    pub fn is_final(self) -> bool {
        self.next().is_empty()
    }

    /// The customer got what the return was for: money back, goods or credit.
    pub fn is_completed(self) -> bool {
        matches!(self, ReturnStatus::Refunded | ReturnStatus::Exchanged | ReturnStatus::Credited)
    }
}

impl From<Outcome> for ReturnStatus {
    fn from(outcome: Outcome) -> ReturnStatus {
        match outcome {
            Outcome::Approved => ReturnStatus::Approved,
            Outcome::Rejected => ReturnStatus::Rejected,
            Outcome::InReview => ReturnStatus::InReview,
        }
    }
}

impl fmt::Display for ReturnStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who made a change, for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// The customer, through the portal or the API (they proved the order's email).
    Customer,
    /// A staff account, named the way the store names accounts (id or email).
    Staff { id: String },
    /// The policy engine or another automatic process.
    System,
}

/// What happened to a return. Stored as JSON with a `type` tag (also the `type`
/// column of the events table, see [`ReturnEvent::kind`]); `at` is RFC 3339 UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReturnEvent {
    /// The customer's request with the policy's decision for each item, exactly as
    /// the customer was told it. Always the first event, and only the first.
    Requested {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        actor: Actor,
        resolution: Resolution,
        items: Vec<DecidedItem>,
    },
    /// From requested (the policy approved) or in review (staff approved the items
    /// that were waiting).
    Approved {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        actor: Actor,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    Rejected {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        actor: Actor,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    SentToReview {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        actor: Actor,
    },
    /// The goods arrived at the shop, and what becomes of each item that came back.
    Received {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        actor: Actor,
        /// One per item that was not rejected; empty in events from before dispositions
        /// were recorded.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        dispositions: Vec<ItemDisposition>,
    },
    Refunded {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        actor: Actor,
        amount: Money,
        /// Why staff paid more than was due (see [`ReturnState::due`]); required then.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        override_reason: Option<String>,
    },
    /// The replacement was sent out as order `replacement`.
    Exchanged {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        actor: Actor,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replacement: Option<String>,
    },
    Credited {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        actor: Actor,
        amount: Money,
        /// As for [`ReturnEvent::Refunded`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        override_reason: Option<String>,
    },
    /// An approved return the customer will not send after all.
    Cancelled {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        actor: Actor,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
}

impl ReturnEvent {
    /// The `type` tag, e.g. `sent_to_review`.
    pub fn kind(&self) -> &'static str {
        match self {
            ReturnEvent::Requested { .. } => "requested",
            ReturnEvent::Approved { .. } => "approved",
            ReturnEvent::Rejected { .. } => "rejected",
            ReturnEvent::SentToReview { .. } => "sent_to_review",
            ReturnEvent::Received { .. } => "received",
            ReturnEvent::Refunded { .. } => "refunded",
            ReturnEvent::Exchanged { .. } => "exchanged",
            ReturnEvent::Credited { .. } => "credited",
            ReturnEvent::Cancelled { .. } => "cancelled",
        }
    }

    pub fn schema_version(&self) -> u32 {
        RETURN_EVENT_SCHEMA_VERSION
    }

    pub fn at(&self) -> OffsetDateTime {
        match self {
            ReturnEvent::Requested { at, .. }
            | ReturnEvent::Approved { at, .. }
            | ReturnEvent::Rejected { at, .. }
            | ReturnEvent::SentToReview { at, .. }
            | ReturnEvent::Received { at, .. }
            | ReturnEvent::Refunded { at, .. }
            | ReturnEvent::Exchanged { at, .. }
            | ReturnEvent::Credited { at, .. }
            | ReturnEvent::Cancelled { at, .. } => *at,
        }
    }

    pub fn actor(&self) -> &Actor {
        match self {
            ReturnEvent::Requested { actor, .. }
            | ReturnEvent::Approved { actor, .. }
            | ReturnEvent::Rejected { actor, .. }
            | ReturnEvent::SentToReview { actor, .. }
            | ReturnEvent::Received { actor, .. }
            | ReturnEvent::Refunded { actor, .. }
            | ReturnEvent::Exchanged { actor, .. }
            | ReturnEvent::Credited { actor, .. }
            | ReturnEvent::Cancelled { actor, .. } => actor,
        }
    }

    /// The status the return has after this event.
    pub fn status(&self) -> ReturnStatus {
        match self {
            ReturnEvent::Requested { .. } => ReturnStatus::Requested,
            ReturnEvent::Approved { .. } => ReturnStatus::Approved,
            ReturnEvent::Rejected { .. } => ReturnStatus::Rejected,
            ReturnEvent::SentToReview { .. } => ReturnStatus::InReview,
            ReturnEvent::Received { .. } => ReturnStatus::Received,
            ReturnEvent::Refunded { .. } => ReturnStatus::Refunded,
            ReturnEvent::Exchanged { .. } => ReturnStatus::Exchanged,
            ReturnEvent::Credited { .. } => ReturnStatus::Credited,
            ReturnEvent::Cancelled { .. } => ReturnStatus::Cancelled,
        }
    }

    fn note(&self) -> Option<&str> {
        match self {
            ReturnEvent::Approved { note, .. }
            | ReturnEvent::Rejected { note, .. }
            | ReturnEvent::Cancelled { note, .. } => note.as_deref(),
            ReturnEvent::Refunded { override_reason, .. }
            | ReturnEvent::Credited { override_reason, .. } => override_reason.as_deref(),
            _ => None,
        }
    }

    /// The two events a new return starts with: the request as decided, then the
    /// policy's verdict, both at `at` and the second by [`Actor::System`].
    pub fn opening(
        decision: &ReturnDecision,
        actor: Actor,
        at: OffsetDateTime,
    ) -> [ReturnEvent; 2] {
        let verdict = match decision.outcome() {
            Outcome::Approved => ReturnEvent::Approved { at, actor: Actor::System, note: None },
            Outcome::Rejected => ReturnEvent::Rejected { at, actor: Actor::System, note: None },
            Outcome::InReview => ReturnEvent::SentToReview { at, actor: Actor::System },
        };
        [
            ReturnEvent::Requested {
                at,
                actor,
                resolution: decision.resolution,
                items: decision.items.clone(),
            },
            verdict,
        ]
    }
}

/// An event that does not fit the return it is applied to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a return starts with a requested event, not {0}")]
    NotStarted(&'static str),
    #[error("this return was already requested")]
    AlreadyRequested,
    #[error("a requested event must have at least one item")]
    NoItems,
    #[error("a return that is {} cannot become {}", .from.as_str(), .to.as_str())]
    Illegal { from: ReturnStatus, to: ReturnStatus },
    #[error("a customer cannot mark a return {}", .0.as_str())]
    NotForCustomers(ReturnStatus),
    #[error("this event is dated {at}, before the previous one ({previous})")]
    BackInTime { previous: OffsetDateTime, at: OffsetDateTime },
    #[error("an amount cannot be negative, not {0}")]
    NegativeAmount(i64),
    #[error("a note has at most {MAX_NOTE_CHARS} characters, this one has {0}")]
    NoteTooLong(usize),
    #[error("the customer asked for {}, not an exchange: record a refund or store credit", .0.words())]
    NotAnExchange(Resolution),
    #[error(
        "{} (minor units) is more than the {} due for the items coming back, less restocking \
         fees: give an override reason to pay more",
        .amount.minor(), .due.minor()
    )]
    OverDue { amount: Money, due: Money },
    #[error(
        "{} (minor units) is more than the {} paid for the items coming back",
        .amount.minor(), .paid.minor()
    )]
    OverPaid { amount: Money, paid: Money },
    #[error("line {0} is not an item of this return that is coming back")]
    NotReturned(usize),
    #[error("line {0} has more than one disposition")]
    DuplicateDisposition(usize),
}

/// What becomes of a returned item once it is back at the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Disposition {
    /// Back on sale: its units return to stock with the receipt.
    Restock,
    /// Written off (damaged, used): stock is unchanged.
    Discard,
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Restock => "restock",
            Disposition::Discard => "discard",
        }
    }
}

/// The disposition of the item for one order line (a return has one item per line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemDisposition {
    pub line: usize,
    pub disposition: Disposition,
}

/// Where in a stream folding stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {index}: {error}")]
pub struct ReturnFoldError {
    pub index: usize,
    pub error: TransitionError,
}

/// One entry of the customer's timeline (CONTRACTS §4: `{ "status", "at" }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub status: ReturnStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A return as its events leave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnState {
    pub status: ReturnStatus,
    pub resolution: Resolution,
    /// As requested and first decided.
    pub items: Vec<DecidedItem>,
    /// Every status the return has had, oldest first, starting with `requested`.
    pub timeline: Vec<TimelineEntry>,
    /// What a `refunded` or `credited` event paid.
    pub amount: Option<Money>,
    /// The order number an `exchanged` event shipped the replacement as.
    pub replacement: Option<String>,
    /// What the `received` event decided for each item that came back.
    pub dispositions: Vec<ItemDisposition>,
}

impl ReturnState {
    /// The state after a first event, which must be [`ReturnEvent::Requested`].
    pub fn start(event: &ReturnEvent) -> Result<ReturnState, TransitionError> {
        match event {
            ReturnEvent::Requested { items, .. } if items.is_empty() => {
                Err(TransitionError::NoItems)
            }
            ReturnEvent::Requested { at, resolution, items, .. } => Ok(ReturnState {
                status: ReturnStatus::Requested,
                resolution: *resolution,
                items: items.clone(),
                timeline: vec![TimelineEntry { status: ReturnStatus::Requested, at: *at }],
                amount: None,
                replacement: None,
                dispositions: Vec::new(),
            }),
            other => Err(TransitionError::NotStarted(other.kind())),
        }
    }

    pub fn fold(events: &[ReturnEvent]) -> Result<ReturnState, ReturnFoldError> {
        let (first, rest) = events
            .split_first()
            .ok_or(ReturnFoldError { index: 0, error: TransitionError::NotStarted("nothing") })?;
        let mut state =
            ReturnState::start(first).map_err(|error| ReturnFoldError { index: 0, error })?;
        for (offset, event) in rest.iter().enumerate() {
            state.apply(event).map_err(|error| ReturnFoldError { index: offset + 1, error })?;
        }
        Ok(state)
    }

    /// Applies one event, or leaves the state as it was and says why not.
    pub fn apply(&mut self, event: &ReturnEvent) -> Result<(), TransitionError> {
        let to = event.status();
        if to == ReturnStatus::Requested {
            return Err(TransitionError::AlreadyRequested);
        }
        if !self.status.can_become(to) {
            return Err(TransitionError::Illegal { from: self.status, to });
        }
        // Customers ask and may call off; deciding and handling goods is the shop's.
        if *event.actor() == Actor::Customer && to != ReturnStatus::Cancelled {
            return Err(TransitionError::NotForCustomers(to));
        }
        let previous = self.updated_at();
        if event.at() < previous {
            return Err(TransitionError::BackInTime { previous, at: event.at() });
        }
        let amount = match event {
            ReturnEvent::Refunded { amount, .. } | ReturnEvent::Credited { amount, .. } => {
                Some(*amount)
            }
            _ => None,
        };
        if let Some(amount) = amount {
            self.check_amount(amount, event.note())?;
        }
        if let ReturnEvent::Received { dispositions, .. } = event {
            self.check_dispositions(dispositions)?;
        }
        if let Some(note) = event.note() {
            let chars = note.chars().count();
            if chars > MAX_NOTE_CHARS {
                return Err(TransitionError::NoteTooLong(chars));
            }
        }
        if to == ReturnStatus::Exchanged && self.resolution != Resolution::Exchange {
            return Err(TransitionError::NotAnExchange(self.resolution));
        }
        // Checked everything: from here on nothing can fail half-way.
        if amount.is_some() {
            self.amount = amount;
        }
        if let ReturnEvent::Exchanged { replacement, .. } = event {
            self.replacement = replacement.clone();
        }
        if let ReturnEvent::Received { dispositions, .. } = event {
            self.dispositions = dispositions.clone();
        }
        self.status = to;
        self.timeline.push(TimelineEntry { status: to, at: event.at() });
        Ok(())
    }

    /// What the shop owes for the items coming back: their value less restocking
    /// fees, over the items not rejected. The default, and the cap, of a refund or
    /// store credit.
    pub fn due(&self) -> Money {
        Money(self.coming_back().map(|item| item.value.minor() - item.restocking_fee.minor()).sum())
    }

    /// What the customer paid for the items coming back: the most a refund or credit
    /// can ever be, even with an override reason.
    pub fn paid(&self) -> Money {
        Money(self.coming_back().map(|item| item.value.minor()).sum())
    }

    fn coming_back(&self) -> impl Iterator<Item = &DecidedItem> {
        self.items.iter().filter(|item| item.decision.outcome != Outcome::Rejected)
    }

    /// A disposition per item coming back: `chosen` where staff chose one for the
    /// line, else `rest` when staff chose one for all, else the policy's default for the
    /// item's reason. Choices for lines that are not coming back are kept, so that
    /// applying the event refuses them by name.
    pub fn dispositions(
        &self,
        policy: &ReturnPolicy,
        chosen: &[ItemDisposition],
        rest: Option<Disposition>,
    ) -> Vec<ItemDisposition> {
        let mut all: Vec<ItemDisposition> = self
            .coming_back()
            .filter(|item| !chosen.iter().any(|c| c.line == item.line))
            .map(|item| ItemDisposition {
                line: item.line,
                disposition: rest.unwrap_or_else(|| policy.default_disposition(&item.reason)),
            })
            .collect();
        all.extend_from_slice(chosen);
        all.sort_by_key(|d| d.line);
        all
    }

    fn check_amount(&self, amount: Money, reason: Option<&str>) -> Result<(), TransitionError> {
        if amount.minor() < 0 {
            return Err(TransitionError::NegativeAmount(amount.minor()));
        }
        let paid = self.paid();
        if amount > paid {
            return Err(TransitionError::OverPaid { amount, paid });
        }
        let due = self.due();
        if amount > due && reason.is_none_or(|r| r.trim().is_empty()) {
            return Err(TransitionError::OverDue { amount, due });
        }
        Ok(())
    }

    fn check_dispositions(&self, dispositions: &[ItemDisposition]) -> Result<(), TransitionError> {
        for (i, d) in dispositions.iter().enumerate() {
            if !self.coming_back().any(|item| item.line == d.line) {
                return Err(TransitionError::NotReturned(d.line));
            }
            if dispositions[..i].iter().any(|earlier| earlier.line == d.line) {
                return Err(TransitionError::DuplicateDisposition(d.line));
            }
        }
        Ok(())
    }

    pub fn requested_at(&self) -> OffsetDateTime {
        self.timeline[0].at
    }

    /// The time of the latest event.
    pub fn updated_at(&self) -> OffsetDateTime {
        self.timeline.last().map(|entry| entry.at).unwrap_or_else(|| self.requested_at())
    }

    /// When the return first reached `status`, if it did.
    pub fn reached(&self, status: ReturnStatus) -> Option<OffsetDateTime> {
        self.timeline.iter().find(|entry| entry.status == status).map(|entry| entry.at)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;
    use time::Duration;

    use super::*;
    use crate::returns::decide::{Decision, RuleId};
    use crate::returns::policy::ReasonCode;
    use crate::sku::Sku;

    const T0: OffsetDateTime = datetime!(2025-03-01 10:00 UTC);

    fn item() -> DecidedItem {
        DecidedItem {
            line: 0,
            sku: Sku::parse("TEE").unwrap(),
            quantity: 1,
            reason: ReasonCode::parse("too_small").unwrap(),
            comment: None,
            exchange: None,
            value: Money(2500),
            restocking_fee: Money::ZERO,
            decision: Decision {
                outcome: Outcome::Approved,
                rule: RuleId::Approved,
                message: "Approved.".into(),
            },
        }
    }

    /// An exchange: staff may still settle it as a refund or store credit instead.
    fn requested(at: OffsetDateTime) -> ReturnEvent {
        ReturnEvent::Requested {
            at,
            actor: Actor::Customer,
            resolution: Resolution::Exchange,
            items: vec![item()],
        }
    }

    fn staff() -> Actor {
        Actor::Staff { id: "ana@shop.test".into() }
    }

    /// An event of the kind that leads to `to`, `hours` after T0.
    fn event_to(to: ReturnStatus, hours: i64, actor: Actor) -> ReturnEvent {
        let at = T0 + Duration::hours(hours);
        match to {
            ReturnStatus::Requested => requested(at),
            ReturnStatus::Approved => ReturnEvent::Approved { at, actor, note: None },
            ReturnStatus::Rejected => ReturnEvent::Rejected { at, actor, note: None },
            ReturnStatus::InReview => ReturnEvent::SentToReview { at, actor },
            ReturnStatus::Received => ReturnEvent::Received { at, actor, dispositions: vec![] },
            ReturnStatus::Refunded => {
                ReturnEvent::Refunded { at, actor, amount: Money(2500), override_reason: None }
            }
            ReturnStatus::Exchanged => ReturnEvent::Exchanged { at, actor, replacement: None },
            ReturnStatus::Credited => {
                ReturnEvent::Credited { at, actor, amount: Money(2500), override_reason: None }
            }
            ReturnStatus::Cancelled => ReturnEvent::Cancelled { at, actor, note: None },
        }
    }

    /// A stream that leaves the return in `status`, or `None` for requested.
    fn path_to(status: ReturnStatus) -> Vec<ReturnStatus> {
        use ReturnStatus::*;
        match status {
            Requested => vec![],
            Approved | Rejected | InReview => vec![status],
            Received => vec![Approved, Received],
            Refunded | Exchanged | Credited => vec![Approved, Received, status],
            Cancelled => vec![Approved, Cancelled],
        }
    }

    fn state_in(status: ReturnStatus) -> ReturnState {
        let mut events = vec![requested(T0)];
        for (i, step) in path_to(status).into_iter().enumerate() {
            events.push(event_to(step, i as i64 + 1, staff()));
        }
        let state = ReturnState::fold(&events).unwrap();
        assert_eq!(state.status, status);
        state
    }

    #[test]
    fn the_transition_table_is_the_design() {
        use ReturnStatus::*;
        let allowed: Vec<(ReturnStatus, ReturnStatus)> = ReturnStatus::ALL
            .into_iter()
            .flat_map(|from| from.next().iter().map(move |to| (from, *to)))
            .collect();
        assert_eq!(
            allowed,
            [
                (Requested, Approved),
                (Requested, Rejected),
                (Requested, InReview),
                (Approved, Received),
                (Approved, Cancelled),
                (InReview, Approved),
                (InReview, Rejected),
                (Received, Refunded),
                (Received, Exchanged),
                (Received, Credited),
            ]
        );
        let finals: Vec<ReturnStatus> =
            ReturnStatus::ALL.into_iter().filter(|status| status.is_final()).collect();
        assert_eq!(finals, [Rejected, Refunded, Exchanged, Credited, Cancelled]);
    }

    #[test]
    fn apply_follows_the_table_for_every_pair() {
        for from in ReturnStatus::ALL {
            for to in ReturnStatus::ALL {
                let mut state = state_in(from);
                let before = state.clone();
                let result = state.apply(&event_to(to, 100, staff()));
                if to == ReturnStatus::Requested {
                    assert_eq!(result, Err(TransitionError::AlreadyRequested));
                    assert_eq!(state, before);
                } else if from.can_become(to) {
                    assert_eq!(result, Ok(()), "{from} -> {to}");
                    assert_eq!(state.status, to);
                    assert_eq!(state.timeline.last().unwrap().status, to);
                } else {
                    assert_eq!(
                        result,
                        Err(TransitionError::Illegal { from, to }),
                        "{from} -> {to}"
                    );
                    assert_eq!(state, before, "a refused event changes nothing");
                }
            }
        }
    }

    #[test]
    fn only_an_exchange_can_be_exchanged_and_it_names_its_replacement() {
        let mut refund = state_in(ReturnStatus::Received);
        refund.resolution = Resolution::Refund;
        let before = refund.clone();
        let exchanged = ReturnEvent::Exchanged {
            at: T0 + Duration::hours(100),
            actor: staff(),
            replacement: Some("G-100043".into()),
        };
        assert_eq!(
            refund.apply(&exchanged),
            Err(TransitionError::NotAnExchange(Resolution::Refund))
        );
        assert_eq!(refund, before);
        let mut exchange = state_in(ReturnStatus::Received);
        exchange.apply(&exchanged).unwrap();
        assert_eq!(exchange.replacement.as_deref(), Some("G-100043"));
    }

    #[test]
    fn a_full_life_has_a_timeline() {
        let events = vec![
            requested(T0),
            event_to(ReturnStatus::InReview, 0, Actor::System),
            event_to(ReturnStatus::Approved, 20, staff()),
            event_to(ReturnStatus::Received, 72, staff()),
            event_to(ReturnStatus::Refunded, 80, staff()),
        ];
        let state = ReturnState::fold(&events).unwrap();
        assert_eq!(state.status, ReturnStatus::Refunded);
        assert_eq!(state.amount, Some(Money(2500)));
        let timeline: Vec<(ReturnStatus, i64)> = state
            .timeline
            .iter()
            .map(|entry| (entry.status, (entry.at - T0).whole_hours()))
            .collect();
        assert_eq!(
            timeline,
            [
                (ReturnStatus::Requested, 0),
                (ReturnStatus::InReview, 0),
                (ReturnStatus::Approved, 20),
                (ReturnStatus::Received, 72),
                (ReturnStatus::Refunded, 80),
            ]
        );
        assert_eq!(state.reached(ReturnStatus::Received), Some(T0 + Duration::hours(72)));
        assert_eq!(state.reached(ReturnStatus::Cancelled), None);
        assert_eq!(
            serde_json::to_value(state.timeline[1]).unwrap(),
            json!({ "status": "in_review", "at": "2025-03-01T10:00:00Z" })
        );
    }

    #[test]
    fn folding_reports_where_a_stream_goes_wrong() {
        let refund_before_receipt = vec![
            requested(T0),
            event_to(ReturnStatus::Approved, 1, Actor::System),
            event_to(ReturnStatus::Refunded, 2, staff()),
        ];
        assert_eq!(
            ReturnState::fold(&refund_before_receipt),
            Err(ReturnFoldError {
                index: 2,
                error: TransitionError::Illegal {
                    from: ReturnStatus::Approved,
                    to: ReturnStatus::Refunded
                }
            })
        );
        assert_eq!(
            ReturnState::fold(&[event_to(ReturnStatus::Approved, 0, staff())]).unwrap_err().error,
            TransitionError::NotStarted("approved")
        );
        assert_eq!(
            ReturnState::fold(&[]).unwrap_err().error,
            TransitionError::NotStarted("nothing")
        );
        assert_eq!(
            ReturnState::fold(&[requested(T0), requested(T0)]).unwrap_err(),
            ReturnFoldError { index: 1, error: TransitionError::AlreadyRequested }
        );
        let empty = ReturnEvent::Requested {
            at: T0,
            actor: Actor::Customer,
            resolution: Resolution::Refund,
            items: vec![],
        };
        assert_eq!(ReturnState::fold(&[empty]).unwrap_err().error, TransitionError::NoItems);
    }

    #[test]
    fn customers_may_only_ask_and_call_off() {
        let mut state = state_in(ReturnStatus::Requested);
        assert_eq!(
            state.apply(&event_to(ReturnStatus::Approved, 1, Actor::Customer)),
            Err(TransitionError::NotForCustomers(ReturnStatus::Approved))
        );
        let mut approved = state_in(ReturnStatus::Approved);
        assert_eq!(
            approved.apply(&event_to(ReturnStatus::Received, 5, Actor::Customer)),
            Err(TransitionError::NotForCustomers(ReturnStatus::Received))
        );
        assert_eq!(approved.apply(&event_to(ReturnStatus::Cancelled, 5, Actor::Customer)), Ok(()));
        assert_eq!(state.apply(&event_to(ReturnStatus::Approved, 1, Actor::System)), Ok(()));
    }

    #[test]
    fn time_never_runs_backwards_but_may_stand_still() {
        let mut state = state_in(ReturnStatus::Approved);
        let at = state.updated_at();
        let earlier = ReturnEvent::Received {
            at: at - Duration::seconds(1),
            actor: staff(),
            dispositions: vec![],
        };
        assert_eq!(
            state.apply(&earlier),
            Err(TransitionError::BackInTime { previous: at, at: at - Duration::seconds(1) })
        );
        assert_eq!(
            state.apply(&ReturnEvent::Received { at, actor: staff(), dispositions: vec![] }),
            Ok(())
        );
    }

    #[test]
    fn amounts_and_notes_are_checked() {
        let mut state = state_in(ReturnStatus::Received);
        let at = state.updated_at();
        assert_eq!(
            state.apply(&ReturnEvent::Refunded {
                at,
                actor: staff(),
                amount: Money(-1),
                override_reason: None
            }),
            Err(TransitionError::NegativeAmount(-1))
        );
        assert_eq!(state.amount, None);
        let mut review = state_in(ReturnStatus::InReview);
        let note = Some("x".repeat(MAX_NOTE_CHARS + 1));
        assert_eq!(
            review.apply(&ReturnEvent::Rejected { at, actor: staff(), note }),
            Err(TransitionError::NoteTooLong(MAX_NOTE_CHARS + 1))
        );
        assert_eq!(review.status, ReturnStatus::InReview);
    }

    #[test]
    fn events_are_tagged_snake_case_json() {
        let event = event_to(ReturnStatus::InReview, 0, Actor::System);
        let value = serde_json::to_value(&event).unwrap();
        assert_eq!(
            value,
            json!({ "type": "sent_to_review", "at": "2025-03-01T10:00:00Z",
                    "actor": { "kind": "system" } })
        );
        let refunded = event_to(ReturnStatus::Refunded, 1, staff());
        let value = serde_json::to_value(&refunded).unwrap();
        assert_eq!(value["actor"], json!({ "kind": "staff", "id": "ana@shop.test" }));
        assert_eq!(value["amount"], 2500);
        assert_eq!(serde_json::from_value::<ReturnEvent>(value).unwrap(), refunded);
        let first = serde_json::to_value(requested(T0)).unwrap();
        assert_eq!(first["items"][0]["decision"]["outcome"], "approved");
        assert_eq!(serde_json::from_value::<ReturnEvent>(first).unwrap(), requested(T0));
        let bad_time =
            json!({ "type": "received", "at": "yesterday", "actor": { "kind": "system" } });
        assert!(serde_json::from_value::<ReturnEvent>(bad_time).is_err());
    }

    #[test]
    fn kind_and_status_match_the_tag() {
        for status in ReturnStatus::ALL {
            let event = event_to(status, 0, staff());
            let value = serde_json::to_value(&event).unwrap();
            assert_eq!(value["type"], event.kind());
            assert_eq!(event.status(), status);
            assert_eq!(event.schema_version(), 1);
            assert_eq!(serde_json::to_value(status).unwrap(), json!(status.as_str()));
        }
    }

    #[test]
    fn opening_events_follow_the_decision() {
        let mut decision = ReturnDecision { resolution: Resolution::Exchange, items: vec![item()] };
        let [first, second] = ReturnEvent::opening(&decision, Actor::Customer, T0);
        assert_eq!(first, requested(T0));
        assert_eq!(second, ReturnEvent::Approved { at: T0, actor: Actor::System, note: None });
        decision.items[0].decision.outcome = Outcome::InReview;
        let events = ReturnEvent::opening(&decision, Actor::Customer, T0);
        assert_eq!(ReturnState::fold(&events).unwrap().status, ReturnStatus::InReview);
        decision.items[0].decision.outcome = Outcome::Rejected;
        let events = ReturnEvent::opening(&decision, Actor::Customer, T0);
        assert_eq!(ReturnState::fold(&events).unwrap().status, ReturnStatus::Rejected);
    }

    /// Two items: a tee worth 2500 with no fee, and a mug worth 1500 returned with a
    /// 10 % fee (150); the mug is rejected in `with_rejected`.
    fn received_return(with_rejected: bool) -> ReturnState {
        let mut mug = item();
        mug.line = 1;
        mug.sku = Sku::parse("MUG").unwrap();
        mug.value = Money(1500);
        mug.restocking_fee = Money(150);
        if with_rejected {
            mug.decision.outcome = Outcome::Rejected;
        }
        let events = vec![
            ReturnEvent::Requested {
                at: T0,
                actor: Actor::Customer,
                resolution: Resolution::Refund,
                items: vec![item(), mug],
            },
            event_to(ReturnStatus::Approved, 1, staff()),
            event_to(ReturnStatus::Received, 2, staff()),
        ];
        ReturnState::fold(&events).unwrap()
    }

    fn refund(amount: i64, override_reason: Option<&str>) -> ReturnEvent {
        ReturnEvent::Refunded {
            at: T0 + Duration::hours(3),
            actor: staff(),
            amount: Money(amount),
            override_reason: override_reason.map(str::to_owned),
        }
    }

    #[test]
    fn a_refund_is_capped_at_what_is_due_unless_staff_say_why() {
        let state = received_return(false);
        assert_eq!(state.due(), Money(2500 + 1500 - 150));
        assert_eq!(state.paid(), Money(4000));
        assert_eq!(state.clone().apply(&refund(3850, None)), Ok(()));
        assert_eq!(
            state.clone().apply(&refund(3851, None)),
            Err(TransitionError::OverDue { amount: Money(3851), due: Money(3850) })
        );
        assert_eq!(
            state.clone().apply(&refund(3900, Some("  "))),
            Err(TransitionError::OverDue { amount: Money(3900), due: Money(3850) })
        );
        let mut waived = state.clone();
        waived.apply(&refund(4000, Some("fee waived: our mistake"))).unwrap();
        assert_eq!(waived.amount, Some(Money(4000)));
    }

    #[test]
    fn no_reason_pays_more_than_was_paid_for_the_items_coming_back() {
        let state = received_return(true);
        assert_eq!(state.paid(), Money(2500), "the rejected mug is not coming back");
        assert_eq!(
            state.clone().apply(&refund(10_000_000, Some("goodwill"))),
            Err(TransitionError::OverPaid { amount: Money(10_000_000), paid: Money(2500) })
        );
        let credit = ReturnEvent::Credited {
            at: T0 + Duration::hours(3),
            actor: staff(),
            amount: Money(2501),
            override_reason: Some("goodwill".into()),
        };
        assert_eq!(
            state.clone().apply(&credit),
            Err(TransitionError::OverPaid { amount: Money(2501), paid: Money(2500) })
        );
    }

    #[test]
    fn dispositions_default_from_the_policy_and_name_only_items_coming_back() {
        let policy =
            ReturnPolicy::from_json(include_str!("../../../../demo/return-policy.json")).unwrap();
        let mut state = received_return(false);
        state.items[1].reason = ReasonCode::parse("damaged").unwrap();
        let restock = |line| ItemDisposition { line, disposition: Disposition::Restock };
        let discard = |line| ItemDisposition { line, disposition: Disposition::Discard };
        assert_eq!(state.dispositions(&policy, &[], None), [restock(0), discard(1)]);
        assert_eq!(state.dispositions(&policy, &[restock(1)], None), [restock(0), restock(1)]);
        let rest = Some(Disposition::Discard);
        assert_eq!(state.dispositions(&policy, &[restock(1)], rest), [discard(0), restock(1)]);

        let approved = ReturnState::fold(&[
            ReturnEvent::Requested {
                at: T0,
                actor: Actor::Customer,
                resolution: Resolution::Refund,
                items: received_return(true).items,
            },
            event_to(ReturnStatus::Approved, 1, staff()),
        ])
        .unwrap();
        let received = |dispositions| ReturnEvent::Received {
            at: T0 + Duration::hours(2),
            actor: staff(),
            dispositions,
        };
        assert_eq!(
            approved.clone().apply(&received(vec![restock(0), restock(1)])),
            Err(TransitionError::NotReturned(1)),
            "the mug was rejected"
        );
        assert_eq!(
            approved.clone().apply(&received(vec![restock(0), discard(0)])),
            Err(TransitionError::DuplicateDisposition(0))
        );
        let mut done = approved.clone();
        done.apply(&received(vec![discard(0)])).unwrap();
        assert_eq!(done.dispositions, [discard(0)]);
    }
}
