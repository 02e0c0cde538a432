//! The returns API (CONTRACTS §4) against real orders placed through the chat API.

use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use crate::{helpers::TestApp, on_both_backends};

impl TestApp {
    async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client.post(format!("{}{path}", self.address)).json(body).send().await.unwrap()
    }

    /// Places and confirms an order for `items` as `email`; returns its number.
    pub(crate) async fn confirmed_order(&self, items: &str, email: &str) -> String {
        self.confirmed_in_chat(items, email).await.1
    }

    /// As [`TestApp::confirmed_order`], with the conversation it was placed in.
    pub(crate) async fn confirmed_in_chat(&self, items: &str, email: &str) -> (String, String) {
        let chat = self.start_chat().await;
        self.say(&chat, items).await;
        self.say(&chat, &format!("my name is Ana Ruiz, {email}")).await;
        self.say(&chat, "ship to 12 Main St, Springfield, 62701, US").await;
        self.say(&chat, "confirm").await;
        let done = self.say(&chat, "yes").await;
        assert_eq!(done["order"]["status"], "confirmed", "{done}");
        (chat, done["order"]["number"].as_str().unwrap().to_owned())
    }

    pub(crate) async fn lookup(&self, number: &str, email: &str) -> reqwest::Response {
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
    assert_eq!(
        (status["items"][0]["name"].as_str(), status["currency"].as_str()),
        (Some("tee"), Some("USD"))
    );
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

impl TestApp {
    /// Signs this client in as a new staff admin (who may also settle returns).
    pub(crate) async fn sign_in_staff(&self) {
        self.sign_in_as(server::staff::accounts::StaffRole::Admin).await;
    }

    pub(crate) async fn staff_records(&self, rma: &str, body: Value) -> reqwest::Response {
        self.post_json(&format!("/api/v1/staff/returns/{rma}/events"), &body).await
    }

    /// Units reserved of one option value's stock, read from the store.
    async fn stock(&self, sku: &str, group: &str, value: &str) -> u32 {
        use gapless_store::StockKey;
        let key = StockKey::value(gapless_domain::sku::Sku::parse(sku).unwrap(), group, value);
        self.db.store.stock_levels().await.unwrap()[&key].reserved
    }
}

pub(crate) async fn a_return(app: &TestApp, number: &str, reason: &str) -> String {
    let created: Value = app
        .request_return(json!({
            "order_number": number, "email": "ana@example.com", "resolution": "refund",
            "items": [ { "line": 0, "quantity": 1, "reason": reason } ]
        }))
        .await
        .json()
        .await
        .unwrap();
    created["rma"].as_str().unwrap().to_owned()
}

async fn staff_receive_and_refund_a_return(app: TestApp) {
    let number = app.confirmed_order("two black tees in M", "ana@example.com").await;
    let rma = a_return(&app, &number, "changed_mind").await;

    // Nobody signed in: nothing is revealed or changed.
    let stranger = reqwest::Client::new();
    for response in [
        stranger.get(format!("{}/api/v1/staff/returns", app.address)).send().await.unwrap(),
        stranger
            .get(format!("{}/api/v1/staff/returns/cycle-times", app.address))
            .send()
            .await
            .unwrap(),
        stranger
            .post(format!("{}/api/v1/staff/returns/{rma}/events", app.address))
            .json(&json!({ "type": "received" }))
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(response.status(), 401);
    }

    app.sign_in_staff().await;
    // Not before the parcel is in.
    let early = app.staff_records(&rma, json!({ "type": "refunded" })).await;
    assert_eq!(early.status(), 422);
    let received = app.staff_records(&rma, json!({ "type": "received" })).await;
    assert_eq!(received.status(), 200);
    let refunded: Value =
        app.staff_records(&rma, json!({ "type": "refunded" })).await.json().await.unwrap();
    assert_eq!(refunded["status"], "refunded", "{refunded}");
    // 2500 for the tee, less the 10 % restocking fee of "changed my mind".
    assert_eq!(refunded["refund_amount"], 2250);
    let timeline: Vec<&str> = refunded["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(timeline, ["requested", "approved", "received", "refunded"]);
    let done = app.staff_records(&rma, json!({ "type": "refunded" })).await;
    assert_eq!(done.status(), 422, "a refunded return is final");

    let customer: Value = app
        .get(&format!("/api/v1/returns/{rma}?email=ana@example.com"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(customer["status"], "refunded");
    let times: Value =
        app.get("/api/v1/staff/returns/cycle-times?days=7").await.json().await.unwrap();
    assert_eq!(times["returns"], 1, "{times}");
    // One return: p50 is the time from its request to its refund on its own timeline.
    let at = |status: &str| {
        let entry = customer["timeline"].as_array().unwrap().iter().find(|t| t["status"] == status);
        let text = entry.and_then(|t| t["at"].as_str()).expect("timeline entry");
        OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
    };
    let expected = (at("refunded") - at("requested")).as_seconds_f64();
    let p50 = times["request_to_refund_seconds"]["p50"].as_f64().unwrap();
    assert!((p50 - expected).abs() < 0.001, "{p50} s, expected {expected} s");
    assert!(expected > 0.0, "the refund came after the request");
}

async fn the_review_queue_and_a_rejection_that_gives_units_back(app: TestApp) {
    let number = app.confirmed_order("two black tees in M", "ana@example.com").await;
    let rma = a_return(&app, &number, "damaged").await;
    app.sign_in_staff().await;
    let queue: Value =
        app.get("/api/v1/staff/returns?status=in_review").await.json().await.unwrap();
    let rmas: Vec<&str> =
        queue["returns"].as_array().unwrap().iter().map(|r| r["rma"].as_str().unwrap()).collect();
    assert_eq!(rmas, [rma.as_str()]);
    let bad = app.get("/api/v1/staff/returns?status=lost").await;
    assert_eq!(bad.status(), 422);

    let before: Value = app.lookup(&number, "ana@example.com").await.json().await.unwrap();
    assert_eq!(before["lines"][0]["returnable_quantity"], 1);
    let rejected: Value = app
        .staff_records(&rma, json!({ "type": "rejected", "note": "no damage on the photos" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rejected["status"], "rejected", "{rejected}");
    let after: Value = app.lookup(&number, "ana@example.com").await.json().await.unwrap();
    assert_eq!(after["lines"][0]["returnable_quantity"], 2, "the units are returnable again");
    let unknown = app.staff_records(&rma, json!({ "type": "teleported" })).await;
    assert_eq!(unknown.status(), 422);
    let missing = app.staff_records("R-AAAAAAAA", json!({ "type": "received" })).await;
    assert_eq!(missing.status(), 404);
}

/// Refund cycle times from event times a controlled clock sets.
async fn cycle_times_come_from_the_event_times(app: TestApp) {
    use std::sync::{Arc, Mutex};

    use gapless_domain::returns::{RequestedItem, Resolution, ReturnPolicy, ReturnRequest};
    use server::returns::service::{OrderProof, ReturnsService, StaffAction};

    let number = app.confirmed_order("two black tees in M", "ana@example.com").await;
    let start = OffsetDateTime::now_utc();
    let clock = Arc::new(Mutex::new(start));
    let now = {
        let clock = clock.clone();
        Arc::new(move || *clock.lock().unwrap())
    };
    let policy = ReturnPolicy::from_json(
        &std::fs::read_to_string(crate::helpers::repo_path("demo/return-policy.json")).unwrap(),
    )
    .unwrap();
    let service = ReturnsService::with_clock(app.db.store.clone(), policy, now);
    let set = |at: OffsetDateTime| *clock.lock().unwrap() = at;
    let proof = OrderProof { order_number: number.clone(), email: "ana@example.com".into() };
    let request = ReturnRequest {
        items: vec![RequestedItem {
            line: 0,
            quantity: 1,
            reason: "too_small".into(),
            comment: None,
            exchange: None,
        }],
        resolution: Resolution::Refund,
    };
    let act = |kind: &str| StaffAction { kind: kind.into(), ..StaffAction::default() };

    // First return: received after 2 days, refunded after 3.
    let first = service.request(&proof, &request).await.unwrap();
    let first = first.rma;
    // Second: asked an hour later, received after a day, refunded on day 5.
    set(start + Duration::hours(1));
    let second = service.request(&proof, &request).await.unwrap();
    let second = second.rma;
    set(start + Duration::days(1));
    service.record(&second, &act("received"), "staff-1").await.unwrap();
    set(start + Duration::days(2));
    service.record(&first, &act("received"), "staff-1").await.unwrap();
    set(start + Duration::days(3));
    service.record(&first, &act("refunded"), "staff-1").await.unwrap();
    set(start + Duration::days(5));
    service.record(&second, &act("refunded"), "staff-1").await.unwrap();

    // As the API answers it.
    let times = serde_json::to_value(service.cycle_times(30).await.unwrap()).unwrap();
    assert_eq!(times["returns"], 2, "{times}");
    let secs = |d: Duration| d.as_seconds_f64();
    let close = |value: &Value, expected: f64| {
        let got = value.as_f64().unwrap();
        assert!((got - expected).abs() < 0.01, "{got} != {expected}");
    };
    // Nearest rank over two values: p50 is the smaller, p90 the larger.
    close(&times["request_to_refund_seconds"]["p50"], secs(Duration::days(3)));
    close(&times["request_to_refund_seconds"]["p90"], secs(Duration::days(5) - Duration::hours(1)));
    close(&times["receipt_to_refund_seconds"]["p50"], secs(Duration::days(1)));
    close(&times["receipt_to_refund_seconds"]["p90"], secs(Duration::days(4)));
    // A window that ends before both refunds counts neither.
    set(start + Duration::days(40));
    let later = serde_json::to_value(service.cycle_times(30).await.unwrap()).unwrap();
    assert_eq!(later["returns"], 0, "{later}");
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

async fn an_exchange_ships_another_size_as_a_new_order(app: TestApp) {
    let number = app.confirmed_order("two black tees in M", "ana@example.com").await;
    let found: Value = app.lookup(&number, "ana@example.com").await.json().await.unwrap();
    let options = &found["lines"][0]["exchange_options"];
    assert_eq!(options[0]["group"], "size", "{found}");
    assert_eq!(options[0]["current"], "m");
    let sizes: Vec<&str> = options[0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["value"].as_str().unwrap())
        .collect();
    assert_eq!(sizes, ["s", "l"], "xl costs more, so it is no exchange");

    // Wishes that cannot be met are refused and claim nothing.
    let exchange = |quantity: u32, wish: Value, resolution: &str| {
        json!({
            "order_number": number, "email": "ana@example.com", "resolution": resolution,
            "items": [ { "line": 0, "quantity": quantity, "reason": "too_small", "exchange": wish } ]
        })
    };
    for (body, code) in [
        (exchange(1, Value::Null, "exchange"), "exchange_missing"),
        (exchange(1, json!({ "size": "xl" }), "exchange"), "exchange_price_differs"),
        (exchange(1, json!({ "size": "huge" }), "exchange"), "exchange_unknown_value"),
        (exchange(1, json!({ "size": "m" }), "exchange"), "exchange_unchanged"),
        (exchange(1, json!({ "size": "l" }), "refund"), "exchange_not_requested"),
        (exchange(1, json!({ "size": 12 }), "exchange"), "invalid"),
    ] {
        let response = app.request_return(body.clone()).await;
        assert_eq!(response.status(), 422, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], code, "{body}: {error}");
    }
    let again: Value = app.lookup(&number, "ana@example.com").await.json().await.unwrap();
    assert_eq!(again["lines"][0]["returnable_quantity"], 2, "nothing was claimed");

    let response = app.request_return(exchange(1, json!({ "Size": "L" }), "exchange")).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["status"], "approved", "{created}");
    assert_eq!(
        created["items"][0]["exchange"],
        json!([{ "group": "size", "value": "l" }, { "group": "color", "value": "black" }])
    );
    let rma = created["rma"].as_str().unwrap();

    app.sign_in_staff().await;
    let early = app.staff_records(rma, json!({ "type": "exchanged" })).await;
    assert_eq!(early.status(), 422, "not before the tee is back");
    assert_eq!(app.staff_records(rma, json!({ "type": "received" })).await.status(), 200);
    let black_before = app.stock("TEE", "color", "black").await;
    let response = app.staff_records(rma, json!({ "type": "exchanged" })).await;
    assert_eq!(response.status(), 200);
    let done: Value = response.json().await.unwrap();
    assert_eq!(done["status"], "exchanged", "{done}");
    let replacement = done["replacement_order"].as_str().unwrap();
    assert_ne!(replacement, number);

    let order: Value =
        app.get(&format!("/api/v1/staff/orders/{replacement}")).await.json().await.unwrap();
    let placed = &order["order"];
    assert_eq!(placed["status"], "confirmed", "{order}");
    assert_eq!(placed["exchange_for"], json!({ "rma": rma, "original": number }));
    assert_eq!(placed["lines"][0]["quantity"], 1);
    assert_eq!(placed["lines"][0]["choices"][0], json!({ "group": "size", "value": "l" }));
    assert_eq!(placed["customer"]["email"], "ana@example.com");
    assert_eq!(placed["shipping_address"]["city"], "Springfield");
    let kinds: Vec<&str> =
        order["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds[0], "exchange_for");
    assert_eq!(kinds.last(), Some(&"confirmed"));
    assert!(order["events"][0]["actor"].as_str().unwrap().starts_with("staff:"), "{order}");
    assert_eq!(
        app.stock("TEE", "color", "black").await,
        black_before + 1,
        "the new tee is reserved"
    );

    let customer: Value = app
        .get(&format!("/api/v1/returns/{rma}?email=ana@example.com"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(customer["replacement_order"], replacement);
    assert_eq!(app.staff_records(rma, json!({ "type": "exchanged" })).await.status(), 422);
}

async fn an_agent_works_the_queue_but_cannot_move_money(app: TestApp) {
    use server::staff::accounts::StaffRole;
    let number = app.confirmed_order("two black tees in M", "ana@example.com").await;
    let rma = a_return(&app, &number, "too_small").await;
    app.sign_in_as(StaffRole::Agent).await;
    assert_eq!(app.staff_records(&rma, json!({ "type": "received" })).await.status(), 200);
    for kind in ["refunded", "credited", "exchanged"] {
        let response = app.staff_records(&rma, json!({ "type": kind })).await;
        assert_eq!(response.status(), 403, "{kind}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "forbidden");
        assert!(error["error"]["message"].as_str().unwrap().contains("only an admin"), "{error}");
    }
    let status: Value = app
        .get(&format!("/api/v1/returns/{rma}?email=ana@example.com"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "received", "nothing changed");
}

async fn a_refund_cannot_be_settled_as_an_exchange(app: TestApp) {
    let number = app.confirmed_order("two black tees in M", "ana@example.com").await;
    let rma = a_return(&app, &number, "too_small").await;
    app.sign_in_staff().await;
    assert_eq!(app.staff_records(&rma, json!({ "type": "received" })).await.status(), 200);
    let response = app.staff_records(&rma, json!({ "type": "exchanged" })).await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert!(error["error"]["message"].as_str().unwrap().contains("not an exchange"), "{error}");
}

on_both_backends!(
    a_customer_returns_a_tee_and_follows_its_status,
    wrong_email_unknown_order_and_garbage_get_the_same_answer,
    final_sale_and_closed_window_are_explained,
    bad_requests_are_4xx_and_change_nothing,
    two_tabs_cannot_return_more_than_was_bought,
    staff_receive_and_refund_a_return,
    the_review_queue_and_a_rejection_that_gives_units_back,
    cycle_times_come_from_the_event_times,
    an_exchange_ships_another_size_as_a_new_order,
    a_refund_cannot_be_settled_as_an_exchange,
    an_agent_works_the_queue_but_cannot_move_money,
);
