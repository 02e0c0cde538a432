//! Tool calls in, commands out: strictly. A call is taken whole or refused whole with a
//! reason for the audit trail; nothing is repaired, rounded, clamped or guessed. What
//! comes out is what the rules extractor would build for the same request, so the
//! validator cannot tell the two apart.

use std::fmt;

use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::catalog::{Catalog, Choice, GroupKind, OptionGroup, Product};
use crate::chat::command::{Command, ItemMention, ItemRef, ProductRef, Span};
use crate::chat::extract::Extraction;
use crate::orders::{UncheckedAddress, MAX_QUANTITY, MIN_QUANTITY};

use super::tools::{self, multi_phrases, Vocabulary};

/// Calls after this many in one turn are refused: no message asks for more.
pub const MAX_TOOL_CALLS: usize = 16;
/// Longer arguments are refused unread.
pub const MAX_ARGUMENT_BYTES: usize = 4096;
/// A name, a reason.
pub const MAX_TEXT_CHARS: usize = 200;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_ADDRESS_FIELD_CHARS: usize = 120;
/// A phone number, a postal code, an order number.
pub const MAX_SHORT_CHARS: usize = 32;

/// One tool call as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub name: String,
    /// The raw JSON text of the arguments, unparsed.
    pub arguments: String,
}

impl ToolCall {
    pub fn new(name: impl Into<String>, arguments: impl Into<String>) -> ToolCall {
        ToolCall { name: name.into(), arguments: arguments.into() }
    }
}

/// A call that became no command, and why: for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedCall {
    /// Index into the calls passed to [`parse_tool_calls`].
    pub index: usize,
    pub name: String,
    pub arguments: String,
    pub reason: String,
}

/// What the model's calls propose, for [`take_turn_with`](crate::chat::turn::take_turn_with),
/// and what was refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmExtraction {
    /// One command per accepted call, in call order. Spans are empty: the model says
    /// which words it read only in its own words, which are not trusted as offsets.
    pub extraction: Extraction,
    /// For each command, the index of the call it came from.
    pub sources: Vec<usize>,
    pub rejected: Vec<RejectedCall>,
}

/// Parses every call; never fails as a whole.
pub fn parse_tool_calls(catalog: &Catalog, calls: &[ToolCall]) -> LlmExtraction {
    let vocabulary = Vocabulary::new(catalog);
    let mut parsed = LlmExtraction::default();
    for (index, call) in calls.iter().enumerate() {
        let result = if index >= MAX_TOOL_CALLS {
            Err(format!("more than {MAX_TOOL_CALLS} tool calls in one turn"))
        } else {
            parse_call(&vocabulary, call)
        };
        match result {
            Ok(command) => {
                parsed.extraction.commands.push(command);
                parsed.sources.push(index);
            }
            Err(reason) => parsed.rejected.push(RejectedCall {
                index,
                name: call.name.clone(),
                arguments: call.arguments.clone(),
                reason,
            }),
        }
    }
    parsed
}

type Parsed<T> = Result<T, String>;

