//! A stand-in for a model that knows only what its request tells it, for
//! `gapless eval --extractor llm`: an OpenAI-compatible fake on loopback that reads the
//! products, option values and order lines from the system prompt, reads the shopper's
//! message with the rules extractor built from those products alone, and answers with
//! the tool calls for what it read. A product it needs but the prompt does not list
//! (the reader finds an unknown product) is searched for with `search_catalog` when
//! that tool is offered. Whatever the prompt leaves out, this reader cannot know, so
//! its accuracy measures what the prompt carries, not how clever a model is.
//!
//! It also keeps the size of the largest request it received: system prompt, message
//! and tool schemas, in characters as sent.

use std::sync::{Arc, Mutex};

use axum::{extract::State, routing::post, Json, Router};
use gapless_domain::{
    catalog::{Catalog, Choice, GroupKind, Product},
    chat::extract::ContextLine,
    chat::{Command, DraftContext, ItemMention, ItemRef, ProductRef, RulesExtractor},
};
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub requests: usize,
    pub searches: usize,
    /// Characters of the largest request (system + message + tools JSON) and its
    /// message.
    pub largest: (usize, String),
}

pub struct PromptReader {
    pub base_url: String,
    stats: Arc<Mutex<Stats>>,
}

impl PromptReader {
    /// Serves on a free loopback port of the current tokio runtime.
    pub async fn start() -> PromptReader {
        let stats = Arc::new(Mutex::new(Stats::default()));
        let app =
            Router::new().route("/v1/chat/completions", post(complete)).with_state(stats.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        PromptReader { base_url, stats }
    }

    /// What the requests since the last call were like.
    pub fn take_stats(&self) -> Stats {
        std::mem::take(&mut *self.stats.lock().unwrap())
    }
}

async fn complete(State(stats): State<Arc<Mutex<Stats>>>, Json(body): Json<Value>) -> Json<Value> {
    let text = |role: &str| {
        body["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["role"] == role)
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let (system, message) = (text("system"), text("user"));
    let tools: Vec<String> = body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["function"]["name"].as_str().map(str::to_owned))
        .collect();
    let calls = answer(&system, &message, &tools);
    {
        let mut stats = stats.lock().unwrap();
        stats.requests += 1;
        stats.searches += calls.iter().filter(|(name, _)| name == "search_catalog").count();
        let chars = system.chars().count()
            + message.chars().count()
            + body.get("tools").map_or(0, |t| t.to_string().len());
        if chars > stats.largest.0 {
            stats.largest = (chars, message.clone());
        }
    }
    let tool_calls: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, (name, arguments))| {
            json!({ "id": format!("call_{i}"), "type": "function",
                    "function": { "name": name, "arguments": arguments.to_string() } })
        })
        .collect();
    let message = if tool_calls.is_empty() {
        json!({ "role": "assistant", "content": "Nothing to do." })
    } else {
        json!({ "role": "assistant", "content": null, "tool_calls": tool_calls })
    };
    Json(json!({
        "id": "chatcmpl-reader", "object": "chat.completion", "created": 1_700_000_000,
        "model": "prompt-reader",
        "choices": [ { "index": 0, "message": message, "finish_reason": "stop" } ],
        "usage": { "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0 }
    }))
}

/// The tool calls for `message`, from the prompt alone.
fn answer(system: &str, message: &str, tools: &[String]) -> Vec<(String, Value)> {
    let Some((catalog, context)) = read_prompt(system) else {
        return Vec::new();
    };
    let extraction = RulesExtractor::new(&catalog).extract(message, &context);
    let offered = |name: &str| tools.iter().any(|t| t == name);
    let searches: Vec<(String, Value)> = extraction
        .commands
        .iter()
        .filter_map(|command| match command {
            Command::AddItem(ItemMention { product: ProductRef::Unknown { said, .. }, .. }) => {
                Some(("search_catalog".to_owned(), json!({ "query": said })))
            }
            _ => None,
        })
        .collect();
    if !searches.is_empty() && offered("search_catalog") {
        return searches;
    }
    extraction.commands.iter().filter_map(|command| call(&catalog, command)).collect()
}

fn call(catalog: &Catalog, command: &Command) -> Option<(String, Value)> {
    let name_of = |product: &ProductRef| match product {
        ProductRef::Known(sku) => catalog.product(sku).map(|p| p.name.clone()),
        _ => None,
    };
    let target = |target: &ItemRef| -> Option<Map<String, Value>> {
        let mut args = Map::new();
        if let ItemRef::Product(product) = target {
            args.insert("product".into(), name_of(product)?.into());
        }
        Some(args)
    };
    let some = |args: Map<String, Value>| Value::Object(args);
    let (name, args) = match command {
        Command::AddItem(item) => {
            let product = match &item.product {
                ProductRef::Known(sku) => catalog.product(sku)?,
                _ => return None,
            };
            let mut args = Map::new();
            args.insert("product".into(), product.name.clone().into());
            if let Some(quantity) = item.quantity {
                args.insert("quantity".into(), quantity.into());
            }
            if !item.choices.is_empty() {
                args.insert("options".into(), options(Some(product), catalog, &item.choices));
            }
            ("add_item", some(args))
        }
        Command::ChangeQuantity { target: to, quantity, .. } => {
            let mut args = target(to)?;
            args.insert("quantity".into(), (*quantity).into());
            ("change_quantity", some(args))
        }
        Command::SetChoices { target: to, choices, .. } => {
            let mut args = target(to)?;
            let product = match to {
                ItemRef::Product(ProductRef::Known(sku)) => catalog.product(sku),
                _ => None,
            };
            args.insert("options".into(), options(product, catalog, choices));
            ("set_option", some(args))
        }
        Command::RemoveItem { target: to, .. } => ("remove_item", some(target(to)?)),
        Command::IdentifyCustomer { name, email, phone } => {
            ("identify_customer", present(&[("name", name), ("email", email), ("phone", phone)]))
        }
        Command::SetShippingAddress(a) => (
            "set_address",
            present(&[
                ("line1", &a.line1),
                ("line2", &a.line2),
                ("city", &a.city),
                ("postal_code", &a.postal_code),
                ("region", &a.region),
                ("country", &a.country),
            ]),
        ),
        Command::Confirm => ("confirm", json!({})),
        Command::Cancel => ("cancel", json!({})),
        // The model has no payment tool: "did my payment go through?" is a status question.
        Command::OrderStatus { order_number, email }
        | Command::PaymentStatus { order_number, email } => {
            ("order_status", present(&[("order_number", order_number), ("email", email)]))
        }
        Command::StartReturn { order_number } => {
            ("start_return", present(&[("order_number", order_number)]))
        }
        Command::Handoff { reason } => ("hand_off", present(&[("reason", reason)])),
    };
    Some((name.to_owned(), args))
}

fn present(fields: &[(&str, &Option<String>)]) -> Value {
    let map: Map<String, Value> = fields
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| ((*name).to_owned(), v.clone().into())))
        .collect();
    Value::Object(map)
}

