//! What the chat accepts as one shopper message, before anything reads it: the same
//! rule for the JSON API, the widget and the agents.

/// Longest message accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2000;

/// Why a message is not taken. `code` is the API's error code (CONTRACTS §2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("the message is empty")]
    Empty,
    #[error("the message has {chars} characters; at most {MAX_MESSAGE_CHARS} are accepted")]
    TooLong { chars: usize },
    #[error("the message contains control characters")]
    ControlCharacters,
}

impl MessageError {
    pub fn code(&self) -> &'static str {
        match self {
            MessageError::Empty => "empty",
            MessageError::TooLong { .. } => "too_long",
            MessageError::ControlCharacters => "invalid_text",
        }
    }
}

/// Checks `text`: not only whitespace, at most [`MAX_MESSAGE_CHARS`] characters, no
/// control characters other than newline, carriage return and tab.
pub fn check(text: &str) -> Result<(), MessageError> {
    if text.trim().is_empty() {
        return Err(MessageError::Empty);
    }
    let chars = text.chars().count();
    if chars > MAX_MESSAGE_CHARS {
        return Err(MessageError::TooLong { chars });
    }
    if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(MessageError::ControlCharacters);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_the_chat_takes_and_refuses() {
        assert_eq!(check("two tees\nin M\tplease"), Ok(()));
        assert_eq!(check(" \n\t "), Err(MessageError::Empty));
        assert_eq!(check(&"é".repeat(MAX_MESSAGE_CHARS)), Ok(()), "characters, not bytes");
        assert_eq!(
            check(&"a".repeat(MAX_MESSAGE_CHARS + 1)),
            Err(MessageError::TooLong { chars: MAX_MESSAGE_CHARS + 1 })
        );
        assert_eq!(check("a\u{0}b"), Err(MessageError::ControlCharacters));
        assert_eq!(
            [
                MessageError::Empty,
                MessageError::TooLong { chars: 1 },
                MessageError::ControlCharacters
            ]
            .map(|e| e.code()),
            ["empty", "too_long", "invalid_text"]
        );
    }
}
