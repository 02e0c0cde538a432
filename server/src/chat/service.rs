//! One chat turn with its I/O: read the conversation, its order (folded from events)
//! and stock; run the pure turn (`gapless_domain::chat::turn`); answer side requests
//! (order status); write everything in one transaction; retry when a concurrent writer
//! got there first.
//!
//! With an LLM configured (`GAPLESS_EXTRACTOR=llm|shadow`) the model is asked once per
//! message, before the first attempt's validation; a retry after a lost race validates
//! the same proposal against the fresh order instead of asking again.

use std::{
    sync::{Arc, RwLock},
    time::Instant,
};

use anyhow::Context;
use gapless_domain::{
    catalog::Catalog,
    chat::{
        command::Command,
        message,
        turn::{
            order_status_answer, payment, take_turn, take_turn_with, CancelBlock, SideRequest,
            TurnInput, TurnOutcome,
        },
        AgentChannel, Extraction, Extractor, RulesExtractor,
    },
    money::Money,
    orders::{
        OrderEvent, OrderNumber, OrderState, OrderStatus, OrderView, PaymentStatus, ProviderId,
    },
    staff_metrics::Outcome,
};
use gapless_store::{
    new_id, new_ordered_id, ConversationRow, NewConversation, Store, StoreError, TurnWrite,
};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::error::ChatError;
use super::llm::{ExtractorMode, LlmExtractor, Proposal};
use crate::{
    lookups,
    lookups::LookupLimiter,
    metrics::LlmMetrics,
    orders::order_write,
    payments::{refund::refund_cancelled, token::TokenCharge, Payments},
};

pub use gapless_domain::chat::message::MAX_MESSAGE_CHARS;
/// Tries per turn when concurrent writers keep winning the race.
const ATTEMPTS: usize = 5;
/// How long a cached catalog is used without asking the database whether a new one was
/// imported: an import reaches the chat within this time, and a turn saves a query.
const CATALOG_RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// The catalog and the extractor index built from it, rebuilt when an import is seen.
pub struct CatalogSnapshot {
    imported_at: OffsetDateTime,
    /// When `imported_at` was last confirmed against the database.
    checked: std::sync::Mutex<Instant>,
    pub catalog: Catalog,
    pub extractor: RulesExtractor,
}

/// An order as its events leave it, and the seq of the last one.
/// What the payment provider must do once a turn's cancellation is stored.
enum PaymentFollowUp {
    /// The order was cancelled unpaid: its payment link ends.
    EndLink(ProviderId),
    /// The order was cancelled paid: the money goes back.
    Refund(OrderNumber),
}

struct FoldedOrder {
    order: OrderState,
    version: u32,
}

pub struct ChatService {
    store: Arc<dyn Store>,
    snapshot: RwLock<Option<Arc<CatalogSnapshot>>>,
    llm: Option<LlmChat>,
    /// The limits of "where is my order", shared with the returns lookups; none in
    /// tools that run the chat offline (demo seeding).
    lookups: Option<Arc<LookupLimiter>>,
    /// Customer email is set up: the confirmation promises updates by mail.
    emails_customer: bool,
    /// With `GAPLESS_PAYMENTS=stripe`: confirmation asks for a payment link.
    payments: Option<Arc<Payments>>,
}

/// The model side of the chat: `llm` or `shadow` mode with its extractor.
#[derive(Clone)]
pub struct LlmChat {
    pub mode: ExtractorMode,
    pub extractor: LlmExtractor,
    pub metrics: Option<LlmMetrics>,
}

/// The turn decided, and by which extractor.
struct Decided {
    outcome: TurnOutcome,
    /// What the staff timeline shows: `rules`, `llm`, `llm→rules` or `rules+shadow`.
    extractor: Extractor,
    llm_audit: Option<Value>,
}

/// What a confirmation would answer now ([`ChatService::confirm_preview`]).
#[derive(Debug, Clone)]
pub struct ConfirmPreview {
    /// The order could be placed as it stands.
    pub ready: bool,
    pub notes: Vec<gapless_domain::chat::turn::TurnNote>,
}

pub use gapless_api::chat::TurnResponse;
use gapless_api::{
    chat::{Conversation, ConversationMessage, Note, Order, Role},
    staff::{AuditEventRef, AuditExtraction, AuditTimings, TurnAudit},
};

