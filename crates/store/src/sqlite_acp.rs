//! SQLite: ACP checkout sessions and the answers kept for their Idempotency-Keys.

use async_trait::async_trait;
use serde_json::Value;
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::{acp_records::*, sqlite::SqliteStore, sqlite_sessions::sortable, AcpStore, StoreError};

#[async_trait]
impl AcpStore for SqliteStore {
    async fn create_acp_session(&self, new: &NewAcpSession) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO acp_checkout_sessions (id, api_key_id, conversation_id, created_at)
             VALUES (?, ?, ?, ?)",
        )
        .bind(&new.id)
        .bind(&new.api_key_id)
        .bind(&new.conversation_id)
        .bind(sortable(new.created_at)?)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn acp_session(&self, id: &str) -> Result<Option<AcpSessionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, api_key_id, conversation_id, created_at, canceled_at
             FROM acp_checkout_sessions WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.reader)
        .await?)
    }

    async fn cancel_acp_session(&self, id: &str, at: OffsetDateTime) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE acp_checkout_sessions SET canceled_at = ? WHERE id = ? AND canceled_at IS NULL",
        )
        .bind(sortable(at)?)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn claim_acp_request(&self, claim: &AcpRequestClaim) -> Result<AcpClaim, StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "DELETE FROM acp_requests WHERE api_key_id = ? AND idempotency_key = ?
                AND response IS NULL AND claimed_ms < ?",
        )
        .bind(&claim.api_key_id)
        .bind(&claim.idempotency_key)
        .bind(claim.abandoned_before_ms)
        .execute(&mut *tx)
        .await?;
        let inserted = sqlx::query(
            "INSERT INTO acp_requests (api_key_id, idempotency_key, request_hash, claimed_ms)
             VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(&claim.api_key_id)
        .bind(&claim.idempotency_key)
        .bind(&claim.request_hash)
        .bind(claim.claimed_ms)
        .execute(&mut *tx)
        .await?;
        let claimed = if inserted.rows_affected() == 1 {
            AcpClaim::Claimed
        } else {
            let (request_hash, status, response): (String, Option<i64>, Option<Json<Value>>) =
                sqlx::query_as(
                    "SELECT request_hash, status, response FROM acp_requests
                     WHERE api_key_id = ? AND idempotency_key = ?",
                )
                .bind(&claim.api_key_id)
                .bind(&claim.idempotency_key)
                .fetch_one(&mut *tx)
                .await?;
            AcpClaim::Taken(StoredAcpRequest {
                request_hash,
                answer: answer(status, response.map(|json| json.0))?,
            })
        };
        tx.commit().await?;
        Ok(claimed)
    }

    async fn finish_acp_request(
        &self,
        api_key_id: &str,
        idempotency_key: &str,
        status: u16,
        response: &Value,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE acp_requests SET status = ?, response = ?
             WHERE api_key_id = ? AND idempotency_key = ?",
        )
        .bind(i64::from(status))
        .bind(Json(response))
        .bind(api_key_id)
        .bind(idempotency_key)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn release_acp_request(
        &self,
        api_key_id: &str,
        idempotency_key: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM acp_requests
             WHERE api_key_id = ? AND idempotency_key = ? AND response IS NULL",
        )
        .bind(api_key_id)
        .bind(idempotency_key)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}

pub(crate) fn answer(
    status: Option<i64>,
    response: Option<Value>,
) -> Result<Option<(u16, Value)>, StoreError> {
    match (status, response) {
        (Some(status), Some(response)) => {
            let status = u16::try_from(status)
                .map_err(|_| StoreError::Corrupt(format!("ACP answer status {status}")))?;
            Ok(Some((status, response)))
        }
        _ => Ok(None),
    }
}
