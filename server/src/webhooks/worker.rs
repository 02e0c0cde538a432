//! The delivery worker inside `gapless serve`: fans outbox rows out to endpoints, sends
//! due deliveries signed per Standard Webhooks v1, records every attempt, and prunes
//! delivered rows after the retention period.
//!
//! At least once: a delivery is marked delivered only after a 2xx, so a crash between
//! the answer and the record sends it again (receivers deduplicate by `webhook-id`).
//! Claims are leases in the database, so any number of app servers can run this loop on
//! one PostgreSQL without sending one message twice at the same time, and rows a dead
//! worker held come back when its lease runs out.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::{stream, StreamExt};
use gapless_domain::webhooks::{next_retry, takes, Retry};
use gapless_store::{
    unix_ms, AttemptNext, AttemptRecord, DeliveryClaim, EmailAttempt, EmailClaim, FanOut, NewEmail,
    OutboxMessage, Store,
};
use time::OffsetDateTime;
use tokio::sync::watch;

use super::render::{snapshots, Snapshot};
use crate::email::Mailer;
use crate::metrics::{EmailMetrics, WebhookMetrics};

/// How the worker paces itself. The defaults are what `gapless serve` uses.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Longest a receiver may take to answer (CONTRACTS §6: a 2xx within 10 s).
    pub timeout: Duration,
    /// How long a claim of one wave of sends is the worker's: longer than `timeout`, so
    /// a live worker never loses a claim it is still sending; what a crashed worker held
    /// comes back after it. A round of several waves holds its claim one `timeout` longer
    /// for each further wave (see [`WorkerSettings::claim_lease`]).
    pub lease: Duration,
    /// Outbox rows fanned out per round.
    pub batch: u32,
    /// Webhook deliveries claimed per round (emails: one wave of `concurrency`).
    pub claim: u32,
    /// Sends in flight at once: a round's claim goes out in waves of this many.
    pub concurrency: usize,
    /// Rest between rounds when there was nothing to do.
    pub idle: Duration,
    /// Rest after a round that fanned out outbox rows but had nothing to send (no
    /// endpoint or mail takes them yet, or their deliveries are not due): the next round
    /// then takes what came meanwhile in one go. Every round is a few writes, which on
    /// SQLite join the chat's commits; back to back under a steady stream of turns they
    /// were hundreds of small rounds a second. A round that sent something, or filled a
    /// claim, goes again at once (see [`Round::Full`]).
    pub gather: Duration,
    /// Delivered messages are deleted after this long.
    pub retention: Duration,
    /// How often pruning runs.
    pub prune_every: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            timeout: Duration::from_secs(10),
            lease: Duration::from_secs(25),
            // Every round is a few writes on the database; on SQLite they share its one
            // writer with the chat, which a busy shop keeps for up to 20 ms at a time, so
            // a round moves many messages rather than a few (a round of 16 fell seconds
            // behind 1,660 turns/s).
            batch: 256,
            claim: 128,
            concurrency: 16,
            idle: Duration::from_millis(200),
            gather: Duration::from_millis(50),
            retention: Duration::from_secs(7 * 24 * 3600),
            prune_every: Duration::from_secs(3600),
        }
    }
}

/// What a round found, which sets the rest before the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    /// Nothing to do: rest `idle`.
    Idle,
    /// Outbox rows fanned out (fewer than a batch), nothing sent: rest `gather`.
    Partial,
    /// Something sent, or a claim came back full: the next round starts at once. A
    /// stream's messages go one a round (each waits for the one before it), so the
    /// next message of a stream may be waiting for this round's.
    Full,
}

impl WorkerSettings {
    /// The round that fanned out `fanned` outbox rows, sent `sent` webhooks and mailed
    /// `mailed` emails.
    pub fn round(&self, fanned: usize, sent: usize, mailed: usize) -> Round {
        if fanned >= self.batch.max(1) as usize || sent > 0 || mailed > 0 {
            Round::Full
        } else if fanned > 0 {
            Round::Partial
        } else {
            Round::Idle
        }
    }

