//! SQLite: conversations, audited turns, order events with their projection, outbox
//! and stock reservations. Writes go through the single writer connection, so a turn's
//! transaction never interleaves with another's.

use async_trait::async_trait;
use gapless_domain::{
    orders::OrderStatus,
    staff_metrics::{ConversationStatus, Outcome},
};
use sqlx::{types::Json, Sqlite, Transaction};
use time::OffsetDateTime;

use crate::{
    conversation_list::{page, PageKey},
    option_key,
    records::*,
    sqlite::SqliteStore,
    sqlite_sessions::sortable,
    write_conflict, AuditTurnQuery, AuditTurnRow, ChatStore, ConversationPage, ConversationQuery,
    OrderSource, StockKey, StoreError,
};

/// Turns a word may be in and still count as rare: the trigram index lists them, and
/// the conversations they belong to are checked against the page.
const RARE_WORD_TURNS: i64 = 1_000;

#[async_trait]
impl ChatStore for SqliteStore {
    async fn create_conversation(&self, new: &NewConversation) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO conversations (id, channel, started_at, updated_at) VALUES (?, ?, ?, ?)",
        )
        .bind(&new.id)
        .bind(&new.channel)
        .bind(sortable(new.started_at)?)
        .bind(sortable(new.started_at)?)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn conversation(&self, id: &str) -> Result<Option<ConversationRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT c.id, c.channel, c.started_at, c.order_id, o.number AS order_number,
                    c.outcome, c.turn_count
             FROM conversations c LEFT JOIN orders o ON o.id = c.order_id
             WHERE c.id = ?",
        )
        .bind(id)
        .fetch_optional(&self.reader)
        .await?)
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

    async fn next_order_number(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("INSERT INTO order_numbers DEFAULT VALUES RETURNING n")
            .fetch_one(&self.writer)
            .await?;
        u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("order number {n}")))
    }

    /// Through the committer, which writes turns waiting together in one transaction.
    async fn record_turn(&self, turn: &TurnWrite) -> Result<(), StoreError> {
        self.turns.commit(turn.clone()).await
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
        let row: Option<(i64, Json<serde_json::Value>)> = sqlx::query_as(
            "SELECT version, snapshot FROM orders
             WHERE id = ? AND snapshot IS NOT NULL AND snapshot_version = version",
        )
        .bind(order_id)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|(version, Json(snapshot))| {
            let version = u32::try_from(version)
                .map_err(|_| StoreError::Corrupt(format!("order version {version}")))?;
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

/// Everything one turn writes, inside the caller's transaction (or savepoint): the
/// conversation's turn count (the optimistic lock), the order, the turn and its audit.
pub(crate) async fn write_turn(
    tx: &mut Transaction<'_, Sqlite>,
    turn: &TurnWrite,
) -> Result<(), StoreError> {
    let now = OffsetDateTime::now_utc();
    let order_id = turn.order.as_ref().map(|o| o.order_id.as_str());
    let updated = sqlx::query(
        "UPDATE conversations SET turn_count = ?, updated_at = ?,
                outcome = COALESCE(?, outcome), order_id = COALESCE(?, order_id),
                handoff_at = CASE WHEN ? THEN COALESCE(handoff_at, ?) ELSE handoff_at END
             WHERE id = ? AND turn_count = ?",
    )
    .bind(i64::from(turn.seq))
    .bind(sortable(now)?)
    .bind(turn.outcome.map(Outcome::as_str))
    .bind(order_id)
    .bind(turn.handoff)
    .bind(sortable(now)?)
    .bind(&turn.conversation_id)
    .bind(i64::from(turn.seq) - 1)
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::Conflict("the conversation moved on".into()));
    }
    if let Some(order) = &turn.order {
        write_order(tx, OrderSource::turn(turn), order, now).await?;
    }
    sqlx::query(
        "INSERT INTO chat_turns (id, conversation_id, seq, text, received_at,
                idempotency_key, extractor, audit, reply, response)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&turn.turn_id)
    .bind(&turn.conversation_id)
    .bind(i64::from(turn.seq))
    .bind(&turn.text)
    .bind(sortable(turn.received_at)?)
    .bind(&turn.idempotency_key)
    .bind(turn.extractor.as_str())
    .bind(Json(&turn.audit))
    .bind(&turn.reply)
    .bind(Json(&turn.response))
    .execute(&mut **tx)
    .await
    .map_err(write_conflict)?;
    Ok(())
}

