//! SQLite: web sessions. Writes go through the single writer connection, reads through
//! the reader pool.
//!
//! `expires_at` is bound as text we format ourselves rather than through sqlx's
//! `OffsetDateTime` encoding: that one writes RFC 3339 with a variable number of
//! fractional digits and the caller's offset, so `…:00Z` would sort after `…:00.5Z` and
//! comparisons in SQL would be wrong. Always UTC with six digits, text order is time
//! order and the index on `expires_at` serves `expires_at < now`.

use async_trait::async_trait;
use sqlx::types::Json;
use time::{format_description::BorrowedFormatItem, macros::format_description, OffsetDateTime};

use crate::{sqlite::SqliteStore, SessionStore, StoreError};

/// Fixed width, still RFC 3339, so sqlx decodes it back into an `OffsetDateTime`.
const SORTABLE: &[BorrowedFormatItem<'_>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// `at` in UTC, truncated to the microsecond like PostgreSQL does.
pub(crate) fn sortable(at: OffsetDateTime) -> Result<String, StoreError> {
    at.checked_to_offset(time::UtcOffset::UTC)
        .ok_or_else(|| StoreError::Corrupt(format!("cannot store time {at}: out of range")))?
        .format(SORTABLE)
        .map_err(|e| StoreError::Corrupt(format!("cannot store time {at}: {e}")))
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn session_create(
        &self,
        id: &str,
        data: &serde_json::Value,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO sessions (id, data, expires_at) VALUES (?, ?, ?)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(Json(data))
        .bind(sortable(expires_at)?)
        .execute(&self.writer)
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
        sqlx::query("UPDATE sessions SET data = ?, expires_at = ? WHERE id = ?")
            .bind(Json(data))
            .bind(sortable(expires_at)?)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn session_load(
        &self,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(serde_json::Value, OffsetDateTime)>, StoreError> {
        let row: Option<(Json<serde_json::Value>, OffsetDateTime)> = sqlx::query_as(
            "SELECT data, expires_at FROM sessions WHERE id = ? AND expires_at >= ?",
        )
        .bind(id)
        .bind(sortable(now)?)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(|(data, expires_at)| (data.0, expires_at)))
    }

    async fn session_delete(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id = ?").bind(id).execute(&self.writer).await?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE expires_at < ?")
            .bind(sortable(now)?)
            .execute(&self.writer)
            .await?;
        Ok(deleted.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn sortable_text_order_is_time_order() {
        let times = [
            datetime!(2025-01-01 23:59:59.999_999 -01:00),
            datetime!(2025-01-02 01:00:00 UTC),
            datetime!(2025-01-02 01:00:00.5 UTC),
            datetime!(2025-01-02 01:00:00.55 UTC),
            datetime!(2025-01-02 03:00:01 +02:00),
        ];
        let texts: Vec<String> = times.iter().map(|t| sortable(*t).unwrap()).collect();
        for pair in texts.windows(2) {
            assert!(pair[0] < pair[1], "{pair:?}");
        }
        assert_eq!(texts[1], "2025-01-02T01:00:00.000000Z");
        assert_eq!(
            sortable(datetime!(2025-01-02 01:00:00.123_456_789 UTC)).unwrap(),
            "2025-01-02T01:00:00.123456Z",
            "truncated, not rounded, like PostgreSQL's binary timestamp encoding"
        );
    }
}
