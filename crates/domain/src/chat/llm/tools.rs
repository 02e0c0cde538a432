//! The tools the model may call: one per command, with JSON Schemas whose enums are the
//! catalog's canonical names. The enums only narrow what the model proposes; the
//! parser checks them again and the validator decides.

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::catalog::{Catalog, GroupKind, OptionGroup, Product};
use crate::chat::command::ChoiceMention;
use crate::chat::draft::{MAX_QUANTITY, MIN_QUANTITY};
use crate::orders::OrderState;

use super::parse::{MAX_ADDRESS_FIELD_CHARS, MAX_EMAIL_CHARS, MAX_SHORT_CHARS, MAX_TEXT_CHARS};

pub const ADD_ITEM: &str = "add_item";
pub const CHANGE_QUANTITY: &str = "change_quantity";
pub const SET_OPTION: &str = "set_option";
pub const REMOVE_ITEM: &str = "remove_item";
pub const IDENTIFY_CUSTOMER: &str = "identify_customer";
pub const SET_ADDRESS: &str = "set_address";
pub const CONFIRM: &str = "confirm";
pub const CANCEL: &str = "cancel";
pub const ORDER_STATUS: &str = "order_status";
pub const START_RETURN: &str = "start_return";
pub const HAND_OFF: &str = "hand_off";
/// Not a command: the server answers it by adding products to the turn's selection
/// (see [`super::Selection`]), so the parser refuses it like any unknown tool.
pub const SEARCH_CATALOG: &str = "search_catalog";
/// The longest `search_catalog` query taken.
pub const MAX_QUERY_CHARS: usize = 100;

/// Every tool, in the order [`tools`] lists them.
pub const TOOL_NAMES: &[&str] = &[
    ADD_ITEM,
    CHANGE_QUANTITY,
    SET_OPTION,
    REMOVE_ITEM,
    IDENTIFY_CUSTOMER,
    SET_ADDRESS,
    CONFIRM,
    CANCEL,
    ORDER_STATUS,
    START_RETURN,
    HAND_OFF,
];

/// One function tool as the chat completions API takes it
/// (`{"type":"function","function":{name, description, parameters}}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolSpec {
    pub name: &'static str,
    pub description: String,
    /// A JSON Schema object: `additionalProperties: false` on every object, the
    /// required fields listed, catalog enums where they fit, never a price.
    pub parameters: Value,
}

/// The tools for this catalog. Build them once per catalog version.
pub fn tools(catalog: &Catalog) -> Vec<ToolSpec> {
    tools_for(catalog, catalog)
}

/// The tools with `add_item` naming the products of `adding` and the edits
/// (`change_quantity`, `set_option`, `remove_item`) those of `editing`.
fn tools_for(adding: &Catalog, editing: &Catalog) -> Vec<ToolSpec> {
    let vocabulary = Vocabulary::new(adding);
    let editable = Vocabulary::new(editing);
    let product = vocabulary.product_schema();
    let target = json!({
        "type": "string",
        "enum": editable.products,
        "description": "The line's product, name or SKU as listed; leave out for the line \
                        last talked about."
    });
    let quantity = json!({
        "type": "integer",
        "minimum": MIN_QUANTITY,
        "maximum": MAX_QUANTITY,
    });
    let options = vocabulary.options_schema();
    let edit_options = editable.options_schema();
    let text = |max: usize, description: &str| json!({ "type": "string", "minLength": 1, "maxLength": max, "description": description });
    let address_field = |description: &str| text(MAX_ADDRESS_FIELD_CHARS, description);
    let order_number = json!({
        "type": "string",
        "maxLength": MAX_SHORT_CHARS,
        "description": "The order number as the shopper wrote it, e.g. G-100042."
    });
    vec![
        tool(
            ADD_ITEM,
            "Add a line to the order: a listed product, how many, and only the options the \
             shopper asked for; never guess one.",
            object(
                [
                    ("product", product),
                    (
                        "quantity",
                        with_description(
                            quantity.clone(),
                            "How many. Leave out when the shopper gave no number.",
                        ),
                    ),
                    ("options", options),
                ],
                &["product"],
            ),
        ),
        tool(
            CHANGE_QUANTITY,
            "Set the quantity of a line already in the order (\"make that 3\").",
            object(
                [
                    ("product", target.clone()),
                    ("quantity", with_description(quantity, "The new quantity of the line.")),
                ],
                &["quantity"],
            ),
        ),
        tool(
            SET_OPTION,
            "Change options of a line already in the order (\"make the tee large\", \"no \
             onions on the pizza\"). Only the options the shopper mentioned.",
            object([("product", target.clone()), ("options", edit_options)], &["options"]),
        ),
        tool(REMOVE_ITEM, "Remove a line from the order.", object([("product", target)], &[])),
        tool(
            IDENTIFY_CUSTOMER,
            "Record the shopper's own name, email address or phone number, as they wrote \
             them. Only details the shopper gave about themselves in this message.",
            object(
                [
                    ("name", text(MAX_TEXT_CHARS, "The shopper's name.")),
                    ("email", text(MAX_EMAIL_CHARS, "The shopper's email address.")),
                    ("phone", text(MAX_SHORT_CHARS, "The shopper's phone number.")),
                ],
                &[],
            ),
        ),
        tool(
            SET_ADDRESS,
            "Record the shipping address the shopper gave, field by field as written.",
            object(
                [
                    ("line1", address_field("Street and number.")),
                    ("line2", address_field("Apartment, suite, floor.")),
                    ("city", address_field("City or town.")),
                    ("postal_code", text(MAX_SHORT_CHARS, "Postal or ZIP code.")),
                    ("region", address_field("State, province or region.")),
                    ("country", address_field("Country, as written.")),
                ],
                &[],
            ),
        ),
        tool(
            CONFIRM,
            "The shopper says the order is complete and wants to place it (\"that's all\", \
             \"confirm\", \"yes\" to the question whether to place it).",
            object([], &[]),
        ),
        tool(CANCEL, "The shopper wants to cancel the order.", object([], &[])),
        tool(
            ORDER_STATUS,
            "The shopper asks where an order they placed is.",
            object(
                [
                    ("order_number", order_number.clone()),
                    (
                        "email",
                        text(MAX_EMAIL_CHARS, "The email address the order was placed with."),
                    ),
                ],
                &[],
            ),
        ),
        tool(
            START_RETURN,
            "The shopper wants to return items of an order they placed.",
            object([("order_number", order_number)], &[]),
        ),
        tool(
            HAND_OFF,
            "The shopper asks for a person, or needs something no other tool does.",
            object([("reason", text(MAX_TEXT_CHARS, "Why, in a few words."))], &[]),
        ),
    ]
}

