//! A staff member's web session: what signing in writes into it (shared by the JSON
//! API and the console), and the CSRF token that every console form sends back.
//!
//! The token is random per sign-in and lives only in the server-side session; forms
//! carry it in a hidden field. A page from another site cannot read it, so it cannot
//! make a signed-in browser post a working form. (Every unsafe request also passes
//! [`crate::staff::guard::same_origin`], and the cookie is SameSite=Lax.)

use time::{Duration, OffsetDateTime};
use tower_sessions::{Expiry, Session};

use super::extractor::SESSION_KEY;
use crate::sessions::ENDS_AT_KEY;

/// Session key of the CSRF token.
pub const CSRF_KEY: &str = "staff.csrf";

/// A signed-in staff session ends after this long without a staff request (a shopper's
/// session keeps the shop's 14 days): a console left open on a shared machine does not
/// stay signed in for days.
pub const STAFF_IDLE: Duration = Duration::hours(8);

/// The deadline is written again only when a request moves it by this much, so that a
/// busy console costs at most one session write a minute, not one per request.
const SLIDE_STEP: Duration = Duration::minutes(1);

/// Signs `account_id` in on `session` at `now`: a new session id first (an id planted
/// in the browser before sign-in is worth nothing after it: session fixation), then the
/// account, its idle deadline and a fresh CSRF token.
pub async fn start(
    session: &Session,
    account_id: &str,
    now: OffsetDateTime,
) -> Result<String, tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.insert(SESSION_KEY, account_id).await?;
    extend(session, now).await?;
    let token = new_token();
    session.insert(CSRF_KEY, &token).await?;
    Ok(token)
}

/// The staff account signed in on `session` at `now`, sliding its idle deadline
/// ([`STAFF_IDLE`] from now); `None` when nobody is. A session idle past its deadline
/// (or signed in before deadlines were kept) is ended here: deleted from the store and
/// its cookie cleared, so it cannot be resumed.
///
/// The deadline is kept in the session's data, not only in the stored row's expiry:
/// tower-sessions applies an expiry set during a request to that request's save only,
/// and every later save would put back the layer's 14 days.
pub async fn signed_in(
    session: &Session,
    now: OffsetDateTime,
) -> Result<Option<String>, tower_sessions::session::Error> {
    let Some(id) = session.get::<String>(SESSION_KEY).await? else {
        return Ok(None);
    };
    let deadline = session
        .get::<i64>(ENDS_AT_KEY)
        .await?
        .and_then(|seconds| OffsetDateTime::from_unix_timestamp(seconds).ok());
    match deadline {
        Some(deadline) if now <= deadline => {
            if next_deadline(now) - deadline >= SLIDE_STEP {
                extend(session, now).await?;
            }
            Ok(Some(id))
        }
        _ => {
            tracing::info!(staff = %id, "staff session ended after its idle limit");
            session.flush().await?;
            Ok(None)
        }
    }
}

/// [`STAFF_IDLE`] after `now`, rounded up to a whole second (the deadline is stored in
/// whole seconds, and the cookie's `Max-Age` then reads a whole 8 hours).
fn next_deadline(now: OffsetDateTime) -> OffsetDateTime {
    let deadline = now + STAFF_IDLE;
    match deadline.nanosecond() {
        0 => deadline,
        _ => deadline.replace_nanosecond(0).expect("zero is a valid nanosecond") + Duration::SECOND,
    }
}

/// Moves the session's deadline to [`STAFF_IDLE`] from `now`: in its data (see
/// [`ENDS_AT_KEY`], which the session store also expires the row by) and in the
/// cookie's lifetime.
async fn extend(
    session: &Session,
    now: OffsetDateTime,
) -> Result<(), tower_sessions::session::Error> {
    let deadline = next_deadline(now);
    session.insert(ENDS_AT_KEY, deadline.unix_timestamp()).await?;
    session.set_expiry(Some(Expiry::OnInactivity(deadline - now)));
    Ok(())
}

/// The session's CSRF token; one is made for a session signed in before tokens existed.
pub async fn csrf_token(session: &Session) -> Result<String, tower_sessions::session::Error> {
    if let Some(token) = session.get::<String>(CSRF_KEY).await? {
        return Ok(token);
    }
    let token = new_token();
    session.insert(CSRF_KEY, &token).await?;
    Ok(token)
}

/// Whether a form's token is the session's, compared in constant time.
pub fn same_token(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    a.len() == b.len() && !a.is_empty() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// 244 random bits (two v4 UUIDs, from the OS generator) as 64 hex digits.
fn new_token() -> String {
    let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    format!("{}{}", a.simple(), b.simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_are_whole_seconds_at_least_8_hours_ahead() {
        use time::macros::datetime;
        let at = datetime!(2030-06-01 12:00:00.25 UTC);
        assert_eq!(next_deadline(at), datetime!(2030-06-01 20:00:01 UTC));
        let whole = datetime!(2030-06-01 12:00:00 UTC);
        assert_eq!(next_deadline(whole), datetime!(2030-06-01 20:00:00 UTC));
    }

    #[test]
    fn tokens_are_long_random_and_compared_whole() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(same_token(&a, &a.clone()));
        assert!(!same_token(&a, &b));
        assert!(!same_token(&a, &a[..63]));
        assert!(!same_token("", ""), "an empty token never matches");
    }
}
