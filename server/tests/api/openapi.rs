//! The OpenAPI document of the chat and returns APIs: what it lists, and a drift check
//! of its schemas against the JSON a running server really answers.

use serde_json::{Map, Value};
use server::openapi::ApiDoc;
use utoipa::OpenApi;

use crate::helpers::TestApp;

fn document() -> Value {
    let json = ApiDoc::openapi().to_json().expect("the document serializes");
    serde_json::from_str(&json).expect("the document is JSON")
}

fn schema<'d>(document: &'d Value, name: &str) -> &'d Value {
    let schema = &document["components"]["schemas"][name];
    assert!(schema.is_object(), "no schema {name} in {:#}", document["components"]);
    schema
}

fn properties<'d>(document: &'d Value, name: &str) -> &'d Map<String, Value> {
    schema(document, name)["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("schema {name} has no properties"))
}

fn required(document: &Value, name: &str) -> Vec<String> {
    schema(document, name)["required"]
        .as_array()
        .map(|names| names.iter().map(|n| n.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[test]
fn the_document_is_openapi_3_1_with_the_chat_and_returns_operations() {
    let document = document();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["info"]["title"], "Gapless API");
    assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
    let paths = document["paths"].as_object().unwrap();
    let mut listed: Vec<(String, Vec<String>)> = paths
        .iter()
        .map(|(path, item)| (path.clone(), item.as_object().unwrap().keys().cloned().collect()))
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        vec![
            ("/api/v1/conversations".to_owned(), vec!["post".to_owned()]),
            ("/api/v1/conversations/{id}".to_owned(), vec!["get".to_owned()]),
            ("/api/v1/conversations/{id}/messages".to_owned(), vec!["post".to_owned()]),
            ("/api/v1/orders/{number}/fulfilments".to_owned(), vec!["post".to_owned()]),
            ("/api/v1/returns".to_owned(), vec!["post".to_owned()]),
            ("/api/v1/returns/lookup".to_owned(), vec!["post".to_owned()]),
            ("/api/v1/returns/{rma}".to_owned(), vec!["get".to_owned()]),
        ]
    );
    let created = &paths["/api/v1/conversations"]["post"]["responses"]["201"];
    assert_eq!(
        created["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/NewConversation"
    );
    let read = &paths["/api/v1/conversations/{id}"]["get"]["responses"];
    assert_eq!(
        read["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Conversation"
    );
    assert!(read["404"].is_object(), "{read:#}");
}

#[test]
fn the_message_operation_lists_its_answers_header_and_body() {
    let document = document();
    let operation = &document["paths"]["/api/v1/conversations/{id}/messages"]["post"];
    let responses = operation["responses"].as_object().unwrap();
    for status in ["200", "400", "404", "415", "422", "429", "500", "503"] {
        assert!(responses.contains_key(status), "no {status} in {:?}", responses.keys());
    }
    assert_eq!(
        responses["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/TurnResponse"
    );
    for status in ["400", "404", "415", "422", "429", "503"] {
        assert_eq!(
            responses[status]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody",
            "{status}"
        );
    }
    assert!(responses["429"]["headers"]["Retry-After"].is_object(), "{:#}", responses["429"]);

    let parameters = operation["parameters"].as_array().unwrap();
    let key = parameters
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .unwrap_or_else(|| panic!("no Idempotency-Key in {parameters:#?}"));
    assert_eq!(key["in"], "header");
    assert_ne!(key["required"], true, "the key is optional");
    assert!(parameters.iter().any(|p| p["name"] == "id" && p["in"] == "path"));

    let body = &operation["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["$ref"], "#/components/schemas/NewMessage");
    assert_eq!(properties(&document, "NewMessage")["text"]["maxLength"], 2000);
}

#[test]
fn the_schemas_have_the_field_names_of_the_contracts() {
    let document = document();
    let names = |schema: &str| -> Vec<String> {
        let mut names: Vec<String> = properties(&document, schema).keys().cloned().collect();
        names.sort();
        names
    };
    let sorted = |names: &[&str]| -> Vec<String> {
        let mut names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        names.sort();
        names
    };
    // CONTRACTS §3.
    let order = [
        "number",
        "status",
        "currency",
        "lines",
        "totals",
        "customer",
        "shipping_address",
        "payment",
    ];
    let mut documented = order.to_vec();
    documented.extend(["exchange_for", "fulfilments"]);
    assert_eq!(names("Order"), sorted(&documented));
    assert_eq!(required(&document, "Order"), order, "every Order field is always present");
    assert_eq!(
        names("OrderLine"),
        sorted(&["sku", "name", "quantity", "choices", "unit_price", "total"])
    );
    assert_eq!(names("Choice"), sorted(&["group", "value", "qualifier", "exclude"]));
    assert_eq!(required(&document, "Choice"), ["group", "value"]);
    assert_eq!(names("Totals"), sorted(&["subtotal", "shipping", "total"]));
    assert_eq!(names("Customer"), sorted(&["name", "email", "phone"]));
    assert_eq!(
        names("Address"),
        sorted(&["line1", "line2", "city", "postal_code", "region", "country"])
    );
    // CONTRACTS §2.
    assert_eq!(names("NewConversation"), ["id"]);
    assert_eq!(names("NewMessage"), ["text"]);
    assert_eq!(names("TurnResponse"), sorted(&["reply", "order", "messages"]));
    assert_eq!(required(&document, "TurnResponse"), ["reply", "order", "messages"]);
    assert_eq!(names("Note"), sorted(&["type", "code", "param", "content"]));
    assert_eq!(
        schema(&document, "NoteType")["enum"],
        serde_json::json!(["info", "warning", "error"])
    );
    assert_eq!(
        names("Conversation"),
        sorted(&["id", "started_at", "outcome", "messages", "order"])
    );
    assert_eq!(names("ConversationMessage"), sorted(&["id", "role", "text", "at"]));
    assert_eq!(names("ErrorBody"), ["error"]);
    assert_eq!(names("ErrorDetail"), sorted(&["code", "message"]));
    // CONTRACTS §4.
    assert_eq!(names("OrderProof"), sorted(&["order_number", "email"]));
    assert_eq!(names("NewReturn"), sorted(&["order_number", "email", "items", "resolution"]));
    assert_eq!(
        names("NewReturnItem"),
        sorted(&["line", "quantity", "reason", "comment", "exchange"])
    );
    assert_eq!(required(&document, "NewReturnItem"), ["line", "quantity", "reason"]);
    for name in ["rma", "status", "items"] {
        assert!(names("ReturnCreated").contains(&name.to_owned()), "{name}");
    }
    for name in ["line", "quantity", "decision", "reason"] {
        assert!(names("CreatedItem").contains(&name.to_owned()), "{name}");
    }
    assert_eq!(names("TimelineEntry"), sorted(&["status", "at"]));
    // CONTRACTS §7.
    assert_eq!(
        names("FulfilmentReport"),
        sorted(&["status", "carrier", "tracking_number", "tracking_url", "at"])
    );
    assert_eq!(
        names("Fulfilment"),
        sorted(&["status", "carrier", "tracking_number", "tracking_url", "at"])
    );
}

/// A lookup, a request for an exchange and the return's status fit their schemas.
async fn real_returns_fit_the_documented_schemas(app: TestApp) {
    let document = document();
    let number = app.confirmed_order("two black tees in M", "ana@example.com").await;
    let lookup: Value = app
        .client
        .post(format!("{}/api/v1/returns/lookup", app.address))
        .json(&serde_json::json!({ "order_number": number, "email": "ana@example.com" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_keys_documented(&document, "Lookup", &lookup, &[]);
    let line = &lookup["lines"][0];
    assert_keys_documented(&document, "LookupLine", line, &[]);
    assert_keys_documented(&document, "ExchangeOption", &line["exchange_options"][0], &[]);
    assert_keys_documented(&document, "ReasonChoice", &lookup["reasons"][0], &[]);
    for name in required(&document, "LookupLine") {
        assert!(line.get(&name).is_some(), "no {name} in {line:#}");
    }

    let created: Value = app
        .client
        .post(format!("{}/api/v1/returns", app.address))
        .json(&serde_json::json!({
            "order_number": number, "email": "ana@example.com", "resolution": "exchange",
            "items": [ { "line": 0, "quantity": 1, "reason": "too_small", "exchange": { "size": "l" } } ]
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_keys_documented(&document, "ReturnCreated", &created, &[]);
    assert_keys_documented(&document, "CreatedItem", &created["items"][0], &[]);
    for name in required(&document, "CreatedItem") {
        assert!(created["items"][0].get(&name).is_some(), "no {name} in {created:#}");
    }
    let rma = created["rma"].as_str().unwrap();
    let status: Value = app
        .get(&format!("/api/v1/returns/{rma}?email=ana@example.com"))
        .await
        .json()
        .await
        .unwrap();
    assert_keys_documented(&document, "ReturnView", &status, &[]);
    assert_keys_documented(&document, "ReturnItemView", &status["items"][0], &[]);
    assert_keys_documented(&document, "TimelineEntry", &status["timeline"][0], &[]);
    for name in required(&document, "ReturnView") {
        assert!(status.get(&name).is_some(), "no {name} in {status:#}");
    }
}

/// Every key of `value` (an object) must be a property of `schema_name`.
fn assert_keys_documented(document: &Value, schema_name: &str, value: &Value, except: &[&str]) {
    let properties = properties(document, schema_name);
    let object = value.as_object().unwrap_or_else(|| panic!("not an object: {value}"));
    let undocumented: Vec<&String> = object
        .keys()
        .filter(|key| !properties.contains_key(*key) && !except.contains(&key.as_str()))
        .collect();
    assert!(
        undocumented.is_empty(),
        "{schema_name} does not document {undocumented:?} of the real answer {value:#}"
    );
}

async fn a_real_turn_fits_the_documented_schemas(app: TestApp) {
    let document = document();
    let chat = app.start_chat().await;
    let turn = app.say(&chat, "two diet cokes").await;

    assert_keys_documented(&document, "TurnResponse", &turn, &[]);
    let order = &turn["order"];
    assert_keys_documented(&document, "Order", order, &[]);
    assert_keys_documented(&document, "OrderLine", &order["lines"][0], &[]);
    assert_keys_documented(&document, "Totals", &order["totals"], &[]);
    assert_keys_documented(&document, "Customer", &order["customer"], &[]);
    for note in turn["messages"].as_array().unwrap() {
        assert_keys_documented(&document, "Note", note, &[]);
    }
    // What is required is really there.
    for name in required(&document, "TurnResponse") {
        assert!(turn.get(&name).is_some(), "no {name} in {turn:#}");
    }
    for name in required(&document, "Order") {
        assert!(order.get(&name).is_some(), "no {name} in {order:#}");
    }
    for name in required(&document, "OrderLine") {
        assert!(order["lines"][0].get(&name).is_some(), "no {name} in {order:#}");
    }

    let read = app.read_chat(&chat).await;
    assert_keys_documented(&document, "Conversation", &read, &[]);
    assert_keys_documented(&document, "ConversationMessage", &read["messages"][0], &[]);
    assert_keys_documented(&document, "Order", &read["order"], &[]);
}

/// A fulfilment report's answer fits the Order schema, fulfilments included.
async fn a_real_fulfilment_fits_the_documented_schemas(app: TestApp) {
    let document = document();
    let key = app.api_key("warehouse").await;
    let number = app.confirmed_order("a trail bottle", "ana@example.com").await;
    let body = serde_json::json!({ "status": "shipped", "carrier": "UPS",
        "tracking_number": "1Z999", "tracking_url": "https://track.example/1Z999" });
    let order: Value = app.report(&key, &number, &body, None).await.json().await.unwrap();
    assert_keys_documented(&document, "Order", &order, &[]);
    let fulfilment = &order["fulfilments"][0];
    assert_keys_documented(&document, "Fulfilment", fulfilment, &[]);
    for name in required(&document, "Fulfilment") {
        assert!(fulfilment.get(&name).is_some(), "no {name} in {fulfilment:#}");
    }
}

/// The app serves the same document it is built from.
async fn the_app_serves_the_document(app: TestApp) {
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let served: Value = response.json().await.unwrap();
    assert_eq!(served, document());
}

crate::on_both_backends!(
    a_real_turn_fits_the_documented_schemas,
    real_returns_fit_the_documented_schemas,
    a_real_fulfilment_fits_the_documented_schemas,
    the_app_serves_the_document
);
