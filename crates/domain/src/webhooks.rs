//! Webhooks (CONTRACTS §6): which endpoint takes which message, and when a message that
//! was not delivered is tried again.

use std::fmt;

/// The event types a message can carry after `order.` and `return.`. A filter naming
/// anything else is a typo, refused when the endpoint is added rather than silently
/// never matching.
pub const ORDER_EVENTS: &[&str] = &[
    "exchange_for",
    "line_added",
    "line_changed",
    "line_removed",
    "customer_identified",
    "shipping_address_set",
    "shipping_address_cleared",
    "summary_shown",
    "confirmed",
    "cancelled",
    "shipped",
    "delivered",
    "payment_requested",
    "paid",
    "payment_expired",
    "refunded",
];

pub const RETURN_EVENTS: &[&str] = &[
    "requested",
    "approved",
    "rejected",
    "sent_to_review",
    "received",
    "refunded",
    "exchanged",
    "credited",
    "cancelled",
];

/// The topic of the "send a test event" button.
pub const TEST_TOPIC: &str = "webhook.test";

/// One entry of an endpoint's `events`: `*`, `order.*`, `return.*` or one type such as
/// `order.confirmed`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventFilter(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("an endpoint needs at least one event filter (\"*\" for all)")]
    Empty,
    #[error(
        "{0:?} is not an event filter: use \"*\", \"order.*\", \"return.*\" or one type \
         such as \"order.confirmed\""
    )]
    Shape(String),
    #[error("{filter:?} names no event: the {family} events are {known}")]
    Unknown { filter: String, family: &'static str, known: String },
}

