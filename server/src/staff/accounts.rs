//! Staff accounts: creating one with a hashed password, and checking a sign-in.
//!
//! Passwords are hashed with Argon2id at the crate's default parameters (19 MiB, two
//! passes, one lane: OWASP's recommended minimum) and a random 16-byte salt per hash;
//! the PHC string stored carries the parameters, so old hashes keep verifying if the
//! defaults change. Hashing takes tens of milliseconds of CPU, so it runs on the
//! blocking pool, never on an async worker, and a sign-in's check waits for one of a
//! bounded number of permits ([`HashLimit`]) so that a flood of sign-ins cannot queue
//! unbounded work and memory.

use std::{
    fmt,
    sync::{Arc, LazyLock},
    time::Duration,
};

use argon2::{
    password_hash::{phc::PasswordHash, PasswordHasher, PasswordVerifier},
    Argon2,
};
use gapless_domain::orders::{Email, EmailError};
use gapless_store::{new_id, NewStaff, StaffRow, Store, StoreError};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Fewer characters than this is refused when an account is created.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// More is refused everywhere: hashing a megabyte per attempt is a denial of service.
pub const MAX_PASSWORD_CHARS: usize = 1000;

/// What a staff member may do. Agents work conversations and returns; admins also
/// manage accounts (in the console, later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum StaffRole {
    Admin,
    Agent,
}

impl StaffRole {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Admin => "admin",
            StaffRole::Agent => "agent",
        }
    }

    /// Whether this role may do `what`. Agents work the queues and read the audit
    /// trail; moving money (refunds, store credit, shipping an exchange) and exporting
    /// the audit log are for admins.
    pub fn may(self, what: Permission) -> bool {
        match (self, what) {
            (StaffRole::Admin, _) => true,
            (
                StaffRole::Agent,
                Permission::SettleReturns
                | Permission::ExportAudit
                | Permission::ManageIntegrations,
            ) => false,
            (StaffRole::Agent, _) => true,
        }
    }

    /// The role as the store keeps it; `None` for anything else.
    pub fn parse(text: &str) -> Option<StaffRole> {
        match text {
            "admin" => Some(StaffRole::Admin),
            "agent" => Some(StaffRole::Agent),
            _ => None,
        }
    }
}

impl fmt::Display for StaffRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a staff action needs; [`StaffRole::may`] says who has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Conversations, timelines, orders and the metrics.
    ReadAudit,
    /// Handoff replies, return review (approve, reject), receipt, cancellation.
    WorkQueues,
    /// Refunds, store credit, and shipping an exchange's replacement.
    SettleReturns,
    /// The audit log as CSV.
    ExportAudit,
    /// Webhook endpoints and API keys: where the shop's data goes, and who may write.
    ManageIntegrations,
}

impl Permission {
    /// What a staff member without this permission is told.
    pub fn refusal(self) -> &'static str {
        match self {
            Permission::SettleReturns => {
                "only an admin can record a refund, store credit or exchange; ask an admin"
            }
            Permission::ExportAudit => "only an admin can export the audit log",
            Permission::ManageIntegrations => "only an admin can manage webhooks and API keys",
            Permission::ReadAudit | Permission::WorkQueues => "your role does not allow this",
        }
    }

    /// What recording a return event of `kind` needs.
    pub fn for_return_event(kind: &str) -> Permission {
        match kind {
            "refunded" | "credited" | "exchanged" => Permission::SettleReturns,
            _ => Permission::WorkQueues,
        }
    }
}

/// A password as typed: zeroed when dropped, `[redacted]` in `Debug`, never serialized.
pub struct Password(SecretString);

impl Password {
    pub fn new(text: impl Into<String>) -> Password {
        Password(SecretString::from(text.into()))
    }

