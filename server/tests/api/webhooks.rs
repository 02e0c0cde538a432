//! Webhooks out (CONTRACTS §6) against a real receiver on loopback that verifies every
//! Standard Webhooks signature with the `standardwebhooks` crate, and fails on purpose
//! (500, too slow, refused) where a test asks it to.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::{body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post, Router};
use serde_json::{json, Value};
use server::staff::accounts::StaffRole;

use crate::{
    helpers::{spawn_app_with, Backend, TestApp},
    on_both_backends,
};

/// What the receiver does with the n-th request it gets (0-based).
type Behaviour = Arc<dyn Fn(usize, &Value) -> Answer + Send + Sync>;

#[derive(Clone, Copy)]
enum Answer {
    Ok,
    Status(u16),
    Slow(Duration),
}

#[derive(Debug, Clone)]
struct Received {
    id: String,
    body: Value,
    /// Whether this request's signature verified with the endpoint's secret.
    verified: bool,
    answered: u16,
}

#[derive(Clone)]
struct Receiver {
    secret: Arc<Mutex<Option<String>>>,
    got: Arc<Mutex<Vec<Received>>>,
    count: Arc<AtomicUsize>,
    behaviour: Behaviour,
    /// Requests being answered right now, per webhook-id: two at once is a duplicate.
    in_flight: Arc<Mutex<HashMap<String, usize>>>,
    overlaps: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start(behaviour: Behaviour) -> (Receiver, String) {
        let receiver = Receiver {
            secret: Arc::default(),
            got: Arc::default(),
            count: Arc::default(),
            behaviour,
            in_flight: Arc::default(),
            overlaps: Arc::default(),
        };
        let app = Router::new().route("/hook", post(receive)).with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    fn always_ok() -> Behaviour {
        Arc::new(|_, _| Answer::Ok)
    }

    fn set_secret(&self, secret: &str) {
        *self.secret.lock().unwrap() = Some(secret.to_owned());
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// The accepted (2xx) messages, in the order they were accepted.
    fn accepted(&self) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.answered == 200).collect()
    }

