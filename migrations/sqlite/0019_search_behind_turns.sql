-- The shopper's words reach the trigram index (0008) behind their turns, many turns at a
-- time, instead of through a trigger in every turn's transaction: an FTS5 insert writes
-- a new index segment in each transaction (and merges them later), a tenth of a chat
-- turn's cost under load. `chat_turns_indexed.upto` is the last chat_turns rowid in the
-- index; the chat's committer indexes what came after it every 100 ms, and a search
-- indexes the rest first (sqlite_search.rs), so a search still sees every turn.
-- chat_turns is append-only (nothing updates or deletes turns), so its rowids only grow.
DROP TRIGGER chat_turns_fts_insert;
CREATE TABLE chat_turns_indexed (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    upto INTEGER NOT NULL
);
INSERT INTO chat_turns_indexed (id, upto) SELECT 1, COALESCE(MAX(rowid), 0) FROM chat_turns;
