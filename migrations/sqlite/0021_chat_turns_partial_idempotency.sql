-- Turns without an idempotency key (most of them) are no longer in the key's unique
-- index: it becomes partial. A table constraint cannot be changed in place, so the table
-- is rebuilt (SQLite's twelve steps; nothing references chat_turns), keeping every row's
-- rowid: the search index's progress (0019) counts in them. Every turn wrote a page of
-- that index at a random place (it is keyed by the conversation), a tenth of a group
-- commit's pages. A database with many turns takes a while to migrate, once.
CREATE TABLE chat_turns_rebuilt (
    id              TEXT    PRIMARY KEY,
    conversation_id TEXT    NOT NULL REFERENCES conversations (id),
    seq             INTEGER NOT NULL,
    text            TEXT    NOT NULL,
    received_at     TEXT    NOT NULL,
    idempotency_key TEXT,
    extractor       TEXT    NOT NULL,
    -- Extraction, validation outcomes, events appended, order after, timings.
    audit           TEXT    NOT NULL,
    reply           TEXT    NOT NULL,
    -- The body answered, replayed verbatim when the same idempotency key comes again.
    response        TEXT    NOT NULL,
    UNIQUE (conversation_id, seq)
);
INSERT INTO chat_turns_rebuilt (rowid, id, conversation_id, seq, text, received_at,
        idempotency_key, extractor, audit, reply, response)
    SELECT rowid, id, conversation_id, seq, text, received_at, idempotency_key, extractor,
        audit, reply, response
    FROM chat_turns ORDER BY rowid;
DROP TABLE chat_turns;
ALTER TABLE chat_turns_rebuilt RENAME TO chat_turns;
CREATE UNIQUE INDEX chat_turns_idempotency_key ON chat_turns (conversation_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX chat_turns_received_at_id ON chat_turns (received_at, id);

-- Only a turn that asked the shopper to clarify, or the conversation's first message,
-- changes its row (0020's change, with the table's other triggers: the rebuild dropped
-- it).
CREATE TRIGGER dashboard_turn_recorded AFTER INSERT ON chat_turns
BEGIN
    UPDATE dashboard_conversations SET
        clarification_turns = clarification_turns + turn.clarifying,
        first_message_at = CASE
            WHEN first_message_at IS NULL OR NEW.received_at < first_message_at
            THEN NEW.received_at ELSE first_message_at END
    FROM (SELECT EXISTS (
            SELECT 1 FROM json_each(NEW.response, '$.messages') m
            WHERE json_extract(m.value, '$.code')
                IN ('ambiguous_product', 'unknown_product', 'missing', 'not_understood'))
          AS clarifying) AS turn
    WHERE conversation_id = NEW.conversation_id
      AND (turn.clarifying OR first_message_at IS NULL OR NEW.received_at < first_message_at);
END;