fn parse_call(vocabulary: &Vocabulary<'_>, call: &ToolCall) -> Parsed<Command> {
    if !tools::TOOL_NAMES.contains(&call.name.as_str()) {
        return Err(format!("unknown tool \"{}\"", clip(&call.name)));
    }
    if call.arguments.len() > MAX_ARGUMENT_BYTES {
        return Err(format!("arguments longer than {MAX_ARGUMENT_BYTES} bytes"));
    }
    let value: Value = serde_json::from_str(&call.arguments)
        .map_err(|error| format!("malformed JSON arguments: {error}"))?;
    if !value.is_object() {
        return Err("the arguments must be a JSON object".to_owned());
    }
    if let Some(key) = price_like_key(vocabulary, &value) {
        return Err(format!(
            "price-like field \"{}\": prices, totals and discounts are decided by the shop, \
             never proposed",
            clip(&key)
        ));
    }
    let arguments = call.arguments.as_str();
    match call.name.as_str() {
        tools::ADD_ITEM => add_item(vocabulary, typed(arguments)?),
        tools::CHANGE_QUANTITY => {
            let args: ChangeQuantityArgs = typed(arguments)?;
            Ok(Command::ChangeQuantity {
                target: target(vocabulary, args.product.as_deref())?,
                quantity: quantity(args.quantity)?,
                span: Span::default(),
            })
        }
        tools::SET_OPTION => set_option(vocabulary, typed(arguments)?),
        tools::REMOVE_ITEM => {
            let args: TargetArgs = typed(arguments)?;
            let target = target(vocabulary, args.product.as_deref())?;
            Ok(Command::RemoveItem { target, span: Span::default() })
        }
        tools::IDENTIFY_CUSTOMER => {
            let args: CustomerArgs = typed(arguments)?;
            let name = text("name", args.name, MAX_TEXT_CHARS)?;
            let email = text("email", args.email, MAX_EMAIL_CHARS)?;
            let phone = text("phone", args.phone, MAX_SHORT_CHARS)?;
            if name.is_none() && email.is_none() && phone.is_none() {
                return Err("no name, email or phone given".to_owned());
            }
            Ok(Command::IdentifyCustomer { name, email, phone })
        }
        tools::SET_ADDRESS => {
            let args: AddressArgs = typed(arguments)?;
            let field =
                |name: &str, value: Option<String>| text(name, value, MAX_ADDRESS_FIELD_CHARS);
            let address = UncheckedAddress {
                line1: field("line1", args.line1)?,
                line2: field("line2", args.line2)?,
                city: field("city", args.city)?,
                postal_code: text("postal_code", args.postal_code, MAX_SHORT_CHARS)?,
                region: field("region", args.region)?,
                country: field("country", args.country)?,
            };
            if address == UncheckedAddress::default() {
                return Err("no address field given".to_owned());
            }
            Ok(Command::SetShippingAddress(address))
        }
        tools::CONFIRM => typed::<NoArgs>(arguments).map(|_| Command::Confirm),
        tools::CANCEL => typed::<NoArgs>(arguments).map(|_| Command::Cancel),
        tools::ORDER_STATUS => {
            let args: OrderStatusArgs = typed(arguments)?;
            Ok(Command::OrderStatus {
                order_number: text("order_number", args.order_number, MAX_SHORT_CHARS)?,
                email: text("email", args.email, MAX_EMAIL_CHARS)?,
            })
        }
        tools::START_RETURN => {
            let args: StartReturnArgs = typed(arguments)?;
            let order_number = text("order_number", args.order_number, MAX_SHORT_CHARS)?;
            Ok(Command::StartReturn { order_number })
        }
        tools::HAND_OFF => {
            let args: HandOffArgs = typed(arguments)?;
            Ok(Command::Handoff { reason: text("reason", args.reason, MAX_TEXT_CHARS)? })
        }
        other => Err(format!("unknown tool \"{}\"", clip(other))),
    }
}

