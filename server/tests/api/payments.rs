//! Payments through Stripe Checkout (CONTRACTS §8), against a fake Stripe on loopback:
//! a confirmation makes a payment link, Stripe's signed webhook marks the order paid
//! (once, however often it is sent) or expired (giving the stock back), a bad signature
//! changes nothing, and Stripe being down places no order.

use std::time::Duration;

use serde_json::Value;
use server::payments::{
    sweep::{sweep_once, SweepSettings, Swept},
    PaymentArgs, PaymentMode,
};
use time::OffsetDateTime;

use crate::{
    fake_stripe::{FakeStripe, SECRET_KEY, WEBHOOK_SECRET},
    helpers::{spawn_app, spawn_app_with, Backend, TestApp},
};

/// `GAPLESS_PAYMENTS=stripe` against the fake Stripe at `base`.
fn stripe_args(base: String) -> PaymentArgs {
    PaymentArgs {
        mode: PaymentMode::Stripe,
        stripe_api_base: base,
        stripe_secret_key: Some(SECRET_KEY.to_owned().into()),
        stripe_webhook_secret: Some(WEBHOOK_SECRET.to_owned().into()),
        hold_minutes: 30,
        return_url: Some("https://shop.example/".into()),
        // Long enough that a loaded test machine does not turn a slow answer into a
        // retry (a retry is safe, but the tests count Stripe's calls).
        stripe_timeout_ms: 10_000,
        stripe_attempts: 3,
        // The tests run the sweep themselves, at the time they choose.
        sweep_seconds: 0,
    }
}

/// An app with `GAPLESS_PAYMENTS=stripe` against a fresh fake Stripe.
pub(crate) async fn spawn_paying_app(backend: Backend) -> Option<(TestApp, FakeStripe)> {
    let fake = FakeStripe::start().await;
    let base = fake.address.clone();
    let app = spawn_app_with(backend, move |args| args.payments = stripe_args(base)).await?;
    Some((app, fake))
}

/// One round of the payment sweep at time `at`, as the server runs it.
async fn sweep(app: &TestApp, fake: &FakeStripe, at: OffsetDateTime) -> Swept {
    let payments = stripe_args(fake.address.clone()).payments().unwrap().unwrap();
    sweep_once(app.db.store.as_ref(), &payments, SweepSettings::default(), at).await.unwrap()
}

macro_rules! paying_on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let (app, fake) = super::spawn_paying_app(crate::helpers::Backend::Sqlite).await.unwrap();
                super::$test(app, fake).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let Some((app, fake)) = super::spawn_paying_app(crate::helpers::Backend::Postgres).await
                else { return };
                super::$test(app, fake).await;
            })*
        }
    };
}

impl TestApp {
    /// A chat that has an order for `items` summarised and awaiting "yes".
    async fn summarised(&self, items: &str) -> String {
        let chat = self.start_chat().await;
        self.say(&chat, items).await;
        self.say(&chat, "my name is Ana Ruiz, ana@example.com").await;
        self.say(&chat, "ship to 12 Main St, Springfield, 62701, US").await;
        self.say(&chat, "confirm").await;
        chat
    }

    async fn order_of(&self, chat: &str) -> Value {
        let response = self.get(&format!("/api/v1/conversations/{chat}")).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["order"].clone()
    }

    pub(crate) async fn event_types(&self, number: &str) -> Vec<String> {
        let summary = self.db.store.order_summary(number).await.unwrap().unwrap();
        let events = self.db.store.order_events(&summary.id).await.unwrap();
        events.into_iter().map(|e| e.event_type).collect()
    }

    /// The topics of the outbox rows, read behind the app's back.
    pub(crate) async fn outbox_topics(&self) -> Vec<String> {
        let sql = "SELECT topic FROM outbox ORDER BY id";
        if self.db.url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.db.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap()
        } else {
            let pool = sqlx::PgPool::connect(&self.db.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap()
        }
    }

