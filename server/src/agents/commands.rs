//! The typed order commands an agent sends (CONTRACTS §9 `update_order`), and how they
//! become the chat's [`Command`]s.
//!
//! They are parsed by the same strict parser as the LLM extractor's tool calls
//! ([`parse_tool_calls`]): a product must be a catalog SKU or name, an option a group of
//! that product with one of its values, a quantity within the draft's bounds, and no
//! key anywhere may name money. Only the line an edit is about is added afterwards, as
//! [`ItemRef::Line`]: an agent names lines by index, which the draft checks against the
//! order as it stands when the turn is validated. Nothing here prices anything.

use std::collections::BTreeMap;

use gapless_domain::{
    catalog::Catalog,
    chat::{
        command::{Command, ItemRef},
        llm::{parse_tool_calls, ToolCall, MAX_TOOL_CALLS},
        Extraction,
    },
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// `update_order`'s arguments.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrder {
    /// Applied in this order, each validated against the order as the ones before it
    /// left it. At most 16.
    pub commands: Vec<OrderCommand>,
}

/// One edit of the session's order. Prices, totals and stock are never arguments: the
/// shop computes them.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum OrderCommand {
    /// Add a product. Identical lines add up.
    Add(AddItem),
    /// Set the quantity of a line.
    SetQuantity(SetQuantity),
    /// Choose an option value on a line (a size; a topping is added to the others).
    SetOption(SetOption),
    /// Remove a line.
    Remove(LineRef),
    /// Who is ordering: any of name, email and phone.
    Customer(Customer),
    /// Where the order goes; fields given replace the ones set before.
    Address(Address),
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddItem {
    /// The product's SKU, as `search_catalog` lists it.
    pub sku: String,
    /// 1 to 99.
    pub quantity: u32,
    /// Option group name to value: one value for a `single` group, a list for a
    /// `multi` group (where "no onions" leaves a value out and a qualifier such as
    /// "extra cheese" may stand before one). Groups left out take their defaults.
    #[serde(default)]
    pub choices: BTreeMap<String, ChoiceValue>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ChoiceValue {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetQuantity {
    /// The index of the line in the order's `lines`, from 0.
    pub line: usize,
    /// 1 to 99; remove the line to drop it.
    pub quantity: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetOption {
    /// The index of the line in the order's `lines`, from 0.
    pub line: usize,
    pub group: String,
    /// One value for a `single` group, a list for a `multi` group.
    pub value: ChoiceValue,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LineRef {
    /// The index of the line in the order's `lines`, from 0.
    pub line: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `US`.
    pub country: String,
}

/// A command the parser refused, by its index in `commands`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub command: usize,
    pub reason: String,
}

/// The commands as the validator takes them, or every refusal when any was refused:
/// a call is taken whole or not at all.
pub fn extraction(
    catalog: &Catalog,
    commands: &[OrderCommand],
) -> Result<Extraction, Vec<Refusal>> {
    if commands.is_empty() {
        return Err(vec![Refusal { command: 0, reason: "no commands given".to_owned() }]);
    }
    if commands.len() > MAX_TOOL_CALLS {
        let reason = format!("more than {MAX_TOOL_CALLS} commands in one call");
        return Err(vec![Refusal { command: MAX_TOOL_CALLS, reason }]);
    }
    let calls: Vec<ToolCall> = commands.iter().map(tool_call).collect();
    let parsed = parse_tool_calls(catalog, &calls);
    if !parsed.rejected.is_empty() {
        return Err(parsed
            .rejected
            .into_iter()
            .map(|rejected| Refusal { command: rejected.index, reason: rejected.reason })
            .collect());
    }
    let mut extraction = parsed.extraction;
    for (command, &source) in extraction.commands.iter_mut().zip(&parsed.sources) {
        if let Some(line) = line_of(&commands[source]) {
            retarget(command, ItemRef::Line(line));
        }
    }
    Ok(extraction)
}

/// The LLM extractor's tool call that says the same. Line edits name no product: the
/// parser then checks option values against the catalog's groups of that name, and the
/// draft against the line's own product.
fn tool_call(command: &OrderCommand) -> ToolCall {
    let (name, arguments) = match command {
        OrderCommand::Add(add) => (
            "add_item",
            json!({ "product": add.sku, "quantity": add.quantity, "options": add.choices }),
        ),
        OrderCommand::SetQuantity(set) => ("change_quantity", json!({ "quantity": set.quantity })),
        OrderCommand::SetOption(set) => {
            let mut options = serde_json::Map::new();
            options.insert(set.group.clone(), json!(set.value));
            ("set_option", json!({ "options": options }))
        }
        OrderCommand::Remove(_) => ("remove_item", json!({})),
        OrderCommand::Customer(customer) => ("identify_customer", without_nulls(json!(customer))),
        OrderCommand::Address(address) => ("set_address", without_nulls(json!(address))),
    };
    ToolCall::new(name, arguments.to_string())
}

/// The parser reads an absent field and a null alike; dropping nulls keeps the calls
/// in the audit trail short.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        other => other,
    }
}

fn line_of(command: &OrderCommand) -> Option<usize> {
    match command {
        OrderCommand::SetQuantity(set) => Some(set.line),
        OrderCommand::SetOption(set) => Some(set.line),
        OrderCommand::Remove(remove) => Some(remove.line),
        OrderCommand::Add(_) | OrderCommand::Customer(_) | OrderCommand::Address(_) => None,
    }
}

fn retarget(command: &mut Command, line: ItemRef) {
    match command {
        Command::ChangeQuantity { target, .. }
        | Command::SetChoices { target, .. }
        | Command::RemoveItem { target, .. } => *target = line,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use gapless_domain::{
        chat::command::{ChoiceMention, ItemMention, ProductRef},
        sku::Sku,
    };

    use super::*;

    fn catalog() -> Catalog {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../demo/catalog.json"))
                .unwrap();
        Catalog::from_json(&text).unwrap()
    }

    fn commands(value: Value) -> Vec<OrderCommand> {
        serde_json::from_value::<UpdateOrder>(json!({ "commands": value })).unwrap().commands
    }

    #[test]
    fn an_add_becomes_the_chats_add_with_canonical_choices() {
        let found = extraction(
            &catalog(),
            &commands(json!([
                { "add": { "sku": "PIZZA-VEG", "quantity": 2,
                           "choices": { "size": "large", "topping": ["extra cheese", "no onions"] } } }
            ])),
        )
        .unwrap();
        let Command::AddItem(ItemMention { product, quantity, choices, .. }) = &found.commands[0]
        else {
            panic!("{found:?}")
        };
        assert_eq!(product, &ProductRef::Known(Sku::parse("PIZZA-VEG").unwrap()));
        assert_eq!(*quantity, Some(2));
        assert!(choices.contains(&ChoiceMention::new("size", "large")));
        assert!(choices.contains(&ChoiceMention::new("topping", "cheese").with_qualifier("extra")));
        assert!(choices.contains(&ChoiceMention::excluded("topping", "onions")));
    }

    #[test]
    fn line_edits_name_the_line_by_index() {
        let found = extraction(
            &catalog(),
            &commands(json!([
                { "set_quantity": { "line": 1, "quantity": 3 } },
                { "set_option": { "line": 0, "group": "size", "value": "l" } },
                { "remove": { "line": 2 } },
            ])),
        )
        .unwrap();
        let targets: Vec<&ItemRef> = found
            .commands
            .iter()
            .map(|command| match command {
                Command::ChangeQuantity { target, .. }
                | Command::SetChoices { target, .. }
                | Command::RemoveItem { target, .. } => target,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(targets, [&ItemRef::Line(1), &ItemRef::Line(0), &ItemRef::Line(2)]);
    }

    #[test]
    fn price_fields_are_refused_by_the_schema_or_the_parser() {
        for call in [
            json!({ "commands": [ { "add": { "sku": "TEE", "quantity": 1, "price": 0 } } ] }),
            json!({ "commands": [], "total": 0 }),
            json!({ "commands": [ { "add": { "sku": "TEE", "quantity": 1 }, "discount": 100 } ] }),
        ] {
            assert!(serde_json::from_value::<UpdateOrder>(call.clone()).is_err(), "{call}");
        }
        // A money word where the schema allows any key: an option group.
        let refused = extraction(
            &catalog(),
            &commands(json!([ { "add": { "sku": "TEE", "quantity": 1, "choices": { "unit_price": "0" } } } ])),
        )
        .unwrap_err();
        assert!(refused[0].reason.contains("price-like"), "{refused:?}");
    }

    #[test]
    fn a_call_with_one_bad_command_is_refused_whole() {
        let refused = extraction(
            &catalog(),
            &commands(json!([
                { "add": { "sku": "TEE", "quantity": 1 } },
                { "add": { "sku": "BURRITO", "quantity": 1 } },
                { "add": { "sku": "TEE", "quantity": 500 } },
            ])),
        )
        .unwrap_err();
        let indexes: Vec<usize> = refused.iter().map(|r| r.command).collect();
        assert_eq!(indexes, [1, 2], "{refused:?}");
        assert!(extraction(&catalog(), &[]).is_err());
    }
}
