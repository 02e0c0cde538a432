//! SQLite: API keys, and fulfilment writes with their kept answers. Times are fixed-width
//! UTC text (see `sqlite_sessions.rs`).

use async_trait::async_trait;
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::{
    fulfilment_records::*, sqlite::SqliteStore, sqlite_chat::write_order,
    sqlite_sessions::sortable, write_conflict, FulfilmentStore, OrderSource, StoreError,
};

#[async_trait]
impl FulfilmentStore for SqliteStore {
    async fn create_api_key(&self, new: &NewApiKey) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO api_keys (id, name, key_hash, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING",
        )
        .bind(&new.id)
        .bind(&new.name)
        .bind(&new.key_hash)
        .bind(sortable(new.created_at)?)
        .execute(&self.writer)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn api_keys(&self) -> Result<Vec<ApiKeyRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, name, created_at, revoked_at FROM api_keys ORDER BY created_at, id",
        )
        .fetch_all(&self.reader)
        .await?)
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKeyRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, name, created_at, revoked_at FROM api_keys
             WHERE key_hash = ? AND revoked_at IS NULL",
        )
        .bind(key_hash)
        .fetch_optional(&self.reader)
        .await?)
    }

    async fn revoke_api_key(
        &self,
        name_or_id: &str,
        at: OffsetDateTime,
    ) -> Result<Vec<ApiKeyRow>, StoreError> {
        Ok(sqlx::query_as(
            "UPDATE api_keys SET revoked_at = ?
             WHERE revoked_at IS NULL AND (name = ? OR id = ?)
             RETURNING id, name, created_at, revoked_at",
        )
        .bind(sortable(at)?)
        .bind(name_or_id)
        .bind(name_or_id)
        .fetch_all(&self.writer)
        .await?)
    }

    async fn record_fulfilment(&self, write: &FulfilmentWrite) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        // First, so that a replay stops before anything else is written.
        if let Some(key) = &write.idempotency_key {
            sqlx::query(
                "INSERT INTO fulfilment_requests
                    (api_key_id, idempotency_key, order_number, response, created_at)
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(&write.api_key_id)
            .bind(key)
            .bind(&write.order.number)
            .bind(Json(&write.response))
            .bind(sortable(write.at)?)
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
             WHERE api_key_id = ? AND idempotency_key = ?",
        )
        .bind(api_key_id)
        .bind(idempotency_key)
        .fetch_optional(&self.reader)
        .await?)
    }
}
