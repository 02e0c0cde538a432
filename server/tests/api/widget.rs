//! The chat widget's server functions (`/api/chat/state`, `/api/chat/send`), as the
//! browser calls them: form-encoded posts with the session cookie.

use serde_json::Value;

use crate::{
    helpers::{spawn_app_with, Backend, TestApp},
    on_both_backends,
};

impl TestApp {
    async fn widget_send_at(&self, address: &str, text: &str, key: &str) -> reqwest::Response {
        self.client
            .post(format!("{address}/api/chat/send"))
            .header("Accept", "application/json")
            .form(&[("text", text), ("key", key)])
            .send()
            .await
            .unwrap()
    }

    /// Sends like the widget does, with the turn count as the key; returns the view.
    async fn widget_say(&self, text: &str) -> Value {
        let turns = self.widget_state().await["turns"].as_u64().unwrap().to_string();
        let response = self.widget_send_at(&self.address, text, &turns).await;
        assert_eq!(response.status(), 200, "{text:?}");
        response.json().await.unwrap()
    }

    async fn widget_state_at(&self, address: &str) -> Value {
        let response = self.client.post(format!("{address}/api/chat/state")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    async fn widget_state(&self) -> Value {
        self.widget_state_at(&self.address).await
    }
}

fn shopper_texts(view: &Value) -> Vec<String> {
    view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from_shopper"] == true)
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_shopper_orders_through_the_widget(app: TestApp) {
    let empty = app.widget_state().await;
    assert_eq!(empty["messages"].as_array().unwrap().len(), 0);
    assert!(empty["order"].is_null());

    let first = app.widget_say("hi, two black tees in M and a trail bottle").await;
    let order = &first["order"];
    assert_eq!(order["status"], "draft");
    let lines = order["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{order}");
    assert_eq!((lines[0]["name"].as_str(), lines[0]["quantity"].as_u64()), (Some("tee"), Some(2)));
    assert_eq!(lines[0]["choices"], "size: m, color: black");
    assert_eq!(lines[0]["unit_price"], "$25.00");
    assert_eq!(order["total"], "$74.00");

    app.widget_say("my name is Ana Ruiz, ana@example.com").await;
    app.widget_say("ship to 12 Main St, Springfield, 62701, US").await;
    let summary = app.widget_say(app::chat::CONFIRM_TEXT).await;
    assert_eq!(summary["order"]["status"], "draft", "a summary comes first");
    let done = app.widget_say(app::chat::CONFIRM_TEXT).await;
    assert_eq!(done["order"]["status"], "confirmed", "{done}");
    assert_eq!(done["turns"], 5);

    // The same conversation is what the JSON API and the staff see.
    let number = done["order"]["number"].as_str().unwrap();
    let summary = app.db.store.order_summary(number).await.unwrap().unwrap();
    assert_eq!((summary.status.as_str(), summary.total), ("confirmed", 7400));
}

async fn the_conversation_survives_a_reload_and_a_restart(app: TestApp) {
    app.widget_say("two diet cokes").await;
    let reloaded = app.widget_state().await;
    assert_eq!(shopper_texts(&reloaded), ["two diet cokes"]);
    assert_eq!(reloaded["order"]["lines"][0]["quantity"], 2);

    // Sessions live in the database: another server (a restart, or a second app
    // server on one PostgreSQL) knows the shopper.
    let other = app.another_server().await;
    let elsewhere = app.widget_state_at(&other).await;
    assert_eq!(elsewhere, reloaded);

    // Another browser (no cookie) starts with an empty chat.
    let stranger = reqwest::Client::new();
    let response = stranger.post(format!("{}/api/chat/state", app.address)).send().await.unwrap();
    let view: Value = response.json().await.unwrap();
    assert_eq!(view["messages"].as_array().unwrap().len(), 0);
}

async fn a_form_sent_twice_is_taken_once(app: TestApp) {
    let first = app.widget_send_at(&app.address, "a coke", "0").await;
    assert_eq!(first.status(), 200);
    let again = app.widget_send_at(&app.address, "a coke", "0").await;
    assert_eq!(again.status(), 200);
    let view = app.widget_state().await;
    assert_eq!(shopper_texts(&view), ["a coke"]);
    assert_eq!(view["order"]["lines"][0]["quantity"], 1);
}

async fn bad_input_gets_a_clear_error_and_changes_nothing(app: TestApp) {
    app.widget_say("a coke").await;
    for (text, status, words) in [
        ("   ", 422, "Please type a message"),
        (&"tee ".repeat(600), 422, "too long"),
        ("two tees\u{0}", 422, "characters we cannot read"),
    ] {
        let response = app.widget_send_at(&app.address, text, "1").await;
        assert_eq!(response.status(), status, "{text:?}");
        let body = response.text().await.unwrap();
        assert!(body.contains(words), "{text:?}: {body}");
    }
    assert_eq!(shopper_texts(&app.widget_state().await), ["a coke"]);
}

on_both_backends!(
    a_shopper_orders_through_the_widget,
    the_conversation_survives_a_reload_and_a_restart,
    a_form_sent_twice_is_taken_once,
    bad_input_gets_a_clear_error_and_changes_nothing,
);

#[tokio::test]
async fn a_session_that_sends_too_fast_gets_429() {
    let app = spawn_app_with(Backend::Sqlite, |args| {
        args.rate_chat_burst = 2;
        args.rate_chat_per_second = 0.01;
    })
    .await
    .unwrap();
    app.widget_say("a coke").await;
    app.widget_say("a diet coke").await;
    let response = app.widget_send_at(&app.address, "a trail bottle", "2").await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let error: app::error::AppError = response.json().await.unwrap();
    assert_eq!(error, app::error::AppError::TooMany);
    assert_eq!(shopper_texts(&app.widget_state().await).len(), 2);
}
