//! One option value chosen for a product, as an order line, a return's exchange, the
//! chat and an agent all name it.

use serde::{Deserialize, Serialize};

/// One option value, by the catalog's canonical group and value names (never the
/// shopper's words), so the draft and the order lines compare them directly.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Choice {
    pub group: String,
    pub value: String,
    /// "extra" in "extra cheese": one of the group's qualifiers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    /// "no onions": leave this value out.
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
