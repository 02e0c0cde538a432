//! The staff session over HTTP (CONTRACTS §5): sign in, sign out, who am I.
//!
//! Sign-in answers the same `401` for an unknown email, a wrong password and a disabled
//! account, after the same work (see [`accounts::authenticate`]), and is rate limited per
//! client IP and per email so that guessing passwords is slow.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{ConnectInfo, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Extension, Json, Router,
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    accounts::{self, Password},
    extractor::StaffUser,
};
use crate::{
    api_error::{ApiError, ApiJson, Unauthorized},
    chat::limits::{Rate, RequestLimiter},
    startup::AppState,
};

/// Sign-in attempts from one client IP: a sustained one per second, 30 at once (a
/// shop's staff behind one office address can all sign in at nine).
pub(crate) const PER_IP: Rate = Rate { per_second: 1.0, burst: 30 };
/// Sign-in attempts for one email: ten at once, then five a minute.
pub(crate) const PER_EMAIL: Rate = Rate { per_second: 5.0 / 60.0, burst: 10 };

/// The one answer to every failed sign-in, whatever the reason.
const WRONG_CREDENTIALS: &str = "the email or password is not right";

pub fn routes() -> Router<AppState> {
    accounts::warm_up();
    let limiter = Arc::new(RequestLimiter::new(PER_IP, PER_EMAIL));
    Router::new()
        .route("/api/v1/staff/session", post(sign_in).delete(sign_out))
        .route("/api/v1/staff/me", get(me))
        .layer(Extension(limiter))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    email: String,
    password: Password,
}

async fn sign_in(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<RequestLimiter>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<StatusCode, Response> {
    // Keyed like the lookup, so `Ana@…` and `ana@…` share one allowance.
    let key = body.email.trim().to_lowercase();
    if let Err(retry_after) = limiter.check(Some(peer.ip()), &key) {
        return Err(rate_limited(retry_after));
    }
    let account = accounts::authenticate(state.store.as_ref(), &body.email, &body.password)
        .await
        .map_err(|e| ApiError::Internal(e.into()).into_response())?;
    let Some(account) = account else {
        return Err(Unauthorized(WRONG_CREDENTIALS).into_response());
    };
    super::session::start(&session, &account.id).await.map_err(session_error)?;
    tracing::info!(staff = %account.id, "staff signed in");
    Ok(StatusCode::NO_CONTENT)
}

/// Ends the session, staff or not: its data is deleted and the cookie cleared.
async fn sign_out(session: Session) -> Result<StatusCode, Response> {
    session.flush().await.map_err(session_error)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(staff: StaffUser) -> Json<StaffUser> {
    Json(staff)
}

fn rate_limited(retry_after: u64) -> Response {
    let mut response = ApiError::RateLimited { retry_after }.into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
    response
}

fn session_error(error: tower_sessions::session::Error) -> Response {
    ApiError::Internal(anyhow::Error::new(error).context("updating the session")).into_response()
}
