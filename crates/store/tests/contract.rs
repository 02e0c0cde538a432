//! One contract, two backends: every story here runs against SQLite always and against
//! PostgreSQL when `TEST_DATABASE_URL` is set (skipped with a message otherwise).

use std::sync::Arc;

use gapless_domain::{catalog::Catalog, sku::Sku};
use gapless_store::{ImportSummary, StockKey, StockLevel, Store};

fn catalog(json: &str) -> Catalog {
    Catalog::from_json(json).expect("test catalog is valid")
}

const FIRST: &str = r#"{
  "currency": "USD",
  "products": [
    { "sku": "TEE", "name": "tee", "price": 2500, "stock": 10, "category": "Apparel",
      "options": [ { "name": "color", "kind": "single",
                     "values": [ { "name": "black", "stock": 3 }, { "name": "white" } ] } ] },
    { "sku": "MUG", "name": "mug", "price": 1200, "stock": null },
    { "sku": "CAP", "name": "cap", "price": 1800, "stock": 4, "final_sale": true }
  ]
}"#;

const SECOND: &str = r#"{
  "currency": "USD",
  "products": [
    { "sku": "MUG", "name": "enamel mug", "price": 1400, "stock": 7 },
    { "sku": "TEE", "name": "tee", "price": 2600, "stock": 2,
      "options": [ { "name": "color", "kind": "single",
                     "values": [ { "name": "black" }, { "name": "white", "stock": 5 } ] } ] },
    { "sku": "SOCKS", "name": "socks", "price": 900 }
  ]
}"#;

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

async fn a_new_database_has_no_catalog(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
    assert_eq!(store.catalog().await.unwrap(), None);
    assert!(store.stock_levels().await.unwrap().is_empty());
}

async fn an_imported_catalog_reads_back_equal(store: Arc<dyn Store>) {
    let first = catalog(FIRST);
    let summary = store.replace_catalog(&first).await.unwrap();
    assert_eq!(summary, ImportSummary { added: 3, updated: 0, removed: 0 });
    assert_eq!(store.catalog().await.unwrap(), Some(first));

    let stock = store.stock_levels().await.unwrap();
    let expected = [
        (StockKey::product(sku("CAP")), 4),
        (StockKey::product(sku("TEE")), 10),
        (StockKey::value(sku("TEE"), "color", "black"), 3),
    ];
    assert_eq!(stock.len(), expected.len(), "{stock:?}");
    for (key, on_hand) in expected {
        assert_eq!(stock[&key], StockLevel { on_hand, reserved: 0 }, "{key:?}");
    }
}

async fn a_second_import_replaces_the_first(store: Arc<dyn Store>) {
    store.replace_catalog(&catalog(FIRST)).await.unwrap();
    let second = catalog(SECOND);
    let summary = store.replace_catalog(&second).await.unwrap();
    assert_eq!(summary, ImportSummary { added: 1, updated: 2, removed: 1 });
    // The order of the file is the order of the shop.
    assert_eq!(store.catalog().await.unwrap(), Some(second));

    let stock = store.stock_levels().await.unwrap();
    let keys: Vec<_> = stock.keys().cloned().collect();
    assert_eq!(
        keys,
        vec![
            StockKey::product(sku("MUG")),
            StockKey::product(sku("TEE")),
            StockKey::value(sku("TEE"), "color", "white"),
        ]
    );
    assert_eq!(stock[&StockKey::product(sku("TEE"))].on_hand, 2);
}

async fn importing_the_same_catalog_twice_changes_nothing(store: Arc<dyn Store>) {
    let first = catalog(FIRST);
    store.replace_catalog(&first).await.unwrap();
    let before = store.stock_levels().await.unwrap();
    let summary = store.replace_catalog(&first).await.unwrap();
    assert_eq!(summary, ImportSummary { added: 0, updated: 3, removed: 0 });
    assert_eq!(store.catalog().await.unwrap(), Some(first));
    assert_eq!(store.stock_levels().await.unwrap(), before);
}

async fn migrating_twice_is_harmless(store: Arc<dyn Store>) {
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
}

macro_rules! contract {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $story() {
                let db = gapless_store::testing::sqlite().await;
                super::$story(db.store.clone()).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $story() {
                let Some(db) = gapless_store::testing::postgres().await else { return };
                super::$story(db.store.clone()).await;
            })*
        }
    };
}

contract!(
    a_new_database_has_no_catalog,
    an_imported_catalog_reads_back_equal,
    a_second_import_replaces_the_first,
    importing_the_same_catalog_twice_changes_nothing,
    migrating_twice_is_harmless,
);
