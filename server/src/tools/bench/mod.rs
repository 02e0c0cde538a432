//! `gapless bench-writes`, `bench-turns`, `bench-llm`, `bench-audit` and
//! `bench-dashboard`: how fast the database commits, how many chat turns a running
//! server takes, what the LLM path costs beyond the model, and how fast the staff
//! console's conversation list and dashboard answer; each prints its own report.

pub mod audit;
pub mod dashboard;
pub mod llm;
pub mod turns;
pub mod writes;

use std::time::Duration;

/// How many operations some workers finished in a time, and how long each took: what
/// `bench-writes` and `bench-turns` report.
pub struct Latencies {
    pub count: usize,
    pub elapsed: Duration,
    pub workers: usize,
    pub p50: Duration,
    pub p99: Duration,
}

impl Latencies {
    /// `None` when nothing finished.
    pub fn of(mut latencies: Vec<Duration>, elapsed: Duration, workers: usize) -> Option<Self> {
        if latencies.is_empty() {
            return None;
        }
        latencies.sort();
        let at =
            |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        Some(Latencies { count: latencies.len(), elapsed, workers, p50: at(0.5), p99: at(0.99) })
    }

    pub fn per_second(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }

    /// "N {what} in S s with W workers: R {unit}, p50 …, p99 …" (`scripts/load.sh` reads
    /// the rate from it).
    pub fn describe(&self, what: &str, unit: &str) -> String {
        format!(
            "{} {what} in {:.1} s with {} workers: {:.0} {unit}, p50 {:.2} ms, p99 {:.2} ms",
            self.count,
            self.elapsed.as_secs_f64(),
            self.workers,
            self.per_second(),
            self.p50.as_secs_f64() * 1000.0,
            self.p99.as_secs_f64() * 1000.0,
        )
    }
}
