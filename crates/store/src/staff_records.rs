//! Staff accounts in the store's own terms: the role as a string, the password as the
//! PHC string of its hash. The server's `staff::accounts` maps them to its types.

use std::fmt;

use time::OffsetDateTime;

/// A new staff account, written by [`crate::StaffStore::create_staff`].
#[derive(Clone, PartialEq)]
pub struct NewStaff {
    pub id: String,
    /// Lowercased by the caller: lookups compare it as given.
    pub email: String,
    /// `admin` or `agent` (a CHECK in the schema refuses anything else).
    pub role: String,
    pub password_hash: String,
    pub created_at: OffsetDateTime,
}

/// A staff account as stored. Times read back truncated to the microsecond on both
/// backends.
#[derive(Clone, PartialEq, sqlx::FromRow)]
pub struct StaffRow {
    pub id: String,
    pub email: String,
    pub role: String,
    pub password_hash: String,
    pub created_at: OffsetDateTime,
    /// Set when the account may no longer sign in.
    pub disabled_at: Option<OffsetDateTime>,
}

// The hash is not the password, but it is what an attacker would crack offline: keep it
// out of logs and panic messages.
impl fmt::Debug for NewStaff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewStaff")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("password_hash", &"[redacted]")
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl fmt::Debug for StaffRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaffRow")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("password_hash", &"[redacted]")
            .field("created_at", &self.created_at)
            .field("disabled_at", &self.disabled_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn debug_output_hides_the_password_hash() {
        let row = StaffRow {
            id: "s1".into(),
            email: "ana@example.com".into(),
            role: "admin".into(),
            password_hash: "$argon2id$v=19$secret-looking".into(),
            created_at: datetime!(2030-01-01 0:00 UTC),
            disabled_at: None,
        };
        let shown = format!("{row:?}");
        assert!(shown.contains("ana@example.com"), "{shown}");
        assert!(!shown.contains("argon2id"), "{shown}");
    }
}

/// A staff member's message into a handed-off conversation, written by
/// [`crate::HandoffStore::add_staff_reply`].
#[derive(Debug, Clone, PartialEq)]
pub struct StaffReplyWrite {
    pub id: String,
    pub conversation_id: String,
    pub staff_id: String,
    pub text: String,
    pub at: OffsetDateTime,
    /// Also close the handoff: the conversation leaves the queue.
    pub close: bool,
}

/// A staff reply as stored, with who wrote it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StaffReplyRow {
    pub id: String,
    pub staff_id: String,
    pub staff_email: String,
    pub text: String,
    pub at: OffsetDateTime,
}

/// One conversation waiting for a person, oldest handoff first.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HandoffRow {
    pub conversation_id: String,
    pub started_at: OffsetDateTime,
    pub handoff_at: OffsetDateTime,
    pub order_number: Option<String>,
    #[sqlx(try_from = "i64")]
    pub turn_count: u32,
    /// The shopper's latest message.
    pub last_message: Option<String>,
    /// Staff replies so far.
    #[sqlx(try_from = "i64")]
    pub replies: u32,
}
