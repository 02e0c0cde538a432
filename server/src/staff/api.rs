//! The staff session over HTTP (CONTRACTS §5): sign in, sign out, who am I.
//!
//! Sign-in answers the same `401` for an unknown email, a wrong password and a disabled
//! account, after the same work (see [`accounts::authenticate`]); it is rate limited per
//! client address and per email from that address, and password checks at once are
//! bounded, with the console's sign-in (see [`super::gate`]).

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    accounts::{self, Password},
    extractor::StaffUser,
    gate::SignInError,
};
use crate::{
    api_error::{ApiError, ApiJson, Unauthorized},
    startup::AppState,
};

/// The one answer to every failed sign-in, whatever the reason.
const WRONG_CREDENTIALS: &str = "the email or password is not right";

pub fn routes() -> Router<AppState> {
    accounts::warm_up();
    Router::new()
        .route("/api/v1/staff/session", post(sign_in).delete(sign_out))
        .route("/api/v1/staff/me", get(me))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    email: String,
    password: Password,
}

async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<StatusCode, Response> {
    let gate = &state.staff_gate;
    let account = match gate
        .sign_in(state.store.as_ref(), &body.email, &body.password, Some(peer.ip()))
        .await
    {
        Ok(account) => account,
        Err(SignInError::RateLimited { retry_after }) => {
            return Err(retry_later(ApiError::RateLimited { retry_after }, retry_after))
        }
        Err(SignInError::Busy { retry_after }) => {
            return Err(retry_later(ApiError::Busy, retry_after))
        }
        Err(SignInError::Failed(e)) => return Err(ApiError::Internal(e.into()).into_response()),
    };
    let Some(account) = account else {
        return Err(Unauthorized(WRONG_CREDENTIALS).into_response());
    };
    super::session::start(&session, &account.id, gate.now()).await.map_err(session_error)?;
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

/// `error` (429 or 503) with `Retry-After`.
fn retry_later(error: ApiError, retry_after: u64) -> Response {
    let mut response = error.into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
    response
}

fn session_error(error: tower_sessions::session::Error) -> Response {
    ApiError::Internal(anyhow::Error::new(error).context("updating the session")).into_response()
}