/// The arguments as the tool's own struct: unknown fields, duplicate fields and wrong
/// types are refused here, with serde's words for what was wrong.
fn typed<T: DeserializeOwned>(arguments: &str) -> Parsed<T> {
    serde_json::from_str(arguments).map_err(|error| format!("arguments out of schema: {error}"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddItemArgs {
    product: String,
    quantity: Option<u32>,
    options: Option<Options>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeQuantityArgs {
    product: Option<String>,
    quantity: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetOptionArgs {
    product: Option<String>,
    options: Options,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetArgs {
    product: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerArgs {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddressArgs {
    line1: Option<String>,
    line2: Option<String>,
    city: Option<String>,
    postal_code: Option<String>,
    region: Option<String>,
    country: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderStatusArgs {
    order_number: Option<String>,
    email: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartReturnArgs {
    order_number: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HandOffArgs {
    reason: Option<String>,
}

/// The `options` object in the order the model wrote it, a group named twice refused.
struct Options(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Options {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Options;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of option group names to values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Options, A::Error> {
                let mut entries: Vec<(String, Value)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    if entries.iter().any(|(seen, _)| *seen == key) {
                        return Err(de::Error::custom(format!("duplicate option group `{key}`")));
                    }
                    entries.push((key, value));
                }
                Ok(Options(entries))
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

fn add_item(vocabulary: &Vocabulary<'_>, args: AddItemArgs) -> Parsed<Command> {
    let product = product(vocabulary, &args.product)?;
    let quantity = args.quantity.map(quantity).transpose()?;
    let choices = match &args.options {
        Some(options) => product_choices(vocabulary, product, options)?,
        None => Vec::new(),
    };
    Ok(Command::AddItem(ItemMention {
        product: ProductRef::Known(product.sku.clone()),
        quantity,
        choices,
        span: Span::default(),
    }))
}

fn set_option(vocabulary: &Vocabulary<'_>, args: SetOptionArgs) -> Parsed<Command> {
    if args.options.0.is_empty() {
        return Err("no option given".to_owned());
    }
    let choices = match args.product.as_deref() {
        Some(said) => product_choices(vocabulary, product(vocabulary, said)?, &args.options)?,
        // The line is only known to the validator, which checks the values against it.
        None => catalog_choices(vocabulary, &args.options)?,
    };
    Ok(Command::SetChoices {
        target: target(vocabulary, args.product.as_deref())?,
        choices,
        span: Span::default(),
    })
}

fn product<'a>(vocabulary: &Vocabulary<'a>, said: &str) -> Parsed<&'a Product> {
    vocabulary.product(said).ok_or_else(|| {
        format!("product \"{}\" is not a name or SKU listed in the catalog", clip(said))
    })
}

fn target(vocabulary: &Vocabulary<'_>, said: Option<&str>) -> Parsed<ItemRef> {
    match said {
        None => Ok(ItemRef::Last),
        Some(said) => {
            let product = product(vocabulary, said)?;
            Ok(ItemRef::Product(ProductRef::Known(product.sku.clone())))
        }
    }
}

fn quantity(quantity: u32) -> Parsed<u32> {
    if (MIN_QUANTITY..=MAX_QUANTITY).contains(&quantity) {
        Ok(quantity)
    } else {
        Err(format!("quantity {quantity} is outside {MIN_QUANTITY} to {MAX_QUANTITY}"))
    }
}

/// A free-text field: absent or null is `None`; empty or too long is refused.
fn text(field: &str, value: Option<String>, max: usize) -> Parsed<Option<String>> {
    match value {
        None => Ok(None),
        Some(value) if value.trim().is_empty() => Err(format!("{field} is empty")),
        Some(value) if value.chars().count() > max => {
            Err(format!("{field} is longer than {max} characters"))
        }
        Some(value) => Ok(Some(value)),
    }
}

/// The options for one product: its own groups and values, by canonical name.
fn product_choices(
    vocabulary: &Vocabulary<'_>,
    product: &Product,
    options: &Options,
) -> Parsed<Vec<Choice>> {
    let mut choices = Vec::new();
    for (name, value) in &options.0 {
        let Some(group) = product.options.iter().find(|g| &g.name == name) else {
            return Err(match vocabulary.group(name) {
                Some(_) => format!("the {} has no option \"{}\"", product.name, clip(name)),
                None => format!("unknown option group \"{}\"", clip(name)),
            });
        };
        choices.extend(group_choices(group, value)?);
    }
    Ok(choices)
}

fn group_choices(group: &OptionGroup, value: &Value) -> Parsed<Vec<Choice>> {
    match group.kind {
        GroupKind::Single => {
            let said = single_value(&group.name, value)?;
            match group.values.iter().find(|v| v.name == said) {
                Some(found) => Ok(vec![Choice::new(&group.name, &found.name)]),
                None => Err(out_of_enum(&group.name, said)),
            }
        }
        GroupKind::Multi => {
            let phrases = multi_phrases(group);
            multi_values(&group.name, value)?
                .into_iter()
                .map(|said| {
                    phrases
                        .iter()
                        .find(|(phrase, _)| phrase == said)
                        .map(|(_, choice)| choice.clone())
                        .ok_or_else(|| out_of_enum(&group.name, said))
                })
                .collect()
        }
    }
}

/// The options for "the line last talked about": values of that group name somewhere in
/// the catalog, each meaning one thing wherever it appears.
fn catalog_choices(vocabulary: &Vocabulary<'_>, options: &Options) -> Parsed<Vec<Choice>> {
    let mut choices = Vec::new();
    for (name, value) in &options.0 {
        let Some(words) = vocabulary.group(name) else {
            return Err(format!("unknown option group \"{}\"", clip(name)));
        };
        let groups = || {
            vocabulary.catalog.products.iter().flat_map(|p| &p.options).filter(|g| &g.name == name)
        };
        match value {
            Value::String(said) if words.single => {
                if !words.values.contains(said) {
                    return Err(out_of_enum(name, said));
                }
                choices.push(Choice::new(name, said));
            }
            Value::Array(_) if words.multi => {
                for said in multi_values(name, value)? {
                    let mut meanings: Vec<Choice> = Vec::new();
                    for group in groups().filter(|g| g.kind == GroupKind::Multi) {
                        for (phrase, choice) in multi_phrases(group) {
                            if phrase == said && !meanings.contains(&choice) {
                                meanings.push(choice);
                            }
                        }
                    }
                    match meanings.as_slice() {
                        [one] => choices.push(one.clone()),
                        [] => return Err(out_of_enum(name, said)),
                        _ => return Err(format!("\"{}\" means different things", clip(said))),
                    }
                }
            }
            _ if words.single => single_value(name, value).map(|_| ())?,
            _ => multi_values(name, value).map(|_| ())?,
        }
    }
    Ok(choices)
}

fn single_value<'v>(group: &str, value: &'v Value) -> Parsed<&'v str> {
    value.as_str().ok_or_else(|| format!("option \"{}\" takes one value as a string", clip(group)))
}

fn multi_values<'v>(group: &str, value: &'v Value) -> Parsed<Vec<&'v str>> {
    let wrong = || format!("option \"{}\" takes a list of strings", clip(group));
    let items = value.as_array().ok_or_else(wrong)?;
    if items.is_empty() {
        return Err(format!("option \"{}\" has an empty list", clip(group)));
    }
    let mut said: Vec<&str> = Vec::new();
    for item in items {
        let text = item.as_str().ok_or_else(wrong)?;
        if said.contains(&text) {
            return Err(format!("option \"{}\" lists \"{}\" twice", clip(group), clip(text)));
        }
        said.push(text);
    }
    Ok(said)
}

fn out_of_enum(group: &str, said: &str) -> String {
    format!("\"{}\" is not a value of option \"{}\" in the catalog", clip(said), clip(group))
}

/// Words that mean money. A field named with one is refused by name, before the schema
/// check would refuse it as unknown, so the audit trail says what was attempted.
const PRICE_WORDS: &[&str] = &[
    "price",
    "prices",
    "pricing",
    "unitprice",
    "total",
    "totals",
    "subtotal",
    "discount",
    "discounts",
    "cost",
    "costs",
    "amount",
    "tax",
    "fee",
    "fees",
    "coupon",
    "voucher",
    "promo",
    "currency",
    "money",
    "refund",
    "charge",
    "free",
    "cents",
    "minor",
    "rebate",
    "sale",
];

/// The first key anywhere in the arguments that names money, except option group names
/// the catalog itself uses.
fn price_like_key(vocabulary: &Vocabulary<'_>, value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => map.iter().find_map(|(key, inner)| {
            let group = vocabulary.group(key).is_some();
            (!group && is_price_like(key))
                .then(|| key.clone())
                .or_else(|| price_like_key(vocabulary, inner))
        }),
        Value::Array(items) => items.iter().find_map(|item| price_like_key(vocabulary, item)),
        _ => None,
    }
}

fn is_price_like(key: &str) -> bool {
    let lower = key.to_lowercase();
    if ["price", "discount", "total"].iter().any(|word| lower.contains(word)) {
        return true;
    }
    // unit_price, unitPrice, "shipping-cost": split on anything but letters and at
    // lower-to-upper case changes.
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        let boundary = !c.is_alphanumeric() || (c.is_uppercase() && previous_lower);
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        if c.is_alphanumeric() {
            current.extend(c.to_lowercase());
        }
        previous_lower = c.is_lowercase();
    }
    words.push(current);
    words.iter().any(|word| PRICE_WORDS.contains(&word.as_str()))
}

/// What the model wrote, cut short for a reason text.
fn clip(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    }
}
