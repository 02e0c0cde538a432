use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::{get, post},
    Json, Router,
};
use json_body::ApiJson;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    error::ApiError,
    limits::{self, Rate},
};
use crate::startup::AppState;

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

async fn create_conversation(
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = state.chat.start_conversation("api").await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

async fn read_conversation(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(state.chat.conversation(&id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMessage {
    text: String,
}

async fn post_message(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(message): ApiJson<NewMessage>,
) -> Result<Json<Value>, ApiError> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => Some(value.to_str().map_err(|_| {
            ApiError::invalid("invalid_idempotency_key", "Idempotency-Key must be visible ASCII")
        })?),
    };
    Ok(Json(state.chat.post_message(&id, &message.text, key).await?))
}

/// `Json<T>` whose rejections answer with our error body instead of axum's plain text.
mod json_body {
    use axum::{
        extract::{FromRequest, Request},
        Json,
    };
    use serde::de::DeserializeOwned;

    use crate::chat::error::ApiError;

    pub struct ApiJson<T>(pub T);

    impl<S, T> FromRequest<S> for ApiJson<T>
    where
        T: DeserializeOwned,
        S: Send + Sync,
    {
        type Rejection = ApiError;

        async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
            let Json(value) = Json::<T>::from_request(request, state).await?;
            Ok(ApiJson(value))
        }
    }
}