pub(crate) async fn write_order(
    tx: &mut Transaction<'_, Sqlite>,
    source: OrderSource<'_>,
    order: &OrderWrite,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let projection = &order.projection;
    let customer_id = match &projection.customer {
        None => None,
        Some(customer) => Some(upsert_customer(tx, customer, now).await?),
    };
    let version = i64::from(order.expected_version) + order.events.len() as i64;
    let address = projection.shipping_address.as_ref().map(Json);
    let confirmed_at = (projection.status == OrderStatus::Confirmed).then_some(now);
    let cancelled_at = (projection.status == OrderStatus::Cancelled).then_some(now);
    if order.expected_version == 0 {
        sqlx::query(
            "INSERT INTO orders (id, number, conversation_id, status, currency, customer_id,
                subtotal, shipping, total, shipping_address, version, created_at, updated_at,
                confirmed_at, cancelled_at, payment_status, payment_expires_at, snapshot,
                snapshot_version)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&order.order_id)
        .bind(&order.number)
        .bind(source.conversation_id)
        .bind(projection.status.as_str())
        .bind(&projection.currency)
        .bind(&customer_id)
        .bind(projection.subtotal)
        .bind(projection.shipping)
        .bind(projection.total)
        .bind(address)
        .bind(version)
        .bind(now)
        .bind(now)
        .bind(confirmed_at)
        .bind(cancelled_at)
        .bind(projection.payment_status.as_str())
        .bind(projection.payment_expires_at.map(sortable).transpose()?)
        .bind(projection.snapshot.as_ref().map(Json))
        .bind(projection.snapshot.as_ref().map(|_| version))
        .execute(&mut **tx)
        .await
        .map_err(write_conflict)?;
    } else {
        let updated = sqlx::query(
            "UPDATE orders SET status = ?, currency = ?, customer_id = ?, subtotal = ?,
                shipping = ?, total = ?, shipping_address = ?, version = ?, updated_at = ?,
                confirmed_at = COALESCE(confirmed_at, ?), cancelled_at = COALESCE(cancelled_at, ?),
                shipped_at = COALESCE(shipped_at, ?), delivered_at = COALESCE(?, delivered_at),
                payment_status = ?, payment_expires_at = ?, snapshot = ?, snapshot_version = ?
             WHERE id = ? AND version = ?",
        )
        .bind(projection.status.as_str())
        .bind(&projection.currency)
        .bind(&customer_id)
        .bind(projection.subtotal)
        .bind(projection.shipping)
        .bind(projection.total)
        .bind(address)
        .bind(version)
        .bind(now)
        .bind(confirmed_at)
        .bind(cancelled_at)
        .bind(projection.shipped_at.map(sortable).transpose()?)
        .bind(projection.delivered_at.map(sortable).transpose()?)
        .bind(projection.payment_status.as_str())
        .bind(projection.payment_expires_at.map(sortable).transpose()?)
        .bind(projection.snapshot.as_ref().map(Json))
        .bind(projection.snapshot.as_ref().map(|_| version))
        .bind(&order.order_id)
        .bind(i64::from(order.expected_version))
        .execute(&mut **tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Conflict("the order moved on".into()));
        }
        if projection.status == OrderStatus::Cancelled {
            // After the UPDATE, which holds the order's row: a return that claims units
            // of this order either committed before (and is seen here) or waits for us
            // and then finds the order cancelled.
            let blocked: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM return_claims WHERE order_id = ? AND claimed > 0)
                     OR EXISTS (SELECT 1 FROM orders WHERE id = ?
                                AND (shipped_at IS NOT NULL OR delivered_at IS NOT NULL))",
            )
            .bind(&order.order_id)
            .bind(&order.order_id)
            .fetch_one(&mut **tx)
            .await?;
            if blocked {
                return Err(StoreError::Conflict(
                    "the order shipped or has a return open: it cannot be cancelled".into(),
                ));
            }
        }
    }

    sqlx::query("DELETE FROM order_lines WHERE order_id = ?")
        .bind(&order.order_id)
        .execute(&mut **tx)
        .await?;
    // One statement per table, however many rows: every statement is a round trip to
    // SQLite's connection thread, and those dominate a turn's cost.
    if !projection.lines.is_empty() {
        let mut insert = sqlx::QueryBuilder::<Sqlite>::new(
            "INSERT INTO order_lines (order_id, position, sku, name, quantity, choices, \
             unit_price, total) ",
        );
        insert.push_values(projection.lines.iter().enumerate(), |mut row, (position, line)| {
            row.push_bind(&order.order_id)
                .push_bind(position as i64)
                .push_bind(&line.sku)
                .push_bind(&line.name)
                .push_bind(i64::from(line.quantity))
                .push_bind(Json(&line.choices))
                .push_bind(line.unit_price)
                .push_bind(line.total);
        });
        insert.build().execute(&mut **tx).await?;
    }

    if !order.events.is_empty() {
        let seq = |offset: usize| i64::from(order.expected_version) + offset as i64 + 1;
        let mut events = sqlx::QueryBuilder::<Sqlite>::new(
            "INSERT INTO order_events (id, order_id, seq, type, schema_version, payload, \
             conversation_id, message_id, idempotency_key, actor, created_at) ",
        );
        events.push_values(order.events.iter().enumerate(), |mut row, (offset, event)| {
            row.push_bind(&event.id)
                .push_bind(&order.order_id)
                .push_bind(seq(offset))
                .push_bind(&event.event_type)
                .push_bind(i64::from(event.schema_version))
                .push_bind(Json(&event.payload))
                .push_bind(source.conversation_id)
                .push_bind(source.message_id)
                .push_bind(source.idempotency_key)
                .push_bind(&order.actor)
                .push_bind(now);
        });
        events.build().execute(&mut **tx).await.map_err(write_conflict)?;

        let mut outbox = sqlx::QueryBuilder::<Sqlite>::new(
            "INSERT INTO outbox (event_id, topic, payload, next_attempt_at, stream, seq, created_ms) ",
        );
        let stream = format!("order:{}", order.order_id);
        let created_ms = crate::unix_ms(now);
        outbox.push_values(order.events.iter().enumerate(), |mut row, (offset, event)| {
            row.push_bind(&event.id)
                .push_bind(format!("order.{}", event.event_type))
                .push_bind(Json(serde_json::json!({
                    "event_id": event.id,
                    "order_id": order.order_id,
                    "order_number": order.number,
                    "seq": seq(offset),
                    "type": event.event_type,
                    "payload": event.payload,
                })))
                .push_bind(now)
                .push_bind(&stream)
                .push_bind(seq(offset))
                .push_bind(created_ms);
        });
        outbox.build().execute(&mut **tx).await?;
    }

    for (key, quantity) in &order.reserve {
        reserve(tx, key, *quantity).await?;
    }
    for (key, quantity) in &order.release {
        sqlx::query(
            "UPDATE stock_levels SET reserved = MAX(reserved - ?, 0)
             WHERE sku = ? AND option_key = ?",
        )
        .bind(i64::from(*quantity))
        .bind(key.sku.as_str())
        .bind(option_key(key))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Takes `quantity` units or fails with how many were available: the check and the
/// update are one statement, so no two orders can take the same unit.
async fn reserve(
    tx: &mut Transaction<'_, Sqlite>,
    key: &StockKey,
    quantity: u32,
) -> Result<(), StoreError> {
    let taken = sqlx::query(
        "UPDATE stock_levels SET reserved = reserved + ?1
         WHERE sku = ?2 AND option_key = ?3 AND on_hand - reserved >= ?1",
    )
    .bind(i64::from(quantity))
    .bind(key.sku.as_str())
    .bind(option_key(key))
    .execute(&mut **tx)
    .await?;
    if taken.rows_affected() == 1 {
        return Ok(());
    }
    let available: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(on_hand - reserved, 0) FROM stock_levels WHERE sku = ? AND option_key = ?",
    )
    .bind(key.sku.as_str())
    .bind(option_key(key))
    .fetch_optional(&mut **tx)
    .await?;
    Err(StoreError::OutOfStock {
        key: key.clone(),
        available: available.map_or(0, |n| u32::try_from(n).unwrap_or(0)),
    })
}

async fn upsert_customer(
    tx: &mut Transaction<'_, Sqlite>,
    customer: &CustomerWrite,
    now: OffsetDateTime,
) -> Result<String, StoreError> {
    let id: String = sqlx::query_scalar(
        "INSERT INTO customers (id, email, name, phone, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (email) DO UPDATE SET
            name = COALESCE(excluded.name, customers.name),
            phone = COALESCE(excluded.phone, customers.phone),
            updated_at = excluded.updated_at
         RETURNING id",
    )
    .bind(crate::new_id())
    .bind(&customer.email)
    .bind(&customer.name)
    .bind(&customer.phone)
    .bind(now)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}
