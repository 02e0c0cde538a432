-- The shop's catalog as last imported. The import replaces it in one transaction.
CREATE TABLE catalog_meta (
    id            INTEGER     PRIMARY KEY CHECK (id = 1),
    currency      TEXT        NOT NULL,
    product_count BIGINT      NOT NULL,
    imported_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE products (
    sku         TEXT    PRIMARY KEY,
    position    BIGINT  NOT NULL,
    name        TEXT    NOT NULL,
    category    TEXT,
    price_minor BIGINT  NOT NULL CHECK (price_minor >= 0),
    final_sale  BOOLEAN NOT NULL,
    return_days BIGINT,
    -- The whole product as imported (option groups, aliases): the extractor and
    -- validator read it; the columns above serve queries and the shop page.
    definition  JSONB   NOT NULL
);

-- Stock kept apart from the definition because orders change it: `option_key` is ''
-- for a product's own stock, or 'group=value' for a value with its own stock.
CREATE TABLE stock_levels (
    sku        TEXT   NOT NULL,
    option_key TEXT   NOT NULL,
    on_hand    BIGINT NOT NULL CHECK (on_hand >= 0),
    reserved   BIGINT NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    PRIMARY KEY (sku, option_key)
);