    fn chars(&self) -> usize {
        self.0.expose_secret().chars().count()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

impl<'de> Deserialize<'de> for Password {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Password::new)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0:?} is not a usable email address: {1}")]
    Email(String, EmailError),
    #[error("the password is too short: use at least {MIN_PASSWORD_CHARS} characters")]
    PasswordTooShort,
    #[error("the password is too long: use at most {MAX_PASSWORD_CHARS} characters")]
    PasswordTooLong,
    #[error("a staff account with the email {0} already exists")]
    EmailTaken(String),
    #[error("the stored staff account {0} is not valid: {1}")]
    Corrupt(String, String),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("too many sign-ins are being checked at once; try again in a moment")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The form staff emails are stored and looked up in: trimmed, checked, all lowercase
/// (unlike customers' addresses, whose local part keeps its case: a sign-in must not
/// depend on how someone capitalized their address).
pub fn normalize_email(input: &str) -> Result<String, AccountError> {
    Email::parse(input)
        .map(|email| email.as_str().to_lowercase())
        .map_err(|e| AccountError::Email(input.trim().to_owned(), e))
}

/// Creates an account. Checks the email and the password's length first; an email that
/// already has an account is [`AccountError::EmailTaken`] and changes nothing.
pub async fn create(
    store: &dyn Store,
    email: &str,
    role: StaffRole,
    password: &Password,
) -> Result<StaffRow, AccountError> {
    let email = normalize_email(email)?;
    let chars = password.chars();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooShort);
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooLong);
    }
    let new = NewStaff {
        id: new_id(),
        email,
        role: role.as_str().to_owned(),
        password_hash: hash(password).await?,
        created_at: OffsetDateTime::now_utc(),
    };
    if !store.create_staff(&new).await? {
        return Err(AccountError::EmailTaken(new.email));
    }
    Ok(StaffRow {
        id: new.id,
        email: new.email,
        role: new.role,
        password_hash: new.password_hash,
        created_at: new.created_at,
        disabled_at: None,
    })
}

/// How many password checks may run at once, and how long one waits for its turn.
/// Each Argon2id check holds 19 MiB and a CPU core for tens of milliseconds: without a
/// bound, sign-ins with made-up emails (which no per-email limit catches) would queue
/// hundreds of them.
#[derive(Debug, Clone)]
pub struct HashLimit {
    permits: Arc<Semaphore>,
    wait: Duration,
}

impl HashLimit {
    /// `at_once` checks at a time (at least one); a check that cannot start within `wait`
    /// is refused with [`AccountError::Busy`] rather than queued longer.
    pub fn new(at_once: usize, wait: Duration) -> Self {
        HashLimit { permits: Arc::new(Semaphore::new(at_once.max(1))), wait }
    }

    async fn permit(&self) -> Result<OwnedSemaphorePermit, AccountError> {
        // The semaphore is polled before the timer: a free permit is taken even when the
        // wait is zero.
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) | Err(_) => Err(AccountError::Busy),
        }
    }
}

/// The account `email` and `password` sign in to, or `None`: for an unknown email, a
/// wrong password and a disabled account alike. An unknown email still costs one hash
/// verification (against a dummy hash, under the same [`HashLimit`]), so the answer's
/// timing does not tell whether an account exists. [`AccountError::Busy`] when no
/// check could start in time.
pub async fn authenticate(
    store: &dyn Store,
    limit: &HashLimit,
    email: &str,
    password: &Password,
) -> Result<Option<StaffRow>, AccountError> {
    if password.chars() > MAX_PASSWORD_CHARS {
        return Ok(None);
    }
    let account = match normalize_email(email) {
        Ok(email) => store.staff_by_email(&email).await?,
        Err(_) => None,
    };
    let permit = limit.permit().await?;
    let stored_hash = account.as_ref().map(|account| account.password_hash.clone());
    let matches = verify(password, stored_hash, permit).await.map_err(|e| match &account {
        Some(account) => AccountError::Corrupt(account.id.clone(), e),
        None => AccountError::Hashing(e),
    })?;
    Ok(account.filter(|account| matches && account.disabled_at.is_none()))
}

/// Computes the dummy hash now rather than during the first sign-in with an unknown
/// email, which would otherwise take twice as long as every other.
pub fn warm_up() {
    tokio::task::spawn_blocking(|| LazyLock::force(&DUMMY_HASH));
}

