//! PostgreSQL: staff replies into handed-off conversations, and the queue of open handoffs.

use async_trait::async_trait;

use crate::{
    postgres::PostgresStore, HandoffRow, HandoffStore, StaffReplyRow, StaffReplyWrite, StoreError,
};

#[async_trait]
impl HandoffStore for PostgresStore {
    async fn add_staff_reply(&self, reply: &StaffReplyWrite) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let touched = sqlx::query(
            "UPDATE conversations SET updated_at = $1,
                handoff_closed_at = CASE WHEN $2 THEN $3 ELSE handoff_closed_at END
             WHERE id = $4",
        )
        .bind(reply.at)
        .bind(reply.close)
        .bind(reply.at)
        .bind(&reply.conversation_id)
        .execute(&mut *tx)
        .await?;
        if touched.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO staff_replies (id, conversation_id, staff_id, text, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&reply.id)
        .bind(&reply.conversation_id)
        .bind(&reply.staff_id)
        .bind(&reply.text)
        .bind(reply.at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn staff_replies(&self, conversation_id: &str) -> Result<Vec<StaffReplyRow>, StoreError> {
        Ok(sqlx::query_as::<_, StaffReplyRow>(
            "SELECT r.id, r.staff_id, s.email AS staff_email, r.text, r.created_at AS at
             FROM staff_replies r JOIN staff_accounts s ON s.id = r.staff_id
             WHERE r.conversation_id = $1
             ORDER BY r.created_at, r.id",
        )
        .bind(conversation_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn handoff_queue(&self, limit: u32) -> Result<Vec<HandoffRow>, StoreError> {
        Ok(sqlx::query_as::<_, HandoffRow>(
            "SELECT c.id AS conversation_id, c.started_at, c.handoff_at, o.number AS order_number,
                c.turn_count,
                (SELECT t.text FROM chat_turns t WHERE t.conversation_id = c.id
                 ORDER BY t.seq DESC LIMIT 1) AS last_message,
                (SELECT COUNT(*) FROM staff_replies r WHERE r.conversation_id = c.id) AS replies
             FROM conversations c LEFT JOIN orders o ON o.id = c.order_id
             WHERE c.handoff_at IS NOT NULL AND c.handoff_closed_at IS NULL
             ORDER BY c.handoff_at, c.id
             LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }
}
