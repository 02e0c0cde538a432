//! Fulfilment in (CONTRACTS §7): the shop's systems (a warehouse, a carrier
//! integration) tell us an order shipped or was delivered. They authenticate with an
//! API key ([`keys`]), and each report becomes a `shipped` or `delivered` event in the
//! order's stream through the same store write as every other order event, so it gets
//! its outbox row (`order.shipped`, `order.delivered`) like the rest.

pub mod api;
pub mod keys;
pub mod keys_api;
pub mod service;
