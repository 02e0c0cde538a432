//! What the extractor gives back, and what its stages note on the way.

use serde::{Deserialize, Serialize};

use crate::chat::command::{Command, Span};

/// The commands a message proposes, in message order, and what was noticed but not
/// turned into a command.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extraction {
    pub commands: Vec<Command>,
    pub notes: Vec<Note>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub code: NoteCode,
    pub span: Span,
}

impl Note {
    pub fn new(code: NoteCode, span: Span) -> Note {
        Note { code, span }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteCode {
    /// An option value that fits no item in the message or the draft.
    OptionWithoutItem,
    /// "0 tees": never a command; removing is a different thing to ask.
    ZeroQuantity,
    /// The message was longer than [`crate::chat::text::MAX_MESSAGE_BYTES`]; the rest was not read.
    Truncated,
}
