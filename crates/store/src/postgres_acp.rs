//! PostgreSQL: ACP checkout sessions and the answers kept for their Idempotency-Keys.

use async_trait::async_trait;
use serde_json::Value;
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::{acp_records::*, postgres::PostgresStore, sqlite_acp::answer, AcpStore, StoreError};

#[async_trait]
impl AcpStore for PostgresStore {
    async fn create_acp_session(&self, new: &NewAcpSession) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO acp_checkout_sessions (id, api_key_id, conversation_id, created_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&new.id)
        .bind(&new.api_key_id)
        .bind(&new.conversation_id)
        .bind(new.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn acp_session(&self, id: &str) -> Result<Option<AcpSessionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, api_key_id, conversation_id, created_at, canceled_at
             FROM acp_checkout_sessions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn cancel_acp_session(&self, id: &str, at: OffsetDateTime) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE acp_checkout_sessions SET canceled_at = $1 WHERE id = $2 AND canceled_at IS NULL",
        )
        .bind(at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn claim_acp_request(&self, claim: &AcpRequestClaim) -> Result<AcpClaim, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM acp_requests WHERE api_key_id = $1 AND idempotency_key = $2
                AND response IS NULL AND claimed_ms < $3",
        )
        .bind(&claim.api_key_id)
        .bind(&claim.idempotency_key)
        .bind(claim.abandoned_before_ms)
        .execute(&mut *tx)
        .await?;
        let inserted = sqlx::query(
            "INSERT INTO acp_requests (api_key_id, idempotency_key, request_hash, claimed_ms)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
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
                     WHERE api_key_id = $1 AND idempotency_key = $2",
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
            "UPDATE acp_requests SET status = $1, response = $2
             WHERE api_key_id = $3 AND idempotency_key = $4",
        )
        .bind(i64::from(status))
        .bind(Json(response))
        .bind(api_key_id)
        .bind(idempotency_key)
        .execute(&self.pool)
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
             WHERE api_key_id = $1 AND idempotency_key = $2 AND response IS NULL",
        )
        .bind(api_key_id)
        .bind(idempotency_key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
