//! An order is the fold of its events. Folding checks that every event fits the
//! order as it stands, so a corrupt or out-of-order stream is reported, never
//! half-applied and never a panic.

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money};
use crate::orders::address::PostalAddress;
use crate::orders::event::{Customer, OrderEvent, PricedLine, Reservation, Totals};
use crate::orders::fulfilment::{Fulfilment, FulfilmentStatus};
use crate::orders::number::OrderNumber;
use crate::orders::payment::{Payment, PaymentStatus, ProviderId};
use crate::orders::{pricing, MAX_QUANTITY, MIN_QUANTITY};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Draft,
    Confirmed,
    Cancelled,
    /// Confirmed, and at least one parcel left the shop.
    Shipped,
    /// Confirmed and delivered to the customer.
    Delivered,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 5] = [
        OrderStatus::Draft,
        OrderStatus::Confirmed,
        OrderStatus::Cancelled,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Draft => "draft",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
        }
    }

    /// The inverse of [`OrderStatus::as_str`].
    pub fn parse(text: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Goods have left the shop: the order can no longer be cancelled or changed.
    pub fn has_shipped(self) -> bool {
        matches!(self, OrderStatus::Shipped | OrderStatus::Delivered)
    }
}

/// The order as CONTRACTS §3 shows it (without `number`, which the store assigns; see
/// [`OrderView`]), plus what the chat needs to carry from one turn to the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderState {
    pub status: OrderStatus,
    pub currency: Currency,
    pub lines: Vec<PricedLine>,
    /// The sum of the lines while a draft; frozen by `Confirmed`.
    pub totals: Totals,
    pub customer: Customer,
    pub shipping_address: Option<PostalAddress>,
    /// The shopper has seen a summary of exactly this order: the next confirmation
    /// places it. Any change to lines, customer or address clears it.
    #[serde(default)]
    pub awaiting_confirmation: bool,
    /// What a confirmed order holds; released again when it is cancelled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reservations: Vec<Reservation>,
    /// The line the last line event touched: what "that" and "it" mean next turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_line: Option<usize>,
    /// Set when the order ships the replacement of an exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_for: Option<ExchangeRef>,
    /// What the fulfilment systems reported, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fulfilments: Vec<Fulfilment>,
    /// `not_required` until a payment provider is asked (CONTRACTS §8).
    #[serde(default)]
    pub payment: Payment,
}

/// The return an exchange order replaces goods for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRef {
    pub rma: String,
    pub original: String,
}

/// An order with its number: what the order JSON of CONTRACTS §3 shows
/// (`gapless_api::chat::Order` is built from it), with only the fields the contract
/// names (what the chat carries between turns is not for clients to rely on).
#[derive(Debug, Clone)]
pub struct OrderView<'a> {
    pub number: &'a OrderNumber,
    pub order: &'a OrderState,
}