    /// The lease of a round's claim, in milliseconds: `lease` for the first wave of
    /// `concurrency` sends and one `timeout` more for each further wave, since a wave
    /// starts only when sends of the one before finish.
    pub fn claim_lease(&self) -> i64 {
        let waves = self.claim.max(1).div_ceil(self.concurrency.clamp(1, 1000) as u32);
        let lease = self.lease + self.timeout * (waves - 1);
        i64::try_from(lease.as_millis()).unwrap_or(i64::MAX)
    }
}

pub struct DeliveryWorker {
    store: Arc<dyn Store>,
    client: reqwest::Client,
    settings: WorkerSettings,
    metrics: Option<WebhookMetrics>,
    /// Set when the shop mails its customers.
    mailer: Option<Arc<Mailer>>,
    email_metrics: Option<EmailMetrics>,
}

/// Stops the worker: it claims nothing more, finishes the sends in flight (each
/// bounded by the timeout) and gives back what it claimed but did not start.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl WorkerHandle {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.task.await {
            tracing::error!(%error, "the webhook worker ended abnormally");
        }
    }
}

impl DeliveryWorker {
    pub fn new(
        store: Arc<dyn Store>,
        settings: WorkerSettings,
        metrics: Option<WebhookMetrics>,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // A receiver answers; it does not send us elsewhere with the signed body.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Gapless-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(DeliveryWorker { store, client, settings, metrics, mailer: None, email_metrics: None })
    }

    /// Customer email as a step of each round: built when rows are fanned out, sent
    /// after the webhooks.
    pub fn with_mailer(mut self, mailer: Arc<Mailer>, metrics: Option<EmailMetrics>) -> Self {
        self.mailer = Some(mailer);
        self.email_metrics = metrics;
        self
    }

    pub fn spawn(self) -> WorkerHandle {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(self.run(stopped));
        WorkerHandle { stop, task }
    }

    async fn run(self, mut stopped: watch::Receiver<bool>) {
        let mut last_prune: Option<Instant> = None;
        loop {
            if *stopped.borrow() {
                break;
            }
            let round = match self.round(&stopped).await {
                Ok(round) => round,
                Err(error) => {
                    tracing::error!(error = format!("{error:#}"), "webhook delivery round failed");
                    Round::Idle
                }
            };
            if last_prune.is_none_or(|at| at.elapsed() >= self.settings.prune_every) {
                last_prune = Some(Instant::now());
                self.prune().await;
            }
            let rest = match round {
                Round::Full => continue,
                Round::Partial => self.settings.gather,
                Round::Idle => self.settings.idle,
            };
            tokio::select! {
                _ = tokio::time::sleep(rest) => {}
                _ = stopped.changed() => {}
            }
        }
        tracing::info!("webhook worker stopped");
    }

    /// One round: fan out what is new, then send what is due. `true` when it did
    /// anything (so the next round starts at once).
    pub async fn round(&self, stopped: &watch::Receiver<bool>) -> anyhow::Result<Round> {
        let fanned = self.fan_out().await?;
        let sent = self.send_due(stopped).await?;
        let mailed = self.send_mail(stopped).await?;
        Ok(self.settings.round(fanned, sent, mailed))
    }

