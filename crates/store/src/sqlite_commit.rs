//! Group commit for the chat's writes on SQLite: turns, new conversations and order
//! numbers. Every commit costs an fsync (`synchronous = FULL`), and there is one writer:
//! writes that arrive while a commit is in flight wait in a queue, and the next commit
//! takes all of them in one transaction, each inside its own savepoint, all run on the
//! writer's SQLite handle in one go (see `sqlite_writes`): one hand-off to sqlx's
//! connection thread per commit, not one per statement. A turn that fails (a stale
//! version, stock gone, a replayed key) rolls back to its savepoint alone; the others
//! still commit. No caller hears "done" before the shared commit returned, so an
//! acknowledged write is as durable as one committed alone.
//!
//! Other writes that come often join these commits too ([`ChatCommitter::run`]): the
//! webhook worker's claims and records (`sqlite_webhooks`). Through the pool they took
//! the one writer away from the turns between commits, and each paid a commit of its own.

use std::{
    any::Any,
    panic::AssertUnwindSafe,
    time::{Duration, Instant},
};

use sqlx::{sqlite::LockedSqliteHandle, SqlitePool};
use tokio::{
    runtime::Handle,
    sync::{mpsc, oneshot},
};

use crate::{
    records::{NewConversation, TurnWrite},
    sqlite_search::{index_pending, INDEX_CHUNK, INDEX_EVERY},
    sqlite_sessions::sortable,
    sqlite_writes::{self, on_handle, once_on_locked, sqlite_error, KeptStatements, TurnText},
    StoreError,
};

/// Most writes one commit takes: bounds the time a transaction holds the writer.
const MAX_BATCH: usize = 64;
/// Writes that may wait for a commit; beyond this, callers wait to enqueue.
const QUEUE: usize = 1024;

/// What the chat asks the committer to write.
enum Write {
    /// With its JSON rendered by the caller (off the committer's thread).
    Turn(Box<(TurnWrite, TurnText)>),
    Conversation(NewConversation),
    /// The next order number (its row is the sequence).
    OrderNumber,
    /// Statements of another part of the store, with what they read back.
    Run(Work),
}

/// Statements run in a shared commit: `Fn`, since after a failed group commit each
/// write runs again alone (the failed run left nothing behind).
type Work =
    Box<dyn Fn(&rusqlite::Connection) -> Result<Box<dyn Any + Send>, StoreError> + Send + Sync>;

/// What a write gave back once committed.
enum Written {
    Done,
    OrderNumber(u64),
    Value(Box<dyn Any + Send>),
}

struct Job {
    write: Write,
    done: oneshot::Sender<Answer>,
}

/// A write's outcome, and the write itself: handed back so that its values (a turn's
/// JSON trees, a closure's rows) are freed on the caller's thread. Freeing them on the
/// committer's took a few percent of the serial part of every turn, and held up the
/// answers to the writes after it.
type Answer = (Result<Written, StoreError>, Write);

impl Job {
    fn answer(self, outcome: Result<Written, StoreError>) {
        // A caller that stopped waiting leaves the write to be freed here.
        let _ = self.done.send((outcome, self.write));
    }
}

#[derive(Clone)]
pub(crate) struct ChatCommitter {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for ChatCommitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatCommitter").finish_non_exhaustive()
    }
}

