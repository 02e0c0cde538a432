//! [`WebhookStore`] for both backends from one text: the statements are the same SQL
//! (`$N` parameters work on SQLite too), except that PostgreSQL claims rows with `FOR
//! UPDATE SKIP LOCKED` so that several app servers never take the same row at once;
//! SQLite has one writer connection, which serializes claims anyway.

use crate::webhooks::{
    DeliveryClaim, DeliveryRow, DeliveryStatus, EndpointRow, OutboxHealth, OutboxMessage,
};
use crate::StoreError;

pub(crate) fn u32_of(n: i64, what: &str) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("{what} out of range: {n}")))
}

/// A `webhook_endpoints` row as both backends store it: the topics as JSON text.
#[derive(sqlx::FromRow)]
pub(crate) struct EndpointRecord {
    id: String,
    url: String,
    events: String,
    secret: String,
    paused: bool,
    created_at: i64,
}

impl TryFrom<EndpointRecord> for EndpointRow {
    type Error = StoreError;

    fn try_from(row: EndpointRecord) -> Result<Self, StoreError> {
        let events = serde_json::from_str(&row.events)
            .map_err(|e| StoreError::Corrupt(format!("endpoint events {:?}: {e}", row.events)))?;
        Ok(EndpointRow {
            id: row.id,
            url: row.url,
            events,
            secret: row.secret,
            paused: row.paused,
            created_ms: row.created_at,
        })
    }
}

/// A delivery as staff list it; the HTTP status and latency are stored as integers.
#[derive(sqlx::FromRow)]
pub(crate) struct DeliveryRecord {
    id: i64,
    endpoint_id: String,
    event_id: String,
    topic: String,
    #[sqlx(try_from = "String")]
    status: DeliveryStatus,
    attempts: i64,
    created_ms: i64,
    next_attempt_ms: i64,
    last_attempt_ms: Option<i64>,
    last_status: Option<i64>,
    last_latency_ms: Option<i64>,
    last_error: Option<String>,
    done_ms: Option<i64>,
}

impl TryFrom<DeliveryRecord> for DeliveryRow {
    type Error = StoreError;

    fn try_from(row: DeliveryRecord) -> Result<Self, StoreError> {
        Ok(DeliveryRow {
            id: row.id,
            endpoint_id: row.endpoint_id,
            event_id: row.event_id,
            topic: row.topic,
            status: row.status,
            attempts: u32_of(row.attempts, "attempts")?,
            created_ms: row.created_ms,
            next_attempt_ms: row.next_attempt_ms,
            last_attempt_ms: row.last_attempt_ms,
            last_status: row.last_status.and_then(|s| u16::try_from(s).ok()),
            last_latency_ms: row.last_latency_ms.map(|l| u32_of(l, "latency")).transpose()?,
            last_error: row.last_error,
            done_ms: row.done_ms,
        })
    }
}

/// A claimed outbox row; `stream` and `seq` are nullable columns that every writer fills.
#[derive(sqlx::FromRow)]
pub(crate) struct OutboxRecord {
    pub(crate) id: i64,
    pub(crate) event_id: String,
    pub(crate) topic: String,
    pub(crate) stream: Option<String>,
    pub(crate) seq: Option<i64>,
    #[sqlx(json)]
    pub(crate) payload: serde_json::Value,
}

impl TryFrom<OutboxRecord> for OutboxMessage {
    type Error = StoreError;

    fn try_from(row: OutboxRecord) -> Result<Self, StoreError> {
        let (Some(stream), Some(seq)) = (row.stream, row.seq) else {
            return Err(StoreError::Corrupt(format!("outbox row {} has no stream or seq", row.id)));
        };
        Ok(OutboxMessage {
            id: row.id,
            event_id: row.event_id,
            topic: row.topic,
            stream,
            seq: u32_of(seq, "seq")?,
            payload: row.payload,
        })
    }
}

/// A claimed delivery with its endpoint and rendered body (nullable until fanned out).
#[derive(sqlx::FromRow)]
pub(crate) struct ClaimRecord {
    pub(crate) id: i64,
    pub(crate) endpoint_id: String,
    pub(crate) url: String,
    pub(crate) secret: String,
    pub(crate) event_id: String,
    pub(crate) topic: String,
    pub(crate) body: Option<String>,
    pub(crate) attempts: i64,
    pub(crate) first_attempt_ms: Option<i64>,
    pub(crate) created_ms: i64,
}

