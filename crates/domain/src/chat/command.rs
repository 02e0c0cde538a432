//! The typed commands a chat message becomes.
//!
//! Every extractor, the offline rules and a future LLM with tool calls alike, ends in
//! this one vocabulary, so the draft and the validator never care who read the
//! message. Commands only *propose*: they name products and options the way the
//! catalog does and carry no prices, stock or totals, which the validator computes.
//! They are stored as JSON in the audit trail, hence the serde tags.

use serde::{Deserialize, Serialize};

use crate::catalog::Choice;
use crate::orders::UncheckedAddress;
use crate::sku::Sku;

/// The name the chat's callers knew a [`Choice`] by; `server/src/agents` and
/// `server/src/payments` still use it (issue 14).
pub use crate::catalog::Choice as ChoiceMention;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    AddItem(ItemMention),
    /// "make that 3", "make it 2 tees", "actually 2 diet cokes".
    ChangeQuantity {
        target: ItemRef,
        quantity: u32,
        span: Span,
    },
    /// "change the tee to large", "add olives to the pizza", "actually no onions".
    /// Only the choices the shopper mentioned: the draft keeps everything else.
    SetChoices {
        target: ItemRef,
        choices: Vec<Choice>,
        span: Span,
    },
    /// "remove the socks", "no coke after all".
    RemoveItem {
        target: ItemRef,
        span: Span,
    },
    IdentifyCustomer {
        name: Option<String>,
        email: Option<String>,
        phone: Option<String>,
    },
    SetShippingAddress(UncheckedAddress),
    Confirm,
    Cancel,
    /// "where is my order G-100042".
    OrderStatus {
        order_number: Option<String>,
        email: Option<String>,
    },
    /// "did my payment go through?": the conversation's own order, or the one named.
    PaymentStatus {
        order_number: Option<String>,
        email: Option<String>,
    },
    /// "I want to return my order".
    StartReturn {
        order_number: Option<String>,
    },
    /// "talk to a human".
    Handoff {
        reason: Option<String>,
    },
}

/// One product the shopper asked for, with what they said about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemMention {
    pub product: ProductRef,
    /// `None` when the shopper gave no number; the draft then assumes one.
    pub quantity: Option<u32>,
    pub choices: Vec<Choice>,
    pub span: Span,
}

/// How sure the extractor is about which product was meant. Ambiguity is kept, never
/// guessed away: the validator turns it into a question listing the candidates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductRef {
    Known(Sku),
    /// "pizza" when the shop has three pizzas.
    Ambiguous {
        said: String,
        candidates: Vec<Sku>,
    },
    /// "two burritos": something was asked for that the shop does not sell.
    Unknown {
        said: String,
        suggestions: Vec<Sku>,
    },
}

impl ProductRef {
    /// Every product the shopper may have meant.
    pub fn candidates(&self) -> &[Sku] {
        match self {
            ProductRef::Known(sku) => std::slice::from_ref(sku),
            ProductRef::Ambiguous { candidates, .. } => candidates,
            ProductRef::Unknown { .. } => &[],
        }
    }
}

/// Which line of the draft an edit is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemRef {
    /// "that", "it": the line the conversation last touched.
    Last,
    Product(ProductRef),
    /// The line at this index of the order's `lines`, as an agent names it (MCP, ACP):
    /// exact where a product name would be ambiguous between two lines.
    Line(usize),
}

/// Byte offsets into the original message, so staff can see which words became
/// which command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    /// The words this span covers, or "" when it does not fit the text.
    pub fn text(self, message: &str) -> &str {
        message.get(self.start..self.end).unwrap_or("")
    }
}
