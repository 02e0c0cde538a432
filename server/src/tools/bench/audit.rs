//! `gapless bench-audit`: how fast the staff console's conversation list answers with
//! many conversations (issue 5). Seeds DATABASE_URL up to `--conversations` through the
//! store (conversations with turns, a tenth with an order), then times each kind of
//! list query `--runs` times and reports the medians.
//!
//! Seeding goes through the same writes as chat turns, so it takes a while (minutes for
//! 100,000 on SQLite); a database seeded before is topped up, not seeded again. On
//! SQLite the seeding commits without fsync (`SqliteDurability::Normal`): the bench
//! measures reads, and a power cut mid-seed only costs a re-run.

use std::{
    fmt,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use gapless_domain::staff_metrics::{ConversationStatus, Outcome};
use gapless_store::{
    new_id, ConversationQuery, CustomerWrite, EventWrite, LineWrite, NewConversation,
    OrderProjection, OrderWrite, SqliteDurability, SqliteStore, Store, TurnWrite,
};
use serde_json::json;
use time::OffsetDateTime;

use crate::audit::ABANDONED_AFTER;

#[derive(Debug, clap::Args)]
pub struct BenchAuditArgs {
    /// How many conversations the database should hold.
    #[arg(long, default_value_t = 100_000)]
    pub conversations: u64,
    /// Timed runs per query.
    #[arg(long, default_value_t = 21)]
    pub runs: usize,
    /// Concurrent writers while seeding.
    #[arg(long, default_value_t = 16)]
    pub workers: usize,
}

/// What shoppers say in the seeded conversations: common words, and one in a thousand
/// conversations mentions a kayak (the rare word searched for).
const PHRASES: [&str; 8] = [
    "two black tees in M",
    "a trail bottle please",
    "do you have the hoodie in forest green?",
    "make that 3",
    "what sizes does the cap come in",
    "ship to 12 Main St, Springfield",
    "where is my order",
    "remove the socks",
];

pub struct Report {
    pub backend: &'static str,
    pub conversations: u64,
    pub seeded: u64,
    pub seed_time: Duration,
    pub rows: Vec<(String, usize, Duration, Duration)>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} conversations ({} seeded now in {:.1} s); medians of the list query:",
            self.backend,
            self.conversations,
            self.seeded,
            self.seed_time.as_secs_f64()
        )?;
        for (name, rows, median, p90) in &self.rows {
            writeln!(
                f,
                "  {name:<44} {rows:>4} rows  median {:>8.2} ms  p90 {:>8.2} ms",
                median.as_secs_f64() * 1000.0,
                p90.as_secs_f64() * 1000.0
            )?;
        }
        Ok(())
    }
}

/// Opens the database for the bench: on SQLite without fsync per commit (see above).
pub async fn open(database_url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = if database_url.starts_with("sqlite:") {
        Arc::new(SqliteStore::connect(database_url, SqliteDurability::Normal).await?)
    } else {
        gapless_store::connect(database_url).await?
    };
    store.migrate().await.context("migrating the bench database")?;
    Ok(store)
}