/// `{"size": "m", "topping": ["no onions", "extra cheese"]}`: a single-choice group by
/// value, a multi-choice group by phrase, as the tools describe them.
fn options(product: Option<&Product>, catalog: &Catalog, choices: &[Choice]) -> Value {
    let multi = |group: &str| {
        let mut groups = catalog.products.iter().filter(|p| product.is_none_or(|q| q.sku == p.sku));
        groups.any(|p| p.options.iter().any(|g| g.name == group && g.kind == GroupKind::Multi))
    };
    let mut map = Map::new();
    for choice in choices {
        if multi(&choice.group) {
            let phrase = match (&choice.qualifier, choice.exclude) {
                (_, true) => format!("no {}", choice.value),
                (Some(qualifier), false) => format!("{qualifier} {}", choice.value),
                (None, false) => choice.value.clone(),
            };
            let list = map.entry(choice.group.clone()).or_insert_with(|| json!([]));
            if let Value::Array(items) = list {
                items.push(phrase.into());
            }
        } else {
            map.insert(choice.group.clone(), choice.value.clone().into());
        }
    }
    Value::Object(map)
}

/// One product as the prompt lists it.
#[derive(Debug, Default)]
struct Listed {
    name: String,
    aliases: Vec<String>,
    groups: Vec<Group>,
}

#[derive(Debug, Default)]
struct Group {
    name: String,
    multi: bool,
    required: bool,
    default: Option<String>,
    qualifiers: Vec<String>,
    /// Each value with the words in brackets after it.
    values: Vec<(String, Vec<String>)>,
}

