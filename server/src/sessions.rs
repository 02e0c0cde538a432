//! Web sessions (tower-sessions) kept in our database, so they survive a restart and are
//! shared by every app server on one PostgreSQL. The chat widget keeps its conversation
//! in the session; staff sign-in will too.

use std::{fmt, sync::Arc, time::Duration};

use gapless_store::Store;
use time::OffsetDateTime;
use tower_sessions::{
    cookie::SameSite,
    session::{Id, Record},
    session_store::{self, SessionStore},
    Expiry, SessionManagerLayer,
};

/// Name of the session cookie.
pub const COOKIE: &str = "gapless_session";
/// A session lives this long after its last change.
const IDLE_DAYS: i64 = 14;
/// Session key of a time (Unix seconds) at which the session ends, whatever the layer's
/// expiry says: the stored row expires then, so a request that changes the session for
/// another reason (the chat widget in a staff member's browser) cannot stretch it to
/// [`IDLE_DAYS`]. Staff sessions keep their idle deadline here.
pub const ENDS_AT_KEY: &str = "session.ends_at";

#[derive(Clone)]
pub struct DbSessionStore {
    store: Arc<dyn Store>,
}

impl DbSessionStore {
    pub fn new(store: Arc<dyn Store>) -> Self {
        DbSessionStore { store }
    }

    /// Deletes expired sessions now and then, for as long as the server runs.
    pub fn spawn_cleanup(&self, every: Duration) {
        let store = self.store.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                match store.delete_expired_sessions(OffsetDateTime::now_utc()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(deleted = n, "expired sessions removed"),
                    Err(error) => tracing::warn!(%error, "removing expired sessions failed"),
                }
            }
        });
    }
}

/// The session layer: an HTTP-only, same-site cookie; `secure` when served over HTTPS.
pub fn layer(store: DbSessionStore, secure: bool) -> SessionManagerLayer<DbSessionStore> {
    SessionManagerLayer::new(store)
        .with_name(COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(IDLE_DAYS)))
}

impl fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbSessionStore").field("backend", &self.store.backend()).finish()
    }
}

/// When the stored row expires: at the session's [`ENDS_AT_KEY`] when it has one, else
/// when the layer's expiry says.
fn expiry(record: &Record) -> OffsetDateTime {
    record
        .data
        .get(ENDS_AT_KEY)
        .and_then(serde_json::Value::as_i64)
        .and_then(|seconds| OffsetDateTime::from_unix_timestamp(seconds).ok())
        .unwrap_or(record.expiry_date)
}

fn backend(error: impl fmt::Display) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = serde_json::to_value(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let expires_at = expiry(record);
        // Ids are random 128-bit numbers: a collision is near impossible, but never
        // hand one shopper's session to another.
        loop {
            let id = record.id.to_string();
            if self.store.session_create(&id, &data, expires_at).await.map_err(backend)? {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    /// Changes the stored session and never inserts one: when another request deleted
    /// it meanwhile (a sign-out), it stays deleted. Only [`SessionStore::create`] makes
    /// sessions, and tower-sessions calls it for every new id (a first save, and the
    /// save after `cycle_id` at sign-in).
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_value(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        self.store
            .session_save(&record.id.to_string(), &data, expiry(record))
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some((data, expiry_date)) = self
            .store
            .session_load(&id.to_string(), OffsetDateTime::now_utc())
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_value(data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store.session_delete(&id.to_string()).await.map_err(backend)
    }
}
