//! The returns portal: `/returns` (find the order, choose items, get a decision per item
//! at once) and `/returns/{rma}` (status, timeline, instructions).
//!
//! Rendered on the server and usable before (or without) the wasm: every form is an
//! `ActionForm` whose server function stores what the customer proved in their session
//! and redirects, so a plain form post lands on a page that renders from the session.
//! Nothing identifying (email, order number) ever goes into a URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, ErrorNotice};

/// An order the customer proved (number + email), as the portal shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalOrder {
    pub order_number: String,
    /// The day it was delivered, once a fulfilment system reported it.
    pub delivered_on: Option<String>,
    pub lines: Vec<PortalLine>,
    pub reasons: Vec<Choice>,
    pub resolutions: Vec<Choice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalLine {
    pub line: u32,
    pub name: String,
    pub quantity: u32,
    pub unit_price: String,
    pub returnable_quantity: u32,
    /// Why nothing of it can come back, in words.
    pub blocked: Option<String>,
    pub return_by: Option<String>,
    /// Per size or colour group, what the line could be exchanged for.
    pub exchange: Vec<ExchangeGroup>,
}

/// One option group an exchange may change, with the values at the same price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeGroup {
    pub group: String,
    pub current: Option<String>,
    /// `(value, in stock)`.
    pub values: Vec<(String, bool)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub code: String,
    pub label: String,
}

/// One return as its status page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalReturn {
    pub rma: String,
    pub order_number: String,
    pub status: String,
    pub resolution: String,
    pub items: Vec<PortalReturnItem>,
    pub timeline: Vec<(String, String)>,
    pub instructions: String,
    pub refund: Option<String>,
    /// The order that ships an exchange's replacement.
    pub replacement_order: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalReturnItem {
    pub name: String,
    pub quantity: u32,
    pub decision: String,
    pub message: String,
    /// For an exchange, what comes instead, e.g. "size l, color black".
    pub exchange: Option<String>,
}

/// One line of the request form: serde_qs fields `items[i][line]`, `items[i][quantity]`,
/// `items[i][reason]`, and `items[i][exchange][GROUP]` for an exchange ("" keeps the
/// value bought).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalItem {
    pub line: u32,
    pub quantity: u32,
    pub reason: String,
    #[serde(default)]
    pub exchange: std::collections::BTreeMap<String, String>,
}

/// The order the customer proved in this session, if any.
#[server(endpoint = "returns/current")]
pub async fn current_order() -> Result<Option<PortalOrder>, AppError> {
    let session = crate::port::session().await?;
    let Some(proof) = ssr::proof(&session).await? else {
        return Ok(None);
    };
    let port = crate::port::get::<dyn crate::port::ReturnsPort>()?;
    let client = crate::port::client_ip().await;
    match port.lookup(&proof.order_number, &proof.email, client).await {
        Ok(found) => Ok(Some(ssr::portal_order(&found)?)),
        // Rate limited or gone: show the form again rather than an error page.
        Err(_) => Ok(None),
    }
}

#[server(endpoint = "returns/find")]
pub async fn find_order(order_number: String, email: String) -> Result<(), AppError> {
    let port = crate::port::get::<dyn crate::port::ReturnsPort>()?;
    let client = crate::port::client_ip().await;
    port.lookup(&order_number, &email, client).await.map_err(crate::port::app_error)?;
    let session = crate::port::session().await?;
    ssr::set_proof(&session, ssr::Proof { order_number, email }).await?;
    leptos_axum::redirect("/returns");
    Ok(())
}

#[server(endpoint = "returns/forget")]
pub async fn forget_order() -> Result<(), AppError> {
    let session = crate::port::session().await?;
    ssr::clear_proof(&session).await?;
    leptos_axum::redirect("/returns");
    Ok(())
}

