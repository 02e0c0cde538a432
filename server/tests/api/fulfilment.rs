//! Fulfilment in (CONTRACTS §7): a system with an API key reports shipments and
//! deliveries, and what that unlocks for shoppers, customers and staff.

use serde_json::{json, Value};
use server::fulfilment::keys;
use time::{format_description::well_known::Rfc3339, Duration, OffsetDateTime};

use crate::{helpers::TestApp, on_both_backends};

impl TestApp {
    /// A new API key for a system called `name`.
    pub(crate) async fn api_key(&self, name: &str) -> String {
        keys::add(self.db.store.as_ref(), name).await.unwrap().1
    }

    /// `POST /api/v1/orders/{number}/fulfilments` with `key` (none when empty).
    pub(crate) async fn report(
        &self,
        key: &str,
        number: &str,
        body: &Value,
        idempotency_key: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}/api/v1/orders/{number}/fulfilments", self.address))
            .json(body);
        if !key.is_empty() {
            request = request.bearer_auth(key);
        }
        if let Some(idempotency_key) = idempotency_key {
            request = request.header("Idempotency-Key", idempotency_key);
        }
        request.send().await.unwrap()
    }

    /// Reports `status` for `number` at `at`, expecting `201`.
    pub(crate) async fn fulfil(&self, key: &str, number: &str, status: &str, at: OffsetDateTime) {
        let body = json!({ "status": status, "carrier": "UPS", "tracking_number": "1Z999",
            "tracking_url": "https://track.example/1Z999", "at": at.format(&Rfc3339).unwrap() });
        let response = self.report(key, number, &body, None).await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    }

    /// Rows of the outbox with `topic`, read behind the app's back.
    async fn outbox_rows(&self, topic: &str) -> i64 {
        let sql = "SELECT COUNT(*) FROM outbox WHERE topic = ";
        if self.db.url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.db.url).await.unwrap();
            sqlx::query_scalar(&format!("{sql}?")).bind(topic).fetch_one(&pool).await.unwrap()
        } else {
            let pool = sqlx::PgPool::connect(&self.db.url).await.unwrap();
            sqlx::query_scalar(&format!("{sql}$1")).bind(topic).fetch_one(&pool).await.unwrap()
        }
    }

    async fn events_of(&self, number: &str) -> Vec<String> {
        let summary = self.db.store.order_summary(number).await.unwrap().unwrap();
        let events = self.db.store.order_events(&summary.id).await.unwrap();
        events.into_iter().map(|e| e.event_type).collect()
    }
}

async fn error_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("a JSON error body");
    (status, body["error"]["code"].as_str().unwrap_or_default().to_owned())
}

async fn a_system_reports_shipped_then_delivered(app: TestApp) {
    let key = app.api_key("warehouse").await;
    let number = app.confirmed_order("two black tees in M", "ana@example.com").await;
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let (ship_at, deliver_at) = (now - Duration::hours(2), now - Duration::hours(1));
    let (ship_text, deliver_text) =
        (ship_at.format(&Rfc3339).unwrap(), deliver_at.format(&Rfc3339).unwrap());
    let shipped = json!({ "status": "shipped", "carrier": "UPS", "tracking_number": "1Z999",
        "tracking_url": "https://track.example/1Z999", "at": ship_text });

    // Without a valid key nothing is said about the order, and nothing changes.
    for bad in ["", "gk_0000", "not-a-key"] {
        let answer = error_code(app.report(bad, &number, &shipped, None).await).await;
        assert_eq!(answer, (401, "unauthorized".to_owned()), "{bad:?}");
    }
    assert_eq!(error_code(app.report(&key, "G-999999", &shipped, None).await).await.0, 404);
    assert_eq!(error_code(app.report(&key, "nonsense", &shipped, None).await).await.0, 404);
    let bad_url = json!({ "status": "shipped", "tracking_url": "javascript:alert(1)" });
    assert_eq!(
        error_code(app.report(&key, &number, &bad_url, None).await).await,
        (422, "invalid".to_owned())
    );
    assert_eq!(app.events_of(&number).await.last().unwrap(), "confirmed");

    let first = app.report(&key, &number, &shipped, Some("ship-1")).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["number"], number.as_str());
    assert_eq!(first["status"], "shipped");
    assert_eq!(
        first["fulfilments"],
        json!([{ "status": "shipped", "carrier": "UPS", "tracking_number": "1Z999",
                 "tracking_url": "https://track.example/1Z999", "at": ship_text }])
    );
    assert_eq!(first["lines"][0]["quantity"], 2, "the whole order (§3)");
    assert_eq!(app.outbox_rows("order.shipped").await, 1, "an outbox row, as every event");

    // The same Idempotency-Key: the first answer, nothing appended.
    let again = app.report(&key, &number, &shipped, Some("ship-1")).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(app.events_of(&number).await.iter().filter(|e| *e == "shipped").count(), 1);
    // ...and not for another order.
    let other = app.confirmed_order("a trail bottle", "bo@example.com").await;
    assert_eq!(
        error_code(app.report(&key, &other, &shipped, Some("ship-1")).await).await,
        (422, "idempotency_key_reused".to_owned())
    );

    let delivered = json!({ "status": "delivered", "at": deliver_text });
    let done: Value = app.report(&key, &number, &delivered, None).await.json().await.unwrap();
    assert_eq!(done["status"], "delivered");
    assert_eq!(done["fulfilments"].as_array().unwrap().len(), 2);
    assert_eq!(app.outbox_rows("order.delivered").await, 1);
    let order = app.db.store.returnable_order(&number).await.unwrap().unwrap();
    assert_eq!(order.delivered_at, Some(deliver_at));
    // A time in the future is a mistake of the sender's clock, not a delivery.
    let future =
        json!({ "status": "shipped", "at": (now + Duration::days(1)).format(&Rfc3339).unwrap() });
    assert_eq!(
        error_code(app.report(&key, &other, &future, None).await).await,
        (422, "invalid".to_owned())
    );

    // Delivered → shipped is refused with the contract's code; nothing appended.
    assert_eq!(
        error_code(app.report(&key, &number, &shipped, None).await).await,
        (422, "illegal_transition".to_owned())
    );
    assert_eq!(app.events_of(&number).await.last().unwrap(), "delivered");
    // A draft cannot ship either.
    let chat = app.start_chat().await;
    let draft = app.say(&chat, "a trail bottle").await;
    let draft = draft["order"]["number"].as_str().unwrap();
    assert_eq!(
        error_code(app.report(&key, draft, &shipped, None).await).await,
        (422, "illegal_transition".to_owned())
    );

    // A revoked key stops working at once.
    keys::revoke(app.db.store.as_ref(), "warehouse").await.unwrap();
    assert_eq!(error_code(app.report(&key, &other, &shipped, None).await).await.0, 401);
}

