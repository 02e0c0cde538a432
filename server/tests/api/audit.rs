//! The staff audit trail: conversations found by their words, each turn from message to
//! order events (CONTRACTS §5).

use serde_json::{json, Value};

use crate::{helpers::TestApp, on_both_backends};

async fn staff_find_a_conversation_and_read_its_timeline(app: TestApp) {
    let tees = app.start_chat().await;
    app.say(&tees, "hi, two black tees in M and a trail bottle").await;
    app.say(&tees, "make that 3").await;
    let coke = app.start_chat().await;
    app.say(&coke, "a diet coke please").await;

    // Without a staff session nothing is revealed.
    let stranger = reqwest::Client::new();
    for path in [
        "/api/v1/staff/conversations?q=coke".to_owned(),
        format!("/api/v1/staff/conversations/{tees}/timeline"),
    ] {
        let response = stranger.get(format!("{}{path}", app.address)).send().await.unwrap();
        assert_eq!(response.status(), 401, "{path}");
    }

    use server::staff::accounts::{self, Password, StaffRole};
    let password = "correct horse battery staple";
    accounts::create(
        app.db.store.as_ref(),
        "agent@shop.test",
        StaffRole::Agent,
        &Password::new(password),
    )
    .await
    .unwrap();
    let signed_in = app
        .client
        .post(format!("{}/api/v1/staff/session", app.address))
        .json(&json!({ "email": "agent@shop.test", "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 204);

    let found: Value = app.get("/api/v1/staff/conversations?q=COKE").await.json().await.unwrap();
    let ids: Vec<&str> = found["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [coke.as_str()]);
    let all: Value = app.get("/api/v1/staff/conversations").await.json().await.unwrap();
    let ids: Vec<&str> = all["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [coke.as_str(), tees.as_str()], "newest first");
    assert!(all["conversations"][1]["order_number"].as_str().unwrap().starts_with("G-"));

    let timeline: Value = app
        .get(&format!("/api/v1/staff/conversations/{tees}/timeline"))
        .await
        .json()
        .await
        .unwrap();
    let turns = timeline["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 2);
    let first = &turns[0];
    assert_eq!(first["message"]["text"], "hi, two black tees in M and a trail bottle");
    assert!(first["message"]["at"].as_str().unwrap().contains('T'));
    assert_eq!(first["extractor"], "rules");
    assert_eq!(first["commands"].as_array().unwrap().len(), 2, "{first}");
    let events: Vec<(u64, &str)> = first["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["seq"].as_u64().unwrap(), e["type"].as_str().unwrap()))
        .collect();
    assert_eq!(events.len(), 2, "{first}");
    assert_eq!(events[0].0, 1);
    assert!(first["reply"].as_str().unwrap().contains("tee"));
    assert!(first["timings_ms"]["turn"].as_f64().is_some());
    assert_eq!(turns[1]["events"][0]["seq"], 3, "sequence numbers continue per order");

    let missing = app.get("/api/v1/staff/conversations/nope/timeline").await;
    assert_eq!(missing.status(), 404);
}

/// The console's server functions refuse a browser without a staff session and change
/// nothing.
async fn console_server_functions_refuse_the_signed_out(app: TestApp) {
    let number = {
        let chat = app.start_chat().await;
        app.say(&chat, "two black tees in M").await;
        app.say(&chat, "my name is Ana Ruiz, ana@example.com").await;
        app.say(&chat, "ship to 12 Main St, Springfield, 62701, US").await;
        app.say(&chat, "confirm").await;
        let done = app.say(&chat, "yes").await;
        done["order"]["number"].as_str().unwrap().to_owned()
    };
    let created: Value = app
        .client
        .post(format!("{}/api/v1/returns", app.address))
        .json(&json!({ "order_number": number, "email": "ana@example.com", "resolution": "refund",
                       "items": [ { "line": 0, "quantity": 1, "reason": "damaged" } ] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rma = created["rma"].as_str().unwrap();
    for (path, form) in [
        ("/api/staff/conversations", vec![("q", "")]),
        ("/api/staff/timeline", vec![("id", "x")]),
        ("/api/staff/returns", vec![("status", "in_review")]),
        (
            "/api/staff/return-action",
            vec![("rma", rma), ("kind", "approved"), ("note", ""), ("csrf", "x")],
        ),
    ] {
        let response = app
            .client
            .post(format!("{}{path}", app.address))
            .header("Accept", "application/json")
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{path}");
    }
    let me: Value = app
        .client
        .post(format!("{}/api/staff/me", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(me.is_null(), "{me}");
    let status: Value = app
        .get(&format!("/api/v1/returns/{rma}?email=ana@example.com"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "in_review", "nothing was approved");
}

on_both_backends!(
    staff_find_a_conversation_and_read_its_timeline,
    console_server_functions_refuse_the_signed_out,
);
