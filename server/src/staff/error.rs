//! Why a staff read or action was refused: the one error of the staff services (the
//! conversation search and timeline, the order's events, the dashboard, the handoff
//! queue and replies, the API keys). The JSON API turns it into its status and code (`impl
//! From<StaffError> for ApiError` in `api_error`), the console shows its text.

use gapless_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("no such conversation")]
    UnknownConversation,
    #[error("no such order")]
    UnknownOrder,
    #[error("no API key in use has this id")]
    UnknownApiKey,
    /// An API key name that is empty, too long or taken; the message says which.
    #[error("{0}")]
    BadKeyName(String),
    /// The conversation search's words run past what it reads.
    #[error("search for at most {max} characters")]
    SearchTooLong { max: usize },
    #[error("outcome must be one of open, ordered, abandoned, handed_off, failed")]
    BadOutcome,
    /// `from`/`to` of a search or export that is neither a date nor an RFC 3339 time.
    #[error("{name} must be a date (YYYY-MM-DD) or an RFC 3339 time, not {text:?}")]
    BadTime { name: &'static str, text: String },
    #[error("from must be before to")]
    BadRange,
    #[error("order must be an order number like G-100001")]
    BadOrderNumber,
    #[error("limit must be 1 to {max}")]
    BadLimit { max: u32 },
    /// A page link that was altered or kept too long.
    #[error("{0}")]
    BadCursor(String),
    /// A dashboard day that is not `YYYY-MM-DD`.
    #[error("{name} must be a day as YYYY-MM-DD, not {text:?}")]
    BadDay { name: &'static str, text: String },
    /// A dashboard period that runs backwards, too long or past the calendar.
    #[error("{0}")]
    BadPeriod(String),
    #[error("the reply is empty")]
    EmptyReply,
    #[error("the reply has {chars} characters; at most {max} are accepted")]
    ReplyTooLong { chars: usize, max: usize },
    #[error("the reply contains control characters")]
    ReplyControlCharacters,
    #[error("something went wrong on our side")]
    Internal(#[from] anyhow::Error),
}

impl StaffError {
    /// The API's `code`: `not_found` for the unknown ones, else the refusal's own.
    pub fn code(&self) -> &'static str {
        match self {
            StaffError::UnknownConversation
            | StaffError::UnknownOrder
            | StaffError::UnknownApiKey => "not_found",
            StaffError::BadKeyName(_) => "bad_key_name",
            StaffError::SearchTooLong { .. } | StaffError::ReplyTooLong { .. } => "too_long",
            StaffError::BadOutcome => "invalid_outcome",
            StaffError::BadTime { .. } => "invalid_time",
            StaffError::BadRange => "invalid_range",
            StaffError::BadOrderNumber => "invalid_order_number",
            StaffError::BadLimit { .. } => "invalid_limit",
            StaffError::BadCursor(_) => "bad_cursor",
            StaffError::BadDay { .. } => "invalid_date",
            StaffError::BadPeriod(_) => "invalid_period",
            StaffError::EmptyReply => "empty",
            StaffError::ReplyControlCharacters => "invalid_text",
            StaffError::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for StaffError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::BadCursor(_) => StaffError::BadCursor(error.to_string()),
            error => StaffError::Internal(error.into()),
        }
    }
}
