//! The body of a webhook message (CONTRACTS §6): the event, and the order (or return)
//! as that event left it, so that a CRM never has to fold events itself. Rendered once
//! per outbox row when it is fanned out, then sent as stored on every attempt.

use std::collections::HashMap;

use anyhow::{anyhow, Context};
pub use gapless_api::webhooks::EventRef;
use gapless_api::{
    chat::Order,
    returns::ReturnView,
    webhooks::{OrderData, ReturnData, TestData, WebhookMessage},
};
use gapless_domain::{
    money::Currency,
    orders::{OrderEvent, OrderNumber, OrderState, OrderView},
};
use gapless_store::{EventRow, OutboxMessage, ReturnRow, Store};
use serde_json::Value;
use time::OffsetDateTime;

use crate::json_time::rfc3339;

pub fn test_body(at: OffsetDateTime) -> String {
    let message = WebhookMessage {
        kind: gapless_domain::webhooks::TEST_TOPIC.to_owned(),
        timestamp: rfc3339(at),
        data: TestData {
            message: "a test event from Gapless: your endpoint is reachable".to_owned(),
        },
    };
    serde_json::to_string(&message).unwrap_or_default()
}

/// An outbox message's order or return as its event left it: what the webhook body and
/// the customer's email are made from.
pub enum Snapshot {
    Order {
        event: EventRef,
        number: OrderNumber,
        order: Box<OrderState>,
    },
    Return {
        event: EventRef,
        /// The return as `GET /api/v1/returns/{rma}` shows it.
        view: Box<ReturnView>,
        order_number: String,
        /// The order's customer email, if it has one.
        email: Option<String>,
    },
}

impl Snapshot {
    /// The webhook body for a message of `topic`.
    pub fn webhook_body(&self, topic: &str) -> anyhow::Result<String> {
        let json = match self {
            Snapshot::Order { event, number, order } => serde_json::to_string(&WebhookMessage {
                kind: topic.to_owned(),
                timestamp: event.at.clone(),
                data: OrderData {
                    event: event.clone(),
                    order: Order::from(OrderView { number, order }),
                },
            }),
            Snapshot::Return { event, view, order_number, .. } => {
                serde_json::to_string(&WebhookMessage {
                    kind: topic.to_owned(),
                    timestamp: event.at.clone(),
                    data: ReturnData {
                        event: event.clone(),
                        return_: view.as_ref().clone(),
                        order_number: order_number.clone(),
                    },
                })
            }
        };
        json.context("serializing the message")
    }
}

/// Renders the bodies of `messages`, reading each order or return once for the batch.
/// A message that cannot be rendered (its events do not fold: corrupt data) is an error
/// of its own and does not stop the others.
pub async fn render_all(
    store: &dyn Store,
    messages: &[&OutboxMessage],
) -> Vec<(i64, anyhow::Result<String>)> {
    snapshots(store, messages)
        .await
        .into_iter()
        .zip(messages)
        .map(|((id, snapshot), message)| {
            (id, snapshot.and_then(|snapshot| snapshot.webhook_body(&message.topic)))
        })
        .collect()
}

/// The order or return of each of `messages` as its event left it, reading each order
/// or return once for the batch.
pub async fn snapshots(
    store: &dyn Store,
    messages: &[&OutboxMessage],
) -> Vec<(i64, anyhow::Result<Snapshot>)> {
    let mut orders: HashMap<String, anyhow::Result<OrderStream>> = HashMap::new();
    let mut returns: HashMap<String, anyhow::Result<ReturnStream>> = HashMap::new();
    let mut out = Vec::with_capacity(messages.len());
    for message in messages {
        let snapshot = if message.topic.starts_with("order.") {
            let order_id = field(&message.payload, "order_id");
            match order_id {
                Ok(order_id) => {
                    if !orders.contains_key(order_id) {
                        let loaded = OrderStream::load(store, &message.payload, order_id).await;
                        orders.insert(order_id.to_owned(), loaded);
                    }
                    match &orders[order_id] {
                        Ok(stream) => stream.snapshot(message),
                        Err(e) => Err(anyhow!("{e:#}")),
                    }
                }
                Err(e) => Err(e),
            }
        } else if message.topic.starts_with("return.") {
            match field(&message.payload, "rma") {
                Ok(rma) => {
                    if !returns.contains_key(rma) {
                        returns.insert(rma.to_owned(), ReturnStream::load(store, rma).await);
                    }
                    match &returns[rma] {
                        Ok(stream) => stream.snapshot(message),
                        Err(e) => Err(anyhow!("{e:#}")),
                    }
                }
                Err(e) => Err(e),
            }
        } else {
            Err(anyhow!("outbox row {} has the unknown topic {:?}", message.id, message.topic))
        };
        out.push((message.id, snapshot));
    }
    out
}

