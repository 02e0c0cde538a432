//! Staff: accounts with hashed passwords, sign-in into the web session, the extractor
//! that guards every staff URL, and `gapless staff add`.

pub mod accounts;
pub mod api;
pub mod cli;
pub mod console;
pub mod dashboard;
pub mod error;
pub mod extractor;
pub mod gate;
pub mod guard;
pub mod handoffs;
pub mod session;