impl TryFrom<ClaimRecord> for DeliveryClaim {
    type Error = StoreError;

    fn try_from(row: ClaimRecord) -> Result<Self, StoreError> {
        let id = row.id;
        Ok(DeliveryClaim {
            id,
            endpoint_id: row.endpoint_id,
            url: row.url,
            secret: row.secret,
            message_id: row.event_id,
            topic: row.topic,
            body: row
                .body
                .ok_or_else(|| StoreError::Corrupt(format!("delivery {id} has no body")))?,
            attempts: u32_of(row.attempts, "attempts")?,
            first_attempt_ms: row.first_attempt_ms,
            created_ms: row.created_ms,
        })
    }
}

/// The backlog's counts, as one row of subqueries.
#[derive(sqlx::FromRow)]
pub(crate) struct HealthRecord {
    unfanned: i64,
    oldest_unfanned: Option<i64>,
    pending: i64,
    oldest_pending: Option<i64>,
    failed: i64,
}

impl From<HealthRecord> for OutboxHealth {
    fn from(row: HealthRecord) -> Self {
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        let oldest = match (row.oldest_unfanned, row.oldest_pending) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        OutboxHealth {
            unfanned: count(row.unfanned),
            pending: count(row.pending),
            oldest_pending_ms: oldest,
            failed: count(row.failed),
        }
    }
}

/// Decoded records, each converted into what the store answers.
pub(crate) fn convert<R, T>(records: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    records.into_iter().map(T::try_from).collect()
}

/// An attempt's status after it, when it is next due, and when it was done.
pub(crate) fn attempt_outcome(
    attempt: &crate::webhooks::AttemptRecord,
) -> (DeliveryStatus, i64, Option<i64>) {
    use crate::webhooks::AttemptNext;
    match attempt.next {
        AttemptNext::Delivered => (DeliveryStatus::Delivered, attempt.at_ms, Some(attempt.at_ms)),
        AttemptNext::RetryAt(at) => (DeliveryStatus::Pending, at, None),
        AttemptNext::Failed => (DeliveryStatus::Failed, attempt.at_ms, Some(attempt.at_ms)),
    }
}

/// The worker's frequent writes: `sqlx` runs the macro's own statements through the
/// pool; `committer` hands them to SQLite's chat committer (`sqlite_webhooks`), and the
/// macro's statements are not compiled for that store.
macro_rules! hot_write {
    (sqlx, $committer:expr, $sqlx:block) => {
        $sqlx
    };
    (committer, $committer:expr, $sqlx:block) => {
        $committer
    };
}

