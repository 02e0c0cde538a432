//! SQLite: the facts behind the staff dashboard. Times are compared as fixed-width UTC
//! text (see `sqlite_sessions.rs`); `orders.confirmed_at` is still written by sqlx as
//! RFC 3339, which compares the same way except within a second of a bound.

use std::collections::HashMap;

use async_trait::async_trait;
use gapless_domain::staff_metrics::{
    rounded_unix_ms, ConversationDays, DeliveryDays, DeliveryMisses, LISTED,
};
use sqlx::{FromRow, Row};
use time::{Date, OffsetDateTime};

use crate::{
    dashboard_days::{
        conversation_days, day_ms, delivery_days, misses_sql, DayRow, DeliveryRow,
        FulfilmentLeadRow, LeadTimeRow,
    },
    sqlite::SqliteStore,
    sqlite_sessions::sortable,
    ConversationFactRow, DashboardStore, OrderFulfilmentFactRow, OrderReturnFactRow, ReturnFactRow,
    ReturnItemFactRow, StoreError, CLARIFICATION_CODES,
};

#[async_trait]
impl DashboardStore for SqliteStore {
    async fn conversation_facts(
        &self,
        from: time::OffsetDateTime,
        to: time::OffsetDateTime,
    ) -> Result<Vec<ConversationFactRow>, StoreError> {
        let codes = sql_list(&CLARIFICATION_CODES);
        Ok(sqlx::query_as::<_, ConversationFactRow>(&format!(
            "SELECT c.id, c.started_at, c.updated_at, c.outcome,
                c.handoff_at IS NOT NULL AS handed_off, c.turn_count AS turns,
                o.number AS order_number, o.confirmed_at, o.payment_status,
                (SELECT MIN(t.received_at) FROM chat_turns t WHERE t.conversation_id = c.id)
                    AS first_message_at,
                (SELECT COUNT(*) FROM chat_turns t WHERE t.conversation_id = c.id AND EXISTS (
                    SELECT 1 FROM json_each(t.response, '$.messages') m
                    WHERE json_extract(m.value, '$.code') IN ({codes}))) AS clarification_turns
             FROM conversations c LEFT JOIN orders o ON o.id = c.order_id
             WHERE (c.started_at >= ?1 AND c.started_at < ?2)
                OR (o.confirmed_at >= ?1 AND o.confirmed_at < ?2)"
        ))
        .bind(sortable(from)?)
        .bind(sortable(to)?)
        .fetch_all(&self.reader)
        .await?)
    }

    async fn conversation_days(
        &self,
        from: Date,
        to: Date,
    ) -> Result<ConversationDays, StoreError> {
        let days = sqlx::query_as::<_, DayRow>(
            "SELECT day, conversations, turns, clarification_turns, orders, confirmed,
                exceptions, handed_off, payment_links, paid, orders_confirmed
             FROM dashboard_days WHERE day >= ?1 AND day < ?2 ORDER BY day",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.reader)
        .await?;
        let leads = sqlx::query_as::<_, LeadTimeRow>(
            "SELECT ?1 AS day, lead_ms, SUM(conversations) AS conversations
             FROM dashboard_lead_times WHERE day >= ?1 AND day < ?2
             GROUP BY lead_ms HAVING SUM(conversations) > 0 ORDER BY lead_ms",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.reader)
        .await?;
        conversation_days(days, leads)
    }

    async fn return_facts(
        &self,
        from: time::OffsetDateTime,
        to: time::OffsetDateTime,
    ) -> Result<Vec<ReturnFactRow>, StoreError> {
        const IN_PERIOD: &str = "(r.requested_at >= ?1 AND r.requested_at < ?2)
            OR EXISTS (SELECT 1 FROM return_events e WHERE e.return_id = r.id
                AND e.type IN ('refunded', 'exchanged', 'credited')
                AND e.created_at >= ?1 AND e.created_at < ?2)";
        let (from, to) = (sortable(from)?, sortable(to)?);
        let rows = sqlx::query(&format!(
            "SELECT r.id, r.rma, r.status, r.requested_at,
                (SELECT MIN(e.created_at) FROM return_events e
                 WHERE e.return_id = r.id AND e.type = 'received') AS received_at,
                (SELECT MIN(e.created_at) FROM return_events e
                 WHERE e.return_id = r.id AND e.type IN ('refunded', 'exchanged', 'credited'))
                    AS completed_at
             FROM returns r WHERE {IN_PERIOD}
             ORDER BY r.requested_at, r.id"
        ))
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.reader)
        .await?;
        let items = sqlx::query(&format!(
            "SELECT i.return_id, i.sku, COALESCE(l.name, i.sku) AS name, i.reason, i.decision,
                i.quantity
             FROM returns r JOIN return_items i ON i.return_id = r.id
             LEFT JOIN order_lines l ON l.order_id = r.order_id AND l.position = i.line
             WHERE {IN_PERIOD}
             ORDER BY i.return_id, i.position"
        ))
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.reader)
        .await?;
        let mut by_return: HashMap<String, Vec<ReturnItemFactRow>> = HashMap::new();
        for row in &items {
            by_return
                .entry(row.try_get("return_id")?)
                .or_default()
                .push(ReturnItemFactRow::from_row(row)?);
        }
        rows.iter()
            .map(|row| {
                let mut fact = ReturnFactRow::from_row(row)?;
                fact.items = by_return.remove(&row.try_get::<String, _>("id")?).unwrap_or_default();
                Ok(fact)
            })
            .collect()
    }

