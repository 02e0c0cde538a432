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
use axum::http::{header, HeaderValue, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::{body::Bytes, client::conn::http1::SendRequest};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::net::TcpStream;

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

/// How long one request may take before the run fails.
const TIMEOUT: Duration = Duration::from_secs(30);

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
    let base = std::sync::Arc::new(Base::parse(&args.base)?);
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

/// One shopper on a connection of its own until the deadline: HTTP/1.1 keep-alive
/// straight on hyper, the connection driven in the same task as the requests. The
/// client shares the machine's cores with the server it measures, so it does as little
/// as it can: reqwest's pool, URL parsing, redirect and retry layers and its
/// connection task cost about an eighth of a turn's CPU here, taken from the server.
async fn shopper(base: &Base, deadline: Instant) -> anyhow::Result<Vec<Duration>> {
    let stream = TcpStream::connect(&base.address)
        .await
        .with_context(|| format!("connecting to {}", base.address))?;
    stream.set_nodelay(true).context("setting TCP_NODELAY")?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("starting HTTP/1.1")?;
    let requests = async {
        let mut latencies = Vec::new();
        let mut messages = String::new();
        for (i, text) in SCRIPT.iter().cycle().enumerate() {
            if Instant::now() >= deadline {
                break;
            }
            if i % SCRIPT.len() == 0 {
                let body = post(&mut sender, base, &base.start, None).await?;
                let id = serde_json::from_slice::<Started>(&body)
                    .context("reading the new conversation's id")?
                    .id;
                messages = format!("{}/api/v1/conversations/{id}/messages", base.path);
            }
            let message = serde_json::json!({ "text": text }).to_string();
            let start = Instant::now();
            post(&mut sender, base, &messages, Some(message)).await?;
            latencies.push(start.elapsed());
        }
        anyhow::Ok(latencies)
    };
    tokio::select! {
        latencies = requests => latencies,
        ended = connection => match ended {
            Ok(()) => bail!("the server closed the connection"),
            Err(error) => Err(error).context("the connection to the server failed"),
        },
    }
}

/// The server to measure: where to connect, and what requests name.
struct Base {
    /// `host:port`, as `TcpStream::connect` takes it.
    address: String,
    /// The Host header.
    host: HeaderValue,
    /// The base address's path, without its trailing slash (a shop under a prefix).
    path: String,
    /// Where conversations start.
    start: String,
}

impl Base {
    fn parse(base: &str) -> anyhow::Result<Self> {
        let uri: Uri =
            base.trim_end_matches('/').parse().with_context(|| format!("--base {base}"))?;
        if uri.scheme_str() != Some("http") {
            bail!(
                "--base {base}: bench-turns speaks plain HTTP to the server it measures \
                 (an http:// address, on the server's own machine or network)"
            );
        }
        let authority = uri.authority().with_context(|| format!("--base {base}: no host"))?;
        let address = format!("{}:{}", authority.host(), authority.port_u16().unwrap_or(80));
        let host = HeaderValue::from_str(authority.as_str())
            .with_context(|| format!("--base {base}: not a host name"))?;
        let path = uri.path().trim_end_matches('/').to_owned();
        let start = format!("{path}/api/v1/conversations");
        Ok(Base { address, host, path, start })
    }
}

async fn post(
    sender: &mut SendRequest<Full<Bytes>>,
    base: &Base,
    path: &str,
    body: Option<String>,
) -> anyhow::Result<Bytes> {
    let request = Request::post(path)
        .header(header::HOST, &base.host)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(body.map(Bytes::from).unwrap_or_default()))
        .with_context(|| format!("POST {path}"))?;
    let answered = async {
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok::<_, hyper::Error>((status, body))
    };
    let (status, body) = tokio::time::timeout(TIMEOUT, answered)
        .await
        .with_context(|| format!("POST {path}: no answer in {} s", TIMEOUT.as_secs()))?
        .with_context(|| format!("POST {path}"))?;
    if !status.is_success() {
        bail!("POST {path}: {status} {}", String::from_utf8_lossy(&body));
    }
    Ok(body)
}
