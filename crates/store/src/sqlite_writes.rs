//! SQLite: a chat turn's write and an order's write (events, projection, lines, outbox,
//! stock), run on the writer connection's SQLite handle directly instead of through
//! sqlx's statements. sqlx's SQLite driver hands every statement to the connection's
//! worker thread and waits for the answer: a turn is a dozen statements, and under load
//! those thread hand-offs were most of a turn's cost (~45 % of the server's samples in
//! the scheduler). Here a commit is one hand-off to lock the handle, then plain SQLite
//! calls with prepared statements. The chat's committer (`sqlite_commit`) runs its
//! whole transaction this way; fulfilment, payments and returns call [`write_order`]
//! through `sqlite_chat::write_order` inside their own sqlx transactions.
//!
//! Values are written exactly as sqlx wrote them: times bound as `OffsetDateTime` as
//! RFC 3339 text, sortable times through [`sortable`], JSON as its text, booleans as
//! 0/1.

use gapless_domain::orders::OrderStatus;
use rusqlite::{params, Connection, OptionalExtension};
use sqlx::{sqlite::LockedSqliteHandle, SqliteConnection};
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

use crate::{option_key, records::*, sqlite_sessions::sortable, OrderSource, StockKey, StoreError};

/// Statements prepared on the writer connection's handle, kept between calls so that
/// they are compiled once (a statement on a table with triggers compiles them too, which
/// costs more than running it). Only the committer keeps them, and it finalizes them
/// with the handle locked (`finalize`). The writer connection lives as long as the store
/// (no lifetime or idle limit, no ping that could close it), and while statements of a
/// connection are open SQLite refuses to close it, so the handle stays valid while they
/// exist even if sqlx gave up on it (sqlx then panics in its drop instead of closing).
#[derive(Default)]
pub(crate) struct KeptStatements(Option<(usize, Connection)>);

/// Statements a compiled turn cycles through (savepoints, the turn, the order, its
/// lines, events, outbox, stock), and the webhook worker's claims and records beside
/// them: rusqlite's default of 16 is too few, and a cache that is smaller than a cycle
/// misses every time.
const KEPT: usize = 96;

impl KeptStatements {
    /// Finalizes the statements; `handle` is of the connection they were prepared on.
    pub(crate) fn finalize(&mut self, handle: &mut LockedSqliteHandle<'_>) {
        match self.0.take() {
            Some((address, db)) if address == handle.as_raw_handle().as_ptr() as usize => drop(db),
            // Of another connection, which sqlx may be closing meanwhile: left as they
            // are rather than finalized without its lock.
            Some((_, db)) => std::mem::forget(db),
            None => {}
        }
    }

    /// When the statements cannot be finalized under their connection's lock (the
    /// runtime is gone at shutdown): left as they are, a few kilobytes.
    pub(crate) fn abandon(&mut self) {
        if let Some((_, db)) = self.0.take() {
            std::mem::forget(db);
        }
    }
}

/// Runs `work` on the locked handle of a connection (sqlx's worker thread leaves it
/// alone while `handle` lives), with statements prepared on earlier calls when `kept`
/// has them. `work` runs on the calling thread.
pub(crate) fn on_handle<T>(
    handle: &mut LockedSqliteHandle<'_>,
    kept: &mut KeptStatements,
    work: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let raw = handle.as_raw_handle().as_ptr();
    if kept.0.as_ref().map(|(address, _)| *address) != Some(raw as usize) {
        // A connection other than the one the kept statements were prepared on (sqlx
        // replaced it), or none yet: new statements are prepared as they are used, and
        // the old ones are left alone (see `finalize`).
        kept.abandon();
        // SAFETY: the handle is locked out from sqlx's worker thread while `handle`
        // lives, and the kept statements are only used or finalized under this lock;
        // `from_handle` never closes it (dropping the `Connection` finalizes the
        // statements it prepared, and clears hooks, of which this build of rusqlite has
        // none); and rusqlite links the same libsqlite3-sys as sqlx (one `links =
        // "sqlite3"` in the tree), so the pointer is to the same library.
        let db = unsafe { Connection::from_handle(raw) }.map_err(sqlite_error)?;
        db.set_prepared_statement_cache_capacity(KEPT);
        kept.0 = Some((raw as usize, db));
    }
    let (_, db) = kept.0.as_ref().expect("set above");
    work(db)
}