    async fn order_fulfilment_facts(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<OrderFulfilmentFactRow>, StoreError> {
        // `confirmed_at` is written by sqlx as RFC 3339 (see sqlite_dashboard.rs), which
        // compares as text the same way except within a second of a bound.
        let (from, to) = (sortable(from)?, sortable(to)?);
        let rows = sqlx::query(
            "SELECT o.id, o.number, o.status, o.confirmed_at, o.shipped_at, o.delivered_at,
                c.handoff_at IS NOT NULL AS handed_off
             FROM orders o LEFT JOIN conversations c ON c.id = o.conversation_id
             WHERE o.confirmed_at >= ?1 AND o.confirmed_at < ?2
             ORDER BY o.confirmed_at, o.id",
        )
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.reader)
        .await?;
        let items = sqlx::query(
            "SELECT r.order_id, r.requested_at, r.status, i.reason
             FROM orders o JOIN returns r ON r.order_id = o.id
             JOIN return_items i ON i.return_id = r.id
             WHERE o.confirmed_at >= ?1 AND o.confirmed_at < ?2 AND r.status <> 'cancelled'
             ORDER BY r.requested_at, i.position",
        )
        .bind(&from)
        .bind(&to)
        .fetch_all(&self.reader)
        .await?;
        let mut returns: HashMap<String, Vec<OrderReturnFactRow>> = HashMap::new();
        for row in &items {
            returns
                .entry(row.try_get("order_id")?)
                .or_default()
                .push(OrderReturnFactRow::from_row(row)?);
        }
        rows.iter()
            .map(|row| {
                let mut fact = OrderFulfilmentFactRow::from_row(row)?;
                fact.returns = returns.remove(&row.try_get::<String, _>("id")?).unwrap_or_default();
                Ok(fact)
            })
            .collect()
    }

    async fn delivery_days(&self, from: Date, to: Date) -> Result<DeliveryDays, StoreError> {
        let rows = sqlx::query_as::<_, DeliveryRow>(
            "SELECT ?1 AS day, delivered_days, in_full, exception, returned,
                SUM(orders) AS orders
             FROM dashboard_deliveries WHERE day >= ?1 AND day < ?2 AND delivered_days >= 0
             GROUP BY delivered_days, in_full, exception, returned HAVING SUM(orders) > 0
             UNION ALL
             SELECT day, delivered_days, in_full, exception, returned, orders
             FROM dashboard_deliveries
             WHERE day >= ?1 AND day < ?2 AND delivered_days < 0 AND orders > 0",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.reader)
        .await?;
        let leads = sqlx::query_as::<_, FulfilmentLeadRow>(
            "SELECT ?1 AS day, leg, lead_ms, SUM(orders) AS orders
             FROM dashboard_fulfilment_times WHERE day >= ?1 AND day < ?2
             GROUP BY leg, lead_ms HAVING SUM(orders) > 0",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.reader)
        .await?;
        delivery_days(rows, leads)
    }

    async fn delivery_misses(
        &self,
        from: Date,
        to: Date,
        promise_days: i64,
        due_by: OffsetDateTime,
    ) -> Result<DeliveryMisses, StoreError> {
        let read = |not_perfect| async move {
            sqlx::query_scalar::<_, String>(&misses_sql(
                |n| format!("?{n}"),
                "delivered_days",
                not_perfect,
            ))
            .bind(day_ms(from))
            .bind(day_ms(to))
            .bind(promise_days)
            .bind(rounded_unix_ms(due_by))
            .bind(LISTED as i64)
            .fetch_all(&self.reader)
            .await
        };
        Ok(DeliveryMisses { late: read(false).await?, not_perfect: read(true).await? })
    }
}

/// `'a', 'b'`: constant codes as an SQL list (never user input).
pub(crate) fn sql_list(codes: &[&str]) -> String {
    codes.iter().map(|code| format!("'{code}'")).collect::<Vec<_>>().join(", ")
}
