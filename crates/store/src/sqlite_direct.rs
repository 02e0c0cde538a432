//! SQLite: the reads every chat turn makes (its conversation, its order's snapshot, the
//! stock levels), run on connections of our own on the calling thread instead of through
//! sqlx's pool. Each sqlx statement is a hand-off to the connection's worker thread and
//! back; these reads are point lookups that take microseconds, so the hand-offs were
//! most of their cost. A read runs on the calling thread: keep these to small reads.
//!
//! The connections are opened on first use (query-only, the store's busy timeout), kept
//! idle up to [`IDLE`] for the next read, each with its prepared statements. A database
//! that lives in memory has no file to open a second connection on: there a read locks
//! one of sqlx's pooled connections and runs the same statements on its handle.

use std::{path::PathBuf, sync::Mutex, time::Duration};

use rusqlite::{Connection, OpenFlags};
use sqlx::SqlitePool;

use crate::{
    sqlite_writes::{once_on_handle, sqlite_error},
    StoreError,
};

/// Connections kept for the next read; more than this are closed after their read.
const IDLE: usize = 8;

#[derive(Debug)]
pub(crate) struct DirectReads {
    /// `None` for a database in memory.
    path: Option<PathBuf>,
    idle: Mutex<Vec<Connection>>,
    fallback: SqlitePool,
}

impl DirectReads {
    /// `path`: the database's file, `None` for a database in memory.
    pub(crate) fn new(path: Option<PathBuf>, fallback: SqlitePool) -> Self {
        DirectReads { path, idle: Mutex::new(Vec::new()), fallback }
    }

    /// Runs `work` on a connection that sees every committed write.
    pub(crate) async fn read<T>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let Some(path) = &self.path else {
            let mut connection = self.fallback.acquire().await?;
            return once_on_handle(&mut connection, work).await;
        };
        let kept = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let connection = match kept {
            Some(connection) => connection,
            None => open(path)?,
        };
        let result = work(&connection);
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < IDLE {
            idle.push(connection);
        }
        result
    }
}

fn open(path: &PathBuf) -> Result<Connection, StoreError> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_error)?;
    connection.busy_timeout(Duration::from_secs(5)).map_err(sqlite_error)?;
    connection.pragma_update(None, "query_only", true).map_err(sqlite_error)?;
    connection.pragma_update(None, "temp_store", "memory").map_err(sqlite_error)?;
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use crate::{CatalogStore, ChatStore, NewConversation, SqliteDurability, SqliteStore, Store};

    /// sqlx names an in-memory database as a URI: the turn's reads must still find what
    /// was written (on a locked pooled connection, there being no file to open).
    #[tokio::test]
    async fn an_in_memory_database_reads_what_it_wrote() {
        let store = SqliteStore::connect("sqlite::memory:", SqliteDurability::Full).await.unwrap();
        assert!(store.direct.path.is_none(), "{:?}", store.direct.path);
        store.migrate().await.unwrap();
        let new = NewConversation {
            id: "c1".into(),
            channel: "api".into(),
            started_at: OffsetDateTime::now_utc(),
        };
        store.create_conversation(&new).await.unwrap();
        let read = store.conversation("c1").await.unwrap().expect("the conversation");
        assert_eq!((read.id.as_str(), read.turn_count), ("c1", 0));
        assert!(store.stock_levels().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_file_database_reads_on_its_own_connections() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let store = SqliteStore::connect(&url, SqliteDurability::Full).await.unwrap();
        assert_eq!(store.direct.path.as_deref(), Some(dir.path().join("g.db").as_path()));
        store.migrate().await.unwrap();
        assert!(store.conversation("none").await.unwrap().is_none());
    }
}
