-- PostgreSQL's migration of this number sets storage parameters of the per-day sums'
-- tables (room for in-place updates, earlier vacuums); SQLite updates rows in place and
-- has nothing to set. The file keeps the two migration lists the same.
SELECT 1;
