//! The chat widget on the shop page: the shopper orders in their own words.
//!
//! The conversation is bound to the shopper's session (a cookie), so a reload shows it
//! again. The widget talks to the same chat service as the JSON API, through the
//! [`ChatPort`](port::ChatPort) the server provides; prices arrive formatted by our code.
//! Forms are plain forms posting to `chat_send` (what `ActionForm` renders), so they post
//! even before the wasm has loaded; with the wasm their submit handlers dispatch the
//! action with `ChatSend` built by hand. (`ActionForm` would read the form back through
//! serde_qs, whose reader the shop's bundle would then carry for these forms alone.)

use leptos::{html, prelude::*, server_fn::ServerFn};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the widget shows: the conversation so far and its order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatView {
    pub messages: Vec<ChatMessage>,
    pub order: Option<OrderPanelView>,
    /// Turns taken so far: the next message's idempotency key is derived from it, so a
    /// form sent twice (a double click, a resubmitted page) is taken once.
    pub turns: u32,
    /// The shopper asked for a person: the widget looks for staff replies now and then.
    #[serde(default)]
    pub handed_off: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub id: String,
    pub from_shopper: bool,
    /// Written by a member of staff after a handoff, not by the assistant.
    #[serde(default)]
    pub from_staff: bool,
    pub text: String,
}

/// An order as the panel shows it, every amount formatted on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPanelView {
    pub number: String,
    pub status: String,
    pub lines: Vec<OrderPanelLine>,
    pub subtotal: String,
    pub shipping: String,
    pub total: String,
    pub customer: Option<String>,
    pub address: Option<String>,
    /// `payment.status` (CONTRACTS §8) when a payment is involved: `pending`, `paid`, …
    #[serde(default)]
    pub payment: Option<String>,
    /// Where to pay, while the payment is pending.
    #[serde(default)]
    pub payment_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPanelLine {
    pub name: String,
    pub quantity: u32,
    pub choices: String,
    pub unit_price: String,
    pub total: String,
}

/// How often a handed-off chat looks for staff replies.
#[cfg(feature = "hydrate")]
const STAFF_POLL_SECONDS: u64 = 5;

/// The texts the quick-reply buttons send: exactly what a shopper could type.
pub const CONFIRM_TEXT: &str = "confirm";
pub const CANCEL_TEXT: &str = "cancel my order";

/// Session key under which the shopper's conversation id is kept.
#[cfg(feature = "ssr")]
const SESSION_CONVERSATION: &str = "chat.conversation";

#[server(endpoint = "chat/state")]
pub async fn chat_state() -> Result<ChatView, AppError> {
    let port = crate::port::get::<dyn crate::port::ChatPort>()?;
    let session = ssr::session().await?;
    let Some(id) = ssr::conversation_id(&session).await? else {
        return Ok(ChatView::default());
    };
    match port.read(&id).await {
        Ok(conversation) => ssr::chat_view(&conversation),
        // The conversation is gone (a reset database): start afresh.
        Err(crate::port::PortError::NotFound(_)) => {
            let _ = session.remove::<String>(SESSION_CONVERSATION).await;
            Ok(ChatView::default())
        }
        Err(error) => Err(ssr::app_error(error)),
    }
}

#[server(endpoint = "chat/send")]
pub async fn chat_send(text: String, key: Option<String>) -> Result<ChatView, AppError> {
    let port = crate::port::get::<dyn crate::port::ChatPort>()?;
    let session = ssr::session().await?;
    let client = ssr::client_ip().await;
    let id = match ssr::conversation_id(&session).await? {
        Some(id) => id,
        None => {
            let id = port.start("widget").await.map_err(ssr::app_error)?;
            session
                .insert(SESSION_CONVERSATION, &id)
                .await
                .map_err(|e| AppError::internal("binding the conversation to the session", e))?;
            id
        }
    };
    // Keys are scoped to the conversation, so the widget's turn counter is unique enough.
    let key = key.filter(|k| !k.is_empty()).map(|k| format!("widget-{k}"));
    port.send(&id, &text, key.as_deref(), client).await.map_err(ssr::app_error)?;
    let conversation = port.read(&id).await.map_err(ssr::app_error)?;
    ssr::chat_view(&conversation)
}

