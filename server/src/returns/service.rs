//! One returns request with its I/O. The decisions are the pure engine's; this file finds
//! the order (without telling a wrong email from an unknown order), gathers what the
//! engine needs, and writes the return with its events in one transaction, deciding
//! again when a concurrent request claimed the same units first.

use std::{sync::Arc, time::Instant};

use anyhow::Context;
use gapless_api::returns::{
    instructions, CreatedItem, CycleTimes, Lookup, LookupLine, ReturnCreated, ReturnItemView,
    ReturnList, ReturnListEntry, ReturnView, SecondsPercentiles, TimelineEntry,
};
use gapless_domain::{
    catalog::Catalog,
    money::{Currency, Money},
    orders::{ExchangeRef, OrderEvent, OrderNumber, OrderState, OrderStatus, PaymentStatus},
    returns::{
        cycle_time, decide, exchange_options, plan_exchanges, replacement_order, report,
        restocked_units, returnable, Actor, BoughtChoices, BoughtLine, Disposition,
        ItemDisposition, OrderDates, Outcome, Percentiles, ReplacementError, ReplacementItem,
        Resolution, ReturnDecision, ReturnEvent, ReturnPolicy, ReturnRequest, ReturnState,
        ReturnStatus, RmaCode, RETURN_EVENT_SCHEMA_VERSION,
    },
    sku::Sku,
};
use gapless_store::{
    new_id, new_ordered_id, NewReturn, OrderWrite, ReturnEventWrite, ReturnItemWrite, ReturnUpdate,
    ReturnableOrder, Store, StoreError,
};
use serde_json::Value;
use time::OffsetDateTime;

use super::error::ReturnsError;
use crate::{
    lookups::pad,
    orders::order_write,
    payments::{
        refund::{send_refund, RefundRequest},
        Payments,
    },
};

/// Tries when concurrent requests keep claiming the same units first.
const ATTEMPTS: usize = 5;

pub use gapless_api::returns::OrderProof;

/// Where the service reads the time: the system clock, or a controlled one in tests.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

pub struct ReturnsService {
    store: Arc<dyn Store>,
    policy: ReturnPolicy,
    clock: Clock,
    /// With `GAPLESS_PAYMENTS=stripe`: refunds of paid orders go back through Stripe.
    payments: Option<Arc<Payments>>,
}

/// What staff record on a return: `POST /api/v1/staff/returns/{rma}/events`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffAction {
    /// `approved`, `rejected`, `received`, `refunded`, `exchanged`, `credited`, `cancelled`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Minor units, for `refunded` and `credited`; defaults to, and is capped at, what
    /// the items coming back are worth minus restocking fees.
    #[serde(default)]
    pub amount: Option<i64>,
    /// Required for an amount above what is due (never above what was paid); audited
    /// with the event.
    #[serde(default)]
    pub override_reason: Option<String>,
    /// For `received`: `restock` or `discard` per order line; lines not named get the
    /// policy's default for their reason.
    #[serde(default)]
    pub dispositions: Vec<ItemDisposition>,
    /// For `received`: the disposition of every line not named in `dispositions`,
    /// instead of the policy's default.
    #[serde(default)]
    pub disposition: Option<Disposition>,
    #[serde(default)]
    pub note: Option<String>,
}

/// An order the customer proved, with what the engine needs about it.
struct ProvenOrder {
    order: ReturnableOrder,
    lines: Vec<BoughtLine>,
    /// Per line, what was chosen: what an exchange starts from.
    bought: Vec<BoughtChoices>,
    dates: OrderDates,
    currency: Currency,
    catalog: Catalog,
}

impl ReturnsService {
    pub fn new(store: Arc<dyn Store>, policy: ReturnPolicy) -> Self {
        Self::with_clock(store, policy, Arc::new(OffsetDateTime::now_utc))
    }

    pub fn with_clock(store: Arc<dyn Store>, policy: ReturnPolicy, clock: Clock) -> Self {
        ReturnsService { store, policy, clock, payments: None }
    }

    /// Refunds on returns of orders paid through `payments` send the money back there
    /// before they are recorded.
    pub fn with_payments(mut self, payments: Option<Arc<Payments>>) -> Self {
        self.payments = payments;
        self
    }

    fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }

    pub fn policy(&self) -> &ReturnPolicy {
        &self.policy
    }

    /// `POST /api/v1/returns/lookup`: the order's lines with what can still come back.
    pub async fn lookup(&self, proof: &OrderProof) -> Result<Lookup, ReturnsError> {
        let proven = self.prove(proof).await?;
        let now = self.now();
        let verdicts = returnable(&proven.lines, &self.policy, &proven.dates, now);
        let stock = if self.policy.allows(Resolution::Exchange) {
            Some(self.store.stock_levels().await?)
        } else {
            None
        };
        let lines = proven
            .order
            .lines
            .iter()
            .zip(&verdicts)
            .zip(&proven.bought)
            .map(|((line, verdict), bought)| LookupLine {
                line: verdict.line as u32,
                sku: line.sku.clone(),
                name: line.name.clone(),
                quantity: line.quantity,
                unit_price: line.unit_price,
                choices: bought.choices.clone(),
                returnable_quantity: verdict.returnable_quantity,
                return_by: verdict.return_by,
                reason: verdict.reason,
                message: verdict.reason.and(verdict.message.clone()),
                exchange_options: match (&stock, verdict.returnable_quantity > 0) {
                    (Some(stock), true) => Some(
                        exchange_options(&proven.catalog, bought, stock)
                            .into_iter()
                            .map(Into::into)
                            .collect(),
                    ),
                    _ => None,
                },
            })
            .collect();
        Ok(Lookup {
            order_number: proven.order.number.clone(),
            currency: proven.currency.to_string(),
            // Return windows count from here when it is known.
            delivered_at: proven.dates.delivered_at,
            lines,
            reasons: self.policy.reason_choices().into_iter().map(Into::into).collect(),
            resolutions: self.policy.resolutions.clone(),
        })
    }

    /// `POST /api/v1/returns`: decides every item and records the return.
    pub async fn request(
        &self,
        proof: &OrderProof,
        request: &ReturnRequest,
    ) -> Result<ReturnCreated, ReturnsError> {
        for _ in 0..ATTEMPTS {
            let proven = self.prove(proof).await?;
            let now = self.now();
            let email = proof.email.trim().to_lowercase();
            let since = self.policy.customer_limit.counted_since(now);
            let recent = self.store.recent_returns(&email, since).await?;
            let mut decision =
                decide(&self.policy, &proven.lines, &proven.dates, recent, now, request)?;
            self.plan_exchanges(&proven, request, &mut decision).await?;
            let rma = RmaCode::from_random(uuid::Uuid::new_v4().as_u64_pair().0);
            let mut new = new_return(&proven.order, &email, &rma, &decision, now)?;
            // Under the limit, the decision relies on staying under it: the store counts
            // again inside the write, so parallel requests cannot all slip through.
            let limit = self.policy.customer_limit.returns;
            (new.counted_since, new.max_recent) = (since, (recent < limit).then(|| limit - 1));
            match self.store.create_return(&new).await {
                Ok(()) => return Ok(created(&rma, &decision)),
                // Another request took these units, or the code, first: decide again.
                Err(StoreError::OverClaimed { .. } | StoreError::Conflict(_)) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(ReturnsError::Busy)
    }

    /// Checks each item's exchange wish and writes the replacement's choices into the
    /// decision; refuses the whole request when a wish cannot be met.
    async fn plan_exchanges(
        &self,
        proven: &ProvenOrder,
        request: &ReturnRequest,
        decision: &mut ReturnDecision,
    ) -> Result<(), ReturnsError> {
        let wishes = request.items.iter().any(|item| item.exchange.is_some());
        if request.resolution != Resolution::Exchange && !wishes {
            return Ok(());
        }
        let stock = self.store.stock_levels().await?;
        let planned = plan_exchanges(&proven.catalog, &stock, &proven.bought, request, decision)?;
        for (item, choices) in decision.items.iter_mut().zip(planned) {
            item.exchange = choices;
        }
        Ok(())
    }

    /// `GET /api/v1/returns/{rma}` (the email in `Customer-Email`): the return, its status
    /// and timeline, or the same 404 after the same time for a wrong code or email.
    pub async fn status(&self, rma: &str, email: &str) -> Result<ReturnView, ReturnsError> {
        const UNKNOWN: ReturnsError = ReturnsError::UnknownReturn;
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
        self.render(&row).await
    }

    async fn render(&self, row: &gapless_store::ReturnRow) -> Result<ReturnView, ReturnsError> {
        let order = self.store.returnable_order(&row.order_number).await?;
        render(row, order.as_ref())
    }

    /// Staff record what happened to a return (received, refunded, …); the state machine
    /// decides whether it may happen now. Rejecting or cancelling gives the units back.
    pub async fn record(
        &self,
        rma: &str,
        action: &StaffAction,
        staff_id: &str,
    ) -> Result<ReturnView, ReturnsError> {
        const UNKNOWN: ReturnsError = ReturnsError::UnknownRma;
        let rma = RmaCode::parse(rma.trim()).map_err(|_| UNKNOWN)?;
        for _ in 0..ATTEMPTS {
            let row = self.store.return_by_rma(rma.as_str()).await?.ok_or(UNKNOWN)?;
            let mut state = fold(&row)?;
            let at = self.now();
            let actor = Actor::Staff { id: staff_id.to_owned() };
            let dispositions =
                state.dispositions(&self.policy, &action.dispositions, action.disposition);
            let mut event = staff_event(action, &state, dispositions, at, actor.clone())?;
            // Whether the event may happen at all, before an exchange builds its order.
            state.clone().apply(&event)?;
            let restock = match &event {
                ReturnEvent::Received { dispositions, .. } => {
                    self.restock(&row, &state, dispositions).await?
                }
                _ => Vec::new(),
            };
            let replacement = match &mut event {
                ReturnEvent::Exchanged { replacement, .. } => {
                    let (number, write) = self.replacement(&row, &state, &actor).await?;
                    *replacement = Some(number.as_str().to_owned());
                    Some(write)
                }
                _ => None,
            };
            state.apply(&event)?;
            let order_refund = match &event {
                ReturnEvent::Refunded { amount, .. } => {
                    let request = RefundRequest {
                        order_number: &row.order_number,
                        rma: rma.as_str(),
                        return_id: &row.id,
                        return_seq: row.version + 1,
                        amount: *amount,
                        at,
                    };
                    send_refund(self.store.as_ref(), self.payments.as_deref(), &request).await?
                }
                _ => None,
            };
            let release =
                if matches!(state.status, ReturnStatus::Rejected | ReturnStatus::Cancelled) {
                    state
                        .items
                        .iter()
                        .filter(|item| item.decision.outcome != Outcome::Rejected)
                        .map(|item| (item.line as u32, item.quantity))
                        .collect()
                } else {
                    Vec::new()
                };
            let update = ReturnUpdate {
                return_id: row.id.clone(),
                expected_version: row.version,
                events: vec![event_write(&event, at)?],
                status: state.status,
                release,
                refund_amount: state.amount.map(|a| a.minor()),
                at,
                replacement,
                order_refund,
                restock,
            };
            match self.store.update_return(&update).await {
                Ok(()) => {
                    let row = self.store.return_by_rma(rma.as_str()).await?.ok_or(UNKNOWN)?;
                    return self.render(&row).await;
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(StoreError::OutOfStock { .. }) => return Err(ReturnsError::ReplacementSoldOut),
                Err(other) => return Err(other.into()),
            }
        }
        Err(ReturnsError::Busy)
    }

    /// The units a receipt puts back on sale, by the keys of the lines as bought.
    async fn restock(
        &self,
        row: &gapless_store::ReturnRow,
        state: &ReturnState,
        dispositions: &[ItemDisposition],
    ) -> Result<Vec<(gapless_domain::stock::StockKey, u32)>, ReturnsError> {
        let catalog = self.store.catalog().await?.ok_or(ReturnsError::NoCatalog)?;
        let Some(order) = self.store.returnable_order(&row.order_number).await? else {
            return Ok(Vec::new());
        };
        let bought = bought_choices(&order)?;
        Ok(restocked_units(&catalog, state, &bought, dispositions))
    }

    /// The order that ships an exchange's replacement: the items not rejected, in the
    /// sizes and colours the customer chose, to the original order's customer and
    /// address, confirmed with its stock reserved (checked again when it is written).
    async fn replacement(
        &self,
        row: &gapless_store::ReturnRow,
        state: &ReturnState,
        actor: &Actor,
    ) -> Result<(OrderNumber, OrderWrite), ReturnsError> {
        let catalog = self.store.catalog().await?.ok_or(ReturnsError::NoCatalog)?;
        let items: Vec<ReplacementItem> = state
            .items
            .iter()
            .filter(|item| item.decision.outcome != Outcome::Rejected)
            .filter_map(|item| {
                Some(ReplacementItem {
                    sku: item.sku.clone(),
                    quantity: item.quantity,
                    choices: item.exchange.clone()?,
                })
            })
            .collect();
        let events = self
            .store
            .order_events(&row.order_id)
            .await?
            .into_iter()
            .map(|e| serde_json::from_value::<OrderEvent>(e.payload))
            .collect::<Result<Vec<_>, _>>()
            .context("reading the original order's events")
            .map_err(ReturnsError::Internal)?;
        let original = OrderState::fold(catalog.currency, &events)
            .context("folding the original order")
            .map_err(ReturnsError::Internal)?;
        let stock = self.store.stock_levels().await?;
        let exchange = ExchangeRef { rma: row.rma.clone(), original: row.order_number.clone() };
        let (events, order) = replacement_order(
            &catalog,
            &stock,
            exchange,
            &items,
            &original.customer,
            original.shipping_address.as_ref(),
        )
        .map_err(|e| match e {
            ReplacementError::Event(cause) => ReturnsError::Internal(
                anyhow::Error::new(cause).context("building the replacement"),
            ),
            refused => ReturnsError::Replacement(refused),
        })?;
        let number = OrderNumber::from_sequence(self.store.next_order_number().await?);
        let write = order_write(new_ordered_id(), 0, &number, &events, &order, &actor_name(actor))?;
        Ok((number, write))
    }

    /// Returns newest first, optionally of one status (`in_review` is the review queue).
    pub async fn list(&self, status: Option<&str>) -> Result<ReturnList, ReturnsError> {
        let status = status
            .map(|text| {
                ReturnStatus::ALL
                    .into_iter()
                    .find(|s| s.as_str() == text)
                    .ok_or_else(|| ReturnsError::UnknownStatus(text.to_owned()))
            })
            .transpose()?;
        let rows = self.store.list_returns(status.map(ReturnStatus::as_str), 200).await?;
        let stored = |what: &str, text: &str| {
            ReturnsError::Internal(anyhow::anyhow!(
                "a stored return has the unknown {what} {text:?}"
            ))
        };
        let returns = rows
            .iter()
            .map(|r| {
                Ok(ReturnListEntry {
                    rma: r.rma.clone(),
                    order_number: r.order_number.clone(),
                    email: r.email.clone(),
                    status: r.status,
                    resolution: Resolution::parse(&r.resolution)
                        .ok_or_else(|| stored("resolution", &r.resolution))?,
                    requested_at: r.requested_at,
                    updated_at: r.updated_at,
                })
            })
            .collect::<Result<Vec<_>, ReturnsError>>()?;
        Ok(ReturnList { returns })
    }

    /// Refund cycle times of the returns completed in the last `days` days: request →
    /// refund and receipt → refund, p50 and p90 (nearest rank), in seconds.
    pub async fn cycle_times(&self, days: u32) -> Result<CycleTimes, ReturnsError> {
        if !(1..=3660).contains(&days) {
            return Err(ReturnsError::BadPeriod);
        }
        let to = self.now();
        let from = to - time::Duration::days(i64::from(days));
        // `to` is exclusive: include what completed at this very instant.
        let until = to + time::Duration::microseconds(1);
        let mut cycles = Vec::new();
        for events in self.store.completed_return_events(from, until).await? {
            let events = events
                .iter()
                .map(|e| serde_json::from_value::<ReturnEvent>(e.payload.clone()))
                .collect::<Result<Vec<_>, _>>()
                .context("reading stored return events")
                .map_err(ReturnsError::Internal)?;
            if let Some(cycle) = cycle_time(&events)
                .context("folding stored return events")
                .map_err(ReturnsError::Internal)?
            {
                cycles.push(cycle);
            }
        }
        let report = report(&cycles, from, until);
        let seconds = |p: Option<Percentiles>| {
            p.map(|p| SecondsPercentiles {
                p50: p.p50.as_seconds_f64(),
                p90: p.p90.as_seconds_f64(),
            })
        };
        Ok(CycleTimes {
            from,
            to,
            returns: report.returns,
            request_to_refund_seconds: seconds(report.request_to_refund),
            receipt_to_refund_seconds: seconds(report.receipt_to_refund),
        })
    }

    /// The order behind `proof`, or the same 404 for a malformed number, an unknown
    /// order, a wrong email and an order that was never placed, after the same time.
    async fn prove(&self, proof: &OrderProof) -> Result<ProvenOrder, ReturnsError> {
        const UNKNOWN: ReturnsError = ReturnsError::UnknownOrder;
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
                Some(proven(order, catalog)?)
            }
            _ => None,
        };
        pad(started).await;
        proven.ok_or(UNKNOWN)
    }
}

