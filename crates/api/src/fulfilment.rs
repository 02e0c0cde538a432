//! What the shop's fulfilment systems send (CONTRACTS §7); the answer is the order,
//! [`crate::chat::Order`].

use gapless_domain::orders::FulfilmentStatus;
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A report of `POST /api/v1/orders/{number}/fulfilments`. The server checks each value
/// (`fulfilment::service::report_event`) before anything is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(json!({ "status": "shipped", "carrier": "UPS", "tracking_number": "1Z999AA10123456784",
    "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456784" }))))]
pub struct FulfilmentReport {
    #[cfg_attr(feature = "openapi", schema(value_type = String, examples("shipped", "delivered")))]
    pub status: FulfilmentStatus,
    /// The carrier's name, at most 100 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub carrier: Option<String>,
    /// At most 100 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub tracking_number: Option<String>,
    /// An `http://` or `https://` address the customer can open.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub tracking_url: Option<String>,
    /// When it happened (RFC 3339; not in the future); when the report arrives if left out.
    #[serde(default)]
    pub at: Option<String>,
}
