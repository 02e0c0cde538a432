//! Persistence for Gapless behind one [`Store`] trait, with a SQLite implementation (the
//! embedded default) and a PostgreSQL one (for shops that run several app servers).
//!
//! The backend is chosen by the URL scheme in [`connect`]. Both implementations pass the
//! same contract tests (`tests/contract.rs`), so callers never branch on the backend.

mod postgres;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
pub use gapless_domain::stock::{StockKey, StockLevel, StockLevels};
use gapless_domain::{catalog::Catalog, sku::Sku};

pub use postgres::PostgresStore;
pub use sqlite::{SqliteDurability, SqliteStore};

/// Everything the app persists. Held as `Arc<dyn Store>`: server functions cannot be
/// generic over the backend.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`, for logs and `/healthz`.
    fn backend(&self) -> Backend;

    /// Applies the migrations this binary embeds that the database has not seen yet.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// A round trip to the database: `/healthz` uses it.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Replaces the catalog with `catalog` in one transaction: products missing from it
    /// are removed, stock on hand is set from it, units already reserved by orders stay
    /// reserved. Nothing changes if any statement fails.
    async fn replace_catalog(&self, catalog: &Catalog) -> Result<ImportSummary, StoreError>;

    /// The catalog as last imported, or `None` before the first import.
    async fn catalog(&self) -> Result<Option<Catalog>, StoreError>;

    /// Units on hand and reserved for every tracked product and option value.
    async fn stock_levels(&self) -> Result<StockLevels, StoreError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an import changed, for the CLI and the log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportSummary {
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
}

/// The `option_key` column: `''` for a product's own stock, `'group=value'` for a value.
fn option_key(key: &StockKey) -> String {
    match &key.option {
        None => String::new(),
        Some((group, value)) => format!("{group}={value}"),
    }
}

fn stock_key_from_columns(sku: &str, option_key: &str) -> Result<StockKey, StoreError> {
    let sku = Sku::parse(sku)
        .map_err(|e| StoreError::Corrupt(format!("stock row with bad sku {sku:?}: {e}")))?;
    Ok(match option_key.split_once('=') {
        None => StockKey::product(sku),
        Some((group, value)) => StockKey::value(sku, group, value),
    })
}

/// The stock rows a catalog asks for: one per tracked product, one per tracked value.
fn stock_rows(catalog: &Catalog) -> Vec<(StockKey, u32)> {
    let mut rows = Vec::new();
    for product in &catalog.products {
        if let Some(on_hand) = product.stock {
            rows.push((StockKey::product(product.sku.clone()), on_hand));
        }
        for group in &product.options {
            for value in &group.values {
                if let Some(on_hand) = value.stock {
                    rows.push((
                        StockKey::value(product.sku.clone(), &group.name, &value.name),
                        on_hand,
                    ));
                }
            }
        }
    }
    rows
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported DATABASE_URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
}

/// Opens the database named by `url` (`sqlite://…` or `postgres://…`) without migrating.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url, SqliteDurability::Full).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(redact_url(url)))
    }
}

/// A URL fit for logs and error messages: the password, if any, replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_hides_only_the_password() {
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://data/gapless.db"), "sqlite://data/gapless.db");
    }

    #[test]
    fn option_key_round_trips() {
        let sku = Sku::parse("TEE").unwrap();
        for key in [StockKey::product(sku.clone()), StockKey::value(sku, "color", "forest green")] {
            let back = stock_key_from_columns(key.sku.as_str(), &option_key(&key)).unwrap();
            assert_eq!(back, key);
        }
    }
}

#[cfg(feature = "testing")]
pub mod testing;