async fn the_chat_says_where_a_shipped_order_is_and_will_not_cancel_it(app: TestApp) {
    let key = app.api_key("warehouse").await;
    let (chat, number) = app.confirmed_in_chat("a trail bottle", "ana@example.com").await;
    app.fulfil(&key, &number, "shipped", OffsetDateTime::now_utc() - Duration::hours(3)).await;

    let asked = app.say(&chat, &format!("has my order {number} shipped? ana@example.com")).await;
    let reply = asked["reply"].as_str().unwrap();
    assert!(reply.contains(&format!("Order {number} is shipped")), "{reply}");
    assert!(reply.contains("with UPS, tracking number 1Z999"), "{reply}");
    assert!(reply.contains("https://track.example/1Z999"), "{reply}");
    // Someone else's conversation with the wrong email learns nothing.
    let stranger = app.start_chat().await;
    let wrong = app.say(&stranger, &format!("where is my order {number}, eve@example.com")).await;
    assert!(!wrong["reply"].as_str().unwrap().contains("UPS"), "{wrong}");

    let cancel = app.say(&chat, "cancel my order").await;
    assert!(cancel["reply"].as_str().unwrap().contains("already shipped"), "{cancel}");
    assert_eq!(cancel["order"]["status"], "shipped");
    assert_eq!(app.events_of(&number).await.last().unwrap(), "shipped");
}

async fn return_windows_count_from_the_reported_delivery(app: TestApp) {
    let key = app.api_key("warehouse").await;
    let now = OffsetDateTime::now_utc();
    // Confirmed today either way; the demo policy's window is 30 days.
    let long_ago = app.confirmed_order("a black tee in M", "ana@example.com").await;
    app.fulfil(&key, &long_ago, "delivered", now - Duration::days(40)).await;
    let recent = app.confirmed_order("a black tee in M", "ana@example.com").await;
    app.fulfil(&key, &recent, "delivered", now - Duration::days(3)).await;

    let closed: Value = app.lookup(&long_ago, "ana@example.com").await.json().await.unwrap();
    assert_eq!(closed["lines"][0]["returnable_quantity"], 0, "{closed}");
    assert_eq!(closed["lines"][0]["reason"], "window_closed");
    let delivered = (now - Duration::days(40)).date().to_string();
    assert!(closed["delivered_at"].as_str().unwrap().starts_with(&delivered), "{closed}");
    let open: Value = app.lookup(&recent, "ana@example.com").await.json().await.unwrap();
    assert_eq!(open["lines"][0]["returnable_quantity"], 1, "{open}");
    let return_by = (now - Duration::days(3) + Duration::days(30)).date().to_string();
    assert!(open["lines"][0]["return_by"].as_str().unwrap().starts_with(&return_by), "{open}");
}