    pub(crate) async fn reserved(&self) -> u32 {
        self.db.store.stock_levels().await.unwrap().values().map(|level| level.reserved).sum()
    }
}

fn session_id(order: &Value) -> String {
    let url = order["payment"]["url"].as_str().expect("a payment link");
    url.rsplit('/').next().unwrap().to_owned()
}

async fn outcome(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["outcome"].as_str().unwrap().to_owned()
}

async fn a_confirmed_order_gets_a_payment_link_and_is_paid_once(app: TestApp, fake: FakeStripe) {
    let chat = app.summarised("two black tees in M").await;
    let done = app.say(&chat, "yes").await;
    let order = &done["order"];
    assert_eq!(order["status"], "confirmed", "{done}");
    assert_eq!(order["payment"]["status"], "pending");
    assert_eq!(order["payment"]["amount"], 5000);
    let url = order["payment"]["url"].as_str().unwrap();
    assert!(done["reply"].as_str().unwrap().contains(url), "the reply gives the link: {done}");
    let number = order["number"].as_str().unwrap().to_owned();

    // Stripe was asked for the stored order's lines at the catalog's prices.
    let calls = fake.calls("/v1/checkout/sessions");
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.field("mode"), Some("payment"));
    assert_eq!(call.field("client_reference_id"), Some(number.as_str()));
    assert_eq!(call.field("line_items[0][price_data][currency]"), Some("usd"));
    assert_eq!(call.field("line_items[0][price_data][unit_amount]"), Some("2500"));
    assert_eq!(call.field("line_items[0][quantity]"), Some("2"));
    assert_eq!(call.field("customer_email"), Some("ana@example.com"));
    assert!(call.idempotency_key.as_deref().is_some_and(|k| k.starts_with("gapless-checkout-")));

    let reply = app.say(&chat, "did my payment go through?").await;
    assert!(reply["reply"].as_str().unwrap().starts_with("I haven't received your payment yet"));

    let paid = fake.pay(&session_id(order));
    assert_eq!(outcome(FakeStripe::deliver(&app.address, &paid).await).await, "recorded");
    let order = app.order_of(&chat).await;
    assert_eq!(order["status"], "confirmed");
    assert_eq!(order["payment"]["status"], "paid", "{order}");
    assert_eq!(order["payment"]["paid"], 5000);
    assert!(order["payment"].get("url").is_none(), "a paid link is not shown: {order}");
    assert_eq!(
        app.event_types(&number).await.iter().rev().take(3).rev().collect::<Vec<_>>(),
        ["confirmed", "payment_requested", "paid"]
    );
    let reply = app.say(&chat, "did my payment go through?").await;
    assert_eq!(reply["reply"], "Yes, your payment of $50.00 went through.");

    // Stripe sends the same event again (and again, later): nothing changes.
    for _ in 0..2 {
        assert_eq!(outcome(FakeStripe::deliver(&app.address, &paid).await).await, "duplicate");
    }
    let events = app.event_types(&number).await;
    assert_eq!(events.iter().filter(|e| *e == "paid").count(), 1, "{events:?}");
    // The shop's systems hear it as `order.paid`.
    let topics = app.outbox_topics().await;
    for topic in ["order.payment_requested", "order.paid"] {
        assert_eq!(topics.iter().filter(|t| *t == topic).count(), 1, "{topics:?}");
    }
}

async fn an_expired_payment_cancels_the_order_and_gives_the_stock_back(
    app: TestApp,
    fake: FakeStripe,
) {
    let before = app.reserved().await;
    let chat = app.summarised("two black tees in M").await;
    let done = app.say(&chat, "yes").await;
    assert!(app.reserved().await > before, "the unpaid order holds its stock");
    let number = done["order"]["number"].as_str().unwrap().to_owned();

    let expired = fake.expire(&session_id(&done["order"]));
    assert_eq!(outcome(FakeStripe::deliver(&app.address, &expired).await).await, "recorded");
    let order = app.order_of(&chat).await;
    assert_eq!(order["status"], "cancelled");
    assert_eq!(order["payment"]["status"], "expired");
    assert_eq!(app.reserved().await, before, "the stock is back");
    assert_eq!(outcome(FakeStripe::deliver(&app.address, &expired).await).await, "duplicate");
    assert_eq!(app.reserved().await, before, "and not given back twice");
    assert_eq!(app.event_types(&number).await.last().unwrap(), "payment_expired");
    let reply = app.say(&chat, "did my payment go through?").await;
    assert!(reply["reply"].as_str().unwrap().contains("expired"), "{reply}");
}

