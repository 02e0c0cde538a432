-- The staff console's conversation list (issue 5): filters and keyset paging that stay
-- fast at 100,000 conversations, and the audit export by turn time.

-- Newest first by (started_at, id), the paging key; with an outcome, within it.
DROP INDEX conversations_started_at;
CREATE INDEX conversations_started_at_id ON conversations (started_at, id);
CREATE INDEX conversations_outcome_started_at_id ON conversations (outcome, started_at, id);
CREATE INDEX conversations_order_id ON conversations (order_id);
-- The audit export reads turns by time.
CREATE INDEX chat_turns_received_at_id ON chat_turns (received_at, id);

-- The shopper's words are matched with lower(text) LIKE '%word%'. A pg_trgm index makes
-- that an index scan for words of three characters or more. pg_trgm ships with
-- PostgreSQL and is trusted (a database owner may create it), but a server without the
-- contrib package, or a role without CREATE, cannot: then the search still works, by
-- reading every turn, and a notice says why.
DO $$
DECLARE
    trgm_schema name;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm is not available (%); word search will not be indexed', SQLERRM;
    END;
    SELECT n.nspname INTO trgm_schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_trgm';
    IF trgm_schema IS NOT NULL THEN
        -- Qualified: the extension may live in a schema outside the search path.
        EXECUTE format(
            'CREATE INDEX chat_turns_text_trgm ON chat_turns USING gin (lower(text) %I.gin_trgm_ops)',
            trgm_schema);
    END IF;
END
$$;
