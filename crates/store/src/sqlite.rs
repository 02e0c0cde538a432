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

/// A new database's page size, half SQLite's default (a database keeps the size it was
/// made with). A commit writes every page it changed to the WAL whole and syncs it, and a
/// chat turn's group commit changes ~30 pages, most of them for a row or an index entry
/// of a few dozen bytes: half the size is nearly half the bytes written and synced
/// (~41 frames of 2 KiB a commit against ~33 of 4 KiB), and most turn rows (audit and
/// answer, ~1.8 KB on average) still fit a page; a longer one overflows onto a second.
/// Measured in the README (chat turns on stop 28's machine): server CPU a turn -4 %.
/// `bench-writes --plain` measures on the store's own file, so with the same size.
pub(crate) const PAGE_SIZE: u32 = 2048;

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
    /// The stock levels read last, with the stock's version they were read at (see
    /// `sqlite_catalog`'s `stock_levels`).
    pub(crate) stock: std::sync::Arc<std::sync::Mutex<Option<(i64, crate::StockLevels)>>>,
}

impl SqliteStore {
    pub async fn connect(url: &str, durability: SqliteDurability) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .page_size(PAGE_SIZE)
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
            stock: std::sync::Arc::default(),
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

#[cfg(test)]
mod tests {
    use sqlx::{Connection, SqliteConnection};

    use super::MIGRATOR;

    /// Runs the migrations before `version` (or only `version`) as plain SQL.
    async fn migrate(db: &mut SqliteConnection, only: Option<i64>, before: i64) {
        for migration in MIGRATOR.iter() {
            let run = match only {
                Some(version) => migration.version == version,
                None => migration.version < before,
            };
            if run {
                sqlx::raw_sql(&migration.sql).execute(&mut *db).await.unwrap();
            }
        }
    }

