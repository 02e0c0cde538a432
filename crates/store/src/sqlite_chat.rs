//! SQLite: conversations, audited turns, order events with their projection, outbox
//! and stock reservations. Writes go through the single writer connection, so a turn's
//! transaction never interleaves with another's.

use async_trait::async_trait;
use gapless_domain::staff_metrics::ConversationStatus;
use rusqlite::OptionalExtension;
use sqlx::{types::Json, Sqlite, Transaction};
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

use crate::{
    conversation_list::{page, PageKey},
    records::*,
    sqlite::SqliteStore,
    sqlite_sessions::sortable,
    sqlite_writes::{self, once_on_handle, sqlite_error},
    AuditTurnQuery, AuditTurnRow, ChatStore, ConversationPage, ConversationQuery, OrderSource,
    StoreError,
};

/// Turns a word may be in and still count as rare: the trigram index lists them, and
/// the conversations they belong to are checked against the page.
const RARE_WORD_TURNS: i64 = 1_000;

#[async_trait]
impl ChatStore for SqliteStore {
    /// Through the committer, with the turns waiting beside it.
    async fn create_conversation(&self, new: &NewConversation) -> Result<(), StoreError> {
        self.chat.conversation(new.clone()).await
    }

    async fn conversation(&self, id: &str) -> Result<Option<ConversationRow>, StoreError> {
        self.direct
            .read(|db| {
                db.prepare_cached(
                    "SELECT c.id, c.channel, c.started_at, c.order_id, o.number,
                            c.outcome, c.turn_count
                     FROM conversations c LEFT JOIN orders o ON o.id = c.order_id
                     WHERE c.id = ?1",
                )
                .and_then(|mut read| {
                    read.query_row([id], |row| {
                        Ok((
                            row.get(0)?,
                            row.get(1)?,
                            row.get::<_, String>(2)?,
                            row.get(3)?,
                            row.get(4)?,
                            row.get::<_, String>(5)?,
                            row.get::<_, i64>(6)?,
                        ))
                    })
                    .optional()
                })
                .map_err(sqlite_error)?
                .map(|(id, channel, started_at, order_id, order_number, outcome, turn_count)| {
                    Ok(ConversationRow {
                        id,
                        channel,
                        started_at: stored_time(&started_at)?,
                        order_id,
                        order_number,
                        outcome: outcome
                            .parse()
                            .map_err(|e| StoreError::Corrupt(format!("{e}")))?,
                        turn_count: u32::try_from(turn_count)
                            .map_err(|_| StoreError::Corrupt(format!("turn count {turn_count}")))?,
                    })
                })
                .transpose()
            })
            .await
    }

