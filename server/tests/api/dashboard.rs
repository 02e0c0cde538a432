//! The staff dashboard's numbers against a shop whose every fact the test made.

use serde_json::Value;
use server::staff::accounts::StaffRole;

use crate::{helpers::TestApp, on_both_backends, returns::a_return};

async fn the_dashboard_counts_what_happened(app: TestApp) {
    // Ordered: five turns, none asking to clarify.
    let number = app.confirmed_order("two black tees in M", "ana@example.com").await;
    // Handed off after one turn the assistant could not place.
    let chat = app.start_chat().await;
    let unsure = app.say(&chat, "a wombat please").await;
    assert!(
        unsure["messages"].as_array().unwrap().iter().any(|m| m["code"] == "not_understood"),
        "{unsure}"
    );
    app.say(&chat, "can I talk to a human please").await;
    let rma = a_return(&app, &number, "too_small").await;

    let stranger = reqwest::Client::new();
    let anonymous = stranger.get(format!("{}/api/v1/staff/metrics", app.address)).send().await;
    assert_eq!(anonymous.unwrap().status(), 401);

    app.sign_in_as(StaffRole::Admin).await;
    assert_eq!(
        app.staff_records(&rma, serde_json::json!({ "type": "received" })).await.status(),
        200
    );
    assert_eq!(
        app.staff_records(&rma, serde_json::json!({ "type": "refunded" })).await.status(),
        200
    );

    let found: Value = app.get("/api/v1/staff/metrics").await.json().await.unwrap();
    assert_eq!(found["conversations"], 2, "{found}");
    let ratio = |name: &str| {
        (found[name]["numerator"].as_u64().unwrap(), found[name]["denominator"].as_u64().unwrap())
    };
    assert_eq!(ratio("conversion"), (1, 2));
    assert_eq!(ratio("handoff_rate"), (1, 2));
    assert_eq!(ratio("exception_rate"), (0, 1), "the order was not handed off");
    assert_eq!(ratio("clarification_rate"), (1, 7), "the wombat, of 5 + 2 turns");
    assert_eq!(found["intent_to_confirmation"]["count"], 1);
    // One order: its p50 is the time from the chat's first message to its confirmation,
    // as the staff order page and the conversation's timeline show them.
    let order: Value =
        app.get(&format!("/api/v1/staff/orders/{number}")).await.json().await.unwrap();
    let events = order["events"].as_array().unwrap();
    let confirmed = events.iter().find(|e| e["type"] == "confirmed").expect("confirmed event");
    let chat = confirmed["conversation_id"].as_str().unwrap();
    let timeline: Value = app
        .get(&format!("/api/v1/staff/conversations/{chat}/timeline"))
        .await
        .json()
        .await
        .unwrap();
    let lead = instant(&confirmed["at"]) - instant(&timeline["turns"][0]["message"]["at"]);
    // Kept as a histogram of milliseconds rounded down to two significant digits.
    let p50 = found["intent_to_confirmation"]["p50_seconds"].as_f64().unwrap();
    let ms = (p50 * 1000.0).round() as i64;
    let exact = lead.as_seconds_f64();
    assert!(p50 <= exact + 0.001 && p50 > exact * 0.9 - 0.001, "{p50} s, expected ≈ {lead}");
    assert_eq!(gapless_domain::staff_metrics::lead_bucket(ms), ms, "{ms} ms: two digits");
    assert!(lead > time::Duration::ZERO, "five turns take time");
    assert_eq!(found["returns"], 1);
    assert_eq!(found["by_reason"][0]["label"], "Too small");
    assert_eq!(found["by_reason"][0]["units"], 1);
    assert_eq!(found["by_product"][0]["product"], "tee");
    assert_eq!(found["decisions"]["approved"], 1);
    assert_eq!(found["refund_cycle"]["completed"], 1);
    assert_eq!(found["buckets"].as_array().unwrap().len(), 30, "the last 30 days, by day");

    // A period without any of it, and periods that make no sense.
    let empty: Value =
        app.get("/api/v1/staff/metrics?from=2020-01-01&to=2020-01-31").await.json().await.unwrap();
    assert_eq!(
        (empty["conversations"].as_u64(), empty["conversion"]["percent"].as_f64()),
        (Some(0), None)
    );
    for query in [
        "from=yesterday",
        "from=2030-02-01&to=2030-01-01",
        "from=2000-01-01&to=2030-01-01",
        "days=3",
    ] {
        let response = app.get(&format!("/api/v1/staff/metrics?{query}")).await;
        assert!(matches!(response.status().as_u16(), 400 | 422), "{query}: {}", response.status());
    }

    // The console page draws the charts on the server.
    let page = app.get("/staff/metrics").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<svg") && html.contains("Returned units by reason"), "charts drawn");
    assert!(html.contains("1 of 2"), "figures say what they count");
}

fn instant(value: &Value) -> time::OffsetDateTime {
    let text = value.as_str().unwrap_or_else(|| panic!("not a time: {value}"));
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
}

on_both_backends!(the_dashboard_counts_what_happened);
