//! A fake Stripe on loopback: the few endpoints Gapless calls, answering Stripe's JSON
//! shapes to form-encoded requests, remembering what it was asked (with the
//! Idempotency-Key, as Stripe does), and sending signed webhook events the way Stripe
//! signs them. It can be "down" (503 to everything) to test what happens then.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::{get, post},
    Form, Json, Router,
};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

pub const SECRET_KEY: &str = "sk_test_fake_key";
pub const WEBHOOK_SECRET: &str = "whsec_fake_signing_secret";

/// One request Gapless made.
#[derive(Debug, Clone)]
pub struct Call {
    pub path: String,
    pub form: Vec<(String, String)>,
    pub idempotency_key: Option<String>,
}

impl Call {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    /// Session id → the session object.
    sessions: HashMap<String, Value>,
    /// PaymentIntent id → (captured, refunded).
    intents: HashMap<String, (i64, i64)>,
    /// Idempotency-Key → the answer given (Stripe replays it).
    answered: HashMap<String, (StatusCode, Value)>,
    down: bool,
    refuse_refunds: bool,
    /// Shared payment tokens whose card is declined.
    declined: HashSet<String>,
    next: u32,
    events: u32,
}

#[derive(Clone)]
pub struct FakeStripe {
    pub address: String,
    inner: Arc<Mutex<Inner>>,
}

type Answer = (StatusCode, Json<Value>);

impl FakeStripe {
    pub async fn start() -> FakeStripe {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let fake = FakeStripe { address, inner };
        let router = Router::new()
            .route("/v1/checkout/sessions", post(create_session))
            .route("/v1/checkout/sessions/{id}", get(retrieve_session))
            .route("/v1/checkout/sessions/{id}/expire", post(expire_session))
            .route("/v1/payment_intents", post(create_payment_intent))
            .route("/v1/refunds", post(create_refund))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        fake
    }

    pub fn set_down(&self, down: bool) {
        self.inner.lock().unwrap().down = down;
    }

    pub fn refuse_refunds(&self, refuse: bool) {
        self.inner.lock().unwrap().refuse_refunds = refuse;
    }

    /// A charge with shared payment token `token` is declined from now on.
    pub fn decline_token(&self, token: &str) {
        self.inner.lock().unwrap().declined.insert(token.to_owned());
    }

    /// The PaymentIntents that took money, with what each captured.
    pub fn charges(&self) -> Vec<(String, i64)> {
        let inner = self.inner.lock().unwrap();
        let mut charges: Vec<(String, i64)> =
            inner.intents.iter().map(|(id, (captured, _))| (id.clone(), *captured)).collect();
        charges.sort();
        charges
    }

    pub fn calls(&self, path: &str) -> Vec<Call> {
        self.inner.lock().unwrap().calls.iter().filter(|c| c.path == path).cloned().collect()
    }

    pub fn session(&self, id: &str) -> Value {
        self.inner.lock().unwrap().sessions[id].clone()
    }

    /// The customer pays session `id` on Stripe's page: the event Stripe then sends.
    pub fn pay(&self, id: &str) -> Value {
        let mut inner = self.inner.lock().unwrap();
        inner.next += 1;
        let intent = format!("pi_test_{}", inner.next);
        let session = inner.sessions.get_mut(id).expect("a session of ours");
        session["status"] = json!("complete");
        session["payment_status"] = json!("paid");
        session["payment_intent"] = json!(intent);
        let amount = session["amount_total"].as_i64().unwrap();
        let session = session.clone();
        inner.intents.insert(intent, (amount, 0));
        event(&mut inner, "checkout.session.completed", session)
    }

    /// Session `id` runs out unpaid: the event Stripe then sends.
    pub fn expire(&self, id: &str) -> Value {
        let mut inner = self.inner.lock().unwrap();
        let session = inner.sessions.get_mut(id).expect("a session of ours");
        session["status"] = json!("expired");
        let session = session.clone();
        event(&mut inner, "checkout.session.expired", session)
    }