/// An event that does not fit the order it is applied to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("a {event} event cannot change an order that is {}", .status.as_str())]
    NotADraft { event: &'static str, status: OrderStatus },
    #[error("there is no line {index}: the order has {lines}")]
    NoSuchLine { index: usize, lines: usize },
    #[error("a line must have a quantity of {MIN_QUANTITY} to {MAX_QUANTITY}, not {0}")]
    Quantity(u32),
    #[error("a line total must be its unit price times its quantity")]
    LineTotal,
    #[error("a unit price cannot be negative")]
    NegativePrice,
    #[error("the order total is too large to compute")]
    Overflow,
    #[error("an order without lines cannot be summarised or confirmed")]
    NoLines,
    #[error("the totals do not match the lines")]
    Totals,
    #[error("only a confirmed order or a draft can be cancelled, this one is {}", .0.as_str())]
    NotCancellable(OrderStatus),
    #[error("the released stock is not what the order had reserved")]
    Released,
    #[error("only a new order can be the replacement of an exchange")]
    ExchangeNotFirst,
    /// A fulfilment step that does not follow from where the order is: only
    /// confirmed → shipped → delivered (or confirmed → delivered) happen.
    #[error("an order that is {} cannot become {}", .from.as_str(), .to.as_str())]
    IllegalTransition { from: OrderStatus, to: OrderStatus },
    /// A payment event that does not follow from where the payment is.
    #[error("a {event} event does not fit a payment that is {}", .payment.as_str())]
    Payment { event: &'static str, payment: PaymentStatus },
    /// A payment event about another checkout than the order's.
    #[error("the payment event is about another checkout than this order's")]
    OtherSession,
    #[error("the amount asked for must be the order's total, and more than zero")]
    PaymentAmount,
    /// A payment taken at checkout on an order that is not (or no longer) confirmed.
    #[error("a payment taken at checkout needs a confirmed order, this one is {}", .0.as_str())]
    NotConfirmed(OrderStatus),
    /// A payment taken at checkout without the provider's payment to refund against.
    #[error("a payment taken at checkout must name the provider's payment")]
    NoPaymentIntent,
    /// A refund of nothing, or of more than what is left of what was paid.
    #[error("a refund must be more than zero and at most what was paid and not yet refunded")]
    RefundAmount,
    /// Goods do not leave the shop before a requested payment arrives.
    #[error("the order is not paid yet")]
    Unpaid,
}

/// Where in a stream folding stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {index}: {error}")]
pub struct FoldError {
    pub index: usize,
    pub error: EventError,
}

impl OrderState {
    /// A draft with nothing in it: the state before the first event.
    pub fn new(currency: Currency) -> OrderState {
        OrderState {
            status: OrderStatus::Draft,
            currency,
            lines: Vec::new(),
            totals: Totals::default(),
            customer: Customer::default(),
            shipping_address: None,
            awaiting_confirmation: false,
            reservations: Vec::new(),
            last_line: None,
            exchange_for: None,
            fulfilments: Vec::new(),
            payment: Payment::default(),
        }
    }

    pub fn fold(currency: Currency, events: &[OrderEvent]) -> Result<OrderState, FoldError> {
        let mut state = OrderState::new(currency);
        for (index, event) in events.iter().enumerate() {
            state.apply(event).map_err(|error| FoldError { index, error })?;
        }
        Ok(state)
    }

    pub fn is_draft(&self) -> bool {
        self.status == OrderStatus::Draft
    }

    /// Applies one event, or leaves the state as it was and says why not.
    pub fn apply(&mut self, event: &OrderEvent) -> Result<(), EventError> {
        let mut next = self.clone();
        next.apply_unchecked(event)?;
        *self = next;
        Ok(())
    }

    fn apply_unchecked(&mut self, event: &OrderEvent) -> Result<(), EventError> {
        if event.changes_content() || matches!(event, OrderEvent::SummaryShown { .. }) {
            self.require_draft(event)?;
        }
        match event {
            OrderEvent::ExchangeFor { rma, original } => {
                // Only as the first event: an order cannot become a replacement later.
                if *self != OrderState::new(self.currency) {
                    return Err(EventError::ExchangeNotFirst);
                }
                self.exchange_for =
                    Some(ExchangeRef { rma: rma.clone(), original: original.clone() });
            }
            OrderEvent::LineAdded { line } => {
                check_line(line)?;
                self.lines.push(line.clone());
                self.last_line = Some(self.lines.len() - 1);
            }
            OrderEvent::LineChanged { index, line } => {
                check_line(line)?;
                *self.line_mut(*index)? = line.clone();
                self.last_line = Some(*index);
            }
            OrderEvent::LineRemoved { index } => {
                self.line_mut(*index)?;
                self.lines.remove(*index);
                self.last_line = after_removal(self.last_line, *index, self.lines.len());
            }
            OrderEvent::CustomerIdentified { name, email, phone } => {
                self.customer =
                    Customer { name: name.clone(), email: email.clone(), phone: phone.clone() };
            }
            OrderEvent::ShippingAddressSet { address } => {
                self.shipping_address = Some(address.clone());
            }
            OrderEvent::ShippingAddressCleared => self.shipping_address = None,
            OrderEvent::SummaryShown { totals } => {
                self.require_lines()?;
                if *totals != self.totals {
                    return Err(EventError::Totals);
                }
                self.awaiting_confirmation = true;
            }
            OrderEvent::Confirmed { totals, reservations } => {
                self.confirm(event, totals, reservations)?
            }
            OrderEvent::Cancelled { released } => self.cancel(released)?,
            OrderEvent::Shipped { carrier, tracking_number, tracking_url, at } => {
                // Another parcel (or corrected tracking) may follow the first.
                self.transition(
                    &[OrderStatus::Confirmed, OrderStatus::Shipped],
                    OrderStatus::Shipped,
                )?;
                self.require_settled_payment()?;
                self.fulfilments.push(Fulfilment {
                    status: FulfilmentStatus::Shipped,
                    carrier: carrier.clone(),
                    tracking_number: tracking_number.clone(),
                    tracking_url: tracking_url.clone(),
                    at: *at,
                });
            }
            OrderEvent::Delivered { carrier, tracking_number, tracking_url, at } => {
                self.transition(
                    &[OrderStatus::Confirmed, OrderStatus::Shipped],
                    OrderStatus::Delivered,
                )?;
                self.require_settled_payment()?;
                self.fulfilments.push(Fulfilment {
                    status: FulfilmentStatus::Delivered,
                    carrier: carrier.clone(),
                    tracking_number: tracking_number.clone(),
                    tracking_url: tracking_url.clone(),
                    at: *at,
                });
            }
            OrderEvent::PaymentRequested { provider, session, url, amount, expires_at } => {
                self.require_payment(event, &[PaymentStatus::NotRequired])?;
                if self.status != OrderStatus::Confirmed {
                    return Err(EventError::Payment {
                        event: event.kind(),
                        payment: self.payment.status,
                    });
                }
                if *amount != self.totals.total || *amount <= Money::ZERO {
                    return Err(EventError::PaymentAmount);
                }
                self.payment = Payment {
                    status: PaymentStatus::Pending,
                    provider: Some(provider.clone()),
                    session: Some(session.clone()),
                    url: Some(url.clone()),
                    amount: *amount,
                    expires_at: Some(*expires_at),
                    ..Payment::default()
                };
            }
            OrderEvent::Paid {
                session: Some(session),
                provider: _,
                payment_intent,
                amount,
                at,
            } => {
                // Even on an order cancelled meanwhile: money received is recorded, so
                // that it can be sent back.
                self.require_payment(event, &[PaymentStatus::Pending])?;
                self.require_session(session)?;
                if *amount < Money::ZERO {
                    return Err(EventError::PaymentAmount);
                }
                self.payment.status = PaymentStatus::Paid;
                self.payment.paid = *amount;
                self.payment.paid_at = Some(*at);
                self.payment.payment_intent = payment_intent.clone();
            }
            OrderEvent::Paid { session: None, provider, payment_intent, amount, at } => {
                // Taken at checkout, with the confirmation: no link was asked for, and
                // what was charged is exactly what the order was confirmed at.
                self.require_payment(event, &[PaymentStatus::NotRequired])?;
                if self.status != OrderStatus::Confirmed {
                    return Err(EventError::NotConfirmed(self.status));
                }
                let intent = payment_intent.clone().ok_or(EventError::NoPaymentIntent)?;
                if *amount != self.totals.total || *amount <= Money::ZERO {
                    return Err(EventError::PaymentAmount);
                }
                self.payment = Payment {
                    status: PaymentStatus::Paid,
                    provider: provider.clone(),
                    amount: *amount,
                    paid: *amount,
                    paid_at: Some(*at),
                    payment_intent: Some(intent),
                    ..Payment::default()
                };
            }
            OrderEvent::PaymentExpired { session, released } => {
                self.require_payment(event, &[PaymentStatus::Pending])?;
                self.require_session(session)?;
                match self.status {
                    OrderStatus::Confirmed => self.cancel(released)?,
                    // Called off before the link ran out: nothing left to give back.
                    OrderStatus::Cancelled if released.is_empty() => {}
                    OrderStatus::Cancelled => return Err(EventError::Released),
                    other => return Err(EventError::NotCancellable(other)),
                }
                self.payment.status = PaymentStatus::Expired;
            }
            OrderEvent::Refunded { amount, .. } => {
                self.require_payment(
                    event,
                    &[PaymentStatus::Paid, PaymentStatus::PartiallyRefunded],
                )?;
                if *amount <= Money::ZERO || *amount > self.payment.refundable() {
                    return Err(EventError::RefundAmount);
                }
                self.payment.refunded =
                    self.payment.refunded.checked_add(*amount).ok_or(EventError::Overflow)?;
                self.payment.status = if self.payment.refunded == self.payment.paid {
                    PaymentStatus::Refunded
                } else {
                    PaymentStatus::PartiallyRefunded
                };
            }
        }
        if event.changes_content() {
            self.awaiting_confirmation = false;
            self.totals = pricing::totals(&self.lines).map_err(|_| EventError::Overflow)?;
        }
        Ok(())
    }

    fn confirm(
        &mut self,
        event: &OrderEvent,
        totals: &Totals,
        reservations: &[Reservation],
    ) -> Result<(), EventError> {
        self.require_draft(event)?;
        self.require_lines()?;
        // The frozen totals may add shipping later, never disagree with the lines.
        let consistent = totals.subtotal == self.totals.subtotal
            && totals.subtotal.checked_add(totals.shipping) == Some(totals.total)
            && totals.shipping >= Money::ZERO;
        if !consistent {
            return Err(EventError::Totals);
        }
        self.status = OrderStatus::Confirmed;
        self.totals = *totals;
        self.reservations = reservations.to_vec();
        self.awaiting_confirmation = false;
        Ok(())
    }

    /// Moves to `to` from one of `from`, or says why not.
    fn transition(&mut self, from: &[OrderStatus], to: OrderStatus) -> Result<(), EventError> {
        if !from.contains(&self.status) {
            return Err(EventError::IllegalTransition { from: self.status, to });
        }
        self.status = to;
        Ok(())
    }

    /// When the order was first shipped, if it was.
    pub fn shipped_at(&self) -> Option<time::OffsetDateTime> {
        self.fulfilments.iter().find(|f| f.status == FulfilmentStatus::Shipped).map(|f| f.at)
    }

    /// When the order was delivered, if it was.
    pub fn delivered_at(&self) -> Option<time::OffsetDateTime> {
        self.fulfilments
            .iter()
            .rev()
            .find(|f| f.status == FulfilmentStatus::Delivered)
            .map(|f| f.at)
    }

    /// The latest report that came with tracking: what "where is my order" shows.
    pub fn latest_tracking(&self) -> Option<&Fulfilment> {
        self.fulfilments.iter().rev().find(|f| {
            f.carrier.is_some() || f.tracking_number.is_some() || f.tracking_url.is_some()
        })
    }

    fn cancel(&mut self, released: &[Reservation]) -> Result<(), EventError> {
        match self.status {
            OrderStatus::Draft | OrderStatus::Confirmed => {}
            OrderStatus::Cancelled | OrderStatus::Shipped | OrderStatus::Delivered => {
                return Err(EventError::NotCancellable(self.status))
            }
        }
        if released != self.reservations.as_slice() {
            return Err(EventError::Released);
        }
        self.status = OrderStatus::Cancelled;
        self.reservations.clear();
        self.awaiting_confirmation = false;
        Ok(())
    }

    fn require_payment(
        &self,
        event: &OrderEvent,
        allowed: &[PaymentStatus],
    ) -> Result<(), EventError> {
        if allowed.contains(&self.payment.status) {
            Ok(())
        } else {
            Err(EventError::Payment { event: event.kind(), payment: self.payment.status })
        }
    }

    fn require_session(&self, session: &ProviderId) -> Result<(), EventError> {
        if self.payment.session.as_ref() == Some(session) {
            Ok(())
        } else {
            Err(EventError::OtherSession)
        }
    }

    /// A payment asked for must have arrived before the goods leave.
    fn require_settled_payment(&self) -> Result<(), EventError> {
        match self.payment.status {
            PaymentStatus::Pending | PaymentStatus::Expired => Err(EventError::Unpaid),
            _ => Ok(()),
        }
    }

    fn require_draft(&self, event: &OrderEvent) -> Result<(), EventError> {
        if self.is_draft() {
            Ok(())
        } else {
            Err(EventError::NotADraft { event: event.kind(), status: self.status })
        }
    }

    fn require_lines(&self) -> Result<(), EventError> {
        if self.lines.is_empty() {
            Err(EventError::NoLines)
        } else {
            Ok(())
        }
    }

    fn line_mut(&mut self, index: usize) -> Result<&mut PricedLine, EventError> {
        let lines = self.lines.len();
        self.lines.get_mut(index).ok_or(EventError::NoSuchLine { index, lines })
    }
}

/// The line "that" means after a removal: the same line where it moved to, or the
/// new last line when it was the one removed (as the draft does it).
fn after_removal(last: Option<usize>, removed: usize, remaining: usize) -> Option<usize> {
    match last {
        Some(last) if last == removed => remaining.checked_sub(1),
        Some(last) if last > removed => Some(last - 1),
        other => other,
    }
}

fn check_line(line: &PricedLine) -> Result<(), EventError> {
    if !(MIN_QUANTITY..=MAX_QUANTITY).contains(&line.quantity) {
        return Err(EventError::Quantity(line.quantity));
    }
    if line.unit_price < Money::ZERO {
        return Err(EventError::NegativePrice);
    }
    if line.unit_price.checked_mul(line.quantity) != Some(line.total) {
        return Err(EventError::LineTotal);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Choice;
    use crate::orders::contact::Email;
    use crate::sku::Sku;
    use crate::stock::StockKey;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn line(code: &str, quantity: u32, unit: i64) -> PricedLine {
        PricedLine {
            sku: Sku::parse(code).unwrap(),
            name: code.to_lowercase(),
            quantity,
            choices: vec![Choice::new("size", "m")],
            unit_price: Money(unit),
            total: Money(unit * i64::from(quantity)),
        }
    }

    fn added(code: &str, quantity: u32, unit: i64) -> OrderEvent {
        OrderEvent::LineAdded { line: line(code, quantity, unit) }
    }

    fn reservation() -> Vec<Reservation> {
        vec![Reservation { key: StockKey::product(Sku::parse("TEE").unwrap()), quantity: 2 }]
    }

    fn confirmed(total: i64) -> OrderEvent {
        let totals = Totals { subtotal: Money(total), shipping: Money::ZERO, total: Money(total) };
        OrderEvent::Confirmed { totals, reservations: reservation() }
    }

    #[test]
    fn folding_lines_keeps_totals_and_the_last_line() {
        let state = OrderState::fold(
            usd(),
            &[
                added("TEE", 2, 2500),
                added("COKE", 1, 250),
                added("MUG", 1, 1600),
                OrderEvent::LineChanged { index: 1, line: line("COKE", 3, 250) },
                OrderEvent::LineRemoved { index: 0 },
            ],
        )
        .unwrap();
        assert_eq!(state.lines.len(), 2);
        assert_eq!(state.lines[0].quantity, 3);
        assert_eq!(state.totals.subtotal, Money(750 + 1600));
        assert_eq!(state.totals.total, state.totals.subtotal);
        // "that" was the coke, which moved up to 0.
        assert_eq!(state.last_line, Some(0));
        assert_eq!(state.status, OrderStatus::Draft);
    }

    #[test]
    fn removing_the_last_touched_line_points_at_the_new_last_one() {
        assert_eq!(after_removal(Some(2), 2, 2), Some(1));
        assert_eq!(after_removal(Some(0), 0, 0), None);
        assert_eq!(after_removal(Some(0), 1, 2), Some(0));
        assert_eq!(after_removal(None, 0, 2), None);
    }

    #[test]
    fn a_summary_waits_for_confirmation_until_something_changes() {
        let mut state = OrderState::fold(usd(), &[added("TEE", 2, 2500)]).unwrap();
        state.apply(&OrderEvent::SummaryShown { totals: state.totals }).unwrap();
        assert!(state.awaiting_confirmation);
        state.apply(&added("COKE", 1, 250)).unwrap();
        assert!(!state.awaiting_confirmation);
        let stale = OrderEvent::SummaryShown { totals: Totals::default() };
        assert_eq!(state.apply(&stale), Err(EventError::Totals));
    }

    #[test]
    fn confirmation_freezes_and_cancellation_releases() {
        let mut state = OrderState::fold(usd(), &[added("TEE", 2, 2500), confirmed(5000)]).unwrap();
        assert_eq!(state.status, OrderStatus::Confirmed);
        assert_eq!(state.reservations, reservation());
        assert_eq!(
            state.apply(&added("COKE", 1, 250)),
            Err(EventError::NotADraft { event: "line_added", status: OrderStatus::Confirmed })
        );
        assert_eq!(
            state.apply(&OrderEvent::Cancelled { released: vec![] }),
            Err(EventError::Released)
        );
        state.apply(&OrderEvent::Cancelled { released: reservation() }).unwrap();
        assert_eq!(state.status, OrderStatus::Cancelled);
        assert!(state.reservations.is_empty());
        assert_eq!(
            state.apply(&OrderEvent::Cancelled { released: vec![] }),
            Err(EventError::NotCancellable(OrderStatus::Cancelled))
        );
    }

    #[test]
    fn events_that_do_not_fit_are_errors_with_their_position() {
        let cases: Vec<(Vec<OrderEvent>, FoldError)> = vec![
            (
                vec![added("TEE", 1, 2500), OrderEvent::LineRemoved { index: 1 }],
                FoldError { index: 1, error: EventError::NoSuchLine { index: 1, lines: 1 } },
            ),
            (
                vec![OrderEvent::LineChanged { index: 0, line: line("TEE", 1, 1) }],
                FoldError { index: 0, error: EventError::NoSuchLine { index: 0, lines: 0 } },
            ),
            (vec![added("TEE", 0, 2500)], FoldError { index: 0, error: EventError::Quantity(0) }),
            (
                vec![added("TEE", 100, 2500)],
                FoldError { index: 0, error: EventError::Quantity(100) },
            ),
            (
                vec![OrderEvent::LineAdded {
                    line: PricedLine { total: Money(1), ..line("TEE", 2, 2500) },
                }],
                FoldError { index: 0, error: EventError::LineTotal },
            ),
            (vec![added("TEE", 1, -5)], FoldError { index: 0, error: EventError::NegativePrice }),
            (vec![confirmed(0)], FoldError { index: 0, error: EventError::NoLines }),
            (
                vec![added("TEE", 1, 2500), confirmed(9999)],
                FoldError { index: 1, error: EventError::Totals },
            ),
            (
                vec![added("TEE", 1, i64::MAX), added("TEE", 1, i64::MAX)],
                FoldError { index: 1, error: EventError::Overflow },
            ),
        ];
        for (events, error) in cases {
            assert_eq!(OrderState::fold(usd(), &events), Err(error), "{events:?}");
        }
    }

    #[test]
    fn a_failed_apply_changes_nothing() {
        let mut state = OrderState::fold(usd(), &[added("TEE", 1, i64::MAX)]).unwrap();
        let before = state.clone();
        assert!(state.apply(&added("TEE", 1, i64::MAX)).is_err());
        assert_eq!(state, before);
    }

    #[test]
    fn a_draft_may_be_cancelled_without_reservations() {
        let state = OrderState::fold(
            usd(),
            &[added("TEE", 1, 2500), OrderEvent::Cancelled { released: vec![] }],
        )
        .unwrap();
        assert_eq!(state.status, OrderStatus::Cancelled);
    }

    fn shipped(carrier: &str, at: time::OffsetDateTime) -> OrderEvent {
        use crate::orders::fulfilment::{Carrier, TrackingNumber, TrackingUrl};
        OrderEvent::Shipped {
            carrier: Some(Carrier::parse(carrier).unwrap()),
            tracking_number: Some(TrackingNumber::parse("1Z999").unwrap()),
            tracking_url: Some(TrackingUrl::parse("https://track.example/1Z999").unwrap()),
            at,
        }
    }

    fn delivered(at: time::OffsetDateTime) -> OrderEvent {
        OrderEvent::Delivered { carrier: None, tracking_number: None, tracking_url: None, at }
    }

    #[test]
    fn a_confirmed_order_ships_then_is_delivered() {
        use time::macros::datetime;
        let (ship, deliver) = (datetime!(2030-06-02 09:00 UTC), datetime!(2030-06-04 15:30 UTC));
        let mut state = OrderState::fold(usd(), &[added("TEE", 2, 2500), confirmed(5000)]).unwrap();
        state.apply(&shipped("UPS", ship)).unwrap();
        assert_eq!(state.status, OrderStatus::Shipped);
        assert_eq!(state.shipped_at(), Some(ship));
        assert_eq!(state.delivered_at(), None);
        state.apply(&delivered(deliver)).unwrap();
        assert_eq!(state.status, OrderStatus::Delivered);
        assert_eq!((state.shipped_at(), state.delivered_at()), (Some(ship), Some(deliver)));
        // The delivery came without tracking: the shipment's is still what to show.
        assert_eq!(state.latest_tracking().unwrap().carrier.as_ref().unwrap().as_str(), "UPS");
        assert_eq!(state.fulfilments.len(), 2);
    }

    #[test]
    fn a_confirmed_order_may_be_delivered_directly_and_ship_in_parcels() {
        use time::macros::datetime;
        let at = datetime!(2030-06-02 09:00 UTC);
        let base = [added("TEE", 2, 2500), confirmed(5000)];
        let mut direct = OrderState::fold(usd(), &base).unwrap();
        direct.apply(&delivered(at)).unwrap();
        assert_eq!(direct.status, OrderStatus::Delivered);
        assert_eq!(direct.shipped_at(), None);
        let mut parcels = OrderState::fold(usd(), &base).unwrap();
        parcels.apply(&shipped("UPS", at)).unwrap();
        parcels.apply(&shipped("DHL", at + time::Duration::hours(2))).unwrap();
        assert_eq!(parcels.status, OrderStatus::Shipped);
        assert_eq!(parcels.shipped_at(), Some(at), "the first parcel counts");
        assert_eq!(parcels.latest_tracking().unwrap().carrier.as_ref().unwrap().as_str(), "DHL");
    }

    #[test]
    fn fulfilment_out_of_order_is_an_illegal_transition() {
        use time::macros::datetime;
        let at = datetime!(2030-06-02 09:00 UTC);
        let illegal = |from, to| EventError::IllegalTransition { from, to };
        let draft = vec![added("TEE", 2, 2500)];
        let cancelled = vec![
            added("TEE", 2, 2500),
            confirmed(5000),
            OrderEvent::Cancelled { released: reservation() },
        ];
        let done = vec![added("TEE", 2, 2500), confirmed(5000), delivered(at)];
        let cases = [
            (&draft, shipped("UPS", at), illegal(OrderStatus::Draft, OrderStatus::Shipped)),
            (&draft, delivered(at), illegal(OrderStatus::Draft, OrderStatus::Delivered)),
            (&cancelled, shipped("UPS", at), illegal(OrderStatus::Cancelled, OrderStatus::Shipped)),
            (&cancelled, delivered(at), illegal(OrderStatus::Cancelled, OrderStatus::Delivered)),
            (&done, shipped("UPS", at), illegal(OrderStatus::Delivered, OrderStatus::Shipped)),
            (&done, delivered(at), illegal(OrderStatus::Delivered, OrderStatus::Delivered)),
        ];
        for (events, next, error) in cases {
            let mut state = OrderState::fold(usd(), events).unwrap();
            let before = state.clone();
            assert_eq!(state.apply(&next), Err(error.clone()), "{next:?}");
            assert_eq!(state, before, "nothing changed");
            assert!(error.to_string().starts_with("an order that is "), "{error}");
        }
    }

    #[test]
    fn a_shipped_order_can_neither_be_cancelled_nor_edited() {
        use time::macros::datetime;
        let at = datetime!(2030-06-02 09:00 UTC);
        let mut state =
            OrderState::fold(usd(), &[added("TEE", 2, 2500), confirmed(5000), shipped("UPS", at)])
                .unwrap();
        assert_eq!(
            state.apply(&OrderEvent::Cancelled { released: reservation() }),
            Err(EventError::NotCancellable(OrderStatus::Shipped))
        );
        assert_eq!(
            state.apply(&added("COKE", 1, 250)),
            Err(EventError::NotADraft { event: "line_added", status: OrderStatus::Shipped })
        );
    }

    #[test]
    fn fulfilments_are_recorded_in_the_order_they_happen() {
        use time::macros::datetime;
        let mut state = OrderState::fold(usd(), &[added("TEE", 2, 2500), confirmed(5000)]).unwrap();
        assert!(state.fulfilments.is_empty());
        state.apply(&shipped("UPS", datetime!(2030-06-02 09:00 UTC))).unwrap();
        state.apply(&delivered(datetime!(2030-06-03 12:00 UTC))).unwrap();
        assert_eq!(state.status, OrderStatus::Delivered);
        let steps: Vec<_> = state
            .fulfilments
            .iter()
            .map(|f| {
                (
                    f.status,
                    f.carrier.as_ref().map(ToString::to_string),
                    f.tracking_number.as_ref().map(ToString::to_string),
                    f.tracking_url.as_ref().map(ToString::to_string),
                    f.at,
                )
            })
            .collect();
        assert_eq!(
            steps,
            [
                (
                    FulfilmentStatus::Shipped,
                    Some("UPS".to_owned()),
                    Some("1Z999".to_owned()),
                    Some("https://track.example/1Z999".to_owned()),
                    datetime!(2030-06-02 09:00 UTC),
                ),
                (FulfilmentStatus::Delivered, None, None, None, datetime!(2030-06-03 12:00 UTC)),
            ]
        );
        let back: OrderState =
            serde_json::from_value(serde_json::to_value(&state).unwrap()).unwrap();
        assert_eq!(back, state);
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
    }

    #[test]
    fn an_order_keeps_what_it_was_given_and_reads_back() {
        let mut state = OrderState::fold(usd(), &[added("TEE", 2, 2500)]).unwrap();
        state.customer.email = Some(Email::parse("ana@example.com").unwrap());
        assert_eq!(OrderNumber::from_sequence(42).as_str(), "G-100042");
        assert_eq!(state.status, OrderStatus::Draft);
        assert_eq!(state.currency.as_str(), "USD");
        assert_eq!(state.lines[0].total, Money(5000));
        assert_eq!(
            (state.totals.subtotal, state.totals.shipping, state.totals.total),
            (Money(5000), Money::ZERO, Money(5000))
        );
        assert_eq!(state.customer.email.as_ref().map(|e| e.as_str()), Some("ana@example.com"));
        assert_eq!(state.customer.name, None);
        assert_eq!(state.shipping_address, None);
        let back: OrderState =
            serde_json::from_value(serde_json::to_value(&state).unwrap()).unwrap();
        assert_eq!(back, state);
    }

    mod payments {
        use super::*;
        use crate::orders::payment::{PaymentUrl, ProviderId};
        use time::macros::datetime;

        fn session(id: &str) -> ProviderId {
            ProviderId::parse(id).unwrap()
        }

        fn requested(amount: i64) -> OrderEvent {
            OrderEvent::PaymentRequested {
                provider: "stripe".into(),
                session: session("cs_1"),
                url: PaymentUrl::parse("https://pay.example/cs_1").unwrap(),
                amount: Money(amount),
                expires_at: datetime!(2030-06-01 11:00 UTC),
            }
        }

        fn paid(id: &str, amount: i64) -> OrderEvent {
            OrderEvent::Paid {
                session: Some(session(id)),
                provider: None,
                payment_intent: Some(session("pi_1")),
                amount: Money(amount),
                at: datetime!(2030-06-01 10:30 UTC),
            }
        }

        /// Paid with the confirmation: an agent's token charged at checkout.
        fn paid_at_checkout(amount: i64) -> OrderEvent {
            OrderEvent::Paid {
                session: None,
                provider: Some("stripe".into()),
                payment_intent: Some(session("pi_agent")),
                amount: Money(amount),
                at: datetime!(2030-06-01 10:00 UTC),
            }
        }

        fn refunded(amount: i64) -> OrderEvent {
            OrderEvent::Refunded {
                refund: session("re_1"),
                amount: Money(amount),
                rma: Some("R-1".into()),
                at: datetime!(2030-06-09 10:30 UTC),
            }
        }

        fn pending() -> OrderState {
            OrderState::fold(usd(), &[added("TEE", 2, 2500), confirmed(5000), requested(5000)])
                .unwrap()
        }

        #[test]
        fn an_order_without_a_provider_needs_no_payment() {
            let state = OrderState::fold(usd(), &[added("TEE", 2, 2500), confirmed(5000)]).unwrap();
            assert_eq!(state.payment, Payment::default());
            assert_eq!(state.payment.status, PaymentStatus::NotRequired);
        }

        #[test]
        fn a_confirmed_order_is_asked_for_its_total_then_paid() {
            let mut state = pending();
            assert_eq!(state.payment.status, PaymentStatus::Pending);
            assert_eq!(state.payment.url.as_ref().unwrap().as_str(), "https://pay.example/cs_1");
            assert_eq!(state.status, OrderStatus::Confirmed);
            state.apply(&paid("cs_1", 5000)).unwrap();
            assert_eq!(state.payment.status, PaymentStatus::Paid);
            assert_eq!(state.payment.paid, Money(5000));
            assert_eq!(state.payment.payment_intent, Some(session("pi_1")));
            assert_eq!(state.status, OrderStatus::Confirmed, "paid is not a fulfilment step");
            assert_eq!(state.reservations, reservation(), "the stock stays held");
            let back: OrderState =
                serde_json::from_value(serde_json::to_value(&state).unwrap()).unwrap();
            assert_eq!(back, state);
        }

        #[test]
        fn payment_events_that_do_not_fit_change_nothing() {
            let draft = OrderState::fold(usd(), &[added("TEE", 2, 2500)]).unwrap();
            let confirmed_only =
                OrderState::fold(usd(), &[added("TEE", 2, 2500), confirmed(5000)]).unwrap();
            let mut paid_state = pending();
            paid_state.apply(&paid("cs_1", 5000)).unwrap();
            let payment =
                |event: &OrderEvent, payment| EventError::Payment { event: event.kind(), payment };
            let cases = [
                (&draft, requested(5000), payment(&requested(5000), PaymentStatus::NotRequired)),
                (&confirmed_only, requested(4000), EventError::PaymentAmount),
                (
                    &confirmed_only,
                    paid("cs_1", 5000),
                    payment(&paid("cs_1", 0), PaymentStatus::NotRequired),
                ),
                (&pending(), requested(5000), payment(&requested(5000), PaymentStatus::Pending)),
                (&pending(), paid("cs_other", 5000), EventError::OtherSession),
                (&paid_state, paid("cs_1", 5000), payment(&paid("cs_1", 0), PaymentStatus::Paid)),
                (&pending(), refunded(100), payment(&refunded(1), PaymentStatus::Pending)),
                (&paid_state, refunded(5001), EventError::RefundAmount),
                (&paid_state, refunded(0), EventError::RefundAmount),
            ];
            for (state, event, error) in cases {
                let mut state = state.clone();
                let before = state.clone();
                assert_eq!(state.apply(&event), Err(error), "{event:?}");
                assert_eq!(state, before);
            }
        }

        #[test]
        fn a_payment_taken_at_checkout_is_the_confirmed_total() {
            // In the same write as the confirmation: no link, no pending step.
            let state = OrderState::fold(
                usd(),
                &[added("TEE", 2, 2500), confirmed(5000), paid_at_checkout(5000)],
            )
            .unwrap();
            assert_eq!(
                (state.status, state.payment.status),
                (OrderStatus::Confirmed, PaymentStatus::Paid)
            );
            assert_eq!(state.payment.provider.as_deref(), Some("stripe"));
            assert_eq!((state.payment.amount, state.payment.paid), (Money(5000), Money(5000)));
            assert_eq!(state.payment.payment_intent, Some(session("pi_agent")));
            assert_eq!(state.payment.session, None);
            assert_eq!(state.payment.refundable(), Money(5000));
            assert_eq!(state.reservations, reservation(), "the stock stays held");
            // Stored and read back as it was written; the session is simply absent.
            let value = serde_json::to_value(paid_at_checkout(5000)).unwrap();
            assert!(value.get("session").is_none(), "{value}");
            assert_eq!(
                serde_json::from_value::<OrderEvent>(value).unwrap(),
                paid_at_checkout(5000)
            );
            // It can be refunded, in parts, through the same path as a link's payment.
            let mut refunding = state.clone();
            refunding.apply(&refunded(2000)).unwrap();
            assert_eq!(refunding.payment.status, PaymentStatus::PartiallyRefunded);
            // And it ships without waiting for anything more.
            let mut shipping = state;
            shipping.apply(&shipped("UPS", datetime!(2030-06-02 09:00 UTC))).unwrap();
        }

        #[test]
        fn a_payment_at_checkout_that_does_not_fit_changes_nothing() {
            let draft = OrderState::fold(usd(), &[added("TEE", 2, 2500)]).unwrap();
            let confirmed_only =
                OrderState::fold(usd(), &[added("TEE", 2, 2500), confirmed(5000)]).unwrap();
            let mut cancelled = confirmed_only.clone();
            cancelled.apply(&OrderEvent::Cancelled { released: reservation() }).unwrap();
            let mut paid_twice = confirmed_only.clone();
            paid_twice.apply(&paid_at_checkout(5000)).unwrap();
            let no_intent = OrderEvent::Paid {
                session: None,
                provider: Some("stripe".into()),
                payment_intent: None,
                amount: Money(5000),
                at: datetime!(2030-06-01 10:00 UTC),
            };
            let payment = |payment| EventError::Payment { event: "paid", payment };
            let cases = [
                (&draft, paid_at_checkout(5000), EventError::NotConfirmed(OrderStatus::Draft)),
                (
                    &cancelled,
                    paid_at_checkout(5000),
                    EventError::NotConfirmed(OrderStatus::Cancelled),
                ),
                (&confirmed_only, paid_at_checkout(4999), EventError::PaymentAmount),
                (&confirmed_only, paid_at_checkout(5001), EventError::PaymentAmount),
                (&confirmed_only, no_intent, EventError::NoPaymentIntent),
                (&paid_twice, paid_at_checkout(5000), payment(PaymentStatus::Paid)),
                // A link was asked for: only its own session's payment counts.
                (&pending(), paid_at_checkout(5000), payment(PaymentStatus::Pending)),
            ];
            for (state, event, error) in cases {
                let mut state = state.clone();
                let before = state.clone();
                assert_eq!(state.apply(&event), Err(error), "{event:?}");
                assert_eq!(state, before);
            }
            // Nor does a link's payment fit an order paid at checkout.
            let mut state = paid_twice;
            assert_eq!(state.apply(&paid("cs_1", 5000)), Err(payment(PaymentStatus::Paid)));
        }

        #[test]
        fn an_expired_payment_calls_the_order_off_and_gives_the_stock_back() {
            let mut state = pending();
            let expired =
                |released| OrderEvent::PaymentExpired { session: session("cs_1"), released };
            assert_eq!(state.apply(&expired(vec![])), Err(EventError::Released));
            state.apply(&expired(reservation())).unwrap();
            assert_eq!(state.payment.status, PaymentStatus::Expired);
            assert_eq!(state.status, OrderStatus::Cancelled);
            assert!(state.reservations.is_empty());
            // A link cannot run out twice, nor be paid once it has.
            assert!(state.apply(&expired(vec![])).is_err());
            assert!(state.apply(&paid("cs_1", 5000)).is_err());
            // Cancelled in the chat first: the stock was given back then.
            let mut cancelled = pending();
            cancelled.apply(&OrderEvent::Cancelled { released: reservation() }).unwrap();
            assert_eq!(cancelled.apply(&expired(reservation())), Err(EventError::Released));
            cancelled.apply(&expired(vec![])).unwrap();
            assert_eq!(cancelled.payment.status, PaymentStatus::Expired);
        }

        #[test]
        fn money_received_after_a_cancellation_is_still_recorded() {
            let mut state = pending();
            state.apply(&OrderEvent::Cancelled { released: reservation() }).unwrap();
            state.apply(&paid("cs_1", 5000)).unwrap();
            assert_eq!(
                (state.status, state.payment.status),
                (OrderStatus::Cancelled, PaymentStatus::Paid)
            );
            assert_eq!(state.payment.refundable(), Money(5000));
        }

        #[test]
        fn refunds_add_up_to_at_most_what_was_paid() {
            let mut state = pending();
            state.apply(&paid("cs_1", 5000)).unwrap();
            state.apply(&refunded(2000)).unwrap();
            assert_eq!(state.payment.status, PaymentStatus::PartiallyRefunded);
            assert_eq!(state.apply(&refunded(3001)), Err(EventError::RefundAmount));
            state.apply(&refunded(3000)).unwrap();
            assert_eq!(state.payment.status, PaymentStatus::Refunded);
            assert_eq!(state.payment.refundable(), Money::ZERO);
            assert!(state.apply(&refunded(1)).is_err());
        }

        #[test]
        fn goods_do_not_leave_before_the_payment_arrives() {
            let at = datetime!(2030-06-02 09:00 UTC);
            let mut state = pending();
            assert_eq!(state.apply(&shipped("UPS", at)), Err(EventError::Unpaid));
            assert_eq!(state.apply(&delivered(at)), Err(EventError::Unpaid));
            state.apply(&paid("cs_1", 5000)).unwrap();
            state.apply(&shipped("UPS", at)).unwrap();
            assert_eq!(state.status, OrderStatus::Shipped);
        }
    }
}