impl ChatCommitter {
    /// Starts the committing thread; it ends when the last store clone is dropped.
    /// A thread of its own, not a task: it blocks on SQL and the commit's fsync, and a
    /// task would wait behind the requests for a turn on the runtime's threads between
    /// commits, while every waiting turn waits for it.
    pub(crate) fn start(writer: SqlitePool) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let runtime = tokio::runtime::Handle::current();
        std::thread::Builder::new()
            .name("gapless-commit".into())
            .spawn(move || commit_loop(&runtime, &writer, queue))
            .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        Ok(ChatCommitter { jobs })
    }

    pub(crate) async fn turn(&self, turn: &TurnWrite) -> Result<(), StoreError> {
        let text = TurnText::of(turn)?;
        let rows = sqlite_writes::rows_of(turn);
        self.commit(Write::Turn(Box::new((rows, text)))).await.map(drop)
    }

    pub(crate) async fn conversation(&self, new: NewConversation) -> Result<(), StoreError> {
        self.commit(Write::Conversation(new)).await.map(drop)
    }

    pub(crate) async fn order_number(&self) -> Result<u64, StoreError> {
        match self.commit(Write::OrderNumber).await? {
            Written::OrderNumber(n) => Ok(n),
            _ => Err(StoreError::Corrupt("no order number was taken".into())),
        }
    }

    /// Runs `work` in the next commit, in a savepoint of its own, and answers what it
    /// returned once that commit is durable. An error of SQLite fails the shared commit
    /// (and each write then runs again alone); any other error rolls back `work` alone.
    /// `work` runs on the committer's thread while every turn waits for it: a few
    /// prepared statements, nothing that waits on anything but SQLite.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl Fn(&rusqlite::Connection) -> Result<T, StoreError> + Send + Sync + 'static,
    ) -> Result<T, StoreError> {
        let work: Work =
            Box::new(move |db| work(db).map(|value| Box::new(value) as Box<dyn Any + Send>));
        match self.commit(Write::Run(work)).await? {
            Written::Value(value) => value
                .downcast::<T>()
                .map(|value| *value)
                .map_err(|_| StoreError::Corrupt("a commit answered another write's value".into())),
            _ => Err(StoreError::Corrupt("a commit answered another write's value".into())),
        }
    }

    async fn commit(&self, write: Write) -> Result<Written, StoreError> {
        let (done, answer) = oneshot::channel();
        self.jobs.send(Job { write, done }).await.map_err(|_| stopped())?;
        let (outcome, write) = answer.await.map_err(|_| stopped())?;
        drop(write);
        outcome
    }
}

fn stopped() -> StoreError {
    StoreError::Database(sqlx::Error::PoolClosed)
}

fn commit_loop(runtime: &Handle, writer: &SqlitePool, mut queue: mpsc::Receiver<Job>) {
    // sqlx returns a pooled connection with a task spawned on the current runtime.
    let _context = runtime.enter();
    let mut kept = KeptStatements::default();
    let mut indexed_at = Instant::now();
    // Nothing waiting: the writer is with the pool, for the other writers, until the
    // next write comes.
    while let Some(first) = queue.blocking_recv() {
        let mut connection = match runtime.block_on(writer.acquire()) {
            Ok(connection) => connection,
            Err(error) => {
                refuse(first, StoreError::from(error));
                continue;
            }
        };
        let mut handle = match runtime.block_on(connection.lock_handle()) {
            Ok(handle) => handle,
            Err(error) => {
                refuse(first, StoreError::from(error));
                continue;
            }
        };
        // The writer stays taken, and its handle locked, from one commit to the next
        // while writes keep coming, up to HOLD: taking it back from the pool goes
        // through a task on the runtime and the handle's lock through sqlx's
        // connection thread, and each waits behind the requests there.
        let since = Instant::now();
        let mut next = Some(first);
        while let Some(first) = next.take() {
            let mut jobs = Vec::with_capacity(MAX_BATCH + 1);
            jobs.push(first);
            while jobs.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            if indexed_at.elapsed() >= INDEX_EVERY {
                indexed_at = Instant::now();
                jobs.push(index_search());
            }
            if !commit_batch(&mut handle, &mut kept, jobs) {
                break;
            }
            if since.elapsed() > HOLD {
                break;
            }
            next = queue.try_recv().ok();
        }
        drop(handle);
    }
    // Every store clone is gone: the kept statements are finalized under the writer's
    // lock before the pool (its last handle is `writer`) may close the connection.
    // `try_acquire` and `lock_handle` need no timer, so this works while the runtime
    // shuts down too; if the connection cannot be had, the statements and the pool are
    // left as they are (the process is ending), so that sqlx never closes a connection
    // that still has statements.
    match writer.try_acquire() {
        Some(mut connection) => match runtime.block_on(connection.lock_handle()) {
            Ok(mut handle) => kept.finalize(&mut handle),
            Err(_) => kept.abandon(),
        },
        None => {
            kept.abandon();
            std::mem::forget(writer.clone());
        }
    }
}