impl EventFilter {
    pub fn parse(text: &str) -> Result<EventFilter, FilterError> {
        let text = text.trim();
        if text == "*" {
            return Ok(EventFilter(text.to_owned()));
        }
        let Some((family, kind)) = text.split_once('.') else {
            return Err(FilterError::Shape(text.to_owned()));
        };
        let known = match family {
            "order" => ORDER_EVENTS,
            "return" => RETURN_EVENTS,
            _ => return Err(FilterError::Shape(text.to_owned())),
        };
        if kind == "*" || known.contains(&kind) {
            Ok(EventFilter(text.to_owned()))
        } else if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            Err(FilterError::Shape(text.to_owned()))
        } else {
            Err(FilterError::Unknown {
                filter: text.to_owned(),
                family: if family == "order" { "order" } else { "return" },
                known: known.join(", "),
            })
        }
    }

    /// Parses a list (a comma-separated `--events` value split by the caller, or the
    /// API's array); duplicates are dropped, the order kept.
    pub fn parse_all<S: AsRef<str>>(texts: &[S]) -> Result<Vec<EventFilter>, FilterError> {
        let mut filters: Vec<EventFilter> = Vec::new();
        for text in texts {
            let filter = EventFilter::parse(text.as_ref())?;
            if !filters.contains(&filter) {
                filters.push(filter);
            }
        }
        if filters.is_empty() {
            return Err(FilterError::Empty);
        }
        Ok(filters)
    }

    /// Whether a message of `topic` (`order.confirmed`) passes this filter.
    pub fn matches(&self, topic: &str) -> bool {
        match self.0.as_str() {
            "*" => true,
            filter => match filter.strip_suffix(".*") {
                Some(family) => {
                    topic.strip_prefix(family).is_some_and(|rest| rest.starts_with('.'))
                }
                None => filter == topic,
            },
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether an endpoint with these filters takes a message of `topic`.
pub fn takes<S: AsRef<str>>(filters: &[S], topic: &str) -> bool {
    filters
        .iter()
        .filter_map(|f| EventFilter::parse(f.as_ref()).ok())
        .any(|filter| filter.matches(topic))
}

/// How long after the first attempt a message keeps being retried (CONTRACTS §6: at
/// least 24 h): the last retry falls on this mark, and its failure is the end.
pub const RETRY_FOR_MS: i64 = 24 * 60 * 60 * 1000;
/// The first retry: within 30 s of the first failure, as the contract promises.
pub const FIRST_RETRY_MS: i64 = 5_000;
/// No wait between attempts is longer than this.
pub const MAX_RETRY_MS: i64 = 60 * 60 * 1000;

/// What to do after an attempt that was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    At(i64),
    GiveUp,
}

/// The next attempt after `failed` attempts (this one included, so ≥ 1) of a message
/// first tried at `first_ms`, failing now at `now_ms`: exponential backoff (5 s, 10 s,
/// 20 s, … up to an hour) with jitter between half and all of the step, where `jitter`
/// in `[0, 1)` is the caller's random draw. The last retry is placed on the
/// [`RETRY_FOR_MS`] mark; a failure at or after it gives up.
pub fn next_retry(failed: u32, first_ms: i64, now_ms: i64, jitter: f64) -> Retry {
    let deadline = first_ms.saturating_add(RETRY_FOR_MS);
    if now_ms >= deadline {
        return Retry::GiveUp;
    }
    let exponent = failed.saturating_sub(1).min(20);
    let step = FIRST_RETRY_MS.saturating_mul(1 << exponent).min(MAX_RETRY_MS);
    let jitter = jitter.clamp(0.0, 1.0);
    let wait = step / 2 + ((step / 2) as f64 * jitter) as i64;
    Retry::At(now_ms.saturating_add(wait.max(1)).min(deadline))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_the_contract_shapes_and_name_typos() {
        for ok in ["*", "order.*", "return.*", "order.confirmed", "return.refunded"] {
            assert_eq!(EventFilter::parse(ok).unwrap().as_str(), ok);
        }
        assert!(matches!(EventFilter::parse("order.shiped"), Err(FilterError::Unknown { .. })));
        let message = EventFilter::parse("order.shiped").unwrap_err().to_string();
        assert!(message.contains("shipped"), "{message}");
        for bad in ["", "orders.*", "order", "order.", "Order.Confirmed", "**", "order.a-b"] {
            assert!(EventFilter::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(EventFilter::parse_all::<&str>(&[]), Err(FilterError::Empty));
        let list = EventFilter::parse_all(&["order.*", "order.*", "return.refunded"]).unwrap();
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn filters_match_by_family_and_type() {
        let families = ["order.*"];
        assert!(takes(&families, "order.confirmed"));
        assert!(!takes(&families, "return.approved"));
        assert!(!takes(&["order.*"], "orders.confirmed"));
        assert!(takes(&["*"], "return.approved"));
        assert!(takes(&["order.cancelled", "return.refunded"], "return.refunded"));
        assert!(!takes(&["order.cancelled"], "order.confirmed"));
        assert!(!takes::<&str>(&[], "order.confirmed"));
    }

    #[test]
    fn retries_back_off_within_bounds_and_give_up_after_a_day() {
        // The first retry comes within 30 s, whatever the draw.
        for jitter in [0.0, 0.5, 0.999] {
            let Retry::At(at) = next_retry(1, 0, 0, jitter) else { panic!("gave up at once") };
            assert!((2_500..=5_000).contains(&at), "{at}");
        }
        // Steps double up to an hour.
        let wait = |failed| match next_retry(failed, 0, 0, 0.999) {
            Retry::At(at) => at,
            Retry::GiveUp => panic!("gave up"),
        };
        assert!(wait(2) > wait(1) && wait(3) > wait(2));
        assert!(wait(30) <= MAX_RETRY_MS);
        // Retrying every time it says, it keeps going for at least 24 h, then stops.
        let mut now = 0;
        let mut failed = 1;
        while let Retry::At(at) = next_retry(failed, 0, now, 0.5) {
            assert!(at > now);
            now = at;
            failed += 1;
        }
        assert!(now >= 24 * 60 * 60 * 1000, "gave up after {now} ms");
        assert!(now <= RETRY_FOR_MS);
        assert!(failed < 60, "{failed} attempts");
    }
}
