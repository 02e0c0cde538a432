//! The holes a security review found in order and return state, each closed: a
//! cancelled order is never returned, a shipped or returning order is not cancelled,
//! refunds are capped, returned units go back on sale, and the customer limit holds
//! under parallel requests.

use gapless_domain::{sku::Sku, stock::StockKey};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::{audit::console, helpers::TestApp, on_both_backends, returns::a_return};

/// A confirmed order of `items` for ana; returns (chat, order number).
async fn ordered(app: &TestApp, items: &str) -> (String, String) {
    app.confirmed_in_chat(items, "ana@example.com").await
}

async fn post(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    app.client.post(format!("{}{path}", app.address)).json(&body).send().await.unwrap()
}

fn codes(turn: &Value) -> Vec<&str> {
    turn["messages"].as_array().unwrap().iter().filter_map(|m| m["code"].as_str()).collect()
}

async fn a_cancelled_order_is_never_returned(app: TestApp) {
    let (chat, number) = ordered(&app, "two black tees in M").await;
    let cancelled = app.say(&chat, "cancel my order").await;
    assert_eq!(cancelled["order"]["status"], "cancelled", "{cancelled}");

    let proof = json!({ "order_number": number, "email": "ana@example.com" });
    let lookup: Value =
        post(&app, "/api/v1/returns/lookup", proof.clone()).await.json().await.unwrap();
    assert_eq!(lookup["lines"][0]["returnable_quantity"], 0, "{lookup}");
    assert_eq!(lookup["lines"][0]["reason"], "order_cancelled", "{lookup}");

    let response = post(
        &app,
        "/api/v1/returns",
        json!({ "order_number": number, "email": "ana@example.com", "resolution": "refund",
                "items": [ { "line": 0, "quantity": 1, "reason": "too_small" } ] }),
    )
    .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["status"], "rejected", "{created}");
    assert_eq!(created["items"][0]["rule"], "order_cancelled", "{created}");
    assert!(created["items"][0]["reason"].as_str().unwrap().contains("cancelled"), "{created}");

    // Nothing to approve: staff cannot move it on either.
    app.sign_in_staff().await;
    let rma = created["rma"].as_str().unwrap();
    let approve = app.staff_records(rma, json!({ "type": "approved" })).await;
    assert_eq!(approve.status(), 422);
}

async fn a_returning_or_shipped_order_is_not_cancelled_in_the_chat(app: TestApp) {
    let (chat, number) = ordered(&app, "two black tees in M").await;
    a_return(&app, &number, "too_small").await;
    let refused = app.say(&chat, "cancel my order").await;
    assert_eq!(refused["order"]["status"], "confirmed", "{refused}");
    assert_eq!(codes(&refused), ["cancel_refused"], "{refused}");
    let reply = refused["reply"].as_str().unwrap();
    assert!(reply.contains("return in progress") && reply.contains("talk to a person"), "{reply}");

    let (chat, number) = ordered(&app, "a black tee in M").await;
    assert!(app.db.store.mark_delivered(&number, OffsetDateTime::now_utc()).await.unwrap());
    let refused = app.say(&chat, "cancel my order").await;
    assert_eq!(refused["order"]["status"], "confirmed", "{refused}");
    assert!(refused["reply"].as_str().unwrap().contains("already shipped"), "{refused}");
    let order = app.db.store.returnable_order(&number).await.unwrap().unwrap();
    assert_eq!(order.status, gapless_domain::orders::OrderStatus::Confirmed);
}

async fn refunds_are_capped_at_what_is_due(app: TestApp) {
    let (_, number) = ordered(&app, "two black tees in M").await;
    // One tee of 2500, returned for "changed my mind": 10 % fee, 2250 due.
    let rma = a_return(&app, &number, "changed_mind").await;
    app.sign_in_staff().await;
    assert_eq!(app.staff_records(&rma, json!({ "type": "received" })).await.status(), 200);

    for (body, code) in [
        (json!({ "type": "refunded", "amount": 10_000_000 }), "refund_over_paid"),
        (
            json!({ "type": "refunded", "amount": 10_000_000, "override_reason": "goodwill" }),
            "refund_over_paid",
        ),
        (json!({ "type": "credited", "amount": 2251 }), "refund_over_due"),
        (json!({ "type": "refunded", "amount": 2500, "override_reason": " " }), "refund_over_due"),
        (json!({ "type": "refunded", "amount": -1 }), "invalid"),
    ] {
        let response = app.staff_records(&rma, body.clone()).await;
        assert_eq!(response.status(), 422, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], code, "{body}: {error}");
    }
    let row = app.db.store.return_by_rma(&rma).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.refund_amount), ("received", None), "nothing changed");

    let waived = app
        .staff_records(
            &rma,
            json!({ "type": "refunded", "amount": 2500, "override_reason": "fee waived" }),
        )
        .await;
    assert_eq!(waived.status(), 200);
    let row = app.db.store.return_by_rma(&rma).await.unwrap().unwrap();
    assert_eq!(row.refund_amount, Some(2500));
    let refund = row.events.last().unwrap();
    assert_eq!(refund.payload["override_reason"], "fee waived", "audited with the event");
    assert!(refund.actor.starts_with("staff:"), "{}", refund.actor);
}

async fn on_hand(app: &TestApp, key: &StockKey) -> u32 {
    app.db.store.stock_levels().await.unwrap()[key].on_hand
}

