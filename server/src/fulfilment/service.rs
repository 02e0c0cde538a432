//! One fulfilment report: check it, fold the order, append `shipped` or `delivered`
//! through the order write every other event takes, and keep the answer for the
//! request's Idempotency-Key. The HTTP handler and `gapless demo seed` both call
//! [`record`].

use anyhow::Context;
use gapless_api::chat::Order;
use gapless_domain::{
    money::Currency,
    orders::{
        Carrier, EventError, FulfilmentStatus, OrderEvent, OrderNumber, OrderState, OrderView,
        TrackingNumber, TrackingUrl,
    },
};
use gapless_store::{ApiKeyRow, FulfilmentWrite, Store, StoreError};
use time::{format_description::well_known::Rfc3339, Duration, OffsetDateTime};

use crate::orders::order_write;

/// Why a fulfilment report was not recorded; nothing was written in any case. The API
/// answers it through `impl From<FulfilmentError> for ApiError`.
#[derive(Debug, thiserror::Error)]
pub enum FulfilmentError {
    /// A carrier, tracking number or URL, or time that does not pass its check.
    #[error("{0}")]
    BadReport(String),
    #[error("Idempotency-Key must be 1 to 200 visible ASCII characters")]
    BadIdempotencyKey,
    /// The key already answered a report on another order.
    #[error("this Idempotency-Key was used for order {0}")]
    KeyReused(String),
    #[error("no such order")]
    UnknownOrder,
    /// The order's state does not take this event: a draft, a cancelled order, an
    /// unpaid payment link, a delivery reported twice, …
    #[error("{0}")]
    Refused(EventError),
    /// Other writers kept moving the order on.
    #[error("too busy right now; try again")]
    Busy,
    #[error("something went wrong on our side")]
    Internal(#[from] anyhow::Error),
}

impl FulfilmentError {
    /// The API's `code`: the refusal's own for a report the caller can fix (422).
    pub fn code(&self) -> &'static str {
        match self {
            FulfilmentError::BadReport(_) => "invalid",
            FulfilmentError::BadIdempotencyKey => "invalid_idempotency_key",
            FulfilmentError::KeyReused(_) => "idempotency_key_reused",
            FulfilmentError::Refused(EventError::Unpaid) => "unpaid",
            FulfilmentError::Refused(_) => "illegal_transition",
            FulfilmentError::UnknownOrder => "not_found",
            FulfilmentError::Busy => "busy",
            FulfilmentError::Internal(_) => "internal",
        }
    }
}

/// Tries when another writer (a shopper's turn, a second report) keeps winning the race.
const ATTEMPTS: usize = 5;
/// How far in the future a reported time may be: clocks disagree a little, never by days.
const CLOCK_SKEW: Duration = Duration::minutes(5);

pub use gapless_api::fulfilment::FulfilmentReport;

/// The event `report` asks for, its values checked; `now` is when it arrived.
pub fn report_event(
    report: &FulfilmentReport,
    now: OffsetDateTime,
) -> Result<OrderEvent, FulfilmentError> {
    fn text(given: &Option<String>) -> Option<&str> {
        given.as_deref().map(str::trim).filter(|t| !t.is_empty())
    }
    let invalid = |e: &dyn std::fmt::Display| FulfilmentError::BadReport(e.to_string());
    let carrier = text(&report.carrier).map(Carrier::parse).transpose().map_err(|e| invalid(&e))?;
    let tracking_number = text(&report.tracking_number)
        .map(TrackingNumber::parse)
        .transpose()
        .map_err(|e| invalid(&e))?;
    let tracking_url =
        text(&report.tracking_url).map(TrackingUrl::parse).transpose().map_err(|e| invalid(&e))?;
    let at = match text(&report.at) {
        None => now,
        Some(at) => OffsetDateTime::parse(at, &Rfc3339).map_err(|_| {
            FulfilmentError::BadReport(format!("at must be an RFC 3339 time, not {at:?}"))
        })?,
    };
    if at > now + CLOCK_SKEW {
        return Err(FulfilmentError::BadReport("at is in the future".into()));
    }
    Ok(match report.status {
        FulfilmentStatus::Shipped => {
            OrderEvent::Shipped { carrier, tracking_number, tracking_url, at }
        }
        FulfilmentStatus::Delivered => {
            OrderEvent::Delivered { carrier, tracking_number, tracking_url, at }
        }
    })
}

/// Idempotency-Key: 1 to 200 visible ASCII characters, as for chat messages.
pub fn check_idempotency_key(key: &str) -> Result<(), FulfilmentError> {
    if key.is_empty() || key.len() > 200 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(FulfilmentError::BadIdempotencyKey);
    }
    Ok(())
}