/// The tools for one call of a turn: `add_item` for the selected products, the edits
/// for those of them in the order (each only when it has a product to name), the other
/// command tools, and `search_catalog` when `searchable`. The parser accepts any
/// selected product for any tool; the validator refuses an edit of a missing line.
pub fn turn_tools(
    selection: &super::Selection,
    order: &OrderState,
    searchable: bool,
) -> Vec<ToolSpec> {
    let adding = selection.catalog();
    // An edit names a line already in the order, so only the order's products.
    let editing = Catalog {
        currency: adding.currency,
        products: adding
            .products
            .iter()
            .filter(|p| order.lines.iter().any(|line| line.sku == p.sku))
            .cloned()
            .collect(),
    };
    let edits = [CHANGE_QUANTITY, SET_OPTION, REMOVE_ITEM];
    let mut list: Vec<ToolSpec> = tools_for(adding, &editing)
        .into_iter()
        .filter(|tool| tool.name != ADD_ITEM || !adding.products.is_empty())
        .filter(|tool| !edits.contains(&tool.name) || !editing.products.is_empty())
        .collect();
    if searchable {
        list.push(search_tool());
    }
    list
}

/// `search_catalog`: products by the shopper's words, for a product the prompt does not
/// list. Its results are added to the list for the next call of the same turn.
pub fn search_tool() -> ToolSpec {
    tool(
        SEARCH_CATALOG,
        "Find products the catalog above does not list, by the shopper's words for them. \
         The products found are listed for you in the next step; call no other tool with it.",
        object(
            [(
                "query",
                json!({ "type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS,
                        "description": "The shopper's words for the product." }),
            )],
            &["query"],
        ),
    )
}

/// The query of a `search_catalog` call, when its arguments are exactly
/// `{"query": "<1 to MAX_QUERY_CHARS characters>"}`.
pub fn search_query(arguments: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Args {
        query: String,
    }
    let args: Args = serde_json::from_str(arguments).ok()?;
    let query = args.query.trim();
    let length = query.chars().count();
    (length > 0 && length <= MAX_QUERY_CHARS).then(|| query.to_owned())
}

fn tool(name: &'static str, description: &str, parameters: Value) -> ToolSpec {
    ToolSpec { name, description: description.to_owned(), parameters }
}

fn object<const N: usize>(properties: [(&str, Value); N], required: &[&str]) -> Value {
    let properties: Map<String, Value> =
        properties.into_iter().map(|(name, schema)| (name.to_owned(), schema)).collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

fn with_description(mut schema: Value, description: &str) -> Value {
    if let Value::Object(map) = &mut schema {
        map.insert("description".to_owned(), Value::String(description.to_owned()));
    }
    schema
}

/// The catalog's words as the tools use them, shared by the schemas and the parser so
/// that the two can never disagree.
#[derive(Debug, Clone)]
pub(super) struct Vocabulary<'a> {
    pub catalog: &'a Catalog,
    /// Every product name, then every SKU that is not also a name, in catalog order.
    pub products: Vec<String>,
    /// Every option group name in the catalog, first seen first.
    pub groups: Vec<GroupWords>,
}