    async fn fan_out(&self) -> anyhow::Result<usize> {
        let now = now_ms();
        let lease = self.settings.lease.as_millis() as i64;
        let rows = self.store.claim_unfanned(now, lease, self.settings.batch).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let endpoints = self.store.endpoints().await?;
        let wanted: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                endpoints
                    .iter()
                    .filter(|e| takes(&e.events, &row.topic))
                    .map(|e| e.id.clone())
                    .collect()
            })
            .collect();
        let mails = |row: &OutboxMessage| {
            self.mailer.is_some() && crate::email::compose::kind_of(&row.topic).is_some()
        };
        // Only rows some endpoint takes or that mail the customer are rendered.
        let to_render: Vec<_> = rows
            .iter()
            .zip(&wanted)
            .filter(|(r, w)| !w.is_empty() || mails(r))
            .map(|(r, _)| r)
            .collect();
        let mut snapshots = snapshots(self.store.as_ref(), &to_render).await.into_iter();
        let mut fan = Vec::with_capacity(rows.len());
        let mut blocked_streams = Vec::new();
        for (row, endpoint_ids) in rows.iter().zip(wanted) {
            let built = if endpoint_ids.is_empty() && !mails(row) {
                Ok((String::new(), None))
            } else {
                match snapshots.next() {
                    Some((_, Ok(snapshot))) => self.build(row, &endpoint_ids, &snapshot),
                    Some((_, Err(error))) => Err(error),
                    None => continue,
                }
            };
            let (body, email) = match built {
                Ok(built) => built,
                Err(error) => {
                    // Left leased: tried again when the lease runs out, and the
                    // stream's later messages wait for it.
                    tracing::error!(
                        outbox_id = row.id,
                        topic = %row.topic,
                        error = format!("{error:#}"),
                        "cannot render an outbox message"
                    );
                    blocked_streams.push(row.stream.clone());
                    continue;
                }
            };
            if blocked_streams.contains(&row.stream) {
                continue;
            }
            fan.push(FanOut {
                outbox_id: row.id,
                stream: row.stream.clone(),
                seq: row.seq,
                body,
                endpoint_ids,
                email,
            });
        }
        self.store.fan_out(&fan, now_ms()).await?;
        Ok(rows.len())
    }

    /// The webhook body (when an endpoint takes the row) and the customer's message
    /// (when the row mails one).
    fn build(
        &self,
        row: &OutboxMessage,
        endpoint_ids: &[String],
        snapshot: &Snapshot,
    ) -> anyhow::Result<(String, Option<NewEmail>)> {
        let body = if endpoint_ids.is_empty() {
            String::new()
        } else {
            snapshot.webhook_body(&row.topic)?
        };
        let email = match &self.mailer {
            Some(mailer) => mailer.compose(row, snapshot)?,
            None => None,
        };
        Ok((body, email))
    }

    async fn send_due(&self, stopped: &watch::Receiver<bool>) -> anyhow::Result<usize> {
        let lease = self.settings.claim_lease();
        let wanted = self.settings.claim.clamp(1, 1000);
        let claims = self.store.claim_deliveries(now_ms(), lease, wanted).await?;
        let count = claims.len();
        if count == 0 {
            return Ok(0);
        }
        let mut unsent = Vec::new();
        let results: Vec<_> = stream::iter(claims)
            .map(|claim| {
                let stopping = *stopped.borrow();
                async move {
                    if stopping {
                        return Err(claim.id);
                    }
                    Ok(self.attempt(&claim).await)
                }
            })
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await;
        let mut records = Vec::with_capacity(results.len());
        for result in results {
            match result {
                Ok(record) => records.push(record),
                Err(id) => unsent.push(id),
            }
        }
        // One write for the round: the writer (SQLite's one connection) is shared with
        // the chat's turns, so fewer, larger writes keep delivery up with the chat.
        if let Err(error) = self.store.record_attempts(&records).await {
            // The leases run out and the messages are sent again: at least once.
            tracing::error!(%error, deliveries = records.len(), "cannot record webhook attempts");
        }
        if !unsent.is_empty() {
            self.store.release_deliveries(&unsent).await?;
        }
        Ok(count)
    }

    async fn send_mail(&self, stopped: &watch::Receiver<bool>) -> anyhow::Result<usize> {
        let Some(mailer) = &self.mailer else { return Ok(0) };
        // One wave a round, under the plain lease: an SMTP exchange has no bound of
        // `timeout` (the SMTP timeout is per command), so a longer round could outlive
        // the claims it holds.
        let lease = self.settings.lease.as_millis() as i64;
        let wanted = self.settings.concurrency.clamp(1, 1000) as u32;
        let claims = self.store.claim_emails(now_ms(), lease, wanted).await?;
        let count = claims.len();
        if count == 0 {
            return Ok(0);
        }
        let results: Vec<_> = stream::iter(claims)
            .map(|claim| {
                let stopping = *stopped.borrow();
                async move {
                    if stopping {
                        return Err(claim.id);
                    }
                    Ok(self.mail(mailer, &claim).await)
                }
            })
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await;
        let mut unsent = Vec::new();
        let mut records = Vec::with_capacity(results.len());
        for result in results {
            match result {
                Ok(record) => records.push(record),
                Err(id) => unsent.push(id),
            }
        }
        // One write for the round, as for webhooks.
        if let Err(error) = self.store.record_email_attempts(&records).await {
            // The leases run out and the messages go again, with their Message-IDs: at
            // least once.
            tracing::error!(%error, emails = records.len(), "cannot record email attempts");
        }
        if !unsent.is_empty() {
            self.store.release_emails(&unsent).await?;
        }
        Ok(count)
    }

    /// Sends one message and says what comes next: a 5xx answer is final, anything
    /// else is retried with the webhooks' backoff.
    async fn mail(&self, mailer: &Mailer, claim: &EmailClaim) -> EmailAttempt {
        let at = now_ms();
        let outcome = mailer.send(claim).await;
        let (next, error) = match outcome {
            Ok(()) => (AttemptNext::Delivered, None),
            Err(failure) => {
                let next = if failure.permanent {
                    AttemptNext::Failed
                } else {
                    let failed = claim.attempts + 1;
                    match next_retry(
                        failed,
                        claim.first_attempt_ms.unwrap_or(at),
                        now_ms(),
                        jitter(),
                    ) {
                        Retry::At(at) => AttemptNext::RetryAt(at),
                        Retry::GiveUp => AttemptNext::Failed,
                    }
                };
                // The code only: an SMTP answer may quote the address.
                let code = failure.code.as_deref().unwrap_or("no answer");
                match next {
                    AttemptNext::Failed => tracing::warn!(
                        email = claim.id,
                        topic = %claim.topic,
                        smtp = code,
                        permanent = failure.permanent,
                        "customer email failed for good; staff see why on the order"
                    ),
                    _ => tracing::info!(
                        email = claim.id,
                        topic = %claim.topic,
                        smtp = code,
                        attempts = claim.attempts + 1,
                        "customer email not accepted; will retry"
                    ),
                }
                (next, Some(failure.reason))
            }
        };
        if let Some(metrics) = &self.email_metrics {
            metrics.attempt(match next {
                AttemptNext::Delivered => "sent",
                AttemptNext::RetryAt(_) => "retry",
                AttemptNext::Failed => "failed",
            });
        }
        EmailAttempt { email_id: claim.id, at_ms: at, error, next }
    }

    /// Sends one delivery and says what comes next.
    async fn attempt(&self, claim: &DeliveryClaim) -> AttemptRecord {
        let started = Instant::now();
        let at = now_ms();
        let outcome = self.send(claim).await;
        let latency_ms = started.elapsed().as_millis().min(u32::MAX as u128) as u32;
        let (status_code, error) = match outcome {
            Ok(status) if (200..300).contains(&status) => (Some(status), None),
            Ok(status) => (Some(status), Some(format!("HTTP {status}"))),
            Err(reason) => (None, Some(reason)),
        };
        let next = if error.is_none() {
            AttemptNext::Delivered
        } else {
            let failed = claim.attempts + 1;
            match next_retry(failed, claim.first_attempt_ms.unwrap_or(at), now_ms(), jitter()) {
                Retry::At(at) => AttemptNext::RetryAt(at),
                Retry::GiveUp => AttemptNext::Failed,
            }
        };
        if let Some(metrics) = &self.metrics {
            metrics.attempt(match next {
                AttemptNext::Delivered => "delivered",
                AttemptNext::RetryAt(_) => "retry",
                AttemptNext::Failed => "failed",
            });
        }
        match (&next, &error) {
            (AttemptNext::Failed, Some(error)) => tracing::warn!(
                delivery = claim.id,
                endpoint = %claim.endpoint_id,
                topic = %claim.topic,
                %error,
                "webhook message failed for good; staff can send it again"
            ),
            (_, Some(error)) => tracing::info!(
                delivery = claim.id,
                endpoint = %claim.endpoint_id,
                topic = %claim.topic,
                %error,
                attempts = claim.attempts + 1,
                "webhook attempt failed; will retry"
            ),
            _ => {}
        }
        AttemptRecord { delivery_id: claim.id, at_ms: at, status_code, latency_ms, error, next }
    }

    /// The HTTP status, or why there was none. Never names the URL (it may carry a
    /// token) nor the secret.
    async fn send(&self, claim: &DeliveryClaim) -> Result<u16, String> {
        let timestamp = OffsetDateTime::now_utc().unix_timestamp();
        let signature = standardwebhooks::Webhook::new(&claim.secret)
            .and_then(|hook| hook.sign(&claim.message_id, timestamp, claim.body.as_bytes()))
            .map_err(|e| format!("cannot sign: {e}"))?;
        let response = self
            .client
            .post(&claim.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &claim.message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(claim.body.clone())
            .send()
            .await
            .map_err(describe)?;
        Ok(response.status().as_u16())
    }

    async fn prune(&self) {
        let cutoff = now_ms() - self.settings.retention.as_millis() as i64;
        match self.store.prune_outbox(cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "pruned delivered webhook messages"),
            Err(error) => tracing::error!(%error, "pruning the outbox failed"),
        }
    }
}

