//! Persistence for Gapless behind one [`Store`] trait, with a SQLite implementation (the
//! embedded default) and a PostgreSQL one (for shops that run several app servers).
//!
//! The backend is chosen by the URL scheme in [`connect`]. Both implementations pass the
//! same contract tests (`tests/contract.rs`), so callers never branch on the backend.

mod acp_records;
pub mod bench_seed;
mod conversation_list;
mod dashboard_days;
mod email;
mod email_sql;
mod fulfilment_records;
mod payment_records;
pub mod plain_commits;
mod postgres;
mod postgres_acp;
mod postgres_catalog;
mod postgres_chat;
mod postgres_dashboard;
mod postgres_fulfilment;
mod postgres_handoffs;
mod postgres_payments;
mod postgres_returns;
mod postgres_sessions;
mod postgres_staff;
mod records;
mod returns_records;
mod sqlite;
mod sqlite_acp;
mod sqlite_catalog;
mod sqlite_chat;
mod sqlite_checkpoint;
mod sqlite_commit;
mod sqlite_dashboard;
mod sqlite_direct;
mod sqlite_fulfilment;
mod sqlite_handoffs;
mod sqlite_payments;
mod sqlite_returns;
mod sqlite_search;
mod sqlite_sessions;
mod sqlite_staff;
mod sqlite_webhooks;
mod sqlite_writes;
mod staff_records;
mod webhooks;
mod webhooks_sql;

use std::sync::Arc;

use async_trait::async_trait;
pub use gapless_domain::stock::{StockKey, StockLevel, StockLevels};
use gapless_domain::{
    catalog::Catalog,
    sku::Sku,
    staff_metrics::{ConversationDays, DeliveryDays, DeliveryMisses},
};
use time::{Date, OffsetDateTime};

pub use acp_records::*;
pub use conversation_list::{
    AuditTurnQuery, AuditTurnRow, ConversationPage, ConversationQuery, MAX_PAGE,
};
pub use email::*;
pub use fulfilment_records::*;
pub use payment_records::*;
pub use postgres::PostgresStore;
pub use records::*;
pub use returns_records::*;
pub use sqlite::{SqliteDurability, SqliteStore};
pub use staff_records::*;
pub use webhooks::*;

/// Everything the app persists. Held as `Arc<dyn Store>`: server functions cannot be
/// generic over the backend.
///
/// Each area is a trait of its own, implemented once per backend in that area's file
/// (`sqlite_chat.rs` and `postgres_chat.rs` implement [`ChatStore`], …); `Store` itself
/// keeps what concerns the database as a whole. An area's methods are called on
/// `dyn Store` with no import of their trait: a trait object has its supertraits' methods.
#[async_trait]
pub trait Store:
    CatalogStore
    + ChatStore
    + SessionStore
    + ReturnsStore
    + StaffStore
    + HandoffStore
    + DashboardStore
    + FulfilmentStore
    + PaymentStore
    + AcpStore
    + WebhookStore
    + EmailStore
    + Send
    + Sync
    + 'static
{
    /// `"sqlite"` or `"postgres"`, for logs and `/healthz`.
    fn backend(&self) -> Backend;

    /// Applies the migrations this binary embeds that the database has not seen yet.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// A round trip to the database: `/healthz` uses it.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Counts by outcome and status for `/metrics`: conversations, orders, returns.
    async fn metrics_snapshot(&self) -> Result<MetricsSnapshot, StoreError>;

    /// One transaction that inserts one row into the scratch table `write_probe`, through
    /// the same connections as every other write: the physical limit for chat turns.
    async fn write_probe(&self) -> Result<(), StoreError>;

    /// Empties `write_probe`; returns the rows removed.
    async fn clear_write_probe(&self) -> Result<u64, StoreError>;
}