async fn returned_units_go_back_on_sale_as_staff_choose(app: TestApp) {
    let tee = StockKey::product(Sku::parse("TEE").unwrap());
    let black = StockKey::value(Sku::parse("TEE").unwrap(), "color", "black");
    let (_, number) = ordered(&app, "three black tees in M").await;
    let (tee_before, black_before) = (on_hand(&app, &tee).await, on_hand(&app, &black).await);
    app.sign_in_staff().await;

    // "Too small": the policy restocks by default.
    let small = a_return(&app, &number, "too_small").await;
    let received: Value =
        app.staff_records(&small, json!({ "type": "received" })).await.json().await.unwrap();
    assert_eq!(received["items"][0]["disposition"], "restock", "{received}");
    assert_eq!(on_hand(&app, &tee).await, tee_before + 1);
    assert_eq!(on_hand(&app, &black).await, black_before + 1);

    // "Damaged": discarded by default, restocked when staff say so.
    let damaged = a_return(&app, &number, "damaged").await;
    assert_eq!(app.staff_records(&damaged, json!({ "type": "approved" })).await.status(), 200);
    let bad =
        json!({ "type": "received", "dispositions": [ { "line": 3, "disposition": "restock" } ] });
    let refused = app.staff_records(&damaged, bad).await;
    assert_eq!(refused.status(), 422, "line 3 is not in this return");
    let received: Value =
        app.staff_records(&damaged, json!({ "type": "received" })).await.json().await.unwrap();
    assert_eq!(received["items"][0]["disposition"], "discard", "{received}");
    assert_eq!(on_hand(&app, &tee).await, tee_before + 1, "a discarded unit is not for sale");

    let chosen = a_return(&app, &number, "damaged").await;
    assert_eq!(app.staff_records(&chosen, json!({ "type": "approved" })).await.status(), 200);
    let keep =
        json!({ "type": "received", "dispositions": [ { "line": 0, "disposition": "restock" } ] });
    assert_eq!(app.staff_records(&chosen, keep).await.status(), 200);
    assert_eq!(on_hand(&app, &tee).await, tee_before + 2);
    assert_eq!(on_hand(&app, &black).await, black_before + 2);
}

async fn the_customer_limit_holds_under_parallel_requests(app: TestApp) {
    // The demo policy sends a customer's fourth return within 30 days to review.
    let (_, number) = ordered(&app, "eight black tees in M").await;
    let requests = (0..8).map(|_| {
        let client = app.client.clone();
        let url = format!("{}/api/v1/returns", app.address);
        let body = json!({ "order_number": number, "email": "ana@example.com",
            "resolution": "refund", "items": [ { "line": 0, "quantity": 1, "reason": "too_small" } ] });
        tokio::spawn(async move {
            let response = client.post(url).json(&body).send().await.unwrap();
            assert_eq!(response.status(), 201);
            response.json::<Value>().await.unwrap()["status"].as_str().unwrap().to_owned()
        })
    });
    let mut statuses = Vec::new();
    for request in requests.collect::<Vec<_>>() {
        statuses.push(request.await.unwrap());
    }
    statuses.sort();
    assert_eq!(
        statuses,
        [
            "approved",
            "approved",
            "approved",
            "in_review",
            "in_review",
            "in_review",
            "in_review",
            "in_review"
        ]
    );
}

/// The console's forms: a disposition for every item at receipt, an amount as typed,
/// and the same caps as the API.
async fn the_console_chooses_dispositions_and_caps_amounts(app: TestApp) {
    let tee = StockKey::product(Sku::parse("TEE").unwrap());
    let (_, number) = ordered(&app, "two black tees in M").await;
    let rma = a_return(&app, &number, "changed_mind").await;
    let before = on_hand(&app, &tee).await;
    app.sign_in_staff().await;
    let me: Value = console(&app, "/api/staff/me", &[]).await.json().await.unwrap();
    let csrf = me["csrf"].as_str().unwrap();
    let form = |fields: &[(&'static str, &'static str)]| {
        let mut form = vec![("rma", rma.as_str()), ("csrf", csrf)];
        form.extend_from_slice(fields);
        let app = &app;
        async move { console(app, "/api/staff/return-action", &form).await }
    };
    let odd = form(&[("kind", "received"), ("disposition", "burn")]).await;
    assert!(odd.status().is_client_error(), "{}", odd.status());
    let received = form(&[("kind", "received"), ("disposition", "discard")]).await;
    assert!(received.status().is_success(), "{}", received.status());
    assert_eq!(on_hand(&app, &tee).await, before, "discarded, though the policy would restock");

    // 2250 is due (2500 less 10 %): 25.00 needs a reason, 25.01 is more than was paid.
    for (amount, reason) in [("25.00", ""), ("25.01", "goodwill"), ("twenty", "")] {
        let refused =
            form(&[("kind", "refunded"), ("amount", amount), ("override_reason", reason)]).await;
        assert!(refused.status().is_client_error(), "{amount}: {}", refused.status());
        let text = refused.text().await.unwrap();
        assert!(text.contains("due") || text.contains("paid") || text.contains("amount"), "{text}");
    }
    let paid =
        form(&[("kind", "refunded"), ("amount", "25.00"), ("override_reason", "fee waived")]).await;
    assert!(paid.status().is_success(), "{}", paid.status());
    let row = app.db.store.return_by_rma(&rma).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.refund_amount), ("refunded", Some(2500)));
}

on_both_backends!(
    the_console_chooses_dispositions_and_caps_amounts,
    a_cancelled_order_is_never_returned,
    a_returning_or_shipped_order_is_not_cancelled_in_the_chat,
    refunds_are_capped_at_what_is_due,
    returned_units_go_back_on_sale_as_staff_choose,
    the_customer_limit_holds_under_parallel_requests,
);
