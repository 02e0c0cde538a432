-- The order as its events fold to; see the SQLite migration of the same number.
ALTER TABLE orders ADD COLUMN snapshot JSONB;
ALTER TABLE orders ADD COLUMN snapshot_version BIGINT;
