//! The shop page `/`: the catalog as shoppers see it, with a category filter.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, ErrorNotice};

/// The catalog, shaped for the shop page: prices already formatted by our code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopCatalog {
    pub categories: Vec<String>,
    pub products: Vec<ShopProduct>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopProduct {
    pub sku: String,
    pub name: String,
    pub category: Option<String>,
    pub description: Option<String>,
    pub price: String,
    pub options: Vec<ShopOptionGroup>,
    pub availability: Availability,
    pub final_sale: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopOptionGroup {
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Availability {
    InStock,
    /// Few enough left that the shopper should know.
    Low(u32),
    SoldOut,
}

#[server(endpoint = "shop/catalog")]
pub async fn load_shop() -> Result<ShopCatalog, AppError> {
    let store = use_context::<std::sync::Arc<dyn gapless_store::Store>>()
        .ok_or_else(|| AppError::internal("reading the store from context", MissingContext))?;
    let catalog =
        store.catalog().await.map_err(|e| AppError::internal("loading the catalog", e))?;
    let stock = store.stock_levels().await.map_err(|e| AppError::internal("loading stock", e))?;
    Ok(catalog
        .map(|c| ssr::shop_catalog(&c, &stock))
        .unwrap_or(ShopCatalog { categories: Vec::new(), products: Vec::new() }))
}

#[cfg(feature = "ssr")]
#[derive(Debug, thiserror::Error)]
#[error("the server did not provide the store to the app")]
struct MissingContext;

#[cfg(feature = "ssr")]
mod ssr {
    use gapless_domain::catalog::Catalog;
    use gapless_store::{StockKey, StockLevels};

    use super::{Availability, ShopCatalog, ShopOptionGroup, ShopProduct};

    /// Tracked stock at or below this is shown as "only N left".
    const LOW_STOCK: u32 = 5;

    pub fn shop_catalog(catalog: &Catalog, stock: &StockLevels) -> ShopCatalog {
        let products = catalog
            .products
            .iter()
            .map(|product| {
                let available = stock
                    .get(&StockKey::product(product.sku.clone()))
                    .map(|level| level.available());
                ShopProduct {
                    sku: product.sku.to_string(),
                    name: product.name.clone(),
                    category: product.category.clone(),
                    description: product.description.clone(),
                    price: product.price.format(&catalog.currency),
                    options: product
                        .options
                        .iter()
                        .map(|group| ShopOptionGroup {
                            name: group.name.clone(),
                            values: group.values.iter().map(|v| v.name.clone()).collect(),
                        })
                        .collect(),
                    availability: match available {
                        Some(0) => Availability::SoldOut,
                        Some(n) if n <= LOW_STOCK => Availability::Low(n),
                        _ => Availability::InStock,
                    },
                    final_sale: product.final_sale,
                }
            })
            .collect();
        ShopCatalog {
            categories: catalog.categories().into_iter().map(str::to_owned).collect(),
            products,
        }
    }
}

#[component]
pub fn ShopPage() -> impl IntoView {
    // The chat widget first: its resource and `Suspense` then take the page's first
    // serialized-data ids (0 and 1), before the catalog's resource and `Transition`. The
    // shop's bundle hydrates the widget alone (`crate::shop_bundle`) and relies on it.
    let chat = view! { <crate::chat::ChatWidget/> };
    let catalog = crate::codec::resource(|| (), |_| load_shop());
    view! {
        <Title text="Shop"/>
        <section class="shop" aria-labelledby="shop-title">
            <h1 id="shop-title">"Shop"</h1>
            <p class="lede">"Outdoor apparel, trail gear, and a pizza kitchen for the trailhead."</p>
            <Transition fallback=|| {
                view! { <p class="loading" role="status">"Loading products…"</p> }
            }>
                {move || Suspend::new(async move {
                    match catalog.await {
                        Ok(catalog) => view! { <Catalog catalog/> }.into_any(),
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        {chat}
    }
}

/// The cards and the category filter. The shop's bundle does not hydrate this: its filter
/// is DOM code over this HTML (`crate::shop_bundle`), so a change to the chips, the
/// cards' `data-category`/`hidden` or the count's text must be made there too.
#[component]
fn Catalog(catalog: ShopCatalog) -> impl IntoView {
    if catalog.products.is_empty() {
        return view! {
            <p class="empty" role="status">"No products yet. Please check back soon."</p>
        }
        .into_any();
    }
    let filter = RwSignal::new(None::<String>);
    let chip = move |label: String, value: Option<String>| {
        let pressed = {
            let value = value.clone();
            move || filter.get() == value
        };
        view! {
            <button
                type="button"
                class="chip"
                data-category=value.clone()
                aria-pressed=move || pressed().to_string()
                on:click=move |_| filter.set(value.clone())
            >
                {label}
            </button>
        }
    };
    let chips = std::iter::once(chip("All".to_owned(), None))
        .chain(catalog.categories.iter().map(|c| chip(c.clone(), Some(c.clone()))))
        .collect_view();
    let count = catalog.products.len();
    let categories = catalog.products.iter().map(|p| p.category.clone()).collect::<Vec<_>>();
    let shown = move || {
        let filter = filter.get();
        categories.iter().filter(|c| filter.is_none() || **c == filter).count()
    };
    let cards = catalog
        .products
        .into_iter()
        .map(|product| {
            let category = product.category.clone();
            let hidden = move || filter.with(|f| f.is_some() && *f != category);
            view! { <ProductCard product hidden/> }
        })
        .collect_view();
    view! {
        <div class="filters" role="group" aria-label="Filter by category">{chips}</div>
        <p class="result-count" aria-live="polite">
            {move || format!("Showing {} of {count} products", shown())}
        </p>
        <ul class="products">{cards}</ul>
    }
    .into_any()
}

#[component]
fn ProductCard(
    product: ShopProduct,
    hidden: impl Fn() -> bool + Send + Sync + 'static,
) -> impl IntoView {
    let ShopProduct { sku, name, category, description, price, options, availability, final_sale } =
        product;
    // SKUs are ASCII (`gapless_domain::sku`); `to_lowercase` would bring Unicode's case
    // tables into the wasm.
    let title_id = format!("product-{}", sku.to_ascii_lowercase());
    let labelled_by = title_id.clone();
    let category_attr = category.clone();
    let stock = match availability {
        Availability::InStock => None,
        Availability::Low(n) => {
            Some(view! { <p class="stock stock-low">{format!("Only {n} left")}</p> }.into_any())
        }
        Availability::SoldOut => {
            Some(view! { <p class="stock stock-out">"Sold out"</p> }.into_any())
        }
    };
    view! {
        <li class="product" data-sku=sku data-category=category_attr hidden=hidden>
            <article aria-labelledby=labelled_by>
                <h2 id=title_id class="product-name">{name}</h2>
                <p class="price">{price}</p>
                {category.map(|c| view! { <p class="category">{c}</p> })}
                {description.map(|d| view! { <p class="description">{d}</p> })}
                <dl class="options">
                    {options
                        .into_iter()
                        .map(|group| {
                            view! {
                                <dt>{group.name}</dt>
                                <dd>{group.values.join(" · ")}</dd>
                            }
                        })
                        .collect_view()}
                </dl>
                {stock}
                {final_sale.then(|| view! { <p class="badge">"Final sale: not returnable"</p> })}
            </article>
        </li>
    }
}
