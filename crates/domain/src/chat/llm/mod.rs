//! The pure core of the LLM extractor: what the model is offered, what it is told, how
//! its tool calls become [`Command`](crate::chat::command::Command)s, and when its
//! wording of a reply may be shown.
//!
//! ```text
//! catalog, order, message ─► Selection (+ search_catalog results) ─► turn_tools() ─┐
//!                      order ─► selection_prompt() ─┴► (server: chat call) ─► tool calls
//!   ─► parse_tool_calls() ─► Extraction ─► take_turn_with() (the same validator)
//!   ─► template reply ─► facts() ─► (server: optional phrasing call) ─► checked_reply()
//! ```
//!
//! The model only proposes, exactly like the rules extractor: no tool has a price,
//! total or discount field, every argument is parsed strictly (a call that is
//! malformed, unknown or outside the schema is refused whole and kept for the audit
//! trail, never repaired), and every command that does come out is validated by
//! [`take_turn_with`](crate::chat::turn::take_turn_with) against the catalog, the order
//! and stock. A phrased reply is shown only when it repeats every fact of the template
//! reply unchanged and adds no number of its own.
//!
//! Nothing here does I/O: the server owns the HTTP client, the model name, timeouts and
//! the audit rows.

mod listing;
mod parse;
mod prompt;
mod reply;
mod select;
mod tools;

#[cfg(test)]
mod tests;

pub use parse::{
    parse_tool_calls, LlmExtraction, RejectedCall, ToolCall, MAX_ARGUMENT_BYTES, MAX_TEXT_CHARS,
    MAX_TOOL_CALLS,
};
pub use prompt::{prompt_order, selection_prompt, system_prompt};
pub use reply::{checked_reply, facts, MAX_REPLY_CHARS};
pub use select::{
    Selection, MAX_LISTED_CHARS, MAX_MENTIONED, MAX_ORDER_PRODUCTS, MAX_SEARCHES_PER_CALL,
    MAX_SEARCH_RESULTS, MAX_SEARCH_ROUNDS, SEARCH_RESERVE_CHARS,
};
pub use tools::{
    search_query, search_tool, tools, turn_tools, ToolSpec, MAX_QUERY_CHARS, SEARCH_CATALOG,
    TOOL_NAMES,
};

/// The provenance the audit trail records for commands from this extractor.
pub const PROVENANCE: &str = "llm";
