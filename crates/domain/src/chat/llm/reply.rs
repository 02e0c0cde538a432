//! A reply the model phrased is shown only if it carries every fact of the template
//! reply unchanged (lines, prices, totals, questions, numbers), no number the template
//! does not have and no promise the template does not make (free shipping, a discount,
//! a refund, …); otherwise the template is.

use crate::catalog::Choice;
use crate::chat::turn::TurnOutcome;
use crate::orders::{OrderState, PricedLine};

/// A longer phrased reply is not used.
pub const MAX_REPLY_CHARS: usize = 2000;

/// `model_text` when it is usable, else `template`.
///
/// Usable: not blank, at most [`MAX_REPLY_CHARS`] characters, containing every fact
/// verbatim, and every word with a digit in it ("$25.00", "G-100042", "3") is a word of
/// the template too, so a model cannot add "$5 off" or "ships in 2 days" around the
/// facts; nor may it word a promise the template does not make ([`PROMISES`]: "free
/// shipping", "a discount", "we'll refund you", …), which needs no number.
pub fn checked_reply(template: &str, facts: &[String], model_text: &str) -> String {
    let text = model_text.trim();
    let usable = !text.is_empty()
        && text.chars().count() <= MAX_REPLY_CHARS
        && facts.iter().all(|fact| text.contains(fact.as_str()))
        && {
            let known = numeric_words(template);
            numeric_words(text).iter().all(|word| known.contains(word))
        }
        && {
            let made = promises(template);
            promises(text).iter().all(|promise| made.contains(promise))
        };
    if usable {
        text.to_owned()
    } else {
        template.to_owned()
    }
}

/// What a phrased reply must repeat unchanged: everything in the template reply that
/// comes from the order or the validator, in the order found, each a substring of
/// `outcome.reply`.
pub fn facts(outcome: &TurnOutcome) -> Vec<String> {
    let reply = &outcome.reply;
    let order = &outcome.order_after;
    let mut candidates: Vec<String> = Vec::new();
    // What the validator said about each command: questions, refusals.
    candidates.extend(outcome.validations.iter().filter_map(|v| v.message.clone()));
    candidates.extend(outcome.notes.iter().map(|note| note.content.clone()));
    candidates.extend(order.lines.iter().map(|line| line_text(line, order)));
    candidates.extend(totals(order));
    if let Some(email) = &order.customer.email {
        candidates.push(email.to_string());
    }
    candidates.extend(numeric_words(reply));
    let mut found: Vec<String> = Vec::new();
    for candidate in candidates {
        if !candidate.is_empty() && reply.contains(&candidate) && !found.contains(&candidate) {
            found.push(candidate);
        }
    }
    found
}

/// As the template lists a line: "2 × tee (m, black): $50.00".
fn line_text(line: &PricedLine, order: &OrderState) -> String {
    let choices: Vec<String> = line.choices.iter().map(choice_text).collect();
    let described = if choices.is_empty() {
        line.name.clone()
    } else {
        format!("{} ({})", line.name, choices.join(", "))
    };
    format!("{} × {described}: {}", line.quantity, line.total.format(&order.currency))
}

fn choice_text(choice: &Choice) -> String {
    match (&choice.qualifier, choice.exclude) {
        (_, true) => format!("no {}", choice.value),
        (Some(qualifier), false) => format!("{qualifier} {}", choice.value),
        (None, false) => choice.value.clone(),
    }
}

/// "Total: $50.00" as the listing and the summary say it, and "total $50.00" as the
/// confirmation does.
fn totals(order: &OrderState) -> Vec<String> {
    let currency = &order.currency;
    let totals = &order.totals;
    vec![
        format!("Subtotal: {}", totals.subtotal.format(currency)),
        format!("Shipping: {}", totals.shipping.format(currency)),
        format!("Total: {}", totals.total.format(currency)),
        format!("total {}", totals.total.format(currency)),
    ]
}

/// The words with a digit in them, without the punctuation around them.
fn numeric_words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        let word = word.trim_matches(|c: char| {
            matches!(c, '.' | ',' | ':' | ';' | '!' | '?' | '"' | '\'' | '(' | ')' | '[' | ']')
        });
        if word.chars().any(|c| c.is_ascii_digit()) && !words.iter().any(|w| w == word) {
            words.push(word.to_owned());
        }
    }
    words
}

/// Words that promise money, goods or service the shop decides, not the model. A word
/// matches its forms ("refund" matches "refunds", "refunded", "refundable"); a phrase
/// matches as words in a row, any case. Over-matching only shows the template instead.
pub const PROMISES: &[&str] = &[
    "free",
    "freebie",
    "gratis",
    "complimentary",
    "on the house",
    "no charge",
    "no cost",
    "discount",
    "coupon",
    "voucher",
    "promo",
    "rebate",
    "cashback",
    "cash back",
    "money back",
    "refund",
    "reimburse",
    "compensat",
    "credit",
    "waive",
    "price match",
    "half price",
    "half off",
    "percent off",
    "cheaper",
    "bonus",
    "gift",
    "upgrade",
    "express",
    "expedite",
    "overnight",
    "next day",
    "next-day",
    "guarantee",
    "warranty",
    "promise",
];

/// The [`PROMISES`] that `text` makes, each once.
fn promises(text: &str) -> Vec<&'static str> {
    // Lowercase words (keeping a `-` inside one) joined by single spaces, so that a
    // phrase matches across line breaks and punctuation.
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|word| !word.is_empty())
        .collect();
    let spaced = format!(" {}", words.join(" "));
    PROMISES
        .iter()
        .copied()
        .filter(|promise| {
            if promise.contains(' ') {
                spaced.contains(&format!(" {promise}"))
            } else {
                words.iter().any(|word| word.starts_with(promise))
            }
        })
        .collect()
}
