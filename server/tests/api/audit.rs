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

    sign_in_agent(&app).await;

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
        ("/api/staff/handoffs", vec![]),
        ("/api/staff/reply", vec![("conversation", "x"), ("text", "hi"), ("csrf", "x")]),
        ("/api/staff/metrics", vec![("from", ""), ("to", "")]),
        ("/api/staff/order", vec![("number", number.as_str())]),
        ("/api/staff/sign-out", vec![("csrf", "x")]),
    ] {
        let response = console(&app, path, &form).await;
        assert_eq!(response.status(), 401, "{path}");
    }
    let me: Value = console(&app, "/api/staff/me", &[]).await.json().await.unwrap();
    assert!(me.is_null(), "{me}");
    let status: Value = app
        .get(&format!("/api/v1/returns/{rma}?email=ana@example.com"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "in_review", "nothing was approved");

    // Signed in as an agent, with the right token: the role still decides.
    sign_in_agent(&app).await;
    let me: Value = console(&app, "/api/staff/me", &[]).await.json().await.unwrap();
    let csrf = me["csrf"].as_str().unwrap();
    let action = |kind| [("rma", rma), ("kind", kind), ("note", ""), ("csrf", csrf)];
    let refund = console(&app, "/api/staff/return-action", &action("refunded")).await;
    assert_eq!(refund.status(), 403);
    let approve = console(&app, "/api/staff/return-action", &action("approved")).await;
    assert!(approve.status().is_success(), "{}", approve.status());
}

