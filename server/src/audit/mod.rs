//! The audit trail for staff (CONTRACTS §5): every conversation, searchable by its
//! words, and each turn from the message to the order events it appended, as recorded
//! when the turn was taken.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{rejection::QueryRejection, Path, Query, State},
    http::header,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde::Deserialize;
use time::{format_description::well_known::Rfc3339, macros::format_description, Date};
use time::{Duration, OffsetDateTime};

use anyhow::Context;
use app::port::ConversationFilter;
use gapless_api::{
    chat::Order,
    staff::{
        AuditEmail, AuditEventRef, AuditMessage, AuditReply, AuditTurn, ConversationPage,
        ConversationSummary, ConversationTimeline, OrderEmail, StaffOrder, StaffOrderEvent,
        TurnAudit,
    },
};
use gapless_domain::{
    money::Currency,
    orders::{OrderEvent, OrderNumber, OrderState, OrderView},
    staff_metrics::ConversationStatus,
};
use gapless_store::{
    AuditTurnQuery, AuditTurnRow, ConversationQuery, EmailStatus, Store, TurnRow, MAX_PAGE,
};

use crate::{
    api_error::{ApiError, Forbidden},
    json_time::rfc3339,
    staff::{accounts::Permission, error::StaffError, extractor::StaffUser},
    startup::AppState,
};

/// Conversations one page holds unless `limit` says otherwise.
const DEFAULT_PAGE: u32 = 50;
/// A search longer than this is refused.
const MAX_SEARCH_CHARS: usize = 500;
/// Words beyond this many are ignored; each is at most 100 characters.
const MAX_WORDS: usize = 8;
/// An open conversation with no turn for this long is listed as abandoned: a shopper who
/// has not written for a day is not coming back to that cart. Nothing stores the
/// outcome yet (a sweeper could), so the list derives it from the last turn's time.
pub const ABANDONED_AFTER: Duration = Duration::hours(24);
/// The widest export: a month of turns is what an audit asks for at once, and bounds
/// how long one download holds a database connection between pages.
const MAX_EXPORT_DAYS: i64 = 31;
/// Without `from`, the export starts this many days before `to` (now by default).
const DEFAULT_EXPORT_DAYS: i64 = 30;
/// Turns read per database round trip while the export streams.
const EXPORT_PAGE: u32 = 500;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/staff/conversations", get(search))
        .route("/api/v1/staff/conversations/{id}/timeline", get(timeline))
        .route("/api/v1/staff/orders/{number}", get(order))
        .route("/api/v1/staff/audit.csv", get(export))
}

/// A query string that does not fit the URL's fields is the client's mistake: 422 with
/// our error body rather than axum's plain-text 400.
fn query_error(rejection: QueryRejection) -> ApiError {
    ApiError::invalid("invalid_query", rejection.body_text())
}

async fn search(
    _staff: StaffUser,
    State(state): State<AppState>,
    query: Result<Query<ConversationFilter>, QueryRejection>,
) -> Result<Json<ConversationPage>, ApiError> {
    let Query(filter) = query.map_err(query_error)?;
    Ok(Json(conversations(state.store.as_ref(), &filter).await?))
}

/// `Some(text)` trimmed, `None` when absent or blank (an empty form field).
fn given(field: &Option<String>) -> Option<&str> {
    field.as_deref().map(str::trim).filter(|text| !text.is_empty())
}

/// RFC 3339, or a date meaning that day's UTC midnight.
fn parse_time(name: &'static str, text: &str) -> Result<OffsetDateTime, StaffError> {
    let invalid = || StaffError::BadTime { name, text: text.to_owned() };
    let at = OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| {
            Date::parse(text, format_description!("[year]-[month]-[day]"))
                .map(|day| day.midnight().assume_utc())
        })
        .map_err(|_| invalid())?;
    // Far enough from the calendar's ends that moving it to UTC cannot overflow.
    if !(1900..=9000).contains(&at.year()) {
        return Err(invalid());
    }
    Ok(at)
}

