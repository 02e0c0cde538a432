//! What every staff sign-in and every staff request share, one per server, whether they
//! come through the JSON API or the console:
//!
//! - the rate limits: per client address (all sign-ins from it), and per email *from
//!   that address*, so that whoever guesses at one account is stopped without locking
//!   the real staff member, signing in from elsewhere, out of it;
//! - the bound on password checks running at once ([`HashLimit`]), which also covers
//!   the dummy check of an unknown email;
//! - the clock staff sessions' idle deadline is read from.

use std::{
    net::{IpAddr, Ipv6Addr},
    time::Duration,
};

use gapless_store::{StaffRow, Store};
use time::OffsetDateTime;

use super::accounts::{self, AccountError, HashLimit, Password};
use crate::chat::limits::{Rate, RequestLimiter};
pub use crate::returns::service::Clock;

/// Sign-in attempts from one client address: a sustained one per second, 30 at once (a
/// shop's staff behind one office address can all sign in at nine).
pub(crate) const PER_IP: Rate = Rate { per_second: 1.0, burst: 30 };
/// Sign-in attempts for one email from one client address: ten at once, then five a
/// minute.
pub(crate) const PER_EMAIL_AND_IP: Rate = Rate { per_second: 5.0 / 60.0, burst: 10 };
/// What a sign-in refused for want of a free password check is told to wait, in seconds.
const BUSY_RETRY_AFTER: u64 = 2;

/// Why a sign-in was not checked.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("too many sign-in attempts; try again in {retry_after} s")]
    RateLimited { retry_after: u64 },
    #[error("too many sign-ins are being checked at once; try again in {retry_after} s")]
    Busy { retry_after: u64 },
    #[error(transparent)]
    Failed(AccountError),
}

pub struct StaffGate {
    clock: Clock,
    limiter: RequestLimiter,
    checks: HashLimit,
}

impl StaffGate {
    /// `hashes` password checks at once (0: one per CPU core), each waiting at most
    /// `wait` for its turn.
    pub fn new(clock: Clock, hashes: usize, wait: Duration) -> Self {
        let hashes = match hashes {
            0 => std::thread::available_parallelism().map_or(2, |cores| cores.get()),
            n => n,
        };
        StaffGate {
            clock,
            limiter: RequestLimiter::new(PER_IP, PER_EMAIL_AND_IP),
            checks: HashLimit::new(hashes, wait),
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }

    /// The account `email` and `password` sign in to (see [`accounts::authenticate`]),
    /// once the attempt is within the rate limits and a password check is free.
    pub async fn sign_in(
        &self,
        store: &dyn Store,
        email: &str,
        password: &Password,
        client: Option<IpAddr>,
    ) -> Result<Option<StaffRow>, SignInError> {
        let client = client.map(network);
        // Keyed like the lookup, so `Ana@…` and `ana@…` share one allowance.
        let email_key = email.trim().to_lowercase();
        let subject = match client {
            Some(ip) => format!("{ip} {email_key}"),
            None => email_key,
        };
        self.limiter
            .check(client, &subject)
            .map_err(|retry_after| SignInError::RateLimited { retry_after })?;
        accounts::authenticate(store, &self.checks, email, password).await.map_err(|e| match e {
            AccountError::Busy => SignInError::Busy { retry_after: BUSY_RETRY_AFTER },
            e => SignInError::Failed(e),
        })
    }
}

/// The address a client is limited by: an IPv6 client by its /64 (one subscriber's
/// network, which it can pick any address in), an IPv4-mapped one as IPv4.
fn network(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u128::from(u64::MAX)))),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_limited_by_their_64() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        assert_eq!(network(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")), ip("2001:db8:1:2::"));
        assert_eq!(network(ip("2001:db8:1:2::1")), network(ip("2001:db8:1:2:ffff::9")));
        assert_ne!(network(ip("2001:db8:1:2::1")), network(ip("2001:db8:1:3::1")));
        assert_eq!(network(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(network(ip("192.0.2.7")), ip("192.0.2.7"));
    }
}
