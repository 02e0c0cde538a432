//! `POST /api/v1/payments/stripe/webhook`: Stripe tells us a Checkout Session was paid
//! or ran out. The signature is checked over the raw body before anything is read;
//! a bad or stale one is `400` and changes nothing. Each Stripe event id is acted on
//! once (the `payment_events` table, in the same transaction as the order event), so
//! Stripe's redeliveries change nothing.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
    Json, Router,
};
use gapless_domain::{
    money::Money,
    orders::{EventError, OrderEvent, OrderNumber, OrderState, PaymentStatus, ProviderId},
};
use gapless_store::{PaymentEventWrite, Store, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::PaymentError;
use super::{signature, PROVIDER};
use crate::{api_error::ApiError, orders::order_write, startup::AppState};

/// Tries when another writer (a shopper's turn, a fulfilment report) keeps winning.
const ATTEMPTS: usize = 5;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/payments/stripe/webhook", post(receive))
}

/// The parts of a Stripe event we read.
#[derive(Debug, Deserialize)]
pub struct StripeEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub data: EventData,
}

#[derive(Debug, Deserialize)]
pub struct EventData {
    pub object: SessionObject,
}

/// A Checkout Session as events carry it (other objects leave these empty).
#[derive(Debug, Default, Deserialize)]
pub struct SessionObject {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub client_reference_id: Option<String>,
    #[serde(default)]
    pub payment_status: Option<String>,
    #[serde(default)]
    pub payment_intent: Option<String>,
    #[serde(default)]
    pub amount_total: Option<i64>,
}

async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Some(payments) = state.payments.as_ref() else {
        return Err(ApiError::NotFound("payments are not configured (GAPLESS_PAYMENTS=none)"));
    };
    let header = headers.get("stripe-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    if let Err(error) =
        signature::verify(header, &body, payments.webhook_secret(), OffsetDateTime::now_utc())
    {
        tracing::warn!(%error, "refused a Stripe webhook");
        return Err(ApiError::BadSignature);
    }
    let event: StripeEvent = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("not a Stripe event: {e}")))?;
    let outcome = handle(state.store.as_ref(), &event).await?;
    if outcome == "recorded" {
        // Paid for an order cancelled meanwhile: the money goes back. Stripe's request
        // does not wait for that; the payment sweep tries again if it fails.
        let number = event.data.object.client_reference_id.as_deref().map(OrderNumber::parse);
        if let Some(Ok(number)) = number {
            let (store, payments) = (state.store.clone(), payments.clone());
            tokio::spawn(async move {
                if let Err(error) =
                    super::refund::refund_cancelled(store.as_ref(), &payments, &number).await
                {
                    tracing::warn!(order = %number, %error, "refund of a cancelled order not sent yet");
                }
            });
        }
    }
    Ok((StatusCode::OK, Json(json!({ "received": true, "outcome": outcome }))))
}

/// What an event did, for the answer and the log: `recorded`, `duplicate` or `ignored`.
pub async fn handle(store: &dyn Store, event: &StripeEvent) -> Result<&'static str, PaymentError> {
    let session = &event.data.object;
    let number = session.client_reference_id.as_deref().and_then(|n| OrderNumber::parse(n).ok());
    let ignore = |why: &str| {
        tracing::info!(event = %event.id, kind = %event.kind, why, "Stripe event ignored");
    };
    for _ in 0..ATTEMPTS {
        let mut write = PaymentEventWrite {
            provider: PROVIDER.to_owned(),
            event_id: event.id.clone(),
            event_type: event.kind.clone(),
            order_number: number.as_ref().map(|n| n.to_string()),
            order: None,
            at: OffsetDateTime::now_utc(),
        };
        let decided = match &number {
            Some(number) => decide(store, event, number).await?,
            None => Decision::Ignore("no order number of ours in client_reference_id"),
        };
        match decided {
            Decision::Append { order_id, version, number, event: order_event, order } => {
                write.order = Some(order_write(
                    order_id,
                    version,
                    &number,
                    std::slice::from_ref(&order_event),
                    &order,
                    "system",
                )?);
            }
            Decision::Ignore(why) => ignore(why),
        }
        let appends = write.order.is_some();
        match store.record_payment_event(&write).await {
            Ok(true) if appends => {
                tracing::info!(event = %event.id, kind = %event.kind, order = ?write.order_number, "payment recorded");
                return Ok("recorded");
            }
            Ok(true) => return Ok("ignored"),
            Ok(false) => return Ok("duplicate"),
            Err(StoreError::Conflict(_)) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(PaymentError::Busy)
}

enum Decision {
    Append {
        order_id: String,
        version: u32,
        number: OrderNumber,
        event: OrderEvent,
        order: Box<OrderState>,
    },
    Ignore(&'static str),
}

/// The order event a Stripe event stands for, given the order as it is now.
async fn decide(
    store: &dyn Store,
    event: &StripeEvent,
    number: &OrderNumber,
) -> Result<Decision, PaymentError> {
    let session = &event.data.object;
    let Some(session_id) = session.id.as_deref().and_then(|id| ProviderId::parse(id).ok()) else {
        return Ok(Decision::Ignore("no session id"));
    };
    let Some(super::StoredOrder { id, version, state: mut order, .. }) =
        super::stored_order(store, number).await?
    else {
        return Ok(Decision::Ignore("no such order"));
    };
    let order_event = match event.kind.as_str() {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            // A completed session may still wait for a bank transfer or the like: only
            // `paid` is money received.
            if session.payment_status.as_deref() != Some("paid") {
                return Ok(Decision::Ignore("the session is complete but not paid yet"));
            }
            OrderEvent::Paid {
                session: Some(session_id),
                provider: None,
                payment_intent: session
                    .payment_intent
                    .as_deref()
                    .and_then(|id| ProviderId::parse(id).ok()),
                amount: Money(session.amount_total.unwrap_or(order.payment.amount.minor())),
                at: OffsetDateTime::now_utc(),
            }
        }
        "checkout.session.expired" => OrderEvent::PaymentExpired {
            session: session_id,
            released: if order.status == gapless_domain::orders::OrderStatus::Confirmed {
                order.reservations.clone()
            } else {
                Vec::new()
            },
        },
        _ => return Ok(Decision::Ignore("an event type Gapless does not act on")),
    };
    match order.apply(&order_event) {
        Ok(()) => Ok(Decision::Append {
            order_id: id,
            version,
            number: number.clone(),
            event: order_event,
            order: Box::new(order),
        }),
        // Already recorded through another event (Stripe sends some twice under
        // different ids), or about a link the order no longer uses.
        Err(EventError::Payment { payment, .. }) if payment != PaymentStatus::NotRequired => {
            Ok(Decision::Ignore("the order's payment is past this step"))
        }
        Err(error) => {
            tracing::warn!(order = %number, event = %event.id, %error, "Stripe event does not fit the order");
            Ok(Decision::Ignore("the event does not fit the order"))
        }
    }
}
