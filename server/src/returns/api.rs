//! `/api/v1/returns`: thin handlers over [`ReturnsService`]. Lookups and requests are
//! limited per client IP, per order number (or RMA) and per email
//! ([`LookupLimiter`]), so guessing orders or emails is slow.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{ConnectInfo, FromRef, Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use gapless_api::{
    error::ErrorBody,
    returns::{CycleTimes, Lookup, NewReturn, ReturnCreated, ReturnList, ReturnView},
};
use gapless_domain::returns::ReturnRequest;
use serde::Deserialize;

use super::service::{OrderProof, ReturnsService, StaffAction};
use gapless_store::Store;

use crate::{
    api_error::{ApiError, ApiJson, Forbidden},
    lookups::LookupLimiter,
    staff::{accounts::Permission, extractor::StaffUser, gate::StaffGate},
};

/// The returns service and its limiter, as the handlers reach them.
#[derive(Clone)]
pub struct ReturnsApi {
    pub service: Arc<ReturnsService>,
    /// Shared with the portal and the chat's order status.
    pub limiter: Arc<LookupLimiter>,
    /// For the staff sign-in check.
    pub store: Arc<dyn Store>,
    /// For the staff sessions' idle deadline, checked with the sign-in.
    pub staff_gate: Arc<StaffGate>,
}

impl FromRef<ReturnsApi> for Arc<dyn Store> {
    fn from_ref(api: &ReturnsApi) -> Self {
        api.store.clone()
    }
}

impl FromRef<ReturnsApi> for Arc<StaffGate> {
    fn from_ref(api: &ReturnsApi) -> Self {
        api.staff_gate.clone()
    }
}

pub fn routes<S: Clone + Send + Sync + 'static>(api: ReturnsApi) -> Router<S> {
    Router::new()
        .route("/api/v1/returns/lookup", post(lookup))
        .route("/api/v1/returns", post(request_return))
        .route("/api/v1/returns/{rma}", get(status))
        .route("/api/v1/staff/returns", get(staff_list))
        .route("/api/v1/staff/returns/cycle-times", get(staff_cycle_times))
        .route("/api/v1/staff/returns/{rma}/events", post(staff_record))
        .with_state(api)
}

/// The old way to send the email of `GET /api/v1/returns/{rma}`: in the URL. Still
/// read; the access log never shows query strings.
#[derive(Debug, Deserialize)]
struct StatusQuery {
    #[serde(default)]
    email: String,
}

/// The header that carries the email of `GET /api/v1/returns/{rma}`.
pub const EMAIL_HEADER: &str = "customer-email";

impl ReturnsApi {
    fn check_order(&self, peer: SocketAddr, proof: &OrderProof) -> Result<(), ApiError> {
        self.limiter
            .check_order(Some(peer.ip()), &proof.order_number, &proof.email)
            .map_err(|retry_after| ApiError::RateLimited { retry_after })
    }
}

/// Finds an order by its number and the email it was placed with.
#[utoipa::path(
    post,
    path = "/api/v1/returns/lookup",
    tag = "returns",
    operation_id = "lookup_order",
    request_body = OrderProof,
    responses(
        (status = 200, description = "The order's lines and what can still come back", body = Lookup),
        (status = 404, description = "A wrong number, a wrong email and an unknown order all get this same answer, after the same time", body = ErrorBody),
        (status = 422, description = "The body does not have the fields of `OrderProof`", body = ErrorBody),
        (status = 429, description = "Too many lookups from this client IP or for this order", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
        (status = 500, description = "Something went wrong on the server: `internal`", body = ErrorBody),
    )
)]
async fn lookup(
    State(api): State<ReturnsApi>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(proof): ApiJson<OrderProof>,
) -> Result<Json<Lookup>, ApiError> {
    api.check_order(peer, &proof)?;
    Ok(Json(api.service.lookup(&proof).await?))
}