fn describe(error: reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else if error.is_builder() {
        "not a usable URL".to_owned()
    } else {
        format!("{}", error.without_url())
    }
}

fn now_ms() -> i64 {
    unix_ms(OffsetDateTime::now_utc())
}

/// A draw in `[0, 1)` for the retry jitter.
fn jitter() -> f64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    let bits = u64::from_le_bytes(bytes) >> 11;
    bits as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slowest round a claim can see: every wave of sends runs to the timeout.
    fn slowest_round_ms(settings: &WorkerSettings) -> i64 {
        let waves = settings.claim.div_ceil(settings.concurrency as u32);
        i64::from(waves) * settings.timeout.as_millis() as i64
    }

    #[test]
    fn a_round_that_sent_goes_again_at_once_and_one_that_only_fanned_out_gathers() {
        let settings =
            WorkerSettings { batch: 256, claim: 128, concurrency: 16, ..Default::default() };
        assert_eq!(settings.round(0, 0, 0), Round::Idle);
        assert_eq!(settings.round(1, 0, 0), Round::Partial);
        assert_eq!(settings.round(255, 0, 0), Round::Partial);
        assert_eq!(settings.round(256, 0, 0), Round::Full);
        // The next message of a stream may wait for the one just sent.
        assert_eq!(settings.round(0, 1, 0), Round::Full);
        assert_eq!(settings.round(0, 0, 1), Round::Full);
        // A batch of none would claim nothing: never a round without rest.
        let none = WorkerSettings { batch: 0, claim: 0, concurrency: 0, ..Default::default() };
        assert_eq!(none.round(0, 0, 0), Round::Idle);
        assert!(WorkerSettings::default().gather < WorkerSettings::default().idle);
    }

    #[test]
    fn a_rounds_claim_outlives_its_slowest_round() {
        let default = WorkerSettings::default();
        assert!(default.claim_lease() > slowest_round_ms(&default));
        // One wave: the plain lease.
        let one = WorkerSettings { claim: 16, ..WorkerSettings::default() };
        assert_eq!(one.claim_lease(), 25_000);
        // 128 in waves of 16: seven more timeouts.
        assert_eq!(default.claim_lease(), 25_000 + 7 * 10_000);
        for (claim, concurrency) in [(1, 1), (17, 16), (1000, 3), (5, 1000)] {
            let settings = WorkerSettings { claim, concurrency, ..WorkerSettings::default() };
            assert!(
                settings.claim_lease() > slowest_round_ms(&settings),
                "claim {claim} in waves of {concurrency}"
            );
        }
    }
}
