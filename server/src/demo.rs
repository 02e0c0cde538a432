//! `gapless demo seed`: delivered demo orders at various ages, so that a new user can try
//! the returns portal's approvals, rejections and review in the first minute. The orders
//! go through the real chat turns (the same events, projection and stock as a shopper's)
//! and belong to `demo@example.com`, the demo customer. Their shipments and deliveries
//! go through the fulfilment path a warehouse system uses (`shipped` and `delivered`
//! events with outbox rows), so the chat can say where they are and the dashboard has
//! delivery numbers.

use std::sync::Arc;

use anyhow::{bail, Context};
use gapless_domain::orders::FulfilmentStatus;
use gapless_store::{ApiKeyRow, Store};
use time::{format_description::well_known::Rfc3339, Duration, OffsetDateTime};

use crate::{
    chat::service::ChatService,
    fulfilment::{self, service::FulfilmentReport},
};

pub const DEMO_EMAIL: &str = "demo@example.com";

/// What to order, how many days ago it was delivered, and what it lets one try.
const ORDERS: &[(&str, i64, &str)] = &[
    ("two black tees in M and a trail bottle", 3, "approved returns (any reason but damaged)"),
    (
        "a yellow rain jacket in m and a black tee in l",
        5,
        "a final-sale item next to a returnable one",
    ),
    ("a black tee in s", 10, "a return for \"Arrived damaged\", which goes to staff review"),
    ("a trail bottle", 45, "a closed return window"),
];

/// One seeded order: its number, age and what it demonstrates.
pub struct Seeded {
    pub number: String,
    pub delivered_days_ago: i64,
    pub shows: &'static str,
}

pub async fn seed(store: Arc<dyn Store>) -> anyhow::Result<Vec<Seeded>> {
    if store.catalog().await?.is_none() {
        bail!("the database has no catalog yet: start the server once or run `gapless catalog import demo/catalog.json`");
    }
    let chat = ChatService::new(store.clone());
    let mut seeded = Vec::new();
    for (items, days, shows) in ORDERS {
        let conversation = chat.start_conversation("demo").await.map_err(api)?;
        let mut last = None;
        for text in [
            (*items).to_owned(),
            format!("my name is Demo Customer, {DEMO_EMAIL}"),
            "ship to 1 Demo Street, Springfield, 62701, US".to_owned(),
            "confirm".to_owned(),
            "yes".to_owned(),
        ] {
            last = Some(chat.post_message(&conversation, &text, None).await.map_err(api)?);
        }
        let last = last.context("the demo order has messages")?;
        let Some(order) = last.order.filter(|order| order.status == "confirmed") else {
            bail!("the demo order {items:?} was not confirmed: {}", last.reply);
        };
        let number = order.number.as_str();
        let delivered = OffsetDateTime::now_utc() - Duration::days(*days);
        for (status, at) in [("shipped", delivered - Duration::days(2)), ("delivered", delivered)] {
            let report = FulfilmentReport {
                status: if status == "shipped" {
                    FulfilmentStatus::Shipped
                } else {
                    FulfilmentStatus::Delivered
                },
                carrier: Some("UPS".into()),
                tracking_number: Some(format!("1ZDEMO{}", number.trim_start_matches("G-"))),
                tracking_url: Some(format!("https://www.ups.com/track?tracknum=1ZDEMO{number}")),
                at: Some(at.format(&Rfc3339).context("formatting a demo time")?),
            };
            fulfilment::service::record(store.as_ref(), &demo_system(), number, &report, None)
                .await
                .map_err(api)?;
        }
        seeded.push(Seeded { number: number.to_owned(), delivered_days_ago: *days, shows });
    }
    Ok(seeded)
}

/// The system the demo reports as. It sends no Idempotency-Key, so nothing refers to
/// this key in the database and no key needs to exist.
fn demo_system() -> ApiKeyRow {
    ApiKeyRow {
        id: "demo".into(),
        name: "gapless demo seed".into(),
        created_at: OffsetDateTime::now_utc(),
        revoked_at: None,
    }
}

fn api(error: impl Into<crate::api_error::ApiError>) -> anyhow::Error {
    match error.into() {
        crate::api_error::ApiError::Internal(cause) => cause,
        other => anyhow::anyhow!("{other}"),
    }
}