#[cfg(feature = "ssr")]
mod ssr {

    use gapless_api::chat::{Conversation, Order, Role};
    use gapless_domain::{
        catalog::Choice,
        money::{Currency, Money},
    };
    use tower_sessions::Session;

    pub use crate::port::{app_error, client_ip, session};

    use super::{ChatMessage, ChatView, OrderPanelLine, OrderPanelView, SESSION_CONVERSATION};
    use crate::error::AppError;

    #[derive(Debug, thiserror::Error)]
    #[error("unexpected chat JSON: {0}")]
    struct Unexpected(String);

    pub async fn conversation_id(session: &Session) -> Result<Option<String>, AppError> {
        session
            .get::<String>(SESSION_CONVERSATION)
            .await
            .map_err(|e| AppError::internal("reading the session", e))
    }

    /// `GET /api/v1/conversations/{id}`'s body, shaped for the widget.
    pub fn chat_view(conversation: &Conversation) -> Result<ChatView, AppError> {
        let messages: Vec<ChatMessage> = conversation
            .messages
            .iter()
            .map(|m| ChatMessage {
                id: format!("{}-{}", m.id, role_name(m.role)),
                from_shopper: m.role == Role::Shopper,
                from_staff: m.role == Role::Staff,
                text: m.text.clone(),
            })
            .collect();
        let turns = messages.iter().filter(|m| m.from_shopper).count() as u32;
        let order = conversation
            .order
            .as_ref()
            .map(order_panel)
            .transpose()
            .map_err(|e| AppError::internal("reading the conversation", e))?;
        let handed_off = conversation.outcome == "handed_off";
        Ok(ChatView { messages, order, turns, handed_off })
    }

