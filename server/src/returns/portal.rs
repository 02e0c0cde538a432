//! The returns portal's way into the returns service: the same decisions and limits as
//! `/api/v1/returns`, with errors worded for the customer at the page.

use std::{net::IpAddr, sync::Arc};

use app::port::{PortError, ReturnsPort};
use gapless_domain::returns::{RequestedItem, Resolution, ReturnRequest};
use serde::Deserialize;
use serde_json::Value;

use super::service::{OrderProof, ReturnsService};
use crate::{api_error::ApiError, chat::limits::RequestLimiter};

pub struct PortalReturns {
    service: Arc<ReturnsService>,
    limiter: Arc<RequestLimiter>,
}

impl PortalReturns {
    pub fn new(service: Arc<ReturnsService>, limiter: Arc<RequestLimiter>) -> Self {
        PortalReturns { service, limiter }
    }

    fn check(&self, client: Option<IpAddr>, subject: &str) -> Result<(), PortError> {
        self.limiter
            .check(client, &subject.trim().to_uppercase())
            .map_err(|retry_after| PortError::RateLimited { retry_after })
    }
}

/// `POST /api/v1/returns`'s body, as the portal's server function builds it.
#[derive(Debug, Deserialize)]
struct PortalRequest {
    order_number: String,
    email: String,
    items: Vec<RequestedItem>,
    resolution: String,
}

#[async_trait::async_trait]
impl ReturnsPort for PortalReturns {
    async fn lookup(
        &self,
        order_number: &str,
        email: &str,
        client: Option<IpAddr>,
    ) -> Result<Value, PortError> {
        self.check(client, order_number)?;
        let proof = OrderProof { order_number: order_number.to_owned(), email: email.to_owned() };
        self.service.lookup(&proof).await.map_err(customer_error)
    }

    async fn request(&self, request: Value, client: Option<IpAddr>) -> Result<Value, PortError> {
        let request: PortalRequest = serde_json::from_value(request)
            .map_err(|e| PortError::Internal(format!("portal request: {e}").into()))?;
        self.check(client, &request.order_number)?;
        let resolution = Resolution::parse(&request.resolution).ok_or_else(|| {
            PortError::Rejected(
                "Choose what you would like instead: a refund, an exchange or store credit.".into(),
            )
        })?;
        let proof = OrderProof { order_number: request.order_number, email: request.email };
        let request = ReturnRequest { items: request.items, resolution };
        self.service.request(&proof, &request).await.map_err(customer_error)
    }

    async fn status(
        &self,
        rma: &str,
        email: &str,
        client: Option<IpAddr>,
    ) -> Result<Value, PortError> {
        self.check(client, rma)?;
        self.service.status(rma, email).await.map_err(customer_error)
    }
}

/// The API's errors in words for the customer at the page.
fn customer_error(error: ApiError) -> PortError {
    match error {
        ApiError::NotFound(_) => PortError::NotFound(
            "We could not find that. Check the number or code and the email, and try again.".into(),
        ),
        other => other.into(),
    }
}
