//! Webhook endpoints over HTTP, for admins (CONTRACTS §6):
//!
//! - `POST /api/v1/staff/webhooks` `{ "url", "events"? }` → `201 { "id", "url", "events",
//!   "secret" }` (the secret is shown only here)
//! - `GET /api/v1/staff/webhooks` → `{ "webhooks": [ { "id", "url", "events", "paused",
//!   "created_at" } ] }`
//! - `PATCH /api/v1/staff/webhooks/{id}` `{ "paused": true|false }` → the endpoint
//! - `DELETE /api/v1/staff/webhooks/{id}` → `204`
//! - `GET /api/v1/staff/webhooks/{id}/deliveries?status=failed&limit=50` →
//!   `{ "deliveries": [ … ] }`, newest first
//! - `POST /api/v1/staff/webhooks/{id}/deliveries/{delivery}/retry` → `202` (a failed
//!   message sent again)
//! - `POST /api/v1/staff/webhooks/{id}/test` → `202 { "delivery_id" }`

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, patch, post},
    Json, Router,
};
use gapless_store::DeliveryStatus;
use serde::Deserialize;
use serde_json::json;

use super::{WebhookError, Webhooks};
use crate::{
    api_error::{ApiError, ApiJson, Forbidden},
    staff::{accounts::Permission, extractor::StaffUser},
    startup::AppState,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/staff/webhooks", post(add).get(list))
        .route("/api/v1/staff/webhooks/{id}", patch(update).delete(remove))
        .route("/api/v1/staff/webhooks/{id}/deliveries", get(deliveries))
        .route("/api/v1/staff/webhooks/{id}/deliveries/{delivery}/retry", post(send_again))
        .route("/api/v1/staff/webhooks/{id}/test", post(send_test))
}

impl From<WebhookError> for ApiError {
    fn from(error: WebhookError) -> Self {
        match error {
            WebhookError::BadUrl(message) => ApiError::invalid("bad_url", message),
            WebhookError::BadFilter(e) => ApiError::invalid("bad_events", e.to_string()),
            WebhookError::UnknownEndpoint(_) => ApiError::NotFound("no such webhook endpoint"),
            WebhookError::NotFailed(_) => {
                ApiError::invalid("not_failed", "only a failed delivery can be sent again")
            }
            WebhookError::Store(e) => e.into(),
        }
    }
}

/// Only admins manage where the shop's data goes (webhooks here, API keys in
/// `fulfilment::keys_api`).
// The refusal is the handler's own response type, returned as is by `?`; it is built
// once per refused request, so its size does not matter.
#[allow(clippy::result_large_err)]
pub(crate) fn admin(staff: &StaffUser) -> Result<(), Response> {
    if staff.role.may(Permission::ManageIntegrations) {
        Ok(())
    } else {
        Err(Forbidden(Permission::ManageIntegrations.refusal()).into_response())
    }
}

fn webhooks(state: &AppState) -> Webhooks {
    Webhooks::new(state.store.clone())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewEndpoint {
    url: String,
    #[serde(default)]
    events: Vec<String>,
}

async fn add(
    staff: StaffUser,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewEndpoint>,
) -> Result<Response, Response> {
    admin(&staff)?;
    let created = webhooks(&state)
        .add(&body.url, &body.events)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn list(staff: StaffUser, State(state): State<AppState>) -> Result<Response, Response> {
    admin(&staff)?;
    let endpoints = webhooks(&state).list().await.map_err(|e| ApiError::from(e).into_response())?;
    Ok(Json(json!({ "webhooks": endpoints })).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Update {
    paused: bool,
}

async fn update(
    staff: StaffUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Update>,
) -> Result<Response, Response> {
    admin(&staff)?;
    let hooks = webhooks(&state);
    let result = async {
        hooks.set_paused(&id, body.paused).await?;
        let endpoint = hooks.list().await?.into_iter().find(|e| e.id == id);
        endpoint.ok_or(WebhookError::UnknownEndpoint(id.clone()))
    };
    let endpoint = result.await.map_err(|e| ApiError::from(e).into_response())?;
    Ok(Json(endpoint).into_response())
}

async fn remove(
    staff: StaffUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Response> {
    admin(&staff)?;
    webhooks(&state).remove(&id).await.map_err(|e| ApiError::from(e).into_response())?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveryQuery {
    status: Option<String>,
    limit: Option<u32>,
}

async fn deliveries(
    staff: StaffUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<DeliveryQuery>,
) -> Result<Response, Response> {
    admin(&staff)?;
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some("pending") => Some(DeliveryStatus::Pending),
        Some("delivered") => Some(DeliveryStatus::Delivered),
        Some("failed") => Some(DeliveryStatus::Failed),
        Some(_) => {
            return Err(ApiError::invalid(
                "bad_status",
                "status is one of pending, delivered, failed",
            )
            .into_response())
        }
    };
    let rows = webhooks(&state)
        .deliveries(&id, status, query.limit.unwrap_or(50))
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    Ok(Json(json!({ "deliveries": rows })).into_response())
}

async fn send_again(
    staff: StaffUser,
    State(state): State<AppState>,
    Path((id, delivery)): Path<(String, i64)>,
) -> Result<StatusCode, Response> {
    admin(&staff)?;
    webhooks(&state)
        .send_again(&id, delivery)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    Ok(StatusCode::ACCEPTED)
}

async fn send_test(
    staff: StaffUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    admin(&staff)?;
    let delivery =
        webhooks(&state).send_test(&id).await.map_err(|e| ApiError::from(e).into_response())?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "delivery_id": delivery }))).into_response())
}