/// The hash an unknown email's attempt is checked against: same algorithm and
/// parameters as real hashes, of a password nobody knows.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let unknowable = new_id();
    hash_blocking(unknowable.as_bytes()).expect("hashing a fixed-length password succeeds")
});

fn hash_blocking(password: &[u8]) -> Result<String, String> {
    let hash: PasswordHash =
        Argon2::default().hash_password(password).map_err(|e| e.to_string())?;
    Ok(hash.to_string())
}

async fn hash(password: &Password) -> Result<String, AccountError> {
    let secret = password.0.clone();
    tokio::task::spawn_blocking(move || hash_blocking(secret.expose_secret().as_bytes()))
        .await
        .map_err(|e| AccountError::Hashing(e.to_string()))?
        .map_err(AccountError::Hashing)
}

/// `Ok(false)` for a wrong password; `Err` when the stored hash cannot be read. Without
/// a stored hash, checks against the dummy one and answers `Ok(false)`. The `permit`
/// is held by the blocking task itself, so it is released when the work ends, even
/// when the request that asked was dropped meanwhile.
async fn verify(
    password: &Password,
    stored_hash: Option<String>,
    permit: OwnedSemaphorePermit,
) -> Result<bool, String> {
    let secret = password.0.clone();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let hash = stored_hash.as_deref().unwrap_or(DUMMY_HASH.as_str());
        match Argon2::default().verify_password(secret.expose_secret().as_bytes(), hash) {
            Ok(()) if stored_hash.is_none() => Ok(false),
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    })
    .await
    .map_err(|e| e.to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_emails_are_trimmed_checked_and_lowercased() {
        assert_eq!(normalize_email("  Ana.Ruiz@Example.COM ").unwrap(), "ana.ruiz@example.com");
        for bad in ["", "ana", "ana@", "ana @example.com", "ana@example"] {
            let error = normalize_email(bad).unwrap_err();
            assert!(matches!(error, AccountError::Email(..)), "{bad:?}: {error}");
        }
    }

    #[test]
    fn a_password_never_shows_in_debug_output() {
        let shown = format!("{:?}", Password::new("correct horse battery staple"));
        assert!(!shown.contains("horse"), "{shown}");
    }

    #[test]
    fn a_hash_is_argon2id_salted_and_verifies_only_its_password() {
        let password = b"correct horse battery staple";
        let first = hash_blocking(password).unwrap();
        let second = hash_blocking(password).unwrap();
        assert!(first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{first}");
        assert_ne!(first, second, "a fresh salt per hash");
        let argon2 = Argon2::default();
        assert!(argon2.verify_password(password, &*first).is_ok());
        assert!(argon2.verify_password(b"correct horse battery stapler", &*first).is_err());
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let real = hash_blocking(b"correct horse battery staple").unwrap();
        let params = |hash: &str| hash.split('$').take(4).collect::<Vec<_>>().join("$");
        assert_eq!(params(&DUMMY_HASH), params(&real));
    }

    #[tokio::test]
    async fn a_check_that_cannot_start_in_time_is_refused_and_runs_nothing() {
        let db = gapless_store::testing::sqlite().await;
        let limit = HashLimit::new(1, Duration::from_millis(50));
        let guess = Password::new("not the password 123");
        let held = limit.permit().await.unwrap();
        let started = std::time::Instant::now();
        let busy = authenticate(db.store.as_ref(), &limit, "ana@example.com", &guess).await;
        assert!(matches!(busy, Err(AccountError::Busy)), "{busy:?}");
        assert!(started.elapsed() < Duration::from_millis(500), "{:?}", started.elapsed());
        drop(held);
        let checked = authenticate(db.store.as_ref(), &limit, "ana@example.com", &guess).await;
        assert!(matches!(checked, Ok(None)), "{checked:?}");
        assert_eq!(limit.permits.available_permits(), 1, "the permit came back");
    }

    #[test]
    fn roles_read_back_from_their_stored_names() {
        for role in [StaffRole::Admin, StaffRole::Agent] {
            assert_eq!(StaffRole::parse(role.as_str()), Some(role));
        }
        assert_eq!(StaffRole::parse("Admin"), None);
    }
}