    /// What PaymentIntent `id` has had refunded so far.
    pub fn refunded(&self, intent: &str) -> i64 {
        self.inner.lock().unwrap().intents.get(intent).map_or(0, |(_, refunded)| *refunded)
    }

    /// POSTs `event` to `url` signed as Stripe signs, at `timestamp` (Unix seconds),
    /// with `secret`.
    pub async fn deliver_signed(
        url: &str,
        event: &Value,
        secret: &str,
        timestamp: i64,
    ) -> reqwest::Response {
        let body = serde_json::to_vec(event).unwrap();
        let header = format!("t={timestamp},v1={}", sign(secret, timestamp, &body));
        reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .header("Stripe-Signature", header)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// POSTs `event` to the app at `address`, signed now with the right secret.
    pub async fn deliver(address: &str, event: &Value) -> reqwest::Response {
        let url = format!("{address}/api/v1/payments/stripe/webhook");
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        FakeStripe::deliver_signed(&url, event, WEBHOOK_SECRET, now).await
    }
}

pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn event(inner: &mut Inner, kind: &str, object: Value) -> Value {
    inner.events += 1;
    json!({
        "id": format!("evt_test_{}", inner.events),
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": time::OffsetDateTime::now_utc().unix_timestamp(),
        "livemode": false,
        "type": kind,
        "data": { "object": object },
    })
}

fn stripe_error(status: StatusCode, kind: &str, message: &str) -> Answer {
    (status, Json(json!({ "error": { "type": kind, "message": message } })))
}

/// Records the call and answers what is common to every endpoint: down, a wrong key,
/// a replayed Idempotency-Key.
fn begin(
    fake: &FakeStripe,
    path: &str,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Result<(), Answer> {
    let mut inner = fake.inner.lock().unwrap();
    let idempotency_key =
        headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    inner.calls.push(Call {
        path: path.to_owned(),
        form: form.to_vec(),
        idempotency_key: idempotency_key.clone(),
    });
    if inner.down {
        return Err(stripe_error(StatusCode::SERVICE_UNAVAILABLE, "api_error", "down for a test"));
    }
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {SECRET_KEY}"));
    if !authorized {
        return Err(stripe_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "Invalid API Key provided",
        ));
    }
    if let Some((status, body)) = idempotency_key.and_then(|key| inner.answered.get(&key).cloned())
    {
        return Err((status, Json(body)));
    }
    Ok(())
}

fn remember(fake: &FakeStripe, headers: &HeaderMap, answer: Answer) -> Answer {
    if let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
        fake.inner.lock().unwrap().answered.insert(key.to_owned(), (answer.0, answer.1 .0.clone()));
    }
    answer
}

async fn create_session(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Answer {
    if let Err(answer) = begin(&fake, "/v1/checkout/sessions", &headers, &form) {
        return answer;
    }
    let get = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let mut total = 0;
    let mut index = 0;
    while let Some(amount) = get(&format!("line_items[{index}][price_data][unit_amount]")) {
        let quantity = get(&format!("line_items[{index}][quantity]")).unwrap_or_default();
        total += amount.parse::<i64>().unwrap() * quantity.parse::<i64>().unwrap();
        index += 1;
    }
    let mut inner = fake.inner.lock().unwrap();
    inner.next += 1;
    let id = format!("cs_test_{}", inner.next);
    let session = json!({
        "id": id,
        "object": "checkout.session",
        "mode": get("mode"),
        "client_reference_id": get("client_reference_id"),
        "customer_email": get("customer_email"),
        "currency": get("line_items[0][price_data][currency]"),
        "amount_total": total,
        "expires_at": get("expires_at").and_then(|t| t.parse::<i64>().ok()),
        "status": "open",
        "payment_status": "unpaid",
        "payment_intent": null,
        "url": format!("{}/pay/{id}", fake.address),
    });
    inner.sessions.insert(id, session.clone());
    drop(inner);
    remember(&fake, &headers, (StatusCode::OK, Json(session)))
}

async fn expire_session(
    State(fake): State<FakeStripe>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let path = format!("/v1/checkout/sessions/{id}/expire");
    if let Err(answer) = begin(&fake, &path, &headers, &[]) {
        return answer;
    }
    let mut inner = fake.inner.lock().unwrap();
    let Some(session) = inner.sessions.get_mut(&id) else {
        return stripe_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "No such checkout.session",
        );
    };
    if session["status"] != "open" {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "Only Checkout Sessions with a status in [\"open\"] can be expired.",
        );
    }
    session["status"] = json!("expired");
    let session = session.clone();
    drop(inner);
    remember(&fake, &headers, (StatusCode::OK, Json(session)))
}

