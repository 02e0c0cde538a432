//! API keys over HTTP, for admins (the CLI's `gapless api-key …` in the console's and a
//! script's reach):
//!
//! - `GET /api/v1/staff/api-keys` → `{ "api_keys": [ { "id", "name", "created_at",
//!   "revoked_at" } ] }` (never a key)
//! - `POST /api/v1/staff/api-keys` `{ "name" }` → `201 { "id", "name", "key" }` (the key
//!   is shown only here)
//! - `DELETE /api/v1/staff/api-keys/{id}` → `204`; the key gets `401` from then on

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get},
    Json, Router,
};
use gapless_store::{ApiKeyRow, Store};
use serde::Deserialize;
use serde_json::json;

pub use app::staff::api_keys::{ApiKeyView, CreatedApiKey};

use super::keys::{self, AddKeyError};
use crate::{
    api_error::{ApiError, ApiJson},
    json_time::rfc3339,
    staff::{error::StaffError, extractor::StaffUser},
    startup::AppState,
    webhooks::api::admin,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/staff/api-keys", get(list).post(add))
        .route("/api/v1/staff/api-keys/{id}", delete(revoke))
}

pub fn view(row: ApiKeyRow) -> ApiKeyView {
    ApiKeyView {
        id: row.id,
        name: row.name,
        created_at: rfc3339(row.created_at),
        revoked_at: row.revoked_at.map(rfc3339),
    }
}

/// All keys, as listed.
pub async fn all(store: &dyn Store) -> Result<Vec<ApiKeyView>, StaffError> {
    Ok(store.api_keys().await?.into_iter().map(view).collect())
}

/// Creates a key; a bad or taken name is `422 bad_key_name`.
pub async fn create(store: &dyn Store, name: &str) -> Result<CreatedApiKey, StaffError> {
    match keys::add(store, name).await {
        Ok((row, key)) => {
            tracing::info!(key_id = %row.id, name = %row.name, "API key created");
            Ok(CreatedApiKey { id: row.id, name: row.name, key })
        }
        Err(AddKeyError::Name(message)) => Err(StaffError::BadKeyName(message)),
        Err(AddKeyError::Failed(error)) => Err(StaffError::Internal(error)),
    }
}

/// Revokes the key in use with this id; `404` when there is none.
pub async fn revoke_by_id(store: &dyn Store, id: &str) -> Result<(), StaffError> {
    let in_use = store.api_keys().await?.into_iter().any(|k| k.id == id && k.revoked_at.is_none());
    if !in_use {
        return Err(StaffError::UnknownApiKey);
    }
    keys::revoke(store, id).await?;
    tracing::info!(key_id = %id, "API key revoked");
    Ok(())
}

/// A refusal as the API answers it.
fn refused(error: StaffError) -> Response {
    ApiError::from(error).into_response()
}

fn store(state: &AppState) -> Arc<dyn Store> {
    state.store.clone()
}

async fn list(staff: StaffUser, State(state): State<AppState>) -> Result<Response, Response> {
    admin(&staff)?;
    let keys = all(store(&state).as_ref()).await.map_err(refused)?;
    Ok(Json(json!({ "api_keys": keys })).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
}

async fn add(
    staff: StaffUser,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewKey>,
) -> Result<Response, Response> {
    admin(&staff)?;
    let created = create(store(&state).as_ref(), &body.name).await.map_err(refused)?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn revoke(
    staff: StaffUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Response> {
    admin(&staff)?;
    revoke_by_id(store(&state).as_ref(), &id).await.map_err(refused)?;
    Ok(StatusCode::NO_CONTENT)
}