/// Commits `jobs` together and answers each; false when the handle is not to be used
/// again before it went back to the pool (a panic mid-transaction).
fn commit_batch(
    handle: &mut LockedSqliteHandle<'_>,
    kept: &mut KeptStatements,
    jobs: Vec<Job>,
) -> bool {
    let writes: Vec<&Write> = jobs.iter().map(|job| &job.write).collect();
    let outcomes =
        std::panic::catch_unwind(AssertUnwindSafe(|| commit_together(handle, kept, &writes)));
    match outcomes {
        Ok(Ok(outcomes)) => {
            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                job.answer(outcome);
            }
            true
        }
        // The shared transaction itself failed (not one write's rules): nothing of it
        // was committed, so give each write a transaction of its own and its own answer.
        Ok(Err(error)) => {
            tracing::warn!(%error, writes = jobs.len(), "a group commit failed; committing writes one by one");
            for job in jobs {
                let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    commit_together(handle, kept, &[&job.write])
                }));
                match outcome {
                    Ok(outcome) => {
                        let outcome = outcome
                            .and_then(|mut outcomes| outcomes.pop().ok_or_else(stopped))
                            .unwrap_or_else(Err);
                        job.answer(outcome);
                    }
                    Err(_) => {
                        roll_back(handle, kept);
                        job.answer(Err(panicked()));
                        return false;
                    }
                }
            }
            true
        }
        // A bug of ours mid-transaction: whatever it left open is rolled back, so that
        // the connection goes back to the pool clean, and each write gets an error
        // (none of them was committed).
        Err(_) => {
            tracing::error!(
                writes = jobs.len(),
                "the chat committer panicked; its transaction is rolled back"
            );
            roll_back(handle, kept);
            for job in jobs {
                job.answer(Err(panicked()));
            }
            false
        }
    }
}

/// The shopper's words of the turns since the last time, into the search index: a
/// write of the committer's own, in the commit it joins (see `sqlite_search`). If it
/// fails, its savepoint alone rolls back (an error other than the database's): the
/// turns beside it commit, and the next search or round tries again.
fn index_search() -> Job {
    let (done, _) = oneshot::channel();
    let write = Write::Run(Box::new(|db| {
        index_pending(db, INDEX_CHUNK)
            .map_err(|error| {
                tracing::warn!(%error, "cannot index the chat's words for search");
                StoreError::Corrupt(format!("the search index: {error}"))
            })
            .map(|indexed| Box::new(indexed) as Box<dyn Any + Send>)
    }));
    Job { write, done }
}

fn refuse(job: Job, error: StoreError) {
    tracing::warn!(%error, "the chat committer could not take the writer");
    job.answer(Err(error));
}

fn panicked() -> StoreError {
    StoreError::Database(sqlx::Error::Protocol("the chat committer failed".into()))
}

/// Longest the committer keeps the writer from the pool's other users (the webhook
/// worker, sessions, staff) while writes keep coming.
const HOLD: Duration = Duration::from_millis(20);

/// After a panic mid-transaction: rolls back what is open (nothing, if the panic came
/// before `BEGIN` or after `COMMIT`), and finalizes the kept statements, whose state is
/// unknown.
fn roll_back(handle: &mut LockedSqliteHandle<'_>, kept: &mut KeptStatements) {
    kept.finalize(handle);
    let _ = once_on_locked(handle, |db| {
        let _ = db.execute_batch("ROLLBACK");
        Ok(())
    });
}