/// Where a turn's commands come from.
#[derive(Debug, Clone, Copy)]
pub enum TurnSource<'a> {
    /// A shopper's message, read by the extractor the mode picks.
    Message,
    /// Commands an agent sent already typed (MCP, ACP): validated as they are, with no
    /// extractor and no model. `channel` is what the staff timeline shows as the
    /// extractor. A turn that places the order is paid with `charge` (an agent's
    /// delegated payment token) when there is one, instead of a payment link.
    Commands { extraction: &'a Extraction, channel: AgentChannel, charge: Option<&'a TokenCharge> },
}

impl ChatService {
    pub fn new(store: Arc<dyn Store>) -> Self {
        ChatService::with_llm(store, None)
    }

    /// `llm` is `None` in `rules` mode.
    pub fn with_llm(store: Arc<dyn Store>, llm: Option<LlmChat>) -> Self {
        let llm = llm.filter(|llm| llm.mode.uses_model());
        ChatService {
            store,
            snapshot: RwLock::new(None),
            llm,
            lookups: None,
            emails_customer: false,
            payments: None,
        }
    }

    /// The shop emails customers (GAPLESS_SMTP_URL is set): the chat may promise mail.
    pub fn with_customer_email(mut self, on: bool) -> Self {
        self.emails_customer = on;
        self
    }

    /// Confirmations ask `payments` for a payment link (none: orders are confirmed
    /// unpaid).
    pub fn with_payments(mut self, payments: Option<Arc<Payments>>) -> Self {
        self.payments = payments;
        self
    }

    /// Order status questions spend the budgets of `limiter` (per order number, per
    /// email), the same as the returns lookups.
    pub fn with_lookup_limits(mut self, limiter: Arc<LookupLimiter>) -> Self {
        self.lookups = Some(limiter);
        self
    }

    pub async fn start_conversation(&self, channel: &str) -> Result<String, ChatError> {
        let id = new_id();
        let new = NewConversation {
            id: id.clone(),
            channel: channel.to_owned(),
            started_at: OffsetDateTime::now_utc(),
        };
        self.store.create_conversation(&new).await?;
        Ok(id)
    }

    /// `GET /api/v1/conversations/{id}`: the messages so far and the current order.
    pub async fn conversation(&self, id: &str) -> Result<Conversation, ChatError> {
        let conversation =
            self.store.conversation(id).await?.ok_or(ChatError::UnknownConversation)?;
        let snapshot = self.snapshot().await?;
        let turns = self.store.turns(id).await?;
        let replies = self.store.staff_replies(id).await?;
        let message = |id: &str, role, text: &str, at| ConversationMessage {
            id: id.to_owned(),
            role,
            text: text.to_owned(),
            at,
        };
        let mut messages = Vec::with_capacity(turns.len() * 2 + replies.len());
        for turn in &turns {
            messages.push(message(&turn.id, Role::Shopper, &turn.text, turn.received_at));
            messages.push(message(&turn.id, Role::Assistant, &turn.reply, turn.received_at));
        }
        // What staff wrote after a handoff, in time order among the turns (a stable sort:
        // a reply stays after the message it answers).
        for reply in &replies {
            messages.push(message(&reply.id, Role::Staff, &reply.text, reply.at));
        }
        messages.sort_by_key(|m| m.at);
        let order = match (&conversation.order_id, &conversation.order_number) {
            (Some(order_id), Some(number)) => {
                let state = self.fold_order(order_id, &snapshot.catalog).await?;
                let number = parse_number(number)?;
                Some(Order::from(OrderView { number: &number, order: &state.order }))
            }
            _ => None,
        };
        Ok(Conversation {
            id: conversation.id,
            started_at: conversation.started_at,
            outcome: conversation.outcome.as_str().to_owned(),
            messages,
            order,
        })
    }

    /// The conversation's order as its events leave it, whatever its status, with its
    /// number; `None` before anything was ordered.
    pub async fn order_of(
        &self,
        conversation_id: &str,
    ) -> Result<Option<(OrderNumber, OrderState)>, ChatError> {
        let conversation = self
            .store
            .conversation(conversation_id)
            .await?
            .ok_or(ChatError::UnknownConversation)?;
        let (Some(order_id), Some(number)) = (&conversation.order_id, &conversation.order_number)
        else {
            return Ok(None);
        };
        let snapshot = self.snapshot().await?;
        let folded = self.fold_order(order_id, &snapshot.catalog).await?;
        Ok(Some((parse_number(number)?, folded.order)))
    }

