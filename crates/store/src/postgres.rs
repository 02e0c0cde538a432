use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool,
};

use crate::{Backend, Store, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub(crate) pool: PgPool,
}

impl PostgresStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(PgConnectOptions::from_str(url)?).await
    }

    /// For tests that isolate themselves in a schema of their own.
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        Ok(PostgresStore { pool })
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn metrics_snapshot(&self) -> Result<crate::MetricsSnapshot, StoreError> {
        async fn grouped(
            pool: &sqlx::Pool<sqlx::Postgres>,
            sql: &str,
        ) -> Result<Vec<(String, u64)>, StoreError> {
            let rows: Vec<(String, i64)> = sqlx::query_as(sql).fetch_all(pool).await?;
            Ok(rows.into_iter().map(|(key, n)| (key, u64::try_from(n).unwrap_or(0))).collect())
        }
        let pool = &self.pool;
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
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO write_probe (note) VALUES ($1)")
            .bind("probe")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn clear_write_probe(&self) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM write_probe").execute(&self.pool).await?.rows_affected())
    }
}
