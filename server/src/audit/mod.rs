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

use anyhow::Context;
use gapless_domain::{
    money::Currency,
    orders::{OrderEvent, OrderNumber, OrderState, OrderView},
};
use gapless_store::Store;

use crate::{
    api_error::ApiError, json_time::rfc3339, staff::extractor::StaffUser, startup::AppState,
};

/// Most conversations one search returns.
const PAGE: u32 = 100;
/// Words beyond this many are ignored; each is at most 100 characters.
const MAX_WORDS: usize = 8;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/staff/conversations", get(search))
        .route("/api/v1/staff/conversations/{id}/timeline", get(timeline))
        .route("/api/v1/staff/orders/{number}", get(order))
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
    let replies = store.staff_replies(id).await?;
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
        "staff_replies": replies.iter().map(|reply| json!({
            "id": reply.id,
            "staff": reply.staff_email,
            "text": reply.text,
            "at": rfc3339(reply.at),
        })).collect::<Vec<_>>(),
    }))
}

async fn order(
    _staff: StaffUser,
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(order_events(state.store.as_ref(), &number).await?))
}

/// An order as its events leave it (CONTRACTS §3), with every event and where it came
/// from: the conversation and turn of a chat, or the staff member of an exchange.
pub async fn order_events(store: &dyn Store, number: &str) -> Result<Value, ApiError> {
    const UNKNOWN: ApiError = ApiError::NotFound("no such order");
    let number = OrderNumber::parse(number.trim()).map_err(|_| UNKNOWN)?;
    let summary = store.order_summary(number.as_str()).await?.ok_or(UNKNOWN)?;
    let currency = Currency::parse(&summary.currency)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("order currency: {e}")))?;
    let rows = store.order_events(&summary.id).await?;
    let events = rows
        .iter()
        .map(|row| serde_json::from_value::<OrderEvent>(row.payload.clone()))
        .collect::<Result<Vec<_>, _>>()
        .context("reading stored order events")
        .map_err(ApiError::Internal)?;
    let state = OrderState::fold(currency, &events)
        .context("folding stored order events")
        .map_err(ApiError::Internal)?;
    let view = serde_json::to_value(OrderView { number: &number, order: &state })
        .context("serializing the order")
        .map_err(ApiError::Internal)?;
    // The turn (by its number in the conversation) that appended each event.
    let mut turn_seq: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let conversations: std::collections::BTreeSet<&str> =
        rows.iter().filter_map(|row| row.conversation_id.as_deref()).collect();
    for conversation in conversations {
        for turn in store.turns(conversation).await? {
            turn_seq.insert(turn.id, turn.seq);
        }
    }
    Ok(json!({
        "order": view,
        "events": rows.iter().map(|row| json!({
            "id": row.id,
            "seq": row.seq,
            "type": row.event_type,
            "actor": row.actor,
            "at": rfc3339(row.created_at),
            "conversation_id": row.conversation_id,
            "turn_id": row.message_id,
            "turn_seq": row.message_id.as_ref().and_then(|id| turn_seq.get(id)),
            "payload": row.payload,
        })).collect::<Vec<_>>(),
    }))
}
