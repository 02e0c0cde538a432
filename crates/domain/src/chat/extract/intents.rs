//! What a message asks for besides items: confirm, cancel, an order's status, a
//! return, a person. Each is a handful of phrasings; a message that asks about an
//! existing order is not also read as ordering ("I want to return the tee" adds no
//! tee).

use crate::chat::text::{Token, TokenKind};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Intents {
    /// "confirm", "place the order", "that's all" (the last only with something to
    /// confirm, decided by the caller).
    pub confirm: Confirmation,
    pub cancel: bool,
    pub status: bool,
    /// "did my payment go through?"
    pub payment: bool,
    pub start_return: bool,
    pub handoff: bool,
    /// Text after "because"/"about" in a request for a person.
    pub handoff_reason: Option<(usize, usize)>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Confirmation {
    #[default]
    None,
    /// "confirm", "place the order".
    Explicit,
    /// "that's all", "nothing else": a confirmation only if there is an order.
    Closing,
    /// "yes", "ok": a confirmation only when the message says nothing else.
    Affirmative,
}

const EXPLICIT_CONFIRM: &[&[&str]] = &[
    &["confirm"],
    &["confirmed"],
    &["place", "the", "order"],
    &["place", "my", "order"],
    &["place", "order"],
    &["place", "it"],
    &["submit"],
    &["checkout"],
    &["check", "out"],
    &["finalize"],
    &["finalise"],
    &["complete", "the", "order"],
    &["complete", "my", "order"],
    &["go", "ahead"],
    &["proceed"],
    &["ready", "to", "order"],
    &["lock", "it", "in"],
    &["ring", "it", "up"],
    &["send", "it"],
    &["book", "it"],
];

const CLOSING: &[&[&str]] = &[
    &["that's", "all"],
    &["thats", "all"],
    &["that", "is", "all"],
    &["that's", "it"],
    &["thats", "it"],
    &["that", "is", "it"],
    &["that", "will", "be", "all"],
    &["that'll", "be", "all"],
    &["thatll", "be", "all"],
    &["that'll", "do"],
    &["nothing", "else"],
    &["that's", "everything"],
    &["thats", "everything"],
    &["i'm", "done"],
    &["im", "done"],
    &["all", "done"],
    &["all", "set"],
    &["i'm", "good"],
    &["im", "good"],
];

#[rustfmt::skip]
const AFFIRMATIVE: &[&str] = &[
    "yes", "yep", "yeah", "yup", "ya", "yea", "y", "yass", "sure", "ok", "okay", "k", "kk",
    "correct", "right", "perfect", "great", "good", "looks", "sounds", "absolutely", "definitely",
    "lgtm", "do", "it", "please", "pls", "thanks", "thank", "you", "thx", "ty", "all", "fine",
    "that's", "thats", "is", "so", "very", "much", "alright", "cool", "awesome", "excellent",
    "exactly", "of", "course", "yess", "yesss", "go", "for",
];

const NEGATED_BY: &[&str] =
    &["don't", "dont", "not", "no", "before", "can't", "cant", "never", "how"];

const CANCEL: &[&[&str]] = &[
    &["cancel", "the", "order"],
    &["cancel", "my", "order"],
    &["cancel", "order"],
    &["cancel", "everything"],
    &["cancel", "it"],
    &["cancel", "all"],
    &["cancel", "that"],
    &["never", "mind"],
    &["nevermind"],
    &["nvm"],
    &["forget", "it"],
    &["forget", "about", "it"],
    &["forget", "the", "whole", "thing"],
    &["forget", "everything"],
    &["forget", "the", "order"],
    &["scrap", "the", "order"],
    &["scrap", "everything"],
    &["scrap", "it"],
    &["start", "over"],
    &["don't", "want", "anything"],
    &["dont", "want", "anything"],
    &["abort"],
];

const STATUS: &[&[&str]] = &[
    &["where", "is", "my"],
    &["where's", "my"],
    &["wheres", "my"],
    &["where", "my"],
    &["order", "status"],
    &["status"],
    &["track"],
    &["tracking"],
    &["shipped", "yet"],
    &["has", "my", "order"],
    &["has", "it", "shipped"],
    &["did", "my", "order"],
    &["when", "will", "my"],
    &["when", "will", "it", "arrive"],
    &["when", "does", "my"],
    &["still", "waiting"],
    &["not", "arrived"],
    &["hasn't", "arrived"],
    &["hasnt", "arrived"],
];

const PAYMENT: &[&[&str]] = &[
    &["my", "payment"],
    &["the", "payment"],
    &["payment", "status"],
    &["did", "it", "go", "through"],
    &["did", "you", "get", "my", "money"],
    &["did", "you", "receive", "my", "money"],
    &["was", "i", "charged"],
    &["have", "i", "paid"],
    &["is", "it", "paid"],
    &["is", "my", "order", "paid"],
    &["did", "i", "pay"],
    &["payment", "link"],
    &["link", "to", "pay"],
    &["where", "do", "i", "pay"],
    &["how", "do", "i", "pay"],
];

const RETURN: &[&[&str]] = &[
    &["return"],
    &["returning"],
    &["refund"],
    &["send", "back"],
    &["send", "it", "back"],
    &["send", "them", "back"],
    &["money", "back"],
    &["exchange"],
];

const HANDOFF: &[&[&str]] = &[
    &["human"],
    &["real", "person"],
    &["a", "person"],
    &["live", "person"],
    &["agent"],
    &["representative"],
    &["operator"],
    &["customer", "service"],
    &["customer", "support"],
    &["support", "team"],
    &["manager"],
    &["someone", "real"],
    &["live", "chat"],
    &["talk", "to", "someone"],
    &["speak", "to", "someone"],
    &["speak", "with", "someone"],
    &["talk", "with", "someone"],
];

pub fn find_intents(tokens: &[Token]) -> Intents {
    let words: Vec<&str> = tokens
        .iter()
        .map(|t| match t.kind {
            TokenKind::Email | TokenKind::OrderNumber => "",
            _ => t.text.as_str(),
        })
        .collect();
    let handoff = find_any(&words, HANDOFF);
    Intents {
        confirm: confirmation(&words),
        cancel: cancels(&words),
        status: find_any(&words, STATUS).is_some(),
        payment: find_any(&words, PAYMENT).is_some(),
        start_return: find_any(&words, RETURN).is_some_and(|at| !is_about_policy(&words, at)),
        handoff: handoff.is_some(),
        handoff_reason: handoff.and_then(|_| reason(tokens, &words)),
    }
}

/// "never mind the daypack" takes back one item, not the order.
fn cancels(words: &[&str]) -> bool {
    let only_cancel =
        words.iter().filter(|w| !w.is_empty() && !is_punctuation(w)).eq(["cancel"].iter());
    let phrase = find_all(words, CANCEL).into_iter().any(|at| {
        let len = CANCEL.iter().find(|phrase| matches_at(words, at, phrase)).map_or(0, |p| p.len());
        !matches!(words.get(at + len).copied(), Some("the" | "my" | "about"))
            || words[at..at + len].iter().any(|w| matches!(*w, "order" | "everything" | "it"))
    });
    only_cancel || phrase
}

fn confirmation(words: &[&str]) -> Confirmation {
    let negated =
        |at: usize| words[at.saturating_sub(3)..at].iter().any(|w| NEGATED_BY.contains(w));
    if find_all(words, EXPLICIT_CONFIRM).into_iter().any(|at| !negated(at)) {
        return Confirmation::Explicit;
    }
    if find_all(words, CLOSING).into_iter().any(|at| !negated(at)) {
        return Confirmation::Closing;
    }
    let content: Vec<&&str> =
        words.iter().filter(|w| !w.is_empty() && !is_punctuation(w)).collect();
    let affirmative = !content.is_empty()
        && content.iter().all(|w| AFFIRMATIVE.contains(w))
        && content.iter().any(|w| {
            matches!(
                **w,
                "yes"
                    | "yep"
                    | "yeah"
                    | "yup"
                    | "ya"
                    | "yea"
                    | "y"
                    | "sure"
                    | "ok"
                    | "okay"
                    | "k"
                    | "kk"
                    | "correct"
                    | "perfect"
                    | "absolutely"
                    | "definitely"
                    | "lgtm"
                    | "alright"
                    | "yass"
                    | "yess"
                    | "yesss"
                    | "exactly"
                    | "good"
                    | "great"
                    | "fine"
            )
        });
    if affirmative {
        Confirmation::Affirmative
    } else {
        Confirmation::None
    }
}

fn is_punctuation(word: &str) -> bool {
    word.chars().all(|c| !c.is_alphanumeric())
}

/// "what is your return policy" asks about returns without starting one.
fn is_about_policy(words: &[&str], at: usize) -> bool {
    words.get(at + 1).is_some_and(|w| matches!(*w, "policy" | "window" | "address" | "label"))
}

fn reason(tokens: &[Token], words: &[&str]) -> Option<(usize, usize)> {
    let at = words.iter().position(|w| matches!(*w, "because" | "about" | "regarding" | "re"))?;
    let rest: Vec<&Token> = tokens[at + 1..].iter().filter(|t| !t.is_break()).collect();
    let first = rest.first()?;
    let last = rest.last()?;
    Some((first.span.start, last.span.end))
}

fn matches_at(words: &[&str], at: usize, phrase: &[&str]) -> bool {
    phrase.iter().enumerate().all(|(k, word)| words.get(at + k) == Some(word))
}

fn find_any(words: &[&str], phrases: &[&[&str]]) -> Option<usize> {
    find_all(words, phrases).into_iter().next()
}

/// Positions where any of the phrases starts, in message order.
fn find_all(words: &[&str], phrases: &[&[&str]]) -> Vec<usize> {
    let mut found: Vec<usize> = Vec::new();
    for phrase in phrases {
        let Some(first) = phrase.first() else { continue };
        for (at, _) in words.iter().enumerate().filter(|(_, word)| *word == first) {
            if matches_at(words, at, phrase) && !found.contains(&at) {
                found.push(at);
            }
        }
    }
    found.sort_unstable();
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::text::tokenize;

    fn intents(message: &str) -> Intents {
        find_intents(&tokenize(message))
    }

    #[test]
    fn confirmations() {
        assert_eq!(intents("yes please!").confirm, Confirmation::Affirmative);
        assert_eq!(intents("place the order").confirm, Confirmation::Explicit);
        assert_eq!(intents("ok thats all thanks").confirm, Confirmation::Closing);
        assert_eq!(intents("don't confirm yet").confirm, Confirmation::None);
        assert_eq!(intents("yes and a coke").confirm, Confirmation::None);
    }

    #[test]
    fn cancel_needs_the_order_or_nothing_else() {
        assert!(intents("cancel").cancel);
        assert!(intents("never mind").cancel);
        assert!(intents("cancel my order please").cancel);
        assert!(!intents("cancel the coke").cancel);
    }

    #[test]
    fn order_questions() {
        let found = intents("where is my order G-100042");
        assert!(found.status && !found.start_return);
        assert!(intents("I want to return my order").start_return);
        assert!(!intents("what is your return policy").start_return);
        assert!(intents("can I talk to a human").handoff);
        assert!(intents("real person please").handoff);
    }
}
