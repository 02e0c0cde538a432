//! The limits on looking up an order or a return by what a customer proves (number or
//! RMA + email), shared by every way in: `/api/v1/returns`, the returns portal and the
//! chat's "where is my order". One limiter instance serves all three, so a script
//! cannot get more guesses by switching channels.
//!
//! Three budgets are spent by each lookup: the client IP's (when known), the order
//! number's or RMA's in its canonical spelling (`G-100042` = `g100042`), and the email's
//! as it is compared (trimmed, any case). Sequential order numbers tried with one email
//! run out of the email's budget; one order tried with many emails, of the number's.

use std::{
    net::IpAddr,
    time::{Duration, Instant},
};

use gapless_domain::{orders::OrderNumber, returns::RmaCode};

use crate::chat::limits::{Rate, RequestLimiter};

/// Every answer to a lookup that found nothing takes at least this long (the returns
/// service's floor too), so timing does not tell an unknown order from a wrong email.
pub const LOOKUP_FLOOR: Duration = Duration::from_millis(150);

pub struct LookupLimiter {
    /// Per client IP and per order number or RMA.
    subjects: RequestLimiter,
    /// Per email (its per-IP side is not used: `subjects` counts the IP once).
    emails: RequestLimiter,
}

impl LookupLimiter {
    /// `per_subject` is the budget of one order number, one RMA and one email each.
    pub fn new(per_ip: Rate, per_subject: Rate) -> Self {
        LookupLimiter {
            subjects: RequestLimiter::new(per_ip, per_subject),
            emails: RequestLimiter::new(per_ip, per_subject),
        }
    }

    /// A lookup of an order by its number and email: `Err(seconds to wait)` when any
    /// budget is spent.
    pub fn check_order(
        &self,
        client: Option<IpAddr>,
        number: &str,
        email: &str,
    ) -> Result<(), u64> {
        self.check(client, &order_key(number), email)
    }

    /// A lookup of a return by its RMA and email.
    pub fn check_return(&self, client: Option<IpAddr>, rma: &str, email: &str) -> Result<(), u64> {
        self.check(client, &rma_key(rma), email)
    }

    fn check(&self, client: Option<IpAddr>, subject: &str, email: &str) -> Result<(), u64> {
        self.subjects.check(client, subject)?;
        self.emails.check(None, &email_key(email))
    }
}

/// The canonical order number (`G-100042` for `g100042`, ` G-100042 `, …); input that
/// is no order number keeps one spelling per text (it finds nothing anyway).
pub fn order_key(number: &str) -> String {
    match OrderNumber::parse(number) {
        Ok(number) => number.as_str().to_owned(),
        Err(_) => format!("order?{}", number.trim().to_uppercase()),
    }
}

/// The canonical RMA code, as [`order_key`] for orders.
pub fn rma_key(rma: &str) -> String {
    match RmaCode::parse(rma.trim()) {
        Ok(rma) => rma.as_str().to_owned(),
        Err(_) => format!("rma?{}", rma.trim().to_uppercase()),
    }
}

/// The email as lookups compare it (trimmed, case ignored): every spelling that would
/// match the same order shares one budget.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Waits out the rest of [`LOOKUP_FLOOR`] since `started`.
pub async fn pad(started: Instant) {
    if let Some(rest) = LOOKUP_FLOOR.checked_sub(started.elapsed()) {
        tokio::time::sleep(rest).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_order_share_a_key() {
        assert_eq!(order_key("G-100042"), "G-100042");
        assert_eq!(order_key("g100042"), "G-100042");
        assert_eq!(order_key("  g-100042 "), "G-100042");
        assert_ne!(order_key("G-100043"), order_key("G-100042"));
        assert_eq!(order_key("not an order"), "order?NOT AN ORDER");
        assert_eq!(email_key("  Ana@Example.COM "), "ana@example.com");
    }

    #[tokio::test]
    async fn one_email_cannot_walk_order_numbers() {
        let rate = Rate { per_second: 0.001, burst: 2 };
        let open = Rate { per_second: 1000.0, burst: 1000 };
        let limiter = LookupLimiter::new(open, rate);
        assert_eq!(limiter.check_order(None, "G-100001", "ana@example.com"), Ok(()));
        assert_eq!(limiter.check_order(None, "G-100002", "ANA@example.com "), Ok(()));
        assert!(limiter.check_order(None, "G-100003", "ana@EXAMPLE.com").is_err());
        // Another email has its own budget, and so does the same number's.
        assert_eq!(limiter.check_order(None, "G-100004", "eve@example.com"), Ok(()));
    }
}