/// Appends what `report` says to order `number` and answers the order (CONTRACTS §3)
/// with its fulfilments. The same `idempotency_key` from the same key again answers
/// the first answer and appends nothing.
pub async fn record(
    store: &dyn Store,
    key: &ApiKeyRow,
    number: &str,
    report: &FulfilmentReport,
    idempotency_key: Option<&str>,
) -> Result<Order, FulfilmentError> {
    if let Some(idempotency_key) = idempotency_key {
        check_idempotency_key(idempotency_key)?;
        if let Some(answer) = replay(store, key, number, idempotency_key).await? {
            return Ok(answer);
        }
    }
    let now = OffsetDateTime::now_utc();
    let event = report_event(report, now)?;
    let number = OrderNumber::parse(number).map_err(|_| FulfilmentError::UnknownOrder)?;
    let summary =
        store.order_summary(number.as_str()).await?.ok_or(FulfilmentError::UnknownOrder)?;
    let currency = Currency::parse(&summary.currency)
        .map_err(|e| anyhow::anyhow!("order {number} currency: {e}"))?;
    for _ in 0..ATTEMPTS {
        let rows = store.order_events(&summary.id).await?;
        let version = rows.last().map_or(0, |row| row.seq);
        let events = rows
            .into_iter()
            .map(|row| serde_json::from_value::<OrderEvent>(row.payload))
            .collect::<Result<Vec<_>, _>>()
            .context("reading stored order events")?;
        let mut order =
            OrderState::fold(currency, &events).context("folding stored order events")?;
        match order.apply(&event) {
            Ok(()) => {}
            // A payment link was sent and is not paid yet (CONTRACTS §8), or the
            // order's state does not take the event.
            Err(error @ (EventError::IllegalTransition { .. } | EventError::Unpaid)) => {
                return Err(FulfilmentError::Refused(error))
            }
            Err(error) => {
                return Err(FulfilmentError::Internal(
                    anyhow::Error::new(error).context("applying a fulfilment event"),
                ))
            }
        }
        let write = order_write(
            summary.id.clone(),
            version,
            &number,
            std::slice::from_ref(&event),
            &order,
            "system",
        )?;
        let response = Order::from(OrderView { number: &number, order: &order });
        let fulfilment = FulfilmentWrite {
            order: write,
            api_key_id: key.id.clone(),
            idempotency_key: idempotency_key.map(str::to_owned),
            response: serde_json::to_value(&response).context("serializing the order")?,
            at: now,
        };
        match store.record_fulfilment(&fulfilment).await {
            Ok(()) => {
                tracing::info!(order = %number, event = event.kind(), key = %key.name, "fulfilment recorded");
                return Ok(response);
            }
            // Another writer appended first: fold again and decide again.
            Err(StoreError::Conflict(_)) => continue,
            // The same request, concurrently: its answer is ours.
            Err(StoreError::DuplicateTurn) => {
                let key_used = idempotency_key.unwrap_or_default();
                if let Some(answer) = replay(store, key, number.as_str(), key_used).await? {
                    return Ok(answer);
                }
                continue;
            }
            Err(other) => return Err(other.into()),
        }
    }
    Err(FulfilmentError::Busy)
}

/// The answer kept for this key's `idempotency_key`; a key reused for another order is
/// an error rather than someone else's answer.
async fn replay(
    store: &dyn Store,
    key: &ApiKeyRow,
    number: &str,
    idempotency_key: &str,
) -> Result<Option<Order>, FulfilmentError> {
    let Some(stored) = store.fulfilment_response(&key.id, idempotency_key).await? else {
        return Ok(None);
    };
    let same = OrderNumber::parse(number).is_ok_and(|n| n.as_str() == stored.order_number);
    if !same {
        return Err(FulfilmentError::KeyReused(stored.order_number));
    }
    Ok(serde_json::from_value(stored.response).context("reading a stored answer").map(Some)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn report(json: serde_json::Value) -> FulfilmentReport {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_report_becomes_an_event_with_checked_values() {
        let now = datetime!(2030-06-02 12:00 UTC);
        let shipped = report(serde_json::json!({ "status": "shipped", "carrier": " UPS ",
            "tracking_number": "1Z9", "tracking_url": "https://ups.example/1Z9",
            "at": "2030-06-02T10:00:00+02:00" }));
        match report_event(&shipped, now).unwrap() {
            OrderEvent::Shipped { carrier, at, .. } => {
                assert_eq!(carrier.unwrap().as_str(), "UPS");
                assert_eq!(at, datetime!(2030-06-02 08:00 UTC));
            }
            other => panic!("{other:?}"),
        }
        let delivered = report(serde_json::json!({ "status": "delivered", "carrier": "" }));
        assert_eq!(
            report_event(&delivered, now).unwrap(),
            OrderEvent::Delivered {
                carrier: None,
                tracking_number: None,
                tracking_url: None,
                at: now
            }
        );
        for bad in [
            serde_json::json!({ "status": "shipped", "tracking_url": "javascript:alert(1)" }),
            serde_json::json!({ "status": "shipped", "at": "yesterday" }),
            serde_json::json!({ "status": "shipped", "at": "2030-06-03T12:00:00Z" }),
        ] {
            match report_event(&report(bad.clone()), now) {
                Err(FulfilmentError::BadReport(_)) => {}
                other => panic!("{bad}: {other:?}"),
            }
        }
        let unknown = serde_json::json!({ "status": "shipped", "price": 0 });
        assert!(serde_json::from_value::<FulfilmentReport>(unknown).is_err());
        let status = serde_json::json!({ "status": "lost" });
        assert!(serde_json::from_value::<FulfilmentReport>(status).is_err());
    }
}
