//! The returns API (CONTRACTS §4) against real orders placed through the chat API.

use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use crate::{helpers::TestApp, on_both_backends};

impl TestApp {
    async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client.post(format!("{}{path}", self.address)).json(body).send().await.unwrap()
    }

    /// Places and confirms an order for `items` as `email`; returns its number.
    async fn confirmed_order(&self, items: &str, email: &str) -> String {
        let chat = self.start_chat().await;
        self.say(&chat, items).await;
        self.say(&chat, &format!("my name is Ana Ruiz, {email}")).await;
        self.say(&chat, "ship to 12 Main St, Springfield, 62701, US").await;
        self.say(&chat, "confirm").await;
        let done = self.say(&chat, "yes").await;
        assert_eq!(done["order"]["status"], "confirmed", "{done}");
        done["order"]["number"].as_str().unwrap().to_owned()
    }

    async fn lookup(&self, number: &str, email: &str) -> reqwest::Response {
        self.post_json("/api/v1/returns/lookup", &json!({ "order_number": number, "email": email }))
            .await
    }

    async fn request_return(&self, body: Value) -> reqwest::Response {
        self.post_json("/api/v1/returns", &body).await
    }
}

async fn a_customer_returns_a_tee_and_follows_its_status(app: TestApp) {
    let number = app.confirmed_order("two black tees in M", "ana@example.com").await;
    let response = app.lookup(&number, "ANA@example.com").await;
    assert_eq!(response.status(), 200);
    let found: Value = response.json().await.unwrap();
    assert_eq!(found["lines"][0]["sku"], "TEE");
    assert_eq!(found["lines"][0]["returnable_quantity"], 2);
    assert!(found["lines"][0].get("reason").is_none());
    let reasons = found["reasons"].as_array().unwrap();
    assert!(reasons.contains(&json!({ "code": "too_small", "label": "Too small" })), "{found}");

    let response = app
        .request_return(json!({
            "order_number": number, "email": "ana@example.com", "resolution": "refund",
            "items": [ { "line": 0, "quantity": 1, "reason": "too_small", "comment": "snug" } ]
        }))
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["status"], "approved", "{created}");
    assert_eq!(created["items"][0]["decision"], "approved");
    let rma = created["rma"].as_str().unwrap();
    assert!(rma.starts_with("R-"), "{rma}");

    let status: Value = app
        .get(&format!("/api/v1/returns/{rma}?email=ana@example.com"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "approved");
    let timeline: Vec<&str> = status["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(timeline, ["requested", "approved"]);
    OffsetDateTime::parse(
        status["timeline"][0]["at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();

    // One unit is claimed: one is left.
    let again: Value = app.lookup(&number, "ana@example.com").await.json().await.unwrap();
    assert_eq!(again["lines"][0]["returnable_quantity"], 1);

    // Someone else's email sees nothing.
    let response = app.get(&format!("/api/v1/returns/{rma}?email=eve@example.com")).await;
    assert_eq!(response.status(), 404);
}

async fn wrong_email_unknown_order_and_garbage_get_the_same_answer(app: TestApp) {
    let number = app.confirmed_order("a trail bottle", "ana@example.com").await;
    let mut bodies = Vec::new();
    for (order, email) in [
        (number.as_str(), "eve@example.com"),
        ("G-999999", "ana@example.com"),
        ("not an order", "ana@example.com"),
        (number.as_str(), ""),
    ] {
        let started = std::time::Instant::now();
        let response = app.lookup(order, email).await;
        assert!(started.elapsed() >= std::time::Duration::from_millis(150), "answered early");
        assert_eq!(response.status(), 404, "{order} {email}");
        bodies.push(response.text().await.unwrap());
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:#?}");
}

async fn final_sale_and_closed_window_are_explained(app: TestApp) {
    let number = app
        .confirmed_order("a yellow rain jacket in m and a black tee in l", "ana@example.com")
        .await;
    let found: Value = app.lookup(&number, "ana@example.com").await.json().await.unwrap();
    let jacket = found["lines"].as_array().unwrap().iter().find(|l| l["sku"] == "RAIN-JACKET");
    let jacket = jacket.unwrap_or_else(|| panic!("{found}"));
    assert_eq!(jacket["returnable_quantity"], 0);
    assert_eq!(jacket["reason"], "final_sale");
    let line = jacket["line"].as_u64().unwrap();
    let created: Value = app
        .request_return(json!({
            "order_number": number, "email": "ana@example.com", "resolution": "refund",
            "items": [ { "line": line, "quantity": 1, "reason": "changed_mind" } ]
        }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created["status"], "rejected", "{created}");
    assert!(created["items"][0]["reason"].as_str().unwrap().contains("final"), "{created}");

    let old = OffsetDateTime::now_utc() - Duration::days(60);
    assert!(app.db.store.mark_delivered(&number, old).await.unwrap());
    let found: Value = app.lookup(&number, "ana@example.com").await.json().await.unwrap();
    for line in found["lines"].as_array().unwrap() {
        assert_eq!(line["returnable_quantity"], 0, "{line}");
    }
    let tee = found["lines"].as_array().unwrap().iter().find(|l| l["sku"] == "TEE").unwrap();
    assert_eq!(tee["reason"], "window_closed");
}

async fn bad_requests_are_4xx_and_change_nothing(app: TestApp) {
    let number = app.confirmed_order("two black tees in M", "ana@example.com").await;
    let item = |line: i64, quantity: i64, reason: &str| json!({ "line": line, "quantity": quantity, "reason": reason });
    let body = |items: Value| json!({ "order_number": number, "email": "ana@example.com", "resolution": "refund", "items": items });
    let cases = [
        (body(json!([item(0, -1, "too_small")])), 422),
        (body(json!([item(0, 0, "too_small")])), 422),
        (body(json!([item(0, 1_000_000_000, "too_small")])), 422),
        (body(json!([item(7, 1, "too_small")])), 422),
        (body(json!([item(0, 1, "no_such_reason")])), 422),
        (
            body(
                json!([{ "line": 0, "quantity": 1, "reason": "too_small", "comment": "x".repeat(5000) }]),
            ),
            422,
        ),
        (body(json!([])), 422),
        (
            json!({ "order_number": number, "email": "ana@example.com", "resolution": "cash",
                    "items": [item(0, 1, "too_small")] }),
            422,
        ),
        (body(json!([item(0, 1, "too_small")])).tap_email("eve@example.com"), 404),
    ];
    for (request, status) in cases {
        let response = app.request_return(request.clone()).await;
        assert_eq!(response.status(), status, "{request}");
        let error: Value = response.json().await.unwrap();
        assert!(error["error"]["code"].is_string(), "{error}");
        assert!(!error["error"]["message"].as_str().unwrap().is_empty());
    }
    let malformed = app
        .client
        .post(format!("{}/api/v1/returns", app.address))
        .header("content-type", "application/json")
        .body("{ not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let response = app.get("/api/v1/returns/R-NOPE?email=ana@example.com").await;
    assert_eq!(response.status(), 404);

    let found: Value = app.lookup(&number, "ana@example.com").await.json().await.unwrap();
    assert_eq!(found["lines"][0]["returnable_quantity"], 2, "nothing was claimed");
    assert!(app.db.store.list_returns(None, 10).await.unwrap().is_empty());
}

async fn two_tabs_cannot_return_more_than_was_bought(app: TestApp) {
    let number = app.confirmed_order("two black tees in M", "ana@example.com").await;
    let app = std::sync::Arc::new(app);
    let tabs = (0..4).map(|_| {
        let app = app.clone();
        let number = number.clone();
        tokio::spawn(async move {
            let response = app
                .request_return(json!({
                    "order_number": number, "email": "ana@example.com", "resolution": "refund",
                    "items": [ { "line": 0, "quantity": 2, "reason": "too_small" } ]
                }))
                .await;
            assert_eq!(response.status(), 201);
            response.json::<Value>().await.unwrap()
        })
    });
    let mut approved = 0;
    for tab in tabs.collect::<Vec<_>>() {
        let created = tab.await.unwrap();
        if created["status"] == "approved" {
            approved += 1;
        } else {
            assert_eq!(created["status"], "rejected", "{created}");
        }
    }
    assert_eq!(approved, 1);
    let found: Value = app.lookup(&number, "ana@example.com").await.json().await.unwrap();
    assert_eq!(found["lines"][0]["returnable_quantity"], 0);
    assert_eq!(found["lines"][0]["reason"], "already_returned");
}

trait TapEmail {
    fn tap_email(self, email: &str) -> Value;
}

impl TapEmail for Value {
    fn tap_email(mut self, email: &str) -> Value {
        self["email"] = json!(email);
        self
    }
}

on_both_backends!(
    a_customer_returns_a_tee_and_follows_its_status,
    wrong_email_unknown_order_and_garbage_get_the_same_answer,
    final_sale_and_closed_window_are_explained,
    bad_requests_are_4xx_and_change_nothing,
    two_tabs_cannot_return_more_than_was_bought,
);
