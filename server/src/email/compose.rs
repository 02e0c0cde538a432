//! Which events mail the customer, and the message for one: what the templates see,
//! built from the order or return as the event left it, amounts in the order's
//! currency.

use gapless_domain::{
    catalog::Choice,
    money::{Currency, Money},
    orders::{FulfilmentStatus, OrderState},
};
use serde_json::{json, Value};

use crate::webhooks::render::Snapshot;

/// The template kind an outbox topic mails, if it mails one.
pub fn kind_of(topic: &str) -> Option<&'static str> {
    match topic {
        "order.confirmed" => Some("order_confirmed"),
        "order.payment_requested" => Some("payment_link"),
        "order.shipped" => Some("order_shipped"),
        "return.approved" | "return.rejected" | "return.sent_to_review" => Some("return_decision"),
        "return.refunded" => Some("return_refunded"),
        _ => None,
    }
}

/// Who the message goes to and what the templates see; `None` when the order has no
/// customer email.
pub fn context(shop_name: &str, snapshot: &Snapshot) -> Option<(String, Value)> {
    let shop = json!({ "name": shop_name });
    match snapshot {
        Snapshot::Order { number, order, .. } => {
            let email = order.customer.email.as_ref()?.as_str().to_owned();
            Some((
                email,
                json!({
                    "shop": shop,
                    "order": order_context(number.as_str(), order),
                    "shipment": shipment(order),
                    "payment": payment(order),
                }),
            ))
        }
        Snapshot::Return { view, order_number, email, .. } => {
            let email = email.clone()?;
            let currency = view.currency.as_deref().and_then(|c| Currency::parse(c).ok());
            let amount = |minor: Option<i64>| match (minor, &currency) {
                (Some(minor), Some(currency)) => Value::String(Money(minor).format(currency)),
                _ => Value::Null,
            };
            let items: Vec<Value> = view
                .items
                .iter()
                .map(|item| {
                    json!({
                        "name": item.name.as_deref().unwrap_or(&item.sku),
                        "quantity": item.quantity,
                        "decision": item.decision.as_str().replace('_', " "),
                        "message": item.message,
                    })
                })
                .collect();
            Some((
                email,
                json!({
                    "shop": shop,
                    "order": { "number": order_number },
                    "return": {
                        "rma": view.rma,
                        "status": view.status,
                        "resolution": view.resolution,
                        "items": items,
                        "instructions": view.instructions,
                        "refund_amount": amount(view.refund_amount),
                    },
                }),
            ))
        }
    }
}

fn order_context(number: &str, order: &OrderState) -> Value {
    let money = |m: Money| m.format(&order.currency);
    json!({
        "number": number,
        "customer_name": order.customer.name,
        "lines": order.lines.iter().map(|line| json!({
            "name": line.name,
            "quantity": line.quantity,
            "choices": line.choices.iter().map(choice_text).collect::<Vec<_>>().join(", "),
            "unit_price": money(line.unit_price),
            "total": money(line.total),
        })).collect::<Vec<_>>(),
        "subtotal": money(order.totals.subtotal),
        "shipping": money(order.totals.shipping),
        "total": money(order.totals.total),
        "shipping_address": order.shipping_address.as_ref().map(ToString::to_string),
    })
}

/// The payment the customer is asked for: amount, link and until when it works.
fn payment(order: &OrderState) -> Value {
    let payment = &order.payment;
    let expires_at = payment.expires_at.and_then(|at| {
        at.to_offset(time::UtcOffset::UTC)
            .format(time::macros::format_description!(
                "[day padding:none] [month repr:long] [year], [hour]:[minute] UTC"
            ))
            .ok()
    });
    json!({
        "status": payment.status.as_str(),
        "amount": payment.amount.format(&order.currency),
        "url": payment.url.as_ref().map(|url| url.as_str()),
        "expires_at": expires_at,
    })
}

/// The parcel the latest `shipped` event reported.
fn shipment(order: &OrderState) -> Value {
    match order.fulfilments.iter().rev().find(|f| f.status == FulfilmentStatus::Shipped) {
        Some(f) => json!({
            "carrier": f.carrier.as_ref().map(|c| c.as_str()),
            "tracking_number": f.tracking_number.as_ref().map(|t| t.as_str()),
            "tracking_url": f.tracking_url.as_ref().map(|t| t.as_str()),
        }),
        None => json!({ "carrier": null, "tracking_number": null, "tracking_url": null }),
    }
}

/// "extra cheese", "no onions", "m": as the chat writes a choice.
fn choice_text(choice: &Choice) -> String {
    match (&choice.qualifier, choice.exclude) {
        (_, true) => format!("no {}", choice.value),
        (Some(qualifier), false) => format!("{qualifier} {}", choice.value),
        (None, false) => choice.value.clone(),
    }
}
