//! PostgreSQL: the catalog and its stock levels. Imports from several app servers take
//! turns on an advisory lock.

use std::collections::BTreeSet;

use async_trait::async_trait;
use gapless_domain::{
    catalog::{Catalog, Product},
    money::Currency,
};
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::{
    level, option_key, postgres::PostgresStore, stock_key_from_columns, stock_rows, CatalogStore,
    ImportSummary, StockLevels, StoreError,
};

/// Serializes catalog imports across app servers sharing one database.
const CATALOG_IMPORT_LOCK: i64 = 0x6761_706c_6573_7301;

#[async_trait]
impl CatalogStore for PostgresStore {
    async fn replace_catalog(&self, catalog: &Catalog) -> Result<ImportSummary, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CATALOG_IMPORT_LOCK)
            .execute(&mut *tx)
            .await?;
        let existing: BTreeSet<String> = sqlx::query_scalar("SELECT sku FROM products")
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
        let incoming: Vec<String> =
            catalog.products.iter().map(|p| p.sku.as_str().to_owned()).collect();

        let removed = sqlx::query("DELETE FROM products WHERE NOT (sku = ANY($1))")
            .bind(&incoming)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let mut summary = ImportSummary { removed: removed as usize, ..ImportSummary::default() };
        for (position, product) in catalog.products.iter().enumerate() {
            if existing.contains(product.sku.as_str()) {
                summary.updated += 1;
            } else {
                summary.added += 1;
            }
            sqlx::query(
                "INSERT INTO products
                    (sku, position, name, category, price_minor, final_sale, return_days, definition)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (sku) DO UPDATE SET
                    position = excluded.position, name = excluded.name,
                    category = excluded.category, price_minor = excluded.price_minor,
                    final_sale = excluded.final_sale, return_days = excluded.return_days,
                    definition = excluded.definition",
            )
            .bind(product.sku.as_str())
            .bind(position as i64)
            .bind(&product.name)
            .bind(&product.category)
            .bind(product.price.minor())
            .bind(product.final_sale)
            .bind(product.return_days.map(i64::from))
            .bind(Json(product))
            .execute(&mut *tx)
            .await?;
        }

        let rows = stock_rows(catalog);
        let skus: Vec<String> = rows.iter().map(|(k, _)| k.sku.as_str().to_owned()).collect();
        let option_keys: Vec<String> = rows.iter().map(|(k, _)| option_key(k)).collect();
        let on_hand: Vec<i64> = rows.iter().map(|(_, n)| i64::from(*n)).collect();
        sqlx::query(
            "DELETE FROM stock_levels s WHERE NOT EXISTS (
                SELECT 1 FROM UNNEST($1::text[], $2::text[]) AS w(sku, option_key)
                WHERE w.sku = s.sku AND w.option_key = s.option_key)",
        )
        .bind(&skus)
        .bind(&option_keys)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO stock_levels (sku, option_key, on_hand)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[])
             ON CONFLICT (sku, option_key) DO UPDATE SET on_hand = excluded.on_hand",
        )
        .bind(&skus)
        .bind(&option_keys)
        .bind(&on_hand)
        .execute(&mut *tx)
        .await?;

        sqlx::query(
            "INSERT INTO catalog_meta (id, currency, product_count, imported_at) VALUES (1, $1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET currency = excluded.currency,
                product_count = excluded.product_count, imported_at = excluded.imported_at",
        )
        .bind(catalog.currency.to_string())
        .bind(catalog.products.len() as i64)
        .bind(OffsetDateTime::now_utc())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(summary)
    }

    async fn catalog_imported_at(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        Ok(sqlx::query_scalar("SELECT imported_at FROM catalog_meta WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn catalog(&self) -> Result<Option<Catalog>, StoreError> {
        let Some(currency): Option<String> =
            sqlx::query_scalar("SELECT currency FROM catalog_meta WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        let currency = Currency::parse(&currency)
            .map_err(|e| StoreError::Corrupt(format!("catalog currency {currency:?}: {e}")))?;
        let products: Vec<Json<Product>> =
            sqlx::query_scalar("SELECT definition FROM products ORDER BY position")
                .fetch_all(&self.pool)
                .await?;
        Ok(Some(Catalog { currency, products: products.into_iter().map(|p| p.0).collect() }))
    }

    async fn stock_levels(&self) -> Result<StockLevels, StoreError> {
        let rows: Vec<(String, String, i64, i64)> =
            sqlx::query_as("SELECT sku, option_key, on_hand, reserved FROM stock_levels")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(sku, option_key, on_hand, reserved)| {
                Ok((stock_key_from_columns(&sku, &option_key)?, level(on_hand, reserved)?))
            })
            .collect()
    }
}
