//! The reply, from templates over the validated order. Prices and totals come from the
//! order state only: nothing the shopper typed is ever echoed as a number.

use crate::catalog::{Catalog, Choice, GroupKind};
use crate::chat::draft::Draft;
use crate::chat::text::{tokenize, TokenKind};
use crate::money::Currency;
use crate::orders::{OrderNumber, OrderState, PaymentStatus, PostalAddress, PricedLine, Shortfall};
use crate::stock::StockKey;

use super::TurnCode;

pub(super) const ASK_TO_CONFIRM: &str =
    "Shall I place the order? Reply \"confirm\" (or \"yes\") to place it.";

/// One thing the reply should say, by where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Said {
    /// A refusal, said first.
    Problem(String),
    /// "Thanks, Ana."
    Ack(String),
    /// A block of its own: a summary, a confirmation, a request being handled.
    Closing(String),
    /// What the shopper must answer, said last.
    Question(String),
}

#[derive(Debug, Default)]
pub(super) struct Reply {
    pub greeting: bool,
    pub lines_changed: bool,
    problems: Vec<String>,
    acks: Vec<String>,
    closings: Vec<String>,
    questions: Vec<String>,
}

impl Reply {
    pub fn new(greeting: bool) -> Reply {
        Reply { greeting, ..Reply::default() }
    }

    pub fn extend(&mut self, said: Vec<Said>) {
        for said in said {
            let (list, text) = match said {
                Said::Problem(text) => (&mut self.problems, text),
                Said::Ack(text) => (&mut self.acks, text),
                Said::Closing(text) => (&mut self.closings, text),
                Said::Question(text) => (&mut self.questions, text),
            };
            if !list.contains(&text) {
                list.push(text);
            }
        }
    }

    /// Paragraphs: greeting, refusals and acknowledgements; the order when its lines
    /// changed; summaries and the like; then questions, or else the next step.
    pub fn render(&self, state: &OrderState, catalog: &Catalog, draft: &Draft) -> String {
        let mut opening: Vec<&str> = Vec::new();
        if self.greeting && self.closings.iter().all(|c| !c.starts_with("Hi!")) {
            opening.push("Hi!");
        }
        opening.extend(self.problems.iter().map(String::as_str));
        opening.extend(self.acks.iter().map(String::as_str));
        let mut paragraphs: Vec<String> = Vec::new();
        if !opening.is_empty() {
            paragraphs.push(opening.join(" "));
        }
        // A closing such as "I've cleared your order" already says an emptied order.
        if self.lines_changed && (!state.lines.is_empty() || self.closings.is_empty()) {
            paragraphs.push(listing(state));
        }
        paragraphs.extend(self.closings.iter().cloned());
        if !self.questions.is_empty() {
            paragraphs.push(self.questions.join(" "));
        } else if self.closings.is_empty() && (self.lines_changed || !self.acks.is_empty()) {
            paragraphs.extend(next_step(state, catalog, draft));
        }
        if paragraphs.is_empty() {
            // Nothing new to say (the same details twice, say): say where things stand.
            paragraphs.extend(next_step(state, catalog, draft));
        }
        if paragraphs.is_empty() {
            paragraphs.push(match state.is_draft() {
                true => "Noted. What would you like to order?".to_owned(),
                false => "Noted. Anything else I can do for you?".to_owned(),
            });
        }
        paragraphs.join("\n\n")
    }
}

/// What the shopper can do next with a draft that has lines.
fn next_step(state: &OrderState, catalog: &Catalog, draft: &Draft) -> Option<String> {
    if !state.is_draft() || state.lines.is_empty() {
        return None;
    }
    if let Some(question) = draft.missing(catalog) {
        return Some(question.question);
    }
    let details = missing_details(state);
    if !details.is_empty() {
        return Some(format!("To check out I'll need {}.", and_list(&details)));
    }
    if state.awaiting_confirmation {
        return Some(ASK_TO_CONFIRM.to_owned());
    }
    Some("Say \"confirm\" when you're ready to place your order.".to_owned())
}