async fn the_returns_portal_shows_the_delivery_date(app: TestApp) {
    let key = app.api_key("warehouse").await;
    let number = app.confirmed_order("a black tee in M", "ana@example.com").await;
    let delivered = OffsetDateTime::now_utc() - Duration::days(2);
    app.fulfil(&key, &number, "delivered", delivered).await;
    let found = app
        .client
        .post(format!("{}/api/returns/find", app.address))
        .form(&[("order_number", number.as_str()), ("email", "ana@example.com")])
        .send()
        .await
        .unwrap();
    assert!(found.status().is_redirection() || found.status().is_success(), "{}", found.status());
    let page = app.get("/returns").await.text().await.unwrap();
    let day = delivered.date().to_string();
    // Leptos may put a hydration marker (`<!>`) after the text (`--cfg erase_components`).
    assert!(page.contains(&format!("Delivered on <time datetime=\"{day}\">{day}<")), "{page}");
}

async fn the_dashboard_counts_cycle_time_on_time_and_perfect_orders(app: TestApp) {
    use server::staff::accounts::StaffRole;
    let key = app.api_key("warehouse").await;
    let on_time = app.confirmed_order("a black tee in M", "ana@example.com").await;
    let returned = app.confirmed_order("a black tee in M", "ana@example.com").await;
    let waiting = app.confirmed_order("a trail bottle", "ana@example.com").await;
    let now = OffsetDateTime::now_utc();
    for number in [&on_time, &returned] {
        app.fulfil(&key, number, "shipped", now).await;
        app.fulfil(&key, number, "delivered", now).await;
    }
    app.fulfil(&key, &waiting, "shipped", now).await;
    let rma = crate::returns::a_return(&app, &returned, "wrong_item").await;
    assert!(rma.starts_with("R-"), "{rma}");

    app.sign_in_as(StaffRole::Agent).await;
    let found: Value = app.get("/api/v1/staff/metrics").await.json().await.unwrap();
    let delivery = &found["fulfilment"];
    assert_eq!(delivery["delivery_promise_days"], 5);
    assert_eq!(delivery["orders"], 3);
    assert_eq!(delivery["confirmation_to_shipped"]["count"], 3);
    assert_eq!(delivery["confirmation_to_delivered"]["count"], 2);
    assert!(delivery["confirmation_to_delivered"]["p50_seconds"].as_f64().unwrap() >= 0.0);
    // The shipped one is not due for five days: not yet counted either way.
    let ratio =
        |name: &str| (delivery[name]["numerator"].clone(), delivery[name]["denominator"].clone());
    assert_eq!(ratio("on_time"), (json!(2), json!(2)));
    assert_eq!(ratio("on_time_in_full"), (json!(1), json!(2)), "the wrong item was not in full");
    assert_eq!(ratio("perfect_order"), (json!(1), json!(2)));
    assert_eq!(delivery["imperfect_orders"], json!([returned]));
    let page = app.get("/staff/metrics").await.text().await.unwrap();
    assert!(page.contains("Perfect orders") && page.contains("1 of 2"), "the console shows it");
}

/// Admins create and revoke keys over the staff API; the key works until revoked, and
/// is never listed.
async fn admins_manage_api_keys_over_the_staff_api(app: TestApp) {
    use server::staff::accounts::StaffRole;
    let number = app.confirmed_order("a trail bottle", "ana@example.com").await;
    app.sign_in_as(StaffRole::Admin).await;
    let url = format!("{}/api/v1/staff/api-keys", app.address);
    let response =
        app.client.post(&url).json(&json!({ "name": "warehouse" })).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("gk_"), "{created}");
    let (status, code) = error_code(
        app.client.post(&url).json(&json!({ "name": "warehouse" })).send().await.unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (422, "bad_key_name"), "a taken name");
    let (status, _) = error_code(
        app.client.post(&url).json(&json!({ "name": "no/slashes" })).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    let listed: Value = app.get("/api/v1/staff/api-keys").await.json().await.unwrap();
    assert_eq!(listed["api_keys"].as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&key), "a listed key shows the key");

    let shipped = json!({ "status": "shipped" });
    assert_eq!(app.report(&key, &number, &shipped, None).await.status(), 201);
    let id = created["id"].as_str().unwrap();
    let response = app.client.delete(format!("{url}/{id}")).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let delivered = json!({ "status": "delivered" });
    assert_eq!(app.report(&key, &number, &delivered, None).await.status(), 401);
    let response = app.client.delete(format!("{url}/{id}")).send().await.unwrap();
    assert_eq!(response.status(), 404, "revoked twice");
}

/// Agents may not see or make keys.
async fn agents_cannot_manage_api_keys(app: TestApp) {
    app.sign_in_as(server::staff::accounts::StaffRole::Agent).await;
    assert_eq!(app.get("/api/v1/staff/api-keys").await.status(), 403);
    let response = app
        .client
        .post(format!("{}/api/v1/staff/api-keys", app.address))
        .json(&json!({ "name": "warehouse" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(app.db.store.api_keys().await.unwrap().is_empty());
}

on_both_backends!(
    admins_manage_api_keys_over_the_staff_api,
    agents_cannot_manage_api_keys,
    the_dashboard_counts_cycle_time_on_time_and_perfect_orders,
    a_system_reports_shipped_then_delivered,
    the_chat_says_where_a_shipped_order_is_and_will_not_cancel_it,
    return_windows_count_from_the_reported_delivery,
    the_returns_portal_shows_the_delivery_date,
);
