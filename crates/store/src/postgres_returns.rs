//! PostgreSQL: returns, their items and events, and the claims that keep a line from
//! being returned twice. Several app servers may write at once: a claim is one
//! conditional UPDATE, which waits for the row lock of a concurrent claim and then
//! checks again; an update of a return checks its version the same way.

use async_trait::async_trait;
use sqlx::{types::Json, FromRow, Postgres, Row, Transaction};
use time::OffsetDateTime;

use crate::{
    option_key, postgres::PostgresStore, postgres_chat::write_order, returns_records::*,
    write_conflict, OrderSource, ReturnsStore, StoreError,
};

#[async_trait]
impl ReturnsStore for PostgresStore {
    async fn returnable_order(&self, number: &str) -> Result<Option<ReturnableOrder>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.id, o.number, c.email, o.status, o.currency, o.confirmed_at,
                    o.delivered_at, o.payment_status, l.position, l.sku, l.name, l.quantity, l.unit_price, l.choices,
                    COALESCE(rc.claimed, 0) AS claimed
             FROM orders o
             LEFT JOIN customers c ON c.id = o.customer_id
             LEFT JOIN order_lines l ON l.order_id = o.id
             LEFT JOIN return_claims rc ON rc.order_id = o.id AND rc.line = l.position
             WHERE o.number = $1 AND o.status <> 'draft'
             ORDER BY l.position",
        )
        .bind(number)
        .fetch_all(&self.pool)
        .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let mut order = ReturnableOrder::from_row(first)?;
        for row in &rows {
            // An order without lines still has its one row, with NULL line columns.
            if row.try_get::<Option<i64>, _>("position")?.is_some() {
                order.lines.push(ReturnableLine::from_row(row)?);
            }
        }
        Ok(Some(order))
    }

    async fn recent_returns(&self, email: &str, since: OffsetDateTime) -> Result<u32, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM returns
             WHERE email = $1 AND requested_at >= $2 AND status NOT IN ('rejected', 'cancelled')",
        )
        .bind(email)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        count(n)
    }

    async fn create_return(&self, new: &NewReturn) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        check_return(&mut tx, new).await?;
        sqlx::query(
            "INSERT INTO returns (id, rma, order_id, email, status, resolution, version,
                refund_amount, requested_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9)",
        )
        .bind(&new.id)
        .bind(&new.rma)
        .bind(&new.order_id)
        .bind(&new.email)
        .bind(new.status.as_str())
        .bind(&new.resolution)
        .bind(new.events.len() as i64)
        .bind(new.requested_at)
        .bind(new.requested_at)
        .execute(&mut *tx)
        .await
        .map_err(return_conflict)?;

        for (line, quantity) in claims_by_line(&new.claims) {
            claim(&mut tx, &new.order_id, line, quantity).await?;
        }

        for (position, item) in new.items.iter().enumerate() {
            sqlx::query(
                "INSERT INTO return_items (return_id, position, line, sku, quantity, reason,
                    comment, decision, rule, message, value, restocking_fee)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&new.id)
            .bind(position as i64)
            .bind(i64::from(item.line))
            .bind(&item.sku)
            .bind(i64::from(item.quantity))
            .bind(&item.reason)
            .bind(&item.comment)
            .bind(&item.decision)
            .bind(&item.rule)
            .bind(&item.message)
            .bind(item.value)
            .bind(item.restocking_fee)
            .execute(&mut *tx)
            .await?;
        }

        append_events(&mut tx, &new.id, &new.rma, &new.order_id, 0, &new.events).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn return_by_rma(&self, rma: &str) -> Result<Option<ReturnRow>, StoreError> {
        // One read-only snapshot: the row, its items and its events agree.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let Some(mut found) = sqlx::query_as::<_, ReturnRow>(
            "SELECT r.id, r.rma, r.order_id, o.number AS order_number, r.email, r.status,
                    r.resolution, r.version, r.refund_amount, r.requested_at, r.updated_at
             FROM returns r JOIN orders o ON o.id = r.order_id
             WHERE r.rma = $1",
        )
        .bind(rma)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        found.items = sqlx::query_as(
            "SELECT line, sku, quantity, reason, comment, decision, rule, message, value,
                    restocking_fee
             FROM return_items WHERE return_id = $1 ORDER BY position",
        )
        .bind(&found.id)
        .fetch_all(&mut *tx)
        .await?;
        found.events = sqlx::query_as(
            "SELECT id, seq, type, payload, actor, created_at
             FROM return_events WHERE return_id = $1 ORDER BY seq",
        )
        .bind(&found.id)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(found))
    }

    async fn update_return(&self, update: &ReturnUpdate) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let version = i64::from(update.expected_version) + update.events.len() as i64;
        let Some((rma, order_id)): Option<(String, String)> = sqlx::query_as(
            "UPDATE returns SET status = $1, version = $2, updated_at = $3,
                refund_amount = COALESCE($4, refund_amount)
             WHERE id = $5 AND version = $6
             RETURNING rma, order_id",
        )
        .bind(update.status.as_str())
        .bind(version)
        .bind(update.at)
        .bind(update.refund_amount)
        .bind(&update.return_id)
        .bind(i64::from(update.expected_version))
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Err(StoreError::Conflict(format!(
                "return {} is not at version {}",
                update.return_id, update.expected_version
            )));
        };

        append_events(
            &mut tx,
            &update.return_id,
            &rma,
            &order_id,
            update.expected_version,
            &update.events,
        )
        .await?;
        for (line, quantity) in claims_by_line(&update.release) {
            sqlx::query(
                "UPDATE return_claims SET claimed = GREATEST(claimed - $1, 0)
                 WHERE order_id = $2 AND line = $3",
            )
            .bind(i64::from(quantity))
            .bind(&order_id)
            .bind(i64::from(line))
            .execute(&mut *tx)
            .await?;
        }
        for (key, quantity) in &update.restock {
            sqlx::query(
                "UPDATE stock_levels SET on_hand = on_hand + $1
                 WHERE sku = $2 AND option_key = $3",
            )
            .bind(i64::from(*quantity))
            .bind(key.sku.as_str())
            .bind(option_key(key))
            .execute(&mut *tx)
            .await?;
        }
        if let Some(order) = &update.replacement {
            let key = format!("exchange:{rma}");
            let source = OrderSource {
                conversation_id: None,
                message_id: None,
                idempotency_key: Some(&key),
            };
            write_order(&mut tx, source, order, update.at).await?;
        }
        if let Some(order) = &update.order_refund {
            let key = format!("refund:{rma}:{}", update.expected_version + 1);
            let source = OrderSource {
                conversation_id: None,
                message_id: None,
                idempotency_key: Some(&key),
            };
            write_order(&mut tx, source, order, update.at).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn list_returns(
        &self,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ReturnListRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT r.rma, o.number AS order_number, r.email, r.status, r.resolution,
                    r.requested_at, r.updated_at
             FROM returns r JOIN orders o ON o.id = r.order_id
             WHERE $1::text IS NULL OR r.status = $1
             ORDER BY r.requested_at DESC, r.id DESC
             LIMIT $2",
        )
        .bind(status)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    async fn completed_return_events(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<Vec<ReturnEventRow>>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT e.return_id, e.id, e.seq, e.type, e.payload, e.actor, e.created_at
             FROM returns r JOIN return_events e ON e.return_id = r.id
             WHERE r.status IN ($1, $2, $3) AND r.updated_at >= $4 AND r.updated_at < $5
             ORDER BY r.updated_at, r.id, e.seq",
        )
        .bind(COMPLETED[0])
        .bind(COMPLETED[1])
        .bind(COMPLETED[2])
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        Ok(group_events(rows))
    }

    async fn mark_delivered(
        &self,
        order_number: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query("UPDATE orders SET delivered_at = $1 WHERE number = $2")
            .bind(at)
            .bind(order_number)
            .execute(&self.pool)
            .await?;
        Ok(updated.rows_affected() > 0)
    }
}