fn fold(row: &gapless_store::ReturnRow) -> Result<ReturnState, ReturnsError> {
    let events = row
        .events
        .iter()
        .map(|e| serde_json::from_value::<ReturnEvent>(e.payload.clone()))
        .collect::<Result<Vec<_>, _>>()
        .context("reading stored return events")
        .map_err(ReturnsError::Internal)?;
    ReturnState::fold(&events)
        .context("folding stored return events")
        .map_err(ReturnsError::Internal)
}

/// A return as `GET /api/v1/returns/{rma}` shows it.
/// `order` gives the items their names and the amounts their currency.
pub(crate) fn render(
    row: &gapless_store::ReturnRow,
    order: Option<&ReturnableOrder>,
) -> Result<ReturnView, ReturnsError> {
    let state = fold(row)?;
    let name = |line: usize| {
        order.and_then(|o| o.lines.iter().find(|l| l.line as usize == line)).map(|l| l.name.clone())
    };
    Ok(ReturnView {
        rma: row.rma.clone(),
        order_number: row.order_number.clone(),
        currency: order.map(|o| o.currency.clone()),
        status: state.status,
        resolution: state.resolution,
        items: state
            .items
            .iter()
            .map(|item| ReturnItemView {
                line: item.line as u32,
                sku: item.sku.to_string(),
                name: name(item.line),
                quantity: item.quantity,
                reason: item.reason.as_str().to_owned(),
                decision: item.decision.outcome,
                rule: item.decision.rule,
                message: item.decision.message.clone(),
                value: item.value.minor(),
                restocking_fee: item.restocking_fee.minor(),
                exchange: item.exchange.clone(),
                disposition: state
                    .dispositions
                    .iter()
                    .find(|d| d.line == item.line)
                    .map(|d| d.disposition),
            })
            .collect(),
        replacement_order: state.replacement.as_ref().map(ToString::to_string),
        timeline: state
            .timeline
            .iter()
            .map(|t| TimelineEntry { status: t.status, at: t.at })
            .collect(),
        refund_amount: state.amount.map(|a| a.minor()),
        instructions: instructions(state.status.as_str()).to_owned(),
    })
}

