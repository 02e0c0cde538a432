use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, Backend};

#[tokio::test]
async fn a_conversation_that_sends_too_fast_gets_429_and_nothing_is_appended() {
    let app = spawn_app_with(Backend::Sqlite, |args| {
        args.rate_chat_burst = 3;
        args.rate_chat_per_second = 0.01;
    })
    .await
    .unwrap();
    let chat = app.start_chat().await;
    for _ in 0..3 {
        app.say(&chat, "a diet coke").await;
    }
    let response = app.post_message(&chat, json!({ "text": "a diet coke" }), None).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert_eq!(app.read_chat(&chat).await["messages"].as_array().unwrap().len(), 6);

    // Another conversation has its own allowance.
    let other = app.start_chat().await;
    app.say(&other, "a coke").await;
}

#[tokio::test]
async fn a_client_that_sends_too_fast_gets_429() {
    let app = spawn_app_with(Backend::Sqlite, |args| {
        args.rate_ip_burst = 4;
        args.rate_ip_per_second = 0.01;
    })
    .await
    .unwrap();
    for _ in 0..4 {
        app.start_chat().await;
    }
    let response =
        app.client.post(format!("{}/api/v1/conversations", app.address)).send().await.unwrap();
    assert_eq!(response.status(), 429);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // Pages are not limited by the chat API's budget.
    assert_eq!(app.get("/healthz").await.status(), 200);
}