fn missing_details(state: &OrderState) -> Vec<String> {
    let mut missing = Vec::new();
    if state.customer.name.is_none() {
        missing.push("your name".to_owned());
    }
    if state.customer.email.is_none() {
        missing.push("your email address".to_owned());
    }
    match &state.shipping_address {
        None => missing.push("your shipping address".to_owned()),
        Some(address) if !address.is_complete() => {
            let labels: Vec<String> =
                address.missing().iter().map(|f| f.label().to_owned()).collect();
            missing.push(format!("the {} of your shipping address", and_list(&labels)));
        }
        Some(_) => {}
    }
    missing
}

/// "2 × tee (m, black): $50.00".
pub(super) fn line_text(line: &PricedLine, currency: &Currency) -> String {
    let choices: Vec<String> = line.choices.iter().map(choice_text).collect();
    let described = if choices.is_empty() {
        line.name.clone()
    } else {
        format!("{} ({})", line.name, choices.join(", "))
    };
    format!("{} × {described}: {}", line.quantity, line.total.format(currency))
}

fn choice_text(choice: &Choice) -> String {
    match (&choice.qualifier, choice.exclude) {
        (_, true) => format!("no {}", choice.value),
        (Some(qualifier), false) => format!("{qualifier} {}", choice.value),
        (None, false) => choice.value.clone(),
    }
}

