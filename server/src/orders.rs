//! Orders as the store writes them: events plus the CRM projection, built from the
//! domain's events and the state they fold to. The chat (a shopper's turn) and the
//! returns (an exchange's replacement) both write orders this way.

use anyhow::Context;
use gapless_domain::orders::{OrderEvent, OrderNumber, OrderState, PaymentStatus};
use gapless_store::{
    new_ordered_id, CustomerWrite, EventWrite, LineWrite, OrderProjection, OrderWrite,
};

/// The write of `events` appended after `expected_version` (0 for a new order), with
/// `state` the order they leave and the stock its confirmation or cancellation moves.
pub fn order_write(
    order_id: String,
    expected_version: u32,
    number: &OrderNumber,
    events: &[OrderEvent],
    state: &OrderState,
    actor: &str,
) -> anyhow::Result<OrderWrite> {
    let mut reserve = Vec::new();
    let mut release = Vec::new();
    let mut writes = Vec::with_capacity(events.len());
    for event in events {
        match event {
            OrderEvent::Confirmed { reservations, .. } => {
                reserve.extend(reservations.iter().map(|r| (r.key.clone(), r.quantity)))
            }
            OrderEvent::Cancelled { released } | OrderEvent::PaymentExpired { released, .. } => {
                release.extend(released.iter().map(|r| (r.key.clone(), r.quantity)))
            }
            _ => {}
        }
        writes.push(EventWrite {
            id: new_ordered_id(),
            event_type: event.kind().to_owned(),
            schema_version: event.schema_version(),
            payload: serde_json::to_value(event).context("serializing an order event")?,
        });
    }
    let lines = state
        .lines
        .iter()
        .map(|line| {
            Ok(LineWrite {
                sku: line.sku.to_string(),
                name: line.name.clone(),
                quantity: line.quantity,
                choices: serde_json::to_value(&line.choices)?,
                unit_price: line.unit_price.minor(),
                total: line.total.minor(),
            })
        })
        .collect::<Result<Vec<_>, serde_json::Error>>()
        .context("serializing order lines")?;
    let customer = state.customer.email.as_ref().map(|email| CustomerWrite {
        email: email.as_str().to_owned(),
        name: state.customer.name.clone(),
        phone: state.customer.phone.as_ref().map(|p| p.as_str().to_owned()),
    });
    let shipping_address = state
        .shipping_address
        .as_ref()
        .map(serde_json::to_value)
        .transpose()
        .context("serializing the address")?;
    Ok(OrderWrite {
        order_id,
        number: number.as_str().to_owned(),
        expected_version,
        events: writes,
        actor: actor.to_owned(),
        projection: OrderProjection {
            status: state.status,
            currency: state.currency.to_string(),
            subtotal: state.totals.subtotal.minor(),
            shipping: state.totals.shipping.minor(),
            total: state.totals.total.minor(),
            shipping_address,
            customer,
            lines,
            shipped_at: state.shipped_at(),
            delivered_at: state.delivered_at(),
            payment_status: state.payment.status,
            payment_expires_at: (state.payment.status == PaymentStatus::Pending)
                .then_some(state.payment.expires_at)
                .flatten(),
            snapshot: Some(serde_json::to_value(state).context("serializing the order snapshot")?),
        },
        reserve,
        release,
    })
}

/// The order its stored events (oldest first) fold to, and the last one's version.
pub fn fold_events(
    rows: Vec<gapless_store::EventRow>,
    currency: gapless_domain::money::Currency,
) -> anyhow::Result<(OrderState, u32)> {
    let version = rows.last().map_or(0, |row| row.seq);
    let events = rows
        .into_iter()
        .map(|row| serde_json::from_value::<OrderEvent>(row.payload))
        .collect::<Result<Vec<_>, _>>()
        .context("reading stored order events")?;
    let state = OrderState::fold(currency, &events).context("folding stored order events")?;
    Ok((state, version))
}
