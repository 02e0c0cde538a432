//! The errors of the `/api/v1` JSON boundary (chat, returns, staff), with the body
//! of CONTRACTS §2:
//! `{ "error": { "code": "…", "message": "…" } }`. Internal causes are logged, never sent.

use crate::{
    chat::error::ChatError, fulfilment::service::FulfilmentError, payments::PaymentError,
    returns::error::ReturnsError, staff::error::StaffError,
};
use axum::{
    extract::rejection::JsonRejection,
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use gapless_api::error::ErrorBody;
use gapless_domain::chat::message::MessageError;
use gapless_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(&'static str),
    /// The request was understood but its content is not acceptable.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// A shopper message the chat does not take (empty, too long, control characters).
    #[error("{0}")]
    Message(MessageError),
    #[error("{0}")]
    BadRequest(String),
    #[error("send JSON with Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("the request body is larger than 64 KiB")]
    TooLarge,
    #[error("the shop has no catalog yet; try again later")]
    NoCatalog,
    #[error("too busy right now; try again")]
    Busy,
    #[error("too many messages; try again in {retry_after} s")]
    RateLimited { retry_after: u64 },
    /// A payment provider's webhook whose signature does not verify (or is stale).
    #[error("the Stripe-Signature header does not verify")]
    BadSignature,
    /// The payment provider refused or could not be reached; the message says which,
    /// for the staff member who asked.
    #[error("{0}")]
    PaymentProvider(String),
    #[error("something went wrong on our side")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Invalid { code, message: message.into() }
    }

    /// The `code` of the error body: what an agent's tool error carries too.
    pub fn code(&self) -> &'static str {
        self.status_and_code().1
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Invalid { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code),
            ApiError::Message(error) => (StatusCode::UNPROCESSABLE_ENTITY, error.code()),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "malformed"),
            ApiError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::NoCatalog => (StatusCode::SERVICE_UNAVAILABLE, "no_catalog"),
            ApiError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::BadSignature => (StatusCode::BAD_REQUEST, "bad_signature"),
            ApiError::PaymentProvider(_) => (StatusCode::BAD_GATEWAY, "payment_provider"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            // The client sent it: a page link it altered or kept too long.
            StoreError::BadCursor(_) => ApiError::invalid("bad_cursor", error.to_string()),
            error => ApiError::Internal(error.into()),
        }
    }
}

