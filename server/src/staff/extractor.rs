//! [`StaffUser`]: a handler that takes one answers `401 unauthorized` to anyone without
//! a staff session, before it runs.

use std::sync::Arc;

use axum::{
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
    response::{IntoResponse, Response},
};
use gapless_store::Store;
use serde::Serialize;
use tower_sessions::Session;

use super::{accounts::StaffRole, gate::StaffGate};
use crate::api_error::{ApiError, Unauthorized};

/// Session key holding the signed-in staff account's id.
pub const SESSION_KEY: &str = "staff.id";

/// Answer to every request that needs a staff session and has none.
pub const SIGN_IN_FIRST: &str = "sign in with a staff account first";

/// The signed-in staff member. The account is read on every request, so a disabled or
/// deleted account loses access at once, not when its session expires; each request
/// slides the session's idle deadline, and one past it is signed out (see
/// [`super::session::signed_in`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffUser {
    pub id: String,
    pub email: String,
    pub role: StaffRole,
}

impl<S> FromRequestParts<S> for StaffUser
where
    Arc<dyn Store>: FromRef<S>,
    Arc<StaffGate>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = NotStaff;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state).await.map_err(|(_, message)| {
            ApiError::Internal(anyhow::anyhow!("no session on a staff request: {message}"))
        })?;
        let now = Arc::<StaffGate>::from_ref(state).now();
        let id = super::session::signed_in(&session, now).await.map_err(|e| {
            ApiError::Internal(anyhow::Error::new(e).context("reading the session"))
        })?;
        let Some(id) = id else {
            return Err(NotStaff::SignedOut);
        };
        let store = Arc::<dyn Store>::from_ref(state);
        let account = store.staff_by_id(&id).await.map_err(ApiError::from)?;
        let Some(account) = account.filter(|account| account.disabled_at.is_none()) else {
            return Err(NotStaff::SignedOut);
        };
        let role = StaffRole::parse(&account.role).ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "staff account {} has the unknown role {:?}",
                account.id,
                account.role
            ))
        })?;
        Ok(StaffUser { id: account.id, email: account.email, role })
    }
}

/// Why a request did not get a [`StaffUser`]. Kept apart so that pages can redirect the
/// signed-out to sign-in while the API answers 401.
#[derive(Debug)]
pub enum NotStaff {
    /// No staff session, or its account is gone or disabled.
    SignedOut,
    /// The session or the store failed: a 500, not a reason to sign in again.
    Failed(ApiError),
}

impl IntoResponse for NotStaff {
    fn into_response(self) -> Response {
        match self {
            NotStaff::SignedOut => Unauthorized(SIGN_IN_FIRST).into_response(),
            NotStaff::Failed(error) => error.into_response(),
        }
    }
}

impl From<ApiError> for NotStaff {
    fn from(error: ApiError) -> Self {
        NotStaff::Failed(error)
    }
}