/// Commits `writes` in one transaction, `BEGIN IMMEDIATE` to `COMMIT` on the writer's
/// handle: the outcome of each, or the error that failed the transaction (then nothing
/// of it was committed).
fn commit_together(
    handle: &mut LockedSqliteHandle<'_>,
    kept: &mut KeptStatements,
    writes: &[&Write],
) -> Result<Vec<Result<Written, StoreError>>, StoreError> {
    on_handle(handle, kept, |db| {
        let run = |sql: &str| {
            db.prepare_cached(sql).and_then(|mut s| s.execute([])).map_err(sqlite_error)
        };
        run("BEGIN IMMEDIATE")?;
        let written = match writes {
            // Alone (low load): no savepoint needed; refused, nothing to commit.
            [write] => match apply(db, write) {
                Err(error @ (StoreError::Database(_) | StoreError::Migrate(_))) => Err(error),
                Err(refused) => {
                    rollback(db);
                    return Ok(vec![Err(refused)]);
                }
                written => Ok(vec![written]),
            },
            _ => writes.iter().map(|write| apply_in_savepoint(db, write)).collect(),
        };
        match written {
            Ok(outcomes) => match run("COMMIT") {
                Ok(_) => Ok(outcomes),
                Err(error) => {
                    rollback(db);
                    Err(error)
                }
            },
            Err(error) => {
                rollback(db);
                Err(error)
            }
        }
    })
}

/// Ends a failed transaction; if even that fails, SQLite has already rolled it back
/// (the only way `ROLLBACK` fails is that no transaction is open).
fn rollback(db: &rusqlite::Connection) {
    if let Err(error) = db.execute_batch("ROLLBACK") {
        tracing::debug!(%error, "rollback after a failed group commit");
    }
}

/// One write of a shared transaction: its rows, or none of them when its rules refuse
/// it (a stale version, stock gone, a replayed key). A database failure fails them all.
fn apply_in_savepoint(
    db: &rusqlite::Connection,
    write: &Write,
) -> Result<Result<Written, StoreError>, StoreError> {
    let run =
        |sql: &str| db.prepare_cached(sql).and_then(|mut s| s.execute([])).map_err(sqlite_error);
    run("SAVEPOINT write")?;
    match apply(db, write) {
        Ok(written) => {
            run("RELEASE write")?;
            Ok(Ok(written))
        }
        Err(error @ (StoreError::Database(_) | StoreError::Migrate(_))) => Err(error),
        Err(refused) => {
            run("ROLLBACK TO write")?;
            run("RELEASE write")?;
            Ok(Err(refused))
        }
    }
}

fn apply(db: &rusqlite::Connection, write: &Write) -> Result<Written, StoreError> {
    match write {
        Write::Turn(turn) => {
            let (turn, text) = &**turn;
            sqlite_writes::write_turn(db, turn, text).map(|()| Written::Done)
        }
        Write::Conversation(new) => {
            let started_at = sortable(new.started_at)?;
            db.prepare_cached(
                "INSERT INTO conversations (id, channel, started_at, updated_at)
                 VALUES (?1, ?2, ?3, ?3)",
            )
            .and_then(|mut insert| {
                insert.execute(rusqlite::params![new.id, new.channel, started_at])
            })
            .map_err(sqlite_error)?;
            Ok(Written::Done)
        }
        Write::OrderNumber => {
            let n: i64 = db
                .prepare_cached("INSERT INTO order_numbers DEFAULT VALUES RETURNING n")
                .and_then(|mut insert| insert.query_row([], |row| row.get(0)))
                .map_err(sqlite_error)?;
            let n =
                u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("order number {n}")))?;
            Ok(Written::OrderNumber(n))
        }
        Write::Run(work) => work(db).map(Written::Value),
    }
}
