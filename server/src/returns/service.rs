//! One returns request with its I/O. The decisions are the pure engine's; this file finds
//! the order (without telling a wrong email from an unknown order), gathers what the
//! engine needs, and writes the return with its events in one transaction, deciding
//! again when a concurrent request claimed the same units first.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use gapless_domain::{
    catalog::Catalog,
    money::{Currency, Money},
    returns::{
        decide, returnable, Actor, BoughtLine, OrderDates, ReturnDecision, ReturnEvent,
        ReturnPolicy, ReturnRequest, ReturnState, RmaCode, RETURN_EVENT_SCHEMA_VERSION,
    },
    sku::Sku,
};
use gapless_store::{
    new_id, NewReturn, ReturnEventWrite, ReturnItemWrite, ReturnableOrder, Store, StoreError,
};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::api_error::ApiError;

/// Every lookup takes at least this long, found or not, so that timing does not tell an
/// unknown order from a wrong email.
const LOOKUP_FLOOR: Duration = Duration::from_millis(150);
/// Tries when concurrent requests keep claiming the same units first.
const ATTEMPTS: usize = 5;

/// What a customer must give to see an order: both, or nothing is said.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderProof {
    pub order_number: String,
    pub email: String,
}

pub struct ReturnsService {
    store: Arc<dyn Store>,
    policy: ReturnPolicy,
}

/// An order the customer proved, with what the engine needs about it.
struct ProvenOrder {
    order: ReturnableOrder,
    lines: Vec<BoughtLine>,
    dates: OrderDates,
    currency: Currency,
}

impl ReturnsService {
    pub fn new(store: Arc<dyn Store>, policy: ReturnPolicy) -> Self {
        ReturnsService { store, policy }
    }

    pub fn policy(&self) -> &ReturnPolicy {
        &self.policy
    }

    /// `POST /api/v1/returns/lookup`: the order's lines with what can still come back.
    pub async fn lookup(&self, proof: &OrderProof) -> Result<Value, ApiError> {
        let proven = self.prove(proof).await?;
        let now = OffsetDateTime::now_utc();
        let verdicts = returnable(&proven.lines, &self.policy, &proven.dates, now);
        let lines: Vec<Value> = proven
            .order
            .lines
            .iter()
            .zip(&verdicts)
            .map(|(line, verdict)| {
                let mut value = json!({
                    "line": verdict.line,
                    "sku": line.sku,
                    "name": line.name,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "returnable_quantity": verdict.returnable_quantity,
                    "return_by": verdict.return_by.map(rfc3339),
                });
                if let Some(reason) = verdict.reason {
                    value["reason"] = json!(reason.as_str());
                    value["message"] = json!(verdict.message);
                }
                value
            })
            .collect();
        Ok(json!({
            "order_number": proven.order.number,
            "currency": proven.currency.to_string(),
            "lines": lines,
            "reasons": self.policy.reason_choices(),
            "resolutions": self.policy.resolutions.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        }))
    }