/// The event a staff action stands for.
fn staff_event(
    action: &StaffAction,
    state: &ReturnState,
    dispositions: Vec<ItemDisposition>,
    at: OffsetDateTime,
    actor: Actor,
) -> Result<ReturnEvent, ReturnsError> {
    let trimmed = |text: &Option<String>| {
        text.as_ref().map(|n| n.trim().to_owned()).filter(|n| !n.is_empty())
    };
    let note = trimmed(&action.note);
    let override_reason = trimmed(&action.override_reason);
    // What the items coming back are worth, less restocking fees: the default refund.
    let amount = action.amount.map(Money).unwrap_or_else(|| state.due());
    Ok(match action.kind.as_str() {
        "approved" => ReturnEvent::Approved { at, actor, note },
        "rejected" => ReturnEvent::Rejected { at, actor, note },
        "received" => ReturnEvent::Received { at, actor, dispositions },
        "refunded" => ReturnEvent::Refunded { at, actor, amount, override_reason },
        // The replacement order's number is filled in once the order is built.
        "exchanged" => ReturnEvent::Exchanged { at, actor, replacement: None },
        "credited" => ReturnEvent::Credited { at, actor, amount, override_reason },
        "cancelled" => ReturnEvent::Cancelled { at, actor, note },
        other => return Err(ReturnsError::UnknownAction(other.to_owned())),
    })
}

