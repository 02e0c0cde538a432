//! The rules of a Gapless shop that hold whatever serves them: the web server, the
//! browser bundle, the command line and tests all link this crate, so it stays free
//! of I/O, async runtimes and frameworks, and every type here can only hold values
//! that make sense (parse, don't validate).

/// Integer minor units and currencies, because money must never be a float.
pub mod money;

/// SKU codes, normalised once so that one product never has two spellings.
pub mod sku;

/// The shop's catalog as imported from a file: all or nothing, with every problem named.
pub mod catalog;
pub mod chat;

/// Orders as events: the system of record the chat writes to.
pub mod orders;

pub mod returns;

/// The staff console's dashboard: conversion, exceptions, returns and refund cycle
/// times over a period, and the SVG charts that show them.
pub mod staff_metrics;

/// Stock keys and levels: what an order may still take.
pub mod stock;

#[cfg(test)]
pub(crate) mod testing;

/// Statuses and outcomes stored as words, read back into their enums.
pub mod words;

/// Webhooks out to the shop's systems: which endpoint takes which message, and the
/// retry schedule of one that was not delivered.
pub mod webhooks;