#[server(endpoint = "returns/submit")]
pub async fn submit_return(
    resolution: String,
    #[server(default)] items: Vec<PortalItem>,
    #[server(default)] comment: String,
) -> Result<(), AppError> {
    let session = crate::port::session().await?;
    let proof = ssr::proof(&session).await?.ok_or_else(|| {
        AppError::Rejected("Please find your order first: your session may have expired.".into())
    })?;
    let chosen: Vec<_> = items.into_iter().filter(|item| item.quantity > 0).collect();
    if chosen.is_empty() {
        return Err(AppError::Rejected("Choose at least one item and how many to return.".into()));
    }
    use gapless_domain::returns::{RequestedItem, Resolution};
    let resolution = Resolution::parse(&resolution).ok_or_else(|| {
        AppError::Rejected(
            "Choose what you would like instead: a refund, an exchange or store credit.".into(),
        )
    })?;
    let comment = Some(comment.trim()).filter(|c| !c.is_empty());
    let items = chosen
        .into_iter()
        .map(|item| RequestedItem {
            line: item.line as usize,
            quantity: i64::from(item.quantity),
            reason: item.reason,
            comment: comment.map(str::to_owned),
            // Only an exchange names a replacement; "" in a select keeps what was bought.
            exchange: (resolution == Resolution::Exchange).then(|| {
                item.exchange.into_iter().filter(|(_, value)| !value.is_empty()).collect()
            }),
        })
        .collect();
    let request = gapless_api::returns::NewReturn {
        order_number: proof.order_number,
        email: proof.email.clone(),
        items,
        resolution,
    };
    let port = crate::port::get::<dyn crate::port::ReturnsPort>()?;
    let client = crate::port::client_ip().await;
    let created = port.request(request, client).await.map_err(crate::port::app_error)?;
    let rma = created.rma;
    ssr::track(&session, &rma, &proof.email).await?;
    leptos_axum::redirect(&format!("/returns/{rma}"));
    Ok(())
}

/// Lets a customer come back to a return with its code and their email.
#[server(endpoint = "returns/track")]
pub async fn track_return(rma: String, email: String) -> Result<(), AppError> {
    let rma = rma.trim().to_uppercase();
    let port = crate::port::get::<dyn crate::port::ReturnsPort>()?;
    let client = crate::port::client_ip().await;
    port.status(&rma, &email, client).await.map_err(crate::port::app_error)?;
    let session = crate::port::session().await?;
    ssr::track(&session, &rma, &email).await?;
    leptos_axum::redirect(&format!("/returns/{rma}"));
    Ok(())
}

