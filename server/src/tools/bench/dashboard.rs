//! `gapless bench-dashboard`: how fast the staff dashboard answers with many
//! conversations (issue 15: any period in ≤ 50 ms at 1,000,000). Seeds DATABASE_URL up to
//! `--conversations` with synthetic conversations (set-based SQL, see
//! `gapless_store::bench_seed`; the dashboard's triggers run for every row), then times,
//! for periods of 1, 30, 365 and 1,098 days ending today, medians over `--runs`:
//! - the conversation and returns side as the dashboard reads it now (per-day sums);
//! - the same from every conversation's facts, counted on the spot (how it was read
//!   before the per-day sums; `--recount-runs`, 0 to skip: it takes seconds);
//! - the delivery side (orders confirmed in the period) from its per-day sums, and the
//!   same from every order's facts (`--recount-runs`), checked to agree;
//! - the whole `GET /api/v1/staff/metrics` answer without HTTP.

use std::{
    fmt,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use gapless_domain::staff_metrics::{
    dashboard, fulfilment_metrics, Bucketing, ConversationDays, Period,
};
use gapless_store::OrderFulfilmentFactRow;
use gapless_store::{PostgresStore, SqliteDurability, SqliteStore, Store};
use time::OffsetDateTime;

use crate::staff::dashboard::{
    conversation, everything, read, read_fulfilment, return_facts, DEFAULT_DELIVERY_PROMISE,
};

#[derive(Debug, clap::Args)]
pub struct BenchDashboardArgs {
    /// How many conversations the database should hold.
    #[arg(long, default_value_t = 1_000_000)]
    pub conversations: u64,
    /// Timed runs per period.
    #[arg(long, default_value_t = 21)]
    pub runs: usize,
    /// Timed runs of the recount from every conversation's facts (0: skip it).
    #[arg(long, default_value_t = 3)]
    pub recount_runs: usize,
}

/// The periods timed, in days ending today.
const PERIODS: [i64; 4] = [1, 30, 365, 1098];

pub struct Report {
    pub backend: &'static str,
    pub conversations: u64,
    pub seeded: u64,
    pub seed_time: Duration,
    pub rows: Vec<Row>,
}

pub struct Row {
    pub days: i64,
    pub conversations: u64,
    pub orders: u64,
    /// Medians: the conversation and returns side, the recount, delivery, everything.
    pub sums: Duration,
    pub recount: Option<Duration>,
    pub fulfilment: Duration,
    pub fulfilment_recount: Option<Duration>,
    pub everything: Duration,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} conversations ({} seeded in {:.1} s); medians in ms",
            self.backend,
            self.conversations,
            self.seeded,
            self.seed_time.as_secs_f64()
        )?;
        writeln!(
            f,
            "{:>6} {:>13} {:>8} {:>12} {:>12} {:>12} {:>16} {:>12}",
            "days",
            "conversations",
            "orders",
            "per-day sums",
            "recount",
            "delivery",
            "delivery recount",
            "everything"
        )?;
        let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
        for row in &self.rows {
            writeln!(
                f,
                "{:>6} {:>13} {:>8} {:>12} {:>12} {:>12} {:>16} {:>12}",
                row.days,
                row.conversations,
                row.orders,
                ms(row.sums),
                row.recount.map_or_else(|| "-".to_owned(), ms),
                ms(row.fulfilment),
                row.fulfilment_recount.map_or_else(|| "-".to_owned(), ms),
                ms(row.everything),
            )?;
        }
        Ok(())
    }
}

enum Backend {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PostgresStore>),
}

