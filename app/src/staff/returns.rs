//! The returns queue: returns by status, with the actions each one allows.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{Form, A},
    hooks::use_query_map,
};
use serde::{Deserialize, Serialize};

use super::staff_error;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnSummary {
    pub rma: String,
    pub order_number: String,
    pub email: String,
    pub status: String,
    pub resolution: String,
    pub requested_at: String,
}

/// The queue as the page shows it, with the token its forms send back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnQueue {
    pub returns: Vec<ReturnSummary>,
    pub csrf: String,
}

#[server(endpoint = "staff/returns")]
pub async fn staff_returns(status: String) -> Result<ReturnQueue, AppError> {
    let (port, staff) = crate::staff::ssr::require().await?;
    let status = (!status.is_empty()).then_some(status);
    let found = port.returns(&staff, status.as_deref()).await.map_err(crate::port::app_error)?;
    Ok(ReturnQueue { returns: ssr::returns(&found), csrf: staff.csrf })
}

#[server(endpoint = "staff/return-action")]
pub async fn staff_return_action(
    rma: String,
    kind: String,
    #[server(default)] note: String,
    #[server(default)] amount: String,
    #[server(default)] override_reason: String,
    #[server(default)] disposition: String,
    csrf: String,
) -> Result<(), AppError> {
    let (port, staff) = crate::staff::ssr::require_form(&csrf).await?;
    let given = |text: String| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    let action = crate::port::ReturnActionInput {
        kind,
        note: given(note),
        amount: given(amount),
        override_reason: given(override_reason),
        disposition: given(disposition),
    };
    port.record_return(&staff, &rma, action).await.map_err(crate::port::app_error)?;
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    use gapless_api::{returns::ReturnList, time_format::rfc3339};

    use super::ReturnSummary;

    pub fn returns(found: &ReturnList) -> Vec<ReturnSummary> {
        found
            .returns
            .iter()
            .map(|r| ReturnSummary {
                rma: r.rma.clone(),
                order_number: r.order_number.clone(),
                email: r.email.clone(),
                status: r.status.as_str().to_owned(),
                resolution: r.resolution.as_str().to_owned(),
                requested_at: rfc3339(r.requested_at).replace('T', " "),
            })
            .collect()
    }
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
                    {["in_review", "approved", "received", "refunded", "exchanged", "credited", "rejected", ""].into_iter().map(|s| {
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
                        Ok(queue) if queue.returns.is_empty() => view! {
                            <p class="empty" role="status">"Nothing here."</p>
                        }
                        .into_any(),
                        Ok(ReturnQueue { returns, csrf }) => view! {
                            <ul class="staff-returns">
                                {returns
                                    .into_iter()
                                    .map(|r| view! { <ReturnRow found=r act csrf=csrf.clone()/> })
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
fn ReturnRow(
    found: ReturnSummary,
    act: ServerAction<StaffReturnAction>,
    csrf: String,
) -> impl IntoView {
    let actions: &[(&str, &str)] = match found.status.as_str() {
        "in_review" => &[("approved", "Approve"), ("rejected", "Reject")],
        "approved" => &[("received", "Record receipt"), ("cancelled", "Cancel")],
        "received" if found.resolution == "exchange" => &[
            ("exchanged", "Ship the replacement"),
            ("refunded", "Record refund"),
            ("credited", "Record store credit"),
        ],
        "received" => &[("refunded", "Record refund"), ("credited", "Record store credit")],
        _ => &[],
    };
    let rma = found.rma.clone();
    let note_id = format!("note-{}", found.rma);
    view! {
        <li class="card staff-return" data-rma=found.rma.clone()>
            <p>
                <strong class="mono">{found.rma.clone()}</strong>
                {format!(
                    " · order {} · {} · {} · wants {} · asked {}",
                    found.order_number,
                    found.email,
                    found.status.replace('_', " "),
                    found.resolution.replace('_', " "),
                    found.requested_at,
                )}
            </p>
            <div class="staff-actions">
                {actions.iter().map(|(kind, label)| {
                    let rma = rma.clone();
                    let rma_for_fields = rma.clone();
                    let note_id = note_id.clone();
                    let note_for = note_id.clone();
                    let csrf = csrf.clone();
                    view! {
                        <ActionForm action=act attr:class="inline-form">
                            <input type="hidden" name="rma" value=rma/>
                            <input type="hidden" name="kind" value=*kind/>
                            <input type="hidden" name="csrf" value=csrf/>
                            {(*kind == "rejected").then(|| view! {
                                <label class="visually-hidden" for=note_for>"Reason for the customer"</label>
                                <input id=note_id name="note" placeholder="Reason for the customer" required maxlength="500"/>
                            })}
                            {(*kind == "received").then(|| {
                                let id = format!("disposition-{rma_for_fields}");
                                view! {
                                    <label for=id.clone()>"Items"</label>
                                    <select id=id name="disposition">
                                        <option value="" selected>"as the policy says"</option>
                                        <option value="restock">"back on sale"</option>
                                        <option value="discard">"discard"</option>
                                    </select>
                                }
                            })}
                            {matches!(*kind, "refunded" | "credited").then(|| {
                                let amount_id = format!("amount-{kind}-{rma_for_fields}");
                                let reason_id = format!("override-{kind}-{rma_for_fields}");
                                view! {
                                    <label class="visually-hidden" for=amount_id.clone()>"Amount (empty: what is due)"</label>
                                    <input id=amount_id name="amount" inputmode="decimal" placeholder="Amount (default: due)" size="12" pattern="[0-9]+([.][0-9]+)?"/>
                                    <label class="visually-hidden" for=reason_id.clone()>"Why more than is due"</label>
                                    <input id=reason_id name="override_reason" placeholder="Why more than due" maxlength="500"/>
                                }
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
