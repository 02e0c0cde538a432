//! Chat orders without a model: the typed commands a message becomes, the offline
//! rules extractor that reads them from a message, the draft order they edit, and
//! the labelled utterances that measure the extractor.
//!
//! Everything here is pure: no database, no clock, no async. The validator that
//! checks stock and customer data and prices the draft wraps these from outside.

pub mod command;
pub mod draft;
pub mod eval;
pub mod extract;
pub mod extractor_name;
pub mod llm;
pub mod message;
pub mod text;
pub mod turn;

pub use command::{Command, ItemMention, ItemRef, ProductRef, Span};
pub use draft::{Applied, Clarification, Draft, DraftLine, IssueCode, OrderLine, Rejection};
pub use extract::{DraftContext, Extraction, Note, NoteCode, RulesExtractor};
pub use extractor_name::{AgentChannel, Extractor};

#[cfg(test)]
pub(crate) mod tests;