pub async fn run(database_url: &str, args: &BenchDashboardArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(args.runs > 0, "--runs must be at least 1");
    let (backend, store): (Backend, Arc<dyn Store>) = if database_url.starts_with("sqlite:") {
        let store = Arc::new(SqliteStore::connect(database_url, SqliteDurability::Normal).await?);
        (Backend::Sqlite(store.clone()), store)
    } else {
        let store = Arc::new(PostgresStore::connect(database_url).await?);
        (Backend::Postgres(store.clone()), store)
    };
    store.migrate().await.context("migrating the bench database")?;

    let now = OffsetDateTime::now_utc();
    let have: u64 =
        store.metrics_snapshot().await?.conversations_by_outcome.iter().map(|(_, n)| n).sum();
    let seeded = args.conversations.saturating_sub(have);
    let seeding = Instant::now();
    if seeded > 0 {
        eprintln!("seeding {seeded} conversations");
        match &backend {
            Backend::Sqlite(s) => {
                s.seed_bench_conversations(have, seeded, args.conversations, now).await?
            }
            Backend::Postgres(s) => {
                s.seed_bench_conversations(have, seeded, args.conversations, now).await?
            }
        }
    }
    let seed_time = seeding.elapsed();

    let today = now.date();
    let policy = gapless_domain::returns::ReturnPolicy::from_json(include_str!(
        "../../../../demo/return-policy.json"
    ))
    .map_err(|e| anyhow::anyhow!("the demo return policy: {e}"))?;
    let mut rows = Vec::new();
    for days in PERIODS {
        let from = (today - time::Duration::days(days - 1)).midnight().assume_utc();
        let to = today.next_day().context("the end of the calendar")?.midnight().assume_utc();
        let period = Period { from, to };
        let found = read(store.as_ref(), period).await?;
        let delivery =
            read_fulfilment(store.as_ref(), period, now, DEFAULT_DELIVERY_PROMISE).await?;
        let sums = median(args.runs, || async {
            read(store.as_ref(), period).await?;
            Ok(())
        })
        .await?;
        let recount = if args.recount_runs == 0 {
            None
        } else {
            Some(
                median(args.recount_runs, || async {
                    let facts = store.conversation_facts(period.from, period.to).await?;
                    let facts: Vec<_> = facts.iter().map(|row| conversation(row, now)).collect();
                    let returns = store.return_facts(period.from, period.to).await?;
                    let returns: Vec<_> = returns.iter().filter_map(return_facts).collect();
                    let counted = ConversationDays::count(&facts);
                    dashboard(&counted, &returns, period, Bucketing::for_period(period));
                    Ok(())
                })
                .await?,
            )
        };
        let fulfilment = median(args.runs, || async {
            read_fulfilment(store.as_ref(), period, now, DEFAULT_DELIVERY_PROMISE).await?;
            Ok(())
        })
        .await?;
        // The same from every order's facts, as it was read before migration 0017; the
        // rates must agree (the lead times' percentiles come from histograms).
        let recount_delivery = || async {
            let rows = store.order_fulfilment_facts(period.from, period.to).await?;
            let facts: Vec<_> = rows.iter().filter_map(OrderFulfilmentFactRow::facts).collect();
            anyhow::Ok(fulfilment_metrics(&facts, period, DEFAULT_DELIVERY_PROMISE, now))
        };
        let counted = recount_delivery().await?;
        anyhow::ensure!(
            (counted.orders, counted.on_time, counted.on_time_in_full, counted.perfect)
                == (delivery.orders, delivery.on_time, delivery.on_time_in_full, delivery.perfect)
                && (&counted.late, &counted.not_perfect) == (&delivery.late, &delivery.not_perfect),
            "the delivery sums of {days} days disagree with the recount: {delivery:?} vs {counted:?}"
        );
        let fulfilment_recount = if args.recount_runs == 0 {
            None
        } else {
            Some(
                median(args.recount_runs, || async {
                    recount_delivery().await?;
                    Ok(())
                })
                .await?,
            )
        };
        let whole = median(args.runs, || async {
            everything(store.as_ref(), period, now, &policy, DEFAULT_DELIVERY_PROMISE, false)
                .await?;
            Ok(())
        })
        .await?;
        rows.push(Row {
            days,
            conversations: found.conversations,
            orders: delivery.orders,
            sums,
            recount,
            fulfilment,
            fulfilment_recount,
            everything: whole,
        });
    }
    Ok(Report {
        backend: store.backend().as_str(),
        conversations: have + seeded,
        seeded,
        seed_time,
        rows,
    })
}

/// The median time of `runs` calls of `work`.
async fn median<F, Fut>(runs: usize, work: F) -> anyhow::Result<Duration>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        work().await?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}