    async fn list_conversations(
        &self,
        query: &ConversationQuery,
    ) -> Result<ConversationPage, StoreError> {
        let idle_since = sortable(query.idle_since)?;
        let mut sql = sqlx::QueryBuilder::<Sqlite>::new(
            "SELECT c.id, c.channel, c.started_at, c.order_id, o.number AS order_number, \
             CASE WHEN c.outcome = 'open' AND c.updated_at < ",
        );
        sql.push_bind(idle_since.clone()).push(
            " THEN 'abandoned' ELSE c.outcome END AS outcome, c.turn_count \
                 FROM conversations c LEFT JOIN orders o ON o.id = c.order_id WHERE 1 = 1",
        );
        match query.outcome {
            None => {}
            Some(ConversationStatus::Open) => {
                sql.push(" AND c.outcome = 'open' AND c.updated_at >= ").push_bind(idle_since);
            }
            Some(ConversationStatus::Abandoned) => {
                sql.push(
                    " AND (c.outcome = 'abandoned' OR (c.outcome = 'open' AND c.updated_at < ",
                )
                .push_bind(idle_since)
                .push("))");
            }
            Some(outcome) => {
                sql.push(" AND c.outcome = ").push_bind(outcome.as_str());
            }
        }
        if let Some(from) = query.started_from {
            sql.push(" AND c.started_at >= ").push_bind(sortable(from)?);
        }
        if let Some(to) = query.started_to {
            sql.push(" AND c.started_at < ").push_bind(sortable(to)?);
        }
        if let Some(number) = &query.order_number {
            sql.push(" AND c.order_id = (SELECT id FROM orders WHERE number = ")
                .push_bind(number.clone())
                .push(")");
        }
        // A rare word is looked up in the trigram index, and the few conversations it
        // names are checked against the rest; a common one is checked per conversation,
        // newest first, through the turns' (conversation_id, seq) key, which fills a page
        // after a few hundred. Either way round costs hundreds of milliseconds at 100,000
        // conversations (`gapless bench-audit`), so one bounded count picks per word.
        let mut rare = Vec::new();
        let mut common = Vec::new();
        if query.words.iter().any(|word| word.chars().count() >= 3) {
            // The index runs behind the turns (migration 0019): first what it lacks.
            crate::sqlite_search::catch_up(self).await?;
        }
        for word in query.words.iter().filter(|w| !w.is_empty()) {
            if word.chars().count() >= 3 {
                // A quoted FTS5 string: the trigram index matches it as a substring, with
                // no query syntax of its own (a `"` inside is doubled).
                let phrase = format!("\"{}\"", word.replace('"', "\"\""));
                let hits: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM (SELECT 1 FROM chat_turns_fts \
                     WHERE chat_turns_fts MATCH ? LIMIT ?)",
                )
                .bind(&phrase)
                .bind(RARE_WORD_TURNS)
                .fetch_one(&self.reader)
                .await?;
                if hits < RARE_WORD_TURNS {
                    rare.push(phrase);
                    continue;
                }
            }
            // Shorter than a trigram, or common.
            common.push(crate::contains_pattern(word));
        }
        for phrase in rare {
            sql.push(
                " AND c.id IN (SELECT conversation_id FROM chat_turns_fts \
                 WHERE chat_turns_fts MATCH ",
            )
            .push_bind(phrase)
            .push(")");
        }
        for pattern in common {
            sql.push(
                " AND EXISTS (SELECT 1 FROM chat_turns t WHERE t.conversation_id = c.id \
                 AND lower(t.text) LIKE ",
            )
            .push_bind(pattern)
            .push(" ESCAPE '\\')");
        }
        if let Some(cursor) = &query.cursor {
            let key = PageKey::decode(cursor)?;
            sql.push(" AND (c.started_at, c.id) < (")
                .push_bind(sortable(key.started_at)?)
                .push(", ")
                .push_bind(key.id)
                .push(")");
        }
        let size = query.page_size();
        sql.push(" ORDER BY c.started_at DESC, c.id DESC LIMIT ").push_bind(i64::from(size) + 1);
        let rows = sql.build_query_as().fetch_all(&self.reader).await?;
        Ok(page(rows, size))
    }

    async fn audit_turns(&self, query: &AuditTurnQuery) -> Result<Vec<AuditTurnRow>, StoreError> {
        let mut sql = sqlx::QueryBuilder::<Sqlite>::new(
            "SELECT t.id, t.conversation_id, t.seq, t.text, t.received_at, t.extractor, t.reply, \
             t.audit, t.response, o.number AS order_number \
             FROM chat_turns t JOIN conversations c ON c.id = t.conversation_id \
             LEFT JOIN orders o ON o.id = c.order_id WHERE t.received_at >= ",
        );
        sql.push_bind(sortable(query.from)?)
            .push(" AND t.received_at < ")
            .push_bind(sortable(query.to)?);
        if let Some((at, id)) = &query.after {
            sql.push(" AND (t.received_at, t.id) > (")
                .push_bind(sortable(*at)?)
                .push(", ")
                .push_bind(id.clone())
                .push(")");
        }
        sql.push(" ORDER BY t.received_at, t.id LIMIT ").push_bind(i64::from(query.limit));
        Ok(sql.build_query_as().fetch_all(&self.reader).await?)
    }

    async fn turns(&self, conversation_id: &str) -> Result<Vec<TurnRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, seq, text, received_at, extractor, reply, audit, response
             FROM chat_turns WHERE conversation_id = ? ORDER BY seq",
        )
        .bind(conversation_id)
        .fetch_all(&self.reader)
        .await?)
    }

    async fn turn_response(
        &self,
        conversation_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let response: Option<Json<serde_json::Value>> = sqlx::query_scalar(
            "SELECT response FROM chat_turns WHERE conversation_id = ? AND idempotency_key = ?",
        )
        .bind(conversation_id)
        .bind(idempotency_key)
        .fetch_optional(&self.reader)
        .await?;
        Ok(response.map(|r| r.0))
    }

    /// Through the committer, with the turns waiting beside it.
    async fn next_order_number(&self) -> Result<u64, StoreError> {
        self.chat.order_number().await
    }

    /// Through the committer, which writes turns waiting together in one transaction.
    async fn record_turn(&self, turn: &TurnWrite) -> Result<(), StoreError> {
        self.chat.turn(turn).await
    }

    async fn order_events(&self, order_id: &str) -> Result<Vec<EventRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, seq, type, schema_version, payload, conversation_id, message_id, actor,
                    created_at
             FROM order_events WHERE order_id = ? ORDER BY seq",
        )
        .bind(order_id)
        .fetch_all(&self.reader)
        .await?)
    }

    async fn order_snapshot(
        &self,
        order_id: &str,
    ) -> Result<Option<(u32, serde_json::Value)>, StoreError> {
        let row: Option<(i64, String)> = self
            .direct
            .read(|db| {
                db.prepare_cached(
                    "SELECT version, snapshot FROM orders
                     WHERE id = ?1 AND snapshot IS NOT NULL AND snapshot_version = version",
                )
                .and_then(|mut read| {
                    read.query_row([order_id], |row| Ok((row.get(0)?, row.get(1)?))).optional()
                })
                .map_err(sqlite_error)
            })
            .await?;
        row.map(|(version, snapshot)| {
            let version = u32::try_from(version)
                .map_err(|_| StoreError::Corrupt(format!("order version {version}")))?;
            let snapshot = serde_json::from_str(&snapshot)
                .map_err(|e| StoreError::Corrupt(format!("order {order_id}'s snapshot: {e}")))?;
            Ok((version, snapshot))
        })
        .transpose()
    }

    async fn order_summary(&self, number: &str) -> Result<Option<OrderSummary>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT o.id, o.number, o.status, c.email, o.currency, o.total, o.updated_at
             FROM orders o LEFT JOIN customers c ON c.id = o.customer_id
             WHERE o.number = ?",
        )
        .bind(number)
        .fetch_optional(&self.reader)
        .await?)
    }
}