fn line_list(state: &OrderState) -> String {
    state
        .lines
        .iter()
        .map(|line| format!("- {}", line_text(line, &state.currency)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The order after a change: its lines and the total.
pub(super) fn listing(state: &OrderState) -> String {
    if state.lines.is_empty() {
        return "Your order is empty now.".to_owned();
    }
    format!(
        "Your order:\n{}\nTotal: {}",
        line_list(state),
        state.totals.total.format(&state.currency)
    )
}

/// Everything the shopper is about to commit to.
pub(super) fn summary(state: &OrderState) -> String {
    let currency = &state.currency;
    let customer = &state.customer;
    let who = match (&customer.name, &customer.email) {
        (Some(name), Some(email)) => format!("For {name} ({email})"),
        (Some(name), None) => format!("For {name}"),
        (None, Some(email)) => format!("For {email}"),
        (None, None) => "For you".to_owned(),
    };
    let whereto = state
        .shipping_address
        .as_ref()
        .map_or_else(String::new, |address| format!(", shipping to {address}"));
    format!(
        "Here is your order:\n{}\nSubtotal: {}\nShipping: {}\nTotal: {}\n{who}{whereto}.\n\n{ASK_TO_CONFIRM}",
        line_list(state),
        state.totals.subtotal.format(currency),
        state.totals.shipping.format(currency),
        state.totals.total.format(currency),
    )
}

/// `emails`: the shop sends order emails, so the customer's address gets the updates;
/// without it the chat says where to follow the order instead of promising mail.
pub(super) fn confirmed(state: &OrderState, number: Option<&OrderNumber>, emails: bool) -> String {
    let thanks = match &state.customer.name {
        Some(name) => format!("Thank you, {name}!"),
        None => "Thank you!".to_owned(),
    };
    let items: u32 = state.lines.iter().fold(0u32, |sum, line| sum.saturating_add(line.quantity));
    let items = if items == 1 { "1 item".to_owned() } else { format!("{items} items") };
    let updates = match (&state.customer.email, emails) {
        (Some(email), true) => format!(" We'll send updates to {email}."),
        _ => {
            let ask = match number {
                Some(number) => format!("where is my order {number}?"),
                None => "where is my order?".to_owned(),
            };
            format!(" To follow it, ask here any time: \"{ask}\"")
        }
    };
    format!(
        "{thanks} {} is confirmed: {items}, total {}.{updates}",
        capitalised(&your_order(number)),
        state.totals.total.format(&state.currency)
    )
}

pub(super) fn already_confirmed(number: Option<&OrderNumber>) -> String {
    format!("{} is already confirmed.", capitalised(&your_order(number)))
}

pub(super) fn cancelled(number: Option<&OrderNumber>) -> String {
    format!("{} is cancelled.", capitalised(&your_order(number)))
}

/// Why a confirmed order cannot be cancelled in the chat, and who can help.
pub(super) fn cancel_refused(
    block: Option<super::CancelBlock>,
    number: Option<&OrderNumber>,
) -> String {
    let order = capitalised(&your_order(number));
    let why = match block {
        Some(super::CancelBlock::ReturnOpen) => {
            format!("{order} has a return in progress, so I can't cancel it here.")
        }
        _ => format!("{order} has already shipped, so I can't cancel it here."),
    };
    format!(
        "{why} A person from our team can help: say \"talk to a person\". Once it arrives, \
         you can also return it at /returns."
    )
}

/// Why an order takes no more edits.
pub(super) fn closed(state: &OrderState, number: Option<&OrderNumber>) -> String {
    match state.status {
        crate::orders::OrderStatus::Cancelled => {
            "This order was cancelled, so it can't be changed anymore.".to_owned()
        }
        crate::orders::OrderStatus::Shipped | crate::orders::OrderStatus::Delivered => format!(
            "{} has already shipped, so it can't be changed here. Once it arrives you can \
             return items at /returns, or ask to talk to a person.",
            capitalised(&your_order(number))
        ),
        _ => format!(
            "{} is already confirmed, so it can't be changed here. You can cancel it (\"cancel \
             my order\") or ask to talk to a person.",
            capitalised(&your_order(number))
        ),
    }
}

fn your_order(number: Option<&OrderNumber>) -> String {
    match number {
        Some(number) => format!("your order {number}"),
        None => "your order".to_owned(),
    }
}

pub(super) fn shipping_to(address: &PostalAddress) -> String {
    format!("I'll ship to {address}.")
}

/// "tee in black", "trail bottle".
fn stock_item(catalog: &Catalog, key: &StockKey) -> String {
    let name = catalog.product(&key.sku).map_or_else(|| key.sku.to_string(), |p| p.name.clone());
    match &key.option {
        None => name,
        Some((_, value)) => format!("{name} in {value}"),
    }
}

/// An edit asked for more than is left.
pub(super) fn out_of_stock(catalog: &Catalog, shortfall: &Shortfall, already: u32) -> String {
    let item = stock_item(catalog, &shortfall.key);
    match (shortfall.available, already) {
        (0, _) => format!("Sorry, we're out of the {item}."),
        (available, 0) => format!("Sorry, only {available} left of the {item}."),
        (available, already) => format!(
            "Sorry, only {available} left of the {item}, and your order already has {already}."
        ),
    }
}

/// Stock ran short between the edit and the confirmation.
pub(super) fn short_at_confirmation(catalog: &Catalog, shortfall: &Shortfall) -> String {
    let item = stock_item(catalog, &shortfall.key);
    match shortfall.available {
        0 => format!(
            "Sorry, we've just run out of the {item}. Please remove it from your order, then \
             confirm again."
        ),
        available => format!(
            "Sorry, only {available} left of the {item}, and your order has {}. Please lower the \
             quantity, then confirm again.",
            shortfall.wanted
        ),
    }
}

pub(super) fn zero_quantity() -> String {
    "A quantity of 0 doesn't work: to take something out of your order, say \"remove\" and the \
     item."
        .to_owned()
}

/// The reply to a message nothing could be used from.
pub(super) fn fallback(message: &str, catalog: &Catalog) -> (Option<TurnCode>, String) {
    let example = example_order(catalog);
    let words = words_of(message);
    if words.is_empty() {
        return (
            None,
            format!(
                "Hi! What would you like to order? Tell me in your own words, for example \
                 \"{example}\"."
            ),
        );
    }
    if is_only(&words, GREETINGS, GREETING_FILLERS) {
        return (None, hello(catalog, &example));
    }
    if is_only(&words, THANKS, THANKS_FILLERS) {
        return (None, "You're welcome! Anything else I can do for you?".to_owned());
    }
    (
        Some(TurnCode::NotUnderstood),
        format!(
            "Sorry, I didn't understand that. Tell me what you'd like to order, for example \
             \"{example}\", or ask about an order you placed (\"where is my order G-100042?\")."
        ),
    )
}

fn hello(catalog: &Catalog, example: &str) -> String {
    let categories: Vec<String> =
        catalog.categories().into_iter().map(|c| c.to_lowercase()).collect();
    let range = if categories.is_empty() {
        "anything in our shop".to_owned()
    } else {
        and_list(&categories)
    };
    format!(
        "Hi! I can take your order for {range}: just tell me what you'd like in your own words, \
         for example \"{example}\". I can also check on an order, help with a return or get you \
         a person."
    )
}

/// "2 wool socks": a product the shopper could order without answering a question.
fn example_order(catalog: &Catalog) -> String {
    let needs_no_question = |p: &&crate::catalog::Product| {
        p.options.iter().all(|g| !g.required || g.default.is_some() || g.kind == GroupKind::Multi)
    };
    let product = catalog.products.iter().find(needs_no_question).or(catalog.products.first());
    match product {
        Some(product) if product.name.ends_with('s') => format!("2 {}", product.name),
        Some(product) => format!("2 {}s", product.name),
        None => "2 of something".to_owned(),
    }
}

const GREETINGS: &[&str] =
    &["hi", "hello", "hey", "heya", "hiya", "howdy", "hallo", "hola", "yo", "greetings", "morning"];
const GREETING_FILLERS: &[&str] =
    &["there", "all", "everyone", "folks", "team", "good", "afternoon", "evening", "again", "guys"];
const THANKS: &[&str] = &["thanks", "thank", "thx", "ty", "cheers"];
const THANKS_FILLERS: &[&str] = &["you", "so", "much", "a", "lot", "very", "again", "great"];

fn words_of(message: &str) -> Vec<String> {
    tokenize(message)
        .into_iter()
        .filter(|token| token.kind != TokenKind::Break)
        .map(|token| token.text)
        .collect()
}

fn is_only(words: &[String], keys: &[&str], fillers: &[&str]) -> bool {
    words.iter().any(|w| keys.contains(&w.as_str()))
        && words.iter().all(|w| keys.contains(&w.as_str()) || fillers.contains(&w.as_str()))
}

/// "hi, two tees": answered with a hello in front.
pub(super) fn opens_with_greeting(message: &str) -> bool {
    let words = words_of(message);
    match words.as_slice() {
        [first, ..] if GREETINGS.contains(&first.as_str()) => true,
        [good, time, ..] => {
            good == "good" && ["morning", "afternoon", "evening"].contains(&time.as_str())
        }
        _ => false,
    }
}

/// Capital first letter and a full stop, for messages made from error texts.
pub(super) fn sentence(text: &str) -> String {
    let text = capitalised(text.trim());
    if text.ends_with(['.', '!', '?']) {
        text
    } else {
        format!("{text}.")
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

pub(super) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The answer to "where is my order" once the shopper has proven it is theirs: the
/// status and total, and once it shipped the carrier, tracking number and link.
pub fn order_status_answer(number: &OrderNumber, order: &OrderState) -> String {
    let mut text = format!(
        "Order {number} is {}, total {}.",
        order.status.as_str(),
        order.totals.total.format(&order.currency)
    );
    let when = |at: time::OffsetDateTime| {
        let date = at.date();
        format!("{} {} {}", date.day(), date.month(), date.year())
    };
    if let Some(at) = order.delivered_at() {
        text.push_str(&format!(" It was delivered on {}.", when(at)));
    } else if let Some(at) = order.shipped_at() {
        text.push_str(&format!(" It shipped on {}.", when(at)));
    }
    if let Some(tracking) = order.latest_tracking() {
        let carrier = tracking.carrier.as_ref().map(|c| format!(" with {c}")).unwrap_or_default();
        let number = tracking
            .tracking_number
            .as_ref()
            .map(|n| format!(", tracking number {n}"))
            .unwrap_or_default();
        text.push_str(&format!(" It went{carrier}{number}."));
        if let Some(url) = &tracking.tracking_url {
            text.push_str(&format!(" Track it here: {url}"));
        }
    }
    let payment = &order.payment;
    let paid = |m: crate::money::Money| m.format(&order.currency);
    match payment.status {
        PaymentStatus::NotRequired => {}
        PaymentStatus::Pending => text.push_str(" The payment has not arrived yet."),
        PaymentStatus::Paid => text.push_str(&format!(" It is paid ({}).", paid(payment.paid))),
        PaymentStatus::Expired => text.push_str(" The payment link expired unpaid."),
        PaymentStatus::Refunded | PaymentStatus::PartiallyRefunded => text.push_str(&format!(
            " It was paid ({}); {} has been refunded.",
            paid(payment.paid),
            paid(payment.refunded)
        )),
    }
    text
}