/// `[from, to)` from a query's texts, each optional; `from` must come before `to`.
fn parse_range(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(Option<OffsetDateTime>, Option<OffsetDateTime>), StaffError> {
    let from = from.map(|f| parse_time("from", f)).transpose()?;
    let to = to.map(|t| parse_time("to", t)).transpose()?;
    if let (Some(from), Some(to)) = (from, to) {
        if from >= to {
            return Err(StaffError::BadRange);
        }
    }
    Ok((from, to))
}

/// One page of the conversations that pass `filter`, newest first, with the cursor of
/// the next page (`null` on the last).
pub async fn conversations(
    store: &dyn Store,
    filter: &ConversationFilter,
) -> Result<ConversationPage, StaffError> {
    let q = given(&filter.q).unwrap_or_default();
    if q.chars().count() > MAX_SEARCH_CHARS {
        return Err(StaffError::SearchTooLong { max: MAX_SEARCH_CHARS });
    }
    let words: Vec<String> =
        q.split_whitespace().take(MAX_WORDS).map(|w| w.chars().take(100).collect()).collect();
    // Still open, or how it ended.
    let outcome = given(&filter.outcome)
        .map(|outcome| outcome.parse::<ConversationStatus>().map_err(|_| StaffError::BadOutcome))
        .transpose()?;
    let (started_from, started_to) = parse_range(given(&filter.from), given(&filter.to))?;
    let order_number = given(&filter.order)
        .map(|number| {
            OrderNumber::parse(number)
                .map(|n| n.as_str().to_owned())
                .map_err(|_| StaffError::BadOrderNumber)
        })
        .transpose()?;
    let limit = given(&filter.limit)
        .map(|limit| {
            limit
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or(StaffError::BadLimit { max: MAX_PAGE })
        })
        .transpose()?
        .unwrap_or(DEFAULT_PAGE);
    let query = ConversationQuery {
        outcome,
        started_from,
        started_to,
        order_number,
        words,
        cursor: given(&filter.cursor).map(str::to_owned),
        limit,
        idle_since: OffsetDateTime::now_utc() - ABANDONED_AFTER,
    };
    let page = store.list_conversations(&query).await?;
    let conversations = page
        .conversations
        .into_iter()
        .map(|c| ConversationSummary {
            id: c.id,
            channel: c.channel,
            started_at: c.started_at,
            outcome: c.outcome.as_str().to_owned(),
            order_number: c.order_number,
            turns: c.turn_count,
        })
        .collect();
    Ok(ConversationPage { conversations, next: page.next })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /api/v1/staff/audit.csv?from=…&to=…`: a row per chat turn received in
/// `[from, to)` (`to` defaults to now, `from` to 30 days before `to`), oldest first, streamed a page of turns at a time so that memory stays
/// flat however many there are; the range is at most [`MAX_EXPORT_DAYS`]. A database
/// failure before the first byte is a 500; after it, the body ends early (the chunked
/// response is cut, which clients report) and the log says why.
async fn export(
    staff: StaffUser,
    State(state): State<AppState>,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, Response> {
    if !staff.role.may(Permission::ExportAudit) {
        return Err(Forbidden(Permission::ExportAudit.refusal()).into_response());
    }
    export_csv(state, query).await.map_err(IntoResponse::into_response)
}

async fn export_csv(
    state: AppState,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    let (from, to) = parse_range(given(&query.from), given(&query.to))?;
    let to = to.unwrap_or_else(OffsetDateTime::now_utc);
    let from = from.unwrap_or(to - Duration::days(DEFAULT_EXPORT_DAYS));
    if from >= to {
        return Err(StaffError::BadRange.into());
    }
    if to - from > Duration::days(MAX_EXPORT_DAYS) {
        return Err(ApiError::invalid(
            "range_too_long",
            format!("export at most {MAX_EXPORT_DAYS} days at a time"),
        ));
    }
    let mut export = Export { store: state.store.clone(), from, to, after: None, done: false };
    let first = export.next_chunk(true).await?;
    let rest = futures_util::stream::unfold(export, |mut export| async move {
        if export.done {
            return None;
        }
        let chunk = export.next_chunk(false).await.map_err(|error| {
            export.done = true;
            tracing::error!(error = format!("{error:#}"), "audit export failed while streaming");
            std::io::Error::other("the audit export failed")
        });
        Some((chunk, export))
    });
    let body = futures_util::stream::StreamExt::chain(
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(first) }),
        rest,
    );
    let filename = format!("gapless-audit-{}-{}.csv", from.date(), to.date());
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

struct Export {
    store: Arc<dyn Store>,
    from: OffsetDateTime,
    to: OffsetDateTime,
    after: Option<(OffsetDateTime, String)>,
    done: bool,
}

const EXPORT_COLUMNS: [&str; 11] = [
    "conversation_id",
    "turn_seq",
    "received_at",
    "shopper_text",
    "extractor",
    "commands",
    "validation",
    "event_ids",
    "event_types",
    "reply",
    "order_number",
];

impl Export {
    /// The next page of turns as CSV (after the header, on the first call).
    async fn next_chunk(&mut self, first: bool) -> Result<Vec<u8>, ApiError> {
        let query = AuditTurnQuery {
            from: self.from,
            to: self.to,
            after: self.after.take(),
            limit: EXPORT_PAGE,
        };
        let rows = self.store.audit_turns(&query).await?;
        self.done = rows.len() < EXPORT_PAGE as usize;
        self.after = rows.last().map(|row| (row.turn.received_at, row.turn.id.clone()));
        let mut csv = csv::Writer::from_writer(Vec::new());
        let write = |csv: &mut csv::Writer<Vec<u8>>| -> Result<(), csv::Error> {
            if first {
                csv.write_record(EXPORT_COLUMNS)?;
            }
            for row in &rows {
                csv.write_record(
                    export_row(row).iter().map(|cell| guard_formula(cell).into_owned()),
                )?;
            }
            csv.flush()?;
            Ok(())
        };
        write(&mut csv).context("writing CSV").map_err(ApiError::Internal)?;
        csv.into_inner().map_err(|e| ApiError::Internal(anyhow::anyhow!("writing CSV: {e}")))
    }
}

fn export_row(row: &AuditTurnRow) -> [String; 11] {
    let audit = turn_audit(&row.turn);
    let joined = |field: fn(&AuditEventRef) -> &str| {
        audit.events.iter().map(field).collect::<Vec<_>>().join(" ")
    };
    [
        row.conversation_id.clone(),
        row.turn.seq.to_string(),
        rfc3339(row.turn.received_at),
        row.turn.text.clone(),
        row.turn.extractor.as_str().to_owned(),
        audit.extraction.commands.to_string(),
        audit.validations.to_string(),
        joined(|e| &e.id),
        joined(|e| &e.kind),
        row.turn.reply.clone(),
        row.order_number.clone().unwrap_or_default(),
    ]
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a tab or carriage
/// return before one) gets a leading `'`, so opening the export never executes what a
/// shopper typed (OWASP "CSV injection").
fn guard_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

async fn timeline(
    _staff: StaffUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ConversationTimeline>, ApiError> {
    Ok(Json(conversation_timeline(state.store.as_ref(), &id).await?))
}

/// One conversation with every turn's audit record.
pub async fn conversation_timeline(
    store: &dyn Store,
    id: &str,
) -> Result<ConversationTimeline, StaffError> {
    let conversation = store.conversation(id).await?.ok_or(StaffError::UnknownConversation)?;
    let turns = store.turns(id).await?;
    let replies = store.staff_replies(id).await?;
    // What the customer was mailed about the conversation's order (CONTRACTS §10).
    let emails = match &conversation.order_number {
        Some(number) => store.order_emails(number).await?,
        None => Vec::new(),
    };
    let emails = emails
        .iter()
        .map(|e| {
            Ok(AuditEmail {
                event_id: e.event_id.clone(),
                kind: e.topic.clone(),
                subject: e.subject.clone(),
                status: e.status.as_str().to_owned(),
                attempts: e.attempts,
                queued_at: email_time(e.created_ms)?,
                done_at: e.done_ms.map(email_time).transpose()?,
                last_error: e.last_error.clone(),
            })
        })
        .collect::<Result<Vec<_>, StaffError>>()?;
    let turns = turns
        .into_iter()
        .map(|turn| {
            let audit = turn_audit(&turn);
            AuditTurn {
                seq: turn.seq,
                message: AuditMessage { text: turn.text, at: turn.received_at },
                extractor: turn.extractor.as_str().to_owned(),
                commands: audit.extraction.commands,
                notes: audit.extraction.notes,
                validation: audit.validations,
                requests: audit.requests,
                events: audit.events,
                order_after: audit.order_after,
                reply: turn.reply,
                timings_ms: audit.timings_ms,
                llm: audit.llm.unwrap_or_default(),
            }
        })
        .collect();
    let staff_replies = replies
        .into_iter()
        .map(|reply| AuditReply {
            id: reply.id,
            staff: reply.staff_email,
            text: reply.text,
            at: reply.at,
        })
        .collect();
    Ok(ConversationTimeline {
        id: conversation.id,
        channel: conversation.channel,
        started_at: conversation.started_at,
        outcome: conversation.outcome.as_str().to_owned(),
        order_number: conversation.order_number,
        turns,
        staff_replies,
        emails,
    })
}

/// The turn's audit record as it was stored. One that does not read (written by hand,
/// or by a version with another shape) shows as empty rather than hiding the turn; the
/// log says which.
fn turn_audit(turn: &TurnRow) -> TurnAudit {
    // Read in place: the export reads every turn of a month, one by one.
    serde::Deserialize::deserialize(&turn.audit).unwrap_or_else(|error| {
        tracing::warn!(turn = %turn.id, %error, "a turn's audit record does not read");
        TurnAudit::default()
    })
}

/// A time the mail queue keeps as Unix milliseconds.
fn email_time(ms: i64) -> Result<OffsetDateTime, StaffError> {
    Ok(OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .context("a stored email time")?)
}

async fn order(
    _staff: StaffUser,
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Json<StaffOrder>, ApiError> {
    Ok(Json(order_events(state.store.as_ref(), &number).await?))
}

/// An order as its events leave it (CONTRACTS §3), with every event and where it came
/// from: the conversation and turn of a chat, or the staff member of an exchange.
pub async fn order_events(store: &dyn Store, number: &str) -> Result<StaffOrder, StaffError> {
    const UNKNOWN: StaffError = StaffError::UnknownOrder;
    let number = OrderNumber::parse(number.trim()).map_err(|_| UNKNOWN)?;
    let summary = store.order_summary(number.as_str()).await?.ok_or(UNKNOWN)?;
    let currency =
        Currency::parse(&summary.currency).map_err(|e| anyhow::anyhow!("order currency: {e}"))?;
    let rows = store.order_events(&summary.id).await?;
    let events = rows
        .iter()
        .map(|row| serde_json::from_value::<OrderEvent>(row.payload.clone()))
        .collect::<Result<Vec<_>, _>>()
        .context("reading stored order events")?;
    let state = OrderState::fold(currency, &events).context("folding stored order events")?;
    // The turn (by its number in the conversation) that appended each event.
    let mut turn_seq: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let conversations: std::collections::BTreeSet<&str> =
        rows.iter().filter_map(|row| row.conversation_id.as_deref()).collect();
    for conversation in conversations {
        for turn in store.turns(conversation).await? {
            turn_seq.insert(turn.id, turn.seq);
        }
    }
    // What the customer was mailed about this order and its returns (CONTRACTS §10).
    let emails = store.order_emails(number.as_str()).await?;
    let at = email_time;
    let emails = emails
        .iter()
        .map(|e| {
            Ok(OrderEmail {
                id: e.id,
                event_id: e.event_id.clone(),
                kind: e.topic.clone(),
                rma: e.rma.clone(),
                to: e.recipient.clone(),
                subject: e.subject.clone(),
                status: e.status.as_str().to_owned(),
                attempts: e.attempts,
                queued_at: at(e.created_ms)?,
                last_attempt_at: e.last_attempt_ms.map(at).transpose()?,
                next_attempt_at: (e.status == EmailStatus::Pending)
                    .then(|| at(e.next_attempt_ms))
                    .transpose()?,
                last_error: e.last_error.clone(),
                done_at: e.done_ms.map(at).transpose()?,
            })
        })
        .collect::<Result<Vec<_>, StaffError>>()?;
    let events = rows
        .iter()
        .map(|row| StaffOrderEvent {
            id: row.id.clone(),
            seq: row.seq,
            kind: row.event_type.clone(),
            actor: row.actor.clone(),
            at: row.created_at,
            conversation_id: row.conversation_id.clone(),
            turn_id: row.message_id.clone(),
            turn_seq: row.message_id.as_ref().and_then(|id| turn_seq.get(id)).copied(),
            payload: row.payload.clone(),
        })
        .collect();
    Ok(StaffOrder {
        order: Order::from(OrderView { number: &number, order: &state }),
        emails,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_dates_or_rfc3339() {
        assert_eq!(
            parse_time("from", "2026-03-02").unwrap(),
            time::macros::datetime!(2026-03-02 00:00 UTC)
        );
        assert_eq!(
            parse_time("from", "2026-03-02T10:00:00+02:00").unwrap(),
            time::macros::datetime!(2026-03-02 08:00 UTC)
        );
        for bad in ["yesterday", "2026-13-01", "0001-01-01", "2026-03-02T10:00"] {
            assert!(parse_time("from", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formulas_are_defused_and_the_rest_kept() {
        assert_eq!(guard_formula("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(guard_formula("-1 tee"), "'-1 tee");
        assert_eq!(guard_formula("@sum"), "'@sum");
        assert_eq!(guard_formula("two tees, M"), "two tees, M");
        assert_eq!(guard_formula(""), "");
    }
}
