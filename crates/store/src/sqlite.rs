use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    SqlitePool,
};

use crate::{
    sqlite_checkpoint::{Checkpointer, BACKSTOP_PAGES},
    sqlite_commit::ChatCommitter,
    sqlite_direct::DirectReads,
};
use crate::{Backend, Store, StoreError};

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
    /// The chat's writes: turns, new conversations, order numbers.
    pub(crate) chat: ChatCommitter,
    /// The chat turn's reads, off sqlx's threads.
    pub(crate) direct: std::sync::Arc<DirectReads>,
    /// WAL checkpoints off the committer's thread; none for a database in memory.
    _checkpointer: std::sync::Arc<Option<Checkpointer>>,
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
            // Statement journals and sorts in memory: on disk each is a file created
            // and unlinked (a turn's write made one every few turns).
            .pragma("temp_store", "memory")
            // Checkpoints are a thread's of their own (`sqlite_checkpoint`); a commit
            // checkpoints only when that thread has fallen this far behind.
            .pragma("wal_autocheckpoint", BACKSTOP_PAGES.to_string())
            .busy_timeout(Duration::from_secs(5));
        let path = options.get_filename().to_owned();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if path.to_str() != Some(":memory:") {
                std::fs::create_dir_all(parent).map_err(|e| {
                    StoreError::Database(sqlx::Error::Configuration(
                        format!("cannot create directory {}: {e}", parent.display()).into(),
                    ))
                })?;
            }
        }
        // One connection for the life of the store: the committer keeps statements
        // prepared on it (see `sqlite_writes::KeptStatements`), and a ping before each
        // use would be one more round trip to its thread.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        // No ping before each read either: a turn reads three times.
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        let chat = ChatCommitter::start(writer.clone())?;
        // The file SQLite really opened (sqlx names an in-memory database as a URI, and
        // a URL may carry other options): empty for a database in memory.
        let file: String =
            sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_one(&writer)
                .await?;
        let file = (!file.is_empty()).then(|| std::path::PathBuf::from(file));
        let checkpointer = file.clone().map(Checkpointer::start).transpose()?;
        let direct = std::sync::Arc::new(DirectReads::new(file, reader.clone()));
        Ok(SqliteStore {
            reader,
            writer,
            chat,
            direct,
            _checkpointer: std::sync::Arc::new(checkpointer),
        })
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
}
