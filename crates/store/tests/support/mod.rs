//! What the outbox contracts (webhooks, email) share: writing order events as a chat
//! turn would.

use gapless_domain::orders::{OrderStatus, PaymentStatus};
use gapless_store::{
    new_id, CustomerWrite, EventWrite, LineWrite, NewConversation, OrderProjection, OrderWrite,
    Store, TurnWrite,
};
use serde_json::json;
use time::OffsetDateTime;

pub const LEASE: i64 = 60_000;

/// One turn of a new conversation writing `types` as the order's events after
/// `version`; returns (conversation, order id).
pub async fn write_events(
    store: &dyn Store,
    conversation: Option<&str>,
    order_id: &str,
    version: u32,
    types: &[&str],
) -> String {
    let conversation = match conversation {
        Some(c) => c.to_owned(),
        None => {
            let id = new_id();
            store
                .create_conversation(&NewConversation {
                    id: id.clone(),
                    channel: "api".into(),
                    started_at: OffsetDateTime::now_utc(),
                })
                .await
                .unwrap();
            id
        }
    };
    let seq = store.turns(&conversation).await.unwrap().len() as u32 + 1;
    let number = format!("GL-{}", &order_id[..8]);
    let write = TurnWrite {
        conversation_id: conversation.clone(),
        turn_id: new_id(),
        seq,
        text: "x".into(),
        received_at: OffsetDateTime::now_utc(),
        idempotency_key: None,
        extractor: gapless_domain::chat::Extractor::Rules,
        audit: json!({}),
        reply: "ok".into(),
        response: json!({}),
        outcome: None,
        handoff: false,
        order: Some(OrderWrite {
            order_id: order_id.to_owned(),
            number,
            expected_version: version,
            events: types
                .iter()
                .map(|t| EventWrite {
                    id: new_id(),
                    event_type: (*t).to_owned(),
                    schema_version: 1,
                    payload: json!({ "type": t }),
                })
                .collect(),
            actor: "shopper".into(),
            projection: OrderProjection {
                status: OrderStatus::Draft,
                currency: "USD".into(),
                subtotal: 0,
                shipping: 0,
                total: 0,
                shipping_address: None,
                shipped_at: None,
                delivered_at: None,
                payment_status: PaymentStatus::NotRequired,
                payment_expires_at: None,
                snapshot: None,
                customer: Some(CustomerWrite {
                    email: "ana@example.com".into(),
                    name: None,
                    phone: None,
                }),
                lines: vec![LineWrite {
                    sku: "TEE".into(),
                    name: "tee".into(),
                    quantity: 1,
                    choices: json!([]),
                    unit_price: 0,
                    total: 0,
                }],
            },
            reserve: vec![],
            release: vec![],
        }),
    };
    store.record_turn(&write).await.unwrap();
    conversation
}
