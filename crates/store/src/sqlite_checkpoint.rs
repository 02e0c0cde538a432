//! SQLite: WAL checkpoints on a thread of their own. By default the connection that
//! commits copies the WAL back into the database file once it passes 1,000 pages, inside
//! that commit; the chat's committer is the serial part of every turn, so a turn whose
//! commit drew the checkpoint waited for all of it. Here a thread of our own runs a
//! passive checkpoint every [`EVERY`] on a connection of its own: it copies what no
//! reader still needs while the committer goes on committing. The writer keeps a
//! checkpoint of its own, at [`BACKSTOP_PAGES`], for when this thread falls behind.
//!
//! Durability is unchanged: a commit is durable once its WAL frames are synced, which
//! the committer still does for every commit; a checkpoint only moves synced pages.

use std::{
    path::PathBuf,
    sync::mpsc::{self, RecvTimeoutError},
    time::Duration,
};

use rusqlite::{Connection, OpenFlags};

use crate::StoreError;

/// How often the thread checkpoints.
const EVERY: Duration = Duration::from_millis(50);

/// The writer's own checkpoint threshold (`wal_autocheckpoint`), in pages: high enough
/// that it stays the thread's work under load, low enough to bound the WAL if the thread
/// stops.
pub(crate) const BACKSTOP_PAGES: u32 = 8_000;

/// Stops the thread when the last store clone drops it.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    _stop: mpsc::Sender<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path` (a file in WAL mode).
    pub(crate) fn start(path: PathBuf) -> Result<Self, StoreError> {
        let db = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(crate::sqlite_writes::sqlite_error)?;
        db.busy_timeout(Duration::from_secs(5)).map_err(crate::sqlite_writes::sqlite_error)?;
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("gapless-checkpoint".into())
            .spawn(move || {
                // Ends when the store is gone (nothing is ever sent).
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                    if let Err(error) = checkpoint(&db) {
                        tracing::warn!(%error, "a background WAL checkpoint failed");
                    }
                }
            })
            .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        Ok(Checkpointer { _stop: stop })
    }
}

/// One passive checkpoint: copies the frames no reader needs, never waits for a writer
/// or a reader.
fn checkpoint(db: &Connection) -> rusqlite::Result<()> {
    db.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use rusqlite::{Connection, OpenFlags};
    use time::OffsetDateTime;

    use crate::{ChatStore, NewConversation, SqliteDurability, SqliteStore, Store};

    /// What the database file itself holds, ignoring the WAL (`immutable`): only what a
    /// checkpoint copied there.
    fn conversations_in_the_file(path: &std::path::Path) -> Option<i64> {
        let uri = format!("file:{}?immutable=1", path.display());
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI;
        let db = Connection::open_with_flags(uri, flags).ok()?;
        db.query_row("SELECT COUNT(*) FROM conversations", [], |row| row.get(0)).ok()
    }

    /// The writer alone would leave these few commits in the WAL (it checkpoints only
    /// past `BACKSTOP_PAGES`); the thread copies them into the file within moments.
    #[tokio::test]
    async fn commits_reach_the_database_file_without_the_writer_checkpointing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.db");
        let url = format!("sqlite://{}", path.display());
        let store = SqliteStore::connect(&url, SqliteDurability::Full).await.unwrap();
        store.migrate().await.unwrap();
        for i in 0..20 {
            let new = NewConversation {
                id: format!("c{i}"),
                channel: "api".into(),
                started_at: OffsetDateTime::now_utc(),
            };
            store.create_conversation(&new).await.unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = conversations_in_the_file(&path);
        while seen != Some(20) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
            seen = conversations_in_the_file(&path);
        }
        assert_eq!(seen, Some(20), "the file holds {seen:?} of 20 conversations");
        // The WAL is still the writer's: a later commit is read back as usual.
        let new = NewConversation {
            id: "late".into(),
            channel: "api".into(),
            started_at: OffsetDateTime::now_utc(),
        };
        store.create_conversation(&new).await.unwrap();
        assert!(store.conversation("late").await.unwrap().is_some());
    }
}