/// A return this session may see (it created or tracked it); `None` otherwise.
#[server(endpoint = "returns/status")]
pub async fn return_status(rma: String) -> Result<Option<PortalReturn>, AppError> {
    let session = crate::port::session().await?;
    let Some(email) = ssr::tracked_email(&session, &rma).await? else {
        return Ok(None);
    };
    let port = crate::port::get::<dyn crate::port::ReturnsPort>()?;
    let client = crate::port::client_ip().await;
    let status = port.status(&rma, &email, client).await.map_err(crate::port::app_error)?;
    Ok(Some(ssr::portal_return(&status)?))
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::collections::BTreeMap;

    use gapless_api::{
        returns::{ExchangeOption, Lookup, ReturnView},
        time_format::{day, rfc3339},
    };
    use gapless_domain::money::{Currency, Money};
    use serde::{Deserialize, Serialize};
    use tower_sessions::Session;

    use super::{Choice, ExchangeGroup, PortalLine, PortalOrder, PortalReturn, PortalReturnItem};
    use crate::error::AppError;

    const PROOF: &str = "returns.order";
    const TRACKED: &str = "returns.tracked";

    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct Proof {
        pub order_number: String,
        pub email: String,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("unexpected returns JSON: {0}")]
    pub struct Unexpected(pub String);

    pub async fn proof(session: &Session) -> Result<Option<Proof>, AppError> {
        session.get(PROOF).await.map_err(|e| AppError::internal("reading the session", e))
    }

    pub async fn set_proof(session: &Session, proof: Proof) -> Result<(), AppError> {
        session.insert(PROOF, proof).await.map_err(|e| AppError::internal("writing the session", e))
    }

    pub async fn clear_proof(session: &Session) -> Result<(), AppError> {
        session
            .remove::<Proof>(PROOF)
            .await
            .map(drop)
            .map_err(|e| AppError::internal("writing the session", e))
    }

    /// Remembers that this session may see `rma` (with the email that proved it).
    pub async fn track(session: &Session, rma: &str, email: &str) -> Result<(), AppError> {
        let mut tracked: BTreeMap<String, String> = session
            .get(TRACKED)
            .await
            .map_err(|e| AppError::internal("reading the session", e))?
            .unwrap_or_default();
        tracked.insert(rma.to_owned(), email.to_owned());
        session
            .insert(TRACKED, tracked)
            .await
            .map_err(|e| AppError::internal("writing the session", e))
    }

    pub async fn tracked_email(session: &Session, rma: &str) -> Result<Option<String>, AppError> {
        let tracked: Option<BTreeMap<String, String>> =
            session.get(TRACKED).await.map_err(|e| AppError::internal("reading the session", e))?;
        Ok(tracked.and_then(|t| t.get(&rma.to_uppercase()).cloned()))
    }

    pub fn portal_order(found: &Lookup) -> Result<PortalOrder, AppError> {
        let currency = Currency::parse(&found.currency).map_err(|e| {
            AppError::internal(
                "reading the order for a return",
                Unexpected(format!("currency: {e}")),
            )
        })?;
        let lines = found
            .lines
            .iter()
            .map(|line| PortalLine {
                line: line.line,
                name: line.name.clone(),
                quantity: line.quantity,
                unit_price: Money(line.unit_price).format(&currency),
                returnable_quantity: line.returnable_quantity,
                blocked: line.message.clone(),
                return_by: line.return_by.map(day),
                exchange: line.exchange_options.iter().flatten().map(exchange_group).collect(),
            })
            .collect();
        Ok(PortalOrder {
            order_number: found.order_number.clone(),
            delivered_on: found.delivered_at.map(day),
            lines,
            reasons: found
                .reasons
                .iter()
                .map(|r| Choice { code: r.code.clone(), label: r.label.clone() })
                .collect(),
            resolutions: found
                .resolutions
                .iter()
                .map(|r| Choice {
                    code: r.as_str().to_owned(),
                    label: resolution_label(r.as_str()),
                })
                .collect(),
        })
    }

    pub fn portal_return(status: &ReturnView) -> Result<PortalReturn, AppError> {
        let items = status
            .items
            .iter()
            .map(|item| PortalReturnItem {
                name: item.name.clone().unwrap_or_else(|| item.sku.to_lowercase()),
                quantity: item.quantity,
                decision: item.decision.as_str().to_owned(),
                message: item.message.clone(),
                exchange: item.exchange.as_ref().map(|choices| {
                    choices
                        .iter()
                        .filter(|c| !c.exclude)
                        .map(|c| format!("{} {}", c.group, c.value))
                        .collect::<Vec<_>>()
                        .join(", ")
                }),
            })
            .collect();
        let timeline = status
            .timeline
            .iter()
            .map(|t| (status_label(t.status.as_str()), rfc3339(t.at).replace('T', " ")))
            .collect();
        let refund = match (status.refund_amount, &status.currency) {
            (Some(amount), Some(currency)) => {
                Currency::parse(currency).ok().map(|currency| Money(amount).format(&currency))
            }
            _ => None,
        };
        Ok(PortalReturn {
            rma: status.rma.clone(),
            order_number: status.order_number.clone(),
            status: status.status.as_str().to_owned(),
            resolution: resolution_label(status.resolution.as_str()),
            items,
            timeline,
            instructions: status.instructions.clone(),
            refund,
            replacement_order: status.replacement_order.clone(),
        })
    }

    /// A lookup line's exchange option, as the form offers it.
    fn exchange_group(option: &ExchangeOption) -> ExchangeGroup {
        ExchangeGroup {
            group: option.group.clone(),
            current: option.current.clone(),
            values: option.values.iter().map(|v| (v.value.clone(), v.available)).collect(),
        }
    }

    fn resolution_label(code: &str) -> String {
        match code {
            "refund" => "Refund to the original payment".into(),
            "exchange" => "Exchange for another size or colour".into(),
            "store_credit" => "Store credit".into(),
            other => other.replace('_', " "),
        }
    }

    pub fn status_label(code: &str) -> String {
        match code {
            "in_review" => "In review".into(),
            other => {
                let mut label = other.replace('_', " ");
                if let Some(first) = label.get_mut(..1) {
                    first.make_ascii_uppercase();
                }
                label
            }
        }
    }
}

