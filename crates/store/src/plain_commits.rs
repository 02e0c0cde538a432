//! SQLite's own commit rate on a file, without this crate in the way: one thread, one
//! connection, prepared statements, `synchronous = FULL` like the store's default. This
//! is the ceiling chat turns are measured against (`gapless bench-writes --plain`):
//! sqlx's SQLite driver hands every statement to a worker thread, so a loop through it
//! understates what the disk can do.

use std::{
    str::FromStr,
    time::{Duration, Instant},
};

use sqlx::sqlite::SqliteConnectOptions;

use crate::StoreError;

/// What the loop committed.
#[derive(Debug, Clone, Copy)]
pub struct PlainCommits {
    pub transactions: u64,
    pub rows: u64,
    pub elapsed: Duration,
}

impl PlainCommits {
    pub fn transactions_per_second(&self) -> f64 {
        self.transactions as f64 / self.elapsed.as_secs_f64()
    }

    pub fn rows_per_second(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64()
    }
}

/// Commits transactions of `rows_per_transaction` one-row inserts into `write_probe` of
/// the SQLite database at `url` (migrated) for `seconds`, then deletes what it wrote.
/// Blocking: run it on a thread of its own.
pub fn plain_commit_rate(
    url: &str,
    seconds: f64,
    rows_per_transaction: u64,
) -> Result<PlainCommits, StoreError> {
    let path = SqliteConnectOptions::from_str(url)?.get_filename().to_owned();
    let connection = rusqlite::Connection::open(&path).map_err(plain_error)?;
    connection.busy_timeout(Duration::from_secs(5)).map_err(plain_error)?;
    connection.pragma_update(None, "synchronous", "FULL").map_err(plain_error)?;
    // The store made the file WAL (it stays so); the loop must measure the same mode.
    let mode: String = connection
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .map_err(plain_error)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!(
            "{} is not in WAL mode but {mode}",
            path.display()
        )));
    }
    let rows_per_transaction = rows_per_transaction.max(1);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut transactions = 0;
    {
        let mut begin = connection.prepare("BEGIN").map_err(plain_error)?;
        let mut insert = connection
            .prepare("INSERT INTO write_probe (note) VALUES ('plain')")
            .map_err(plain_error)?;
        let mut commit = connection.prepare("COMMIT").map_err(plain_error)?;
        while Instant::now() < deadline {
            begin.execute([]).map_err(plain_error)?;
            for _ in 0..rows_per_transaction {
                insert.execute([]).map_err(plain_error)?;
            }
            commit.execute([]).map_err(plain_error)?;
            transactions += 1;
        }
    }
    let elapsed = started.elapsed();
    connection.execute("DELETE FROM write_probe WHERE note = 'plain'", []).map_err(plain_error)?;
    Ok(PlainCommits { transactions, rows: transactions * rows_per_transaction, elapsed })
}

fn plain_error(error: rusqlite::Error) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(format!("plain SQLite loop: {error}")))
}