    fn role_name(role: Role) -> &'static str {
        match role {
            Role::Shopper => "shopper",
            Role::Assistant => "assistant",
            Role::Staff => "staff",
        }
    }

    fn order_panel(order: &Order) -> Result<OrderPanelView, Unexpected> {
        let currency =
            Currency::parse(&order.currency).map_err(|e| Unexpected(format!("currency: {e}")))?;
        let money = |minor: i64| Money(minor).format(&currency);
        let lines = order
            .lines
            .iter()
            .map(|line| OrderPanelLine {
                name: line.name.clone(),
                quantity: line.quantity,
                choices: choices(&line.choices),
                unit_price: money(line.unit_price),
                total: money(line.total),
            })
            .collect();
        let customer = &order.customer;
        let customer = [&customer.name, &customer.email, &customer.phone]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>();
        let address = order.shipping_address.as_ref().map(|a| {
            [&a.line1, &a.line2, &a.city, &a.postal_code, &a.region, &a.country]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        });
        Ok(OrderPanelView {
            number: order.number.clone(),
            status: order.status.clone(),
            lines,
            subtotal: money(order.totals.subtotal),
            shipping: money(order.totals.shipping),
            total: money(order.totals.total),
            customer: (!customer.is_empty()).then(|| customer.join(" · ")),
            address,
            payment: Some(order.payment.status.clone()).filter(|status| status != "not_required"),
            payment_url: order.payment.url.clone(),
        })
    }

    /// "size: m, color: black, extra cheese, no onions".
    fn choices(choices: &[Choice]) -> String {
        choices
            .iter()
            .map(|c| {
                if c.exclude {
                    format!("no {}", c.value)
                } else if let Some(qualifier) = &c.qualifier {
                    format!("{qualifier} {}", c.value)
                } else {
                    format!("{}: {}", c.group, c.value)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    #[cfg(test)]
    mod tests {
        use serde_json::json;

        use super::*;

        #[test]
        fn an_api_conversation_becomes_the_widget_view() {
            let conversation = json!({
                "id": "c1",
                "messages": [
                    { "id": "t1", "role": "shopper", "text": "two black tees in M",
                      "at": "2030-06-01T12:00:00Z" },
                    { "id": "t1", "role": "assistant", "text": "Added.",
                      "at": "2030-06-01T12:00:00Z" },
                    { "id": "r1", "role": "staff", "text": "Hi, Ana here.",
                      "at": "2030-06-01T12:05:00Z" }
                ],
                "started_at": "2030-06-01T12:00:00Z",
                "outcome": "handed_off",
                "order": {
                    "number": "G-100001", "status": "draft", "currency": "USD",
                    "lines": [ { "sku": "TEE", "name": "tee", "quantity": 2,
                        "choices": [ { "group": "size", "value": "m" },
                                     { "group": "topping", "value": "cheese", "qualifier": "extra" },
                                     { "group": "topping", "value": "onions", "exclude": true } ],
                        "unit_price": 2500, "total": 5000 } ],
                    "totals": { "subtotal": 5000, "shipping": 0, "total": 5000 },
                    "customer": { "name": "Ana", "email": "ana@example.com", "phone": null },
                    "shipping_address": null,
                    "payment": { "status": "not_required" }
                }
            });
            let view = chat_view(&serde_json::from_value(conversation).unwrap()).unwrap();
            assert_eq!(view.turns, 1, "staff replies are not turns");
            assert_eq!(view.messages.len(), 3);
            assert!(view.messages[0].from_shopper && !view.messages[1].from_shopper);
            assert!(view.messages[2].from_staff && !view.messages[1].from_staff);
            assert!(view.handed_off);
            assert_ne!(view.messages[0].id, view.messages[1].id);
            let order = view.order.unwrap();
            assert_eq!(order.lines[0].choices, "size: m, extra cheese, no onions");
            assert_eq!(order.lines[0].unit_price, "$25.00");
            assert_eq!(order.total, "$50.00");
            assert_eq!(order.customer.as_deref(), Some("Ana · ana@example.com"));
            assert_eq!(order.address, None);
            assert_eq!((order.payment, order.payment_url), (None, None), "no payment involved");
        }

        #[test]
        fn a_pending_payment_gives_the_panel_its_link() {
            let mut order = json!({
                "number": "G-100001", "status": "confirmed", "currency": "USD", "lines": [],
                "totals": { "subtotal": 0, "shipping": 0, "total": 0 },
                "customer": { "name": null, "email": null, "phone": null },
                "shipping_address": null,
                "payment": { "status": "pending", "url": "https://checkout.stripe.com/c/pay/cs_1" }
            });
            let panel = order_panel(&serde_json::from_value(order.clone()).unwrap()).unwrap();
            assert_eq!(panel.payment.as_deref(), Some("pending"));
            assert_eq!(
                panel.payment_url.as_deref(),
                Some("https://checkout.stripe.com/c/pay/cs_1")
            );
            order["payment"] = json!({ "status": "not_required" });
            let panel = order_panel(&serde_json::from_value(order).unwrap()).unwrap();
            assert_eq!((panel.payment, panel.payment_url), (None, None));
        }
    }
}

/// The launcher and the chat panel, fixed to the corner of the shop page.
#[component]
pub fn ChatWidget() -> impl IntoView {
    view! {
        <aside class="chat" aria-label="Chat">
            <ChatContent/>
        </aside>
    }
}

/// What `<aside class="chat">` holds. The shop's bundle hydrates only this (and the
/// category filter), from the aside down: see [`crate::shop_bundle`].
#[component]
pub fn ChatContent() -> impl IntoView {
    let state = crate::codec::resource(|| (), |_| chat_state());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match state.await {
                    Ok(initial) => view! { <ChatPanel initial/> }.into_any(),
                    Err(error) => {
                        view! {
                            <p class="notice notice-error chat-unavailable" role="alert">
                                {format!("The chat is unavailable: {error}")}
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn ChatPanel(initial: ChatView) -> impl IntoView {
    let send = ServerAction::<ChatSend>::new();
    // Open at once when there is a conversation to come back to.
    let open = RwSignal::new(!initial.messages.is_empty());
    let current = RwSignal::new(initial);
    let input = NodeRef::<html::Input>::new();
    let log = NodeRef::<html::Ol>::new();

    // A turn that succeeded replaces the view; the input is emptied for the next one.
    Effect::new(move |_| {
        if let Some(Ok(view)) = send.value().get() {
            current.set(view);
            if let Some(input) = input.get_untracked() {
                input.set_value("");
                let _ = input.focus();
            }
        }
    });
    // Handed to a person: look for their replies every few seconds while the chat is
    // open (in the browser only; the server renders what there is).
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if !(open.get() && current.with(|c| c.handed_off)) {
            return;
        }
        let poll = set_interval_with_handle(
            move || {
                leptos::task::spawn_local(async move {
                    if let Ok(view) = chat_state().await {
                        if !send.pending().get_untracked() && current.with_untracked(|c| *c != view)
                        {
                            current.set(view);
                        }
                    }
                })
            },
            std::time::Duration::from_secs(STAFF_POLL_SECONDS),
        );
        if let Ok(poll) = poll {
            on_cleanup(move || poll.clear());
        }
    });
    // Keep the newest message in sight.
    Effect::new(move |_| {
        current.track();
        send.pending().track();
        if let Some(log) = log.get() {
            log.set_scroll_top(log.scroll_height());
        }
    });

    let pending = send.pending();
    let key = move || current.with(|c| c.turns.to_string());
    let error = move || match send.value().get() {
        Some(Err(error)) if !pending.get() => Some(error.to_string()),
        _ => None,
    };
    let sending =
        move || pending.get().then(|| send.input().get().map(|input| input.text)).flatten();
    let has_order = move || current.with(|c| c.order.as_ref().is_some_and(|o| o.status == "draft"));

    view! {
        <button
            type="button"
            class="chat-launcher"
            aria-controls="chat-panel"
            aria-expanded=move || open.get().to_string()
            on:click=move |_| open.update(|o| *o = !*o)
        >
            {move || if open.get() { "Close chat" } else { "Order by chat" }}
        </button>
        <section
            id="chat-panel"
            class="chat-panel"
            aria-labelledby="chat-title"
            hidden=move || !open.get()
        >
            <header class="chat-header">
                <h2 id="chat-title">"Order by chat"</h2>
                <button
                    type="button"
                    class="chat-close"
                    aria-label="Close chat"
                    on:click=move |_| open.set(false)
                >
                    "×"
                </button>
            </header>
            <ol class="chat-log" role="log" aria-live="polite" aria-label="Conversation" node_ref=log>
                <li class="msg msg-assistant">
                    "Hi! Tell me what you would like, in your own words: "
                    <q>"two black tees in M and a trail bottle"</q> "."
                </li>
                <For
                    each=move || current.get().messages
                    key=|message| message.id.clone()
                    let(message)
                >
                    <Message message/>
                </For>
                {move || {
                    sending()
                        .map(|text| {
                            view! {
                                <li class="msg msg-shopper msg-sending">
                                    <span class="visually-hidden">"You: "</span>
                                    {text}
                                </li>
                            }
                        })
                }}
            </ol>
            <p class="chat-pending" role="status">
                {move || pending.get().then_some("Working on your order…")}
            </p>
            {move || error().map(|e| view! { <p class="chat-error" role="alert">{e}</p> })}
            {move || current.get().order.map(|order| view! { <OrderPanel order/> })}
            <div class="chat-quick" hidden=move || !has_order()>
                <QuickReply send key label="Confirm order" text=CONFIRM_TEXT/>
                <QuickReply send key label="Cancel order" text=CANCEL_TEXT/>
            </div>
            <form
                action=ChatSend::url()
                method="post"
                class="chat-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    let text = input.get_untracked().map(|input| input.value()).unwrap_or_default();
                    send.dispatch(ChatSend { text, key: Some(key()) });
                }
            >
                <label class="visually-hidden" for="chat-input">"Your message"</label>
                <input
                    id="chat-input"
                    name="text"
                    type="text"
                    autocomplete="off"
                    required
                    maxlength="2000"
                    placeholder="Type your order…"
                    node_ref=input
                />
                <input type="hidden" name="key" prop:value=key/>
                <button type="submit" class="chat-send" disabled=move || pending.get()>
                    "Send"
                </button>
            </form>
        </section>
    }
    // Erase the type: the nested view is deep enough to overflow the compiler's limits.
    .into_any()
}

#[component]
fn Message(message: ChatMessage) -> impl IntoView {
    let (class, who) = if message.from_shopper {
        ("msg msg-shopper", "You: ")
    } else if message.from_staff {
        ("msg msg-staff", "Shop team: ")
    } else {
        ("msg msg-assistant", "Shop: ")
    };
    view! {
        <li class=class>
            <span class="visually-hidden">{who}</span>
            {message.text}
        </li>
    }
}

/// A button that sends a fixed text, as if the shopper had typed it.
#[component]
fn QuickReply(
    send: ServerAction<ChatSend>,
    key: impl Fn() -> String + Copy + Send + Sync + 'static,
    label: &'static str,
    text: &'static str,
) -> impl IntoView {
    view! {
        <form
            action=ChatSend::url()
            method="post"
            on:submit=move |ev| {
                ev.prevent_default();
                send.dispatch(ChatSend { text: text.to_owned(), key: Some(key()) });
            }
        >
            <input type="hidden" name="text" value=text/>
            <input type="hidden" name="key" prop:value=key/>
            <button type="submit" class="chat-quick-reply" disabled=move || send.pending().get()>
                {label}
            </button>
        </form>
    }
    .into_any()
}

#[component]
fn OrderPanel(order: OrderPanelView) -> impl IntoView {
    let OrderPanelView {
        number,
        status,
        lines,
        subtotal,
        shipping,
        total,
        customer,
        address,
        payment,
        payment_url,
    } = order;
    let empty = lines.is_empty();
    view! {
        <section class="order-panel" aria-labelledby="order-title">
            <h3 id="order-title">
                "Your order " <span class="order-number">{number}</span>
                <span class=format!("order-status status-{status}")>{status.clone()}</span>
            </h3>
            {empty.then(|| view! { <p class="empty">"No items yet."</p> })}
            <ul class="order-lines">
                {lines
                    .into_iter()
                    .map(|line| {
                        view! {
                            <li class="order-line">
                                <span class="line-item">
                                    <span class="line-quantity">{line.quantity}</span>
                                    " × "
                                    <span class="line-name">{line.name}</span>
                                    " at " {line.unit_price}
                                </span>
                                <span class="line-total">{line.total}</span>
                                {(!line.choices.is_empty())
                                    .then(|| view! { <span class="line-choices">{line.choices}</span> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <dl class="order-totals">
                <dt>"Subtotal"</dt>
                <dd>{subtotal}</dd>
                <dt>"Shipping"</dt>
                <dd>{shipping}</dd>
                <dt>"Total"</dt>
                <dd class="order-total">{total}</dd>
            </dl>
            {customer.map(|c| view! { <p class="order-customer">{c}</p> })}
            {address.map(|a| view! { <p class="order-address">"Ship to: " {a}</p> })}
            {payment
                .map(|p| {
                    let label = p.replace('_', " ");
                    view! {
                        <p class=format!("order-payment payment-{p}")>"Payment: " {label}</p>
                    }
                })}
            // The server only ever gives an https:// link (or loopback in tests).
            {payment_url
                .map(|url| {
                    view! {
                        <a class="button pay-button" href=url target="_blank" rel="noopener noreferrer">
                            "Pay now"
                        </a>
                    }
                })}
        </section>
    }
    .into_any()
}
