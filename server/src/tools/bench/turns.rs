//! `gapless bench-turns`: chat turns per second and turn latency against a running
//! Gapless, through its JSON API over HTTP keep-alive, as a channel would send them.
//! Each worker runs one short conversation after another, each a few edits of a draft
//! (never confirming, so stock is untouched), as shoppers do. It is a Rust client so
//! that the client's own cost (it shares the machine with the server) stays small
//! beside the turn's: node's `fetch` cost about as much as the turn itself.
//!
//! Start the server with its rate limits raised, as `scripts/load.sh` does.

use std::{
    fmt,
    time::{Duration, Instant},
};

use anyhow::{bail, Context};
use serde::Deserialize;

use super::Latencies;

/// The conversation each worker repeats: draft, edits, and back to an empty draft.
pub const SCRIPT: [&str; 7] = [
    "two black tees in m and a trail bottle",
    "make that 3",
    "add a diet coke",
    "remove the diet coke",
    "change the tee to large",
    "remove the tee",
    "remove the trail bottle",
];

#[derive(Debug, clap::Args)]
pub struct BenchTurnsArgs {
    /// The running server.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    pub base: String,
    /// Concurrent shoppers, each with a connection of its own.
    #[arg(long, default_value_t = 8)]
    pub workers: usize,
    /// How long to send turns.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
}

/// Chat turns and their latencies.
pub struct Report(pub Latencies);

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.describe("turns", "turns/s"))
    }
}

#[derive(Deserialize)]
struct Started {
    id: String,
}

pub async fn run(args: &BenchTurnsArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(
        args.seconds > 0.0 && args.seconds.is_finite(),
        "--seconds must be a positive number"
    );
    let workers = args.workers.max(1);
    let base = args.base.trim_end_matches('/').to_owned();
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.seconds);
    let tasks = (0..workers)
        .map(|_| {
            let base = base.clone();
            tokio::spawn(async move { shopper(&base, deadline).await })
        })
        .collect::<Vec<_>>();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.context("a shopper task failed")??);
    }
    Latencies::of(latencies, started.elapsed(), workers)
        .map(Report)
        .with_context(|| format!("no turn finished in {} s", args.seconds))
}

/// One shopper on a connection of its own (a client each: reqwest's pool would
/// otherwise share connections between workers), until the deadline.
async fn shopper(base: &str, deadline: Instant) -> anyhow::Result<Vec<Duration>> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(1)
        .build()
        .context("building the HTTP client")?;
    let mut latencies = Vec::new();
    let mut conversation = String::new();
    for (i, text) in SCRIPT.iter().cycle().enumerate() {
        if Instant::now() >= deadline {
            break;
        }
        if i % SCRIPT.len() == 0 {
            let body = post(&client, &format!("{base}/api/v1/conversations"), None).await?;
            conversation = serde_json::from_slice::<Started>(&body)
                .context("reading the new conversation's id")?
                .id;
        }
        let message = serde_json::json!({ "text": text }).to_string();
        let url = format!("{base}/api/v1/conversations/{conversation}/messages");
        let start = Instant::now();
        post(&client, &url, Some(message)).await?;
        latencies.push(start.elapsed());
    }
    Ok(latencies)
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    body: Option<String>,
) -> anyhow::Result<Vec<u8>> {
    let mut request = client.post(url).header("content-type", "application/json");
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let body = response.bytes().await.with_context(|| format!("reading the answer of {url}"))?;
    if !status.is_success() {
        bail!("POST {url}: {status} {}", String::from_utf8_lossy(&body));
    }
    Ok(body.to_vec())
}
