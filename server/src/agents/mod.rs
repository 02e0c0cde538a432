//! Agents as shoppers (issue 16, CONTRACTS §9): someone else's assistant orders and
//! returns here with exactly a widget shopper's guarantees.
//!
//! - [`shop`]: what an agent may do, over the chat and returns services: the same
//!   validator, the same audit trail (turns of a conversation with channel `mcp` or
//!   `acp`), the same lookup budgets.
//! - [`commands`]: the typed order commands and how they become the chat's commands.
//! - [`mcp`]: the MCP server at `/mcp` (Streamable HTTP, rmcp), one order draft per
//!   session.
//! - [`acp`]: ACP checkout sessions at `/acp/checkout_sessions`, each a conversation
//!   with channel `acp` kept in the database.

pub mod acp;
pub mod commands;
pub mod mcp;
pub mod shop;