/// Asks for a return; every item is decided at once.
#[utoipa::path(
    post,
    path = "/api/v1/returns",
    tag = "returns",
    operation_id = "request_return",
    request_body = NewReturn,
    responses(
        (status = 201, description = "The return with a decision per item", body = ReturnCreated),
        (status = 404, description = "No order with this number and email", body = ErrorBody),
        (status = 422, description = "Input no portal would send (`unknown_line`, `invalid_quantity`, `unknown_reason`, `comment_too_long`, …) or an exchange that cannot be met (`exchange_missing`, `exchange_price_differs`, `exchange_out_of_stock`, …); nothing is written", body = ErrorBody),
        (status = 429, description = "Too many lookups from this client IP or for this order", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
        (status = 500, description = "Something went wrong on the server: `internal`", body = ErrorBody),
    )
)]
async fn request_return(
    State(api): State<ReturnsApi>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<NewReturn>,
) -> Result<(StatusCode, Json<ReturnCreated>), ApiError> {
    let proof = OrderProof { order_number: body.order_number, email: body.email };
    api.check_order(peer, &proof)?;
    let request = ReturnRequest { items: body.items, resolution: body.resolution };
    Ok((StatusCode::CREATED, Json(api.service.request(&proof, &request).await?)))
}

/// A return's status and timeline, for whoever knows its RMA code and email. The email
/// comes in the `Customer-Email` header, which stays out of URLs and access logs;
/// `?email=` is still read when the header is absent.
#[utoipa::path(
    get,
    path = "/api/v1/returns/{rma}",
    tag = "returns",
    operation_id = "return_status",
    params(
        ("rma" = String, Path, description = "The return's code, e.g. `R-7K2M9Q4X`"),
        ("Customer-Email" = Option<String>, Header, description = "The email of the order"),
        ("email" = Option<String>, Query, deprecated, description = "The email of the order, when the `Customer-Email` header is absent: kept for old clients; prefer the header"),
    ),
    responses(
        (status = 200, description = "The return as it stands", body = ReturnView),
        (status = 404, description = "No return with this code and email", body = ErrorBody),
        (status = 429, description = "Too many lookups from this client IP or for this order", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
        (status = 500, description = "Something went wrong on the server: `internal`", body = ErrorBody),
    )
)]
async fn status(
    State(api): State<ReturnsApi>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(rma): Path<String>,
    headers: HeaderMap,
    Query(query): Query<StatusQuery>,
) -> Result<Json<ReturnView>, ApiError> {
    let email = match headers.get(EMAIL_HEADER) {
        Some(value) => value
            .to_str()
            .map_err(|_| ApiError::BadRequest("the Customer-Email header is not text".into()))?,
        None => query.email.as_str(),
    };
    api.limiter
        .check_return(Some(peer.ip()), &rma, email)
        .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    Ok(Json(api.service.status(&rma, email).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
}

/// The returns, newest first; `?status=in_review` is the review queue.
async fn staff_list(
    _staff: StaffUser,
    State(api): State<ReturnsApi>,
    Query(query): Query<ListQuery>,
) -> Result<Json<ReturnList>, ApiError> {
    Ok(Json(api.service.list(query.status.as_deref()).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CycleQuery {
    #[serde(default = "thirty")]
    days: u32,
}

fn thirty() -> u32 {
    30
}

async fn staff_cycle_times(
    _staff: StaffUser,
    State(api): State<ReturnsApi>,
    Query(query): Query<CycleQuery>,
) -> Result<Json<CycleTimes>, ApiError> {
    Ok(Json(api.service.cycle_times(query.days).await?))
}

/// Staff record receipt, refund, approval after review, …
async fn staff_record(
    staff: StaffUser,
    State(api): State<ReturnsApi>,
    Path(rma): Path<String>,
    ApiJson(action): ApiJson<StaffAction>,
) -> Result<Json<ReturnView>, Response> {
    let needs = Permission::for_return_event(&action.kind);
    if !staff.role.may(needs) {
        return Err(Forbidden(needs.refusal()).into_response());
    }
    Ok(Json(
        api.service
            .record(&rma, &action, &staff.id)
            .await
            .map_err(|e| ApiError::from(e).into_response())?,
    ))
}
