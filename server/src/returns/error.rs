//! Why the returns service said no: the one error of [`super::service::ReturnsService`].
//! The JSON API turns it into its status and code (`impl From<ReturnsError> for
//! ApiError` in `api_error`), the portal into words for the customer
//! (`portal::customer_error`); neither matches on code strings.

use gapless_domain::returns::{ExchangeError, ReplacementError, RequestError, TransitionError};

use crate::payments::PaymentError;

#[derive(Debug, thiserror::Error)]
pub enum ReturnsError {
    /// A lookup whose number and email do not name an order: a wrong email and an
    /// unknown order are told apart nowhere.
    #[error("no order with this number and email; check both and try again")]
    UnknownOrder,
    /// A customer's RMA code and email that do not name a return.
    #[error("no return with this code and email")]
    UnknownReturn,
    /// A staff action on an RMA code that names no return.
    #[error("no return with this code")]
    UnknownRma,
    /// The policy refused the request (nothing returnable, too late, too many, …).
    #[error("{0}")]
    Request(#[from] RequestError),
    /// An exchange wish that cannot be met.
    #[error("{0}")]
    Exchange(#[from] ExchangeError),
    /// The replacement order of an exchange cannot be built.
    #[error("{0}")]
    Replacement(ReplacementError),
    /// The replacement's units were sold between the check and the write.
    #[error("the replacement is out of stock now; record a refund or store credit instead")]
    ReplacementSoldOut,
    /// A staff event the return's state does not allow, or with a bad amount or note.
    #[error("{0}")]
    Transition(#[from] TransitionError),
    /// A staff action whose `type` is not one of the events.
    #[error(
        "unknown type {0:?}: use approved, rejected, received, refunded, exchanged, \
         credited or cancelled"
    )]
    UnknownAction(String),
    /// A list filter that is not a return status.
    #[error("unknown status {0:?}")]
    UnknownStatus(String),
    #[error("days must be between 1 and 3660")]
    BadPeriod,
    /// The refund of a paid order was not sent; nothing was recorded.
    #[error("{0}")]
    Refund(#[from] PaymentError),
    #[error("the shop has no catalog yet; try again later")]
    NoCatalog,
    /// Concurrent requests won every attempt.
    #[error("too busy right now; try again")]
    Busy,
    #[error("something went wrong on our side")]
    Internal(#[from] anyhow::Error),
}

impl ReturnsError {
    /// The API's `code`: the refusal's own for one the caller can fix (422).
    pub fn code(&self) -> &'static str {
        match self {
            ReturnsError::UnknownOrder | ReturnsError::UnknownReturn | ReturnsError::UnknownRma => {
                "not_found"
            }
            ReturnsError::Refund(error) => error.code(),
            ReturnsError::NoCatalog => "no_catalog",
            ReturnsError::Busy => "busy",
            ReturnsError::Internal(_) => "internal",
            ReturnsError::Request(error) => error.code(),
            ReturnsError::Exchange(error) => error.code(),
            ReturnsError::Replacement(ReplacementError::OutOfStock { .. })
            | ReturnsError::ReplacementSoldOut => "out_of_stock",
            ReturnsError::Replacement(_) => "nothing_to_exchange",
            ReturnsError::Transition(error) => match error {
                TransitionError::OverDue { .. } => "refund_over_due",
                TransitionError::OverPaid { .. } => "refund_over_paid",
                TransitionError::NegativeAmount(_)
                | TransitionError::NoteTooLong(_)
                | TransitionError::NotReturned(_)
                | TransitionError::DuplicateDisposition(_) => "invalid",
                _ => "illegal_transition",
            },
            ReturnsError::UnknownAction(_)
            | ReturnsError::UnknownStatus(_)
            | ReturnsError::BadPeriod => "invalid",
        }
    }
}
