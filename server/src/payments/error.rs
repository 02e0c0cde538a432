//! Why a payment step did nothing: the one error of the payments service (refunds,
//! Stripe's events, the sweep). The staff API answers it through `impl
//! From<PaymentError> for ApiError`.

use gapless_domain::orders::OrderNumber;

/// Why a refund, a payment event or the payment sweep did nothing. Nothing was written
/// in any case.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// The order's payment never arrived: there is nothing to send back.
    #[error("order {number} was never paid ({status}): there is nothing to refund")]
    NotPaid { number: OrderNumber, status: &'static str },
    /// More than what was paid and not yet refunded; `refundable` is formatted money.
    #[error("at most {refundable} of what was paid for order {number} can still be refunded")]
    OverPaid { number: OrderNumber, refundable: String },
    /// Stripe refused, could not be reached, or is not set up here; the message says
    /// which, for the staff member who asked.
    #[error("{0}")]
    Provider(String),
    /// Other writers kept moving the order on.
    #[error("too busy right now; try again")]
    Busy,
    #[error("something went wrong on our side")]
    Internal(#[from] anyhow::Error),
}

impl PaymentError {
    /// The API's `code`.
    pub fn code(&self) -> &'static str {
        match self {
            PaymentError::NotPaid { .. } => "not_paid",
            PaymentError::OverPaid { .. } => "refund_over_paid",
            PaymentError::Provider(_) => "payment_provider",
            PaymentError::Busy => "busy",
            PaymentError::Internal(_) => "internal",
        }
    }
}
