//! The audit trail for staff (CONTRACTS §5): every conversation, searchable by its
//! words, and each turn from the message to the order events it appended, as recorded
//! when the turn was taken.

use axum::{
    extract::{Path, Query, State},
    routing::get,
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

use gapless_store::Store;

use crate::{api_error::ApiError, staff::extractor::StaffUser, startup::AppState};

/// Most conversations one search returns.
const PAGE: u32 = 100;
/// Words beyond this many are ignored; each is at most 100 characters.
const MAX_WORDS: usize = 8;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/staff/conversations", get(search))
        .route("/api/v1/staff/conversations/{id}/timeline", get(timeline))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn search(
    _staff: StaffUser,
    State(state): State<AppState>,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(conversations(state.store.as_ref(), &query.q).await?))
}

/// The conversations matching every word of `q`, newest first.
pub async fn conversations(store: &dyn Store, q: &str) -> Result<Value, ApiError> {
    if q.chars().count() > 500 {
        return Err(ApiError::invalid("too_long", "search for at most 500 characters"));
    }
    let words: Vec<String> =
        q.split_whitespace().take(MAX_WORDS).map(|w| w.chars().take(100).collect()).collect();
    let rows = store.search_conversations(&words, PAGE).await?;
    Ok(json!({
        "conversations": rows.iter().map(|c| json!({
            "id": c.id,
            "channel": c.channel,
            "started_at": rfc3339(c.started_at),
            "outcome": c.outcome,
            "order_number": c.order_number,
            "turns": c.turn_count,
        })).collect::<Vec<_>>(),
    }))
}

async fn timeline(
    _staff: StaffUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(conversation_timeline(state.store.as_ref(), &id).await?))
}

/// One conversation with every turn's audit record.
pub async fn conversation_timeline(store: &dyn Store, id: &str) -> Result<Value, ApiError> {
    let conversation =
        store.conversation(id).await?.ok_or(ApiError::NotFound("no such conversation"))?;
    let turns = store.turns(id).await?;
    Ok(json!({
        "id": conversation.id,
        "channel": conversation.channel,
        "started_at": rfc3339(conversation.started_at),
        "outcome": conversation.outcome,
        "order_number": conversation.order_number,
        "turns": turns.iter().map(|turn| {
            let audit = &turn.audit;
            json!({
                "seq": turn.seq,
                "message": { "text": turn.text, "at": rfc3339(turn.received_at) },
                "extractor": turn.extractor,
                "commands": audit["extraction"]["commands"],
                "notes": audit["extraction"]["notes"],
                "validation": audit["validations"],
                "requests": audit["requests"],
                "events": audit["events"],
                "order_after": audit["order_after"],
                "reply": turn.reply,
                "timings_ms": audit["timings_ms"],
                // The model's side of the turn, when one ran: model, raw tool calls,
                // refused calls, tokens, latency, fallback reason, shadow comparison.
                "llm": audit["llm"],
            })
        }).collect::<Vec<_>>(),
    }))
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
