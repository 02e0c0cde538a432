//! SQLite: the catalog and its stock levels. The import is one transaction on the single
//! writer connection.

use std::collections::BTreeSet;

use async_trait::async_trait;
use gapless_domain::{
    catalog::{Catalog, Product},
    money::Currency,
};
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::{
    level, option_key, sqlite::SqliteStore, sqlite_writes::sqlite_error, stock_key_from_columns,
    stock_rows, CatalogStore, ImportSummary, StockLevels, StoreError,
};

#[async_trait]
impl CatalogStore for SqliteStore {
    async fn replace_catalog(&self, catalog: &Catalog) -> Result<ImportSummary, StoreError> {
        let mut tx = self.writer.begin().await?;
        let existing: BTreeSet<String> = sqlx::query_scalar("SELECT sku FROM products")
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
        let incoming: BTreeSet<String> =
            catalog.products.iter().map(|p| p.sku.as_str().to_owned()).collect();

        let mut summary = ImportSummary::default();
        for sku in existing.difference(&incoming) {
            sqlx::query("DELETE FROM products WHERE sku = ?").bind(sku).execute(&mut *tx).await?;
            summary.removed += 1;
        }
        for (position, product) in catalog.products.iter().enumerate() {
            if existing.contains(product.sku.as_str()) {
                summary.updated += 1;
            } else {
                summary.added += 1;
            }
            sqlx::query(
                "INSERT INTO products
                    (sku, position, name, category, price_minor, final_sale, return_days, definition)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
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
        let wanted: BTreeSet<(String, String)> =
            rows.iter().map(|(key, _)| (key.sku.as_str().to_owned(), option_key(key))).collect();
        let stored: Vec<(String, String)> =
            sqlx::query_as("SELECT sku, option_key FROM stock_levels").fetch_all(&mut *tx).await?;
        for (sku, option_key) in stored {
            if !wanted.contains(&(sku.clone(), option_key.clone())) {
                sqlx::query("DELETE FROM stock_levels WHERE sku = ? AND option_key = ?")
                    .bind(sku)
                    .bind(option_key)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for (key, on_hand) in rows {
            sqlx::query(
                "INSERT INTO stock_levels (sku, option_key, on_hand) VALUES (?, ?, ?)
                 ON CONFLICT (sku, option_key) DO UPDATE SET on_hand = excluded.on_hand",
            )
            .bind(key.sku.as_str())
            .bind(option_key(&key))
            .bind(i64::from(on_hand))
            .execute(&mut *tx)
            .await?;
        }

        sqlx::query(
            "INSERT INTO catalog_meta (id, currency, product_count, imported_at) VALUES (1, ?, ?, ?)
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
            .fetch_optional(&self.reader)
            .await?)
    }

    async fn catalog(&self) -> Result<Option<Catalog>, StoreError> {
        let Some(currency): Option<String> =
            sqlx::query_scalar("SELECT currency FROM catalog_meta WHERE id = 1")
                .fetch_optional(&self.reader)
                .await?
        else {
            return Ok(None);
        };
        let currency = Currency::parse(&currency)
            .map_err(|e| StoreError::Corrupt(format!("catalog currency {currency:?}: {e}")))?;
        let products: Vec<Json<Product>> =
            sqlx::query_scalar("SELECT definition FROM products ORDER BY position")
                .fetch_all(&self.reader)
                .await?;
        Ok(Some(Catalog { currency, products: products.into_iter().map(|p| p.0).collect() }))
    }

    /// The levels read last, unless the stock's version (migration 0024: every change to
    /// `stock_levels` moves it on, in the change's own transaction) has moved since.
    async fn stock_levels(&self) -> Result<StockLevels, StoreError> {
        let kept = &self.stock;
        self.direct
            .read(|db| {
                // The version before the rows: a change committed between the two reads
                // leaves rows newer than the version they are kept with, which the next
                // read replaces; never older.
                let version: i64 = db
                    .prepare_cached("SELECT n FROM stock_version WHERE id = 1")
                    .and_then(|mut read| read.query_row([], |row| row.get(0)))
                    .map_err(sqlite_error)?;
                if let Some((at, levels)) = &*kept.lock().unwrap_or_else(|e| e.into_inner()) {
                    if *at == version {
                        return Ok(levels.clone());
                    }
                }
                let mut read = db
                    .prepare_cached("SELECT sku, option_key, on_hand, reserved FROM stock_levels")
                    .map_err(sqlite_error)?;
                let rows = read
                    .query_map([], |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, i64>(2)?,
                            row.get::<_, i64>(3)?,
                        ))
                    })
                    .map_err(sqlite_error)?;
                let levels = rows
                    .map(|row| {
                        let (sku, option_key, on_hand, reserved) = row.map_err(sqlite_error)?;
                        Ok((stock_key_from_columns(&sku, &option_key)?, level(on_hand, reserved)?))
                    })
                    .collect::<Result<StockLevels, StoreError>>()?;
                *kept.lock().unwrap_or_else(|e| e.into_inner()) = Some((version, levels.clone()));
                Ok(levels)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use crate::{CatalogStore, SqliteDurability, SqliteStore, Store};

    /// The levels kept between reads are the database's: a change made through another
    /// connection (here a second store on the same file, as another process would) is
    /// seen by the next read, whether it adds, changes or removes a level.
    #[tokio::test]
    async fn stock_levels_follow_every_change_whoever_makes_it() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let store = SqliteStore::connect(&url, SqliteDurability::Full).await.unwrap();
        store.migrate().await.unwrap();
        let other = SqliteStore::connect(&url, SqliteDurability::Full).await.unwrap();
        let change = |sql: &'static str| {
            let writer = other.writer.clone();
            async move { sqlx::query(sql).execute(&writer).await.unwrap().rows_affected() }
        };
        let levels = || async {
            let levels = store.stock_levels().await.unwrap();
            levels
                .iter()
                .map(|(key, level)| {
                    let option =
                        key.option.as_ref().map(|(group, value)| format!("{group}={value}"));
                    (key.sku.as_str().to_owned(), option, level.on_hand, level.reserved)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(levels().await, []);

        change("INSERT INTO stock_levels (sku, option_key, on_hand) VALUES ('TEE', '', 5), ('TEE', 'size=m', 2)").await;
        let both = vec![
            ("TEE".to_owned(), None, 5, 0),
            ("TEE".to_owned(), Some("size=m".to_owned()), 2, 0),
        ];
        assert_eq!(levels().await, both);
        assert_eq!(levels().await, both, "read again, nothing changed");

        change("UPDATE stock_levels SET reserved = 2 WHERE sku = 'TEE' AND option_key = ''").await;
        assert_eq!(levels().await[0], ("TEE".to_owned(), None, 5, 2));

        // A statement that matches no row changes nothing, and the kept levels stay right.
        assert_eq!(change("UPDATE stock_levels SET reserved = 9 WHERE sku = 'NONE'").await, 0);
        assert_eq!(levels().await[0], ("TEE".to_owned(), None, 5, 2));

        change("DELETE FROM stock_levels WHERE option_key = 'size=m'").await;
        assert_eq!(levels().await, [("TEE".to_owned(), None, 5, 2)]);
    }
}
