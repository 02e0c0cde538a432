-- The order as its events fold to, stored with the events in the same transaction, so
-- that a chat turn reads one row instead of folding every event of its order (issue 15:
-- a turn's cost flat in the number of events). `snapshot_version` is the `version` the
-- snapshot was folded at: a write that appends events without a snapshot leaves it
-- behind, and a reader that finds `snapshot_version <> version` folds the events as
-- before. Orders placed before this migration have none until their next write.
ALTER TABLE orders ADD COLUMN snapshot TEXT;
ALTER TABLE orders ADD COLUMN snapshot_version INTEGER;