/// The chat's errors as the JSON API answers them (CONTRACTS §2 codes).
impl From<ChatError> for ApiError {
    fn from(error: ChatError) -> Self {
        match error {
            ChatError::UnknownConversation => ApiError::NotFound("no such conversation"),
            ChatError::Message(error) => ApiError::Message(error),
            ChatError::BadIdempotencyKey => {
                ApiError::invalid("invalid_idempotency_key", error.to_string())
            }
            ChatError::NoCatalog => ApiError::NoCatalog,
            ChatError::Busy => ApiError::Busy,
            ChatError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

/// The returns service's errors as the JSON API answers them (CONTRACTS §4 codes).
impl From<ReturnsError> for ApiError {
    fn from(error: ReturnsError) -> Self {
        match error {
            ReturnsError::UnknownOrder => {
                ApiError::NotFound("no order with this number and email; check both and try again")
            }
            ReturnsError::UnknownReturn => ApiError::NotFound("no return with this code and email"),
            ReturnsError::UnknownRma => ApiError::NotFound("no return with this code"),
            ReturnsError::Refund(error) => error.into(),
            ReturnsError::NoCatalog => ApiError::NoCatalog,
            ReturnsError::Busy => ApiError::Busy,
            ReturnsError::Internal(cause) => ApiError::Internal(cause),
            refused => ApiError::invalid(refused.code(), refused.to_string()),
        }
    }
}

/// The staff services' errors as the JSON API answers them.
impl From<StaffError> for ApiError {
    fn from(error: StaffError) -> Self {
        match error {
            StaffError::UnknownConversation => ApiError::NotFound("no such conversation"),
            StaffError::UnknownOrder => ApiError::NotFound("no such order"),
            StaffError::UnknownApiKey => ApiError::NotFound("no API key in use has this id"),
            StaffError::Internal(cause) => ApiError::Internal(cause),
            refused => ApiError::invalid(refused.code(), refused.to_string()),
        }
    }
}

/// A fulfilment report's refusal as the fulfilment API answers it (CONTRACTS §7).
impl From<FulfilmentError> for ApiError {
    fn from(error: FulfilmentError) -> Self {
        match error {
            FulfilmentError::UnknownOrder => ApiError::NotFound("no such order"),
            FulfilmentError::Busy => ApiError::Busy,
            FulfilmentError::Internal(cause) => ApiError::Internal(cause),
            refused => ApiError::invalid(refused.code(), refused.to_string()),
        }
    }
}

/// A refund's refusal as the staff API answers it.
impl From<PaymentError> for ApiError {
    fn from(error: PaymentError) -> Self {
        match error {
            PaymentError::NotPaid { .. } | PaymentError::OverPaid { .. } => {
                ApiError::invalid(error.code(), error.to_string())
            }
            PaymentError::Provider(message) => ApiError::PaymentProvider(message),
            PaymentError::Busy => ApiError::Busy,
            PaymentError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

/// What went wrong inside, with its cause for the log: always a 500.
impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        ApiError::Internal(error)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
            JsonRejection::JsonDataError(error) => ApiError::invalid("invalid", error.body_text()),
            // A body without Content-Length that streams past the limit.
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(error = format!("{cause:#}"), "API request failed");
        }
        let mut response = error_response(status, code, &self.to_string());
        if let ApiError::RateLimited { retry_after } = &self {
            response.headers_mut().insert(header::RETRY_AFTER, (*retry_after).max(1).into());
        }
        response
    }
}

/// `401 unauthorized`: no staff session, or a failed sign-in (one message for every
/// reason). A type of its own rather than an [`ApiError`] variant: it comes from the
/// staff extractor, never from a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unauthorized(pub &'static str);

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        error_response(StatusCode::UNAUTHORIZED, "unauthorized", self.0)
    }
}

/// `403 forbidden`: signed in, but the role does not allow this. Its own type for the
/// same reason as [`Unauthorized`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Forbidden(pub &'static str);

impl IntoResponse for Forbidden {
    fn into_response(self) -> Response {
        error_response(StatusCode::FORBIDDEN, "forbidden", self.0)
    }
}

/// Gives every `/api/v1` error the JSON body, also those answered before any handler
/// ran: `413` from the body limit, `405` for a method a route lacks, `404` for no route,
/// `503` from the request timeout, `500` from a panic. A response that already is
/// JSON keeps its body.
pub async fn json_error_bodies(request: axum::extract::Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/v1/") || request.uri().path() == "/api/v1";
    let response = next.run(request).await;
    let status = response.status();
    if !api || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such endpoint"),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", "this endpoint does not take this method")
        }
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "the request body is larger than 64 KiB"),
        StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::REQUEST_TIMEOUT
        | StatusCode::GATEWAY_TIMEOUT => ("timeout", "the request took too long; try again"),
        StatusCode::INTERNAL_SERVER_ERROR => ("internal", "something went wrong on our side"),
        status if status.is_server_error() => ("unavailable", "try again later"),
        _ => ("bad_request", "the request was not understood"),
    };
    let mut fixed = error_response(status, code, message);
    // Keep what the layer said beside the body (`Allow`, `Retry-After`, …).
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fixed.headers_mut().append(name.clone(), value.clone());
        }
    }
    fixed
}

fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(ErrorBody::new(code, message))).into_response()
}

/// `Json<T>` whose rejections answer with our error body instead of axum's plain text.
pub struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        Ok(ApiJson(value))
    }
}