    /// 0021 rebuilds chat_turns: every turn stays, with its rowid (the search index's
    /// progress counts in them), and a key still cannot be used twice in a conversation,
    /// while turns without one no longer share its index.
    #[tokio::test]
    async fn rebuilding_the_turns_keeps_them_their_rowids_and_the_key_rule() {
        let mut db = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        migrate(&mut db, None, 21).await;
        sqlx::raw_sql(
            "INSERT INTO conversations (id, channel, started_at, updated_at)
                 VALUES ('c1', 'api', '2026-12-03T10:00:00.000000Z', '2026-12-03T10:00:00.000000Z');
             INSERT INTO chat_turns (rowid, id, conversation_id, seq, text, received_at,
                 idempotency_key, extractor, audit, reply, response)
             VALUES (7, 't1', 'c1', 1, 'two tees', '2026-12-03T10:00:01.000000Z', 'k1', 'rules',
                     '{}', 'Noted.', '{}'),
                    (9, 't2', 'c1', 2, 'and a kayak', '2026-12-03T10:00:02.000000Z', NULL,
                     'rules', '{}', 'Noted.', '{}');
             UPDATE chat_turns_indexed SET upto = 9;",
        )
        .execute(&mut db)
        .await
        .unwrap();
        migrate(&mut db, Some(21), 0).await;
        let rows: Vec<(i64, String, Option<String>)> =
            sqlx::query_as("SELECT rowid, id, idempotency_key FROM chat_turns ORDER BY rowid")
                .fetch_all(&mut db)
                .await
                .unwrap();
        assert_eq!(
            rows,
            [(7, "t1".into(), Some("k1".into())), (9, "t2".into(), None)],
            "the turns and their rowids"
        );
        let insert = |id: &str, seq: i64, key: Option<&str>| {
            sqlx::query(
                "INSERT INTO chat_turns (id, conversation_id, seq, text, received_at,
                     idempotency_key, extractor, audit, reply, response)
                 VALUES (?, 'c1', ?, 'more', '2026-12-03T10:00:03.000000Z', ?, 'rules', '{}',
                         'Noted.', '{}')",
            )
            .bind(id.to_owned())
            .bind(seq)
            .bind(key.map(str::to_owned))
        };
        let reused = insert("t3", 3, Some("k1")).execute(&mut db).await.unwrap_err();
        assert!(reused.to_string().contains("idempotency_key"), "{reused}");
        let taken = insert("t3", 2, None).execute(&mut db).await.unwrap_err();
        assert!(taken.to_string().contains("seq"), "{taken}");
        insert("t3", 3, None).execute(&mut db).await.unwrap();
        insert("t4", 4, Some("k2")).execute(&mut db).await.unwrap();
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(
            "EXPLAIN QUERY PLAN SELECT response FROM chat_turns
             WHERE conversation_id = 'c1' AND idempotency_key = 'k2'",
        )
        .fetch_all(&mut db)
        .await
        .unwrap();
        assert!(
            plan.iter().any(|(.., detail)| detail.contains("chat_turns_idempotency_key")),
            "a replay reads the key's index: {plan:?}"
        );
        // The dashboard's trigger on turns came back with the table: an earlier message
        // becomes the conversation's first.
        sqlx::query(
            "INSERT INTO chat_turns (id, conversation_id, seq, text, received_at, extractor,
                 audit, reply, response)
             VALUES ('t5', 'c1', 5, 'hello', '2026-12-03T09:59:59.000000Z', 'rules', '{}',
                     'Noted.', '{}')",
        )
        .execute(&mut db)
        .await
        .unwrap();
        let first: Option<String> = sqlx::query_scalar(
            "SELECT first_message_at FROM dashboard_conversations WHERE conversation_id = 'c1'",
        )
        .fetch_one(&mut db)
        .await
        .unwrap();
        assert_eq!(first.as_deref(), Some("2026-12-03T09:59:59.000000Z"));
    }

    /// 0022 rebuilds dashboard_conversations (as a rowid table) and order_lines
    /// (WITHOUT ROWID) by copying them out and back: every row stays, and the
    /// dashboard's triggers still count what changes.
    #[tokio::test]
    async fn rebuilding_the_rows_turns_write_keeps_them_and_their_triggers() {
        let mut db = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        migrate(&mut db, None, 22).await;
        let at = "2026-12-03T10:00:00.000000Z";
        sqlx::query(
            "INSERT INTO conversations (id, channel, started_at, updated_at)
                 VALUES ('c1', 'api', ?1, ?1);
             INSERT INTO orders (id, number, conversation_id, status, currency, subtotal,
                 shipping, total, version, created_at, updated_at)
                 VALUES ('o1', 'G-100001', 'c1', 'draft', 'USD', 500, 0, 500, 1, ?1, ?1);
             INSERT INTO order_lines (order_id, position, sku, name, quantity, choices,
                 unit_price, total)
                 VALUES ('o1', 0, 'TEE', 'tee', 2, '[]', 250, 500);
             UPDATE conversations SET turn_count = 1, order_id = 'o1' WHERE id = 'c1';",
        )
        .bind(at)
        .execute(&mut db)
        .await
        .unwrap();
        migrate(&mut db, Some(22), 0).await;

        let day = || {
            sqlx::query_as::<_, (i64, i64, i64)>(
                "SELECT conversations, turns, orders FROM dashboard_days WHERE day = '2026-12-03'",
            )
        };
        assert_eq!(day().fetch_one(&mut db).await.unwrap(), (1, 1, 1));
        let row: (String, i64, i64) =
            sqlx::query_as("SELECT conversation_id, turns, has_order FROM dashboard_conversations")
                .fetch_one(&mut db)
                .await
                .unwrap();
        assert_eq!(row, ("c1".to_owned(), 1, 1));
        let line: (String, i64, i64) =
            sqlx::query_as("SELECT sku, quantity, total FROM order_lines WHERE order_id = 'o1'")
                .fetch_one(&mut db)
                .await
                .unwrap();
        assert_eq!(line, ("TEE".to_owned(), 2, 500));
        let without_rowid = sqlx::query("SELECT rowid FROM order_lines").execute(&mut db).await;
        assert!(without_rowid.is_err(), "order_lines has no rowid after 0022");

        // The triggers came back with the table: a turn and a new conversation count.
        sqlx::query(
            "UPDATE conversations SET turn_count = 2 WHERE id = 'c1';
             INSERT INTO conversations (id, channel, started_at, updated_at)
                 VALUES ('c2', 'api', ?1, ?1);",
        )
        .bind(at)
        .execute(&mut db)
        .await
        .unwrap();
        assert_eq!(day().fetch_one(&mut db).await.unwrap(), (2, 2, 1));
        let taken = sqlx::query(
            "INSERT INTO dashboard_conversations (conversation_id, day) VALUES ('c1', '2026-12-03')",
        )
        .execute(&mut db)
        .await
        .unwrap_err();
        assert!(taken.to_string().contains("UNIQUE"), "{taken}");
    }

    #[tokio::test]
    async fn a_new_database_file_takes_the_smaller_pages() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let store = super::SqliteStore::connect(&url, super::SqliteDurability::Full).await.unwrap();
        let size: i64 =
            sqlx::query_scalar("PRAGMA page_size").fetch_one(&store.writer).await.unwrap();
        assert_eq!(size, i64::from(super::PAGE_SIZE));
    }
}