    async fn wait_for(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        for _ in 0..400 {
            let got = self.received();
            if done(&got) {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}; got {:#?}", self.received());
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let n = receiver.count.fetch_add(1, Ordering::SeqCst);
    let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    {
        let mut in_flight = receiver.in_flight.lock().unwrap();
        let now = in_flight.entry(id.clone()).or_default();
        *now += 1;
        if *now > 1 {
            receiver.overlaps.fetch_add(1, Ordering::SeqCst);
        }
    }
    let _leaving = InFlight { receiver: receiver.clone(), id: id.clone() };
    let secret = receiver.secret.lock().unwrap().clone();
    let verified = secret.is_some_and(|secret| {
        standardwebhooks::Webhook::new(&secret).unwrap().verify(&body, &headers).is_ok()
    });
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let answer = (receiver.behaviour)(n, &parsed);
    let status = match answer {
        Answer::Ok => 200,
        Answer::Status(code) => code,
        Answer::Slow(wait) => {
            tokio::time::sleep(wait).await;
            200
        }
    };
    let timed_out = matches!(answer, Answer::Slow(_));
    receiver.got.lock().unwrap().push(Received {
        id: id.clone(),
        body: parsed,
        verified,
        // The sender gave up before a slow answer: not accepted.
        answered: if timed_out { 0 } else { status },
    });
    StatusCode::from_u16(status).unwrap()
}

/// Counts a request out of `in_flight` however it ends, also when the sender hangs up
/// and the handler is dropped.
struct InFlight {
    receiver: Receiver,
    id: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(n) = self.receiver.in_flight.lock().unwrap().get_mut(&self.id) {
            *n -= 1;
        }
    }
}

impl TestApp {
    async fn add_webhook(&self, url: &str, events: &[&str]) -> Value {
        let response = self
            .client
            .post(format!("{}/api/v1/staff/webhooks", self.address))
            .json(&json!({ "url": url, "events": events }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    async fn deliveries(&self, endpoint: &str, query: &str) -> Vec<Value> {
        let response =
            self.get(&format!("/api/v1/staff/webhooks/{endpoint}/deliveries{query}")).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["deliveries"].as_array().unwrap().clone()
    }
}

/// The order numbers and seqs of order messages, in the order received.
fn order_seqs(received: &[Received]) -> Vec<(String, u64)> {
    received
        .iter()
        .filter(|r| r.body["type"].as_str().is_some_and(|t| t.starts_with("order.")))
        .map(|r| {
            (
                r.body["data"]["order"]["number"].as_str().unwrap().to_owned(),
                r.body["data"]["event"]["seq"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn assert_in_seq_order(received: &[Received]) {
    let mut last: HashMap<String, u64> = HashMap::new();
    for (number, seq) in order_seqs(received) {
        let before = last.insert(number.clone(), seq).unwrap_or(0);
        assert!(seq > before, "order {number}: seq {seq} came after {before}");
    }
}

async fn order_and_return_events_reach_a_verifying_receiver(app: TestApp) {
    let (receiver, url) = Receiver::start(Receiver::always_ok()).await;
    app.sign_in_as(StaffRole::Admin).await;
    let created = app.add_webhook(&url, &["order.*", "return.*"]).await;
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{created}");
    assert_eq!(created["events"], json!(["order.*", "return.*"]));
    receiver.set_secret(secret);
    // The secret is shown once: the list does not have it.
    let listed: Value = app.get("/api/v1/staff/webhooks").await.json().await.unwrap();
    assert_eq!(listed["webhooks"][0]["id"], created["id"]);
    assert!(!listed.to_string().contains("whsec_"), "{listed}");

    let number = app.confirmed_order("two black tees in M", "ana@example.com").await;
    let got = receiver
        .wait_for("order.confirmed", |got| got.iter().any(|r| r.body["type"] == "order.confirmed"))
        .await;
    assert!(got.iter().all(|r| r.verified), "a signature did not verify");
    assert_in_seq_order(&got);
    let seqs: Vec<u64> = order_seqs(&got).into_iter().map(|(_, seq)| seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "every event, once, in order");
    let confirmed = got.iter().find(|r| r.body["type"] == "order.confirmed").unwrap();
    let order = &confirmed.body["data"]["order"];
    assert_eq!(order["number"], number.as_str());
    assert_eq!(order["status"], "confirmed");
    assert_eq!(order["lines"][0]["sku"], "TEE");
    assert_eq!(order["lines"][0]["quantity"], 2);
    assert_eq!(order["customer"]["email"], "ana@example.com");
    assert!(order["totals"]["total"].as_i64().unwrap() > 0);
    let event = &confirmed.body["data"]["event"];
    assert_eq!(event["type"], "confirmed");
    assert_eq!(confirmed.id, event["id"].as_str().unwrap(), "webhook-id is the event id");
    assert_eq!(confirmed.body["timestamp"], event["at"]);
    // The first message shows the order as its event left it: a draft with one line.
    let first = got.iter().find(|r| r.body["data"]["event"]["seq"] == 1).unwrap();
    assert_eq!(first.body["data"]["order"]["status"], "draft");
    // A receiver in Rust reads every message with the contract's own types.
    for message in &got {
        let typed: gapless_api::webhooks::WebhookMessage<gapless_api::webhooks::OrderData> =
            serde_json::from_value(message.body.clone()).expect("an order message");
        assert_eq!(serde_json::to_value(&typed).unwrap(), message.body);
    }

    // A return's events follow, with the return as each left it.
    let response = app
        .client
        .post(format!("{}/api/v1/returns", app.address))
        .json(&json!({
            "order_number": number, "email": "ana@example.com", "resolution": "refund",
            "items": [ { "line": 0, "quantity": 1, "reason": "too_small" } ]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let created_return: Value = response.json().await.unwrap();
    let got = receiver
        .wait_for("return.approved", |got| got.iter().any(|r| r.body["type"] == "return.approved"))
        .await;
    let requested = got.iter().find(|r| r.body["type"] == "return.requested").unwrap();
    assert_eq!(requested.body["data"]["order_number"], number.as_str());
    assert_eq!(requested.body["data"]["return"]["rma"], created_return["rma"]);
    assert_eq!(requested.body["data"]["return"]["status"], "requested");
    let approved = got.iter().find(|r| r.body["type"] == "return.approved").unwrap();
    assert_eq!(approved.body["data"]["return"]["status"], "approved");
    assert_eq!(approved.body["data"]["return"]["items"][0]["quantity"], 1);
    assert!(got.iter().all(|r| r.verified));

    // The console's view: every one delivered, with its answer and latency.
    let endpoint = created["id"].as_str().unwrap();
    // The worker records each answer just after the receiver gave it.
    let mut deliveries = Vec::new();
    for _ in 0..200 {
        deliveries = app.deliveries(endpoint, "").await;
        if deliveries.iter().all(|d| d["status"] == "delivered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = receiver.received();
    assert_eq!(deliveries.len(), got.len());
    assert!(deliveries.iter().all(|d| d["status"] == "delivered" && d["last_status"] == 200));
    assert!(deliveries.iter().all(|d| d["attempts"] == 1 && d["last_latency_ms"].is_u64()));
}

async fn failed_attempts_are_retried_in_order_and_can_be_sent_again(app: TestApp) {
    // Every message's first attempt is refused with a 500; the second is taken.
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let tries = seen.clone();
    let (receiver, url) = Receiver::start(Arc::new(move |_, body| {
        let id = body["data"]["event"]["id"].as_str().unwrap_or("").to_owned();
        let mut tries = tries.lock().unwrap();
        let n = tries.entry(id).or_default();
        *n += 1;
        if *n == 1 {
            Answer::Status(500)
        } else {
            Answer::Ok
        }
    }))
    .await;
    app.sign_in_as(StaffRole::Admin).await;
    let created = app.add_webhook(&url, &["order.confirmed", "order.line_added"]).await;
    receiver.set_secret(created["secret"].as_str().unwrap());
    let number =
        app.confirmed_order("two black tees in M and a trail bottle", "ana@example.com").await;
    let got = receiver
        .wait_for("order.confirmed accepted", |got| {
            got.iter().any(|r| r.body["type"] == "order.confirmed" && r.answered == 200)
        })
        .await;
    // Each message twice (500, then 200), with the same webhook-id both times.
    let accepted = receiver.accepted();
    assert!(accepted.len() >= 2, "{got:#?}");
    for message in &accepted {
        let attempts: Vec<_> = got.iter().filter(|r| r.id == message.id).collect();
        assert_eq!(attempts.len(), 2, "{}", message.id);
        assert_eq!(attempts[0].answered, 500);
    }
    // Only the filtered types, in seq order, the next never before the one before it.
    assert!(accepted
        .iter()
        .all(|r| { r.body["type"] == "order.confirmed" || r.body["type"] == "order.line_added" }));
    assert_in_seq_order(&got.iter().filter(|r| r.answered == 200).cloned().collect::<Vec<_>>());
    let confirmed_at = got.iter().position(|r| r.body["type"] == "order.confirmed").unwrap();
    let lines_done = got.iter().rposition(|r| r.body["type"] == "order.line_added").unwrap();
    assert!(confirmed_at > lines_done, "order.confirmed was sent before the lines were delivered");
    assert_eq!(order_seqs(&accepted).iter().filter(|(n, _)| *n == number).count(), accepted.len());

    let endpoint = created["id"].as_str().unwrap();
    let deliveries = app.deliveries(endpoint, "?status=delivered").await;
    assert!(deliveries.iter().all(|d| d["attempts"] == 2), "{deliveries:#?}");

    // The retries ran out (the deadline moved back by a day behind the app's back): the
    // next failure gives up, staff see it failed and send it again.
    let (failing, failing_url) = Receiver::start(Arc::new(|_, _| Answer::Status(503))).await;
    let second = app.add_webhook(&failing_url, &["order.confirmed"]).await;
    failing.set_secret(second["secret"].as_str().unwrap());
    let second_id = second["id"].as_str().unwrap();
    app.confirmed_order("a trail bottle", "bo@example.com").await;
    failing.wait_for("a first attempt", |got| !got.is_empty()).await;
    app.execute_sql(&format!(
        "UPDATE webhook_deliveries SET first_attempt_ms = first_attempt_ms - 90000000,
                next_attempt_ms = 0 WHERE endpoint_id = '{second_id}'"
    ))
    .await;
    let mut failed = Vec::new();
    for _ in 0..200 {
        failed = app.deliveries(second_id, "?status=failed").await;
        if !failed.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(failed.len(), 1, "the message was not given up on");
    assert_eq!(failed[0]["last_status"], 503);
    assert_eq!(failed[0]["last_error"], "HTTP 503");
    let metrics = app.scrape().await.text().await.unwrap();
    assert!(metrics.contains("gapless_webhook_failed_messages 1"), "{metrics}");
    assert!(metrics.contains("gapless_webhook_attempts_total{outcome=\"failed\"} 1"), "{metrics}");
    assert!(metrics.contains("gapless_webhook_attempts_total{outcome=\"retry\"}"), "{metrics}");

    // Send again to a receiver that now takes it: delivered.
    let (fixed, fixed_url) = Receiver::start(Receiver::always_ok()).await;
    fixed.set_secret(second["secret"].as_str().unwrap());
    app.execute_sql(&format!(
        "UPDATE webhook_endpoints SET url = '{fixed_url}' WHERE id = '{second_id}'"
    ))
    .await;
    let delivery = failed[0]["id"].as_i64().unwrap();
    let retry = |delivery: i64| {
        app.client
            .post(format!(
                "{}/api/v1/staff/webhooks/{second_id}/deliveries/{delivery}/retry",
                app.address
            ))
            .send()
    };
    assert_eq!(retry(delivery).await.unwrap().status(), 202);
    let got = fixed.wait_for("the message sent again", |got| !got.is_empty()).await;
    assert!(got[0].verified);
    assert_eq!(got[0].body["type"], "order.confirmed");
    // Only a failed delivery can be sent again.
    for _ in 0..200 {
        if app.deliveries(second_id, "?status=delivered").await.len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(retry(delivery).await.unwrap().status(), 422);
}

async fn only_admins_manage_webhooks_and_bad_input_changes_nothing(app: TestApp) {
    app.sign_in_as(StaffRole::Agent).await;
    let response = app
        .client
        .post(format!("{}/api/v1/staff/webhooks", app.address))
        .json(&json!({ "url": "http://127.0.0.1:9/hook" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(app.get("/api/v1/staff/webhooks").await.status(), 403);

    let admin = crate::helpers::spawn_app(Backend::Sqlite).await.unwrap();
    admin.sign_in_as(StaffRole::Admin).await;
    for (body, code) in [
        (json!({ "url": "ftp://crm.example/hook" }), "bad_url"),
        (json!({ "url": "not a url" }), "bad_url"),
        (json!({ "url": "https://crm.example/hook", "events": ["order.shiped"] }), "bad_events"),
        (json!({ "url": "https://crm.example/hook", "events": ["orders.*"] }), "bad_events"),
    ] {
        let response = admin
            .client
            .post(format!("{}/api/v1/staff/webhooks", admin.address))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], code, "{error}");
    }
    let response = admin
        .client
        .post(format!("{}/api/v1/staff/webhooks", admin.address))
        .json(&json!({ "url": "https://crm.example/hook", "surprise": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let listed: Value = admin.get("/api/v1/staff/webhooks").await.json().await.unwrap();
    assert_eq!(listed["webhooks"], json!([]), "a refused endpoint was stored");
    assert_eq!(admin.get("/api/v1/staff/webhooks/ep_nope/deliveries").await.status(), 404);
    let response = admin
        .client
        .delete(format!("{}/api/v1/staff/webhooks/ep_nope", admin.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

async fn a_test_event_pause_and_removal(app: TestApp) {
    let (receiver, url) = Receiver::start(Receiver::always_ok()).await;
    app.sign_in_as(StaffRole::Admin).await;
    let created = app.add_webhook(&url, &["*"]).await;
    receiver.set_secret(created["secret"].as_str().unwrap());
    let id = created["id"].as_str().unwrap();
    let response =
        app.client.post(format!("{}/api/v1/staff/webhooks/{id}/test", app.address)).send().await;
    assert_eq!(response.unwrap().status(), 202);
    let got = receiver.wait_for("the test event", |got| !got.is_empty()).await;
    assert_eq!(got[0].body["type"], "webhook.test");
    assert!(got[0].verified);

    // Paused: messages queue up and none is sent; resumed: they go.
    let response = app
        .client
        .patch(format!("{}/api/v1/staff/webhooks/{id}", app.address))
        .json(&json!({ "paused": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let endpoint: Value = response.json().await.unwrap();
    assert_eq!(endpoint["paused"], true);
    let chat = app.start_chat().await;
    app.say(&chat, "a trail bottle").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(receiver.received().len(), 1, "a paused endpoint was sent a message");
    let pending = app.deliveries(id, "?status=pending").await;
    assert!(!pending.is_empty());
    app.client
        .patch(format!("{}/api/v1/staff/webhooks/{id}", app.address))
        .json(&json!({ "paused": false }))
        .send()
        .await
        .unwrap();
    receiver.wait_for("the queued messages", |got| got.len() > 1).await;

    let response =
        app.client.delete(format!("{}/api/v1/staff/webhooks/{id}", app.address)).send().await;
    assert_eq!(response.unwrap().status(), 204);
    let listed: Value = app.get("/api/v1/staff/webhooks").await.json().await.unwrap();
    assert_eq!(listed["webhooks"], json!([]));
}

on_both_backends!(
    order_and_return_events_reach_a_verifying_receiver,
    failed_attempts_are_retried_in_order_and_can_be_sent_again,
    only_admins_manage_webhooks_and_bad_input_changes_nothing,
    a_test_event_pause_and_removal,
);

/// A receiver slower than the timeout, then one that refuses connections: both count as
/// failed attempts, are retried, and the message arrives once the receiver answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_receiver_times_out_and_is_retried() {
    let app = spawn_app_with(Backend::Sqlite, |args| args.webhook_timeout_ms = 300).await.unwrap();
    let (receiver, url) = Receiver::start(Arc::new(|n, _| {
        if n == 0 {
            Answer::Slow(Duration::from_millis(1_500))
        } else {
            Answer::Ok
        }
    }))
    .await;
    app.sign_in_as(StaffRole::Admin).await;
    let created = app.add_webhook(&url, &["*"]).await;
    receiver.set_secret(created["secret"].as_str().unwrap());
    let id = created["id"].as_str().unwrap();
    app.client
        .post(format!("{}/api/v1/staff/webhooks/{id}/test", app.address))
        .send()
        .await
        .unwrap();
    let got = receiver.wait_for("the retry", |got| got.iter().any(|r| r.answered == 200)).await;
    // The sender hung up on the slow first attempt (the receiver's handler was dropped
    // with the connection): two requests came, one was answered.
    assert_eq!(receiver.count.load(Ordering::SeqCst), 2);
    assert_eq!(got.len(), 1);
    let delivered = app.deliveries(id, "?status=delivered").await;
    assert_eq!(delivered[0]["attempts"], 2);

    // Nobody listening: "could not connect", retried, not lost.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let gone = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let created = app.add_webhook(&gone, &["*"]).await;
    let id = created["id"].as_str().unwrap();
    app.client
        .post(format!("{}/api/v1/staff/webhooks/{id}/test", app.address))
        .send()
        .await
        .unwrap();
    let mut pending = Vec::new();
    for _ in 0..200 {
        pending = app.deliveries(id, "?status=pending").await;
        if pending.first().is_some_and(|d| d["attempts"] == 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(pending[0]["last_error"], "could not connect", "{pending:#?}");
    assert!(pending[0]["next_attempt_at"].is_string());
}

/// Two app servers on one PostgreSQL, both running the worker: every message is
/// delivered, none twice at the same time (or at all, with no failure to cause it), and
/// each order's in seq order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_app_servers_share_the_work_without_duplicates() {
    let Some(app) = crate::helpers::spawn_app(Backend::Postgres).await else { return };
    let second = app.another_server().await;
    let (receiver, url) = Receiver::start(Receiver::always_ok()).await;
    app.sign_in_as(StaffRole::Admin).await;
    let created = app.add_webhook(&url, &["order.*"]).await;
    receiver.set_secret(created["secret"].as_str().unwrap());

    for i in 0..6 {
        let address = if i % 2 == 0 { app.address.clone() } else { second.clone() };
        let chat = app.start_chat().await;
        app.say_at(&address, &chat, "two black tees in M").await;
        app.say_at(&address, &chat, "and a trail bottle").await;
    }
    let endpoint = created["id"].as_str().unwrap();
    let mut deliveries = Vec::new();
    for _ in 0..400 {
        deliveries = app.deliveries(endpoint, "?limit=500").await;
        if deliveries.len() >= 12 && deliveries.iter().all(|d| d["status"] == "delivered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(deliveries.len() >= 12, "{deliveries:#?}");
    assert!(deliveries.iter().all(|d| d["status"] == "delivered" && d["attempts"] == 1));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all = receiver.received();
    assert_eq!(all.len(), deliveries.len(), "a message was sent twice: {all:#?}");
    let ids: std::collections::HashSet<&str> = all.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), all.len(), "a webhook-id arrived twice");
    assert_eq!(receiver.overlaps.load(Ordering::SeqCst), 0);
    assert!(all.iter().all(|r| r.verified));
    assert_in_seq_order(&all);
}