fn field<'a>(payload: &'a Value, name: &str) -> anyhow::Result<&'a str> {
    payload.get(name).and_then(Value::as_str).ok_or_else(|| anyhow!("outbox payload has no {name}"))
}

/// An order's events, read once.
struct OrderStream {
    number: OrderNumber,
    currency: Currency,
    rows: Vec<EventRow>,
    events: Vec<OrderEvent>,
}

impl OrderStream {
    async fn load(store: &dyn Store, payload: &Value, order_id: &str) -> anyhow::Result<Self> {
        let number = field(payload, "order_number")?;
        let summary = store
            .order_summary(number)
            .await
            .context("reading the order")?
            .ok_or_else(|| anyhow!("order {number} is gone"))?;
        let currency = Currency::parse(&summary.currency)
            .map_err(|e| anyhow!("order {number} has the currency {:?}: {e}", summary.currency))?;
        let rows = store.order_events(order_id).await.context("reading the order's events")?;
        let events = rows
            .iter()
            .map(|row| serde_json::from_value::<OrderEvent>(row.payload.clone()))
            .collect::<Result<Vec<_>, _>>()
            .context("reading stored order events")?;
        let number =
            OrderNumber::parse(number).map_err(|e| anyhow!("stored order number {number}: {e}"))?;
        Ok(OrderStream { number, currency, rows, events })
    }

    fn snapshot(&self, message: &OutboxMessage) -> anyhow::Result<Snapshot> {
        let upto = message.seq as usize;
        let row = self
            .rows
            .iter()
            .find(|row| row.seq == message.seq)
            .ok_or_else(|| anyhow!("order event {} is not stored", message.seq))?;
        let order = OrderState::fold(self.currency, &self.events[..upto.min(self.events.len())])
            .context("folding the order's events")?;
        Ok(Snapshot::Order {
            event: EventRef {
                id: row.id.clone(),
                seq: row.seq,
                kind: row.event_type.clone(),
                at: rfc3339(row.created_at),
            },
            number: self.number.clone(),
            order: Box::new(order),
        })
    }
}

/// A return with its events, read once.
struct ReturnStream {
    row: ReturnRow,
    order: Option<gapless_store::ReturnableOrder>,
}

impl ReturnStream {
    async fn load(store: &dyn Store, rma: &str) -> anyhow::Result<Self> {
        let row = store
            .return_by_rma(rma)
            .await
            .context("reading the return")?
            .ok_or_else(|| anyhow!("return {rma} is gone"))?;
        let order = store
            .returnable_order(&row.order_number)
            .await
            .context("reading the return's order")?;
        Ok(ReturnStream { row, order })
    }

    fn snapshot(&self, message: &OutboxMessage) -> anyhow::Result<Snapshot> {
        let event = self
            .row
            .events
            .iter()
            .find(|e| e.seq == message.seq)
            .ok_or_else(|| anyhow!("return event {} is not stored", message.seq))?;
        // The return as this event left it: its events up to this one.
        let mut upto = self.row.clone();
        upto.events.retain(|e| e.seq <= message.seq);
        let view = crate::returns::service::render(&upto, self.order.as_ref())
            .map_err(|e| anyhow!("rendering the return: {e}"))?;
        Ok(Snapshot::Return {
            event: EventRef {
                id: event.id.clone(),
                seq: event.seq,
                kind: event.event_type.clone(),
                at: rfc3339(event.at),
            },
            view: Box::new(view),
            order_number: self.row.order_number.clone(),
            email: self.order.as_ref().and_then(|o| o.email.clone()),
        })
    }
}
