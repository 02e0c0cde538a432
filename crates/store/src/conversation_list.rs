//! The staff console's conversation list and audit export (issue 5), in the store's own
//! terms: what to filter on, one page of rows, and the opaque cursor that continues it.
//!
//! Paging is by key, not offset: newest first by `(started_at, id)`, and the next page
//! starts strictly after the last row's key. A page deep in the list costs what the first
//! does, and conversations started meanwhile neither shift nor repeat rows; `id` breaks
//! ties between equal start times.

use gapless_domain::staff_metrics::ConversationStatus;
use time::{Duration, OffsetDateTime};

use crate::{ConversationRow, StoreError, TurnRow};

/// Most rows one page holds; a larger limit is cut to this.
pub const MAX_PAGE: u32 = 100;

/// Which conversations to list; every filter given must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationQuery {
    /// Open (and written to within the idle time), abandoned (stored so, or open and
    /// idle longer), or an outcome as stored.
    /// Nothing writes `abandoned` yet: an open conversation counts as abandoned once it
    /// has had no turn since [`ConversationQuery::idle_since`], and is listed so.
    pub outcome: Option<ConversationStatus>,
    /// Started at or after.
    pub started_from: Option<OffsetDateTime>,
    /// Started before (half-open, so consecutive days never share a conversation).
    pub started_to: Option<OffsetDateTime>,
    /// The order's number exactly as stored (`G-100001`); callers normalize it.
    pub order_number: Option<String>,
    /// Each word must appear, case-insensitively and anywhere in a word, in one of the
    /// shopper's messages (not necessarily the same one).
    pub words: Vec<String>,
    /// [`ConversationPage::next`] of the page before; `None` for the first page.
    pub cursor: Option<String>,
    /// At most [`MAX_PAGE`]; 0 counts as 1.
    pub limit: u32,
    /// Open conversations with no turn since this instant count as abandoned.
    pub idle_since: OffsetDateTime,
}

impl ConversationQuery {
    /// Every conversation, newest first, one full page; open ones idle for `idle` are
    /// abandoned as of `now`.
    pub fn all(now: OffsetDateTime, idle: Duration) -> Self {
        ConversationQuery {
            outcome: None,
            started_from: None,
            started_to: None,
            order_number: None,
            words: Vec::new(),
            cursor: None,
            limit: MAX_PAGE,
            idle_since: now - idle,
        }
    }

    pub(crate) fn page_size(&self) -> u32 {
        self.limit.clamp(1, MAX_PAGE)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConversationPage {
    pub conversations: Vec<ConversationRow>,
    /// The cursor of the next page; `None` on the last one.
    pub next: Option<String>,
}

/// Where a page starts: strictly after this `(started_at, id)` in newest-first order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PageKey {
    pub started_at: OffsetDateTime,
    pub id: String,
}

impl PageKey {
    /// Hex of `"<unix microseconds>.<id>"`: opaque to clients, and the time is kept to the
    /// microsecond that both backends store.
    pub(crate) fn encode(&self) -> String {
        let micros = self.started_at.unix_timestamp_nanos() / 1_000;
        format!("{micros}.{}", self.id).bytes().map(|b| format!("{b:02x}")).collect()
    }

    pub(crate) fn decode(cursor: &str) -> Result<PageKey, StoreError> {
        let bad = |why: &str| StoreError::BadCursor(why.to_owned());
        if cursor.len() > 256 || !cursor.len().is_multiple_of(2) {
            return Err(bad("wrong length"));
        }
        let bytes = (0..cursor.len())
            .step_by(2)
            .map(|i| cursor.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| bad("not hexadecimal"))?;
        let text = String::from_utf8(bytes).map_err(|_| bad("not text"))?;
        let (micros, id) = text.split_once('.').ok_or_else(|| bad("no key"))?;
        let micros: i128 = micros.parse().map_err(|_| bad("no time"))?;
        let started_at = OffsetDateTime::from_unix_timestamp_nanos(micros * 1_000)
            .map_err(|_| bad("time out of range"))?;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(bad("no id"));
        }
        Ok(PageKey { started_at, id: id.to_owned() })
    }
}

/// Cuts the `limit + 1` rows a backend fetched to the page, with the next page's cursor
/// when the extra row showed there is one.
pub(crate) fn page(mut rows: Vec<ConversationRow>, size: u32) -> ConversationPage {
    let more = rows.len() > size as usize;
    rows.truncate(size as usize);
    let next = more
        .then(|| rows.last())
        .flatten()
        .map(|last| PageKey { started_at: last.started_at, id: last.id.clone() }.encode());
    ConversationPage { conversations: rows, next }
}

/// Turns for the audit export: received in `[from, to)`, oldest first by
/// `(received_at, turn id)`, continuing strictly after `after`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditTurnQuery {
    pub from: OffsetDateTime,
    pub to: OffsetDateTime,
    /// The `(received_at, id)` of the last turn already read.
    pub after: Option<(OffsetDateTime, String)>,
    pub limit: u32,
}

/// One turn with its conversation and that conversation's order, for the export.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditTurnRow {
    pub conversation_id: String,
    pub order_number: Option<String>,
    #[sqlx(flatten)]
    pub turn: TurnRow,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_cursor_round_trips_to_the_microsecond() {
        let key =
            PageKey { started_at: datetime!(2026-03-01 10:00:00.123_456 UTC), id: "0af3".into() };
        assert_eq!(PageKey::decode(&key.encode()).unwrap(), key);
    }

    #[test]
    fn a_bad_cursor_is_refused_not_guessed() {
        for bad in ["", "zz", "abc", "2e", &"31".repeat(200), "313233"] {
            assert!(matches!(PageKey::decode(bad), Err(StoreError::BadCursor(_))), "{bad:?}");
        }
    }
}