/// What must still hold when a return is written, checked inside its transaction:
/// the customer is still under the return limit the decision relied on (one
/// transaction per email at a time, by an advisory lock, so two requests cannot both
/// count the other out), and an order that units are claimed from was bought and is
/// not cancelled, with its row locked so that a cancellation waits for this return or
/// this return sees it.
async fn check_return(
    tx: &mut Transaction<'_, Postgres>,
    new: &NewReturn,
) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("returns:{}", new.email))
        .execute(&mut **tx)
        .await?;
    if let Some(max) = new.max_recent {
        let recent: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM returns
             WHERE email = $1 AND requested_at >= $2 AND status NOT IN ('rejected', 'cancelled')",
        )
        .bind(&new.email)
        .bind(new.counted_since)
        .fetch_one(&mut **tx)
        .await?;
        if recent > i64::from(max) {
            return Err(StoreError::Conflict("the customer reached the return limit".into()));
        }
    }
    if !new.claims.is_empty() {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM orders WHERE id = $1 FOR UPDATE")
                .bind(&new.order_id)
                .fetch_optional(&mut **tx)
                .await?;
        // Bought and not called off: later states (shipped, delivered) stay returnable.
        if matches!(status.as_deref(), None | Some("draft" | "cancelled")) {
            return Err(StoreError::Conflict("the order was not bought or is cancelled".into()));
        }
    }
    Ok(())
}

