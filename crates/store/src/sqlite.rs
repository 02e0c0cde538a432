use std::{collections::BTreeSet, str::FromStr, time::Duration};

use async_trait::async_trait;
use gapless_domain::{
    catalog::{Catalog, Product},
    money::Currency,
};
use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    types::Json,
    SqlitePool,
};
use time::OffsetDateTime;

use crate::{
    level, option_key, stock_key_from_columns, stock_rows, AuditTurnQuery, AuditTurnRow, Backend,
    ConversationFactRow, ConversationPage, ConversationQuery, ConversationRow, EventRow,
    HandoffRow, ImportSummary, NewConversation, NewReturn, NewStaff, OrderSummary, ReturnEventRow,
    ReturnFactRow, ReturnListRow, ReturnRow, ReturnUpdate, ReturnableOrder, StaffReplyRow,
    StaffReplyWrite, StaffRow, StockLevels, Store, StoreError, TurnRow, TurnWrite,
};
use crate::{AcpClaim, AcpRequestClaim, AcpSessionRow, NewAcpSession};
use crate::{
    ApiKeyRow, FulfilmentWrite, NewApiKey, OrderFulfilmentFactRow, PaymentEventWrite,
    StoredFulfilment,
};

use crate::sqlite_commit::TurnCommitter;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// How hard SQLite works to keep a commit through a power cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteDurability {
    /// fsync on every commit: an acknowledged write survives a crash of the process and
    /// of the machine. The default.
    Full,
    /// fsync at WAL checkpoints only: survives a crash of the process, may lose the last
    /// commits on power loss. For benchmarks that want to see the difference.
    Normal,
}

/// SQLite in WAL mode. Reads use a pool; writes go through a single connection so
/// that writers queue in-process instead of failing with `SQLITE_BUSY`.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) reader: SqlitePool,
    pub(crate) writer: SqlitePool,
    turns: TurnCommitter,
}

