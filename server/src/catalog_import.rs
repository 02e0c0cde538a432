//! `gapless catalog import FILE` and the first-start import: parse and validate the whole
//! file first (domain), then replace the catalog in one transaction (store).

use std::path::Path;

use gapless_domain::catalog::{Catalog, CatalogError};
use gapless_store::{ImportSummary, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read the catalog file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("the catalog file {path} was rejected, nothing was changed:\n{source}")]
    Invalid { path: String, source: CatalogError },
    #[error("cannot save the catalog: {0}")]
    Store(#[from] StoreError),
}

pub async fn import_file(store: &dyn Store, path: &Path) -> Result<ImportSummary, ImportError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|source| ImportError::Read { path: shown.clone(), source })?;
    let catalog =
        Catalog::from_json(&text).map_err(|source| ImportError::Invalid { path: shown, source })?;
    let summary = store.replace_catalog(&catalog).await?;
    tracing::info!(
        file = %path.display(),
        products = catalog.products.len(),
        added = summary.added,
        updated = summary.updated,
        removed = summary.removed,
        "catalog imported"
    );
    Ok(summary)
}
