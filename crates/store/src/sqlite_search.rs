//! SQLite: the shopper's words in the trigram index (`chat_turns_fts`), written behind
//! the turns (migration 0019). The chat's committer adds the turns that came since the
//! last time to one of its group commits every [`INDEX_EVERY`], up to [`INDEX_CHUNK`] at a
//! time; a search first indexes whatever is left ([`catch_up`]), so it sees every turn
//! committed before it. In a trigger, the index cost a tenth of every turn under load:
//! FTS5 writes a segment per transaction.

use std::time::Duration;

use rusqlite::{params, Connection};

use crate::{sqlite_writes::sqlite_error, SqliteStore, StoreError};

/// How often the committer indexes what came meanwhile (when turns keep coming).
pub(crate) const INDEX_EVERY: Duration = Duration::from_millis(100);
/// Most turns one of the committer's commits indexes.
pub(crate) const INDEX_CHUNK: i64 = 2_000;

/// The statements that index turns after `chat_turns_indexed.upto` up to rowid `?1`:
/// also run by the bench's seed, through sqlx.
pub(crate) const INDEX_UP_TO: [&str; 2] = [
    "INSERT INTO chat_turns_fts (text, conversation_id)
     SELECT text, conversation_id FROM chat_turns
     WHERE rowid > (SELECT upto FROM chat_turns_indexed) AND rowid <= ?1
     ORDER BY rowid",
    "UPDATE chat_turns_indexed SET upto = ?1 WHERE upto < ?1",
];

/// Indexes up to `most` of the turns not yet indexed, oldest first, in the open
/// transaction; how many.
pub(crate) fn index_pending(db: &Connection, most: i64) -> Result<i64, StoreError> {
    let (last, count): (Option<i64>, i64) = db
        .prepare_cached(
            "SELECT MAX(rowid), count(*) FROM (
                 SELECT rowid FROM chat_turns
                 WHERE rowid > (SELECT upto FROM chat_turns_indexed)
                 ORDER BY rowid LIMIT ?1)",
        )
        .and_then(|mut read| read.query_row(params![most], |row| Ok((row.get(0)?, row.get(1)?))))
        .map_err(sqlite_error)?;
    let Some(last) = last else { return Ok(0) };
    for sql in INDEX_UP_TO {
        db.prepare_cached(sql)
            .and_then(|mut statement| statement.execute(params![last]))
            .map_err(sqlite_error)?;
    }
    Ok(count)
}

/// Indexes every turn committed so far, in a commit of the committer's: before a search.
pub(crate) async fn catch_up(store: &SqliteStore) -> Result<(), StoreError> {
    loop {
        let indexed = store.chat.run(|db| index_pending(db, INDEX_CHUNK * 10)).await?;
        if indexed < INDEX_CHUNK * 10 {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use gapless_domain::chat::Extractor;
    use serde_json::json;
    use time::OffsetDateTime;

    use crate::{ChatStore, NewConversation, SqliteDurability, SqliteStore, Store, TurnWrite};

    fn turn(conversation: &str, seq: u32, text: &str) -> TurnWrite {
        TurnWrite {
            conversation_id: conversation.to_owned(),
            turn_id: crate::new_ordered_id(),
            seq,
            text: text.to_owned(),
            received_at: OffsetDateTime::now_utc(),
            idempotency_key: None,
            extractor: Extractor::Rules,
            audit: json!({}),
            reply: "Noted.".into(),
            response: json!({}),
            outcome: None,
            handoff: false,
            order: None,
        }
    }

    /// (turns, turns in the search index, the last rowid indexed).
    async fn counts(store: &SqliteStore) -> (i64, i64, i64) {
        sqlx::query_as(
            "SELECT (SELECT count(*) FROM chat_turns), (SELECT count(*) FROM chat_turns_fts),
                    (SELECT upto FROM chat_turns_indexed)",
        )
        .fetch_one(&store.reader)
        .await
        .unwrap()
    }

    /// No search asks for it: the committer indexes the turns behind them on its own,
    /// in a later commit, each turn once.
    #[tokio::test]
    async fn the_committer_indexes_turns_behind_them_each_once() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let store = SqliteStore::connect(&url, SqliteDurability::Full).await.unwrap();
        store.migrate().await.unwrap();
        let new = NewConversation {
            id: "c1".into(),
            channel: "api".into(),
            started_at: OffsetDateTime::now_utc(),
        };
        store.create_conversation(&new).await.unwrap();
        let mut seq = 0;
        let mut seen = (0, 0, 0);
        for _ in 0..50 {
            seq += 1;
            store.record_turn(&turn("c1", seq, "two black tees")).await.unwrap();
            seen = counts(&store).await;
            if seen.1 > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        let (turns, indexed, upto) = seen;
        assert!(indexed > 0, "nothing indexed after {turns} turns");
        assert_eq!((indexed, upto), (turns, turns), "each committed turn indexed once");
        // A search catches up on the rest first, and indexes nothing twice.
        store.record_turn(&turn("c1", seq + 1, "and a kayak")).await.unwrap();
        super::catch_up(&store).await.unwrap();
        super::catch_up(&store).await.unwrap();
        assert_eq!(counts(&store).await, (turns + 1, turns + 1, turns + 1));
        let hits: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM chat_turns_fts WHERE chat_turns_fts MATCH '\"kayak\"'",
        )
        .fetch_one(&store.reader)
        .await
        .unwrap();
        assert_eq!(hits, 1);
    }
}
