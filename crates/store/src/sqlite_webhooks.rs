//! SQLite: the webhook worker's frequent writes (claiming outbox rows, fanning them
//! out, claiming deliveries, recording attempts) in the chat's group commits
//! ([`crate::sqlite_commit::ChatCommitter::run`]) instead of transactions of their own
//! through the pool. Under a steady stream of turns every round of the worker took the
//! one writer from the committer, statement by statement through sqlx's connection
//! thread, and paid a commit of its own: turns waited behind it (8 workers: 2,600
//! turns/s with the worker running, 3,500 without). The statements are the ones
//! `webhooks_sql` runs on PostgreSQL, less `FOR UPDATE SKIP LOCKED` (one writer
//! serializes claims here).

use rusqlite::params;

use crate::{
    sqlite_writes::sqlite_error,
    webhooks::{AttemptRecord, DeliveryClaim, FanOut, OutboxMessage},
    webhooks_sql::{attempt_outcome, convert, ClaimRecord, OutboxRecord},
    SqliteStore, StoreError,
};

pub(crate) async fn claim_unfanned(
    store: &SqliteStore,
    now_ms: i64,
    lease_ms: i64,
    limit: u32,
) -> Result<Vec<OutboxMessage>, StoreError> {
    let rows = store
        .chat
        .run(move |db| {
            db.prepare_cached(
                "UPDATE outbox SET lease_ms = ?1 + ?2
                 WHERE id IN (SELECT id FROM outbox
                              WHERE fanned_out_ms IS NULL AND (lease_ms IS NULL OR lease_ms < ?1)
                              ORDER BY id LIMIT ?3)
                 RETURNING id, event_id, topic, stream, seq, payload",
            )
            .and_then(|mut claim| {
                claim
                    .query_map(params![now_ms, lease_ms, i64::from(limit)], |row| {
                        Ok((
                            row.get::<_, i64>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, Option<String>>(3)?,
                            row.get::<_, Option<i64>>(4)?,
                            row.get::<_, String>(5)?,
                        ))
                    })?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(sqlite_error)
        })
        .await?;
    // The payloads are parsed here, off the committer's thread.
    let records = rows
        .into_iter()
        .map(|(id, event_id, topic, stream, seq, payload)| {
            let payload = serde_json::from_str(&payload)
                .map_err(|e| StoreError::Corrupt(format!("outbox row {id}'s payload: {e}")))?;
            Ok(OutboxRecord { id, event_id, topic, stream, seq, payload })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut messages: Vec<OutboxMessage> = convert(records)?;
    messages.sort_by_key(|m| m.id);
    Ok(messages)
}

pub(crate) async fn fan_out(
    store: &SqliteStore,
    rows: &[FanOut],
    now_ms: i64,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let rows = rows.to_vec();
    store
        .chat
        .run(move |db| {
            let mut fanned = db
                .prepare_cached(
                    "UPDATE outbox SET body = ?1, fanned_out_ms = ?2, lease_ms = NULL
                     WHERE id = ?3 AND fanned_out_ms IS NULL",
                )
                .map_err(sqlite_error)?;
            for row in rows.iter() {
                let done = fanned
                    .execute(params![row.body, now_ms, row.outbox_id])
                    .map_err(sqlite_error)?;
                if done == 0 {
                    // Fanned out by another worker whose lease we outlived.
                    continue;
                }
                if !row.endpoint_ids.is_empty() {
                    let mut delivery = db
                        .prepare_cached(
                            "INSERT INTO webhook_deliveries
                                (outbox_id, endpoint_id, stream, seq, created_ms, next_attempt_ms)
                             SELECT o.id, e.id, o.stream, o.seq, COALESCE(o.created_ms, ?3), ?3
                             FROM outbox o, webhook_endpoints e
                             WHERE o.id = ?1 AND e.id = ?2
                             ON CONFLICT (outbox_id, endpoint_id) DO NOTHING",
                        )
                        .map_err(sqlite_error)?;
                    for endpoint in &row.endpoint_ids {
                        delivery
                            .execute(params![row.outbox_id, endpoint, now_ms])
                            .map_err(sqlite_error)?;
                    }
                }
                if let Some(email) = &row.email {
                    db.prepare_cached(
                        "INSERT INTO email_deliveries
                            (outbox_id, event_id, topic, stream, seq, order_number, rma,
                             recipient, message_id, subject, message, created_ms,
                             next_attempt_ms)
                         SELECT o.id, o.event_id, o.topic, o.stream, o.seq, ?2, ?3, ?4, ?5,
                                ?6, ?7, COALESCE(o.created_ms, ?8), ?8
                         FROM outbox o WHERE o.id = ?1
                         ON CONFLICT (outbox_id) DO NOTHING",
                    )
                    .and_then(|mut insert| {
                        insert.execute(params![
                            row.outbox_id,
                            email.order_number,
                            email.rma,
                            email.recipient,
                            email.message_id,
                            email.subject,
                            email.message,
                            now_ms,
                        ])
                    })
                    .map_err(sqlite_error)?;
                }
            }
            Ok(())
        })
        .await
}

pub(crate) async fn claim_deliveries(
    store: &SqliteStore,
    now_ms: i64,
    lease_ms: i64,
    limit: u32,
) -> Result<Vec<DeliveryClaim>, StoreError> {
    let records = store
        .chat
        .run(move |db| {
            let ids = db
                .prepare_cached(
                    "UPDATE webhook_deliveries SET lease_ms = ?1 + ?2
                     WHERE id IN (
                        SELECT d.id FROM webhook_deliveries d
                        WHERE d.status = 'pending' AND d.next_attempt_ms <= ?1
                          AND (d.lease_ms IS NULL OR d.lease_ms < ?1)
                          AND EXISTS (SELECT 1 FROM webhook_endpoints e
                                      WHERE e.id = d.endpoint_id AND NOT e.paused)
                          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
                                          WHERE p.endpoint_id = d.endpoint_id
                                            AND p.stream = d.stream AND p.status = 'pending'
                                            AND p.seq < d.seq)
                          AND NOT EXISTS (SELECT 1 FROM outbox o
                                          WHERE o.stream = d.stream AND o.seq < d.seq
                                            AND o.fanned_out_ms IS NULL)
                        ORDER BY d.next_attempt_ms, d.id LIMIT ?3)
                     RETURNING id",
                )
                .and_then(|mut claim| {
                    claim
                        .query_map(params![now_ms, lease_ms, i64::from(limit)], |row| {
                            row.get::<_, i64>(0)
                        })?
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(sqlite_error)?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let ids = serde_json::to_string(&ids)
                .map_err(|e| StoreError::Corrupt(format!("claimed ids: {e}")))?;
            db.prepare_cached(
                "SELECT d.id, d.endpoint_id, e.url, e.secret, o.event_id, o.topic, o.body,
                        d.attempts, d.first_attempt_ms, d.created_ms
                 FROM webhook_deliveries d
                 JOIN webhook_endpoints e ON e.id = d.endpoint_id
                 JOIN outbox o ON o.id = d.outbox_id
                 WHERE d.id IN (SELECT value FROM json_each(?1))
                 ORDER BY d.next_attempt_ms, d.id",
            )
            .and_then(|mut read| {
                read.query_map([ids], |row| {
                    Ok(ClaimRecord {
                        id: row.get(0)?,
                        endpoint_id: row.get(1)?,
                        url: row.get(2)?,
                        secret: row.get(3)?,
                        event_id: row.get(4)?,
                        topic: row.get(5)?,
                        body: row.get(6)?,
                        attempts: row.get(7)?,
                        first_attempt_ms: row.get(8)?,
                        created_ms: row.get(9)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()
            })
            .map_err(sqlite_error)
        })
        .await?;
    convert(records)
}

pub(crate) async fn record_attempts(
    store: &SqliteStore,
    attempts: &[AttemptRecord],
) -> Result<(), StoreError> {
    if attempts.is_empty() {
        return Ok(());
    }
    let attempts = attempts.to_vec();
    store
        .chat
        .run(move |db| {
            let mut record = db
                .prepare_cached(
                    "UPDATE webhook_deliveries
                     SET attempts = attempts + 1, lease_ms = NULL, last_attempt_ms = ?2,
                         first_attempt_ms = COALESCE(first_attempt_ms, ?2), last_status = ?3,
                         last_latency_ms = ?4, last_error = ?5, status = ?6,
                         next_attempt_ms = ?7, done_ms = ?8
                     WHERE id = ?1 AND status = 'pending'",
                )
                .map_err(sqlite_error)?;
            for attempt in attempts.iter() {
                let (status, next_ms, done_ms) = attempt_outcome(attempt);
                record
                    .execute(params![
                        attempt.delivery_id,
                        attempt.at_ms,
                        attempt.status_code.map(i64::from),
                        i64::from(attempt.latency_ms),
                        attempt.error,
                        status.as_str(),
                        next_ms,
                        done_ms,
                    ])
                    .map_err(sqlite_error)?;
            }
            Ok(())
        })
        .await
}
