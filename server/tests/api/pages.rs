use gapless_domain::catalog::Catalog;

use crate::helpers::{repo_path, TestApp};

fn demo_catalog() -> Catalog {
    Catalog::from_json(&std::fs::read_to_string(repo_path("demo/catalog.json")).unwrap()).unwrap()
}

async fn shop_page_lists_the_catalog_from_the_database(app: TestApp) {
    let response = app.get("/").await;
    let status = response.status();
    // Read without panicking, so that a failure shows the status, headers and body (a
    // 503 without a content type was seen once in a loaded full run).
    let headers = format!("{:?}", response.headers());
    let is_html = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert_eq!(status, 200, "{headers}\n{html}");
    assert!(is_html, "{headers}\n{html}");

    assert!(html.contains("<title>Shop · Gapless</title>"), "{html}");
    let catalog = demo_catalog();
    for product in &catalog.products {
        assert!(
            html.contains(&format!("data-sku=\"{}\"", product.sku)),
            "product {} missing from the page",
            product.sku
        );
    }
    let total = catalog.products.len();
    assert!(html.contains(&format!("Showing {total} of {total} products")));
    // The page asks for the front end so that it can hydrate.
    assert!(html.contains("/pkg/gapless.js"));
    assert!(html.contains("/pkg/gapless.css"));
}

async fn shop_page_shows_low_stock_and_final_sale(app: TestApp) {
    let catalog = demo_catalog();
    let low = catalog.products.iter().find(|p| p.is_low_stock()).expect("demo has low stock");
    let html = app.get("/").await.text().await.unwrap();
    let card_start = html.find(&format!("data-sku=\"{}\"", low.sku)).unwrap();
    let card = &html[card_start..];
    let card = &card[..card.find("</li>").unwrap()];
    assert!(card.contains(&format!("Only {} left", low.stock.unwrap())), "{card}");
    assert!(html.contains("Final sale: not returnable"));
}

async fn shop_page_follows_a_new_import(app: TestApp) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        r#"{ "currency": "EUR", "products": [
             { "sku": "KETTLE", "name": "camp kettle", "price": 3450, "stock": 2 } ] }"#,
    )
    .unwrap();
    server::catalog_import::import_file(app.db.store.as_ref(), file.path()).await.unwrap();

    let html = app.get("/").await.text().await.unwrap();
    // Seen once under a loaded full run, not reproduced alone: the page is printed.
    assert!(html.contains("data-sku=\"KETTLE\""), "{html}");
    assert!(html.contains("€34.50"), "{html}");
    assert!(html.contains("Only 2 left"));
    assert!(!html.contains("data-sku=\"TEE\""));
    assert!(html.contains("Showing 1 of 1 products"));
}

async fn an_empty_shop_says_so(app: TestApp) {
    app.execute_sql("DELETE FROM products").await;
    let html = app.get("/").await.text().await.unwrap();
    assert!(html.contains("No products yet"), "{html}");
}

async fn unknown_pages_are_404(app: TestApp) {
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    let html = response.text().await.unwrap();
    assert!(html.contains("<title>Page not found · Gapless</title>"), "{html}");
    assert!(html.contains("Back to the shop"));
}

async fn a_database_failure_leaks_nothing(app: TestApp) {
    app.execute_sql("DROP TABLE products").await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 500);
    let html = response.text().await.unwrap();
    assert!(html.contains("Something went wrong on our side"), "{html}");
    for internal in ["no such table", "does not exist", "sqlx", "database error", "SELECT"] {
        assert!(!html.contains(internal), "the page leaks {internal:?}: {html}");
    }
}

/// The shop page gets the shop's bundle; only returns pages load the portal's and only
/// staff pages the console's.
async fn pages_load_their_own_bundle(app: TestApp) {
    let bundles = ["/pkg/gapless.js", "/pkg/gapless_returns.js", "/pkg/gapless_staff.js"];
    for (path, bundle) in [
        ("/", bundles[0]),
        ("/no/such/page", bundles[0]),
        ("/returns", bundles[1]),
        ("/returns/R-NOSUCH", bundles[1]),
        ("/staff", bundles[2]),
    ] {
        let html = app.get(path).await.text().await.unwrap();
        assert!(html.contains(bundle), "{path} loads {bundle}");
        for other in bundles.iter().filter(|other| **other != bundle) {
            assert!(!html.contains(other), "{path} does not load {other}");
        }
    }
}

crate::on_both_backends!(
    pages_load_their_own_bundle,
    shop_page_lists_the_catalog_from_the_database,
    shop_page_shows_low_stock_and_final_sale,
    shop_page_follows_a_new_import,
    an_empty_shop_says_so,
    unknown_pages_are_404,
    a_database_failure_leaks_nothing,
);