async fn a_bad_or_stale_signature_changes_nothing(app: TestApp, fake: FakeStripe) {
    let chat = app.summarised("two black tees in M").await;
    let done = app.say(&chat, "yes").await;
    let number = done["order"]["number"].as_str().unwrap().to_owned();
    let events = app.event_types(&number).await;
    let paid = fake.pay(&session_id(&done["order"]));
    let url = format!("{}/api/v1/payments/stripe/webhook", app.address);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let attempts = [
        FakeStripe::deliver_signed(&url, &paid, "whsec_wrong", now).await,
        FakeStripe::deliver_signed(&url, &paid, WEBHOOK_SECRET, now - 301).await,
        FakeStripe::deliver_signed(&url, &paid, WEBHOOK_SECRET, now + 3600).await,
        app.client
            .post(&url)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&paid).unwrap())
            .send()
            .await
            .unwrap(),
    ];
    for response in attempts {
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad_signature", "{body}");
    }
    // A body changed after signing.
    let body = serde_json::to_vec(&paid).unwrap();
    let signature = crate::fake_stripe::sign(WEBHOOK_SECRET, now, &body);
    let mut tampered = paid.clone();
    tampered["data"]["object"]["amount_total"] = 1.into();
    let response = app
        .client
        .post(&url)
        .header("Stripe-Signature", format!("t={now},v1={signature}"))
        .body(serde_json::to_vec(&tampered).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(app.event_types(&number).await, events, "nothing was written");
    assert_eq!(app.order_of(&chat).await["payment"]["status"], "pending");
    // The genuine event still counts afterwards.
    assert_eq!(outcome(FakeStripe::deliver(&app.address, &paid).await).await, "recorded");
}

async fn stripe_down_at_confirmation_places_nothing(app: TestApp, fake: FakeStripe) {
    let before = app.reserved().await;
    let chat = app.summarised("two black tees in M").await;
    fake.set_down(true);
    let done = app.say(&chat, "yes").await;
    assert_eq!(done["order"]["status"], "draft", "{done}");
    assert_eq!(done["order"]["payment"]["status"], "not_required");
    assert!(done["reply"].as_str().unwrap().contains("not placed yet"), "{done}");
    let codes: Vec<&str> =
        done["messages"].as_array().unwrap().iter().filter_map(|m| m["code"].as_str()).collect();
    assert!(codes.contains(&"payment_unavailable"), "{done}");
    assert_eq!(app.reserved().await, before, "nothing reserved");
    // Tried three times with one Idempotency-Key, so Stripe makes at most one session.
    let calls = fake.calls("/v1/checkout/sessions");
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|c| c.idempotency_key == calls[0].idempotency_key));

    fake.set_down(false);
    let done = app.say(&chat, "confirm").await;
    assert_eq!(done["order"]["status"], "confirmed", "{done}");
    assert_eq!(done["order"]["payment"]["status"], "pending");
}