    /// `POST /api/v1/returns`: decides every item and records the return.
    pub async fn request(
        &self,
        proof: &OrderProof,
        request: &ReturnRequest,
    ) -> Result<Value, ApiError> {
        for _ in 0..ATTEMPTS {
            let proven = self.prove(proof).await?;
            let now = OffsetDateTime::now_utc();
            let email = proof.email.trim().to_lowercase();
            let since = self.policy.customer_limit.counted_since(now);
            let recent = self.store.recent_returns(&email, since).await?;
            let decision = decide(&self.policy, &proven.lines, &proven.dates, recent, now, request)
                .map_err(|e| ApiError::invalid(e.code(), e.to_string()))?;
            let rma = RmaCode::from_random(uuid::Uuid::new_v4().as_u64_pair().0);
            let new = new_return(&proven.order, &email, &rma, &decision, now)?;
            match self.store.create_return(&new).await {
                Ok(()) => return Ok(created(&rma, &decision)),
                // Another request took these units, or the code, first: decide again.
                Err(StoreError::OverClaimed { .. } | StoreError::Conflict(_)) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(ApiError::Busy)
    }

    /// `GET /api/v1/returns/{rma}?email=…`: the return, its status and timeline.
    pub async fn status(&self, rma: &str, email: &str) -> Result<Value, ApiError> {
        const UNKNOWN: ApiError = ApiError::NotFound("no return with this code and email");
        let started = Instant::now();
        let found = match RmaCode::parse(rma.trim()) {
            Ok(rma) => self.store.return_by_rma(rma.as_str()).await?,
            Err(_) => None,
        };
        let found = found.filter(|r| r.email.eq_ignore_ascii_case(email.trim()));
        let Some(row) = found else {
            pad(started).await;
            return Err(UNKNOWN);
        };
        let events = row
            .events
            .iter()
            .map(|e| serde_json::from_value::<ReturnEvent>(e.payload.clone()))
            .collect::<Result<Vec<_>, _>>()
            .context("reading stored return events")
            .map_err(ApiError::Internal)?;
        let state = ReturnState::fold(&events)
            .context("folding stored return events")
            .map_err(ApiError::Internal)?;
        Ok(json!({
            "rma": row.rma,
            "order_number": row.order_number,
            "status": state.status.as_str(),
            "resolution": state.resolution.as_str(),
            "items": state.items.iter().map(|item| json!({
                "line": item.line,
                "sku": item.sku,
                "quantity": item.quantity,
                "reason": item.reason.as_str(),
                "decision": item.decision.outcome.as_str(),
                "rule": item.decision.rule.as_str(),
                "message": item.decision.message,
                "value": item.value.minor(),
                "restocking_fee": item.restocking_fee.minor(),
            })).collect::<Vec<_>>(),
            "timeline": state.timeline.iter().map(|t| json!({
                "status": t.status.as_str(),
                "at": rfc3339(t.at),
            })).collect::<Vec<_>>(),
            "refund_amount": state.amount.map(|a| a.minor()),
            "instructions": instructions(state.status.as_str()),
        }))
    }

    /// The order behind `proof`, or the same 404 for a malformed number, an unknown
    /// order, a wrong email and an order that was never placed, after the same time.
    async fn prove(&self, proof: &OrderProof) -> Result<ProvenOrder, ApiError> {
        const UNKNOWN: ApiError =
            ApiError::NotFound("no order with this number and email; check both and try again");
        let started = Instant::now();
        let number = proof.order_number.trim().to_uppercase();
        let order = match gapless_domain::orders::OrderNumber::parse(&number) {
            Ok(number) => self.store.returnable_order(number.as_str()).await?,
            Err(_) => None,
        };
        let catalog = self.store.catalog().await?;
        let proven = match (order, catalog) {
            (Some(order), Some(catalog))
                if order
                    .email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(proof.email.trim())) =>
            {
                Some(proven(order, &catalog)?)
            }
            _ => None,
        };
        pad(started).await;
        proven.ok_or(UNKNOWN)
    }
}

/// Waits out the rest of [`LOOKUP_FLOOR`].
async fn pad(started: Instant) {
    if let Some(rest) = LOOKUP_FLOOR.checked_sub(started.elapsed()) {
        tokio::time::sleep(rest).await;
    }
}

fn proven(order: ReturnableOrder, catalog: &Catalog) -> Result<ProvenOrder, ApiError> {
    let currency = Currency::parse(&order.currency)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("order currency: {e}")))?;
    let confirmed_at = order.confirmed_at.ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!("order {} has no confirmation time", order.number))
    })?;
    let lines = order
        .lines
        .iter()
        .map(|line| {
            let sku = Sku::parse(&line.sku)
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored sku: {e}")))?;
            // Flags as the catalog has them now; a product no longer sold keeps the
            // shop's default window.
            let product = catalog.products.iter().find(|p| p.sku == sku);
            Ok(BoughtLine {
                sku,
                name: line.name.clone(),
                quantity: line.quantity,
                unit_price: Money(line.unit_price),
                final_sale: product.is_some_and(|p| p.final_sale),
                return_days: product.and_then(|p| p.return_days),
                already_requested: line.claimed,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let dates = OrderDates { confirmed_at, delivered_at: order.delivered_at };
    Ok(ProvenOrder { order, lines, dates, currency })
}

fn new_return(
    order: &ReturnableOrder,
    email: &str,
    rma: &RmaCode,
    decision: &ReturnDecision,
    now: OffsetDateTime,
) -> Result<NewReturn, ApiError> {
    let events = ReturnEvent::opening(decision, Actor::Customer, now)
        .iter()
        .map(|event| {
            Ok(ReturnEventWrite {
                id: new_id(),
                event_type: event.kind().to_owned(),
                schema_version: RETURN_EVENT_SCHEMA_VERSION,
                payload: serde_json::to_value(event)?,
                actor: actor_name(event.actor()),
                at: now,
            })
        })
        .collect::<Result<Vec<_>, serde_json::Error>>()
        .context("serializing return events")
        .map_err(ApiError::Internal)?;
    let items = decision
        .items
        .iter()
        .map(|item| ReturnItemWrite {
            line: item.line as u32,
            sku: item.sku.to_string(),
            quantity: item.quantity,
            reason: item.reason.as_str().to_owned(),
            comment: item.comment.clone(),
            decision: item.decision.outcome.as_str().to_owned(),
            rule: item.decision.rule.as_str().to_owned(),
            message: item.decision.message.clone(),
            value: item.value.minor(),
            restocking_fee: item.restocking_fee.minor(),
        })
        .collect();
    Ok(NewReturn {
        id: new_id(),
        rma: rma.as_str().to_owned(),
        order_id: order.order_id.clone(),
        email: email.to_owned(),
        resolution: decision.resolution.as_str().to_owned(),
        status: decision.outcome().as_str().to_owned(),
        requested_at: now,
        items,
        events,
        claims: decision.claimed_units().map(|(line, quantity)| (line as u32, quantity)).collect(),
    })
}

fn actor_name(actor: &Actor) -> String {
    match actor {
        Actor::Customer => "customer".into(),
        Actor::Staff { id } => format!("staff:{id}"),
        Actor::System => "system".into(),
    }
}

/// The `201` body of CONTRACTS §4.
fn created(rma: &RmaCode, decision: &ReturnDecision) -> Value {
    let status = decision.outcome().as_str();
    json!({
        "rma": rma.as_str(),
        "status": status,
        "items": decision.items.iter().map(|item| json!({
            "line": item.line,
            "quantity": item.quantity,
            "decision": item.decision.outcome.as_str(),
            "reason": item.decision.message,
            "rule": item.decision.rule.as_str(),
            "restocking_fee": item.restocking_fee.minor(),
        })).collect::<Vec<_>>(),
        "instructions": instructions(status),
    })
}

/// What the customer does next, in words.
fn instructions(status: &str) -> &'static str {
    match status {
        "approved" => "Pack the approved items with a note of your RMA code and send them back within 14 days. We refund as soon as they arrive.",
        "in_review" => "A member of our team will look at your request within two working days. You will find the answer on this page.",
        "rejected" => "None of the items can be returned; each item says why.",
        "received" => "We have your parcel and are checking the items.",
        "refunded" | "credited" | "exchanged" => "This return is complete.",
        "cancelled" => "This return was cancelled.",
        _ => "",
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
