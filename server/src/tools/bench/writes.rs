//! `gapless bench-writes`: how many one-row insert transactions this database commits
//! per second, with as many concurrent writers as the chat load uses. A chat turn is one
//! transaction too (with more rows), so this rate is the ceiling turns are measured
//! against.

use std::{
    fmt,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use gapless_store::Store;

use super::Latencies;

#[derive(Debug, clap::Args)]
pub struct BenchWritesArgs {
    /// How long to write.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Concurrent writers (match the load script's workers).
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// SQLite only: SQLite's own rate instead, from a plain single-threaded loop on one
    /// connection (no pool, no async driver): the ceiling chat turns are measured
    /// against. `--workers` does not apply.
    #[arg(long)]
    pub plain: bool,
    /// With `--plain`: one-row inserts per transaction.
    #[arg(long, default_value_t = 1)]
    pub rows: u64,
}

/// One-row insert transactions and their latencies.
pub struct Report(pub Latencies);

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.describe("one-row insert transactions", "tx/s"))
    }
}

/// SQLite's plain single-threaded commit rate on the database at `url`.
pub async fn run_plain(url: &str, args: &BenchWritesArgs) -> anyhow::Result<String> {
    anyhow::ensure!(
        args.seconds > 0.0 && args.seconds.is_finite(),
        "--seconds must be a positive number"
    );
    anyhow::ensure!(url.starts_with("sqlite:"), "--plain measures SQLite files only");
    let (url, seconds, rows) = (url.to_owned(), args.seconds, args.rows.max(1));
    let rate = tokio::task::spawn_blocking(move || {
        gapless_store::plain_commits::plain_commit_rate(&url, seconds, rows)
    })
    .await
    .context("the plain loop's thread failed")?
    .context("the plain loop failed")?;
    Ok(format!(
        "plain single-threaded SQLite loop, {rows} row(s) a transaction: {} transactions in {:.1} s: {:.0} tx/s, {:.0} rows/s",
        rate.transactions,
        rate.elapsed.as_secs_f64(),
        rate.transactions_per_second(),
        rate.rows_per_second(),
    ))
}

pub async fn run(store: Arc<dyn Store>, args: &BenchWritesArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(
        args.seconds > 0.0 && args.seconds.is_finite(),
        "--seconds must be a positive number"
    );
    let workers = args.workers.max(1);
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.seconds);
    let tasks = (0..workers)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let start = Instant::now();
                    store.write_probe().await?;
                    latencies.push(start.elapsed());
                }
                Ok::<_, gapless_store::StoreError>(latencies)
            })
        })
        .collect::<Vec<_>>();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.context("a writer task failed")?.context("a write failed")?);
    }
    let elapsed = started.elapsed();
    store.clear_write_probe().await.context("emptying write_probe")?;
    Latencies::of(latencies, elapsed, workers)
        .map(Report)
        .with_context(|| format!("no transaction finished in {} s", args.seconds))
}
