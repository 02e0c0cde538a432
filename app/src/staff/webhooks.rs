//! `/staff/webhooks`: where the shop's order and return events go. For admins: add an
//! endpoint (its signing secret is shown once), pause, resume or remove it, send it a
//! test event, and per endpoint its latest deliveries with status, attempts, last
//! answer and latency, next attempt, and "Send again" for the failed ones.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};

use super::staff_error;
use crate::error::AppError;

/// An endpoint as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointView {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub paused: bool,
    pub created_at: String,
}

/// An endpoint just added: the one time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedEndpoint {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub secret: String,
}

/// One message to one endpoint, as staff follow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: i64,
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub created_at: String,
    /// When a pending delivery is tried next.
    pub next_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub last_status: Option<u16>,
    pub last_latency_ms: Option<u32>,
    pub last_error: Option<String>,
    pub done_at: Option<String>,
}

/// An endpoint with its latest deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointDeliveries {
    pub endpoint: EndpointView,
    pub deliveries: Vec<DeliveryView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhooksPage {
    pub endpoints: Vec<EndpointDeliveries>,
    pub csrf: String,
}

/// What a button on an endpoint does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointAction {
    Pause,
    Resume,
    Remove,
    Test,
}

impl EndpointAction {
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointAction::Pause => "pause",
            EndpointAction::Resume => "resume",
            EndpointAction::Remove => "remove",
            EndpointAction::Test => "test",
        }
    }
}

/// How many deliveries the page shows per endpoint.
pub const SHOWN_DELIVERIES: u32 = 20;

#[server(endpoint = "staff/webhooks")]
pub async fn staff_webhooks() -> Result<WebhooksPage, AppError> {
    let (port, staff) = crate::staff::ssr::require().await?;
    let endpoints = port.webhooks(&staff).await.map_err(crate::port::app_error)?;
    Ok(WebhooksPage { endpoints, csrf: staff.csrf })
}

/// `events` as typed in the form: comma-separated, empty for all.
#[server(endpoint = "staff/webhooks/add")]
pub async fn staff_add_webhook(
    url: String,
    #[server(default)] events: String,
    csrf: String,
) -> Result<CreatedEndpoint, AppError> {
    let (port, staff) = crate::staff::ssr::require_form(&csrf).await?;
    let events: Vec<String> =
        events.split(',').map(str::trim).filter(|e| !e.is_empty()).map(str::to_owned).collect();
    port.add_webhook(&staff, &url, &events).await.map_err(crate::port::app_error)
}

#[server(endpoint = "staff/webhooks/act")]
pub async fn staff_webhook_action(
    endpoint: String,
    action: EndpointAction,
    csrf: String,
) -> Result<(), AppError> {
    let (port, staff) = crate::staff::ssr::require_form(&csrf).await?;
    port.webhook_action(&staff, &endpoint, action).await.map_err(crate::port::app_error)
}

#[server(endpoint = "staff/webhooks/send-again")]
pub async fn staff_send_again(
    endpoint: String,
    delivery: i64,
    csrf: String,
) -> Result<(), AppError> {
    let (port, staff) = crate::staff::ssr::require_form(&csrf).await?;
    port.send_again(&staff, &endpoint, delivery).await.map_err(crate::port::app_error)
}

