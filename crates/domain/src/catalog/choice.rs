//! One option value chosen for a product, as an order line, a return's exchange, the
//! chat and an agent all name it.

use serde::{Deserialize, Serialize};

/// One option value, by the catalog's canonical group and value names (never the
/// shopper's words), so the draft and the order lines compare them directly.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(json!({ "group": "topping", "value": "cheese", "qualifier": "extra" }))))]
pub struct Choice {
    /// The option group.
    #[cfg_attr(feature = "openapi", schema(examples("topping")))]
    pub group: String,
    /// The value in that group.
    #[cfg_attr(feature = "openapi", schema(examples("cheese")))]
    pub value: String,
    /// One of the group's qualifiers ("extra" in "extra cheese"); present only when the
    /// shopper gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false, examples("extra")))]
    pub qualifier: Option<String>,
    /// `true` when the shopper asked to leave this value out ("no onions"); absent
    /// otherwise.
    #[serde(default, skip_serializing_if = "is_false")]
    pub exclude: bool,
}

fn is_false(flag: &bool) -> bool {
    !*flag
}

impl Choice {
    pub fn new(group: impl Into<String>, value: impl Into<String>) -> Choice {
        Choice { group: group.into(), value: value.into(), qualifier: None, exclude: false }
    }

    pub fn excluded(group: impl Into<String>, value: impl Into<String>) -> Choice {
        Choice { exclude: true, ..Choice::new(group, value) }
    }

    pub fn with_qualifier(mut self, qualifier: impl Into<String>) -> Choice {
        self.qualifier = Some(qualifier.into());
        self
    }
}
