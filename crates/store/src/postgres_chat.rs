//! PostgreSQL: conversations, audited turns, order events with their projection,
//! outbox and stock reservations. Several app servers may write at once: the version
//! checks and single-statement reservations below are what keep them apart.

use async_trait::async_trait;
use gapless_domain::{
    orders::OrderStatus,
    staff_metrics::{ConversationStatus, Outcome},
};
use sqlx::{types::Json, Postgres, Transaction};
use time::OffsetDateTime;

use crate::{
    conversation_list::{page, PageKey},
    option_key,
    postgres::PostgresStore,
    records::*,
    write_conflict, AuditTurnQuery, AuditTurnRow, ChatStore, ConversationPage, ConversationQuery,
    OrderSource, StockKey, StoreError,
};

#[async_trait]
impl ChatStore for PostgresStore {
    async fn create_conversation(&self, new: &NewConversation) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO conversations (id, channel, started_at, updated_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&new.id)
        .bind(&new.channel)
        .bind(new.started_at)
        .bind(new.started_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn conversation(&self, id: &str) -> Result<Option<ConversationRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT c.id, c.channel, c.started_at, c.order_id, o.number AS order_number,
                    c.outcome, c.turn_count
             FROM conversations c LEFT JOIN orders o ON o.id = c.order_id
             WHERE c.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn list_conversations(
        &self,
        query: &ConversationQuery,
    ) -> Result<ConversationPage, StoreError> {
        let mut sql = sqlx::QueryBuilder::<Postgres>::new(
            "SELECT c.id, c.channel, c.started_at, c.order_id, o.number AS order_number, \
             CASE WHEN c.outcome = 'open' AND c.updated_at < ",
        );
        sql.push_bind(query.idle_since).push(
            " THEN 'abandoned' ELSE c.outcome END AS outcome, c.turn_count \
             FROM conversations c LEFT JOIN orders o ON o.id = c.order_id WHERE 1 = 1",
        );
        match query.outcome {
            None => {}
            Some(ConversationStatus::Open) => {
                sql.push(" AND c.outcome = 'open' AND c.updated_at >= ")
                    .push_bind(query.idle_since);
            }
            Some(ConversationStatus::Abandoned) => {
                sql.push(
                    " AND (c.outcome = 'abandoned' OR (c.outcome = 'open' AND c.updated_at < ",
                )
                .push_bind(query.idle_since)
                .push("))");
            }
            Some(outcome) => {
                sql.push(" AND c.outcome = ").push_bind(outcome.as_str());
            }
        }
        if let Some(from) = query.started_from {
            sql.push(" AND c.started_at >= ").push_bind(from);
        }
        if let Some(to) = query.started_to {
            sql.push(" AND c.started_at < ").push_bind(to);
        }
        if let Some(number) = &query.order_number {
            sql.push(" AND c.order_id = (SELECT id FROM orders WHERE number = ")
                .push_bind(number.clone())
                .push(")");
        }
        // Every word the same way: the pg_trgm index (migration 0008), when the server
        // has it, serves the words of three characters or more.
        for word in query.words.iter().filter(|w| !w.is_empty()) {
            sql.push(
                " AND c.id IN (SELECT t.conversation_id FROM chat_turns t \
                 WHERE lower(t.text) LIKE ",
            )
            .push_bind(crate::contains_pattern(word))
            .push(" ESCAPE '\\')");
        }
        if let Some(cursor) = &query.cursor {
            let key = PageKey::decode(cursor)?;
            sql.push(" AND (c.started_at, c.id) < (")
                .push_bind(key.started_at)
                .push(", ")
                .push_bind(key.id)
                .push(")");
        }
        let size = query.page_size();
        sql.push(" ORDER BY c.started_at DESC, c.id DESC LIMIT ").push_bind(i64::from(size) + 1);
        let rows = sql.build_query_as().fetch_all(&self.pool).await?;
        Ok(page(rows, size))
    }

    async fn audit_turns(&self, query: &AuditTurnQuery) -> Result<Vec<AuditTurnRow>, StoreError> {
        let mut sql = sqlx::QueryBuilder::<Postgres>::new(
            "SELECT t.id, t.conversation_id, t.seq, t.text, t.received_at, t.extractor, t.reply, \
             t.audit, t.response, o.number AS order_number \
             FROM chat_turns t JOIN conversations c ON c.id = t.conversation_id \
             LEFT JOIN orders o ON o.id = c.order_id WHERE t.received_at >= ",
        );
        sql.push_bind(query.from).push(" AND t.received_at < ").push_bind(query.to);
        if let Some((at, id)) = &query.after {
            sql.push(" AND (t.received_at, t.id) > (")
                .push_bind(*at)
                .push(", ")
                .push_bind(id.clone())
                .push(")");
        }
        sql.push(" ORDER BY t.received_at, t.id LIMIT ").push_bind(i64::from(query.limit));
        Ok(sql.build_query_as().fetch_all(&self.pool).await?)
    }

    async fn turns(&self, conversation_id: &str) -> Result<Vec<TurnRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, seq, text, received_at, extractor, reply, audit, response
             FROM chat_turns WHERE conversation_id = $1 ORDER BY seq",
        )
        .bind(conversation_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn turn_response(
        &self,
        conversation_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let response: Option<Json<serde_json::Value>> = sqlx::query_scalar(
            "SELECT response FROM chat_turns WHERE conversation_id = $1 AND idempotency_key = $2",
        )
        .bind(conversation_id)
        .bind(idempotency_key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(response.map(|r| r.0))
    }

    async fn next_order_number(&self) -> Result<u64, StoreError> {
        let n: i64 =
            sqlx::query_scalar("SELECT nextval('order_numbers')").fetch_one(&self.pool).await?;
        u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("order number {n}")))
    }