fn event_write(event: &ReturnEvent, at: OffsetDateTime) -> Result<ReturnEventWrite, ReturnsError> {
    Ok(ReturnEventWrite {
        id: new_id(),
        event_type: event.kind().to_owned(),
        schema_version: RETURN_EVENT_SCHEMA_VERSION,
        payload: serde_json::to_value(event)
            .context("serializing a return event")
            .map_err(ReturnsError::Internal)?,
        actor: actor_name(event.actor()),
        at,
    })
}

fn proven(order: ReturnableOrder, catalog: Catalog) -> Result<ProvenOrder, ReturnsError> {
    let currency = Currency::parse(&order.currency)
        .map_err(|e| ReturnsError::Internal(anyhow::anyhow!("order currency: {e}")))?;
    let confirmed_at = order.confirmed_at.ok_or_else(|| {
        ReturnsError::Internal(anyhow::anyhow!("order {} has no confirmation time", order.number))
    })?;
    let lines = order
        .lines
        .iter()
        .map(|line| {
            let sku = Sku::parse(&line.sku)
                .map_err(|e| ReturnsError::Internal(anyhow::anyhow!("stored sku: {e}")))?;
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
        .collect::<Result<Vec<_>, ReturnsError>>()?;
    let bought = bought_choices(&order)?;
    let dates = OrderDates {
        confirmed_at,
        delivered_at: order.delivered_at,
        cancelled: order.status == OrderStatus::Cancelled,
        unpaid: order.payment_status == PaymentStatus::Pending,
    };
    Ok(ProvenOrder { order, lines, bought, dates, currency, catalog })
}

/// Per order line, what was chosen: what an exchange starts from and what a restock
/// counts against.
fn bought_choices(order: &ReturnableOrder) -> Result<Vec<BoughtChoices>, ReturnsError> {
    order
        .lines
        .iter()
        .map(|line| {
            Ok(BoughtChoices {
                sku: Sku::parse(&line.sku)
                    .map_err(|e| anyhow::anyhow!("stored sku {:?}: {e}", line.sku))?,
                choices: match &line.choices {
                    Value::Null => Vec::new(),
                    choices => serde_json::from_value(choices.clone())
                        .with_context(|| format!("stored choices of {}", line.sku))?,
                },
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(ReturnsError::Internal)
}

fn new_return(
    order: &ReturnableOrder,
    email: &str,
    rma: &RmaCode,
    decision: &ReturnDecision,
    now: OffsetDateTime,
) -> Result<NewReturn, ReturnsError> {
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
        .map_err(ReturnsError::Internal)?;
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
        status: decision.outcome().into(),
        requested_at: now,
        items,
        events,
        claims: decision.claimed_units().map(|(line, quantity)| (line as u32, quantity)).collect(),
        counted_since: now,
        max_recent: None,
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
fn created(rma: &RmaCode, decision: &ReturnDecision) -> ReturnCreated {
    let status = decision.outcome();
    ReturnCreated {
        rma: rma.as_str().to_owned(),
        status,
        items: decision
            .items
            .iter()
            .map(|item| CreatedItem {
                line: item.line as u32,
                quantity: item.quantity,
                decision: item.decision.outcome,
                reason: item.decision.message.clone(),
                rule: item.decision.rule,
                restocking_fee: item.restocking_fee.minor(),
                exchange: item.exchange.clone(),
            })
            .collect(),
        instructions: instructions(status.as_str()).to_owned(),
    }
}
