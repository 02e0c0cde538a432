-- Handoffs: what staff write into a conversation a shopper handed to a person, and when
-- the handoff was dealt with. A reply is the staff member's audited act: who, what, when.
CREATE TABLE staff_replies (
    id              TEXT        PRIMARY KEY,
    conversation_id TEXT        NOT NULL REFERENCES conversations (id),
    staff_id        TEXT        NOT NULL REFERENCES staff_accounts (id),
    text            TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX staff_replies_by_conversation ON staff_replies (conversation_id, created_at);

-- Set when staff close the handoff; the queue holds handed-off conversations without it.
ALTER TABLE conversations ADD COLUMN handoff_closed_at TIMESTAMPTZ;
CREATE INDEX conversations_open_handoffs ON conversations (handoff_at)
    WHERE handoff_at IS NOT NULL AND handoff_closed_at IS NULL;
