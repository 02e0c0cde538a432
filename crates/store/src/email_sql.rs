//! [`EmailStore`](crate::EmailStore) for both backends from one text, as
//! `webhooks_sql.rs` does for webhooks: the same `$N` SQL, with `FOR UPDATE SKIP
//! LOCKED` on PostgreSQL's claim so that several app servers never take one message at
//! once.

/// Implements [`crate::EmailStore`] for `$store` on database `$db`, writing through
/// `self.$write` and reading through `self.$read`, with `$lock` after the claiming
/// select.
macro_rules! email_store {
    ($store:ty, $db:ty, $write:ident, $read:ident, $lock:literal) => {
        #[async_trait::async_trait]
        impl crate::email::EmailStore for $store {
            async fn claim_emails(
                &self,
                now_ms: i64,
                lease_ms: i64,
                limit: u32,
            ) -> Result<Vec<crate::email::EmailClaim>, crate::StoreError> {
                let mut claims = sqlx::query_as::<_, crate::email::EmailClaim>(concat!(
                    "UPDATE email_deliveries SET lease_ms = $1 + $2
                     WHERE id IN (
                        SELECT m.id FROM email_deliveries m
                        WHERE m.status = 'pending' AND m.next_attempt_ms <= $1
                          AND (m.lease_ms IS NULL OR m.lease_ms < $1)
                          AND NOT EXISTS (SELECT 1 FROM email_deliveries p
                                          WHERE p.stream = m.stream AND p.status = 'pending'
                                            AND p.seq < m.seq)
                          AND NOT EXISTS (SELECT 1 FROM outbox o
                                          WHERE o.stream = m.stream AND o.seq < m.seq
                                            AND o.fanned_out_ms IS NULL)
                        ORDER BY m.next_attempt_ms, m.id LIMIT $3 ",
                    $lock,
                    ")
                     RETURNING id, topic, recipient, message_id, message, attempts,
                               first_attempt_ms"
                ))
                .bind(now_ms)
                .bind(lease_ms)
                .bind(i64::from(limit))
                .fetch_all(&self.$write)
                .await?;
                claims.sort_by_key(|c| c.id);
                Ok(claims)
            }

            async fn record_email_attempts(
                &self,
                attempts: &[crate::email::EmailAttempt],
            ) -> Result<(), crate::StoreError> {
                use crate::{email::EmailStatus, webhooks::AttemptNext};
                if attempts.is_empty() {
                    return Ok(());
                }
                let mut tx = self.$write.begin().await?;
                for attempt in attempts {
                let (status, next_ms, done_ms) = match attempt.next {
                    AttemptNext::Delivered => {
                        (EmailStatus::Sent, attempt.at_ms, Some(attempt.at_ms))
                    }
                    AttemptNext::RetryAt(at) => (EmailStatus::Pending, at, None),
                    AttemptNext::Failed => (EmailStatus::Failed, attempt.at_ms, Some(attempt.at_ms)),
                };
                sqlx::query(
                    "UPDATE email_deliveries
                     SET attempts = attempts + 1, lease_ms = NULL, last_attempt_ms = $2,
                         first_attempt_ms = COALESCE(first_attempt_ms, $2), last_error = $3,
                         status = $4, next_attempt_ms = $5, done_ms = $6
                     WHERE id = $1 AND status = 'pending'",
                )
                .bind(attempt.email_id)
                .bind(attempt.at_ms)
                .bind(attempt.error.as_deref())
                .bind(status.as_str())
                .bind(next_ms)
                .bind(done_ms)
                .execute(&mut *tx)
                .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn release_emails(&self, ids: &[i64]) -> Result<(), crate::StoreError> {
                if ids.is_empty() {
                    return Ok(());
                }
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "UPDATE email_deliveries SET lease_ms = NULL WHERE status = 'pending' AND id IN (",
                );
                let mut list = query.separated(", ");
                for id in ids {
                    list.push_bind(*id);
                }
                query.push(")");
                query.build().execute(&self.$write).await?;
                Ok(())
            }

            async fn order_emails(
                &self,
                order_number: &str,
            ) -> Result<Vec<crate::email::EmailRow>, crate::StoreError> {
                Ok(sqlx::query_as::<_, crate::email::EmailRow>(
                    "SELECT id, event_id, topic, order_number, rma, recipient, subject, status,
                            attempts, created_ms, next_attempt_ms, last_attempt_ms, last_error,
                            done_ms
                     FROM email_deliveries WHERE order_number = $1 ORDER BY id",
                )
                .bind(order_number)
                .fetch_all(&self.$read)
                .await?)
            }

            async fn email_health(&self) -> Result<crate::email::EmailHealth, crate::StoreError> {
                let (pending, oldest_pending_ms, failed, sent) =
                    sqlx::query_as::<_, (i64, Option<i64>, i64, i64)>(
                    "SELECT
                        (SELECT COUNT(*) FROM email_deliveries WHERE status = 'pending') AS pending,
                        (SELECT MIN(created_ms) FROM email_deliveries WHERE status = 'pending')
                            AS oldest_pending,
                        (SELECT COUNT(*) FROM email_deliveries WHERE status = 'failed') AS failed,
                        (SELECT COUNT(*) FROM email_deliveries WHERE status = 'sent') AS sent",
                )
                .fetch_one(&self.$read)
                .await?;
                let count = |n: i64| u64::try_from(n).unwrap_or(0);
                Ok(crate::email::EmailHealth {
                    pending: count(pending),
                    oldest_pending_ms,
                    failed: count(failed),
                    sent: count(sent),
                })
            }
        }
    };
}

email_store!(crate::SqliteStore, sqlx::Sqlite, writer, reader, "");
email_store!(crate::PostgresStore, sqlx::Postgres, pool, pool, "FOR UPDATE SKIP LOCKED");
