//! The `gapless` binary as a library, so that black-box tests can start the real server
//! on a random port (`startup::Application`) and call the same commands as the CLI.

pub mod agents;
pub mod api_error;
pub mod audit;
pub mod catalog_import;
pub mod chat;
pub mod cli;
pub mod demo;
pub mod email;
mod errors;
pub mod fulfilment;
pub mod health;
pub mod json_time;
pub mod lookups;
pub mod metrics;
pub mod openapi;
pub mod orders;
pub mod payments;
pub mod returns;
pub mod sessions;
pub mod staff;
pub mod startup;
pub mod telemetry;
pub mod tls;
pub mod tools;
pub mod webhooks;
