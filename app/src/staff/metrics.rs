//! `/staff/metrics`: the dashboard. Every number says what it counts ("12 of 40") and
//! links to the conversations or returns behind it; the charts are SVG drawn on the
//! server by our own code (no chart library, nothing from a CDN).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{Form, A},
    hooks::use_query_map,
};
use serde::{Deserialize, Serialize};

use super::staff_error;
use crate::error::AppError;

/// One figure: what it is, its value in words, and where its rows are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    pub label: String,
    pub value: String,
    pub detail: String,
    pub link: Option<String>,
}

/// One row of a breakdown table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breakdown {
    pub name: String,
    pub units: u64,
    pub share: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardView {
    pub from: String,
    pub to: String,
    pub figures: Vec<Figure>,
    pub by_reason: Vec<Breakdown>,
    pub by_product: Vec<Breakdown>,
    /// `(id, svg)`; the SVG is made by `gapless_domain::staff_metrics`, text escaped.
    pub charts: Vec<(String, String)>,
}

#[server(endpoint = "staff/metrics")]
pub async fn staff_metrics(from: String, to: String) -> Result<DashboardView, AppError> {
    let (port, staff) = crate::staff::ssr::require().await?;
    let some = |text: String| Some(text).filter(|t| !t.trim().is_empty());
    let found =
        port.dashboard(&staff, some(from), some(to)).await.map_err(crate::port::app_error)?;
    Ok(ssr::view(&found))
}

#[cfg(feature = "ssr")]
mod ssr {
    use gapless_api::staff::{Fulfilment, Metrics, Share, Stats};
    use gapless_domain::staff_metrics::{format_percent, format_seconds};

    use super::{Breakdown, DashboardView, Figure};

    fn ratio(share: &Share) -> (String, String) {
        let percent = share.percent.map_or_else(|| "—".to_owned(), format_percent);
        (percent, format!("{} of {}", share.numerator, share.denominator))
    }

    fn duration(stats: &Stats) -> (String, String) {
        let fmt = |seconds: Option<f64>| seconds.map_or_else(|| "—".to_owned(), format_seconds);
        (
            format!("p50 {} · p90 {}", fmt(stats.p50_seconds), fmt(stats.p90_seconds)),
            format!("over {}", stats.count),
        )
    }

    fn breakdown<'a>(rows: impl Iterator<Item = (&'a str, u64, &'a Share)>) -> Vec<Breakdown> {
        rows.map(|(name, units, share)| Breakdown {
            name: name.to_owned(),
            units,
            share: ratio(share).0,
        })
        .collect()
    }

    /// Delivery numbers (orders confirmed in the period), each naming the orders behind
    /// its misses, the first of them linked.
    fn fulfilment_figures(found: &Fulfilment) -> Vec<Figure> {
        let promise = found.delivery_promise_days;
        // The answer names the first 50 orders behind a miss; the ratio says how many.
        let missed = |share: &Share, numbers: &[String], what: &str| {
            let (value, detail) = ratio(share);
            let misses = share.denominator.saturating_sub(share.numerator) as usize;
            let link = numbers.first().map(|n| format!("/staff/orders/{n}"));
            let total = misses.max(numbers.len());
            let detail = match numbers.len().min(5) {
                0 => detail,
                shown if total <= shown => format!("{detail} · {what}: {}", numbers.join(", ")),
                shown => format!(
                    "{detail} · {what}: {} and {} more",
                    numbers[..shown].join(", "),
                    total - shown
                ),
            };
            ((value, detail), link)
        };
        let (on_time, late) = missed(&found.on_time, &found.late_orders, "late");
        let (perfect, imperfect) =
            missed(&found.perfect_order, &found.imperfect_orders, "not perfect");
        let figure = |label: String, (value, detail): (String, String), link: Option<String>| {
            Figure { label, value, detail, link }
        };
        vec![
            figure(
                "Order confirmed → shipped".into(),
                duration(&found.confirmation_to_shipped),
                None,
            ),
            figure(
                "Order confirmed → delivered".into(),
                duration(&found.confirmation_to_delivered),
                None,
            ),
            figure(format!("Delivered on time (within {promise} days)"), on_time, late),
            figure("On time, in full".into(), ratio(&found.on_time_in_full), None),
            figure("Perfect orders".into(), perfect, imperfect),
        ]
    }

    pub fn view(found: &Metrics) -> DashboardView {
        let from = found.first_day.clone();
        let to = found.last_day.clone();
        let range = format!("from={from}&to={to}");
        let figure = |label: &str, (value, detail): (String, String), link: Option<String>| {
            Figure { label: label.to_owned(), value, detail, link }
        };
        let decisions = &found.decisions;
        let mut figures = vec![
            figure(
                "Conversations",
                (found.conversations.to_string(), "started in the period".into()),
                Some(format!("/staff/conversations?{range}")),
            ),
            figure(
                "Conversion to a confirmed order",
                ratio(&found.conversion),
                Some(format!("/staff/conversations?outcome=ordered&{range}")),
            ),
            figure(
                "First message → order confirmed",
                duration(&found.intent_to_confirmation),
                Some(format!("/staff/conversations?outcome=ordered&{range}")),
            ),
            figure(
                "Handed to a person",
                ratio(&found.handoff_rate),
                Some(format!("/staff/conversations?outcome=handed_off&{range}")),
            ),
            figure(
                "Orders needing manual handling",
                ratio(&found.exception_rate),
                Some("/staff/handoffs".into()),
            ),
            figure(
                "Turns that asked the shopper to clarify",
                ratio(&found.clarification_rate),
                None,
            ),
            figure(
                "Returns requested",
                (
                    found.returns.to_string(),
                    match found.returned_units {
                        1 => "1 unit".to_owned(),
                        units => format!("{units} units"),
                    },
                ),
                Some("/staff/returns?status=".into()),
            ),
            figure(
                "Items approved · rejected · in review",
                (
                    format!(
                        "{} · {} · {}",
                        decisions.approved, decisions.rejected, decisions.in_review
                    ),
                    "as the policy decided them".into(),
                ),
                Some("/staff/returns?status=in_review".into()),
            ),
            figure(
                "Refund cycle: request → refund",
                duration(&found.refund_cycle.request_to_complete),
                Some("/staff/returns?status=refunded".into()),
            ),
            figure(
                "Refund cycle: request → parcel received",
                duration(&found.refund_cycle.request_to_receipt),
                Some("/staff/returns?status=received".into()),
            ),
            figure(
                "Refund cycle: received → money sent",
                duration(&found.refund_cycle.receipt_to_complete),
                Some("/staff/returns?status=refunded".into()),
            ),
        ];
        // Only where payments are taken online: otherwise there is nothing to count.
        if found.paid_conversion.denominator > 0 {
            figures.insert(
                2,
                figure(
                    "Paid, of orders with a payment link",
                    ratio(&found.paid_conversion),
                    Some(format!("/staff/conversations?outcome=ordered&{range}")),
                ),
            );
        }
        figures.extend(fulfilment_figures(&found.fulfilment));
        figures.push(Figure {
            label: "Customer emails that failed".into(),
            value: found.emails.failed.to_string(),
            detail: format!(
                "{} sent, {} waiting (now, not only this period)",
                found.emails.sent, found.emails.pending
            ),
            link: None,
        });
        let charts = found
            .charts
            .iter()
            .flatten()
            .map(|chart| (chart.id.clone(), chart.svg.clone()))
            .collect();
        DashboardView {
            from,
            to,
            figures,
            by_reason: breakdown(
                found.by_reason.iter().map(|r| (r.label.as_str(), r.units, &r.share)),
            ),
            by_product: breakdown(
                found.by_product.iter().map(|r| (r.product.as_str(), r.units, &r.share)),
            ),
            charts,
        }
    }
}

