//! Fixtures the tests of every area share, so that a test of orders or returns needs
//! nothing from the chat's tests.

use crate::catalog::Catalog;

pub(crate) const DEMO_CATALOG: &str = include_str!("../../../demo/catalog.json");

pub(crate) fn demo_catalog() -> Catalog {
    Catalog::from_json(DEMO_CATALOG).expect("the demo catalog imports")
}
