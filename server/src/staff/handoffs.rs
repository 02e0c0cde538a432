//! Handoffs: conversations where the shopper asked for a person. Staff see them oldest
//! first, reply into the conversation (the shopper reads the reply in the widget, or
//! through `GET /api/v1/conversations/{id}`), and close them. Every reply is stored with
//! its author and time: the staff member's act in the audit trail.
//!
//! - `GET /api/v1/staff/handoffs` → `{ "conversations": [ { "id", "started_at",
//!   "handoff_at", "order_number", "turns", "last_message", "replies" } ] }`
//! - `POST /api/v1/staff/conversations/{id}/replies` with `{ "text": "…", "close": false }`
//!   → `201` with the reply.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
    Json, Router,
};
use gapless_api::staff::{Handoff, HandoffQueue, StaffReply};
use gapless_store::{new_id, StaffReplyWrite, Store};
use serde::Deserialize;
use time::OffsetDateTime;

use super::{error::StaffError, extractor::StaffUser};
use crate::{
    api_error::{ApiError, ApiJson},
    startup::AppState,
};

/// Longest reply, in characters: the same bound as a shopper's message.
pub const MAX_REPLY_CHARS: usize = 2000;
/// Most handoffs the queue shows at once.
const QUEUE_LENGTH: u32 = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/staff/handoffs", get(list))
        .route("/api/v1/staff/conversations/{id}/replies", post(post_reply))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    pub text: String,
    #[serde(default)]
    pub close: bool,
}

async fn list(
    _staff: StaffUser,
    State(state): State<AppState>,
) -> Result<Json<HandoffQueue>, ApiError> {
    Ok(Json(queue(state.store.as_ref()).await?))
}

async fn post_reply(
    staff: StaffUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reply>,
) -> Result<(StatusCode, Json<StaffReply>), ApiError> {
    let reply = reply(state.store.as_ref(), &staff.id, &id, &body).await?;
    Ok((StatusCode::CREATED, Json(reply)))
}

/// The open handoffs, oldest first.
pub async fn queue(store: &dyn Store) -> Result<HandoffQueue, StaffError> {
    let rows = store.handoff_queue(QUEUE_LENGTH).await?;
    let conversations = rows
        .into_iter()
        .map(|h| Handoff {
            id: h.conversation_id,
            started_at: h.started_at,
            handoff_at: h.handoff_at,
            order_number: h.order_number,
            turns: h.turn_count,
            last_message: h.last_message,
            replies: h.replies,
        })
        .collect();
    Ok(HandoffQueue { conversations })
}

/// Writes `staff_id`'s reply into conversation `id`.
pub async fn reply(
    store: &dyn Store,
    staff_id: &str,
    id: &str,
    body: &Reply,
) -> Result<StaffReply, StaffError> {
    let text = body.text.trim();
    check_reply(text)?;
    let write = StaffReplyWrite {
        id: new_id(),
        conversation_id: id.to_owned(),
        staff_id: staff_id.to_owned(),
        text: text.to_owned(),
        at: OffsetDateTime::now_utc(),
        close: body.close,
    };
    if !store.add_staff_reply(&write).await? {
        return Err(StaffError::UnknownConversation);
    }
    tracing::info!(staff = staff_id, conversation = id, closed = body.close, "staff replied");
    Ok(StaffReply {
        id: write.id,
        conversation_id: write.conversation_id,
        text: write.text,
        at: write.at,
        closed: write.close,
    })
}

fn check_reply(text: &str) -> Result<(), StaffError> {
    if text.is_empty() {
        return Err(StaffError::EmptyReply);
    }
    let chars = text.chars().count();
    if chars > MAX_REPLY_CHARS {
        return Err(StaffError::ReplyTooLong { chars, max: MAX_REPLY_CHARS });
    }
    if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(StaffError::ReplyControlCharacters);
    }
    Ok(())
}