    /// What confirming the conversation's order would answer now, decided by the same
    /// validator and written nowhere: whether it could be placed (the summary or the
    /// order itself would follow) and the notes on what stands in the way.
    pub async fn confirm_preview(
        &self,
        conversation_id: &str,
    ) -> Result<ConfirmPreview, ChatError> {
        let conversation = self
            .store
            .conversation(conversation_id)
            .await?
            .ok_or(ChatError::UnknownConversation)?;
        let snapshot = self.snapshot().await?;
        let (order, number) = self.current_order(&conversation, &snapshot.catalog).await?;
        let stock = self.store.stock_levels().await?;
        let fresh = OrderState::new(snapshot.catalog.currency);
        let before = order.as_ref().map_or(&fresh, |(_, state)| &state.order);
        let input = TurnInput {
            catalog: &snapshot.catalog,
            extractor: &snapshot.extractor,
            stock: &stock,
            order: before,
            message: "",
            order_number: number.as_ref(),
            cancel_block: None,
            emails_customer: self.emails_customer,
        };
        let confirm = Extraction { commands: vec![Command::Confirm], notes: Vec::new() };
        let outcome = take_turn_with(input, confirm);
        let ready = before.status == OrderStatus::Draft
            && outcome.events.iter().any(|event| {
                matches!(event, OrderEvent::SummaryShown { .. } | OrderEvent::Confirmed { .. })
            });
        Ok(ConfirmPreview { ready, notes: outcome.notes })
    }

    /// Takes one shopper message. Replaying an idempotency key returns the first answer.
    pub async fn post_message(
        &self,
        conversation_id: &str,
        text: &str,
        idempotency_key: Option<&str>,
    ) -> Result<TurnResponse, ChatError> {
        check_message(text)?;
        self.turn(conversation_id, text, idempotency_key, TurnSource::Message).await
    }

    /// Takes one turn of commands an agent sent typed: the same validator, write and
    /// audit record as a message, with `text` (what the agent sent, for the timeline)
    /// in place of the shopper's words.
    pub async fn post_commands(
        &self,
        conversation_id: &str,
        text: &str,
        extraction: &Extraction,
        channel: AgentChannel,
    ) -> Result<TurnResponse, ChatError> {
        check_message(text)?;
        let source = TurnSource::Commands { extraction, channel, charge: None };
        self.turn(conversation_id, text, None, source).await
    }

    /// As [`ChatService::post_commands`], but a turn that places the order is paid for
    /// at once with the agent's delegated payment token in `charge` instead of a
    /// payment link; when Stripe says no, the order is not placed and
    /// [`TokenCharge::refusal`] says why. Without payments configured the token is not
    /// used.
    pub async fn post_commands_paying(
        &self,
        conversation_id: &str,
        text: &str,
        extraction: &Extraction,
        channel: AgentChannel,
        charge: &TokenCharge,
    ) -> Result<TurnResponse, ChatError> {
        check_message(text)?;
        let source = TurnSource::Commands { extraction, channel, charge: Some(charge) };
        self.turn(conversation_id, text, None, source).await
    }

