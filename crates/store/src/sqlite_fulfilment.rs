//! SQLite: API keys, fulfilment writes with their kept answers, and the facts behind the
//! dashboard's delivery numbers. Times are fixed-width UTC text (see `sqlite_sessions.rs`).

use std::collections::HashMap;

use sqlx::{sqlite::SqliteRow, types::Json, FromRow, Row};
use time::OffsetDateTime;

use crate::{
    fulfilment_records::*, sqlite::SqliteStore, sqlite_chat::write_order,
    sqlite_sessions::sortable, write_conflict, OrderSource, StoreError,
};

impl SqliteStore {
    pub(crate) async fn create_api_key_impl(&self, new: &NewApiKey) -> Result<bool, StoreError> {
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

    pub(crate) async fn api_keys_impl(&self) -> Result<Vec<ApiKeyRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, revoked_at FROM api_keys ORDER BY created_at, id",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(key_row).collect()
    }

    pub(crate) async fn api_key_by_hash_impl(
        &self,
        key_hash: &str,
    ) -> Result<Option<ApiKeyRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, created_at, revoked_at FROM api_keys
             WHERE key_hash = ? AND revoked_at IS NULL",
        )
        .bind(key_hash)
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(key_row).transpose()
    }

    pub(crate) async fn revoke_api_key_impl(
        &self,
        name_or_id: &str,
        at: OffsetDateTime,
    ) -> Result<Vec<ApiKeyRow>, StoreError> {
        let rows = sqlx::query(
            "UPDATE api_keys SET revoked_at = ?
             WHERE revoked_at IS NULL AND (name = ? OR id = ?)
             RETURNING id, name, created_at, revoked_at",
        )
        .bind(sortable(at)?)
        .bind(name_or_id)
        .bind(name_or_id)
        .fetch_all(&self.writer)
        .await?;
        rows.iter().map(key_row).collect()
    }

    pub(crate) async fn record_fulfilment_impl(
        &self,
        write: &FulfilmentWrite,
    ) -> Result<(), StoreError> {
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

    pub(crate) async fn fulfilment_response_impl(
        &self,
        api_key_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<StoredFulfilment>, StoreError> {
        let row = sqlx::query(
            "SELECT order_number, response FROM fulfilment_requests
             WHERE api_key_id = ? AND idempotency_key = ?",
        )
        .bind(api_key_id)
        .bind(idempotency_key)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|row| {
            Ok(StoredFulfilment {
                order_number: row.try_get("order_number")?,
                response: row.try_get::<Json<_>, _>("response")?.0,
            })
        })
        .transpose()
    }

    pub(crate) async fn order_fulfilment_facts_impl(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<OrderFulfilmentFactRow>, StoreError> {
        // `confirmed_at` is written by sqlx as RFC 3339 (see sqlite_dashboard.rs), which
        // compares as text the same way except within a second of a bound.
        let (from, to) = (sortable(from)?, sortable(to)?);
        let rows = sqlx::query(
            "SELECT o.id, o.number, o.status, o.confirmed_at, o.shipped_at, o.delivered_at,
                c.handoff_at IS NOT NULL AS handed_off
             FROM orders o LEFT JOIN conversations c ON c.id = o.conversation_id
             WHERE o.confirmed_at >= ?1 AND o.confirmed_at < ?2
             ORDER BY o.confirmed_at, o.id",
        )
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.reader)
        .await?;
        let items = sqlx::query(
            "SELECT r.order_id, r.requested_at, r.status, i.reason
             FROM orders o JOIN returns r ON r.order_id = o.id
             JOIN return_items i ON i.return_id = r.id
             WHERE o.confirmed_at >= ?1 AND o.confirmed_at < ?2 AND r.status <> 'cancelled'
             ORDER BY r.requested_at, i.position",
        )
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.reader)
        .await?;
        let mut returns: HashMap<String, Vec<OrderReturnFactRow>> = HashMap::new();
        for row in &items {
            returns
                .entry(row.try_get("order_id")?)
                .or_default()
                .push(OrderReturnFactRow::from_row(row)?);
        }
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                Ok(OrderFulfilmentFactRow {
                    number: row.try_get("number")?,
                    status: row.try_get("status")?,
                    confirmed_at: row.try_get("confirmed_at")?,
                    shipped_at: row.try_get("shipped_at")?,
                    delivered_at: row.try_get("delivered_at")?,
                    handed_off: row.try_get("handed_off")?,
                    returns: returns.remove(&id).unwrap_or_default(),
                })
            })
            .collect()
    }
}

fn key_row(row: &SqliteRow) -> Result<ApiKeyRow, StoreError> {
    Ok(ApiKeyRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}