#[component]
pub fn StaffWebhooksPage() -> impl IntoView {
    let add = ServerAction::<StaffAddWebhook>::new();
    let act = ServerAction::<StaffWebhookAction>::new();
    let again = ServerAction::<StaffSendAgain>::new();
    let found = Resource::new(
        move || (add.version().get(), act.version().get(), again.version().get()),
        |_| staff_webhooks(),
    );
    let failure = move || {
        [add.value().get().and_then(|r| r.err())]
            .into_iter()
            .chain([act.value().get().and_then(|r| r.err())])
            .chain([again.value().get().and_then(|r| r.err())])
            .flatten()
            .next()
            .map(|e| e.to_string())
    };
    let created = move || add.value().get().and_then(|r| r.ok());
    view! {
        <Title text="Webhooks · Staff"/>
        <section class="staff" aria-labelledby="webhooks-title">
            <p><A href="/staff">"← Staff console"</A></p>
            <h1 id="webhooks-title">"Webhooks"</h1>
            <p class="line-meta">
                "Every order and return event is POSTed to each endpoint whose events match, \
                 signed (Standard Webhooks), in order per order, retried for 24 hours."
            </p>
            {move || failure().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            {move || created().map(|c| view! {
                <div class="notice webhook-secret" role="status">
                    <p>"Endpoint added for " <strong>{c.url}</strong> ". Its signing secret, shown only now:"</p>
                    <p><code class="secret">{c.secret}</code></p>
                </div>
            })}
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match found.await {
                        Ok(WebhooksPage { endpoints, csrf }) => view! {
                            <AddEndpoint add csrf=csrf.clone()/>
                            {if endpoints.is_empty() {
                                view! {
                                    <p class="empty" role="status">
                                        "No endpoints yet: add the URL of your CRM or order system above."
                                    </p>
                                }
                                .into_any()
                            } else {
                                view! {
                                    <ul class="staff-webhooks">
                                        {endpoints
                                            .into_iter()
                                            .map(|e| view! { <EndpointCard entry=e act again csrf=csrf.clone()/> })
                                            .collect_view()}
                                    </ul>
                                }
                                .into_any()
                            }}
                        }
                        .into_any(),
                        Err(error) => staff_error(error),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn AddEndpoint(add: ServerAction<StaffAddWebhook>, csrf: String) -> impl IntoView {
    view! {
        <ActionForm action=add attr:class="card form" attr:aria-labelledby="add-webhook-title">
            <h2 id="add-webhook-title">"Add an endpoint"</h2>
            <input type="hidden" name="csrf" value=csrf/>
            <label for="webhook-url">"URL"</label>
            <input id="webhook-url" name="url" type="url" required placeholder="https://crm.example/hooks/gapless"/>
            <label for="webhook-events">"Events (comma-separated; empty for all)"</label>
            <input id="webhook-events" name="events" type="text" placeholder="order.*, return.refunded"/>
            <button type="submit" class="button" disabled=move || add.pending().get()>"Add endpoint"</button>
        </ActionForm>
    }
}

#[component]
fn EndpointCard(
    entry: EndpointDeliveries,
    act: ServerAction<StaffWebhookAction>,
    again: ServerAction<StaffSendAgain>,
    csrf: String,
) -> impl IntoView {
    let EndpointDeliveries { endpoint, deliveries } = entry;
    let EndpointView { id, url, events, paused, created_at } = endpoint;
    let button = |action: EndpointAction, label: &'static str, id: String, csrf: String| {
        view! {
            <ActionForm action=act attr:class="inline-form">
                <input type="hidden" name="endpoint" value=id/>
                <input type="hidden" name="action" value=action.as_str()/>
                <input type="hidden" name="csrf" value=csrf/>
                <button type="submit" class="link-button" disabled=move || act.pending().get()>{label}</button>
            </ActionForm>
        }
    };
    let toggle = if paused {
        button(EndpointAction::Resume, "Resume", id.clone(), csrf.clone())
    } else {
        button(EndpointAction::Pause, "Pause", id.clone(), csrf.clone())
    };
    let state = if paused { "paused" } else { "active" };
    view! {
        <li class="card staff-webhook" data-endpoint=id.clone()>
            <h2 class="webhook-url">{url}</h2>
            <p class="line-meta">
                {format!("{} · events {} · added {}", state, events.join(", "), created_at.replace('T', " "))}
            </p>
            <div class="webhook-actions">
                {toggle}
                {button(EndpointAction::Test, "Send a test event", id.clone(), csrf.clone())}
                {button(EndpointAction::Remove, "Remove", id.clone(), csrf.clone())}
            </div>
            {if deliveries.is_empty() {
                view! { <p class="empty">"Nothing sent yet."</p> }.into_any()
            } else {
                view! {
                    <table class="staff-table webhook-deliveries">
                        <caption>"Latest deliveries"</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Event"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Attempts"</th>
                                <th scope="col">"Last answer"</th>
                                <th scope="col">"Next attempt"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {deliveries
                                .into_iter()
                                .map(|d| delivery_row(d, id.clone(), csrf.clone(), again))
                                .collect_view()}
                        </tbody>
                    </table>
                }
                .into_any()
            }}
        </li>
    }
}

fn delivery_row(
    d: DeliveryView,
    endpoint: String,
    csrf: String,
    again: ServerAction<StaffSendAgain>,
) -> impl IntoView {
    let answer = match (d.last_status, &d.last_error, d.last_latency_ms) {
        (Some(code), _, Some(ms)) => format!("HTTP {code} in {ms} ms"),
        (None, Some(error), _) => error.clone(),
        _ => "—".to_owned(),
    };
    let failed = d.status == "failed";
    view! {
        <tr class=format!("delivery delivery-{}", d.status)>
            <td>{d.kind}</td>
            <td>{d.status.clone()}</td>
            <td>{d.attempts}</td>
            <td>{answer}</td>
            <td>{d.next_attempt_at.map(|t| t.replace('T', " ")).unwrap_or_else(|| "—".into())}</td>
            <td>
                {failed.then(|| view! {
                    <ActionForm action=again attr:class="inline-form">
                        <input type="hidden" name="endpoint" value=endpoint.clone()/>
                        <input type="hidden" name="delivery" value=d.id/>
                        <input type="hidden" name="csrf" value=csrf.clone()/>
                        <button type="submit" class="link-button">"Send again"</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}
