-- The staff console's conversation list (issue 5): filters and keyset paging that stay
-- fast at 100,000 conversations, and the audit export by turn time.
--
-- Chat times become fixed-width UTC text with six fractional digits (as sessions and
-- staff accounts already are, see sqlite_sessions.rs), written so by the store from now
-- on: sqlx's own encoding varies the number of digits, so `…:00Z` sorted after
-- `…:00.5Z` and neither ranges nor keyset paging could trust text order. Rows written
-- before are rewritten here; a time that is not UTC RFC 3339 is left as it was.

UPDATE conversations SET
    started_at = substr(started_at, 1, 19) || '.' || substr(
        CASE WHEN substr(started_at, 20, 1) = '.'
             THEN substr(started_at, 21, length(started_at) - 21) ELSE '' END || '000000',
        1, 6) || 'Z'
WHERE started_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z';

UPDATE conversations SET
    updated_at = substr(updated_at, 1, 19) || '.' || substr(
        CASE WHEN substr(updated_at, 20, 1) = '.'
             THEN substr(updated_at, 21, length(updated_at) - 21) ELSE '' END || '000000',
        1, 6) || 'Z'
WHERE updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z';

UPDATE chat_turns SET
    received_at = substr(received_at, 1, 19) || '.' || substr(
        CASE WHEN substr(received_at, 20, 1) = '.'
             THEN substr(received_at, 21, length(received_at) - 21) ELSE '' END || '000000',
        1, 6) || 'Z'
WHERE received_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z';

-- Newest first by (started_at, id), the paging key; with an outcome, within it.
DROP INDEX conversations_started_at;
CREATE INDEX conversations_started_at_id ON conversations (started_at, id);
CREATE INDEX conversations_outcome_started_at_id ON conversations (outcome, started_at, id);
CREATE INDEX conversations_order_id ON conversations (order_id);
-- The audit export reads turns by time.
CREATE INDEX chat_turns_received_at_id ON chat_turns (received_at, id);

-- The shopper's words: a trigram index finds any substring of three characters or more,
-- case-insensitively, so a search means what LIKE '%word%' meant, without reading every
-- turn. Turns are an append-only audit trail (nothing updates or deletes them), so an
-- insert trigger keeps it complete.
CREATE VIRTUAL TABLE chat_turns_fts USING fts5 (
    text,
    conversation_id UNINDEXED,
    tokenize = 'trigram'
);
INSERT INTO chat_turns_fts (text, conversation_id) SELECT text, conversation_id FROM chat_turns;
CREATE TRIGGER chat_turns_fts_insert AFTER INSERT ON chat_turns BEGIN
    INSERT INTO chat_turns_fts (text, conversation_id) VALUES (new.text, new.conversation_id);
END;