    async fn turn(
        &self,
        conversation_id: &str,
        text: &str,
        idempotency_key: Option<&str>,
        source: TurnSource<'_>,
    ) -> Result<TurnResponse, ChatError> {
        let charge = match source {
            TurnSource::Commands { charge, .. } => charge,
            TurnSource::Message => None,
        };
        if let Some(key) = idempotency_key {
            check_key(key)?;
        }
        let received_at = OffsetDateTime::now_utc();
        let mut proposal = None;
        for _ in 0..ATTEMPTS {
            let conversation = self
                .store
                .conversation(conversation_id)
                .await?
                .ok_or(ChatError::UnknownConversation)?;
            if let Some(key) = idempotency_key {
                if let Some(response) = self.store.turn_response(conversation_id, key).await? {
                    return serde_json::from_value(response)
                        .context("reading a stored answer")
                        .map_err(ChatError::Internal);
                }
            }
            let (write, response, follow_up) = self
                .decide_turn(
                    &conversation,
                    text,
                    idempotency_key,
                    received_at,
                    source,
                    &mut proposal,
                )
                .await?;
            let stored = self.store.record_turn(&write).await;
            if let Some(charge) = charge {
                match &stored {
                    Err(StoreError::Conflict(_) | StoreError::OutOfStock { .. }) => {
                        charge.not_written()
                    }
                    Err(StoreError::DuplicateTurn) => charge.not_written(),
                    // Stored, or perhaps stored: money that may be recorded stays.
                    _ => charge.written(),
                }
            }
            match stored {
                Ok(()) => {
                    if let (Some(payments), Some(follow_up)) = (&self.payments, follow_up) {
                        self.follow_up_payment(payments, follow_up).await;
                    }
                    return Ok(response);
                }
                // Someone else wrote first: read again and decide again.
                Err(StoreError::Conflict(_) | StoreError::OutOfStock { .. }) => continue,
                Err(StoreError::DuplicateTurn) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(ChatError::Busy)
    }

    /// What a stored cancellation asks of the payment provider: the open link ends
    /// now, or the money paid goes back. Neither holds the shopper's answer up for
    /// long: ending a link is one quick call (and the link runs out anyway), and the
    /// refund is sent in the background; the payment sweep retries either if it fails.
    async fn follow_up_payment(&self, payments: &Arc<Payments>, follow_up: PaymentFollowUp) {
        match follow_up {
            PaymentFollowUp::EndLink(session) => payments.expire(&session).await,
            PaymentFollowUp::Refund(number) => {
                let (store, payments) = (self.store.clone(), payments.clone());
                tokio::spawn(async move {
                    if let Err(error) = refund_cancelled(store.as_ref(), &payments, &number).await {
                        tracing::warn!(order = %number, %error, "refund of a cancelled order not sent yet");
                    }
                });
            }
        }
    }

    /// Whether a confirmed order has left the shop or has a return open, which a chat
    /// cancellation must not undo (the store checks again when it writes one).
    async fn cancel_block(&self, number: &OrderNumber) -> Result<Option<CancelBlock>, ChatError> {
        let Some(order) = self.store.returnable_order(number.as_str()).await? else {
            return Ok(None);
        };
        Ok(if order.delivered_at.is_some() {
            Some(CancelBlock::Shipped)
        } else if order.lines.iter().any(|line| line.claimed > 0) {
            Some(CancelBlock::ReturnOpen)
        } else {
            None
        })
    }

    /// Reads what one turn needs (catalog, order, stock), decides it with the pure
    /// turn, asks for a payment link when it places the order, answers its side
    /// requests and returns the write, not yet applied, with the payment link to end
    /// once it is (the order was cancelled unpaid).
    async fn decide_turn(
        &self,
        conversation: &ConversationRow,
        text: &str,
        idempotency_key: Option<&str>,
        received_at: OffsetDateTime,
        source: TurnSource<'_>,
        proposal: &mut Option<Proposal>,
    ) -> Result<(TurnWrite, TurnResponse, Option<PaymentFollowUp>), ChatError> {
        let charge = match source {
            TurnSource::Commands { charge, .. } => charge,
            TurnSource::Message => None,
        };
        let started = Instant::now();
        let snapshot = self.snapshot().await?;
        let (order, number) = self.current_order(conversation, &snapshot.catalog).await?;
        let stock = self.store.stock_levels().await?;
        let fresh = OrderState::new(snapshot.catalog.currency);
        let before = order.as_ref().map_or(&fresh, |(_, state)| &state.order);
        let cancel_block = match (&number, before.status) {
            (Some(number), OrderStatus::Confirmed) => self.cancel_block(number).await?,
            _ => None,
        };
        let loaded_ms = started.elapsed().as_secs_f64() * 1000.0;

        let input = TurnInput {
            catalog: &snapshot.catalog,
            extractor: &snapshot.extractor,
            stock: &stock,
            order: before,
            message: text,
            order_number: number.as_ref(),
            cancel_block,
            emails_customer: self.emails_customer,
        };
        let mut model_ms = None;
        if let (Some(llm), None, TurnSource::Message) = (&self.llm, &proposal, source) {
            let asked = llm.extractor.propose(&snapshot.extractor, before, text).await;
            model_ms = Some(asked.run.latency_ms);
            if let (Some(metrics), ExtractorMode::Llm) = (&llm.metrics, llm.mode) {
                metrics.rejected_calls(asked.parsed.rejected.len());
                if let Some(fallback) = &asked.fallback {
                    metrics.fallback(fallback.kind);
                }
            }
            *proposal = Some(asked);
        }
        let turn_started = Instant::now();
        let Decided { mut outcome, extractor, mut llm_audit } = match source {
            TurnSource::Message => self.decide(input, proposal.as_ref()),
            TurnSource::Commands { extraction, channel, .. } => Decided {
                outcome: take_turn_with(input, extraction.clone()),
                extractor: channel.extractor(),
                llm_audit: None,
            },
        };
        let turn_ms = turn_started.elapsed().as_secs_f64() * 1000.0;
        let mut payment_ms = None;
        if let Some(payments) = &self.payments {
            if payment::confirms(&outcome) && outcome.order_after.totals.total > Money::ZERO {
                let started = Instant::now();
                match charge {
                    Some(charge) => {
                        let (order, number) = (&order, number.as_ref());
                        self.charge_token(payments, charge, order, number, before, &mut outcome)
                            .await
                    }
                    None => {
                        self.request_payment(
                            payments,
                            &order,
                            number.as_ref(),
                            before,
                            &mut outcome,
                        )
                        .await
                    }
                }
                payment_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        if order.is_none() {
            self.answer_payment_of_cancelled(conversation, &snapshot.catalog, &mut outcome).await?;
        }
        let cancels = outcome.events.iter().any(|e| matches!(e, OrderEvent::Cancelled { .. }));
        let mut follow_up = (cancels && before.payment.status == PaymentStatus::Pending)
            .then(|| before.payment.session.clone())
            .flatten()
            .map(PaymentFollowUp::EndLink);
        if payment::refund_due(&outcome, before) {
            follow_up = number.clone().map(PaymentFollowUp::Refund);
        }

        let mut base_reply = outcome.reply.clone();
        let mut phrase_ms = None;
        if let (Some(llm), Some(audit), Extractor::Llm) = (&self.llm, llm_audit.as_mut(), extractor)
        {
            if llm.extractor.phrases() {
                let started = Instant::now();
                let phrasing = llm.extractor.phrase(&outcome).await;
                phrase_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
                base_reply = phrasing.reply;
                audit["phrasing"] = phrasing.audit;
            }
        }
        // However the reply was worded, the payment link made this turn is in it.
        let requested =
            outcome.events.iter().any(|e| matches!(e, OrderEvent::PaymentRequested { .. }));
        if let Some(url) = outcome.order_after.payment.url.as_ref().filter(|_| requested) {
            if !base_reply.contains(url.as_str()) {
                base_reply.push_str(&format!(" Please pay here to complete your order: {url}"));
            }
        }
        let (reply, handoff) = self.answer_requests(&outcome, base_reply).await?;
        let (order_write, number) = if outcome.events.is_empty() {
            (None, number)
        } else {
            let (order_id, version, number) = match (&order, number) {
                (Some((order_id, state)), Some(number)) => {
                    (order_id.clone(), state.version, number)
                }
                _ => {
                    let n = self.store.next_order_number().await?;
                    (new_ordered_id(), 0, OrderNumber::from_sequence(n))
                }
            };
            (
                Some(order_write(
                    order_id,
                    version,
                    &number,
                    &outcome.events,
                    &outcome.order_after,
                    "shopper",
                )?),
                Some(number),
            )
        };
        let response = TurnResponse {
            reply: reply.clone(),
            order: number
                .as_ref()
                .map(|number| Order::from(OrderView { number, order: &outcome.order_after })),
            messages: outcome.notes.iter().map(Note::from).collect(),
        };
        let event_refs: Vec<AuditEventRef> = order_write
            .as_ref()
            .map(|w| {
                (w.expected_version + 1..)
                    .zip(&w.events)
                    .map(|(seq, e)| AuditEventRef {
                        id: e.id.clone(),
                        seq,
                        kind: e.event_type.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let confirmed = outcome.events.iter().any(|e| matches!(e, OrderEvent::Confirmed { .. }));
        let audit = TurnAudit {
            extractor: extractor.as_str().to_owned(),
            extraction: AuditExtraction {
                commands: audit_part(&outcome.extraction.commands)?,
                notes: audit_part(&outcome.extraction.notes)?,
            },
            validations: audit_part(&outcome.validations)?,
            requests: audit_part(&outcome.requests)?,
            events: event_refs,
            order_after: audit_part(&outcome.order_after)?,
            timings_ms: Some(AuditTimings {
                load: loaded_ms,
                model: model_ms,
                turn: turn_ms,
                payment: payment_ms,
                phrase: phrase_ms,
            }),
            llm: llm_audit,
        };
        let write = TurnWrite {
            conversation_id: conversation.id.clone(),
            turn_id: new_ordered_id(),
            seq: conversation.turn_count + 1,
            text: text.to_owned(),
            received_at,
            idempotency_key: idempotency_key.map(str::to_owned),
            extractor,
            audit: audit_part(&audit)?,
            reply: reply.clone(),
            response: stored_answer(&response, idempotency_key.is_some())?,
            outcome: if confirmed {
                Some(Outcome::Ordered)
            } else if handoff {
                Some(Outcome::HandedOff)
            } else {
                None
            },
            handoff,
            order: order_write,
        };
        Ok((write, response, follow_up))
    }

    /// "Did my payment go through?" after the conversation's order was called off (the
    /// link ran out, or the shopper cancelled): the turn starts afresh without that
    /// order, so the answer comes from its events here.
    async fn answer_payment_of_cancelled(
        &self,
        conversation: &ConversationRow,
        catalog: &Catalog,
        outcome: &mut TurnOutcome,
    ) -> Result<(), ChatError> {
        let asks = outcome.extraction.commands.iter().any(|command| {
            matches!(command, Command::PaymentStatus { order_number: None, email: None })
        });
        let (true, Some(order_id)) = (asks, &conversation.order_id) else {
            return Ok(());
        };
        let last = self.fold_order(order_id, catalog).await?.order;
        if last.status == OrderStatus::Cancelled {
            outcome.reply = payment::payment_answer(&last.payment, &last);
        }
        Ok(())
    }

    /// Adds the payment link to a turn that places the order, or takes the
    /// confirmation back when Stripe cannot give one: an order nobody can pay holds no
    /// stock.
    async fn request_payment(
        &self,
        payments: &Payments,
        order: &Option<(String, FoldedOrder)>,
        number: Option<&OrderNumber>,
        before: &OrderState,
        outcome: &mut TurnOutcome,
    ) {
        // A confirmation follows a summary, so the order and its number exist.
        let (Some((order_id, folded)), Some(number)) = (order, number) else {
            payment::payment_unavailable(outcome, before);
            return;
        };
        let requested = payments
            .request_payment(order_id, folded.version, number, &outcome.order_after)
            .await
            .map_err(|e| e.to_string())
            .and_then(|event| payment::add_payment_link(outcome, event).map_err(|e| e.to_string()));
        if let Err(error) = requested {
            tracing::warn!(order = %number, %error, "no payment link: the order is not placed");
            payment::payment_unavailable(outcome, before);
        }
    }

    /// Takes the payment of a turn that places the order with an agent's delegated
    /// token, recorded by a `paid` event after the confirmation; or, when Stripe says
    /// no, takes the confirmation back as when no link can be made.
    async fn charge_token(
        &self,
        payments: &Payments,
        charge: &TokenCharge,
        order: &Option<(String, FoldedOrder)>,
        number: Option<&OrderNumber>,
        before: &OrderState,
        outcome: &mut TurnOutcome,
    ) {
        let (Some((order_id, folded)), Some(number)) = (order, number) else {
            payment::payment_unavailable(outcome, before);
            return;
        };
        let paid = match charge
            .charge(payments, order_id, folded.version, number, &outcome.order_after)
            .await
        {
            Ok(event) => payment::add_payment_link(outcome, event).map_err(|e| {
                // Charged, but not written with this turn: it goes back.
                charge.not_written();
                e.to_string()
            }),
            Err(e) => Err(e.to_string()),
        };
        if let Err(error) = paid {
            tracing::warn!(order = %number, %error, "the delegated payment was not taken: the order is not placed");
            payment::payment_unavailable(outcome, before);
        }
    }

    /// Runs the validator over the commands of the extractor the mode picks: the
    /// rules extractor's, or the model's proposal when it is usable. In shadow mode the
    /// model's proposal is validated too, for the audit trail only.
    fn decide(&self, input: TurnInput<'_>, proposal: Option<&Proposal>) -> Decided {
        let (Some(llm), Some(proposal)) = (&self.llm, proposal) else {
            return Decided {
                outcome: take_turn(input),
                extractor: Extractor::Rules,
                llm_audit: None,
            };
        };
        let mut audit = proposal.audit();
        audit["mode"] = json!(if llm.mode == ExtractorMode::Shadow { "shadow" } else { "llm" });
        match (llm.mode, proposal.extraction()) {
            (ExtractorMode::Shadow, extraction) => {
                let outcome = take_turn(input);
                if let Some(extraction) = extraction {
                    let shadow = take_turn_with(input, extraction.clone());
                    audit["shadow"] = json!({
                        "same_events": shadow.events == outcome.events,
                        "commands": shadow.extraction.commands,
                        "validations": shadow.validations,
                        "events": shadow.events.iter().map(|e| e.kind()).collect::<Vec<_>>(),
                        "reply": shadow.reply,
                    });
                }
                Decided { outcome, extractor: Extractor::RulesWithShadow, llm_audit: Some(audit) }
            }
            (_, Some(extraction)) => Decided {
                outcome: take_turn_with(input, extraction.clone()),
                extractor: Extractor::Llm,
                llm_audit: Some(audit),
            },
            (_, None) => Decided {
                outcome: take_turn(input),
                extractor: Extractor::LlmFellBackToRules,
                llm_audit: Some(audit),
            },
        }
    }

    /// The reply with the side requests answered, and whether a person was asked for.
    async fn answer_requests(
        &self,
        outcome: &TurnOutcome,
        mut reply: String,
    ) -> Result<(String, bool), ChatError> {
        let mut handoff = false;
        for request in &outcome.requests {
            match request {
                SideRequest::OrderStatus { number, email } => {
                    let answer = self
                        .order_status(number.as_ref(), email.as_ref().map(|e| e.as_str()))
                        .await?;
                    reply.push_str("\n\n");
                    reply.push_str(&answer);
                }
                SideRequest::Handoff { .. } => handoff = true,
                SideRequest::StartReturn { .. } => {}
            }
        }
        Ok((reply, handoff))
    }

    /// The conversation's open order with its number; none when it has none yet or
    /// when it was cancelled (a cancelled order takes no edits: the next one starts afresh).
    async fn current_order(
        &self,
        conversation: &ConversationRow,
        catalog: &Catalog,
    ) -> Result<(Option<(String, FoldedOrder)>, Option<OrderNumber>), ChatError> {
        let (Some(order_id), Some(number)) = (&conversation.order_id, &conversation.order_number)
        else {
            return Ok((None, None));
        };
        let state = self.fold_order(order_id, catalog).await?;
        if state.order.status == OrderStatus::Cancelled {
            return Ok((None, None));
        }
        Ok((Some((order_id.clone(), state)), Some(parse_number(number)?)))
    }

    /// "Where is my order": the status only for the right number and email (case
    /// ignored, as the returns lookup compares it). An unknown order and a wrong email
    /// get the same answer after the same time ([`lookups::LOOKUP_FLOOR`]), and each
    /// lookup spends the order number's and the email's budgets.
    async fn order_status(
        &self,
        number: Option<&OrderNumber>,
        email: Option<&str>,
    ) -> Result<String, ChatError> {
        const PRIVATE: &str = "For your privacy I can only share an order's status when you give \
                               its number together with the email address it was placed with.";
        let (Some(number), Some(email)) = (number, email) else {
            return Ok(PRIVATE.to_owned());
        };
        if let Some(limiter) = &self.lookups {
            if let Err(retry_after) = limiter.check_order(None, number.as_str(), email) {
                return Ok(format!(
                    "I have looked up orders too often just now. Please ask again in \
                     {retry_after} seconds."
                ));
            }
        }
        let started = Instant::now();
        let summary = self.store.order_summary(number.as_str()).await?;
        let found = summary.filter(|summary| {
            summary.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email.trim()))
        });
        let Some(summary) = found else {
            lookups::pad(started).await;
            return Ok(PRIVATE.to_owned());
        };
        let currency = gapless_domain::money::Currency::parse(&summary.currency)
            .map_err(|e| ChatError::Internal(anyhow::anyhow!("order currency: {e}")))?;
        // The events, not the summary row: they carry the carrier and tracking.
        let folded = self.fold_order_in(&summary.id, currency).await?;
        Ok(order_status_answer(number, &folded.order))
    }

    async fn fold_order(
        &self,
        order_id: &str,
        catalog: &Catalog,
    ) -> Result<FoldedOrder, ChatError> {
        self.fold_order_in(order_id, catalog.currency).await
    }

    /// The order as its events fold to: its stored snapshot when that is of the current
    /// version (one row, whatever the number of events), else the events folded. Debug
    /// builds (the tests) fold the events anyway and stop when the two differ.
    async fn fold_order_in(
        &self,
        order_id: &str,
        currency: gapless_domain::money::Currency,
    ) -> Result<FoldedOrder, ChatError> {
        if let Some((version, snapshot)) = self.store.order_snapshot(order_id).await? {
            match serde_json::from_value::<OrderState>(snapshot) {
                Ok(order) => {
                    let found = FoldedOrder { order, version };
                    // The events up to the snapshot's version: a write may have appended
                    // more since it was read.
                    #[cfg(debug_assertions)]
                    {
                        let rows = self.store.order_events(order_id).await?;
                        let rows = rows.into_iter().filter(|row| row.seq <= version).collect();
                        let (order, version) = crate::orders::fold_events(rows, currency)?;
                        let folded = FoldedOrder { order, version };
                        assert_eq!(
                            (&found.order, found.version),
                            (&folded.order, folded.version),
                            "order {order_id}: the stored snapshot differs from its events"
                        );
                    }
                    return Ok(found);
                }
                // Written by another version of Gapless: the events are the truth.
                Err(error) => {
                    tracing::debug!(%error, order_id, "order snapshot unreadable; folding events")
                }
            }
        }
        self.fold_events(order_id, currency).await
    }

    async fn fold_events(
        &self,
        order_id: &str,
        currency: gapless_domain::money::Currency,
    ) -> Result<FoldedOrder, ChatError> {
        let rows = self.store.order_events(order_id).await?;
        let (order, version) = crate::orders::fold_events(rows, currency)?;
        Ok(FoldedOrder { order, version })
    }

    /// The catalog the chat validates against, with the extractor's index over it: what
    /// agents search and name products from.
    pub async fn catalog(&self) -> Result<Arc<CatalogSnapshot>, ChatError> {
        self.snapshot().await
    }

    /// The cached catalog, rebuilt when `gapless catalog import` ran since it was built.
    async fn snapshot(&self) -> Result<Arc<CatalogSnapshot>, ChatError> {
        let cached = self.snapshot.read().expect("snapshot lock").clone();
        if let Some(snapshot) = &cached {
            if snapshot.checked.lock().expect("check lock").elapsed() < CATALOG_RECHECK {
                return Ok(snapshot.clone());
            }
        }
        let imported_at = self.store.catalog_imported_at().await?.ok_or(ChatError::NoCatalog)?;
        if let Some(snapshot) = cached.filter(|s| s.imported_at == imported_at) {
            *snapshot.checked.lock().expect("check lock") = Instant::now();
            return Ok(snapshot);
        }
        let catalog = self.store.catalog().await?.ok_or(ChatError::NoCatalog)?;
        let extractor = RulesExtractor::new(&catalog);
        tracing::info!(%imported_at, products = catalog.products.len(), "catalog loaded for chat");
        let checked = std::sync::Mutex::new(Instant::now());
        let snapshot = Arc::new(CatalogSnapshot { imported_at, checked, catalog, extractor });
        *self.snapshot.write().expect("snapshot lock") = Some(snapshot.clone());
        Ok(snapshot)
    }
}

/// A part of the audit record, as JSON.
fn audit_part(part: &impl serde::Serialize) -> Result<Value, ChatError> {
    Ok(serde_json::to_value(part).context("serializing the audit record")?)
}

fn check_message(text: &str) -> Result<(), ChatError> {
    message::check(text).map_err(ChatError::Message)
}

fn check_key(key: &str) -> Result<(), ChatError> {
    if key.is_empty() || key.len() > 200 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ChatError::BadIdempotencyKey);
    }
    Ok(())
}

/// What a turn keeps of its answer. A replay of the same idempotency key answers the
/// whole of it again, so a turn with a key keeps it all. A turn without one keeps only
/// its messages (the dashboard counts the turns that asked the shopper to clarify): its
/// reply and the order after it are in the turn's own columns and audit already, and
/// the order's copy was a third of every stored turn, written on the serial path of
/// every commit.
fn stored_answer(
    response: &TurnResponse,
    replayable: bool,
) -> Result<serde_json::Value, ChatError> {
    let stored = if replayable {
        serde_json::to_value(response)
    } else {
        serde_json::to_value(&response.messages)
            .map(|messages| serde_json::json!({ "messages": messages }))
    };
    stored.context("serializing the answer").map_err(ChatError::Internal)
}

fn parse_number(number: &str) -> Result<OrderNumber, ChatError> {
    OrderNumber::parse(number)
        .map_err(|e| ChatError::Internal(anyhow::anyhow!("stored order number {number:?}: {e}")))
}