/// [`on_handle`] for one call, without keeping the statements: for writes that are not
/// on a hot path. Runs on the calling thread, a tokio worker: SQLite waits there (up to
/// the busy timeout) only when another process holds the write lock.
pub(crate) async fn once_on_handle<T>(
    connection: &mut SqliteConnection,
    work: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut handle = connection.lock_handle().await?;
    once_on_locked(&mut handle, work)
}

/// [`once_on_handle`] on a handle already locked.
pub(crate) fn once_on_locked<T>(
    handle: &mut LockedSqliteHandle<'_>,
    work: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    // SAFETY: as in `on_handle`; `db` is dropped, its statements finalized, before the
    // lock is released.
    let db = unsafe { Connection::from_handle(handle.as_raw_handle().as_ptr()) }
        .map_err(sqlite_error)?;
    let result = work(&db);
    drop(db);
    result
}

/// A turn's JSON as the text it is stored as, rendered before the turn reaches the
/// committer: the committer's thread is the serial part of every turn, and rendering the
/// audit, the response, the order's snapshot and its events was a good part of its work.
#[derive(Debug)]
pub(crate) struct TurnText {
    audit: String,
    response: String,
    order: Option<OrderText>,
}

impl TurnText {
    pub(crate) fn of(turn: &TurnWrite) -> Result<Self, StoreError> {
        Ok(TurnText {
            audit: text(&turn.audit)?,
            response: text(&turn.response)?,
            order: turn.order.as_ref().map(OrderText::of).transpose()?,
        })
    }
}

/// What the committer keeps of a turn beside its [`TurnText`]: the turn without its
/// JSON trees (the audit, the response, each event's payload, each line's choices, the
/// order's snapshot and address), which `write_turn` takes from the text instead. A
/// deep copy of those trees for the committer was a few percent of a turn's CPU, all of
/// it freed again unread.
pub(crate) fn rows_of(turn: &TurnWrite) -> TurnWrite {
    use serde_json::Value;
    // Present or not is kept: it decides whether a column is written at all.
    let presence = |value: &Option<Value>| value.as_ref().map(|_| Value::Null);
    TurnWrite {
        conversation_id: turn.conversation_id.clone(),
        turn_id: turn.turn_id.clone(),
        seq: turn.seq,
        text: turn.text.clone(),
        received_at: turn.received_at,
        idempotency_key: turn.idempotency_key.clone(),
        extractor: turn.extractor,
        audit: Value::Null,
        reply: turn.reply.clone(),
        response: Value::Null,
        outcome: turn.outcome,
        handoff: turn.handoff,
        order: turn.order.as_ref().map(|order| OrderWrite {
            order_id: order.order_id.clone(),
            number: order.number.clone(),
            expected_version: order.expected_version,
            events: order
                .events
                .iter()
                .map(|event| EventWrite {
                    id: event.id.clone(),
                    event_type: event.event_type.clone(),
                    schema_version: event.schema_version,
                    payload: Value::Null,
                })
                .collect(),
            actor: order.actor.clone(),
            projection: OrderProjection {
                status: order.projection.status,
                currency: order.projection.currency.clone(),
                subtotal: order.projection.subtotal,
                shipping: order.projection.shipping,
                total: order.projection.total,
                shipping_address: presence(&order.projection.shipping_address),
                customer: order.projection.customer.clone(),
                lines: order
                    .projection
                    .lines
                    .iter()
                    .map(|line| LineWrite {
                        sku: line.sku.clone(),
                        name: line.name.clone(),
                        quantity: line.quantity,
                        choices: Value::Null,
                        unit_price: line.unit_price,
                        total: line.total,
                    })
                    .collect(),
                shipped_at: order.projection.shipped_at,
                delivered_at: order.projection.delivered_at,
                payment_status: order.projection.payment_status,
                payment_expires_at: order.projection.payment_expires_at,
                snapshot: presence(&order.projection.snapshot),
            },
            reserve: order.reserve.clone(),
            release: order.release.clone(),
        }),
    }
}