    async fn record_turn(&self, turn: &TurnWrite) -> Result<(), StoreError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.pool.begin().await?;
        let order_id = turn.order.as_ref().map(|o| o.order_id.as_str());
        let updated = sqlx::query(
            "UPDATE conversations SET turn_count = $1, updated_at = $2,
                outcome = COALESCE($3, outcome), order_id = COALESCE($4, order_id),
                handoff_at = CASE WHEN $5 THEN COALESCE(handoff_at, $6) ELSE handoff_at END
             WHERE id = $7 AND turn_count = $8",
        )
        .bind(i64::from(turn.seq))
        .bind(now)
        .bind(turn.outcome.map(Outcome::as_str))
        .bind(order_id)
        .bind(turn.handoff)
        .bind(now)
        .bind(&turn.conversation_id)
        .bind(i64::from(turn.seq) - 1)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Conflict("the conversation moved on".into()));
        }
        if let Some(order) = &turn.order {
            write_order(&mut tx, OrderSource::turn(turn), order, now).await?;
        }
        sqlx::query(
            "INSERT INTO chat_turns (id, conversation_id, seq, text, received_at,
                idempotency_key, extractor, audit, reply, response)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&turn.turn_id)
        .bind(&turn.conversation_id)
        .bind(i64::from(turn.seq))
        .bind(&turn.text)
        .bind(turn.received_at)
        .bind(&turn.idempotency_key)
        .bind(turn.extractor.as_str())
        .bind(Json(&turn.audit))
        .bind(&turn.reply)
        .bind(Json(&turn.response))
        .execute(&mut *tx)
        .await
        .map_err(write_conflict)?;
        tx.commit().await?;
        Ok(())
    }

    async fn order_events(&self, order_id: &str) -> Result<Vec<EventRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, seq, type, schema_version, payload, conversation_id, message_id, actor,
                    created_at
             FROM order_events WHERE order_id = $1 ORDER BY seq",
        )
        .bind(order_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn order_snapshot(
        &self,
        order_id: &str,
    ) -> Result<Option<(u32, serde_json::Value)>, StoreError> {
        let row: Option<(i64, Json<serde_json::Value>)> = sqlx::query_as(
            "SELECT version, snapshot FROM orders
             WHERE id = $1 AND snapshot IS NOT NULL AND snapshot_version = version",
        )
        .bind(order_id)
        .fetch_optional(&self.pool)
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
             WHERE o.number = $1",
        )
        .bind(number)
        .fetch_optional(&self.pool)
        .await?)
    }
}

