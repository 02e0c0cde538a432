//! PostgreSQL: API keys, and fulfilment writes with their kept answers.

use async_trait::async_trait;
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::{
    fulfilment_records::*, postgres::PostgresStore, postgres_chat::write_order, write_conflict,
    FulfilmentStore, OrderSource, StoreError,
};

#[async_trait]
impl FulfilmentStore for PostgresStore {
    async fn create_api_key(&self, new: &NewApiKey) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO api_keys (id, name, key_hash, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING",
        )
        .bind(&new.id)
        .bind(&new.name)
        .bind(&new.key_hash)
        .bind(new.created_at)
        .execute(&self.pool)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn api_keys(&self) -> Result<Vec<ApiKeyRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, name, created_at, revoked_at FROM api_keys ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKeyRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, name, created_at, revoked_at FROM api_keys
             WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(key_hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn revoke_api_key(
        &self,
        name_or_id: &str,
        at: OffsetDateTime,
    ) -> Result<Vec<ApiKeyRow>, StoreError> {
        Ok(sqlx::query_as(
            "UPDATE api_keys SET revoked_at = $1
             WHERE revoked_at IS NULL AND (name = $2 OR id = $2)
             RETURNING id, name, created_at, revoked_at",
        )
        .bind(at)
        .bind(name_or_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn record_fulfilment(&self, write: &FulfilmentWrite) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // First, so that a replay stops before anything else is written.
        if let Some(key) = &write.idempotency_key {
            sqlx::query(
                "INSERT INTO fulfilment_requests
                    (api_key_id, idempotency_key, order_number, response, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&write.api_key_id)
            .bind(key)
            .bind(&write.order.number)
            .bind(Json(&write.response))
            .bind(write.at)
            .execute(&mut *tx)
            .await
            .map_err(write_conflict)?;
        }
        let source = OrderSource {
            conversation_id: None,
            message_id: None,
            idempotency_key: write.idempotency_key.as_deref(),
        };
        write_order(&mut tx, source, &write.order, write.at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn fulfilment_response(
        &self,
        api_key_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<StoredFulfilment>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT order_number, response FROM fulfilment_requests
             WHERE api_key_id = $1 AND idempotency_key = $2",
        )
        .bind(api_key_id)
        .bind(idempotency_key)
        .fetch_optional(&self.pool)
        .await?)
    }
}