async fn an_unpaid_order_does_not_ship_and_a_cancelled_one_ends_its_link(
    app: TestApp,
    fake: FakeStripe,
) {
    let chat = app.summarised("two black tees in M").await;
    let done = app.say(&chat, "yes").await;
    let number = done["order"]["number"].as_str().unwrap().to_owned();
    let key = app.api_key("warehouse").await;
    let shipped = serde_json::json!({ "status": "shipped" });
    let response = app.report(&key, &number, &shipped, None).await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unpaid", "{body}");

    let session = session_id(&done["order"]);
    let cancelled = app.say(&chat, "cancel my order").await;
    assert_eq!(cancelled["order"]["status"], "cancelled", "{cancelled}");
    assert_eq!(fake.calls(&format!("/v1/checkout/sessions/{session}/expire")).len(), 1);
    // Stripe then says the session expired: recorded, nothing more to give back.
    let reserved = app.reserved().await;
    let expired = fake.expire(&session);
    assert_eq!(outcome(FakeStripe::deliver(&app.address, &expired).await).await, "recorded");
    assert_eq!(app.order_of(&chat).await["payment"]["status"], "expired");
    assert_eq!(app.reserved().await, reserved);
}

/// A paid order: the chat, the order number and the PaymentIntent Stripe paid it with.
async fn paid_order(app: &TestApp, fake: &FakeStripe) -> (String, String, String) {
    let chat = app.summarised("two black tees in M").await;
    let done = app.say(&chat, "yes").await;
    let session = session_id(&done["order"]);
    let paid = fake.pay(&session);
    assert_eq!(outcome(FakeStripe::deliver(&app.address, &paid).await).await, "recorded");
    let intent = fake.session(&session)["payment_intent"].as_str().unwrap().to_owned();
    (chat, done["order"]["number"].as_str().unwrap().to_owned(), intent)
}

