//! `POST /api/v1/orders/{number}/fulfilments` (CONTRACTS §7), for systems with an API
//! key. Only the key is checked before the body: without one, nothing about the order
//! (whether it exists) is revealed.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::post,
    Json, Router,
};
use gapless_api::{chat::Order, error::ErrorBody, fulfilment::FulfilmentReport};

use super::{keys::SystemKey, service};
use crate::{
    api_error::{ApiError, ApiJson},
    startup::AppState,
};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/orders/{number}/fulfilments", post(record))
}

/// Report a shipment or a delivery
///
/// For the shop's fulfilment systems, with an API key (`gapless api-key add NAME`).
/// Appends a `shipped` or `delivered` event to the order and answers the order with
/// its `fulfilments`. Only confirmed → shipped → delivered (or confirmed → delivered)
/// happen; a shipped order may ship again (another parcel). With an
/// `Idempotency-Key`, sending the same key again returns the first answer and appends
/// nothing.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{number}/fulfilments",
    tag = "fulfilment",
    operation_id = "record_fulfilment",
    security(("api_key" = [])),
    params(
        ("number" = String, Path, description = "The order number", example = "G-100042"),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 200, pattern = "^[!-~]+$",
            description = "1 to 200 visible ASCII characters, per API key. Re-sending a key returns the first answer to it and appends nothing",
            example = "shipment-88213"),
    ),
    request_body(content = FulfilmentReport, content_type = "application/json",
        description = "What happened; no other field is accepted"),
    responses(
        (status = 201, description = "Recorded: the order with its fulfilments", body = Order),
        (status = 401, description = "No API key, or an unknown or revoked one: `unauthorized`", body = ErrorBody,
            example = json!({ "error": { "code": "unauthorized", "message": "send an API key: Authorization: Bearer gk_…" } })),
        (status = 404, description = "No order has this number: `not_found`", body = ErrorBody,
            example = json!({ "error": { "code": "not_found", "message": "no such order" } })),
        (status = 422, description = "`illegal_transition` (a draft or cancelled order, or shipped after delivered), `invalid` (a field that does not fit), `invalid_idempotency_key` or `idempotency_key_reused` (the key was used for another order)",
            body = ErrorBody,
            examples(
                ("illegal_transition" = (value = json!({ "error": { "code": "illegal_transition", "message": "an order that is delivered cannot become shipped" } }))),
                ("invalid" = (value = json!({ "error": { "code": "invalid", "message": "tracking_url must be an http:// or https:// address without spaces" } }))),
            )),
        (status = 503, description = "Concurrent writers kept winning: `busy`; try again", body = ErrorBody,
            example = json!({ "error": { "code": "busy", "message": "too busy right now; try again" } })),
        (status = 500, description = "Something went wrong on the server: `internal`", body = ErrorBody,
            example = json!({ "error": { "code": "internal", "message": "something went wrong on our side" } })),
    )
)]
async fn record(
    SystemKey(key): SystemKey,
    State(state): State<AppState>,
    Path(number): Path<String>,
    headers: HeaderMap,
    ApiJson(report): ApiJson<FulfilmentReport>,
) -> Result<(StatusCode, Json<Order>), ApiError> {
    let idempotency_key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => Some(value.to_str().map_err(|_| {
            ApiError::invalid("invalid_idempotency_key", "Idempotency-Key must be visible ASCII")
        })?),
    };
    let order =
        service::record(state.store.as_ref(), &key, &number, &report, idempotency_key).await?;
    Ok((StatusCode::CREATED, Json(order)))
}
