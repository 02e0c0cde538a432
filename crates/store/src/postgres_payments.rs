//! PostgreSQL: a payment provider's webhook events with the order events they append.

use async_trait::async_trait;

use crate::{
    payment_records::PaymentEventWrite, postgres::PostgresStore, postgres_chat::write_order,
    OrderSource, PaymentStore, StoreError,
};

#[async_trait]
impl PaymentStore for PostgresStore {
    async fn record_payment_event(&self, write: &PaymentEventWrite) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // First, so that a second delivery stops before anything else is written.
        let inserted = sqlx::query(
            "INSERT INTO payment_events (provider, event_id, type, order_number, received_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(&write.provider)
        .bind(&write.event_id)
        .bind(&write.event_type)
        .bind(&write.order_number)
        .bind(write.at)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(order) = &write.order {
            let key = format!("{}:{}", write.provider, write.event_id);
            let source = OrderSource {
                conversation_id: None,
                message_id: None,
                idempotency_key: Some(&key),
            };
            write_order(&mut tx, source, order, write.at).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn payment_followups(
        &self,
        expired_before: time::OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT number FROM (
                 SELECT number, payment_expires_at AS due FROM orders
                 WHERE payment_status = 'pending' AND payment_expires_at < $1
                 UNION ALL
                 SELECT number, updated_at AS due FROM orders
                 WHERE status = 'cancelled' AND payment_status IN ('paid', 'partially_refunded')
             ) AS due_orders ORDER BY due LIMIT $2",
        )
        .bind(expired_before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }
}