async fn a_refund_on_a_paid_order_moves_the_money_once(app: TestApp, fake: FakeStripe) {
    let (chat, number, intent) = paid_order(&app, &fake).await;
    let rma = crate::returns::a_return(&app, &number, "changed_mind").await;
    app.sign_in_staff().await;
    let received = app.staff_records(&rma, serde_json::json!({ "type": "received" })).await;
    assert_eq!(received.status(), 200);

    // Stripe refuses: the staff member sees why, and nothing is recorded.
    fake.refuse_refunds(true);
    let failed = app.staff_records(&rma, serde_json::json!({ "type": "refunded" })).await;
    assert_eq!(failed.status(), 502);
    let body: Value = failed.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payment_provider");
    assert!(body["error"]["message"].as_str().unwrap().contains("refunds refused for a test"));
    assert_eq!(fake.refunded(&intent), 0);
    // Stripe down: the same.
    fake.refuse_refunds(false);
    fake.set_down(true);
    let down = app.staff_records(&rma, serde_json::json!({ "type": "refunded" })).await;
    assert_eq!(down.status(), 502);
    fake.set_down(false);
    let status: Value = app
        .get(&format!("/api/v1/returns/{rma}?email=ana@example.com"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "received", "still waiting for the money: {status}");

    // Tried again: sent once, recorded once, with one idempotency key for the event.
    let refunded: Value = app
        .staff_records(&rma, serde_json::json!({ "type": "refunded" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(refunded["status"], "refunded", "{refunded}");
    assert_eq!(refunded["refund_amount"], 2250);
    assert_eq!(fake.refunded(&intent), 2250);
    let calls = fake.calls("/v1/refunds");
    assert!(calls.iter().all(|c| c.idempotency_key == calls[0].idempotency_key), "{calls:?}");
    assert_eq!(calls.last().unwrap().field("amount"), Some("2250"));
    assert_eq!(calls.last().unwrap().field("payment_intent"), Some(intent.as_str()));
    let order = app.order_of(&chat).await;
    assert_eq!(order["payment"]["status"], "partially_refunded", "{order}");
    assert_eq!(order["payment"]["refunded"], 2250);
    assert_eq!(app.event_types(&number).await.last().unwrap(), "refunded");
    let reply = app.say(&chat, "did my payment go through?").await;
    assert!(reply["reply"].as_str().unwrap().contains("$22.50 of it has been refunded"), "{reply}");

    // Staff read the payment and its events on the order's page, appended by the system.
    let found: Value =
        app.get(&format!("/api/v1/staff/orders/{number}")).await.json().await.unwrap();
    let events: Vec<(&str, &str)> = found["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["type"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        events[events.len() - 4..],
        [
            ("confirmed", "shopper"),
            ("payment_requested", "shopper"),
            ("paid", "system"),
            ("refunded", "system")
        ]
    );
    let page = app.get(&format!("/staff/orders/{number}")).await.text().await.unwrap();
    assert!(
        page.contains("partially refunded, paid $50.00, refunded $22.50"),
        "the payment is shown"
    );

    // The dashboard: paid of the orders with a link, and the refund cycle in its parts
    // (the money sent is where it ends).
    let unpaid = app.summarised("two black tees in M").await;
    app.say(&unpaid, "yes").await;
    let found: Value = app.get("/api/v1/staff/metrics").await.json().await.unwrap();
    assert_eq!(
        (&found["paid_conversion"]["numerator"], &found["paid_conversion"]["denominator"]),
        (&1.into(), &2.into()),
        "{found}"
    );
    let cycle = &found["refund_cycle"];
    assert_eq!(cycle["completed"], 1, "{cycle}");
    for part in ["request_to_receipt", "receipt_to_complete", "request_to_complete"] {
        assert_eq!(cycle[part]["count"], 1, "{part}: {cycle}");
    }
    let whole = cycle["request_to_complete"]["p50_seconds"].as_f64().unwrap();
    let parts = cycle["request_to_receipt"]["p50_seconds"].as_f64().unwrap()
        + cycle["receipt_to_complete"]["p50_seconds"].as_f64().unwrap();
    assert!((whole - parts).abs() < 0.001, "{whole} = {parts}");
    let page = app.get("/staff/metrics").await.text().await.unwrap();
    for label in ["Paid, of orders with a payment link", "1 of 2", "received → money sent"] {
        assert!(page.contains(label), "{label} on the dashboard: {page}");
    }
}

async fn a_refund_is_never_more_than_what_was_paid(app: TestApp, fake: FakeStripe) {
    let (_, number, intent) = paid_order(&app, &fake).await;
    let rma = crate::returns::a_return(&app, &number, "changed_mind").await;
    app.sign_in_staff().await;
    app.staff_records(&rma, serde_json::json!({ "type": "received" })).await;
    let over = app
        .staff_records(
            &rma,
            serde_json::json!({ "type": "refunded", "amount": 5001, "override_reason": "goodwill" }),
        )
        .await;
    assert_eq!(over.status(), 422);
    let body: Value = over.json().await.unwrap();
    assert_eq!(body["error"]["code"], "refund_over_paid", "{body}");
    assert!(fake.calls("/v1/refunds").is_empty(), "Stripe was not asked");
    assert_eq!(fake.refunded(&intent), 0);
}

paying_on_both_backends!(
    a_confirmed_order_gets_a_payment_link_and_is_paid_once,
    an_expired_payment_cancels_the_order_and_gives_the_stock_back,
    a_bad_or_stale_signature_changes_nothing,
    stripe_down_at_confirmation_places_nothing,
    an_unpaid_order_does_not_ship_and_a_cancelled_one_ends_its_link,
    a_refund_on_a_paid_order_moves_the_money_once,
    a_refund_is_never_more_than_what_was_paid,
    a_paid_order_cancelled_in_the_chat_is_refunded,
    a_refund_stripe_refused_is_sent_by_the_sweep,
    a_payment_for_an_order_cancelled_meanwhile_goes_back,
    links_whose_webhook_never_came_are_settled_by_the_sweep,
    an_unpaid_order_cannot_be_returned,
);

/// Polls the chat's order until its payment has `status` (a refund is sent in the
/// background, after the answer).
async fn payment_becomes(app: &TestApp, chat: &str, status: &str) -> Value {
    for _ in 0..100 {
        let order = app.order_of(chat).await;
        if order["payment"]["status"] == status {
            return order;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the payment never became {status}: {}", app.order_of(chat).await);
}

async fn a_paid_order_cancelled_in_the_chat_is_refunded(app: TestApp, fake: FakeStripe) {
    let before = app.reserved().await;
    let (chat, number, intent) = paid_order(&app, &fake).await;
    let cancelled = app.say(&chat, "cancel my order").await;
    assert_eq!(cancelled["order"]["status"], "cancelled", "{cancelled}");
    assert!(
        cancelled["reply"]
            .as_str()
            .unwrap()
            .ends_with("The $50.00 you paid is being refunded to your original payment method."),
        "{cancelled}"
    );
    assert_eq!(app.reserved().await, before, "the stock is back");
    let order = payment_becomes(&app, &chat, "refunded").await;
    assert_eq!(order["payment"]["refunded"], 5000, "{order}");
    assert_eq!(fake.refunded(&intent), 5000);
    // Sent once: a retry (a slow answer on a loaded machine) carries the same key, and
    // Stripe gives the same refund back.
    let calls = fake.calls("/v1/refunds");
    assert!(calls.iter().all(|c| c.idempotency_key == calls[0].idempotency_key), "{calls:?}");
    assert_eq!(calls[0].field("amount"), Some("5000"));
    assert_eq!(calls[0].field("payment_intent"), Some(intent.as_str()));
    assert_eq!(calls[0].field("reason"), Some("requested_by_customer"));
    assert!(calls[0]
        .idempotency_key
        .as_deref()
        .is_some_and(|k| k.starts_with("gapless-cancel-refund-")));
    let events = app.event_types(&number).await;
    assert_eq!(events[events.len() - 2..], ["cancelled", "refunded"], "{events:?}");
    let topics = app.outbox_topics().await;
    assert_eq!(topics.iter().filter(|t| *t == "order.refunded").count(), 1, "{topics:?}");
    let reply = app.say(&chat, "did my payment go through?").await;
    assert!(reply["reply"].as_str().unwrap().contains("$50.00 has been refunded"), "{reply}");
    // Nothing is left for the sweep.
    let now = OffsetDateTime::now_utc();
    assert_eq!(sweep(&app, &fake, now).await, Swept::default());
    assert_eq!(fake.calls("/v1/refunds").len(), calls.len(), "the sweep asked for nothing");
    assert_eq!(fake.refunded(&intent), 5000);
}

async fn a_refund_stripe_refused_is_sent_by_the_sweep(app: TestApp, fake: FakeStripe) {
    let (chat, number, intent) = paid_order(&app, &fake).await;
    fake.refuse_refunds(true);
    let cancelled = app.say(&chat, "cancel my order").await;
    assert_eq!(cancelled["order"]["status"], "cancelled", "{cancelled}");
    for _ in 0..100 {
        if !fake.calls("/v1/refunds").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!fake.calls("/v1/refunds").is_empty(), "the refund was asked for");
    assert_eq!(app.order_of(&chat).await["payment"]["status"], "paid", "and not recorded");

    // Still refused: counted as failed, nothing recorded, tried again next round.
    let now = OffsetDateTime::now_utc();
    assert_eq!(sweep(&app, &fake, now).await, Swept { failed: 1, ..Swept::default() });
    assert_eq!(app.order_of(&chat).await["payment"]["status"], "paid");
    // Stripe takes it: sent once, recorded once.
    fake.refuse_refunds(false);
    assert_eq!(sweep(&app, &fake, now).await, Swept { refunded: 1, ..Swept::default() });
    let order = app.order_of(&chat).await;
    assert_eq!(order["payment"]["status"], "refunded", "{order}");
    assert_eq!(fake.refunded(&intent), 5000);
    let calls = fake.calls("/v1/refunds");
    assert!(calls.iter().all(|c| c.idempotency_key == calls[0].idempotency_key), "{calls:?}");
    assert_eq!(sweep(&app, &fake, now).await, Swept::default());
    let events = app.event_types(&number).await;
    assert_eq!(events.iter().filter(|e| *e == "refunded").count(), 1, "{events:?}");
}

async fn a_payment_for_an_order_cancelled_meanwhile_goes_back(app: TestApp, fake: FakeStripe) {
    let chat = app.summarised("two black tees in M").await;
    let done = app.say(&chat, "yes").await;
    let session = session_id(&done["order"]);
    // The customer pays on Stripe's page while asking the chat to cancel.
    let paid = fake.pay(&session);
    let cancelled = app.say(&chat, "cancel my order").await;
    assert_eq!(cancelled["order"]["status"], "cancelled", "{cancelled}");
    // Stripe would not end a paid link; then its `completed` event arrives.
    assert_eq!(outcome(FakeStripe::deliver(&app.address, &paid).await).await, "recorded");
    let intent = fake.session(&session)["payment_intent"].as_str().unwrap().to_owned();
    let order = payment_becomes(&app, &chat, "refunded").await;
    assert_eq!(order["status"], "cancelled");
    assert_eq!(fake.refunded(&intent), 5000);
}

async fn links_whose_webhook_never_came_are_settled_by_the_sweep(app: TestApp, fake: FakeStripe) {
    let before = app.reserved().await;
    // A: never paid, and Stripe's `expired` event is lost.
    let a = app.summarised("two black tees in M").await;
    let a_done = app.say(&a, "yes").await;
    let a_session = session_id(&a_done["order"]);
    // B: paid, but Stripe's `completed` event is lost.
    let b = app.summarised("two black tees in M").await;
    let b_done = app.say(&b, "yes").await;
    let b_session = session_id(&b_done["order"]);
    let b_paid = fake.pay(&b_session);
    let held = app.reserved().await;
    assert!(held > before);

    // Before the links (30 minutes) and the grace after them run out: left alone.
    let now = OffsetDateTime::now_utc();
    assert_eq!(sweep(&app, &fake, now + time::Duration::minutes(35)).await, Swept::default());
    assert!(fake.calls(&format!("/v1/checkout/sessions/{a_session}")).is_empty());

    // Later, Stripe is asked, and what it says is recorded.
    let later = now + time::Duration::hours(1);
    let swept = sweep(&app, &fake, later).await;
    assert_eq!(swept, Swept { paid: 1, expired: 1, ..Swept::default() });
    assert_eq!(fake.calls(&format!("/v1/checkout/sessions/{a_session}/expire")).len(), 1);
    assert!(fake.calls(&format!("/v1/checkout/sessions/{b_session}/expire")).is_empty());
    let a_order = app.order_of(&a).await;
    assert_eq!(
        (&a_order["status"], &a_order["payment"]["status"]),
        (&"cancelled".into(), &"expired".into())
    );
    let b_order = app.order_of(&b).await;
    assert_eq!(
        (&b_order["status"], &b_order["payment"]["status"]),
        (&"confirmed".into(), &"paid".into())
    );
    assert!(app.reserved().await < held, "A's stock is back");

    // Stripe's late events change nothing.
    let a_expired = fake.expire(&a_session);
    assert_eq!(outcome(FakeStripe::deliver(&app.address, &a_expired).await).await, "ignored");
    assert_eq!(outcome(FakeStripe::deliver(&app.address, &b_paid).await).await, "ignored");
    for (chat, kind) in [(&a_done, "payment_expired"), (&b_done, "paid")] {
        let events = app.event_types(chat["order"]["number"].as_str().unwrap()).await;
        assert_eq!(events.iter().filter(|e| *e == kind).count(), 1, "{events:?}");
    }
    assert_eq!(sweep(&app, &fake, later).await, Swept::default());
}

async fn an_unpaid_order_cannot_be_returned(app: TestApp, fake: FakeStripe) {
    let chat = app.summarised("two black tees in M").await;
    let done = app.say(&chat, "yes").await;
    let number = done["order"]["number"].as_str().unwrap().to_owned();
    let proof = serde_json::json!({ "order_number": number, "email": "ana@example.com" });
    let post = |path: &str, body: Value| {
        app.client.post(format!("{}{path}", app.address)).json(&body).send()
    };
    let lookup: Value =
        post("/api/v1/returns/lookup", proof.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(lookup["lines"][0]["returnable_quantity"], 0, "{lookup}");
    assert_eq!(lookup["lines"][0]["reason"], "not_paid", "{lookup}");
    let request = serde_json::json!({ "order_number": number, "email": "ana@example.com",
        "resolution": "refund", "items": [ { "line": 0, "quantity": 1, "reason": "too_small" } ] });
    let created: Value =
        post("/api/v1/returns", request.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(created["status"], "rejected", "{created}");
    assert_eq!(created["items"][0]["rule"], "not_paid", "{created}");
    // Once paid, it can.
    let paid = fake.pay(&session_id(&done["order"]));
    assert_eq!(outcome(FakeStripe::deliver(&app.address, &paid).await).await, "recorded");
    let lookup: Value = post("/api/v1/returns/lookup", proof).await.unwrap().json().await.unwrap();
    assert_eq!(lookup["lines"][0]["returnable_quantity"], 2, "{lookup}");
}

/// With customer email on, the payment link is mailed too: its own message after the
/// confirmation, with the amount, the link and until when it works.
async fn the_payment_link_is_mailed(backend: Backend) {
    let smtp = crate::smtp::SmtpServer::start(crate::smtp::SmtpServer::always_accept()).await;
    let fake = FakeStripe::start().await;
    let (base, url) = (fake.address.clone(), smtp.url());
    let Some(app) = spawn_app_with(backend, move |args| {
        args.payments = stripe_args(base);
        args.smtp_url = Some(url.into());
        args.mail_from = Some("Trail Shop <orders@shop.test>".to_owned());
    })
    .await
    else {
        return;
    };
    let chat = app.summarised("two black tees in M").await;
    let done = app.say(&chat, "yes").await;
    let number = done["order"]["number"].as_str().unwrap().to_owned();
    let link = done["order"]["payment"]["url"].as_str().unwrap().to_owned();
    let mails = smtp.wait_for("the confirmation and the payment link", |m| m.len() >= 2).await;
    let subjects: Vec<String> = mails.iter().filter_map(|m| m.header("Subject")).collect();
    assert_eq!(
        subjects,
        [
            format!("Trail Shop: order {number} is confirmed"),
            format!("Trail Shop: please pay for order {number}")
        ]
    );
    let text = mails[1].part("text/plain").unwrap();
    assert!(text.contains(&link), "{text}");
    assert!(text.contains("$50.00") && text.contains("The link works until"), "{text}");
    let html = mails[1].part("text/html").unwrap();
    assert!(html.contains("Pay $50.00"), "{html}");
    // Paying sends nothing more.
    let paid = fake.pay(&session_id(&done["order"]));
    assert_eq!(outcome(FakeStripe::deliver(&app.address, &paid).await).await, "recorded");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.accepted().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payment_link_is_mailed_sqlite() {
    the_payment_link_is_mailed(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payment_link_is_mailed_postgres() {
    the_payment_link_is_mailed(Backend::Postgres).await;
}

/// Without a provider nothing changes: orders are confirmed unpaid, and the webhook
/// endpoint says payments are off.
mod without_payments {
    use super::*;

    async fn orders_are_confirmed_unpaid(app: TestApp) {
        let number = app.confirmed_order("two black tees in M", "ana@example.com").await;
        let summary = app.db.store.order_summary(&number).await.unwrap().unwrap();
        assert_eq!(summary.status, gapless_domain::orders::OrderStatus::Confirmed);
        let chat = app.summarised("two black tees in M").await;
        let done = app.say(&chat, "yes").await;
        assert_eq!(done["order"]["payment"], serde_json::json!({ "status": "not_required" }));
        let response = FakeStripe::deliver(&app.address, &serde_json::json!({})).await;
        assert_eq!(response.status(), 404);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        orders_are_confirmed_unpaid(spawn_app(Backend::Sqlite).await.unwrap()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let Some(app) = spawn_app(Backend::Postgres).await else { return };
        orders_are_confirmed_unpaid(app).await;
    }
}