#[component]
pub fn StaffMetricsPage() -> impl IntoView {
    let query = use_query_map();
    let range = move || {
        query.with(|q| (q.get("from").unwrap_or_default(), q.get("to").unwrap_or_default()))
    };
    let found = Resource::new(range, |(from, to)| staff_metrics(from, to));
    view! {
        <Title text="Metrics · Staff"/>
        <section class="staff staff-metrics" aria-labelledby="metrics-title">
            <p><A href="/staff">"← Staff console"</A></p>
            <h1 id="metrics-title">"How the shop is doing"</h1>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match found.await {
                        Ok(view) => view! { <DashboardBody view/> }.into_any(),
                        Err(error) => staff_error(error),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn DashboardBody(view: DashboardView) -> impl IntoView {
    let DashboardView { from, to, figures, by_reason, by_product, charts } = view;
    let period = format!("{from} to {to}, both days included (UTC).");
    view! {
        <Form method="GET" action="" attr:class="search">
            <label for="metrics-from">"From"</label>
            <input id="metrics-from" type="date" name="from" value=from/>
            <label for="metrics-to">"To"</label>
            <input id="metrics-to" type="date" name="to" value=to/>
            <button type="submit" class="button">"Show"</button>
        </Form>
        <p class="line-meta">{period}</p>
        <ul class="figures">
            {figures.into_iter().map(|f| view! {
                <li class="figure card">
                    <span class="figure-label">{f.label}</span>
                    {match f.link {
                        Some(link) => view! { <A href=link attr:class="figure-value">{f.value}</A> }.into_any(),
                        None => view! { <span class="figure-value">{f.value}</span> }.into_any(),
                    }}
                    <span class="figure-detail line-meta">{f.detail}</span>
                </li>
            }).collect_view()}
        </ul>
        <div class="charts">
            {charts.into_iter().map(|(id, svg)| view! {
                <figure class="chart card" id=format!("chart-{id}") inner_html=svg></figure>
            }).collect_view()}
        </div>
        <BreakdownTable caption="Returned units by reason" rows=by_reason/>
        <BreakdownTable caption="Returned units by product" rows=by_product/>
    }
    .into_any()
}

#[component]
fn BreakdownTable(caption: &'static str, rows: Vec<Breakdown>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="empty">{format!("{caption}: no returns in this period.")}</p> }
            .into_any();
    }
    view! {
        <table class="staff-table">
            <caption>{caption}</caption>
            <thead><tr><th scope="col">"Name"</th><th scope="col">"Units"</th><th scope="col">"Share"</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|r| view! {
                    <tr><td>{r.name}</td><td>{r.units}</td><td>{r.share}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
