//! PostgreSQL: web sessions, shared by every app server on the database. Each write is
//! one statement, so two servers creating the same id cannot both succeed.

use async_trait::async_trait;
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::{postgres::PostgresStore, SessionStore, StoreError};

#[async_trait]
impl SessionStore for PostgresStore {
    async fn session_create(
        &self,
        id: &str,
        data: &serde_json::Value,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(Json(data))
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn session_save(
        &self,
        id: &str,
        data: &serde_json::Value,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        // An UPDATE, never an insert: a session deleted meanwhile stays deleted.
        sqlx::query("UPDATE sessions SET data = $2, expires_at = $3 WHERE id = $1")
            .bind(id)
            .bind(Json(data))
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn session_load(
        &self,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(serde_json::Value, OffsetDateTime)>, StoreError> {
        let row: Option<(Json<serde_json::Value>, OffsetDateTime)> = sqlx::query_as(
            "SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at >= $2",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(data, expires_at)| (data.0, expires_at)))
    }

    async fn session_delete(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected())
    }
}
