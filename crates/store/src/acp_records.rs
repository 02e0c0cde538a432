//! What ACP checkout sessions (CONTRACTS §9) write and read: the session's conversation
//! and key, and the answers kept for Idempotency-Keys.

use serde_json::Value;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq)]
pub struct NewAcpSession {
    pub id: String,
    pub api_key_id: String,
    pub conversation_id: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AcpSessionRow {
    pub id: String,
    pub api_key_id: String,
    pub conversation_id: String,
    pub created_at: OffsetDateTime,
    pub canceled_at: Option<OffsetDateTime>,
}

/// A request about to be worked on under an Idempotency-Key.
#[derive(Debug, Clone, PartialEq)]
pub struct AcpRequestClaim {
    pub api_key_id: String,
    pub idempotency_key: String,
    pub request_hash: String,
    /// Unix milliseconds now.
    pub claimed_ms: i64,
    /// A claim without an answer from before this (Unix milliseconds) was abandoned (its
    /// server stopped mid-request) and is taken over.
    pub abandoned_before_ms: i64,
}

/// What an Idempotency-Key already holds.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAcpRequest {
    pub request_hash: String,
    /// The HTTP status and body answered; `None` while the first request is in flight.
    pub answer: Option<(u16, Value)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AcpClaim {
    /// The key is ours: do the work, then [`crate::AcpStore::finish_acp_request`].
    Claimed,
    /// Another request has (or had) this key.
    Taken(StoredAcpRequest),
}