/// One option group name across every product that has it.
#[derive(Debug, Clone)]
pub(super) struct GroupWords {
    pub name: String,
    pub single: bool,
    pub multi: bool,
    /// Canonical value names of the single-choice groups of this name.
    pub values: Vec<String>,
    /// Phrases of the multi-choice groups of this name: "onions", "no onions", "extra
    /// cheese".
    pub phrases: Vec<String>,
}

impl<'a> Vocabulary<'a> {
    pub fn new(catalog: &'a Catalog) -> Vocabulary<'a> {
        let mut products: Vec<String> = catalog.products.iter().map(|p| p.name.clone()).collect();
        for product in &catalog.products {
            push_new(&mut products, product.sku.as_str());
        }
        let mut groups: Vec<GroupWords> = Vec::new();
        for group in catalog.products.iter().flat_map(|p| &p.options) {
            let at = match groups.iter().position(|g| g.name == group.name) {
                Some(at) => at,
                None => {
                    groups.push(GroupWords {
                        name: group.name.clone(),
                        single: false,
                        multi: false,
                        values: Vec::new(),
                        phrases: Vec::new(),
                    });
                    groups.len() - 1
                }
            };
            let words = &mut groups[at];
            match group.kind {
                GroupKind::Single => {
                    words.single = true;
                    for value in &group.values {
                        push_new(&mut words.values, &value.name);
                    }
                }
                GroupKind::Multi => {
                    words.multi = true;
                    for (phrase, _) in multi_phrases(group) {
                        push_new(&mut words.phrases, &phrase);
                    }
                }
            }
        }
        Vocabulary { catalog, products, groups }
    }

    /// The product a name or SKU from the enum means: exact, never fuzzy.
    pub fn product(&self, said: &str) -> Option<&'a Product> {
        let by_name = self.catalog.products.iter().find(|p| p.name == said);
        let by_sku = self.catalog.products.iter().find(|p| p.sku.as_str() == said);
        match (by_name, by_sku) {
            (Some(a), Some(b)) if a.sku != b.sku => None,
            (a, b) => a.or(b),
        }
    }

    pub fn group(&self, name: &str) -> Option<&GroupWords> {
        self.groups.iter().find(|g| g.name == name)
    }

    fn product_schema(&self) -> Value {
        json!({
            "type": "string",
            "enum": self.products,
            "description": "Name or SKU as listed."
        })
    }

    fn options_schema(&self) -> Value {
        let properties: Map<String, Value> =
            self.groups.iter().map(|g| (g.name.clone(), g.schema())).collect();
        json!({
            "type": "object",
            "description": "Group → value by canonical name; a multi-choice group takes \
                            a list.",
            "properties": properties,
            "additionalProperties": false,
        })
    }
}

impl GroupWords {
    fn schema(&self) -> Value {
        let single = json!({ "type": "string", "enum": self.values });
        let multi = json!({
            "type": "array",
            "items": { "type": "string", "enum": self.phrases },
            "minItems": 1,
            "maxItems": self.phrases.len().max(1),
            "uniqueItems": true,
        });
        match (self.single, self.multi) {
            (true, true) => json!({ "anyOf": [single, multi] }),
            (true, false) => single,
            _ => multi,
        }
    }
}

/// What each phrase of a multi-choice group means: the value, "no" and the value, or a
/// qualifier and the value. A phrase that could mean two things is left out.
pub(super) fn multi_phrases(group: &OptionGroup) -> Vec<(String, ChoiceMention)> {
    let mut phrases: Vec<(String, ChoiceMention)> = Vec::new();
    for value in &group.values {
        let name = &value.name;
        phrases.push((name.clone(), ChoiceMention::new(&group.name, name)));
        phrases.push((format!("no {name}"), ChoiceMention::excluded(&group.name, name)));
        for qualifier in &group.qualifiers {
            let choice = ChoiceMention::new(&group.name, name).with_qualifier(qualifier);
            phrases.push((format!("{qualifier} {name}"), choice));
        }
    }
    let twice = |phrase: &str| phrases.iter().filter(|(p, _)| p == phrase).count() > 1;
    let unique: Vec<bool> = phrases.iter().map(|(p, _)| !twice(p)).collect();
    phrases.into_iter().zip(unique).filter(|(_, keep)| *keep).map(|(phrase, _)| phrase).collect()
}

fn push_new(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|existing| existing == item) {
        list.push(item.to_owned());
    }
}