/// An order write's JSON as text: the address, the snapshot, each line's choices, each
/// event's payload and its outbox message.
#[derive(Debug)]
pub(crate) struct OrderText {
    address: Option<String>,
    snapshot: Option<String>,
    choices: Vec<String>,
    payloads: Vec<String>,
    messages: Vec<String>,
}

impl OrderText {
    pub(crate) fn of(order: &OrderWrite) -> Result<Self, StoreError> {
        let projection = &order.projection;
        let messages = order
            .events
            .iter()
            .enumerate()
            .map(|(offset, event)| {
                text(&OrderOutboxMessage::of(order, event, event_seq(order, offset)))
            })
            .collect::<Result<_, _>>()?;
        Ok(OrderText {
            address: projection.shipping_address.as_ref().map(text).transpose()?,
            snapshot: projection.snapshot.as_ref().map(text).transpose()?,
            choices: projection
                .lines
                .iter()
                .map(|line| text(&line.choices))
                .collect::<Result<_, _>>()?,
            payloads: order
                .events
                .iter()
                .map(|event| text(&event.payload))
                .collect::<Result<_, _>>()?,
            messages,
        })
    }
}

/// The seq of the order's `offset`-th new event.
fn event_seq(order: &OrderWrite, offset: usize) -> i64 {
    i64::from(order.expected_version) + offset as i64 + 1
}

/// A turn's rows in the open transaction: the conversation's turn count (the
/// optimistic lock), the order's write if any, the audited turn. `text` is the turn's
/// [`TurnText`].
pub(crate) fn write_turn(
    db: &Connection,
    turn: &TurnWrite,
    text: &TurnText,
) -> Result<(), StoreError> {
    let now = OffsetDateTime::now_utc();
    let stamp = sortable(now)?;
    // Only the columns this turn changes are in the SET list: SQLite rewrites an
    // index's entry for every column in the list, changed or not, and the outcome's and
    // order's indexes cost a page a turn each that way.
    let sql = match (turn.outcome.is_some(), turn.handoff) {
        (false, false) => {
            "UPDATE conversations SET turn_count = ?1, updated_at = ?2
             WHERE id = ?4 AND turn_count = ?5"
        }
        (true, false) => {
            "UPDATE conversations SET turn_count = ?1, updated_at = ?2, outcome = ?3
             WHERE id = ?4 AND turn_count = ?5"
        }
        (false, true) => {
            "UPDATE conversations SET turn_count = ?1, updated_at = ?2,
                handoff_at = COALESCE(handoff_at, ?2)
             WHERE id = ?4 AND turn_count = ?5"
        }
        (true, true) => {
            "UPDATE conversations SET turn_count = ?1, updated_at = ?2, outcome = ?3,
                handoff_at = COALESCE(handoff_at, ?2)
             WHERE id = ?4 AND turn_count = ?5"
        }
    };
    let updated = db
        .prepare_cached(sql)
        .and_then(|mut update| {
            update.execute(params![
                i64::from(turn.seq),
                stamp,
                turn.outcome.map(|o| o.as_str()),
                turn.conversation_id,
                i64::from(turn.seq) - 1,
            ])
        })
        .map_err(sqlite_error)?;
    if updated == 0 {
        return Err(StoreError::Conflict("the conversation moved on".into()));
    }
    // Only a new order can be one the conversation does not point at yet: the chat
    // edits the conversation's own order, and a cancelled one is followed by a new one.
    // An order's later turns skip the statement (a lookup by the conversation's random
    // id each).
    let new_order = turn.order.as_ref().filter(|order| order.expected_version == 0);
    if let Some(order_id) = new_order.map(|order| order.order_id.as_str()) {
        // A row only when the conversation's order changes (its first draft).
        db.prepare_cached(
            "UPDATE conversations SET order_id = ?1 WHERE id = ?2 AND order_id IS NOT ?1",
        )
        .and_then(|mut update| update.execute(params![order_id, turn.conversation_id]))
        .map_err(sqlite_error)?;
    }
    match (&turn.order, &text.order) {
        (Some(order), Some(order_text)) => {
            write_order(db, OrderSource::turn(turn), order, order_text, now)?
        }
        (None, None) => {}
        // Never an order without its text: a text of another turn is a bug of ours,
        // and the turn is refused rather than stored without its order.
        _ => return Err(StoreError::Corrupt("a turn's order and its text do not match".into())),
    }
    let received_at = sortable(turn.received_at)?;
    db.prepare_cached(
        "INSERT INTO chat_turns (id, conversation_id, seq, text, received_at,
            idempotency_key, extractor, audit, reply, response)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .and_then(|mut insert| {
        insert.execute(params![
            turn.turn_id,
            turn.conversation_id,
            i64::from(turn.seq),
            turn.text,
            received_at,
            turn.idempotency_key,
            turn.extractor.as_str(),
            text.audit,
            turn.reply,
            text.response,
        ])
    })
    .map_err(write_conflict)?;
    Ok(())
}

