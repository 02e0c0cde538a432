//! Handoffs: the shopper asks for a person, staff find the conversation in the queue,
//! reply (the shopper reads it with the conversation), and close it.

use serde_json::{json, Value};
use server::staff::accounts::StaffRole;

use crate::{helpers::TestApp, on_both_backends};

impl TestApp {
    async fn staff_post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client.post(format!("{}{path}", self.address)).json(body).send().await.unwrap()
    }
}

async fn staff_reply_into_a_handed_off_chat_and_close_it(app: TestApp) {
    let chat = app.start_chat().await;
    app.say(&chat, "two black tees in M").await;
    app.say(&chat, "can I talk to a human please").await;
    let path = format!("/api/v1/staff/conversations/{chat}/replies");

    // Nobody signed in: nothing is shown or written.
    let stranger = reqwest::Client::new();
    let queue = stranger.get(format!("{}/api/v1/staff/handoffs", app.address)).send().await;
    assert_eq!(queue.unwrap().status(), 401);
    let anonymous = stranger
        .post(format!("{}{path}", app.address))
        .json(&json!({ "text": "hi" }))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    app.sign_in_as(StaffRole::Agent).await;
    let queue: Value = app.get("/api/v1/staff/handoffs").await.json().await.unwrap();
    let waiting = &queue["conversations"][0];
    assert_eq!(waiting["id"], chat.as_str(), "{queue}");
    assert_eq!(waiting["last_message"], "can I talk to a human please");
    assert_eq!((waiting["turns"].as_u64(), waiting["replies"].as_u64()), (Some(2), Some(0)));

    for (body, status, code) in [
        (json!({ "text": "   " }), 422, "empty"),
        (json!({ "text": "x".repeat(2001) }), 422, "too_long"),
        (json!({ "text": "a\u{0007}b" }), 422, "invalid_text"),
        (json!({ "text": "hi", "cc": "everyone" }), 422, "invalid"),
    ] {
        let response = app.staff_post(&path, &body).await;
        assert_eq!(response.status(), status, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], code, "{body}");
    }
    let unknown = app
        .staff_post("/api/v1/staff/conversations/no-such-chat/replies", &json!({ "text": "hi" }))
        .await;
    assert_eq!(unknown.status(), 404);

    let sent = app.staff_post(&path, &json!({ "text": "Hi, this is Ana from the shop." })).await;
    assert_eq!(sent.status(), 201);
    let conversation: Value =
        app.get(&format!("/api/v1/conversations/{chat}")).await.json().await.unwrap();
    let roles: Vec<&str> = conversation["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["shopper", "assistant", "shopper", "assistant", "staff"]);
    assert_eq!(conversation["messages"][4]["text"], "Hi, this is Ana from the shop.");
    let timeline: Value = app
        .get(&format!("/api/v1/staff/conversations/{chat}/timeline"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(timeline["staff_replies"][0]["staff"], "agent@shop.test", "{timeline}");

    // Still waiting until someone closes it; closing takes it off the queue.
    let queue: Value = app.get("/api/v1/staff/handoffs").await.json().await.unwrap();
    assert_eq!(queue["conversations"][0]["replies"], 1);
    let closed = app.staff_post(&path, &json!({ "text": "All sorted. Bye!", "close": true })).await;
    assert_eq!(closed.status(), 201);
    let queue: Value = app.get("/api/v1/staff/handoffs").await.json().await.unwrap();
    assert_eq!(queue["conversations"], json!([]));
}

on_both_backends!(staff_reply_into_a_handed_off_chat_and_close_it);
