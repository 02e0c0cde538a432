//! The body of every `4xx` and `5xx` answer of the JSON API.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// The body of every `4xx` and `5xx` answer of the API. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(json!({ "error": { "code": "not_found", "message": "no such conversation" } }))))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorDetail {
    /// For programs: `not_found`, `malformed`, `unsupported_media_type`, `empty`,
    /// `too_long`, `invalid_text`, `invalid`, `invalid_idempotency_key`,
    /// `rate_limited`, `no_catalog`, `busy` or `internal`.
    #[cfg_attr(feature = "openapi", schema(examples("not_found")))]
    pub code: String,
    /// For people: what to change or when to try again.
    #[cfg_attr(feature = "openapi", schema(examples("no such conversation")))]
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: &str, message: &str) -> Self {
        ErrorBody { error: ErrorDetail { code: code.to_owned(), message: message.to_owned() } }
    }
}
