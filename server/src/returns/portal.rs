//! The returns portal's way into the returns service: the same decisions and limits as
//! `/api/v1/returns`, with errors worded for the customer at the page.

use std::{net::IpAddr, sync::Arc};

use app::port::{PortError, ReturnsPort};
use gapless_api::returns::{Lookup, NewReturn, ReturnCreated, ReturnView};
use gapless_domain::returns::ReturnRequest;

use super::{
    error::ReturnsError,
    service::{OrderProof, ReturnsService},
};
use crate::{lookups::LookupLimiter, payments::PaymentError};

pub struct PortalReturns {
    service: Arc<ReturnsService>,
    limiter: Arc<LookupLimiter>,
}

impl PortalReturns {
    pub fn new(service: Arc<ReturnsService>, limiter: Arc<LookupLimiter>) -> Self {
        PortalReturns { service, limiter }
    }
}

fn limited(retry_after: u64) -> PortError {
    PortError::RateLimited { retry_after }
}

#[async_trait::async_trait]
impl ReturnsPort for PortalReturns {
    async fn lookup(
        &self,
        order_number: &str,
        email: &str,
        client: Option<IpAddr>,
    ) -> Result<Lookup, PortError> {
        self.limiter.check_order(client, order_number, email).map_err(limited)?;
        let proof = OrderProof { order_number: order_number.to_owned(), email: email.to_owned() };
        self.service.lookup(&proof).await.map_err(customer_error)
    }

    async fn request(
        &self,
        request: NewReturn,
        client: Option<IpAddr>,
    ) -> Result<ReturnCreated, PortError> {
        self.limiter.check_order(client, &request.order_number, &request.email).map_err(limited)?;
        let proof = OrderProof { order_number: request.order_number, email: request.email };
        let request = ReturnRequest { items: request.items, resolution: request.resolution };
        self.service.request(&proof, &request).await.map_err(customer_error)
    }

    async fn status(
        &self,
        rma: &str,
        email: &str,
        client: Option<IpAddr>,
    ) -> Result<ReturnView, PortError> {
        self.limiter.check_return(client, rma, email).map_err(limited)?;
        self.service.status(rma, email).await.map_err(customer_error)
    }
}

/// The service's errors in words for the customer at the page.
fn customer_error(error: ReturnsError) -> PortError {
    match error {
        ReturnsError::UnknownOrder | ReturnsError::UnknownReturn | ReturnsError::UnknownRma => {
            PortError::NotFound(
                "We could not find that. Check the number or code and the email, and try again."
                    .into(),
            )
        }
        ReturnsError::NoCatalog | ReturnsError::Busy => PortError::Unavailable,
        ReturnsError::Internal(cause) => PortError::Internal(cause.into()),
        // A refund is staff's, never the portal's; said plainly should it ever reach it.
        ReturnsError::Refund(PaymentError::Internal(cause)) => PortError::Internal(cause.into()),
        ReturnsError::Refund(PaymentError::Busy) => PortError::Unavailable,
        refused @ (ReturnsError::Request(_)
        | ReturnsError::Exchange(_)
        | ReturnsError::Replacement(_)
        | ReturnsError::ReplacementSoldOut
        | ReturnsError::Transition(_)
        | ReturnsError::UnknownAction(_)
        | ReturnsError::UnknownStatus(_)
        | ReturnsError::BadPeriod
        | ReturnsError::Refund(_)) => PortError::Rejected(for_the_page(&refused.to_string())),
    }
}

/// An API message such as `item 0: choose the size …` as a sentence for the page, which
/// has no item numbers: `Choose the size …`. (The messages name the product themselves.)
fn for_the_page(message: &str) -> String {
    let rest = message
        .strip_prefix("item ")
        .and_then(|rest| rest.split_once(": "))
        .filter(|(index, _)| !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()))
        .map_or(message, |(_, rest)| rest);
    let mut chars = rest.chars();
    let mut sentence: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    sentence.push_str(chars.as_str());
    if !sentence.ends_with('.') {
        sentence.push('.');
    }
    sentence
}

#[cfg(test)]
mod tests {
    use super::for_the_page;

    #[test]
    fn item_numbers_become_a_sentence() {
        assert_eq!(
            for_the_page("item 0: choose the size or colour of the tee you would like instead"),
            "Choose the size or colour of the tee you would like instead."
        );
        assert_eq!(
            for_the_page("choose at least one item to return"),
            "Choose at least one item to return."
        );
        assert_eq!(for_the_page("item x: kept as it is"), "Item x: kept as it is.");
    }
}
