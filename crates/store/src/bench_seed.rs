//! Bench data only (`gapless bench-dashboard`): synthetic conversations written straight
//! into the tables by set-based SQL, a million in minutes instead of hours of chat turns.
//! The dashboard's triggers run for every row, as they do for real writes, so the sums
//! the bench reads are the ones the triggers keep.
//!
//! Conversation `i` of `total` starts `(total - i)` minutes before `now`, has `1 + i % 3`
//! turns a second apart (every fifth turn asks to clarify), a confirmed order when `i` is a
//! multiple of 10 (confirmed `1 + i % 600` seconds after its first message), and is handed
//! off when `i` is a multiple of 7 and has no order. Order `j = i / 10` ships
//! `6 + j % 43` hours after its confirmation and, unless `j` is a multiple of 9, is
//! delivered `30 + j % 100` hours after it (a tenth late for a promise of 5 days) when
//! that is not after `now`. Ids start with `bench-`.

use time::OffsetDateTime;

use crate::{postgres::PostgresStore, sqlite::SqliteStore, StoreError};

/// Rows per transaction while seeding.
const CHUNK: u64 = 50_000;

/// The JSON of a turn that asked the shopper to clarify.
const UNSURE: &str = r#"{"reply":"Which one?","messages":[{"type":"error","code":"unknown_product","param":"kayak","content":"We do not sell that."}]}"#;
const FINE: &str = r#"{"reply":"Noted."}"#;

impl SqliteStore {
    /// Writes bench conversations `first..first + count` of `total`; see the module docs.
    pub async fn seed_bench_conversations(
        &self,
        first: u64,
        count: u64,
        total: u64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let now = now.unix_timestamp();
        let mut start = first;
        while start < first + count {
            let end = (start + CHUNK).min(first + count) - 1;
            let mut tx = self.writer.begin().await?;
            // The start as seconds since the epoch, then as the stored fixed-width text.
            const STARTED: &str = "(?3 - (?4 - i) * 60)";
            let text = |seconds: &str| {
                format!("strftime('%Y-%m-%dT%H:%M:%S.000000Z', {seconds}, 'unixepoch')")
            };
            let numbers =
                "WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)";
            sqlx::query(&format!(
                "{numbers}
                 INSERT INTO conversations (id, channel, started_at, updated_at, outcome)
                 SELECT printf('bench-%09d', i), 'bench', {started}, {updated},
                     CASE WHEN i % 10 = 0 THEN 'ordered'
                          WHEN i % 7 = 0 THEN 'handed_off' ELSE 'open' END
                 FROM n",
                started = text(STARTED),
                updated = text(&format!("{STARTED} + 3")),
            ))
            .bind(start as i64)
            .bind(end as i64)
            .bind(now)
            .bind(total as i64)
            .execute(&mut *tx)
            .await?;
            sqlx::query(&format!(
                "{numbers}, t(seq) AS (VALUES (1), (2), (3))
                 INSERT INTO chat_turns (id, conversation_id, seq, text, received_at, extractor,
                     audit, reply, response)
                 SELECT printf('bench-%09d-%d', i, seq), printf('bench-%09d', i), seq,
                     'two black tees in M please', {received}, 'rules', '{{}}', 'Noted.',
                     CASE WHEN (i + seq) % 5 = 0 THEN ?5 ELSE ?6 END
                 FROM n JOIN t ON t.seq <= 1 + i % 3",
                received = text(&format!("{STARTED} + seq")),
            ))
            .bind(start as i64)
            .bind(end as i64)
            .bind(now)
            .bind(total as i64)
            .bind(UNSURE)
            .bind(FINE)
            .execute(&mut *tx)
            .await?;
            // Seconds since the epoch: the confirmation, and hours after it.
            let confirmed_at = format!("{STARTED} + 2 + i % 600");
            let shipped_at = format!("{confirmed_at} + (6 + (i / 10) % 43) * 3600");
            let delivered_at = format!("{confirmed_at} + (30 + (i / 10) % 100) * 3600");
            let (confirmed, shipped, delivered) =
                (text(&confirmed_at), text(&shipped_at), text(&delivered_at));
            sqlx::query(&format!(
                "{numbers}
                 INSERT INTO orders (id, number, conversation_id, status, currency, subtotal,
                     shipping, total, version, created_at, updated_at, confirmed_at,
                     shipped_at, delivered_at)
                 SELECT printf('bench-order-%09d', i), printf('B-%09d', i),
                     printf('bench-%09d', i), 'confirmed', 'USD', 2500, 0, 2500, 1,
                     {confirmed}, {confirmed}, {confirmed}, {shipped},
                     CASE WHEN (i / 10) % 9 <> 0 AND {delivered_at} <= ?3 THEN {delivered} END
                 FROM n WHERE i % 10 = 0"
            ))
            .bind(start as i64)
            .bind(end as i64)
            .bind(now)
            .bind(total as i64)
            .execute(&mut *tx)
            .await?;
            // The turn count, order and handoff: the update the dashboard's trigger counts.
            sqlx::query(&format!(
                "{numbers}
                 UPDATE conversations SET turn_count = 1 + n.i % 3,
                     order_id = CASE WHEN n.i % 10 = 0 THEN printf('bench-order-%09d', n.i) END,
                     handoff_at = CASE WHEN n.i % 10 <> 0 AND n.i % 7 = 0
                         THEN conversations.updated_at END
                 FROM n WHERE conversations.id = printf('bench-%09d', n.i)"
            ))
            .bind(start as i64)
            .bind(end as i64)
            .execute(&mut *tx)
            .await?;
            // The shopper's words into the search index, as the committer does behind
            // real turns.
            let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(rowid), 0) FROM chat_turns")
                .fetch_one(&mut *tx)
                .await?;
            for sql in crate::sqlite_search::INDEX_UP_TO {
                sqlx::query(sql).bind(last).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            start = end + 1;
        }
        Ok(())
    }
}