/// Takes `quantity` units of an order line for a return, or fails with how many are
/// left. The claim row starts from the line's quantity the first time; the check and
/// the update are then one statement.
async fn claim(
    tx: &mut Transaction<'_, Postgres>,
    order_id: &str,
    line: u32,
    quantity: u32,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO return_claims (order_id, line, bought, claimed)
         SELECT l.order_id, l.position, l.quantity, 0
         FROM order_lines l JOIN orders o ON o.id = l.order_id
         WHERE l.order_id = $1 AND l.position = $2 AND o.status <> 'draft'
         ON CONFLICT (order_id, line) DO NOTHING",
    )
    .bind(order_id)
    .bind(i64::from(line))
    .execute(&mut **tx)
    .await?;
    let taken = sqlx::query(
        "UPDATE return_claims SET claimed = claimed + $1
         WHERE order_id = $2 AND line = $3 AND claimed + $1 <= bought",
    )
    .bind(i64::from(quantity))
    .bind(order_id)
    .bind(i64::from(line))
    .execute(&mut **tx)
    .await?;
    if taken.rows_affected() == 1 {
        return Ok(());
    }
    let available: Option<i64> = sqlx::query_scalar(
        "SELECT GREATEST(bought - claimed, 0) FROM return_claims WHERE order_id = $1 AND line = $2",
    )
    .bind(order_id)
    .bind(i64::from(line))
    .fetch_optional(&mut **tx)
    .await?;
    Err(StoreError::OverClaimed {
        line,
        available: available.map_or(0, |n| u32::try_from(n).unwrap_or(0)),
    })
}

/// Events `after + 1`, `after + 2`, … with an outbox row each.
async fn append_events(
    tx: &mut Transaction<'_, Postgres>,
    return_id: &str,
    rma: &str,
    order_id: &str,
    after: u32,
    events: &[ReturnEventWrite],
) -> Result<(), StoreError> {
    let now = OffsetDateTime::now_utc();
    for (offset, event) in events.iter().enumerate() {
        let seq = i64::from(after) + offset as i64 + 1;
        sqlx::query(
            "INSERT INTO return_events (id, return_id, seq, type, schema_version, payload,
                actor, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&event.id)
        .bind(return_id)
        .bind(seq)
        .bind(&event.event_type)
        .bind(i64::from(event.schema_version))
        .bind(Json(&event.payload))
        .bind(&event.actor)
        .bind(event.at)
        .execute(&mut **tx)
        .await
        .map_err(write_conflict)?;
        sqlx::query(
            "INSERT INTO outbox (event_id, topic, payload, next_attempt_at, stream, seq, created_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&event.id)
        .bind(format!("return.{}", event.event_type))
        .bind(Json(outbox_payload(return_id, rma, order_id, seq, event)))
        .bind(now)
        .bind(format!("return:{return_id}"))
        .bind(seq)
        .bind(crate::unix_ms(now))
        .execute(&mut **tx)
        .await
        .map_err(write_conflict)?;
    }
    Ok(())
}
