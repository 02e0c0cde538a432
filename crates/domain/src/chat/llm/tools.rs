//! The tools the model may call: one per command, with JSON Schemas whose enums are the
//! catalog's canonical names. The enums only narrow what the model proposes; the
//! parser checks them again and the validator decides.

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::catalog::{Catalog, Choice, GroupKind, OptionGroup, Product};
use crate::orders::{OrderState, MAX_QUANTITY, MIN_QUANTITY};

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
///
/// Every word here is sent with every call, so descriptions are short and say only
/// what the names and the prompt's rules do not; lengths are checked by the parser,
/// not described. An object with nothing required has no `required` list.
fn tools_for(adding: &Catalog, editing: &Catalog) -> Vec<ToolSpec> {
    let vocabulary = Vocabulary::new(adding);
    let editable = Vocabulary::new(editing);
    let quantity = json!({ "type": "integer", "minimum": MIN_QUANTITY, "maximum": MAX_QUANTITY });
    let string = || json!({ "type": "string" });
    let described = |description: &str| json!({ "type": "string", "description": description });
    let order_number = || described("As written, e.g. G-100042.");
    vec![
        tool(
            ADD_ITEM,
            "Add a line: a listed product, how many, and only the options the shopper asked \
             for.",
            object(
                [
                    ("product", vocabulary.product_schema()),
                    (
                        "quantity",
                        with_description(quantity.clone(), "Leave out when no number is given."),
                    ),
                    ("options", vocabulary.options_schema()),
                ],
                &["product"],
            ),
        ),
        tool(
            CHANGE_QUANTITY,
            "Set the quantity of a line in the order (\"make that 3\").",
            object([("product", editable.product_schema()), ("quantity", quantity)], &["quantity"]),
        ),
        tool(
            SET_OPTION,
            "Change options of a line in the order (\"make it large\", \"no onions\"): only \
             those mentioned.",
            object(
                [("product", editable.product_schema()), ("options", editable.options_schema())],
                &["options"],
            ),
        ),
        tool(
            REMOVE_ITEM,
            "Remove a line from the order.",
            object([("product", editable.product_schema())], &[]),
        ),
        tool(
            IDENTIFY_CUSTOMER,
            "The shopper's own name, email or phone, as written in this message.",
            object([("name", string()), ("email", string()), ("phone", string())], &[]),
        ),
        tool(
            SET_ADDRESS,
            "The shipping address, field by field as written.",
            object(
                [
                    ("line1", described("Street and number.")),
                    ("line2", described("Apartment, suite, floor.")),
                    ("city", string()),
                    ("postal_code", string()),
                    ("region", described("State, province or region.")),
                    ("country", string()),
                ],
                &[],
            ),
        ),
        tool(
            CONFIRM,
            "The shopper wants the order placed as it is (\"that's all\", \"confirm\", \"yes\" \
             to placing it).",
            object([], &[]),
        ),
        tool(CANCEL, "The shopper wants to cancel the order.", object([], &[])),
        tool(
            ORDER_STATUS,
            "Where is an order the shopper placed.",
            object([("order_number", order_number()), ("email", string())], &[]),
        ),
        tool(
            START_RETURN,
            "Return items of an order the shopper placed.",
            object([("order_number", order_number())], &[]),
        ),
        tool(
            HAND_OFF,
            "The shopper wants a person, or something no other tool does.",
            object([("reason", described("In a few words."))], &[]),
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
        "Find products not listed above by the shopper's words for them; they are listed \
         in the next step. Call no other tool with it.",
        object([("query", json!({ "type": "string", "maxLength": MAX_QUERY_CHARS }))], &["query"]),
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
    let mut schema = json!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
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
    /// Every product name, in catalog order. The parser also takes a SKU, but the
    /// schemas list names only: the prompt names products by name.
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
    /// Canonical value names of the multi-choice groups of this name.
    pub multi_values: Vec<String>,
    /// Qualifiers of the multi-choice groups of this name ("extra", "light").
    pub qualifiers: Vec<String>,
}

impl<'a> Vocabulary<'a> {
    pub fn new(catalog: &'a Catalog) -> Vocabulary<'a> {
        let products: Vec<String> = catalog.products.iter().map(|p| p.name.clone()).collect();
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
                        multi_values: Vec::new(),
                        qualifiers: Vec::new(),
                    });
                    groups.len() - 1
                }
            };
            let words = &mut groups[at];
            let values = match group.kind {
                GroupKind::Single => {
                    words.single = true;
                    &mut words.values
                }
                GroupKind::Multi => {
                    words.multi = true;
                    for qualifier in &group.qualifiers {
                        push_new(&mut words.qualifiers, qualifier);
                    }
                    &mut words.multi_values
                }
            };
            for value in &group.values {
                push_new(values, &value.name);
            }
        }
        Vocabulary { catalog, products, groups }
    }

    /// The product a name or SKU means: exact, never fuzzy.
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
        json!({ "type": "string", "enum": self.products })
    }

    fn options_schema(&self) -> Value {
        let properties: Map<String, Value> =
            self.groups.iter().map(|g| (g.name.clone(), g.schema())).collect();
        json!({
            "type": "object",
            "properties": properties,
            "additionalProperties": false,
        })
    }
}

impl GroupWords {
    /// A single-choice group: one value of an enum. A multi-choice group: a list of
    /// phrases, each a value, "no" and a value, or a qualifier and a value, written as
    /// one pattern rather than every phrase spelled out (nine toppings and two
    /// qualifiers would be 36 phrases). The parser takes only phrases that mean one
    /// thing for the product.
    fn schema(&self) -> Value {
        let single = json!({ "type": "string", "enum": self.values });
        let prefixes: Vec<String> = std::iter::once("no".to_owned())
            .chain(self.qualifiers.iter().cloned())
            .map(|prefix| regex_escape(&format!("{prefix} ")))
            .collect();
        let values: Vec<String> = self.multi_values.iter().map(|v| regex_escape(v)).collect();
        let pattern = format!("^({})?({})$", prefixes.join("|"), values.join("|"));
        let multi = json!({
            "type": "array",
            "items": { "type": "string", "pattern": pattern },
        });
        match (self.single, self.multi) {
            (true, true) => json!({ "anyOf": [single, multi] }),
            (true, false) => single,
            _ => multi,
        }
    }
}

/// `text` as a regular expression that matches only itself.
pub(super) fn regex_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// What each phrase of a multi-choice group means: the value, "no" and the value, or a
/// qualifier and the value. A phrase that could mean two things is left out.
pub(super) fn multi_phrases(group: &OptionGroup) -> Vec<(String, Choice)> {
    let mut phrases: Vec<(String, Choice)> = Vec::new();
    for value in &group.values {
        let name = &value.name;
        phrases.push((name.clone(), Choice::new(&group.name, name)));
        phrases.push((format!("no {name}"), Choice::excluded(&group.name, name)));
        for qualifier in &group.qualifiers {
            let choice = Choice::new(&group.name, name).with_qualifier(qualifier);
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