/// The catalog and its stock levels.
#[async_trait]
pub trait CatalogStore: Send + Sync {
    /// Replaces the catalog with `catalog` in one transaction: products missing from it
    /// are removed, stock on hand is set from it, units already reserved by orders stay
    /// reserved. Nothing changes if any statement fails.
    async fn replace_catalog(&self, catalog: &Catalog) -> Result<ImportSummary, StoreError>;

    /// When the catalog was last imported: a cheap check of whether a cached copy is
    /// still current.
    async fn catalog_imported_at(&self) -> Result<Option<OffsetDateTime>, StoreError>;

    /// The catalog as last imported, or `None` before the first import.
    async fn catalog(&self) -> Result<Option<Catalog>, StoreError>;

    /// Units on hand and reserved for every tracked product and option value.
    async fn stock_levels(&self) -> Result<StockLevels, StoreError>;
}

/// Conversations, their turns, and the orders the turns write.
#[async_trait]
pub trait ChatStore: Send + Sync {
    async fn create_conversation(&self, new: &NewConversation) -> Result<(), StoreError>;

    async fn conversation(&self, id: &str) -> Result<Option<ConversationRow>, StoreError>;

    /// One page of conversations, newest first by `(started_at, id)`, that pass every
    /// filter of `query`; the page's `next` continues it. A cursor this store did not
    /// hand out is [`StoreError::BadCursor`].
    async fn list_conversations(
        &self,
        query: &ConversationQuery,
    ) -> Result<ConversationPage, StoreError>;

    /// Turns received in `[from, to)`, oldest first, at most `limit` after `after`: the
    /// audit export reads them page by page.
    async fn audit_turns(&self, query: &AuditTurnQuery) -> Result<Vec<AuditTurnRow>, StoreError>;

    /// The conversation's turns in order, with their audit records.
    async fn turns(&self, conversation_id: &str) -> Result<Vec<TurnRow>, StoreError>;

