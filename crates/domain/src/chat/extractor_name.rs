//! Who read a turn: what the staff timeline shows as a turn's extractor, and the
//! channel an agent's conversation came in by.

use serde::{Deserialize, Serialize};

/// What turned a turn's input into commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Extractor {
    /// The rules extractor, alone.
    #[serde(rename = "rules")]
    Rules,
    /// The language model's proposal, validated like any other.
    #[serde(rename = "llm")]
    Llm,
    /// The model's proposal was not usable; the rules extractor read the message.
    #[serde(rename = "llm→rules")]
    LlmFellBackToRules,
    /// The rules decided; the model's proposal was validated for the audit only.
    #[serde(rename = "rules+shadow")]
    RulesWithShadow,
    /// An agent's typed commands over MCP.
    #[serde(rename = "mcp")]
    Mcp,
    /// An agent's checkout session over ACP.
    #[serde(rename = "acp")]
    Acp,
}

impl Extractor {
    pub const ALL: [Extractor; 6] = [
        Extractor::Rules,
        Extractor::Llm,
        Extractor::LlmFellBackToRules,
        Extractor::RulesWithShadow,
        Extractor::Mcp,
        Extractor::Acp,
    ];

    /// The name stored with the turn and shown in the timeline (as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            Extractor::Rules => "rules",
            Extractor::Llm => "llm",
            Extractor::LlmFellBackToRules => "llm→rules",
            Extractor::RulesWithShadow => "rules+shadow",
            Extractor::Mcp => "mcp",
            Extractor::Acp => "acp",
        }
    }
}

/// The way an agent orders: the conversation's channel, and its turns' extractor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgentChannel {
    Mcp,
    Acp,
}

impl AgentChannel {
    /// The conversation's channel as stored (`mcp`, `acp`).
    pub fn as_str(self) -> &'static str {
        self.extractor().as_str()
    }

    pub fn extractor(self) -> Extractor {
        match self {
            AgentChannel::Mcp => Extractor::Mcp,
            AgentChannel::Acp => Extractor::Acp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_names_are_the_serialized_names() {
        for extractor in Extractor::ALL {
            let json = serde_json::to_value(extractor).unwrap();
            assert_eq!(json, extractor.as_str());
            assert_eq!(serde_json::from_value::<Extractor>(json).unwrap(), extractor);
        }
        assert_eq!([AgentChannel::Mcp.as_str(), AgentChannel::Acp.as_str()], ["mcp", "acp"]);
    }
}
