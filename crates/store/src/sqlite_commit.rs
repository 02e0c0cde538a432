//! Group commit for chat turns on SQLite. Every commit costs an fsync (`synchronous =
//! FULL`), and there is one writer: turns that arrive while a commit is in flight wait in
//! a queue, and the next commit takes all of them in one transaction, each inside its
//! own savepoint. A turn that fails (a stale version, stock gone, a replayed key) rolls
//! back to its savepoint alone; the others still commit. No caller hears "done" before
//! the shared commit returned, so an acknowledged turn is as durable as before.

use sqlx::{Acquire, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::{records::TurnWrite, sqlite_chat::write_turn, StoreError};

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
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let jobs = std::mem::take(&mut batch);
        match commit_together(&writer, &jobs).await {
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
                    let outcome = commit_alone(&writer, &job.turn).await;
                    let _ = job.done.send(outcome);
                }
            }
        }
    }
}

async fn commit_together(
    writer: &SqlitePool,
    jobs: &[Job],
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    // Alone in the queue (low load): no savepoint needed, two round trips saved.
    if let [job] = jobs {
        return match commit_alone(writer, &job.turn).await {
            Err(error @ (StoreError::Database(_) | StoreError::Migrate(_))) => Err(error),
            outcome => Ok(vec![outcome]),
        };
    }
    let mut tx = writer.begin().await?;
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        let mut savepoint = (&mut *tx).begin().await?;
        match write_turn(&mut savepoint, &job.turn).await {
            Ok(()) => {
                savepoint.commit().await?;
                outcomes.push(Ok(()));
            }
            Err(error @ (StoreError::Database(_) | StoreError::Migrate(_))) => return Err(error),
            Err(refused) => {
                savepoint.rollback().await?;
                outcomes.push(Err(refused));
            }
        }
    }
    tx.commit().await?;
    Ok(outcomes)
}

async fn commit_alone(writer: &SqlitePool, turn: &TurnWrite) -> Result<(), StoreError> {
    let mut tx = writer.begin().await?;
    write_turn(&mut tx, turn).await?;
    tx.commit().await?;
    Ok(())
}
