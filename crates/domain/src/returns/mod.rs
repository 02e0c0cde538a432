//! Returns (DESIGN "Returns", CONTRACTS §4): the shop's policy as data, the engine
//! that decides each item of a request, RMA codes, the return's life as audited
//! events, and refund cycle times.
//!
//! Nothing here touches a database or a clock: the store loads the policy and the
//! order, passes `now`, appends the [`ReturnEvent`]s (payload = the serde JSON,
//! `type` = [`ReturnEvent::kind`], schema version [`RETURN_EVENT_SCHEMA_VERSION`]) and
//! draws the random number behind each [`RmaCode`].
//!
//! The flow for one request:
//! 1. lookup: [`returnable`] says per order line how many units may still come back;
//! 2. request: [`decide`] refuses malformed input ([`RequestError`], a 4xx) or decides
//!    every item ([`ReturnDecision`]);
//! 3. record: [`ReturnEvent::opening`] gives the first two events, [`RmaCode::from_random`]
//!    the code; staff then append `received`, `refunded` and so on, which
//!    [`ReturnState::apply`] checks against the state machine;
//! 4. report: [`cycle_time`] and [`report`] turn completed returns into p50/p90.

mod cycle_time;
mod decide;
mod exchange;
mod policy;
mod restock;
mod rma;
mod status;
#[cfg(test)]
mod tests;

pub use cycle_time::{cycle_time, percentiles, report, CycleTime, CycleTimeReport, Percentiles};
pub use decide::{
    decide, returnable, validate, BoughtLine, DecidedItem, Decision, NotReturnable, OrderDates,
    Outcome, RequestError, RequestedItem, ReturnDecision, ReturnItem, ReturnRequest, Returnable,
    RuleId, MAX_COMMENT_CHARS, MAX_RETURN_QUANTITY,
};
pub use exchange::{
    exchange_options, plan_exchanges, replacement_order, BoughtChoices, ExchangeError,
    ExchangeOption, ExchangeValue, ReplacementError, ReplacementItem, MAX_EXCHANGE_GROUPS,
};
pub use policy::{
    CustomerLimit, PolicyError, ReasonChoice, ReasonCode, ReasonCodeError, Resolution,
    ReturnPolicy, ReturnReason, MAX_CUSTOMER_LIMIT_RETURNS, MAX_REASON_CODE_CHARS,
    MAX_REASON_LABEL_CHARS,
};
pub use restock::restocked_units;
pub use rma::{RmaCode, RmaCodeError, RMA_ALPHABET, RMA_CHARS};
pub use status::{
    Actor, Disposition, ItemDisposition, ReturnEvent, ReturnFoldError, ReturnState, ReturnStatus,
    TimelineEntry, TransitionError, MAX_NOTE_CHARS, RETURN_EVENT_SCHEMA_VERSION,
};