/// Implements [`crate::WebhookStore`] for `$store` on database `$db`, writing through
/// `self.$write` and reading through `self.$read`, with `$lock` after the claiming
/// selects; `$hot` is how the worker's frequent writes go (see `hot_write`).
macro_rules! webhook_store {
    ($store:ty, $db:ty, $write:ident, $read:ident, $lock:literal, $hot:ident) => {
        #[async_trait::async_trait]
        impl crate::webhooks::WebhookStore for $store {
            async fn add_endpoint(
                &self,
                new: &crate::webhooks::NewEndpoint,
            ) -> Result<bool, crate::StoreError> {
                let events = serde_json::to_string(&new.events)
                    .map_err(|e| crate::StoreError::Corrupt(format!("endpoint events: {e}")))?;
                let done = sqlx::query(
                    "INSERT INTO webhook_endpoints (id, url, events, secret, paused, created_at)
                     VALUES ($1, $2, $3, $4, FALSE, $5) ON CONFLICT (id) DO NOTHING",
                )
                .bind(&new.id)
                .bind(&new.url)
                .bind(events)
                .bind(&new.secret)
                .bind(new.created_ms)
                .execute(&self.$write)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn endpoints(
                &self,
            ) -> Result<Vec<crate::webhooks::EndpointRow>, crate::StoreError> {
                let rows = sqlx::query_as::<_, crate::webhooks_sql::EndpointRecord>(
                    "SELECT id, url, events, secret, paused, created_at FROM webhook_endpoints
                     ORDER BY created_at, id",
                )
                .fetch_all(&self.$read)
                .await?;
                crate::webhooks_sql::convert(rows)
            }

            async fn remove_endpoint(&self, id: &str) -> Result<bool, crate::StoreError> {
                let mut tx = self.$write.begin().await?;
                sqlx::query("DELETE FROM webhook_deliveries WHERE endpoint_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let done = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_endpoint_paused(
                &self,
                id: &str,
                paused: bool,
            ) -> Result<bool, crate::StoreError> {
                let done = sqlx::query("UPDATE webhook_endpoints SET paused = $1 WHERE id = $2")
                    .bind(paused)
                    .bind(id)
                    .execute(&self.$write)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn claim_unfanned(
                &self,
                now_ms: i64,
                lease_ms: i64,
                limit: u32,
            ) -> Result<Vec<crate::webhooks::OutboxMessage>, crate::StoreError> {
                hot_write!($hot, crate::sqlite_webhooks::claim_unfanned(self, now_ms, lease_ms, limit).await, {
                let rows = sqlx::query_as::<_, crate::webhooks_sql::OutboxRecord>(concat!(
                    "UPDATE outbox SET lease_ms = $1 + $2
                     WHERE id IN (SELECT id FROM outbox
                                  WHERE fanned_out_ms IS NULL AND (lease_ms IS NULL OR lease_ms < $1)
                                  ORDER BY id LIMIT $3 ",
                    $lock,
                    ")
                     RETURNING id, event_id, topic, stream, seq, payload"
                ))
                .bind(now_ms)
                .bind(lease_ms)
                .bind(i64::from(limit))
                .fetch_all(&self.$write)
                .await?;
                let mut messages: Vec<crate::webhooks::OutboxMessage> =
                    crate::webhooks_sql::convert(rows)?;
                messages.sort_by_key(|m| m.id);
                Ok(messages)
                })
            }

            async fn fan_out(
                &self,
                rows: &[crate::webhooks::FanOut],
                now_ms: i64,
            ) -> Result<(), crate::StoreError> {
                hot_write!($hot, crate::sqlite_webhooks::fan_out(self, rows, now_ms).await, {
                let mut tx = self.$write.begin().await?;
                for row in rows {
                    let done = sqlx::query(
                        "UPDATE outbox SET body = $1, fanned_out_ms = $2, lease_ms = NULL
                         WHERE id = $3 AND fanned_out_ms IS NULL",
                    )
                    .bind(&row.body)
                    .bind(now_ms)
                    .bind(row.outbox_id)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        // Fanned out by another worker whose lease we outlived.
                        continue;
                    }
                    for endpoint in &row.endpoint_ids {
                        sqlx::query(
                            "INSERT INTO webhook_deliveries
                                (outbox_id, endpoint_id, stream, seq, created_ms, next_attempt_ms)
                             SELECT o.id, e.id, o.stream, o.seq, COALESCE(o.created_ms, $3), $3
                             FROM outbox o, webhook_endpoints e
                             WHERE o.id = $1 AND e.id = $2
                             ON CONFLICT (outbox_id, endpoint_id) DO NOTHING",
                        )
                        .bind(row.outbox_id)
                        .bind(endpoint)
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await?;
                    }
                    if let Some(email) = &row.email {
                        sqlx::query(
                            "INSERT INTO email_deliveries
                                (outbox_id, event_id, topic, stream, seq, order_number, rma,
                                 recipient, message_id, subject, message, created_ms,
                                 next_attempt_ms)
                             SELECT o.id, o.event_id, o.topic, o.stream, o.seq, $2, $3, $4, $5,
                                    $6, $7, COALESCE(o.created_ms, $8), $8
                             FROM outbox o WHERE o.id = $1
                             ON CONFLICT (outbox_id) DO NOTHING",
                        )
                        .bind(row.outbox_id)
                        .bind(&email.order_number)
                        .bind(email.rma.as_deref())
                        .bind(&email.recipient)
                        .bind(&email.message_id)
                        .bind(&email.subject)
                        .bind(&email.message)
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                tx.commit().await?;
                Ok(())
                })
            }

            async fn claim_deliveries(
                &self,
                now_ms: i64,
                lease_ms: i64,
                limit: u32,
            ) -> Result<Vec<crate::webhooks::DeliveryClaim>, crate::StoreError> {
                hot_write!($hot, crate::sqlite_webhooks::claim_deliveries(self, now_ms, lease_ms, limit).await, {
                let ids: Vec<i64> = sqlx::query_scalar(concat!(
                    "UPDATE webhook_deliveries SET lease_ms = $1 + $2
                     WHERE id IN (
                        SELECT d.id FROM webhook_deliveries d
                        WHERE d.status = 'pending' AND d.next_attempt_ms <= $1
                          AND (d.lease_ms IS NULL OR d.lease_ms < $1)
                          AND EXISTS (SELECT 1 FROM webhook_endpoints e
                                      WHERE e.id = d.endpoint_id AND NOT e.paused)
                          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
                                          WHERE p.endpoint_id = d.endpoint_id
                                            AND p.stream = d.stream AND p.status = 'pending'
                                            AND p.seq < d.seq)
                          AND NOT EXISTS (SELECT 1 FROM outbox o
                                          WHERE o.stream = d.stream AND o.seq < d.seq
                                            AND o.fanned_out_ms IS NULL)
                        ORDER BY d.next_attempt_ms, d.id LIMIT $3 ",
                    $lock,
                    ")
                     RETURNING id"
                ))
                .bind(now_ms)
                .bind(lease_ms)
                .bind(i64::from(limit))
                .fetch_all(&self.$write)
                .await?;
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "SELECT d.id, d.endpoint_id, e.url, e.secret, o.event_id, o.topic, o.body,
                            d.attempts, d.first_attempt_ms, d.created_ms
                     FROM webhook_deliveries d
                     JOIN webhook_endpoints e ON e.id = d.endpoint_id
                     JOIN outbox o ON o.id = d.outbox_id
                     WHERE d.id IN (",
                );
                let mut list = query.separated(", ");
                for id in &ids {
                    list.push_bind(*id);
                }
                query.push(") ORDER BY d.next_attempt_ms, d.id");
                let rows = query
                    .build_query_as::<crate::webhooks_sql::ClaimRecord>()
                    .fetch_all(&self.$write)
                    .await?;
                crate::webhooks_sql::convert(rows)
                })
            }

            async fn record_attempts(
                &self,
                attempts: &[crate::webhooks::AttemptRecord],
            ) -> Result<(), crate::StoreError> {
                hot_write!($hot, crate::sqlite_webhooks::record_attempts(self, attempts).await, {
                if attempts.is_empty() {
                    return Ok(());
                }
                let mut tx = self.$write.begin().await?;
                for attempt in attempts {
                let (status, next_ms, done_ms) = crate::webhooks_sql::attempt_outcome(attempt);
                sqlx::query(
                    "UPDATE webhook_deliveries
                     SET attempts = attempts + 1, lease_ms = NULL, last_attempt_ms = $2,
                         first_attempt_ms = COALESCE(first_attempt_ms, $2), last_status = $3,
                         last_latency_ms = $4, last_error = $5, status = $6,
                         next_attempt_ms = $7, done_ms = $8
                     WHERE id = $1 AND status = 'pending'",
                )
                .bind(attempt.delivery_id)
                .bind(attempt.at_ms)
                .bind(attempt.status_code.map(i64::from))
                .bind(i64::from(attempt.latency_ms))
                .bind(attempt.error.as_deref())
                .bind(status.as_str())
                .bind(next_ms)
                .bind(done_ms)
                .execute(&mut *tx)
                .await?;
                }
                tx.commit().await?;
                Ok(())
                })
            }

            async fn release_deliveries(&self, ids: &[i64]) -> Result<(), crate::StoreError> {
                if ids.is_empty() {
                    return Ok(());
                }
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "UPDATE webhook_deliveries SET lease_ms = NULL WHERE status = 'pending' AND id IN (",
                );
                let mut list = query.separated(", ");
                for id in ids {
                    list.push_bind(*id);
                }
                query.push(")");
                query.build().execute(&self.$write).await?;
                Ok(())
            }

            async fn deliveries(
                &self,
                endpoint_id: &str,
                status: Option<crate::webhooks::DeliveryStatus>,
                limit: u32,
            ) -> Result<Vec<crate::webhooks::DeliveryRow>, crate::StoreError> {
                let rows = sqlx::query_as::<_, crate::webhooks_sql::DeliveryRecord>(
                    "SELECT d.id, d.endpoint_id, o.event_id, o.topic, d.status, d.attempts,
                            d.created_ms, d.next_attempt_ms, d.last_attempt_ms, d.last_status,
                            d.last_latency_ms, d.last_error, d.done_ms
                     FROM webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id
                     WHERE d.endpoint_id = $1 AND d.status = COALESCE($2, d.status)
                     ORDER BY d.id DESC LIMIT $3",
                )
                .bind(endpoint_id)
                .bind(status.map(|s| s.as_str()))
                .bind(i64::from(limit))
                .fetch_all(&self.$read)
                .await?;
                crate::webhooks_sql::convert(rows)
            }

            async fn redeliver(
                &self,
                endpoint_id: &str,
                delivery_id: i64,
                now_ms: i64,
            ) -> Result<bool, crate::StoreError> {
                let done = sqlx::query(
                    "UPDATE webhook_deliveries
                     SET status = 'pending', attempts = 0, next_attempt_ms = $3, lease_ms = NULL,
                         first_attempt_ms = NULL, done_ms = NULL
                     WHERE id = $2 AND endpoint_id = $1 AND status = 'failed'",
                )
                .bind(endpoint_id)
                .bind(delivery_id)
                .bind(now_ms)
                .execute(&self.$write)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn enqueue_test(
                &self,
                endpoint_id: &str,
                event_id: &str,
                body: &str,
                now_ms: i64,
            ) -> Result<Option<i64>, crate::StoreError> {
                let mut tx = self.$write.begin().await?;
                let stream = format!("test:{event_id}");
                let outbox_id: i64 = sqlx::query_scalar(
                    "INSERT INTO outbox (event_id, topic, payload, next_attempt_at, stream, seq,
                                         created_ms, body, fanned_out_ms)
                     VALUES ($1, 'webhook.test', $2, $3, $4, 1, $5, $6, $5)
                     RETURNING id",
                )
                .bind(event_id)
                .bind(sqlx::types::Json(serde_json::json!({ "test": true })))
                .bind(time::OffsetDateTime::now_utc())
                .bind(&stream)
                .bind(now_ms)
                .bind(body)
                .fetch_one(&mut *tx)
                .await?;
                let delivery: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO webhook_deliveries
                        (outbox_id, endpoint_id, stream, seq, created_ms, next_attempt_ms)
                     SELECT $1, id, $3, 1, $4, $4 FROM webhook_endpoints WHERE id = $2
                     RETURNING id",
                )
                .bind(outbox_id)
                .bind(endpoint_id)
                .bind(&stream)
                .bind(now_ms)
                .fetch_optional(&mut *tx)
                .await?;
                if delivery.is_some() {
                    tx.commit().await?;
                }
                Ok(delivery)
            }

            async fn outbox_health(
                &self,
            ) -> Result<crate::webhooks::OutboxHealth, crate::StoreError> {
                let row = sqlx::query_as::<_, crate::webhooks_sql::HealthRecord>(
                    "SELECT
                        (SELECT COUNT(*) FROM outbox WHERE fanned_out_ms IS NULL) AS unfanned,
                        (SELECT MIN(created_ms) FROM outbox WHERE fanned_out_ms IS NULL)
                            AS oldest_unfanned,
                        (SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending')
                            AS pending,
                        (SELECT MIN(created_ms) FROM webhook_deliveries WHERE status = 'pending')
                            AS oldest_pending,
                        (SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'failed') AS failed",
                )
                .fetch_one(&self.$read)
                .await?;
                Ok(row.into())
            }

            async fn prune_outbox(&self, before_ms: i64) -> Result<u64, crate::StoreError> {
                // In slices, so that no one statement holds the (SQLite) writer for long.
                const SLICE: i64 = 1_000;
                loop {
                    let done = sqlx::query(
                        "DELETE FROM webhook_deliveries WHERE id IN (
                            SELECT id FROM webhook_deliveries
                            WHERE status = 'delivered' AND done_ms < $1 LIMIT $2)",
                    )
                    .bind(before_ms)
                    .bind(SLICE)
                    .execute(&self.$write)
                    .await?;
                    if done.rows_affected() < SLICE as u64 {
                        break;
                    }
                }
                let mut pruned = 0;
                loop {
                    let done = sqlx::query(
                        "DELETE FROM outbox WHERE id IN (
                            SELECT o.id FROM outbox o
                            WHERE o.fanned_out_ms IS NOT NULL AND o.fanned_out_ms < $1
                              AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                                              WHERE d.outbox_id = o.id)
                            LIMIT $2)",
                    )
                    .bind(before_ms)
                    .bind(SLICE)
                    .execute(&self.$write)
                    .await?;
                    pruned += done.rows_affected();
                    if done.rows_affected() < SLICE as u64 {
                        break;
                    }
                }
                Ok(pruned)
            }
        }
    };
}

webhook_store!(crate::SqliteStore, sqlx::Sqlite, writer, reader, "", committer);
webhook_store!(crate::PostgresStore, sqlx::Postgres, pool, pool, "FOR UPDATE SKIP LOCKED", sqlx);