/// `/returns`: find the order, then choose what to send back.
#[component]
pub fn ReturnsPage() -> impl IntoView {
    let find = ServerAction::<FindOrder>::new();
    let forget = ServerAction::<ForgetOrder>::new();
    let order = crate::codec::resource(
        move || (find.version().get(), forget.version().get()),
        |_| current_order(),
    );
    view! {
        <Title text="Returns"/>
        <section class="returns" aria-labelledby="returns-title">
            <h1 id="returns-title">"Returns"</h1>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match order.await {
                        Ok(Some(order)) => view! { <RequestForm order forget/> }.into_any(),
                        Ok(None) => view! { <FindForms find/> }.into_any(),
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn FindForms(find: ServerAction<FindOrder>) -> impl IntoView {
    let track = ServerAction::<TrackReturn>::new();
    let find_error = move || action_error(find.value().get());
    let track_error = move || action_error(track.value().get());
    view! {
        <p class="lede">"Find your order with its number and the email you ordered with. You will see at once what can be returned."</p>
        <ActionForm action=find attr:class="card form" attr:aria-labelledby="find-title">
            <h2 id="find-title">"Start a return"</h2>
            <label for="order-number">"Order number"</label>
            <input id="order-number" name="order_number" required autocomplete="off" placeholder="G-100042" maxlength="40"/>
            <label for="order-email">"Email"</label>
            <input id="order-email" name="email" type="email" required autocomplete="email" maxlength="254"/>
            {move || find_error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <button type="submit" class="button" disabled=move || find.pending().get()>
                {move || if find.pending().get() { "Looking…" } else { "Find my order" }}
            </button>
        </ActionForm>
        <ActionForm action=track attr:class="card form" attr:aria-labelledby="track-title">
            <h2 id="track-title">"Follow a return"</h2>
            <label for="track-rma">"Return code"</label>
            <input id="track-rma" name="rma" required autocomplete="off" placeholder="R-…" maxlength="20"/>
            <label for="track-email">"Email"</label>
            <input id="track-email" name="email" type="email" required autocomplete="email" maxlength="254"/>
            {move || track_error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <button type="submit" class="button" disabled=move || track.pending().get()>
                "Show its status"
            </button>
        </ActionForm>
    }
    .into_any()
}

/// For an exchange: per size or colour, a select whose first option keeps the value
/// bought; sold-out values are shown but cannot be chosen.
#[component]
fn ExchangeChoice(index: usize, line: u32, groups: Vec<ExchangeGroup>) -> impl IntoView {
    if groups.is_empty() {
        return ().into_any();
    }
    let selects = groups
        .into_iter()
        .map(|group| {
            let id = format!("exchange-{line}-{}", group.group.replace(' ', "-"));
            let keep = match &group.current {
                Some(current) => format!("Keep {current}"),
                None => "Keep as bought".to_owned(),
            };
            view! {
                <label for=id.clone()>{group.group.clone()}</label>
                <select id=id name=format!("items[{index}][exchange][{}]", group.group)>
                    <option value="">{keep}</option>
                    {group
                        .values
                        .into_iter()
                        .map(|(value, available)| {
                            let label = if available { value.clone() } else { format!("{value} (sold out)") };
                            view! { <option value=value disabled=!available>{label}</option> }
                        })
                        .collect_view()}
                </select>
            }
        })
        .collect_view();
    view! {
        <div class="field-row exchange-choice">
            <p class="line-meta">"For an exchange, choose what you would like instead:"</p>
            {selects}
        </div>
    }
    .into_any()
}

fn action_error(value: Option<Result<(), AppError>>) -> Option<String> {
    match value {
        Some(Err(error)) => Some(error.to_string()),
        _ => None,
    }
}

#[component]
fn RequestForm(order: PortalOrder, forget: ServerAction<ForgetOrder>) -> impl IntoView {
    let submit = ServerAction::<SubmitReturn>::new();
    let error = move || action_error(submit.value().get());
    let PortalOrder { order_number, delivered_on, lines, reasons, resolutions } = order;
    let any_returnable = lines.iter().any(|l| l.returnable_quantity > 0);
    let rows = lines
        .into_iter()
        .enumerate()
        .map(|(index, line)| {
            let id = format!("line-{}", line.line);
            let reason_id = format!("reason-{}", line.line);
            let quantity_id = format!("quantity-{}", line.line);
            let title_id = format!("line-title-{}", line.line);
            let labelled_by = title_id.clone();
            let reasons = reasons.clone();
            let returnable = line.returnable_quantity;
            view! {
                <li class="return-line" id=id>
                    <fieldset aria-labelledby=labelled_by disabled=returnable == 0>
                        <legend id=title_id>
                            <span class="line-name">{line.name.clone()}</span>
                            <span class="line-meta">
                                {format!(" · {} bought at {}", line.quantity, line.unit_price)}
                            </span>
                        </legend>
                        {match line.blocked.clone() {
                            Some(why) => view! { <p class="line-blocked">{why}</p> }.into_any(),
                            None => view! {
                                <input type="hidden" name=format!("items[{index}][line]") value=line.line/>
                                <div class="field-row">
                                    <label for=quantity_id.clone()>"Quantity"</label>
                                    <select id=quantity_id name=format!("items[{index}][quantity]")>
                                        {(0..=returnable)
                                            .map(|n| view! { <option value=n>{n}</option> })
                                            .collect_view()}
                                    </select>
                                    <label for=reason_id.clone()>"Reason"</label>
                                    <select id=reason_id name=format!("items[{index}][reason]")>
                                        {reasons
                                            .into_iter()
                                            .map(|r| view! { <option value=r.code>{r.label}</option> })
                                            .collect_view()}
                                    </select>
                                </div>
                                <ExchangeChoice index line=line.line groups=line.exchange.clone()/>
                                {line.return_by.clone().map(|d| view! {
                                    <p class="line-meta">{format!("Return by {d}")}</p>
                                })}
                            }
                            .into_any(),
                        }}
                    </fieldset>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="returns-order">
            <p class="lede">
                "Order " <strong class="order-number">{order_number}</strong> ". Choose what to send back."
            </p>
            {delivered_on.map(|day| view! {
                <p class="delivered-on">"Delivered on " <time datetime=day.clone()>{day.clone()}</time> "."</p>
            })}
            <ActionForm action=forget attr:class="inline-form">
                <button type="submit" class="link-button">"Not your order? Start over"</button>
            </ActionForm>
            {(!any_returnable).then(|| view! {
                <p class="notice" role="status">"Nothing in this order can be returned any more; each item says why."</p>
            })}
            <ActionForm action=submit attr:class="card form" attr:aria-labelledby="request-title">
                <h2 id="request-title">"What are you returning?"</h2>
                <ul class="return-lines">{rows}</ul>
                <fieldset class="resolutions">
                    <legend>"What would you like instead?"</legend>
                    {resolutions
                        .into_iter()
                        .enumerate()
                        .map(|(i, r)| {
                            let id = format!("resolution-{}", r.code);
                            view! {
                                <div class="radio">
                                    <input type="radio" id=id.clone() name="resolution" value=r.code checked=i == 0/>
                                    <label for=id>{r.label}</label>
                                </div>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <label for="return-comment">"Anything we should know? (optional)"</label>
                <textarea id="return-comment" name="comment" maxlength="1000" rows="3"></textarea>
                {move || error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                <button type="submit" class="button" disabled=move || !any_returnable || submit.pending().get()>
                    {move || if submit.pending().get() { "Sending…" } else { "Request the return" }}
                </button>
            </ActionForm>
        </div>
    }
    .into_any()
}

/// `/returns/{rma}`: the return this session created or tracked.
#[component]
pub fn ReturnStatusPage() -> impl IntoView {
    let params = use_params_map();
    let rma = move || params.with(|p| p.get("rma").unwrap_or_default().to_ascii_uppercase());
    let status = crate::codec::resource(rma, return_status);
    view! {
        <Title text="Your return"/>
        <section class="returns" aria-labelledby="return-title">
            <h1 id="return-title">"Your return " {rma}</h1>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(Some(found)) => view! { <ReturnDetails found/> }.into_any(),
                        Ok(None) => view! {
                            <p class="notice">"To see this return, enter its code and your email on the "
                                <A href="/returns">"returns page"</A> "."</p>
                        }
                        .into_any(),
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ReturnDetails(found: PortalReturn) -> impl IntoView {
    let PortalReturn {
        rma,
        order_number,
        status,
        resolution,
        items,
        timeline,
        instructions,
        refund,
        replacement_order,
    } = found;
    let label = status_text(&status);
    view! {
        <div class="card return-card">
            <p>
                "Status: " <strong class=format!("return-status status-{status}")>{label}</strong>
            </p>
            <p class="instructions">{instructions}</p>
            <dl class="return-facts">
                <dt>"Return code"</dt><dd class="rma">{rma}</dd>
                <dt>"Order"</dt><dd>{order_number}</dd>
                <dt>"You asked for"</dt><dd>{resolution}</dd>
                {refund.map(|r| view! { <dt>"Refunded"</dt><dd>{r}</dd> })}
                {replacement_order.map(|n| view! {
                    <dt>"Replacement order"</dt><dd class="replacement-order">{n}</dd>
                })}
            </dl>
            <h2>"Items"</h2>
            <ul class="return-items">
                {items
                    .into_iter()
                    .map(|item| view! {
                        <li class=format!("return-item decision-{}", item.decision)>
                            <span class="item-name">{format!("{} × {}", item.quantity, item.name)}</span>
                            <span class="item-decision">{status_text(&item.decision)}</span>
                            <span class="item-message">{item.message}</span>
                            {item.exchange.map(|e| view! {
                                <span class="item-exchange">{format!("Exchanging for: {e}")}</span>
                            })}
                        </li>
                    })
                    .collect_view()}
            </ul>
            <h2>"Timeline"</h2>
            <ol class="timeline">
                {timeline
                    .into_iter()
                    .map(|(label, at)| view! { <li><span>{label}</span> " " <time>{at}</time></li> })
                    .collect_view()}
            </ol>
            <p><A href="/returns">"Back to returns"</A></p>
        </div>
    }
    .into_any()
}

fn status_text(code: &str) -> String {
    match code {
        "in_review" => "In review".to_owned(),
        "approved" => "Approved".to_owned(),
        "rejected" => "Not returnable".to_owned(),
        other => other.replace('_', " "),
    }
}
