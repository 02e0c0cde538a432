//! The handoff queue: conversations where the shopper asked for a person, oldest
//! first, each with a reply form. The shopper reads the reply in the chat widget.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};

use super::staff_error;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handoff {
    pub id: String,
    pub handoff_at: String,
    pub order_number: Option<String>,
    pub turns: u32,
    pub last_message: String,
    pub replies: u32,
}

/// The queue as the page shows it, with the token its forms send back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffQueue {
    pub handoffs: Vec<Handoff>,
    pub csrf: String,
}

#[server(endpoint = "staff/handoffs")]
pub async fn staff_handoffs() -> Result<HandoffQueue, AppError> {
    let (port, staff) = crate::staff::ssr::require().await?;
    let found = port.handoffs(&staff).await.map_err(crate::port::app_error)?;
    Ok(HandoffQueue { handoffs: ssr::handoffs(&found), csrf: staff.csrf })
}

/// `close` is the checkbox: `"true"` when ticked, absent otherwise.
#[server(endpoint = "staff/reply")]
pub async fn staff_reply(
    conversation: String,
    text: String,
    #[server(default)] close: String,
    csrf: String,
) -> Result<(), AppError> {
    let (port, staff) = crate::staff::ssr::require_form(&csrf).await?;
    port.reply(&staff, &conversation, &text, close == "true")
        .await
        .map_err(crate::port::app_error)?;
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    use gapless_api::{staff::HandoffQueue, time_format::rfc3339};

    use super::Handoff;

    pub fn handoffs(found: &HandoffQueue) -> Vec<Handoff> {
        found
            .conversations
            .iter()
            .map(|h| Handoff {
                id: h.id.clone(),
                handoff_at: rfc3339(h.handoff_at).replace('T', " "),
                order_number: h.order_number.clone(),
                turns: h.turns,
                last_message: h.last_message.clone().unwrap_or_default(),
                replies: h.replies,
            })
            .collect()
    }
}

/// `/staff/handoffs`: who is waiting for a person, and a reply form for each.
#[component]
pub fn StaffHandoffsPage() -> impl IntoView {
    let reply = ServerAction::<StaffReply>::new();
    let found = Resource::new(move || reply.version().get(), |_| staff_handoffs());
    let error = move || match reply.value().get() {
        Some(Err(error)) => Some(error.to_string()),
        _ => None,
    };
    let sent = move || matches!(reply.value().get(), Some(Ok(())));
    view! {
        <Title text="Handoffs · Staff"/>
        <section class="staff" aria-labelledby="handoffs-title">
            <p><A href="/staff">"← Staff console"</A></p>
            <h1 id="handoffs-title">"Waiting for a person"</h1>
            {move || error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            {move || sent().then(|| view! { <p class="notice" role="status">"Reply sent."</p> })}
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match found.await {
                        Ok(queue) if queue.handoffs.is_empty() => view! {
                            <p class="empty" role="status">"Nobody is waiting for a person."</p>
                        }
                        .into_any(),
                        Ok(HandoffQueue { handoffs, csrf }) => view! {
                            <ul class="staff-handoffs">
                                {handoffs
                                    .into_iter()
                                    .map(|h| view! { <HandoffCard handoff=h reply csrf=csrf.clone()/> })
                                    .collect_view()}
                            </ul>
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
fn HandoffCard(handoff: Handoff, reply: ServerAction<StaffReply>, csrf: String) -> impl IntoView {
    let Handoff { id, handoff_at, order_number, turns, last_message, replies } = handoff;
    let text_id = format!("reply-{id}");
    let close_id = format!("close-{id}");
    let link = format!("/staff/conversations/{id}");
    let data = id.clone();
    view! {
        <li class="card staff-handoff" data-conversation=data>
            <p>
                <A href=link>{format!("Asked {handoff_at}")}</A>
                {format!(
                    " · {turns} turns · order {} · {replies} replies so far",
                    order_number.unwrap_or_else(|| "—".into()),
                )}
            </p>
            <blockquote class="handoff-last">{last_message}</blockquote>
            <ActionForm action=reply attr:class="form">
                <input type="hidden" name="conversation" value=id/>
                <input type="hidden" name="csrf" value=csrf/>
                <label for=text_id.clone()>"Reply to the shopper"</label>
                <textarea id=text_id name="text" required maxlength="2000" rows="2"></textarea>
                <div class="radio">
                    <input type="checkbox" id=close_id.clone() name="close" value="true"/>
                    <label for=close_id>"Close the handoff"</label>
                </div>
                <button type="submit" class="button" disabled=move || reply.pending().get()>
                    "Send reply"
                </button>
            </ActionForm>
        </li>
    }
    .into_any()
}
