//! Black-box tests of the HTTP server: the real router on a random port, a fresh
//! database per test, SQLite always and PostgreSQL when `TEST_DATABASE_URL` is set.

mod acp;
mod audit;
mod chat;
mod dashboard;
mod edges;
mod email;
mod fake_stripe;
mod fulfilment;
mod handoffs;
mod health;
mod helpers;
mod limits;
mod llm;
mod mcp;
mod openapi;
mod orders;
mod pages;
mod payments;
mod return_integrity;
mod returns;
#[path = "../smtp/mod.rs"]
mod smtp;
mod staff;
mod webhooks;
mod widget;