/// An order's new events and its projection after them, in the open transaction. `text`
/// is the order's [`OrderText`].
pub(crate) fn write_order(
    db: &Connection,
    source: OrderSource<'_>,
    order: &OrderWrite,
    text: &OrderText,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let projection = &order.projection;
    let customer_id = match &projection.customer {
        None => None,
        Some(customer) => Some(upsert_customer(db, customer, now)?),
    };
    let version = i64::from(order.expected_version) + order.events.len() as i64;
    let now_text = rfc3339(now)?;
    let confirmed_at = (projection.status == OrderStatus::Confirmed).then_some(&now_text);
    let cancelled_at = (projection.status == OrderStatus::Cancelled).then_some(&now_text);
    let payment_expires_at = projection.payment_expires_at.map(sortable).transpose()?;
    let snapshot_version = projection.snapshot.as_ref().map(|_| version);
    if order.expected_version == 0 {
        db.prepare_cached(
            "INSERT INTO orders (id, number, conversation_id, status, currency, customer_id,
                subtotal, shipping, total, shipping_address, version, created_at, updated_at,
                confirmed_at, cancelled_at, payment_status, payment_expires_at, snapshot,
                snapshot_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13, ?14, ?15, ?16,
                ?17, ?18)",
        )
        .and_then(|mut insert| {
            insert.execute(params![
                order.order_id,
                order.number,
                source.conversation_id,
                projection.status.as_str(),
                projection.currency,
                customer_id,
                projection.subtotal,
                projection.shipping,
                projection.total,
                text.address,
                version,
                now_text,
                confirmed_at,
                cancelled_at,
                projection.payment_status.as_str(),
                payment_expires_at,
                text.snapshot,
                snapshot_version,
            ])
        })
        .map_err(write_conflict)?;
    } else {
        let shipped_at = projection.shipped_at.map(sortable).transpose()?;
        let delivered_at = projection.delivered_at.map(sortable).transpose()?;
        // The times an order keeps once set are in the SET list only when this write
        // sets them (see the conversation's update in `write_turn`: the confirmation's
        // index was rewritten on every draft edit).
        let mut sql = String::from(
            "UPDATE orders SET status = ?1, currency = ?2, customer_id = ?3, subtotal = ?4,
                shipping = ?5, total = ?6, shipping_address = ?7, version = ?8, updated_at = ?9,
                payment_status = ?14, payment_expires_at = ?15, snapshot = ?16,
                snapshot_version = ?17",
        );
        for (set, column) in [
            (confirmed_at.is_some(), ", confirmed_at = COALESCE(confirmed_at, ?10)"),
            (cancelled_at.is_some(), ", cancelled_at = COALESCE(cancelled_at, ?11)"),
            (shipped_at.is_some(), ", shipped_at = COALESCE(shipped_at, ?12)"),
            (delivered_at.is_some(), ", delivered_at = ?13"),
        ] {
            if set {
                sql.push_str(column);
            }
        }
        sql.push_str(" WHERE id = ?18 AND version = ?19");
        let updated = db
            .prepare_cached(&sql)
            .and_then(|mut update| {
                update.execute(params![
                    projection.status.as_str(),
                    projection.currency,
                    customer_id,
                    projection.subtotal,
                    projection.shipping,
                    projection.total,
                    text.address,
                    version,
                    now_text,
                    confirmed_at,
                    cancelled_at,
                    shipped_at,
                    delivered_at,
                    projection.payment_status.as_str(),
                    payment_expires_at,
                    text.snapshot,
                    snapshot_version,
                    order.order_id,
                    i64::from(order.expected_version),
                ])
            })
            .map_err(sqlite_error)?;
        if updated == 0 {
            return Err(StoreError::Conflict("the order moved on".into()));
        }
        if projection.status == OrderStatus::Cancelled {
            // After the UPDATE, which holds the order's row: a return that claims units
            // of this order either committed before (and is seen here) or waits for us
            // and then finds the order cancelled.
            let blocked: bool = db
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM return_claims WHERE order_id = ?1 AND claimed > 0)
                         OR EXISTS (SELECT 1 FROM orders WHERE id = ?1
                                    AND (shipped_at IS NOT NULL OR delivered_at IS NOT NULL))",
                )
                .and_then(|mut check| check.query_row(params![order.order_id], |row| row.get(0)))
                .map_err(sqlite_error)?;
            if blocked {
                return Err(StoreError::Conflict(
                    "the order shipped or has a return open: it cannot be cancelled".into(),
                ));
            }
        }
    }

    db.prepare_cached("DELETE FROM order_lines WHERE order_id = ?1")
        .and_then(|mut delete| delete.execute(params![order.order_id]))
        .map_err(sqlite_error)?;
    if !projection.lines.is_empty() {
        let mut insert = db
            .prepare_cached(
                "INSERT INTO order_lines (order_id, position, sku, name, quantity, choices,
                    unit_price, total)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(sqlite_error)?;
        for (position, (line, choices)) in projection.lines.iter().zip(&text.choices).enumerate() {
            insert
                .execute(params![
                    order.order_id,
                    position as i64,
                    line.sku,
                    line.name,
                    i64::from(line.quantity),
                    choices,
                    line.unit_price,
                    line.total,
                ])
                .map_err(sqlite_error)?;
        }
    }

    if !order.events.is_empty() {
        let seq = |offset: usize| event_seq(order, offset);
        let mut events = db
            .prepare_cached(
                "INSERT INTO order_events (id, order_id, seq, type, schema_version, payload,
                    conversation_id, message_id, idempotency_key, actor, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .map_err(sqlite_error)?;
        for (offset, (event, payload)) in order.events.iter().zip(&text.payloads).enumerate() {
            events
                .execute(params![
                    event.id,
                    order.order_id,
                    seq(offset),
                    event.event_type,
                    i64::from(event.schema_version),
                    payload,
                    source.conversation_id,
                    source.message_id,
                    source.idempotency_key,
                    order.actor,
                    now_text,
                ])
                .map_err(write_conflict)?;
        }

        let mut outbox = db
            .prepare_cached(
                "INSERT INTO outbox (event_id, topic, payload, next_attempt_at, stream, seq,
                    created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(sqlite_error)?;
        let stream = format!("order:{}", order.order_id);
        let created_ms = crate::unix_ms(now);
        for (offset, (event, message)) in order.events.iter().zip(&text.messages).enumerate() {
            outbox
                .execute(params![
                    event.id,
                    format!("order.{}", event.event_type),
                    message,
                    now_text,
                    stream,
                    seq(offset),
                    created_ms,
                ])
                .map_err(sqlite_error)?;
        }
    }

    for (key, quantity) in &order.reserve {
        reserve(db, key, *quantity)?;
    }
    for (key, quantity) in &order.release {
        db.prepare_cached(
            "UPDATE stock_levels SET reserved = MAX(reserved - ?1, 0)
             WHERE sku = ?2 AND option_key = ?3",
        )
        .and_then(|mut release| {
            release.execute(params![i64::from(*quantity), key.sku.as_str(), option_key(key)])
        })
        .map_err(sqlite_error)?;
    }
    Ok(())
}

/// Takes `quantity` units or fails with how many were available: the check and the
/// update are one statement, so no two orders can take the same unit.
fn reserve(db: &Connection, key: &StockKey, quantity: u32) -> Result<(), StoreError> {
    let option = option_key(key);
    let taken = db
        .prepare_cached(
            "UPDATE stock_levels SET reserved = reserved + ?1
             WHERE sku = ?2 AND option_key = ?3 AND on_hand - reserved >= ?1",
        )
        .and_then(|mut take| take.execute(params![i64::from(quantity), key.sku.as_str(), option]))
        .map_err(sqlite_error)?;
    if taken == 1 {
        return Ok(());
    }
    let available: Option<i64> = db
        .prepare_cached(
            "SELECT MAX(on_hand - reserved, 0) FROM stock_levels WHERE sku = ?1 AND option_key = ?2",
        )
        .and_then(|mut read| {
            read.query_row(params![key.sku.as_str(), option], |row| row.get(0)).optional()
        })
        .map_err(sqlite_error)?;
    Err(StoreError::OutOfStock {
        key: key.clone(),
        available: available.map_or(0, |n| u32::try_from(n).unwrap_or(0)),
    })
}

fn upsert_customer(
    db: &Connection,
    customer: &CustomerWrite,
    now: OffsetDateTime,
) -> Result<String, StoreError> {
    let now = rfc3339(now)?;
    db.prepare_cached(
        "INSERT INTO customers (id, email, name, phone, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (email) DO UPDATE SET
            name = COALESCE(excluded.name, customers.name),
            phone = COALESCE(excluded.phone, customers.phone),
            updated_at = excluded.updated_at
         RETURNING id",
    )
    .and_then(|mut upsert| {
        upsert.query_row(
            params![crate::new_id(), customer.email, customer.name, customer.phone, now],
            |row| row.get(0),
        )
    })
    .map_err(sqlite_error)
}

/// A time as sqlx binds an `OffsetDateTime` on SQLite.
fn rfc3339(at: OffsetDateTime) -> Result<String, StoreError> {
    at.format(&Rfc3339).map_err(|e| StoreError::Corrupt(format!("cannot store time {at}: {e}")))
}

/// JSON as sqlx's `Json` binds it on SQLite: its text.
fn text(value: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Corrupt(format!("cannot store a JSON value: {e}")))
}

/// A failure of SQLite itself (or of a statement this code got wrong): the same kind of
/// error as sqlx's, so that callers treat it as they did.
pub(crate) fn sqlite_error(error: rusqlite::Error) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(format!("SQLite: {error}")))
}

/// Unique violations: as [`crate::write_conflict`] maps sqlx's.
fn write_conflict(error: rusqlite::Error) -> StoreError {
    match &error {
        rusqlite::Error::SqliteFailure(failure, message)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            let message = message.clone().unwrap_or_else(|| error.to_string());
            if message.contains("idempotency_key") {
                StoreError::DuplicateTurn
            } else {
                StoreError::Conflict(message)
            }
        }
        _ => sqlite_error(error),
    }
}