/// An order's new events and its projection after them, inside the caller's
/// transaction.
pub(crate) async fn write_order(
    tx: &mut Transaction<'_, Sqlite>,
    source: OrderSource<'_>,
    order: &OrderWrite,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let text = sqlite_writes::OrderText::of(order)?;
    once_on_handle(tx, |db| sqlite_writes::write_order(db, source, order, &text, now)).await
}

/// A time stored as text: this store writes RFC 3339 (the sortable form is RFC 3339 too);
/// SQLite's own `YYYY-MM-DD HH:MM:SS[.fff]` (UTC) reads too, as sqlx read it.
fn stored_time(text: &str) -> Result<OffsetDateTime, StoreError> {
    const SQLITE: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| time::PrimitiveDateTime::parse(text, SQLITE).map(|t| t.assume_utc()))
        .map_err(|e| StoreError::Corrupt(format!("stored time {text:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::stored_time;

    #[test]
    fn stored_times_read_in_every_form_this_store_wrote() {
        for (text, at) in [
            ("2026-12-03T09:10:11.123456Z", datetime!(2026-12-03 09:10:11.123456 UTC)),
            ("2026-12-03T10:10:11+01:00", datetime!(2026-12-03 09:10:11 UTC)),
            ("2026-12-03 09:10:11", datetime!(2026-12-03 09:10:11 UTC)),
            ("2026-12-03 09:10:11.5", datetime!(2026-12-03 09:10:11.5 UTC)),
        ] {
            assert_eq!(stored_time(text).unwrap(), at, "{text}");
        }
        assert!(stored_time("yesterday").is_err());
    }
}
