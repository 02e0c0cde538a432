-- A chat turn validates against the stock levels, and read all of them every turn: a
-- shop's every SKU and option read, parsed and sorted per message (~8 % of a turn's CPU
-- on the request threads with 27 rows, and growing with the catalog). The store keeps
-- the levels it last read in memory beside this counter, which every change to
-- stock_levels moves on in the same transaction, whoever writes it (the chat's
-- reservations, fulfilment, returns, a catalog import, another process): a turn reads
-- this one row, and all the levels only when it moved.
CREATE TABLE stock_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO stock_version (id, n) VALUES (1, 0);

CREATE TRIGGER stock_version_on_insert AFTER INSERT ON stock_levels
BEGIN
    UPDATE stock_version SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER stock_version_on_update AFTER UPDATE ON stock_levels
BEGIN
    UPDATE stock_version SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER stock_version_on_delete AFTER DELETE ON stock_levels
BEGIN
    UPDATE stock_version SET n = n + 1 WHERE id = 1;
END;