async fn retrieve_session(
    State(fake): State<FakeStripe>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let path = format!("/v1/checkout/sessions/{id}");
    if let Err(answer) = begin(&fake, &path, &headers, &[]) {
        return answer;
    }
    match fake.inner.lock().unwrap().sessions.get(&id) {
        Some(session) => (StatusCode::OK, Json(session.clone())),
        None => {
            stripe_error(StatusCode::NOT_FOUND, "invalid_request_error", "No such checkout.session")
        }
    }
}

/// `POST /v1/payment_intents` with `confirm=true` and a shared payment token: succeeded
/// at once, or a 402 `card_error` for a declined token (with the PaymentIntent in the
/// error, as Stripe sends it).
async fn create_payment_intent(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Answer {
    if let Err(answer) = begin(&fake, "/v1/payment_intents", &headers, &form) {
        return answer;
    }
    let get = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let token = get("payment_method_data[shared_payment_granted_token]");
    let amount = get("amount").and_then(|a| a.parse::<i64>().ok());
    let (Some(token), Some(amount), Some(currency), Some("true")) =
        (token, amount, get("currency"), get("confirm").as_deref())
    else {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "amount, currency, confirm=true and a shared payment token are required",
        );
    };
    let mut inner = fake.inner.lock().unwrap();
    inner.next += 1;
    let id = format!("pi_test_{}", inner.next);
    let mut intent = json!({
        "id": id,
        "object": "payment_intent",
        "amount": amount,
        "currency": currency,
        "metadata": { "order_number": get("metadata[order_number]") },
        "status": "succeeded",
    });
    let answer = if inner.declined.contains(&token) {
        intent["status"] = json!("requires_payment_method");
        (
            StatusCode::PAYMENT_REQUIRED,
            Json(json!({ "error": {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
                "payment_intent": intent,
            }})),
        )
    } else {
        inner.intents.insert(id, (amount, 0));
        (StatusCode::OK, Json(intent))
    };
    drop(inner);
    remember(&fake, &headers, answer)
}

async fn create_refund(
    State(fake): State<FakeStripe>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Answer {
    if let Err(answer) = begin(&fake, "/v1/refunds", &headers, &form) {
        return answer;
    }
    let get = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let mut inner = fake.inner.lock().unwrap();
    if inner.refuse_refunds {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "refunds refused for a test",
        );
    }
    let intent = get("payment_intent").unwrap_or_default();
    let amount: i64 = get("amount").and_then(|a| a.parse().ok()).unwrap_or(0);
    let Some((captured, refunded)) = inner.intents.get_mut(&intent) else {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "No such payment_intent",
        );
    };
    if amount <= 0 || *refunded + amount > *captured {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "Refund amount is greater than unrefunded amount on charge",
        );
    }
    *refunded += amount;
    inner.next += 1;
    let refund = json!({
        "id": format!("re_test_{}", inner.next),
        "object": "refund",
        "amount": amount,
        "payment_intent": intent,
        "status": "succeeded",
    });
    drop(inner);
    remember(&fake, &headers, (StatusCode::OK, Json(refund)))
}
