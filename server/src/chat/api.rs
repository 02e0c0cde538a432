use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::{get, post},
    Json, Router,
};
use gapless_api::{
    chat::{Conversation, NewConversation, NewMessage as NewMessageSchema, TurnResponse},
    error::ErrorBody,
};
use serde::Deserialize;

use super::limits::{self, Rate};
use crate::{
    api_error::{ApiError, ApiJson},
    startup::AppState,
};

pub fn routes(limits: &Limits) -> Router<AppState> {
    let messages = Router::new()
        .route("/api/v1/conversations/{id}/messages", post(post_message))
        .route_layer(limits::per_conversation(limits.per_conversation));
    Router::new()
        .route("/api/v1/conversations", post(create_conversation))
        .route("/api/v1/conversations/{id}", get(read_conversation))
        .merge(messages)
        .route_layer(limits::per_ip(limits.per_ip))
}

/// How fast one client and one conversation may send.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub per_ip: Rate,
    pub per_conversation: Rate,
}

/// Start a conversation
///
/// Returns the id of a new, empty conversation. The id is an unguessable capability:
/// whoever holds it may read and continue the conversation.
#[utoipa::path(
    post,
    path = "/api/v1/conversations",
    tag = "chat",
    operation_id = "create_conversation",
    responses(
        (status = 201, description = "The conversation was started", body = NewConversation),
        (status = 429, description = "Too many requests from this client IP",
            body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again")),
            example = json!({ "error": { "code": "rate_limited", "message": "too many messages; try again in 2 s" } })),
        (status = 500, description = "Something went wrong on the server (a crash too): `internal`",
            body = ErrorBody,
            example = json!({ "error": { "code": "internal", "message": "something went wrong on our side" } })),
    )
)]
async fn create_conversation(
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<NewConversation>), ApiError> {
    let id = state.chat.start_conversation("api").await?;
    Ok((StatusCode::CREATED, Json(NewConversation { id })))
}

/// Read a conversation
///
/// The messages so far (each shopper message followed by the reply) and the current
/// order.
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}",
    tag = "chat",
    operation_id = "read_conversation",
    params(("id" = String, Path, description = "The id returned when the conversation was started")),
    responses(
        (status = 200, description = "The conversation as it stands", body = Conversation),
        (status = 404, description = "No conversation has this id: `not_found`", body = ErrorBody,
            example = json!({ "error": { "code": "not_found", "message": "no such conversation" } })),
        (status = 429, description = "Too many requests from this client IP",
            body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again")),
            example = json!({ "error": { "code": "rate_limited", "message": "too many messages; try again in 2 s" } })),
        (status = 503, description = "The shop has no catalog yet: `no_catalog`; try again later",
            body = ErrorBody,
            example = json!({ "error": { "code": "no_catalog", "message": "the shop has no catalog yet; try again later" } })),
        (status = 500, description = "Something went wrong on the server (a crash too): `internal`",
            body = ErrorBody,
            example = json!({ "error": { "code": "internal", "message": "something went wrong on our side" } })),
    )
)]
async fn read_conversation(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Conversation>, ApiError> {
    Ok(Json(state.chat.conversation(&id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMessage {
    text: String,
}

/// Send a shopper message
///
/// Takes one shopper message and answers with the reply, the order after this turn
/// and machine-readable notes. With an `Idempotency-Key`, re-sending the same key
/// returns the first answer and appends nothing. Bad input changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/messages",
    tag = "chat",
    operation_id = "post_message",
    params(
        ("id" = String, Path, description = "The id returned when the conversation was started"),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 200, pattern = "^[!-~]+$",
            description = "1 to 200 visible ASCII characters. Re-sending a key returns the first answer to it and appends nothing",
            example = "3f1d6c2a-msg-1"),
    ),
    request_body(content = NewMessageSchema, content_type = "application/json",
        description = "The message; the `Content-Type` must be `application/json` and no other field is accepted"),
    responses(
        (status = 200, description = "The reply, the order after this turn and notes on it", body = TurnResponse),
        (status = 400, description = "The body is not JSON: `malformed`", body = ErrorBody,
            example = json!({ "error": { "code": "malformed", "message": "Failed to parse the request body as JSON: EOF while parsing a value at line 1 column 9" } })),
        (status = 404, description = "No conversation has this id: `not_found`", body = ErrorBody,
            example = json!({ "error": { "code": "not_found", "message": "no such conversation" } })),
        (status = 413, description = "The request body is larger than 64 KiB: `too_large`", body = ErrorBody,
            example = json!({ "error": { "code": "too_large", "message": "the request body is larger than 64 KiB" } })),
        (status = 415, description = "The `Content-Type` is not `application/json`: `unsupported_media_type`", body = ErrorBody,
            example = json!({ "error": { "code": "unsupported_media_type", "message": "send JSON with Content-Type: application/json" } })),
        (status = 422, description = "The JSON does not fit: `empty` or `too_long` text (over 2000 characters), `invalid_text` (control characters), `invalid` (missing or unknown field, wrong type) or `invalid_idempotency_key`",
            body = ErrorBody,
            examples(
                ("empty" = (value = json!({ "error": { "code": "empty", "message": "the message is empty" } }))),
                ("too_long" = (value = json!({ "error": { "code": "too_long", "message": "the message has 2001 characters; at most 2000 are accepted" } }))),
                ("invalid_text" = (value = json!({ "error": { "code": "invalid_text", "message": "the message contains control characters" } }))),
                ("invalid" = (value = json!({ "error": { "code": "invalid", "message": "Failed to deserialize the JSON body into the target type: missing field `text` at line 1 column 2" } }))),
                ("invalid_idempotency_key" = (value = json!({ "error": { "code": "invalid_idempotency_key", "message": "Idempotency-Key must be 1 to 200 visible ASCII characters" } }))),
            )),
        (status = 429, description = "Too many requests from this client IP or to this conversation: `rate_limited`",
            body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again")),
            example = json!({ "error": { "code": "rate_limited", "message": "too many messages; try again in 2 s" } })),
        (status = 503, description = "Try again later: the shop has no catalog yet (`no_catalog`) or concurrent writers kept winning (`busy`)",
            body = ErrorBody,
            examples(
                ("no_catalog" = (value = json!({ "error": { "code": "no_catalog", "message": "the shop has no catalog yet; try again later" } }))),
                ("busy" = (value = json!({ "error": { "code": "busy", "message": "too busy right now; try again" } }))),
            )),
        (status = 500, description = "Something went wrong on the server (a crash too): `internal`",
            body = ErrorBody,
            example = json!({ "error": { "code": "internal", "message": "something went wrong on our side" } })),
    )
)]
async fn post_message(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(message): ApiJson<NewMessage>,
) -> Result<Json<TurnResponse>, ApiError> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => Some(value.to_str().map_err(|_| {
            ApiError::invalid("invalid_idempotency_key", "Idempotency-Key must be visible ASCII")
        })?),
    };
    Ok(Json(state.chat.post_message(&id, &message.text, key).await?))
}