/// Posts a console server function's form, as the console's pages do.
pub(crate) async fn console(app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(format!("{}{path}", app.address))
        .header("Accept", "application/json")
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn sign_in_agent(app: &TestApp) {
    app.sign_in_as(server::staff::accounts::StaffRole::Agent).await;
}

/// The ids of a conversations page, and its `next`.
async fn page(app: &TestApp, query: &str) -> (Vec<String>, Option<String>) {
    let response = app.get(&format!("/api/v1/staff/conversations?{query}")).await;
    assert_eq!(response.status(), 200, "{query}");
    let body: Value = response.json().await.unwrap();
    let ids = body["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    (ids, body["next"].as_str().map(str::to_owned))
}

async fn staff_filter_and_page_conversations(app: TestApp) {
    let ordered = app.start_chat().await;
    app.say(&ordered, "two black tees in M").await;
    app.say(&ordered, "my name is Ana Ruiz, ana@example.com").await;
    app.say(&ordered, "ship to 12 Main St, Springfield, 62701, US").await;
    app.say(&ordered, "confirm").await;
    let done = app.say(&ordered, "yes").await;
    let number = done["order"]["number"].as_str().unwrap().to_owned();
    let bottle = app.start_chat().await;
    app.say(&bottle, "a trail bottle please").await;
    let silent = app.start_chat().await;

    let stranger = reqwest::Client::new();
    let anonymous = stranger
        .get(format!("{}/api/v1/staff/conversations?outcome=ordered", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    sign_in_agent(&app).await;

    assert_eq!(page(&app, "").await, (vec![silent.clone(), bottle.clone(), ordered.clone()], None));
    assert_eq!(page(&app, "outcome=ordered").await.0, [ordered.as_str()]);
    assert_eq!(page(&app, "outcome=open").await.0, [silent.as_str(), bottle.as_str()]);
    assert!(page(&app, "outcome=abandoned").await.0.is_empty(), "none idle for a day yet");
    let lower = number.to_lowercase();
    assert_eq!(page(&app, &format!("order={lower}")).await.0, [ordered.as_str()]);
    assert_eq!(page(&app, "q=TRAIL+bottle").await.0, [bottle.as_str()]);
    let today = time::OffsetDateTime::now_utc().date();
    let tomorrow = today.next_day().unwrap();
    let all_today = format!("from={today}&to={tomorrow}");
    assert_eq!(page(&app, &all_today).await.0.len(), 3);
    assert!(page(&app, &format!("from={tomorrow}")).await.0.is_empty());
    assert_eq!(
        page(&app, &format!("{all_today}&outcome=open&q=bottle")).await.0,
        [bottle.as_str()],
        "filters combine"
    );

    // Pages of one, newest first, to the end.
    let mut seen = Vec::new();
    let mut query = "limit=1".to_owned();
    loop {
        let (ids, next) = page(&app, &query).await;
        seen.extend(ids);
        match next {
            Some(cursor) => query = format!("limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, [silent, bottle, ordered]);

    for (query, code) in [
        ("outcome=lost", "invalid_outcome"),
        ("from=yesterday", "invalid_time"),
        ("to=2026-02-30", "invalid_time"),
        ("from=2026-03-02&to=2026-03-01", "invalid_range"),
        ("order=12", "invalid_order_number"),
        ("limit=0", "invalid_limit"),
        ("limit=101", "invalid_limit"),
        ("cursor=zz", "bad_cursor"),
        ("cursor=3132332e", "bad_cursor"),
        ("colour=red", "invalid_query"),
    ] {
        let response = app.get(&format!("/api/v1/staff/conversations?{query}")).await;
        assert_eq!(response.status(), 422, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{query}: {body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
}

async fn staff_export_the_audit_log_as_csv(app: TestApp) {
    let tricky = "=2+3, two \"black\" tees,\nin M; and -1 cap";
    let chat = app.start_chat().await;
    app.say(&chat, "two black tees in M").await;
    app.say(&chat, tricky).await;
    let other = app.start_chat().await;
    app.say(&other, "a trail bottle please").await;

    let stranger = reqwest::Client::new();
    let anonymous =
        stranger.get(format!("{}/api/v1/staff/audit.csv", app.address)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    // Agents read the trail; exporting it is for admins.
    sign_in_agent(&app).await;
    let refused = app.get("/api/v1/staff/audit.csv").await;
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden");
    app.sign_in_as(server::staff::accounts::StaffRole::Admin).await;

    let today = time::OffsetDateTime::now_utc().date();
    let tomorrow = today.next_day().unwrap();
    let response = app.get(&format!("/api/v1/staff/audit.csv?from={today}&to={tomorrow}")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment; filename="), "{disposition}");
    let body = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "conversation_id");
    assert_eq!(headers.len(), 11);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3, "one row per turn:\n{body}");
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let second = &rows[1];
    assert_eq!(&second[column("conversation_id")], chat);
    assert_eq!(&second[column("turn_seq")], "2");
    assert_eq!(
        &second[column("shopper_text")],
        format!("'{tricky}"),
        "quoted intact, and not a formula"
    );
    let first = &rows[0];
    assert!(first[column("event_types")].contains("line_added"), "{first:?}");
    assert_eq!(
        first[column("event_ids")].split(' ').count(),
        first[column("event_types")].split(' ').count()
    );
    let commands: Value = serde_json::from_str(&first[column("commands")]).unwrap();
    assert!(commands.as_array().is_some_and(|c| !c.is_empty()), "{commands}");
    assert_eq!(&rows[2][column("conversation_id")], other);

    // Another day has no turns: the header alone.
    let empty = app.get("/api/v1/staff/audit.csv?from=2020-01-01&to=2020-01-02").await;
    assert_eq!(empty.status(), 200);
    assert_eq!(empty.text().await.unwrap().lines().count(), 1);

    for (query, code) in [
        ("from=2026-01-01&to=2026-03-01", "range_too_long"),
        ("from=soon", "invalid_time"),
        ("from=2026-03-02&to=2026-03-01", "invalid_range"),
        ("format=xlsx", "invalid_query"),
    ] {
        let response = app.get(&format!("/api/v1/staff/audit.csv?{query}")).await;
        assert_eq!(response.status(), 422, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{query}: {body}");
    }
}

/// The console page filters by the URL (a plain GET form) and pages with "Older →".
async fn the_console_lists_conversations_a_page_at_a_time(app: TestApp) {
    let mut chats = Vec::new();
    for _ in 0..51 {
        chats.push(app.start_chat().await);
    }
    sign_in_agent(&app).await;
    let today = time::OffsetDateTime::now_utc().date();

    let response = app.get(&format!("/staff/conversations?outcome=open&from={today}")).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"<form method="GET""#), "{html}");
    assert!(html.contains(r#"<option value="open" selected"#), "{html}");
    assert!(html.contains(&format!(r#"href="/api/v1/staff/audit.csv?from={today}""#)), "{html}");
    assert_eq!(html.matches(r#"class="conversation-row""#).count(), 50);
    assert!(html.contains(&chats[50]), "newest first");
    let older = html.split(r#"rel="next""#).next().unwrap();
    let href = older.rsplit("href=\"").next().unwrap();
    let href = &href[..href.find('"').unwrap()].replace("&amp;", "&");
    assert!(href.starts_with("/staff/conversations?outcome=open&from="), "{href}");
    assert!(href.contains("cursor="), "{href}");

    let html = app.get(href).await.text().await.unwrap();
    assert_eq!(html.matches(r#"class="conversation-row""#).count(), 1);
    assert!(html.contains(&chats[0]), "the oldest is on the second page");
    assert!(!html.contains(r#"rel="next""#), "the last page links to no older one");
    assert!(html.contains("← Newest"));

    let html = app.get("/staff/conversations?order=G-999999").await.text().await.unwrap();
    assert!(html.contains("No conversation matches."), "{html}");
}

on_both_backends!(
    the_console_lists_conversations_a_page_at_a_time,
    staff_find_a_conversation_and_read_its_timeline,
    console_server_functions_refuse_the_signed_out,
    staff_filter_and_page_conversations,
    staff_export_the_audit_log_as_csv,
);
