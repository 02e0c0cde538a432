//! Staff read an order from its events, each linked to the turn that appended it.

use serde_json::Value;
use server::staff::accounts::StaffRole;

use crate::{helpers::TestApp, on_both_backends};

async fn an_order_names_the_turn_behind_each_event(app: TestApp) {
    let number = app.confirmed_order("two black tees in M", "ana@example.com").await;
    let path = format!("/api/v1/staff/orders/{number}");
    let anonymous = reqwest::Client::new().get(format!("{}{path}", app.address)).send().await;
    assert_eq!(anonymous.unwrap().status(), 401);

    app.sign_in_as(StaffRole::Agent).await;
    let found: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(found["order"]["number"], number.as_str());
    assert_eq!(found["order"]["status"], "confirmed");
    let events = found["events"].as_array().unwrap();
    assert_eq!(events[0]["type"], "line_added");
    assert_eq!(events[0]["turn_seq"], 1, "the first message added the tees");
    assert_eq!(events.last().unwrap()["type"], "confirmed");
    assert_eq!(events.last().unwrap()["turn_seq"], 5, "the fifth message confirmed");
    assert!(events.iter().all(|e| e["conversation_id"].is_string() && e["actor"] == "shopper"));
    let timeline: Value = app
        .get(&format!(
            "/api/v1/staff/conversations/{}/timeline",
            events[0]["conversation_id"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(timeline["turns"][0]["events"][0]["id"], events[0]["id"], "and back again");

    for (path, status) in
        [("/api/v1/staff/orders/G-999999", 404), ("/api/v1/staff/orders/nonsense", 404)]
    {
        assert_eq!(app.get(path).await.status(), status, "{path}");
    }
    let page = app.get(&format!("/staff/orders/{number}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("The turn that did this") && html.contains("#turn-1"), "links to turns");
}

on_both_backends!(an_order_names_the_turn_behind_each_event);
