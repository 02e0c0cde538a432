//! `/api/v1/returns`: thin handlers over [`ReturnsService`]. Lookups and requests are
//! limited per client IP and per order number, so guessing orders or emails is slow.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{ConnectInfo, Path, Query, State},
    http::StatusCode,
    routing::{get, post},
    Json, Router,
};
use gapless_domain::returns::{RequestedItem, Resolution, ReturnRequest};
use serde::Deserialize;
use serde_json::Value;

use super::service::{OrderProof, ReturnsService};
use crate::{
    api_error::{ApiError, ApiJson},
    chat::limits::RequestLimiter,
};

/// The returns service and its limiter, as the handlers reach them.
#[derive(Clone)]
pub struct ReturnsApi {
    pub service: Arc<ReturnsService>,
    pub limiter: Arc<RequestLimiter>,
}

pub fn routes<S: Clone + Send + Sync + 'static>(api: ReturnsApi) -> Router<S> {
    Router::new()
        .route("/api/v1/returns/lookup", post(lookup))
        .route("/api/v1/returns", post(request_return))
        .route("/api/v1/returns/{rma}", get(status))
        .with_state(api)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewReturnBody {
    order_number: String,
    email: String,
    items: Vec<RequestedItem>,
    resolution: Resolution,
}

#[derive(Debug, Deserialize)]
struct StatusQuery {
    #[serde(default)]
    email: String,
}

impl ReturnsApi {
    fn check(&self, peer: SocketAddr, subject: &str) -> Result<(), ApiError> {
        let subject = subject.trim().to_uppercase();
        self.limiter
            .check(Some(peer.ip()), &subject)
            .map_err(|retry_after| ApiError::RateLimited { retry_after })
    }
}

async fn lookup(
    State(api): State<ReturnsApi>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(proof): ApiJson<OrderProof>,
) -> Result<Json<Value>, ApiError> {
    api.check(peer, &proof.order_number)?;
    Ok(Json(api.service.lookup(&proof).await?))
}

async fn request_return(
    State(api): State<ReturnsApi>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<NewReturnBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    api.check(peer, &body.order_number)?;
    let proof = OrderProof { order_number: body.order_number, email: body.email };
    let request = ReturnRequest { items: body.items, resolution: body.resolution };
    Ok((StatusCode::CREATED, Json(api.service.request(&proof, &request).await?)))
}

async fn status(
    State(api): State<ReturnsApi>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(rma): Path<String>,
    Query(query): Query<StatusQuery>,
) -> Result<Json<Value>, ApiError> {
    api.check(peer, &rma)?;
    Ok(Json(api.service.status(&rma, &query.email).await?))
}
