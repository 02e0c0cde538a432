//! The staff console: sign-in at `/staff`, conversations found by their words, each
//! conversation's audit timeline from message to order event, and the returns review
//! queue. Every server function checks the staff session itself; signed out, the pages
//! send the browser to the sign-in form.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{Form, A},
    hooks::{use_params_map, use_query_map},
};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, ErrorNotice};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffAccount {
    pub email: String,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: String,
    pub started_at: String,
    pub outcome: String,
    pub order_number: Option<String>,
    pub turns: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    pub id: String,
    pub started_at: String,
    pub outcome: String,
    pub order_number: Option<String>,
    pub turns: Vec<TimelineTurn>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineTurn {
    pub seq: u32,
    pub text: String,
    pub at: String,
    pub extractor: String,
    /// One line per command, and the whole extraction as JSON for the details.
    pub commands: Vec<String>,
    pub commands_json: String,
    pub validation_json: String,
    pub events: Vec<(u64, String, String)>,
    pub order_after_json: String,
    pub reply: String,
    pub timings: String,
    /// The model's side of the turn (raw tool calls, refused calls, tokens, fallback
    /// reason), when a model ran.
    pub llm_json: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnSummary {
    pub rma: String,
    pub order_number: String,
    pub email: String,
    pub status: String,
    pub requested_at: String,
}

#[server(endpoint = "staff/me")]
pub async fn staff_me() -> Result<Option<StaffAccount>, AppError> {
    Ok(ssr::signed_in().await?.map(|s| StaffAccount { email: s.email, role: s.role }))
}

#[server(endpoint = "staff/sign-in")]
pub async fn staff_sign_in(email: String, password: String) -> Result<(), AppError> {
    let port = crate::port::get::<dyn crate::port::StaffPort>()?;
    let session = crate::port::session().await?;
    let client = crate::port::client_ip().await;
    port.sign_in(&session, &email, password, client).await.map_err(crate::port::app_error)?;
    leptos_axum::redirect("/staff");
    Ok(())
}

#[server(endpoint = "staff/sign-out")]
pub async fn staff_sign_out() -> Result<(), AppError> {
    let port = crate::port::get::<dyn crate::port::StaffPort>()?;
    let session = crate::port::session().await?;
    port.sign_out(&session).await.map_err(crate::port::app_error)?;
    leptos_axum::redirect("/staff");
    Ok(())
}

#[server(endpoint = "staff/conversations")]
pub async fn staff_conversations(q: String) -> Result<Vec<ConversationSummary>, AppError> {
    let (port, staff) = ssr::require().await?;
    let found = port.conversations(&staff, &q).await.map_err(crate::port::app_error)?;
    Ok(ssr::summaries(&found))
}

#[server(endpoint = "staff/timeline")]
pub async fn staff_timeline(id: String) -> Result<Timeline, AppError> {
    let (port, staff) = ssr::require().await?;
    let found = port.timeline(&staff, &id).await.map_err(crate::port::app_error)?;
    Ok(ssr::timeline(&found))
}

#[server(endpoint = "staff/returns")]
pub async fn staff_returns(status: String) -> Result<Vec<ReturnSummary>, AppError> {
    let (port, staff) = ssr::require().await?;
    let status = (!status.is_empty()).then_some(status);
    let found = port.returns(&staff, status.as_deref()).await.map_err(crate::port::app_error)?;
    Ok(ssr::returns(&found))
}

#[server(endpoint = "staff/return-action")]
pub async fn staff_return_action(
    rma: String,
    kind: String,
    #[server(default)] note: String,
) -> Result<(), AppError> {
    let (port, staff) = ssr::require().await?;
    let note = Some(note.trim().to_owned()).filter(|n| !n.is_empty());
    port.record_return(&staff, &rma, &kind, note).await.map_err(crate::port::app_error)?;
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::sync::Arc;

    use serde_json::Value;

    use super::{ConversationSummary, ReturnSummary, Timeline, TimelineTurn};
    use crate::{
        error::AppError,
        port::{StaffIdentity, StaffPort},
    };

    pub async fn signed_in() -> Result<Option<StaffIdentity>, AppError> {
        let port = crate::port::get::<dyn StaffPort>()?;
        let session = crate::port::session().await?;
        port.current(&session).await.map_err(crate::port::app_error)
    }

    /// The port and the signed-in staff member, or a redirect to sign-in and a 401.
    pub async fn require() -> Result<(Arc<dyn StaffPort>, StaffIdentity), AppError> {
        let port = crate::port::get::<dyn StaffPort>()?;
        match signed_in().await? {
            Some(staff) => Ok((port, staff)),
            None => {
                if let Some(response) =
                    leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
                {
                    response.set_status(http::StatusCode::UNAUTHORIZED);
                }
                Err(AppError::SignedOut)
            }
        }
    }

    fn text(value: &Value) -> String {
        value.as_str().unwrap_or_default().to_owned()
    }

    fn pretty(value: &Value) -> String {
        serde_json::to_string_pretty(value).unwrap_or_default()
    }

    pub fn summaries(found: &Value) -> Vec<ConversationSummary> {
        found["conversations"]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|c| ConversationSummary {
                        id: text(&c["id"]),
                        started_at: text(&c["started_at"]).replace('T', " "),
                        outcome: text(&c["outcome"]),
                        order_number: c["order_number"].as_str().map(str::to_owned),
                        turns: c["turns"].as_u64().unwrap_or_default() as u32,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A command in one line: its kind and the fields that say what it asked for.
    fn command_line(command: &Value) -> String {
        match command.as_object() {
            Some(object) if object.len() == 1 => {
                let (kind, fields) = object.iter().next().expect("one entry");
                format!("{kind} {}", serde_json::to_string(fields).unwrap_or_default())
            }
            _ => serde_json::to_string(command).unwrap_or_default(),
        }
    }

    pub fn timeline(found: &Value) -> Timeline {
        let turns = found["turns"]
            .as_array()
            .map(|turns| {
                turns
                    .iter()
                    .map(|turn| TimelineTurn {
                        seq: turn["seq"].as_u64().unwrap_or_default() as u32,
                        text: text(&turn["message"]["text"]),
                        at: text(&turn["message"]["at"]).replace('T', " "),
                        extractor: text(&turn["extractor"]),
                        commands: turn["commands"]
                            .as_array()
                            .map(|c| c.iter().map(command_line).collect())
                            .unwrap_or_default(),
                        commands_json: pretty(&serde_json::json!({
                            "commands": turn["commands"], "notes": turn["notes"],
                        })),
                        validation_json: pretty(&turn["validation"]),
                        events: turn["events"]
                            .as_array()
                            .map(|events| {
                                events
                                    .iter()
                                    .map(|e| {
                                        (
                                            e["seq"].as_u64().unwrap_or_default(),
                                            text(&e["type"]),
                                            text(&e["id"]),
                                        )
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        order_after_json: pretty(&turn["order_after"]),
                        reply: text(&turn["reply"]),
                        timings: turn["timings_ms"]
                            .as_object()
                            .map(|t| {
                                t.iter()
                                    .map(|(stage, ms)| {
                                        format!("{stage} {:.2} ms", ms.as_f64().unwrap_or_default())
                                    })
                                    .collect::<Vec<_>>()
                                    .join(" · ")
                            })
                            .unwrap_or_default(),
                        llm_json: (!turn["llm"].is_null()).then(|| pretty(&turn["llm"])),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Timeline {
            id: text(&found["id"]),
            started_at: text(&found["started_at"]).replace('T', " "),
            outcome: text(&found["outcome"]),
            order_number: found["order_number"].as_str().map(str::to_owned),
            turns,
        }
    }

    pub fn returns(found: &Value) -> Vec<ReturnSummary> {
        found["returns"]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|r| ReturnSummary {
                        rma: text(&r["rma"]),
                        order_number: text(&r["order_number"]),
                        email: text(&r["email"]),
                        status: text(&r["status"]),
                        requested_at: text(&r["requested_at"]).replace('T', " "),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Shown instead of a staff page to whoever is not signed in.
#[component]
fn SignInFirst() -> impl IntoView {
    view! {
        <p class="notice" role="status">
            "Please " <A href="/staff">"sign in"</A> " with a staff account."
        </p>
    }
}

fn staff_error(error: AppError) -> AnyView {
    match error {
        AppError::SignedOut => view! { <SignInFirst/> }.into_any(),
        error => view! { <ErrorNotice error/> }.into_any(),
    }
}

/// `/staff`: the sign-in form, or the console's front page.
#[component]
pub fn StaffHomePage() -> impl IntoView {
    let sign_in = ServerAction::<StaffSignIn>::new();
    let sign_out = ServerAction::<StaffSignOut>::new();
    let me =
        Resource::new(move || (sign_in.version().get(), sign_out.version().get()), |_| staff_me());
    let error = move || match sign_in.value().get() {
        Some(Err(error)) => Some(error.to_string()),
        _ => None,
    };
    view! {
        <Title text="Staff"/>
        <section class="staff" aria-labelledby="staff-title">
            <h1 id="staff-title">"Staff console"</h1>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(Some(me)) => view! {
                            <p>"Signed in as " <strong class="staff-email">{me.email}</strong> " (" {me.role} ")."</p>
                            <ul class="staff-nav">
                                <li><A href="/staff/conversations">"Conversations"</A></li>
                                <li><A href="/staff/returns">"Returns in review"</A></li>
                            </ul>
                            <ActionForm action=sign_out>
                                <button type="submit" class="link-button">"Sign out"</button>
                            </ActionForm>
                        }
                        .into_any(),
                        Ok(None) => view! {
                            <ActionForm action=sign_in attr:class="card form" attr:aria-labelledby="sign-in-title">
                                <h2 id="sign-in-title">"Sign in"</h2>
                                <label for="staff-email">"Email"</label>
                                <input id="staff-email" name="email" type="email" required autocomplete="username"/>
                                <label for="staff-password">"Password"</label>
                                <input id="staff-password" name="password" type="password" required autocomplete="current-password"/>
                                {move || error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                                <button type="submit" class="button">"Sign in"</button>
                            </ActionForm>
                            <p class="line-meta">
                                "No account yet? An administrator creates one on the server with "
                                <code>"gapless staff add EMAIL --role agent"</code> "."
                            </p>
                        }
                        .into_any(),
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// `/staff/conversations?q=…`: newest first, found by the shopper's words.
#[component]
pub fn StaffConversationsPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.with(|q| q.get("q").unwrap_or_default());
    let found = Resource::new(q, staff_conversations);
    view! {
        <Title text="Conversations · Staff"/>
        <section class="staff" aria-labelledby="conversations-title">
            <p><A href="/staff">"← Staff console"</A></p>
            <h1 id="conversations-title">"Conversations"</h1>
            <Form method="GET" action="" attr:class="search" attr:role="search">
                <label for="conversation-search">"Words the shopper typed"</label>
                <input id="conversation-search" type="search" name="q" prop:value=q/>
                <button type="submit" class="button">"Search"</button>
            </Form>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match found.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty" role="status">"No conversation matches."</p>
                        }
                        .into_any(),
                        Ok(list) => view! {
                            <table class="staff-table">
                                <caption class="visually-hidden">"Conversations, newest first"</caption>
                                <thead><tr><th scope="col">"Started"</th><th scope="col">"Outcome"</th><th scope="col">"Order"</th><th scope="col">"Turns"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|c| view! {
                                        <tr class="conversation-row">
                                            <td><A href=format!("/staff/conversations/{}", c.id)>{c.started_at}</A></td>
                                            <td>{c.outcome}</td>
                                            <td>{c.order_number.unwrap_or_else(|| "—".into())}</td>
                                            <td>{c.turns}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }
                        .into_any(),
                        Err(error) => staff_error(error),
                    }
                })}
            </Transition>
        </section>
    }
}

/// `/staff/conversations/{id}`: each turn from the message to the events it appended.
#[component]
pub fn StaffTimelinePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let timeline = Resource::new(id, staff_timeline);
    view! {
        <Title text="Timeline · Staff"/>
        <section class="staff" aria-labelledby="timeline-title">
            <p><A href="/staff/conversations">"← Conversations"</A></p>
            <h1 id="timeline-title">"Conversation timeline"</h1>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match timeline.await {
                        Ok(t) => view! { <TimelineView timeline=t/> }.into_any(),
                        Err(error) => staff_error(error),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn TimelineView(timeline: Timeline) -> impl IntoView {
    let Timeline { id, started_at, outcome, order_number, turns } = timeline;
    view! {
        <dl class="return-facts">
            <dt>"Conversation"</dt><dd class="mono">{id}</dd>
            <dt>"Started"</dt><dd>{started_at}</dd>
            <dt>"Outcome"</dt><dd>{outcome}</dd>
            <dt>"Order"</dt><dd>{order_number.unwrap_or_else(|| "—".into())}</dd>
        </dl>
        <ol class="turns">
            {turns.into_iter().map(|turn| view! {
                <li class="turn card" id=format!("turn-{}", turn.seq)>
                    <p class="turn-message"><strong>"Shopper: "</strong>{turn.text}</p>
                    <p class="line-meta">{format!("turn {} · {} · extractor {}", turn.seq, turn.at, turn.extractor)}</p>
                    <ul class="turn-commands" aria-label="Commands">
                        {turn.commands.into_iter().map(|c| view! { <li class="mono">{c}</li> }).collect_view()}
                    </ul>
                    <ul class="turn-events" aria-label="Events appended">
                        {turn.events.into_iter().map(|(seq, kind, id)| view! {
                            <li class="turn-event"><span class="mono">{format!("#{seq} {kind}")}</span>" "<span class="line-meta mono">{id}</span></li>
                        }).collect_view()}
                    </ul>
                    <p class="turn-reply"><strong>"Reply: "</strong>{turn.reply}</p>
                    <p class="line-meta">{turn.timings}</p>
                    <details><summary>"Extractor output"</summary><pre>{turn.commands_json}</pre></details>
                    <details><summary>"Validation"</summary><pre>{turn.validation_json}</pre></details>
                    <details><summary>"Order after this turn"</summary><pre>{turn.order_after_json}</pre></details>
                    {turn.llm_json.map(|llm| view! {
                        <details><summary>"Model"</summary><pre>{llm}</pre></details>
                    })}
                </li>
            }).collect_view()}
        </ol>
    }
    .into_any()
}

/// `/staff/returns?status=in_review`: the queue, with the actions each return allows.
#[component]
pub fn StaffReturnsPage() -> impl IntoView {
    let query = use_query_map();
    let status = move || query.with(|q| q.get("status").unwrap_or_else(|| "in_review".into()));
    let act = ServerAction::<StaffReturnAction>::new();
    let found = Resource::new(move || (status(), act.version().get()), |(s, _)| staff_returns(s));
    let error = move || match act.value().get() {
        Some(Err(error)) => Some(error.to_string()),
        _ => None,
    };
    view! {
        <Title text="Returns · Staff"/>
        <section class="staff" aria-labelledby="staff-returns-title">
            <p><A href="/staff">"← Staff console"</A></p>
            <h1 id="staff-returns-title">"Returns"</h1>
            <Form method="GET" action="" attr:class="search">
                <label for="return-status-filter">"Status"</label>
                <select id="return-status-filter" name="status">
                    {["in_review", "approved", "received", "refunded", "rejected", ""].into_iter().map(|s| {
                        let label = if s.is_empty() { "all".to_owned() } else { s.replace('_', " ") };
                        view! { <option value=s selected=move || status() == s>{label}</option> }
                    }).collect_view()}
                </select>
                <button type="submit" class="button">"Show"</button>
            </Form>
            {move || error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match found.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty" role="status">"Nothing here."</p>
                        }
                        .into_any(),
                        Ok(list) => view! {
                            <ul class="staff-returns">
                                {list.into_iter().map(|r| view! { <ReturnRow found=r act/> }).collect_view()}
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
fn ReturnRow(found: ReturnSummary, act: ServerAction<StaffReturnAction>) -> impl IntoView {
    let actions: &[(&str, &str)] = match found.status.as_str() {
        "in_review" => &[("approved", "Approve"), ("rejected", "Reject")],
        "approved" => &[("received", "Record receipt"), ("cancelled", "Cancel")],
        "received" => &[("refunded", "Record refund"), ("credited", "Record store credit")],
        _ => &[],
    };
    let rma = found.rma.clone();
    let note_id = format!("note-{}", found.rma);
    view! {
        <li class="card staff-return" data-rma=found.rma.clone()>
            <p>
                <strong class="mono">{found.rma.clone()}</strong>
                {format!(" · order {} · {} · {} · asked {}", found.order_number, found.email, found.status.replace('_', " "), found.requested_at)}
            </p>
            <div class="staff-actions">
                {actions.iter().map(|(kind, label)| {
                    let rma = rma.clone();
                    let note_id = note_id.clone();
                    let note_for = note_id.clone();
                    view! {
                        <ActionForm action=act attr:class="inline-form">
                            <input type="hidden" name="rma" value=rma/>
                            <input type="hidden" name="kind" value=*kind/>
                            {(*kind == "rejected").then(|| view! {
                                <label class="visually-hidden" for=note_for>"Reason for the customer"</label>
                                <input id=note_id name="note" placeholder="Reason for the customer" required maxlength="500"/>
                            })}
                            <button type="submit" class="button">{*label}</button>
                        </ActionForm>
                    }
                }).collect_view()}
            </div>
        </li>
    }
    .into_any()
}