    /// The response stored with the turn that carried `idempotency_key`, if any.
    async fn turn_response(
        &self,
        conversation_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<serde_json::Value>, StoreError>;

    /// A fresh order number (1, 2, …); numbers taken by turns that failed are skipped.
    async fn next_order_number(&self) -> Result<u64, StoreError>;

    /// Writes a turn in one transaction: the turn and its audit record, the order's
    /// events with an outbox row each, the CRM projection, and stock reservations.
    /// Fails with [`StoreError::Conflict`] when another writer changed the conversation
    /// or order since it was read (read again and retry), [`StoreError::OutOfStock`]
    /// when a reservation cannot be met, [`StoreError::DuplicateTurn`] when the
    /// idempotency key was used before; in every case nothing is written.
    async fn record_turn(&self, turn: &TurnWrite) -> Result<(), StoreError>;

    async fn order_events(&self, order_id: &str) -> Result<Vec<EventRow>, StoreError>;

    /// The order's stored snapshot (see [`OrderProjection::snapshot`]) with the version
    /// it was folded at, when it is the order's current version; `None` when there is no
    /// such order, no snapshot, or a write since left it behind (then fold the events).
    async fn order_snapshot(
        &self,
        order_id: &str,
    ) -> Result<Option<(u32, serde_json::Value)>, StoreError>;

    async fn order_summary(&self, number: &str) -> Result<Option<OrderSummary>, StoreError>;
}

/// Web sessions, kept here so that they survive restarts and are shared by app servers.
/// Expiries are kept to the microsecond (PostgreSQL's precision) on both backends, so a
/// loaded expiry is the saved one truncated to microseconds.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Inserts a new web session; `Ok(false)` (and nothing written) when the id is taken.
    /// A row counts as taken even when expired and not yet deleted: the caller picks
    /// another id rather than overwrite someone's session.
    async fn session_create(
        &self,
        id: &str,
        data: &serde_json::Value,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Replaces the data and expiry of an existing web session. Does nothing when there
    /// is no row with this id (signed out, swept, never created): a request that loaded
    /// a session before another one deleted it must not bring it back when it saves.
    /// [`SessionStore::session_create`] is the only way a session comes into being.
    async fn session_save(
        &self,
        id: &str,
        data: &serde_json::Value,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// A session's data and expiry, `None` when it does not exist or expired before `now`.
    /// Checked here, not left to cleanup, so an expired session is never resumed.
    async fn session_load(
        &self,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(serde_json::Value, OffsetDateTime)>, StoreError>;

    async fn session_delete(&self, id: &str) -> Result<(), StoreError>;

    /// Removes sessions that expired before `now`; returns how many.
    async fn delete_expired_sessions(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
}

/// Returns (DESIGN "Returns", CONTRACTS §4). Times are kept to the microsecond on both
/// backends, like sessions: what reads back is the written time truncated.
#[async_trait]
pub trait ReturnsStore: Send + Sync {
    /// The order and what can still be claimed per line, by order number; `None` if
    /// unknown. Only confirmed orders count (status other than draft).
    async fn returnable_order(&self, number: &str) -> Result<Option<ReturnableOrder>, StoreError>;

    /// Returns this email requested at or after `since`, not rejected or cancelled. The
    /// email is compared as given: callers pass the normalized form they store.
    async fn recent_returns(&self, email: &str, since: OffsetDateTime) -> Result<u32, StoreError>;

    /// One transaction: the claims (per line, a conditional update that fails with
    /// [`StoreError::OverClaimed`] when fewer units are left than asked), the return's
    /// row, its items, its events with seq 1, 2, … and an outbox row per event (topic
    /// `return.<type>`). A taken `rma` is [`StoreError::Conflict`] (`"rma taken"`). On
    /// any error nothing is written.
    async fn create_return(&self, new: &NewReturn) -> Result<(), StoreError>;

    async fn return_by_rma(&self, rma: &str) -> Result<Option<ReturnRow>, StoreError>;

    /// One transaction: appends `events` (seq continuing from `expected_version`), sets
    /// the status, `updated_at` and, when given, the refund amount, gives back the
    /// released claims, and writes an outbox row per event. A return not at
    /// `expected_version` (or unknown) is [`StoreError::Conflict`] and nothing is written.
    async fn update_return(&self, update: &ReturnUpdate) -> Result<(), StoreError>;

    /// Newest request first; only `status` when given; at most `limit` rows.
    async fn list_returns(
        &self,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ReturnListRow>, StoreError>;

    /// The events (by seq) of every return that is refunded, exchanged or credited and
    /// was last updated in `[from, to)`: the input of refund cycle times.
    async fn completed_return_events(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<Vec<ReturnEventRow>>, StoreError>;

    /// Sets the order's `delivered_at` directly, outside its events (tests that need a
    /// delivery date without a fulfilment system); `false` for an unknown number. A
    /// `delivered` event sets it through [`FulfilmentStore::record_fulfilment`].
    async fn mark_delivered(
        &self,
        order_number: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
}

/// Staff accounts (CONTRACTS §5). Emails are compared as given: callers pass the
/// lowercased form they store.
#[async_trait]
pub trait StaffStore: Send + Sync {
    /// Inserts a staff account; `Ok(false)` (and nothing written) when the email is taken.
    async fn create_staff(&self, new: &NewStaff) -> Result<bool, StoreError>;

    async fn staff_by_email(&self, email: &str) -> Result<Option<StaffRow>, StoreError>;

    async fn staff_by_id(&self, id: &str) -> Result<Option<StaffRow>, StoreError>;
}

/// Conversations handed off to staff, and the staff's replies.
#[async_trait]
pub trait HandoffStore: Send + Sync {
    /// Appends a staff reply to a conversation (and closes its handoff when asked), in
    /// one transaction; `Ok(false)` and nothing written when there is no such
    /// conversation.
    async fn add_staff_reply(&self, reply: &StaffReplyWrite) -> Result<bool, StoreError>;

    /// A conversation's staff replies, oldest first.
    async fn staff_replies(&self, conversation_id: &str) -> Result<Vec<StaffReplyRow>, StoreError>;

    /// Handed-off conversations whose handoff is not closed, oldest handoff first.
    async fn handoff_queue(&self, limit: u32) -> Result<Vec<HandoffRow>, StoreError>;
}

/// The facts the staff dashboard counts: a superset for the period asked, which the
/// dashboard places itself.
#[async_trait]
pub trait DashboardStore: Send + Sync {
    /// What the staff dashboard counts for `[from, to)`: every conversation that started
    /// or had its order confirmed in it, and every return requested or completed in it
    /// (a superset: the dashboard places each fact itself).
    async fn conversation_facts(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<ConversationFactRow>, StoreError>;

    /// The conversation side of the dashboard for the UTC days `[from, to)`: the sums per
    /// day that migration 0015's triggers keep in the same transaction as every write
    /// they count (equal to [`ConversationDays::count`] over
    /// [`DashboardStore::conversation_facts`]), and the lead times summed over the whole
    /// period (each given as of `from`: a period is read as one histogram, not ~100
    /// rows per day).
    async fn conversation_days(&self, from: Date, to: Date)
        -> Result<ConversationDays, StoreError>;

    async fn return_facts(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<ReturnFactRow>, StoreError>;

    /// Orders confirmed in `[from, to)` with their shipping and delivery times, whether
    /// their conversation was handed off, and their returns' items.
    async fn order_fulfilment_facts(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<OrderFulfilmentFactRow>, StoreError>;

    /// The delivery side of the dashboard for the UTC days `[from, to)` of confirmation:
    /// the sums migration 0017's triggers keep with every write they count (equal to
    /// [`DeliveryDays::count`] over [`OrderFulfilmentFactRow::facts`]), as
    /// [`DeliveryDays::as_read_from`] gives them: orders delivered and lead times summed
    /// over the period, orders not delivered yet day by day.
    async fn delivery_days(&self, from: Date, to: Date) -> Result<DeliveryDays, StoreError>;

    /// The first [`LISTED`](gapless_domain::staff_metrics::LISTED) orders confirmed on the UTC days `[from, to)` (by time of
    /// confirmation) that were late for a promise of `promise_days` whole days, and those
    /// that were not perfect, as decided when orders confirmed up to `due_by` are past
    /// due: what the dashboard names behind its misses.
    async fn delivery_misses(
        &self,
        from: Date,
        to: Date,
        promise_days: i64,
        due_by: OffsetDateTime,
    ) -> Result<DeliveryMisses, StoreError>;
}

/// Fulfilment in (CONTRACTS §7): API keys for systems, `shipped` and `delivered`.
#[async_trait]
pub trait FulfilmentStore: Send + Sync {
    /// Inserts an API key; `Ok(false)` (and nothing written) when a key in use already
    /// has this name.
    async fn create_api_key(&self, new: &NewApiKey) -> Result<bool, StoreError>;

    /// Every key, revoked ones too, oldest first.
    async fn api_keys(&self) -> Result<Vec<ApiKeyRow>, StoreError>;

    /// The key in use with this hash, `None` when unknown or revoked.
    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKeyRow>, StoreError>;

    /// Revokes the key in use with this name or id; returns what was revoked (empty when
    /// nothing matched).
    async fn revoke_api_key(
        &self,
        name_or_id: &str,
        at: OffsetDateTime,
    ) -> Result<Vec<ApiKeyRow>, StoreError>;

    /// One transaction: the answer for the request's Idempotency-Key (if any), then the
    /// order's events with an outbox row each and the projection (including
    /// `shipped_at`/`delivered_at`), as [`ChatStore::record_turn`] writes an order. A key
    /// used before is [`StoreError::DuplicateTurn`], an order that moved on is
    /// [`StoreError::Conflict`]; in both cases nothing is written.
    async fn record_fulfilment(&self, write: &FulfilmentWrite) -> Result<(), StoreError>;

    /// The answer kept for this key's `idempotency_key`.
    async fn fulfilment_response(
        &self,
        api_key_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<StoredFulfilment>, StoreError>;
}

/// Payments (CONTRACTS §8).
#[async_trait]
pub trait PaymentStore: Send + Sync {
    /// One transaction: remembers the provider's event by `(provider, event_id)` and
    /// writes its order events (with outbox rows and the projection, as
    /// [`ChatStore::record_turn`] writes an order). `Ok(false)` and nothing written when
    /// the event was recorded before; an order that moved on is [`StoreError::Conflict`].
    async fn record_payment_event(&self, write: &PaymentEventWrite) -> Result<bool, StoreError>;

    /// Orders whose payment the sweep must look at, at most `limit`, most overdue
    /// first: a pending payment link that ran out before `expired_before` (its
    /// provider's `expired` event never came), and a cancelled order that still holds
    /// money received (it must go back). Order numbers; the sweep folds each order's
    /// events before it acts.
    async fn payment_followups(
        &self,
        expired_before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<String>, StoreError>;
}

/// ACP checkout sessions (CONTRACTS §9).
#[async_trait]
pub trait AcpStore: Send + Sync {
    async fn create_acp_session(&self, new: &NewAcpSession) -> Result<(), StoreError>;

    async fn acp_session(&self, id: &str) -> Result<Option<AcpSessionRow>, StoreError>;

    /// Marks the session canceled; `Ok(false)` when it was already.
    async fn cancel_acp_session(&self, id: &str, at: OffsetDateTime) -> Result<bool, StoreError>;

    /// Claims an Idempotency-Key for a request (taking over a claim abandoned before
    /// `abandoned_before_ms`), or says what the key already holds.
    async fn claim_acp_request(&self, claim: &AcpRequestClaim) -> Result<AcpClaim, StoreError>;

    /// Keeps the answer to a claimed request for its replays.
    async fn finish_acp_request(
        &self,
        api_key_id: &str,
        idempotency_key: &str,
        status: u16,
        response: &serde_json::Value,
    ) -> Result<(), StoreError>;

    /// Gives up a claim without an answer (the request failed on our side): the key may
    /// be sent again.
    async fn release_acp_request(
        &self,
        api_key_id: &str,
        idempotency_key: &str,
    ) -> Result<(), StoreError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Row counts grouped by their state, read when `/metrics` is scraped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetricsSnapshot {
    pub conversations_by_outcome: Vec<(String, u64)>,
    pub orders_by_status: Vec<(String, u64)>,
    pub returns_by_status: Vec<(String, u64)>,
    pub chat_turns: u64,
}

/// What an import changed, for the CLI and the log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportSummary {
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
}

/// `word` as a LIKE pattern that matches it anywhere, with `\` escaping LIKE's own
/// wildcards so that "100%" finds "100%" and not everything.
fn contains_pattern(word: &str) -> String {
    let escaped = word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{}%", escaped.to_lowercase())
}

/// The `option_key` column: `''` for a product's own stock, `'group=value'` for a value.
fn option_key(key: &StockKey) -> String {
    match &key.option {
        None => String::new(),
        Some((group, value)) => format!("{group}={value}"),
    }
}

fn stock_key_from_columns(sku: &str, option_key: &str) -> Result<StockKey, StoreError> {
    let sku = Sku::parse(sku)
        .map_err(|e| StoreError::Corrupt(format!("stock row with bad sku {sku:?}: {e}")))?;
    Ok(match option_key.split_once('=') {
        None => StockKey::product(sku),
        Some((group, value)) => StockKey::value(sku, group, value),
    })
}

fn level(on_hand: i64, reserved: i64) -> Result<StockLevel, StoreError> {
    let convert = |n: i64| {
        u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("stock count out of range: {n}")))
    };
    Ok(StockLevel { on_hand: convert(on_hand)?, reserved: convert(reserved)? })
}

/// The stock rows a catalog asks for: one per tracked product, one per tracked value.
fn stock_rows(catalog: &Catalog) -> Vec<(StockKey, u32)> {
    let mut rows = Vec::new();
    for product in &catalog.products {
        if let Some(on_hand) = product.stock {
            rows.push((StockKey::product(product.sku.clone()), on_hand));
        }
        for group in &product.options {
            for value in &group.values {
                if let Some(on_hand) = value.stock {
                    rows.push((
                        StockKey::value(product.sku.clone(), &group.name, &value.name),
                        on_hand,
                    ));
                }
            }
        }
    }
    rows
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported DATABASE_URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("concurrent write: {0}")]
    Conflict(String),
    #[error("out of stock: {available} available for {key:?}")]
    OutOfStock { key: StockKey, available: u32 },
    #[error("a turn with this idempotency key was already recorded")]
    DuplicateTurn,
    #[error("only {available} of line {line} can still be returned")]
    OverClaimed { line: u32, available: u32 },
    /// A paging cursor that this store did not hand out (or that was altered).
    #[error("not a cursor of this list ({0}); start again from the first page")]
    BadCursor(String),
}

/// Unique violations on write mean another writer got there first: a replayed
/// idempotency key, or a turn or event number taken concurrently.
fn write_conflict(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            if db.message().contains("idempotency_key")
                || db.constraint().is_some_and(|c| c.contains("idempotency_key"))
            {
                StoreError::DuplicateTurn
            } else {
                StoreError::Conflict(db.message().to_owned())
            }
        }
        _ => StoreError::Database(error),
    }
}

/// `at` as Unix milliseconds: how the outbox and webhook tables keep times they compare.
pub fn unix_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// A new random id (UUID v4, 122 random bits): unguessable, so it can serve as a
/// capability where CONTRACTS says so.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A new id that sorts by when it was made (UUID v7: 48 bits of Unix milliseconds, then
/// 74 random bits, no counter; 32 hex digits like [`new_id`]): for rows that are never a
/// capability (turns, orders, order events). Each is a key of an index (and the order's
/// id of several more), and random keys put every new row on a page of its own in each:
/// most of what a commit wrote. Ids made close together share index pages instead.
pub fn new_ordered_id() -> String {
    uuid::Uuid::new_v7(uuid::Timestamp::now(uuid::NoContext)).simple().to_string()
}

/// Opens the database named by `url` (`sqlite://…` or `postgres://…`) without migrating.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url, SqliteDurability::Full).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(redact_url(url)))
    }
}

/// A URL fit for logs and error messages: the password, if any, replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_hides_only_the_password() {
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://data/gapless.db"), "sqlite://data/gapless.db");
    }

    #[test]
    fn ordered_ids_sort_by_time_and_stay_random_within_a_millisecond() {
        let first = new_ordered_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let later = new_ordered_id();
        assert!(first < later, "{first} !< {later}");
        for id in [&first, &later] {
            assert_eq!(id.len(), 32);
            assert!(id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        }
        // The time is the first 12 digits; the rest is random, not a counter: a
        // thousand made at once are all different and not in the order they were made.
        let burst: Vec<String> = (0..1000).map(|_| new_ordered_id()).collect();
        let unique: std::collections::HashSet<&String> = burst.iter().collect();
        assert_eq!(unique.len(), burst.len());
        let mut sorted = burst.clone();
        sorted.sort();
        assert_ne!(sorted, burst, "a thousand ids in the order they were made: a counter");
        // Random ids stay random.
        assert_ne!(new_id()[..12], new_id()[..12]);
    }

    #[test]
    fn option_key_round_trips() {
        let sku = Sku::parse("TEE").unwrap();
        for key in [StockKey::product(sku.clone()), StockKey::value(sku, "color", "forest green")] {
            let back = stock_key_from_columns(key.sku.as_str(), &option_key(&key)).unwrap();
            assert_eq!(back, key);
        }
    }
}

#[cfg(feature = "testing")]
pub mod testing;