pub async fn run(store: Arc<dyn Store>, args: &BenchAuditArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(args.runs > 0, "--runs must be at least 1");
    let have: u64 =
        store.metrics_snapshot().await?.conversations_by_outcome.iter().map(|(_, n)| n).sum();
    let seeding = Instant::now();
    let seeded = args.conversations.saturating_sub(have);
    seed(&store, have, seeded, args.workers.max(1)).await?;
    let seed_time = seeding.elapsed();

    let now = OffsetDateTime::now_utc();
    let all = || ConversationQuery { limit: 50, ..ConversationQuery::all(now, ABANDONED_AFTER) };
    // A cursor 90 % of the way down, reached by walking the pages.
    let mut deep = ConversationQuery { limit: 100, ..all() };
    let depth = (args.conversations * 9 / 10 / 100).max(1);
    for _ in 0..depth {
        match store.list_conversations(&deep).await?.next {
            Some(next) => deep.cursor = Some(next),
            None => break,
        }
    }
    deep.limit = 50;
    let an_order = store
        .list_conversations(&ConversationQuery {
            outcome: Some(ConversationStatus::Ordered),
            ..all()
        })
        .await?
        .conversations
        .into_iter()
        .find_map(|c| c.order_number);
    let middle = now - time::Duration::seconds((args.conversations / 2) as i64 * SPACING_SECONDS);
    let cases = [
        ("first page, unfiltered", all()),
        ("page at 90 % depth (cursor)", deep),
        (
            "outcome = handed_off",
            ConversationQuery { outcome: Some(ConversationStatus::HandedOff), ..all() },
        ),
        (
            "outcome = abandoned (derived)",
            ConversationQuery { outcome: Some(ConversationStatus::Abandoned), ..all() },
        ),
        (
            "words: common (\"black tees\")",
            ConversationQuery { words: words("black tees"), ..all() },
        ),
        ("words: rare (\"kayak\")", ConversationQuery { words: words("kayak"), ..all() }),
        ("words: short (\"M\")", ConversationQuery { words: words("M"), ..all() }),
        ("words: none match (\"zebra\")", ConversationQuery { words: words("zebra"), ..all() }),
        ("order number", ConversationQuery { order_number: an_order, ..all() }),
        (
            "one day mid-list + common word",
            ConversationQuery {
                started_from: Some(middle),
                started_to: Some(middle + time::Duration::days(1)),
                words: words("hoodie"),
                ..all()
            },
        ),
    ];
    let mut rows = Vec::new();
    for (name, query) in cases {
        let mut times = Vec::with_capacity(args.runs);
        let mut found = 0;
        for _ in 0..args.runs {
            let started = Instant::now();
            found = store.list_conversations(&query).await?.conversations.len();
            times.push(started.elapsed());
        }
        times.sort();
        let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
        rows.push((name.to_owned(), found, at(0.5), at(0.9)));
    }
    Ok(Report {
        backend: store.backend().as_str(),
        conversations: have + seeded,
        seeded,
        seed_time,
        rows,
    })
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

/// Seeded conversations start this far apart, newest now.
const SPACING_SECONDS: i64 = 60;

async fn seed(
    store: &Arc<dyn Store>,
    first: u64,
    count: u64,
    workers: usize,
) -> anyhow::Result<()> {
    if count == 0 {
        return Ok(());
    }
    let now = OffsetDateTime::now_utc();
    let next = Arc::new(std::sync::atomic::AtomicU64::new(first));
    let end = first + count;
    let tasks = (0..workers)
        .map(|_| {
            let store = store.clone();
            let next = next.clone();
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= end {
                        return Ok::<_, anyhow::Error>(());
                    }
                    let started = now - time::Duration::seconds((end - i) as i64 * SPACING_SECONDS);
                    seed_conversation(store.as_ref(), i, started).await?;
                    if i.is_multiple_of(10_000) {
                        eprintln!("seeded {i} conversations");
                    }
                }
            })
        })
        .collect::<Vec<_>>();
    for task in tasks {
        task.await.context("a seeding task failed")??;
    }
    Ok(())
}

async fn seed_conversation(
    store: &dyn Store,
    i: u64,
    started: OffsetDateTime,
) -> anyhow::Result<()> {
    let id = new_id();
    store
        .create_conversation(&NewConversation {
            id: id.clone(),
            channel: "bench".into(),
            started_at: started,
        })
        .await?;
    let turns = 1 + (i % 3) as u32;
    for seq in 1..=turns {
        let mut text =
            PHRASES[((i * 7 + u64::from(seq)) % PHRASES.len() as u64) as usize].to_owned();
        if i.is_multiple_of(1000) && seq == 1 {
            text.push_str(" and a kayak");
        }
        let last = seq == turns;
        let order = if last && i.is_multiple_of(10) { Some(order(store).await?) } else { None };
        let outcome = match () {
            _ if order.is_some() => Some(Outcome::Ordered),
            _ if last && i.is_multiple_of(7) => Some(Outcome::HandedOff),
            _ => None,
        };
        let write = TurnWrite {
            conversation_id: id.clone(),
            turn_id: new_id(),
            seq,
            text,
            received_at: started + time::Duration::seconds(i64::from(seq)),
            idempotency_key: None,
            extractor: gapless_domain::chat::Extractor::Rules,
            audit: json!({ "extraction": { "commands": [] }, "validations": [], "events": [] }),
            reply: "Noted.".into(),
            response: json!({ "reply": "Noted." }),
            handoff: outcome == Some(Outcome::HandedOff),
            outcome,
            order,
        };
        store.record_turn(&write).await?;
    }
    Ok(())
}

/// A confirmed one-line order with a fresh number, as a turn would write it.
async fn order(store: &dyn Store) -> anyhow::Result<OrderWrite> {
    let number =
        gapless_domain::orders::OrderNumber::from_sequence(store.next_order_number().await?);
    Ok(OrderWrite {
        order_id: new_id(),
        number: number.as_str().to_owned(),
        expected_version: 0,
        events: vec![EventWrite {
            id: new_id(),
            event_type: "line_added".into(),
            schema_version: 1,
            payload: json!({ "sku": "TEE", "quantity": 1 }),
        }],
        actor: "shopper".into(),
        projection: OrderProjection {
            status: gapless_domain::orders::OrderStatus::Confirmed,
            currency: "USD".into(),
            subtotal: 2500,
            shipping: 0,
            total: 2500,
            shipping_address: None,
            customer: Some(CustomerWrite {
                email: "bench@example.com".into(),
                name: None,
                phone: None,
            }),
            lines: vec![LineWrite {
                sku: "TEE".into(),
                name: "Tee".into(),
                quantity: 1,
                choices: json!([]),
                unit_price: 2500,
                total: 2500,
            }],
            shipped_at: None,
            delivered_at: None,
            payment_status: gapless_domain::orders::PaymentStatus::NotRequired,
            payment_expires_at: None,
            snapshot: None,
        },
        reserve: vec![],
        release: vec![],
    })
}
