//! Customer email (CONTRACTS §10), the store's side: one message per outbox event that
//! mails the customer, queued and sent like a webhook delivery.
//!
//! 1. When the delivery worker fans an outbox row out ([`crate::WebhookStore::fan_out`]),
//!    a [`FanOut`](crate::FanOut) that carries a [`NewEmail`] adds the message in the
//!    same transaction; a row fanned out twice (a lease outlived) still gives one
//!    message, keyed by the outbox row.
//! 2. [`EmailStore::claim_emails`] leases due messages, the first pending one of each
//!    order or return, so a shipping notice never overtakes its confirmation.
//! 3. [`EmailStore::record_email_attempt`] records what the SMTP server said.
//!
//! A message is stored whole, as it goes on the wire: every attempt sends the same
//! bytes and the same `Message-ID`.

use async_trait::async_trait;

use crate::{webhooks::AttemptNext, StoreError};

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailStatus {
    /// Not yet sent, or to be retried.
    Pending,
    /// The SMTP server accepted it.
    Sent,
    /// Refused for good (a 5xx answer), or not accepted before the retries ran out.
    Failed,
}

impl EmailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailStatus::Pending => "pending",
            EmailStatus::Sent => "sent",
            EmailStatus::Failed => "failed",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "pending" => Ok(EmailStatus::Pending),
            "sent" => Ok(EmailStatus::Sent),
            "failed" => Ok(EmailStatus::Failed),
            other => Err(StoreError::Corrupt(format!("unknown email status {other:?}"))),
        }
    }
}

impl TryFrom<String> for EmailStatus {
    type Error = StoreError;

    fn try_from(text: String) -> Result<Self, StoreError> {
        EmailStatus::parse(&text)
    }
}

/// A message built at fan-out time, for the outbox row it is fanned out with.
#[derive(Clone, PartialEq, Eq)]
pub struct NewEmail {
    pub order_number: String,
    pub rma: Option<String>,
    pub recipient: String,
    /// `<…@…>`, the same on every attempt.
    pub message_id: String,
    pub subject: String,
    /// The whole RFC 5322 message.
    pub message: String,
}

/// Never prints the address nor the message.
impl std::fmt::Debug for NewEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewEmail")
            .field("order_number", &self.order_number)
            .field("rma", &self.rma)
            .field("message_id", &self.message_id)
            .finish_non_exhaustive()
    }
}

/// A message a worker holds until its lease runs out.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EmailClaim {
    pub id: i64,
    pub topic: String,
    pub recipient: String,
    pub message_id: String,
    pub message: String,
    /// Attempts before this one.
    #[sqlx(try_from = "i64")]
    pub attempts: u32,
    pub first_attempt_ms: Option<i64>,
}

/// Never prints the address nor the message.
impl std::fmt::Debug for EmailClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailClaim")
            .field("id", &self.id)
            .field("topic", &self.topic)
            .field("message_id", &self.message_id)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// What came of one attempt. [`AttemptNext::Delivered`] is "accepted by the SMTP
/// server".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAttempt {
    pub email_id: i64,
    pub at_ms: i64,
    /// What the SMTP server answered, or why it could not be reached.
    pub error: Option<String>,
    pub next: AttemptNext,
}

/// One message, for staff.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EmailRow {
    pub id: i64,
    pub event_id: String,
    pub topic: String,
    pub order_number: String,
    pub rma: Option<String>,
    pub recipient: String,
    pub subject: String,
    #[sqlx(try_from = "String")]
    pub status: EmailStatus,
    #[sqlx(try_from = "i64")]
    pub attempts: u32,
    pub created_ms: i64,
    pub next_attempt_ms: i64,
    pub last_attempt_ms: Option<i64>,
    pub last_error: Option<String>,
    pub done_ms: Option<i64>,
}

/// What `/metrics` and the dashboard say about the mail queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EmailHealth {
    pub pending: u64,
    /// When the oldest pending message was queued.
    pub oldest_pending_ms: Option<i64>,
    pub failed: u64,
    pub sent: u64,
}

/// The customer email queue.
#[async_trait]
pub trait EmailStore: Send + Sync {
    /// Up to `limit` due messages, leased to the caller until `now_ms + lease_ms`:
    /// pending, due, not leased, and the first pending one of their order or return,
    /// with no earlier event of it still to be fanned out.
    async fn claim_emails(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<EmailClaim>, StoreError>;

    /// Records an attempt and frees the lease. Does nothing to a message that is no
    /// longer pending.
    async fn record_email_attempt(&self, attempt: &EmailAttempt) -> Result<(), StoreError> {
        self.record_email_attempts(std::slice::from_ref(attempt)).await
    }

    /// [`EmailStore::record_email_attempt`] for a whole round in one transaction.
    async fn record_email_attempts(&self, attempts: &[EmailAttempt]) -> Result<(), StoreError>;

    /// Gives claimed messages back unsent (a worker shutting down).
    async fn release_emails(&self, ids: &[i64]) -> Result<(), StoreError>;

    /// The messages of an order and of its returns, oldest first.
    async fn order_emails(&self, order_number: &str) -> Result<Vec<EmailRow>, StoreError>;

    async fn email_health(&self) -> Result<EmailHealth, StoreError>;
}