/// The products the prompt lists, as a catalog, and the order's lines as the rules
/// extractor's context.
fn read_prompt(system: &str) -> Option<(Catalog, DraftContext)> {
    let mut listed: Vec<Listed> = Vec::new();
    let mut in_products = false;
    let mut order_lines: Vec<&str> = Vec::new();
    for line in system.lines() {
        if line.starts_with("Products (") {
            in_products = true;
            continue;
        }
        if in_products {
            match line.strip_prefix("- ") {
                Some(product) => listed.push(product_line(product)?),
                None => in_products = false,
            }
        }
        if line.split_once(". ").is_some_and(|(n, _)| n.parse::<usize>().is_ok()) {
            order_lines.push(line);
        }
    }
    let catalog = catalog(&listed)?;
    let mut context = DraftContext::empty();
    for line in order_lines {
        let (_, rest) = line.split_once(". ")?;
        let (quantity, rest) = rest.split_once(" × ")?;
        let last = rest.ends_with(" ← last talked about");
        let rest = rest.trim_end_matches(" ← last talked about");
        let (name, choices) = order_line_parts(rest);
        let product = catalog.products.iter().find(|p| p.name == name)?;
        let choices = choices.iter().filter_map(|said| choice(product, said)).collect();
        if last {
            context.last = Some(context.lines.len());
        }
        context.lines.push(ContextLine {
            sku: product.sku.clone(),
            quantity: quantity.parse().ok()?,
            choices,
        });
    }
    Some((catalog, context))
}

/// "tee (m, black)" → ("tee", ["m", "black"]).
fn order_line_parts(rest: &str) -> (&str, Vec<&str>) {
    match bracketed(rest) {
        (name, Some(choices)) => (name, choices.split(", ").collect()),
        (name, None) => (name, Vec::new()),
    }
}

/// "olives (olive/black olives)" → ("olives", Some("olive/black olives")).
fn bracketed(text: &str) -> (&str, Option<&str>) {
    match text.strip_suffix(')').and_then(|t| t.split_once(" (")) {
        Some((name, inside)) => (name, Some(inside)),
        None => (text, None),
    }
}

/// An order line's choice as the prompt shows it: "m", "no onions", "extra cheese".
fn choice(product: &Product, said: &str) -> Option<Choice> {
    for group in &product.options {
        let has = |value: &str| group.values.iter().any(|v| v.name == value);
        if has(said) {
            return Some(Choice::new(&group.name, said));
        }
        if let Some(value) = said.strip_prefix("no ").filter(|v| has(v)) {
            return Some(Choice::excluded(&group.name, value));
        }
        for qualifier in &group.qualifiers {
            if let Some(value) = said.strip_prefix(&format!("{qualifier} ")).filter(|v| has(v)) {
                return Some(Choice::new(&group.name, value).with_qualifier(qualifier));
            }
        }
    }
    None
}

/// "tee (t-shirt); size, one, required: s (small), m (medium); topping, any, extra/light:
/// cheese (mozzarella), olives".
fn product_line(text: &str) -> Option<Listed> {
    let mut parts = text.split("; ");
    let (name, aliases) = bracketed(parts.next()?);
    let mut listed = Listed {
        name: name.to_owned(),
        aliases: aliases.map(|a| a.split(", ").map(str::to_owned).collect()).unwrap_or_default(),
        groups: Vec::new(),
    };
    for part in parts {
        let (how, values) = part.split_once(": ")?;
        let mut words = how.split(", ");
        let mut group = Group { name: words.next()?.to_owned(), ..Group::default() };
        group.multi = words.next()? == "any";
        for word in words {
            if word == "required" {
                group.required = true;
            } else if let Some(value) = word.strip_prefix("default ") {
                group.default = Some(value.to_owned());
            } else {
                group.qualifiers = word.split('/').map(str::to_owned).collect();
            }
        }
        for value in values.split(", ") {
            let (value, aliases) = bracketed(value);
            let aliases = aliases.map(|a| a.split('/').map(str::to_owned).collect());
            group.values.push((value.to_owned(), aliases.unwrap_or_default()));
        }
        listed.groups.push(group);
    }
    Some(listed)
}

/// The listed products as a catalog the rules extractor can read; SKUs are the reader's
/// own, since the tools name products by name.
fn catalog(listed: &[Listed]) -> Option<Catalog> {
    let products: Vec<Value> = listed
        .iter()
        .enumerate()
        .map(|(i, product)| {
            let options: Vec<Value> = product
                .groups
                .iter()
                .map(|g| {
                    let values: Vec<Value> = g
                        .values
                        .iter()
                        .map(|(name, aliases)| json!({ "name": name, "aliases": aliases }))
                        .collect();
                    let mut group = json!({
                        "name": g.name,
                        "kind": if g.multi { "multi" } else { "single" },
                        "required": g.required,
                        "values": values,
                        "qualifiers": g.qualifiers,
                    });
                    if let Some(default) = &g.default {
                        group["default"] = default.clone().into();
                    }
                    group
                })
                .collect();
            json!({
                "sku": format!("P{i}"),
                "name": product.name,
                "aliases": product.aliases,
                "price": 100,
                "options": options,
            })
        })
        .collect();
    let json = json!({ "currency": "USD", "products": products }).to_string();
    Catalog::from_json(&json).ok()
}
