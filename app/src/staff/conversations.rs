//! Conversations: found by the shopper's words, and each one's audit timeline from
//! message to order event.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{Form, A},
    hooks::{use_params_map, use_query_map},
};
use serde::{Deserialize, Serialize};

use super::staff_error;
use crate::error::AppError;

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
    /// `(staff email, text, at)`: what staff wrote after a handoff.
    pub staff_replies: Vec<(String, String, String)>,
    /// `(subject, status, when)`: what the customer was mailed about the order.
    #[serde(default)]
    pub emails: Vec<(String, String, String)>,
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

/// One page of the list, with what the page links to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationList {
    pub conversations: Vec<ConversationSummary>,
    /// The cursor of the next (older) page, if there is one.
    pub next: Option<String>,
}

/// The list's filters as the URL carries them; empty means not filtered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationFilters {
    pub q: String,
    pub outcome: String,
    pub from: String,
    pub to: String,
    pub order: String,
    pub cursor: String,
}

impl ConversationFilters {
    /// The query string of this list with `cursor` instead of the current one.
    fn href(&self, cursor: Option<&str>) -> String {
        let pairs = [
            ("q", self.q.as_str()),
            ("outcome", &self.outcome),
            ("from", &self.from),
            ("to", &self.to),
            ("order", &self.order),
            ("cursor", cursor.unwrap_or_default()),
        ];
        let query: Vec<String> = pairs
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| format!("{name}={}", url_encode(value)))
            .collect();
        if query.is_empty() {
            "/staff/conversations".into()
        } else {
            format!("/staff/conversations?{}", query.join("&"))
        }
    }

    /// The audit export for the dates chosen: both ends, or the last 30 days up to the
    /// end given (today when none).
    fn csv_href(&self) -> String {
        let mut pairs = vec![];
        if !self.from.is_empty() {
            pairs.push(format!("from={}", url_encode(&self.from)));
        }
        if !self.to.is_empty() {
            pairs.push(format!("to={}", url_encode(&self.to)));
        }
        format!("/api/v1/staff/audit.csv?{}", pairs.join("&"))
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[server(endpoint = "staff/conversations")]
pub async fn staff_conversations(
    q: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    to: Option<String>,
    order: Option<String>,
    cursor: Option<String>,
) -> Result<ConversationList, AppError> {
    let (port, staff) = crate::staff::ssr::require().await?;
    let filter =
        crate::port::ConversationFilter { q, outcome, from, to, order, cursor, limit: None };
    let found = port.conversations(&staff, &filter).await.map_err(crate::port::app_error)?;
    Ok(ConversationList { conversations: ssr::summaries(&found), next: found.next.clone() })
}

#[server(endpoint = "staff/timeline")]
pub async fn staff_timeline(id: String) -> Result<Timeline, AppError> {
    let (port, staff) = crate::staff::ssr::require().await?;
    let found = port.timeline(&staff, &id).await.map_err(crate::port::app_error)?;
    Ok(ssr::timeline(&found))
}

#[cfg(feature = "ssr")]
mod ssr {
    use gapless_api::{
        staff::{ConversationPage, ConversationTimeline},
        time_format::rfc3339,
    };
    use serde_json::Value;

    use super::{ConversationSummary, Timeline, TimelineTurn};
    use crate::staff::ssr::pretty;

    pub fn summaries(found: &ConversationPage) -> Vec<ConversationSummary> {
        found
            .conversations
            .iter()
            .map(|c| ConversationSummary {
                id: c.id.clone(),
                started_at: rfc3339(c.started_at).replace('T', " "),
                outcome: c.outcome.clone(),
                order_number: c.order_number.clone(),
                turns: c.turns,
            })
            .collect()
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

    pub fn timeline(found: &ConversationTimeline) -> Timeline {
        let when = |at| rfc3339(at).replace('T', " ");
        let turns = found
            .turns
            .iter()
            .map(|turn| TimelineTurn {
                seq: turn.seq,
                text: turn.message.text.clone(),
                at: when(turn.message.at),
                extractor: turn.extractor.clone(),
                commands: turn
                    .commands
                    .as_array()
                    .map(|c| c.iter().map(command_line).collect())
                    .unwrap_or_default(),
                commands_json: pretty(&serde_json::json!({
                    "commands": turn.commands, "notes": turn.notes,
                })),
                validation_json: pretty(&turn.validation),
                events: turn
                    .events
                    .iter()
                    .map(|e| (u64::from(e.seq), e.kind.clone(), e.id.clone()))
                    .collect(),
                order_after_json: pretty(&turn.order_after),
                reply: turn.reply.clone(),
                timings: turn
                    .timings_ms
                    .map(|timings| timings.stages())
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(stage, ms)| format!("{stage} {ms:.2} ms"))
                    .collect::<Vec<_>>()
                    .join(" · "),
                llm_json: (!turn.llm.is_null()).then(|| pretty(&turn.llm)),
            })
            .collect();
        Timeline {
            id: found.id.clone(),
            started_at: when(found.started_at),
            outcome: found.outcome.clone(),
            order_number: found.order_number.clone(),
            turns,
            staff_replies: found
                .staff_replies
                .iter()
                .map(|r| (r.staff.clone(), r.text.clone(), when(r.at)))
                .collect(),
            emails: found
                .emails
                .iter()
                .map(|e| {
                    (e.subject.clone(), e.status.clone(), when(e.done_at.unwrap_or(e.queued_at)))
                })
                .collect(),
        }
    }
}

/// The outcomes staff filter by, with their labels.
const OUTCOMES: [(&str, &str); 6] = [
    ("", "Any outcome"),
    ("ordered", "Ordered"),
    ("open", "Open"),
    ("abandoned", "Abandoned (open, idle 24 h)"),
    ("handed_off", "Handed off"),
    ("failed", "Failed"),
];

/// `/staff/conversations?q=…&outcome=…&from=…&to=…&order=…&cursor=…`: newest first, a
/// page at a time. The form is a plain GET, so it filters before (and without) the wasm.
#[component]
pub fn StaffConversationsPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|q| {
            let get = |name: &str| q.get(name).unwrap_or_default();
            ConversationFilters {
                q: get("q"),
                outcome: get("outcome"),
                from: get("from"),
                to: get("to"),
                order: get("order"),
                cursor: get("cursor"),
            }
        })
    });
    let found = Resource::new(
        move || filters.get(),
        |f| {
            let some = |text: String| (!text.is_empty()).then_some(text);
            staff_conversations(
                some(f.q),
                some(f.outcome),
                some(f.from),
                some(f.to),
                some(f.order),
                some(f.cursor),
            )
        },
    );
    let field =
        move |get: fn(&ConversationFilters) -> &String| move || filters.with(|f| get(f).clone());
    view! {
        <Title text="Conversations · Staff"/>
        <section class="staff" aria-labelledby="conversations-title">
            <p><A href="/staff">"← Staff console"</A></p>
            <h1 id="conversations-title">"Conversations"</h1>
            <Form method="GET" action="" attr:class="search conversation-filters" attr:role="search" attr:aria-label="Filter conversations">
                <label for="conversation-search">"Words the shopper typed"</label>
                <input id="conversation-search" type="search" name="q" prop:value=field(|f| &f.q)/>
                <label for="conversation-outcome">"Outcome"</label>
                <select id="conversation-outcome" name="outcome">
                    {OUTCOMES.into_iter().map(|(value, label)| view! {
                        <option value=value selected=move || filters.with(|f| f.outcome == value)>{label}</option>
                    }).collect_view()}
                </select>
                <label for="conversation-from">"Started from"</label>
                <input id="conversation-from" type="date" name="from" prop:value=field(|f| &f.from)/>
                <label for="conversation-to">"Started before"</label>
                <input id="conversation-to" type="date" name="to" prop:value=field(|f| &f.to)/>
                <label for="conversation-order">"Order number"</label>
                <input id="conversation-order" type="text" name="order" placeholder="G-100001" size="10" prop:value=field(|f| &f.order)/>
                <button type="submit" class="button">"Search"</button>
                <A href="/staff/conversations">"Clear"</A>
            </Form>
            <p>
                <a class="csv-download" href=move || filters.with(ConversationFilters::csv_href)>
                    "Download CSV"
                </a>
                <span class="line-meta">" every turn from the start date (or 30 days back) up to the end date (or today), at most 31 days; admins only"</span>
            </p>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match found.await {
                        Ok(list) if list.conversations.is_empty() => view! {
                            <p class="empty" role="status">
                                {if filters.with(|f| f.cursor.is_empty()) {
                                    "No conversation matches."
                                } else {
                                    "No older conversation matches."
                                }}
                            </p>
                            {move || filters.with(|f| (!f.cursor.is_empty()).then(|| view! {
                                <p><A href=f.href(None)>"← Newest"</A></p>
                            }))}
                        }
                        .into_any(),
                        Ok(list) => view! {
                            <table class="staff-table">
                                <caption class="visually-hidden">"Conversations, newest first"</caption>
                                <thead><tr><th scope="col">"Started"</th><th scope="col">"Outcome"</th><th scope="col">"Order"</th><th scope="col">"Turns"</th></tr></thead>
                                <tbody>
                                    {list.conversations.into_iter().map(|c| view! {
                                        <tr class="conversation-row">
                                            <td><A href=format!("/staff/conversations/{}", c.id)>{c.started_at}</A></td>
                                            <td>{c.outcome}</td>
                                            <td>{c.order_number.unwrap_or_else(|| "—".into())}</td>
                                            <td>{c.turns}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <nav class="pager" aria-label="Pages">
                                {move || filters.with(|f| (!f.cursor.is_empty()).then(|| view! {
                                    <A href=f.href(None)>"← Newest"</A>
                                }))}
                                {list.next.map(|next| view! {
                                    <A href=filters.with(|f| f.href(Some(&next))) attr:rel="next">"Older →"</A>
                                })}
                            </nav>
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
    let Timeline { id, started_at, outcome, order_number, turns, staff_replies, emails } = timeline;
    view! {
        <dl class="return-facts">
            <dt>"Conversation"</dt><dd class="mono">{id}</dd>
            <dt>"Started"</dt><dd>{started_at}</dd>
            <dt>"Outcome"</dt><dd>{outcome}</dd>
            <dt>"Order"</dt>
            <dd>
                {match order_number.clone() {
                    Some(number) => view! { <A href=format!("/staff/orders/{number}")>{number}</A> }.into_any(),
                    None => "—".into_any(),
                }}
            </dd>
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
                        {turn.events.into_iter().map(|(seq, kind, id)| {
                            let label = format!("#{seq} {kind}");
                            let event = match order_number.clone() {
                                Some(number) => view! {
                                    <A href=format!("/staff/orders/{number}#event-{seq}") attr:class="mono">{label}</A>
                                }.into_any(),
                                None => view! { <span class="mono">{label}</span> }.into_any(),
                            };
                            view! { <li class="turn-event">{event}" "<span class="line-meta mono">{id}</span></li> }
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
        {(!emails.is_empty()).then(|| view! {
            <h2>"Emails to the customer"</h2>
            <ol class="timeline-emails">
                {emails.into_iter().map(|(subject, status, at)| view! {
                    <li class="card timeline-email">
                        <p><strong>{subject}</strong></p>
                        <p class="line-meta">{format!("{status} · {at}")}</p>
                    </li>
                }).collect_view()}
            </ol>
        })}
        {(!staff_replies.is_empty()).then(|| view! {
            <h2>"Staff replies"</h2>
            <ol class="staff-replies">
                {staff_replies.into_iter().map(|(staff, text, at)| view! {
                    <li class="card staff-reply">
                        <p><strong>{format!("{staff}: ")}</strong>{text}</p>
                        <p class="line-meta">{at}</p>
                    </li>
                }).collect_view()}
            </ol>
        })}
    }
    .into_any()
}