impl PostgresStore {
    /// Writes bench conversations `first..first + count` of `total`; see the module docs.
    pub async fn seed_bench_conversations(
        &self,
        first: u64,
        count: u64,
        total: u64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut start = first;
        while start < first + count {
            let end = (start + CHUNK).min(first + count) - 1;
            let mut tx = self.pool.begin().await?;
            const STARTED: &str = "($3::timestamptz - ($4 - i) * interval '1 minute')";
            sqlx::query(&format!(
                "INSERT INTO conversations (id, channel, started_at, updated_at, outcome)
                 SELECT 'bench-' || lpad(i::text, 9, '0'), 'bench', {STARTED},
                     {STARTED} + interval '3 seconds',
                     CASE WHEN i % 10 = 0 THEN 'ordered'
                          WHEN i % 7 = 0 THEN 'handed_off' ELSE 'open' END
                 FROM generate_series($1::bigint, $2::bigint) i"
            ))
            .bind(start as i64)
            .bind(end as i64)
            .bind(now)
            .bind(total as i64)
            .execute(&mut *tx)
            .await?;
            sqlx::query(&format!(
                "INSERT INTO chat_turns (id, conversation_id, seq, text, received_at, extractor,
                     audit, reply, response)
                 SELECT 'bench-' || lpad(i::text, 9, '0') || '-' || seq,
                     'bench-' || lpad(i::text, 9, '0'), seq, 'two black tees in M please',
                     {STARTED} + seq * interval '1 second', 'rules', '{{}}', 'Noted.',
                     CASE WHEN (i + seq) % 5 = 0 THEN $5::jsonb ELSE $6::jsonb END
                 FROM generate_series($1::bigint, $2::bigint) i,
                     generate_series(1, 3) seq
                 WHERE seq <= 1 + i % 3"
            ))
            .bind(start as i64)
            .bind(end as i64)
            .bind(now)
            .bind(total as i64)
            .bind(UNSURE)
            .bind(FINE)
            .execute(&mut *tx)
            .await?;
            sqlx::query(&format!(
                "INSERT INTO orders (id, number, conversation_id, status, currency, subtotal,
                     shipping, total, version, created_at, updated_at, confirmed_at,
                     shipped_at, delivered_at)
                 SELECT 'bench-order-' || lpad(i::text, 9, '0'), 'B-' || lpad(i::text, 9, '0'),
                     'bench-' || lpad(i::text, 9, '0'), 'confirmed', 'USD', 2500, 0, 2500, 1,
                     {confirmed}, {confirmed}, {confirmed},
                     {confirmed} + (6 + (i / 10) % 43) * interval '1 hour',
                     CASE WHEN (i / 10) % 9 <> 0
                         AND {confirmed} + (30 + (i / 10) % 100) * interval '1 hour' <= $3
                         THEN {confirmed} + (30 + (i / 10) % 100) * interval '1 hour' END
                 FROM generate_series($1::bigint, $2::bigint) i WHERE i % 10 = 0",
                confirmed = format!("{STARTED} + (2 + i % 600) * interval '1 second'"),
            ))
            .bind(start as i64)
            .bind(end as i64)
            .bind(now)
            .bind(total as i64)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE conversations c SET turn_count = 1 + i % 3,
                     order_id = CASE WHEN i % 10 = 0
                         THEN 'bench-order-' || lpad(i::text, 9, '0') END,
                     handoff_at = CASE WHEN i % 10 <> 0 AND i % 7 = 0 THEN c.updated_at END
                 FROM generate_series($1::bigint, $2::bigint) i
                 WHERE c.id = 'bench-' || lpad(i::text, 9, '0')",
            )
            .bind(start as i64)
            .bind(end as i64)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            start = end + 1;
        }
        // Millions of updates in minutes leave the per-day sums' tables full of dead row
        // versions that autovacuum would clear over the days a real shop takes to get
        // there; the bench reads them as they would be then.
        sqlx::query(
            "VACUUM ANALYZE dashboard_days, dashboard_lead_times, dashboard_conversations,
                dashboard_orders, dashboard_deliveries, dashboard_fulfilment_times",
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