impl SqliteStore {
    pub async fn connect(url: &str, durability: SqliteDurability) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match durability {
                SqliteDurability::Full => SqliteSynchronous::Full,
                SqliteDurability::Normal => SqliteSynchronous::Normal,
            })
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let path = options.get_filename();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if path.to_str() != Some(":memory:") {
                std::fs::create_dir_all(parent).map_err(|e| {
                    StoreError::Database(sqlx::Error::Configuration(
                        format!("cannot create directory {}: {e}", parent.display()).into(),
                    ))
                })?;
            }
        }
        let writer =
            SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        let reader = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        let turns = TurnCommitter::start(writer.clone());
        Ok(SqliteStore { reader, writer, turns })
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.writer).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    async fn replace_catalog(&self, catalog: &Catalog) -> Result<ImportSummary, StoreError> {
        let mut tx = self.writer.begin().await?;
        let existing: BTreeSet<String> = sqlx::query_scalar("SELECT sku FROM products")
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
        let incoming: BTreeSet<String> =
            catalog.products.iter().map(|p| p.sku.as_str().to_owned()).collect();

        let mut summary = ImportSummary::default();
        for sku in existing.difference(&incoming) {
            sqlx::query("DELETE FROM products WHERE sku = ?").bind(sku).execute(&mut *tx).await?;
            summary.removed += 1;
        }
        for (position, product) in catalog.products.iter().enumerate() {
            if existing.contains(product.sku.as_str()) {
                summary.updated += 1;
            } else {
                summary.added += 1;
            }
            sqlx::query(
                "INSERT INTO products
                    (sku, position, name, category, price_minor, final_sale, return_days, definition)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (sku) DO UPDATE SET
                    position = excluded.position, name = excluded.name,
                    category = excluded.category, price_minor = excluded.price_minor,
                    final_sale = excluded.final_sale, return_days = excluded.return_days,
                    definition = excluded.definition",
            )
            .bind(product.sku.as_str())
            .bind(position as i64)
            .bind(&product.name)
            .bind(&product.category)
            .bind(product.price.minor())
            .bind(product.final_sale)
            .bind(product.return_days.map(i64::from))
            .bind(Json(product))
            .execute(&mut *tx)
            .await?;
        }

        let rows = stock_rows(catalog);
        let wanted: BTreeSet<(String, String)> =
            rows.iter().map(|(key, _)| (key.sku.as_str().to_owned(), option_key(key))).collect();
        let stored: Vec<(String, String)> =
            sqlx::query_as("SELECT sku, option_key FROM stock_levels").fetch_all(&mut *tx).await?;
        for (sku, option_key) in stored {
            if !wanted.contains(&(sku.clone(), option_key.clone())) {
                sqlx::query("DELETE FROM stock_levels WHERE sku = ? AND option_key = ?")
                    .bind(sku)
                    .bind(option_key)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for (key, on_hand) in rows {
            sqlx::query(
                "INSERT INTO stock_levels (sku, option_key, on_hand) VALUES (?, ?, ?)
                 ON CONFLICT (sku, option_key) DO UPDATE SET on_hand = excluded.on_hand",
            )
            .bind(key.sku.as_str())
            .bind(option_key(&key))
            .bind(i64::from(on_hand))
            .execute(&mut *tx)
            .await?;
        }

        sqlx::query(
            "INSERT INTO catalog_meta (id, currency, product_count, imported_at) VALUES (1, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET currency = excluded.currency,
                product_count = excluded.product_count, imported_at = excluded.imported_at",
        )
        .bind(catalog.currency.to_string())
        .bind(catalog.products.len() as i64)
        .bind(OffsetDateTime::now_utc())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(summary)
    }

    async fn catalog_imported_at(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        Ok(sqlx::query_scalar("SELECT imported_at FROM catalog_meta WHERE id = 1")
            .fetch_optional(&self.reader)
            .await?)
    }

    async fn catalog(&self) -> Result<Option<Catalog>, StoreError> {
        let Some(currency): Option<String> =
            sqlx::query_scalar("SELECT currency FROM catalog_meta WHERE id = 1")
                .fetch_optional(&self.reader)
                .await?
        else {
            return Ok(None);
        };
        let currency = Currency::parse(&currency)
            .map_err(|e| StoreError::Corrupt(format!("catalog currency {currency:?}: {e}")))?;
        let products: Vec<Json<Product>> =
            sqlx::query_scalar("SELECT definition FROM products ORDER BY position")
                .fetch_all(&self.reader)
                .await?;
        Ok(Some(Catalog { currency, products: products.into_iter().map(|p| p.0).collect() }))
    }

    async fn stock_levels(&self) -> Result<StockLevels, StoreError> {
        let rows: Vec<(String, String, i64, i64)> =
            sqlx::query_as("SELECT sku, option_key, on_hand, reserved FROM stock_levels")
                .fetch_all(&self.reader)
                .await?;
        rows.into_iter()
            .map(|(sku, option_key, on_hand, reserved)| {
                Ok((stock_key_from_columns(&sku, &option_key)?, level(on_hand, reserved)?))
            })
            .collect()
    }

    async fn create_conversation(&self, new: &NewConversation) -> Result<(), StoreError> {
        self.create_conversation_impl(new).await
    }

    async fn list_conversations(
        &self,
        query: &ConversationQuery,
    ) -> Result<ConversationPage, StoreError> {
        self.list_conversations_impl(query).await
    }

    async fn audit_turns(&self, query: &AuditTurnQuery) -> Result<Vec<AuditTurnRow>, StoreError> {
        self.audit_turns_impl(query).await
    }

    async fn conversation(&self, id: &str) -> Result<Option<ConversationRow>, StoreError> {
        self.conversation_impl(id).await
    }

    async fn turns(&self, conversation_id: &str) -> Result<Vec<TurnRow>, StoreError> {
        self.turns_impl(conversation_id).await
    }

    async fn turn_response(
        &self,
        conversation_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        self.turn_response_impl(conversation_id, idempotency_key).await
    }

    async fn next_order_number(&self) -> Result<u64, StoreError> {
        self.next_order_number_impl().await
    }

    async fn record_turn(&self, turn: &TurnWrite) -> Result<(), StoreError> {
        self.turns.commit(turn.clone()).await
    }

    async fn order_events(&self, order_id: &str) -> Result<Vec<EventRow>, StoreError> {
        self.order_events_impl(order_id).await
    }

    async fn order_summary(&self, number: &str) -> Result<Option<OrderSummary>, StoreError> {
        self.order_summary_impl(number).await
    }

    async fn session_create(
        &self,
        id: &str,
        data: &serde_json::Value,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.session_create_impl(id, data, expires_at).await
    }

    async fn session_save(
        &self,
        id: &str,
        data: &serde_json::Value,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.session_save_impl(id, data, expires_at).await
    }

    async fn session_load(
        &self,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(serde_json::Value, OffsetDateTime)>, StoreError> {
        self.session_load_impl(id, now).await
    }

    async fn session_delete(&self, id: &str) -> Result<(), StoreError> {
        self.session_delete_impl(id).await
    }

    async fn delete_expired_sessions(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.delete_expired_sessions_impl(now).await
    }

    async fn metrics_snapshot(&self) -> Result<crate::MetricsSnapshot, StoreError> {
        async fn grouped(
            pool: &sqlx::Pool<sqlx::Sqlite>,
            sql: &str,
        ) -> Result<Vec<(String, u64)>, StoreError> {
            let rows: Vec<(String, i64)> = sqlx::query_as(sql).fetch_all(pool).await?;
            Ok(rows.into_iter().map(|(key, n)| (key, u64::try_from(n).unwrap_or(0))).collect())
        }
        let pool = &self.reader;
        let turns: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM chat_turns").fetch_one(pool).await?;
        Ok(crate::MetricsSnapshot {
            conversations_by_outcome: grouped(
                pool,
                "SELECT outcome, COUNT(*) FROM conversations GROUP BY outcome ORDER BY outcome",
            )
            .await?,
            orders_by_status: grouped(
                pool,
                "SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY status",
            )
            .await?,
            returns_by_status: grouped(
                pool,
                "SELECT status, COUNT(*) FROM returns GROUP BY status ORDER BY status",
            )
            .await?,
            chat_turns: u64::try_from(turns).unwrap_or(0),
        })
    }

    async fn write_probe(&self) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("INSERT INTO write_probe (note) VALUES (?)")
            .bind("probe")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn clear_write_probe(&self) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM write_probe").execute(&self.writer).await?.rows_affected())
    }

    async fn returnable_order(&self, number: &str) -> Result<Option<ReturnableOrder>, StoreError> {
        self.returnable_order_impl(number).await
    }

    async fn recent_returns(&self, email: &str, since: OffsetDateTime) -> Result<u32, StoreError> {
        self.recent_returns_impl(email, since).await
    }

    async fn create_return(&self, new: &NewReturn) -> Result<(), StoreError> {
        self.create_return_impl(new).await
    }

    async fn return_by_rma(&self, rma: &str) -> Result<Option<ReturnRow>, StoreError> {
        self.return_by_rma_impl(rma).await
    }

    async fn update_return(&self, update: &ReturnUpdate) -> Result<(), StoreError> {
        self.update_return_impl(update).await
    }

    async fn list_returns(
        &self,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ReturnListRow>, StoreError> {
        self.list_returns_impl(status, limit).await
    }

    async fn completed_return_events(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<Vec<ReturnEventRow>>, StoreError> {
        self.completed_return_events_impl(from, to).await
    }

    async fn mark_delivered(
        &self,
        order_number: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.mark_delivered_impl(order_number, at).await
    }

    async fn create_staff(&self, new: &NewStaff) -> Result<bool, StoreError> {
        self.create_staff_impl(new).await
    }

    async fn staff_by_email(&self, email: &str) -> Result<Option<StaffRow>, StoreError> {
        self.staff_by_email_impl(email).await
    }

    async fn staff_by_id(&self, id: &str) -> Result<Option<StaffRow>, StoreError> {
        self.staff_by_id_impl(id).await
    }

    async fn add_staff_reply(&self, reply: &StaffReplyWrite) -> Result<bool, StoreError> {
        self.add_staff_reply_impl(reply).await
    }

    async fn staff_replies(&self, conversation_id: &str) -> Result<Vec<StaffReplyRow>, StoreError> {
        self.staff_replies_impl(conversation_id).await
    }

    async fn handoff_queue(&self, limit: u32) -> Result<Vec<HandoffRow>, StoreError> {
        self.handoff_queue_impl(limit).await
    }

    async fn conversation_facts(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<ConversationFactRow>, StoreError> {
        self.conversation_facts_impl(from, to).await
    }

    async fn return_facts(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<ReturnFactRow>, StoreError> {
        self.return_facts_impl(from, to).await
    }

    async fn create_api_key(&self, new: &NewApiKey) -> Result<bool, StoreError> {
        self.create_api_key_impl(new).await
    }

    async fn api_keys(&self) -> Result<Vec<ApiKeyRow>, StoreError> {
        self.api_keys_impl().await
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKeyRow>, StoreError> {
        self.api_key_by_hash_impl(key_hash).await
    }

    async fn revoke_api_key(
        &self,
        name_or_id: &str,
        at: OffsetDateTime,
    ) -> Result<Vec<ApiKeyRow>, StoreError> {
        self.revoke_api_key_impl(name_or_id, at).await
    }

    async fn record_payment_event(&self, write: &PaymentEventWrite) -> Result<bool, StoreError> {
        self.record_payment_event_impl(write).await
    }

    async fn payment_followups(
        &self,
        expired_before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        self.payment_followups_impl(expired_before, limit).await
    }

    async fn record_fulfilment(&self, write: &FulfilmentWrite) -> Result<(), StoreError> {
        self.record_fulfilment_impl(write).await
    }

    async fn fulfilment_response(
        &self,
        api_key_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<StoredFulfilment>, StoreError> {
        self.fulfilment_response_impl(api_key_id, idempotency_key).await
    }

    async fn order_fulfilment_facts(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<OrderFulfilmentFactRow>, StoreError> {
        self.order_fulfilment_facts_impl(from, to).await
    }

    async fn create_acp_session(&self, new: &NewAcpSession) -> Result<(), StoreError> {
        self.create_acp_session_impl(new).await
    }

    async fn acp_session(&self, id: &str) -> Result<Option<AcpSessionRow>, StoreError> {
        self.acp_session_impl(id).await
    }

    async fn cancel_acp_session(&self, id: &str, at: OffsetDateTime) -> Result<bool, StoreError> {
        self.cancel_acp_session_impl(id, at).await
    }

    async fn claim_acp_request(&self, claim: &AcpRequestClaim) -> Result<AcpClaim, StoreError> {
        self.claim_acp_request_impl(claim).await
    }

    async fn finish_acp_request(
        &self,
        api_key_id: &str,
        idempotency_key: &str,
        status: u16,
        response: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.finish_acp_request_impl(api_key_id, idempotency_key, status, response).await
    }

    async fn release_acp_request(
        &self,
        api_key_id: &str,
        idempotency_key: &str,
    ) -> Result<(), StoreError> {
        self.release_acp_request_impl(api_key_id, idempotency_key).await
    }
}
