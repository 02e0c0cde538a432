//! `/staff/orders/{number}`: an order as its events leave it, each event linking back to
//! the conversation turn that appended it (or naming the staff member who did).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};
use serde::{Deserialize, Serialize};

use super::staff_error;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEvents {
    pub number: String,
    pub status: String,
    pub total: String,
    pub customer: String,
    /// Set when the order ships an exchange's replacement.
    pub exchange_for: Option<String>,
    /// What the customer was mailed about the order and its returns, oldest first.
    pub emails: Vec<OrderEmailRow>,
    /// `payment.status` with the amounts, when a payment provider is involved.
    pub payment: Option<String>,
    pub events: Vec<OrderEventRow>,
}

/// One customer email: what it was about, where it stands and, if the SMTP server
/// refused it, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEmailRow {
    pub kind: String,
    pub subject: String,
    pub to: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: u64,
    /// When it was sent, given up on, or last tried.
    pub at: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEventRow {
    pub seq: u64,
    pub kind: String,
    pub id: String,
    pub at: String,
    pub actor: String,
    /// `/staff/conversations/{id}#turn-{seq}` when a chat turn appended it.
    pub turn_link: Option<String>,
    pub payload: String,
}

#[server(endpoint = "staff/order")]
pub async fn staff_order(number: String) -> Result<OrderEvents, AppError> {
    let (port, staff) = crate::staff::ssr::require().await?;
    let found = port.order(&staff, &number).await.map_err(crate::port::app_error)?;
    ssr::order(&found)
}

#[cfg(feature = "ssr")]
mod ssr {
    use gapless_api::staff::StaffOrder;
    use gapless_domain::money::{Currency, Money};

    use super::{OrderEmailRow, OrderEventRow, OrderEvents};
    use crate::{error::AppError, staff::ssr::pretty};

    pub fn order(found: &StaffOrder) -> Result<OrderEvents, AppError> {
        // An instant as the page shows it: `2030-06-01 12:00:00Z`.
        let when = |at| gapless_api::time_format::rfc3339(at).replace('T', " ");
        let order = &found.order;
        let currency = Currency::parse(&order.currency).ok();
        let total = currency
            .as_ref()
            .map(|currency| Money(order.totals.total).format(currency))
            .unwrap_or_default();
        let customer = [&order.customer.name, &order.customer.email]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" · ");
        let exchange_for = order
            .exchange_for
            .as_ref()
            .map(|e| format!("Replacement for return {} of order {}", e.rma, e.original));
        let emails = found
            .emails
            .iter()
            .map(|e| OrderEmailRow {
                kind: e.kind.clone(),
                subject: e.subject.clone(),
                to: e.to.clone(),
                status: e.status.clone(),
                attempts: u64::from(e.attempts),
                at: when(e.done_at.or(e.last_attempt_at).unwrap_or(e.queued_at)),
                error: e.last_error.clone(),
            })
            .collect();
        let payment = &order.payment;
        let payment =
            Some(payment.status.as_str()).filter(|s| *s != "not_required").map(|status| {
                let amount = |field: &str, minor: Option<i64>| match (minor, &currency) {
                    (Some(minor), Some(currency)) if minor > 0 => {
                        format!(", {field} {}", Money(minor).format(currency))
                    }
                    _ => String::new(),
                };
                format!(
                    "{}{}{}",
                    status.replace('_', " "),
                    amount("paid", payment.paid),
                    amount("refunded", payment.refunded)
                )
            });
        let events = found
            .events
            .iter()
            .map(|e| OrderEventRow {
                seq: u64::from(e.seq),
                kind: e.kind.clone(),
                id: e.id.clone(),
                at: when(e.at),
                actor: e.actor.clone(),
                turn_link: match (&e.conversation_id, e.turn_seq) {
                    (Some(conversation), Some(seq)) => {
                        Some(format!("/staff/conversations/{conversation}#turn-{seq}"))
                    }
                    _ => None,
                },
                payload: pretty(&e.payload),
            })
            .collect();
        Ok(OrderEvents {
            number: order.number.clone(),
            status: order.status.clone(),
            total,
            customer,
            exchange_for,
            emails,
            payment,
            events,
        })
    }
}

#[component]
pub fn StaffOrderPage() -> impl IntoView {
    let params = use_params_map();
    let number = move || params.with(|p| p.get("number").unwrap_or_default());
    let found = Resource::new(number, staff_order);
    view! {
        <Title text="Order · Staff"/>
        <section class="staff" aria-labelledby="order-title">
            <p><A href="/staff/conversations">"← Conversations"</A></p>
            <h1 id="order-title">{move || format!("Order {}", number())}</h1>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match found.await {
                        Ok(order) => view! { <OrderView order/> }.into_any(),
                        Err(error) => staff_error(error),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn OrderView(order: OrderEvents) -> impl IntoView {
    let OrderEvents { number: _, status, total, customer, exchange_for, payment, emails, events } =
        order;
    view! {
        <dl class="return-facts">
            <dt>"Status"</dt><dd class="order-status">{status}</dd>
            <dt>"Total"</dt><dd>{total}</dd>
            <dt>"Customer"</dt><dd>{customer}</dd>
            {exchange_for.map(|e| view! { <dt>"Exchange"</dt><dd>{e}</dd> })}
            {payment.map(|p| view! { <dt>"Payment"</dt><dd class="order-payment">{p}</dd> })}
        </dl>
        <h2>"Emails to the customer"</h2>
        {if emails.is_empty() {
            view! { <p class="empty">"No email was sent about this order."</p> }.into_any()
        } else {
            view! {
                <ul class="order-emails">
                    {emails.into_iter().map(|e| view! {
                        <li class=format!("card order-email email-{}", e.status)>
                            <p>
                                <strong>{e.subject}</strong>
                                {format!(" · {} · {} · {} to {}", e.kind, e.status, e.at, e.to)}
                                {(e.attempts > 1).then(|| format!(" · {} attempts", e.attempts))}
                            </p>
                            {e.error.map(|error| view! { <p class="email-error">{error}</p> })}
                        </li>
                    }).collect_view()}
                </ul>
            }
            .into_any()
        }}
        <h2>"Events"</h2>
        <ol class="order-events">
            {events.into_iter().map(|e| view! {
                <li class="card order-event" id=format!("event-{}", e.seq)>
                    <p>
                        <strong class="mono">{format!("#{} {}", e.seq, e.kind)}</strong>
                        {format!(" · {} · by {}", e.at, e.actor)}
                    </p>
                    {e.turn_link.map(|link| view! { <p><A href=link>"The turn that did this"</A></p> })}
                    <details><summary>"Payload"</summary><pre>{e.payload}</pre></details>
                    <p class="line-meta mono">{e.id}</p>
                </li>
            }).collect_view()}
        </ol>
    }
    .into_any()
}
