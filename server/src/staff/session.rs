//! A staff member's web session: what signing in writes into it (shared by the JSON
//! API and the console), and the CSRF token that every console form sends back.
//!
//! The token is random per sign-in and lives only in the server-side session; forms
//! carry it in a hidden field. A page from another site cannot read it, so it cannot
//! make a signed-in browser post a working form. (Every unsafe request also passes
//! [`crate::staff::guard::same_origin`], and the cookie is SameSite=Lax.)

use tower_sessions::Session;

use super::extractor::SESSION_KEY;

/// Session key of the CSRF token.
pub const CSRF_KEY: &str = "staff.csrf";

/// A signed-in staff session ends after this long without a request (a shopper's
/// session keeps the shop's 14 days): a console left open on a shared machine does not
/// stay signed in for days.
pub const STAFF_IDLE: time::Duration = time::Duration::hours(8);

/// Signs `account_id` in on `session`: a new session id first (an id planted in the
/// browser before sign-in is worth nothing after it: session fixation), then the
/// account and a fresh CSRF token.
pub async fn start(
    session: &Session,
    account_id: &str,
) -> Result<String, tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.set_expiry(Some(tower_sessions::Expiry::OnInactivity(STAFF_IDLE)));
    session.insert(SESSION_KEY, account_id).await?;
    let token = new_token();
    session.insert(CSRF_KEY, &token).await?;
    Ok(token)
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
