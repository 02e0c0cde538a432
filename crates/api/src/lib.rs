//! The JSON contracts of ../shared/CONTRACTS.md as types, one currency from the store to
//! the page: the services build them, the handlers serialize them, the portal and the
//! console read their fields, and the OpenAPI document is derived from them (with the
//! `openapi` feature, which only the server turns on).
//!
//! Field names are the contract's: a rename here is a breaking change for every shop
//! and bridge, which `server/tests/api/openapi.rs` checks against real answers.

pub mod chat;
pub mod error;
pub mod fulfilment;
pub mod returns;
pub mod staff;
pub mod time_format;
pub mod webhooks;
