//! Why the chat did not answer: the one error of [`super::service::ChatService`].
//! The JSON API turns it into its status and code (`impl From<ChatError> for ApiError`
//! in `api_error`), the widget into words for the shopper (`widget::shopper_error`), and
//! agents into a tool error; none of them match on code strings.

use gapless_domain::chat::message::MessageError;

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// No conversation has this id (or it was never started here).
    #[error("no such conversation")]
    UnknownConversation,
    /// A shopper message the chat does not take (empty, too long, control characters).
    #[error("{0}")]
    Message(#[from] MessageError),
    #[error("Idempotency-Key must be 1 to 200 visible ASCII characters")]
    BadIdempotencyKey,
    /// Nothing can be validated before `gapless catalog import` ran.
    #[error("the shop has no catalog yet; try again later")]
    NoCatalog,
    /// Concurrent writers won every attempt.
    #[error("too busy right now; try again")]
    Busy,
    /// Ours: logged where it is answered, never shown in detail.
    #[error("something went wrong on our side")]
    Internal(#[from] anyhow::Error),
}
