-- Scratch table for `gapless bench-writes`: one-row insert transactions measure what
-- this disk and database can commit, the physical limit for chat turns. Emptied after
-- each run.
CREATE TABLE write_probe (
    id   BIGSERIAL PRIMARY KEY,
    note TEXT NOT NULL
);