pub(crate) async fn write_order(
    tx: &mut Transaction<'_, Postgres>,
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                $18, $19)",
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
        .bind(projection.payment_expires_at)
        .bind(projection.snapshot.as_ref().map(Json))
        .bind(projection.snapshot.as_ref().map(|_| version))
        .execute(&mut **tx)
        .await
        .map_err(write_conflict)?;
    } else {
        let updated = sqlx::query(
            "UPDATE orders SET status = $1, currency = $2, customer_id = $3, subtotal = $4,
                shipping = $5, total = $6, shipping_address = $7, version = $8, updated_at = $9,
                confirmed_at = COALESCE(confirmed_at, $10), cancelled_at = COALESCE(cancelled_at, $11),
                shipped_at = COALESCE(shipped_at, $14), delivered_at = COALESCE($15, delivered_at),
                payment_status = $16, payment_expires_at = $17, snapshot = $18,
                snapshot_version = $19
             WHERE id = $12 AND version = $13",
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
        .bind(&order.order_id)
        .bind(i64::from(order.expected_version))
        .bind(projection.shipped_at)
        .bind(projection.delivered_at)
        .bind(projection.payment_status.as_str())
        .bind(projection.payment_expires_at)
        .bind(projection.snapshot.as_ref().map(Json))
        .bind(projection.snapshot.as_ref().map(|_| version))
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
                "SELECT EXISTS (SELECT 1 FROM return_claims WHERE order_id = $1 AND claimed > 0)
                     OR EXISTS (SELECT 1 FROM orders WHERE id = $1
                                AND (shipped_at IS NOT NULL OR delivered_at IS NOT NULL))",
            )
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

    sqlx::query("DELETE FROM order_lines WHERE order_id = $1")
        .bind(&order.order_id)
        .execute(&mut **tx)
        .await?;
    for (position, line) in projection.lines.iter().enumerate() {
        sqlx::query(
            "INSERT INTO order_lines (order_id, position, sku, name, quantity, choices,
                unit_price, total) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&order.order_id)
        .bind(position as i64)
        .bind(&line.sku)
        .bind(&line.name)
        .bind(i64::from(line.quantity))
        .bind(Json(&line.choices))
        .bind(line.unit_price)
        .bind(line.total)
        .execute(&mut **tx)
        .await?;
    }

    for (offset, event) in order.events.iter().enumerate() {
        let seq = i64::from(order.expected_version) + offset as i64 + 1;
        sqlx::query(
            "INSERT INTO order_events (id, order_id, seq, type, schema_version, payload,
                conversation_id, message_id, idempotency_key, actor, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&event.id)
        .bind(&order.order_id)
        .bind(seq)
        .bind(&event.event_type)
        .bind(i64::from(event.schema_version))
        .bind(Json(&event.payload))
        .bind(source.conversation_id)
        .bind(source.message_id)
        .bind(source.idempotency_key)
        .bind(&order.actor)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(write_conflict)?;
        sqlx::query(
            "INSERT INTO outbox (event_id, topic, payload, next_attempt_at, stream, seq, created_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&event.id)
        .bind(format!("order.{}", event.event_type))
        .bind(Json(OrderOutboxMessage::of(order, event, seq)))
        .bind(now)
        .bind(format!("order:{}", order.order_id))
        .bind(seq)
        .bind(crate::unix_ms(now))
        .execute(&mut **tx)
        .await?;
    }

    for (key, quantity) in &order.reserve {
        reserve(tx, key, *quantity).await?;
    }
    for (key, quantity) in &order.release {
        sqlx::query(
            "UPDATE stock_levels SET reserved = GREATEST(reserved - $1, 0)
             WHERE sku = $2 AND option_key = $3",
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
    tx: &mut Transaction<'_, Postgres>,
    key: &StockKey,
    quantity: u32,
) -> Result<(), StoreError> {
    let taken = sqlx::query(
        "UPDATE stock_levels SET reserved = reserved + $1
         WHERE sku = $2 AND option_key = $3 AND on_hand - reserved >= $1",
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
        "SELECT GREATEST(on_hand - reserved, 0) FROM stock_levels WHERE sku = $1 AND option_key = $2",
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
    tx: &mut Transaction<'_, Postgres>,
    customer: &CustomerWrite,
    now: OffsetDateTime,
) -> Result<String, StoreError> {
    let id: String = sqlx::query_scalar(
        "INSERT INTO customers (id, email, name, phone, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
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
