//! Group commit for chat turns on SQLite. Every commit costs an fsync (`synchronous =
//! FULL`), and there is one writer: turns that arrive while a commit is in flight wait in
//! a queue, and the next commit takes all of them in one transaction, each inside its
//! own savepoint, all written on the writer's SQLite handle in one go (see
//! `sqlite_writes`). A turn that fails (a stale version, stock gone, a replayed key) rolls
//! back to its savepoint alone; the others still commit. No caller hears "done" before
//! the shared commit returned, so an acknowledged turn is as durable as before.

use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use crate::{
    records::TurnWrite,
    sqlite_writes::{self, on_handle, sqlite_error, KeptStatements},
    StoreError,
};

/// Most turns one commit takes: bounds the time a transaction holds the writer.
const MAX_BATCH: usize = 64;
/// Turns that may wait for a commit; beyond this, callers wait to enqueue.
const QUEUE: usize = 1024;

struct Job {
    turn: TurnWrite,
    done: oneshot::Sender<Result<(), StoreError>>,
}

#[derive(Clone)]
pub(crate) struct TurnCommitter {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for TurnCommitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnCommitter").finish_non_exhaustive()
    }
}

impl TurnCommitter {
    /// Starts the committing task; it ends when the last store clone is dropped.
    pub(crate) fn start(writer: SqlitePool) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(commit_loop(writer, queue));
        TurnCommitter { jobs }
    }

    pub(crate) async fn commit(&self, turn: TurnWrite) -> Result<(), StoreError> {
        let (done, answer) = oneshot::channel();
        self.jobs.send(Job { turn, done }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Database(sqlx::Error::PoolClosed)
}

async fn commit_loop(writer: SqlitePool, mut queue: mpsc::Receiver<Job>) {
    let mut kept = KeptStatements::default();
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let jobs = std::mem::take(&mut batch);
        match commit_together(&writer, &mut kept, &jobs).await {
            Ok(outcomes) => {
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    let _ = job.done.send(outcome);
                }
            }
            // The shared transaction itself failed (not one turn's rules): nothing of
            // it was committed, so give each turn a transaction of its own and its own
            // answer.
            Err(error) => {
                tracing::warn!(%error, turns = jobs.len(), "a group commit failed; committing turns one by one");
                for job in jobs {
                    let outcome = commit_alone(&writer, &mut kept, &job.turn).await;
                    let _ = job.done.send(outcome);
                }
            }
        }
    }
    // The store is gone: the kept statements are finalized while the handle is locked,
    // before the pool (held here) may close the connection.
    if let Ok(mut connection) = writer.acquire().await {
        if let Ok(handle) = connection.lock_handle().await {
            drop(kept);
            drop(handle);
        }
    }
}

async fn commit_together(
    writer: &SqlitePool,
    kept: &mut KeptStatements,
    jobs: &[Job],
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    // Alone in the queue (low load): no savepoint needed, two round trips saved.
    if let [job] = jobs {
        return match commit_alone(writer, kept, &job.turn).await {
            Err(error @ (StoreError::Database(_) | StoreError::Migrate(_))) => Err(error),
            outcome => Ok(vec![outcome]),
        };
    }
    let mut tx = writer.begin().await?;
    // The turns' statements run on this thread (see `sqlite_writes`): many turns take a
    // while, so the runtime moves its other tasks off it meanwhile.
    let outcomes = on_handle(&mut tx, kept, |db| {
        blocking(|| jobs.iter().map(|job| write_in_savepoint(db, &job.turn)).collect())
    })
    .await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// One turn of a shared transaction: its rows, or none of them when its rules refuse
/// it (a stale version, stock gone, a replayed key). A database failure fails them all.
fn write_in_savepoint(
    db: &rusqlite::Connection,
    turn: &TurnWrite,
) -> Result<Result<(), StoreError>, StoreError> {
    let run =
        |sql: &str| db.prepare_cached(sql).and_then(|mut s| s.execute([])).map_err(sqlite_error);
    run("SAVEPOINT turn")?;
    match sqlite_writes::write_turn(db, turn) {
        Ok(()) => {
            run("RELEASE turn")?;
            Ok(Ok(()))
        }
        Err(error @ (StoreError::Database(_) | StoreError::Migrate(_))) => Err(error),
        Err(refused) => {
            run("ROLLBACK TO turn")?;
            run("RELEASE turn")?;
            Ok(Err(refused))
        }
    }
}

/// `work` where it may block for a while: on the multi-threaded runtime (the server's)
/// the runtime hands this thread's other tasks to another; elsewhere (a test's runtime)
/// it simply runs.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

async fn commit_alone(
    writer: &SqlitePool,
    kept: &mut KeptStatements,
    turn: &TurnWrite,
) -> Result<(), StoreError> {
    let mut tx = writer.begin().await?;
    on_handle(&mut tx, kept, |db| sqlite_writes::write_turn(db, turn)).await?;
    tx.commit().await?;
    Ok(())
}
