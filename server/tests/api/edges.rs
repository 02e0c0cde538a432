//! Issue 11, "lookups and logs": lookup limits by canonical order number and by email
//! (also in the chat), the `/metrics` token and its cached counts, the JSON body on
//! every `/api/v1` error, the request timeout, HSTS and the pages' CSP. Each test runs
//! on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, Backend, TestApp, METRICS_TOKEN};

/// The backends to run on: SQLite, and PostgreSQL when one is configured.
async fn apps(configure: impl Fn(&mut server::cli::ServeArgs)) -> Vec<TestApp> {
    let mut apps = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        apps.extend(spawn_app_with(backend, &configure).await);
    }
    apps
}

/// One lookup allowed per order number and per email, refilled only after ~17 minutes.
fn one_lookup_each(args: &mut server::cli::ServeArgs) {
    args.rate_lookup_burst = 1;
    args.rate_lookup_per_second = 0.001;
}

impl TestApp {
    async fn order_lookup(&self, number: &str, email: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/api/v1/returns/lookup", self.address))
            .json(&json!({ "order_number": number, "email": email }))
            .send()
            .await
            .unwrap()
    }
}

async fn code_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("a JSON error body");
    (status, body["error"]["code"].as_str().unwrap_or("(none)").to_owned())
}

#[tokio::test]
async fn every_spelling_of_an_order_number_spends_one_budget() {
    for app in apps(one_lookup_each).await {
        let first = app.order_lookup("G-100001", "eve@example.com").await;
        assert_eq!(code_of(first).await, (404, "not_found".into()));
        // The same order typed another way, with another email: its budget is spent.
        let again = app.order_lookup("g100001", "mallory@example.com").await;
        assert_eq!(code_of(again).await, (429, "rate_limited".into()));
        let spaced = app.order_lookup(" G-100001 ", "trent@example.com").await;
        assert_eq!(spaced.status(), 429);
        // Another order has its own.
        let other = app.order_lookup("G-100002", "oscar@example.com").await;
        assert_eq!(other.status(), 404);
    }
}

#[tokio::test]
async fn one_email_cannot_walk_sequential_order_numbers() {
    for app in apps(|args| {
        args.rate_lookup_burst = 3;
        args.rate_lookup_per_second = 0.001;
    })
    .await
    {
        for (number, email) in [
            ("G-100001", "eve@example.com"),
            ("G-100002", "EVE@example.com"),
            ("G-100003", " eve@Example.com "),
        ] {
            let response = app.order_lookup(number, email).await;
            assert_eq!(response.status(), 404, "{number} {email}");
        }
        let fourth = app.order_lookup("G-100004", "eve@example.com").await;
        assert!(fourth.headers().contains_key("retry-after"));
        assert_eq!(code_of(fourth).await, (429, "rate_limited".into()));
        // The RMA status spends the same email budget.
        let status = app
            .client
            .get(format!("{}/api/v1/returns/R-7K2M9Q4X", app.address))
            .header("customer-email", "Eve@example.com")
            .send()
            .await
            .unwrap();
        assert_eq!(status.status(), 429);
        // Someone else is not held up.
        assert_eq!(app.order_lookup("G-100005", "ana@example.com").await.status(), 404);
    }
}

/// The line the chat appends to its reply for "where is my order".
fn status_answer(turn: &Value) -> String {
    let reply = turn["reply"].as_str().unwrap();
    reply.rsplit("\n\n").next().unwrap().to_owned()
}

#[tokio::test]
async fn the_chats_where_is_my_order_spends_the_same_budgets() {
    for app in apps(|args| {
        args.rate_lookup_burst = 2;
        args.rate_lookup_per_second = 0.001;
    })
    .await
    {
        let chat = app.start_chat().await;
        let first = app.say(&chat, "where is my order G-100001, I'm eve@example.com").await;
        assert!(status_answer(&first).starts_with("For your privacy"), "{first}");
        // The returns API spends eve's second lookup.
        assert_eq!(app.order_lookup("G-100002", "eve@example.com").await.status(), 404);
        let third = app.say(&chat, "where is my order G-100003, I'm eve@example.com").await;
        let answer = status_answer(&third);
        let wait: u64 = answer
            .strip_prefix("I have looked up orders too often just now. Please ask again in ")
            .and_then(|rest| rest.strip_suffix(" seconds."))
            .unwrap_or_else(|| panic!("not limited: {third}"))
            .parse()
            .unwrap();
        // One lookup per 1000 s: the wait is what is left of it.
        assert!((990..=1000).contains(&wait), "{answer}");
        // And what the chat spent counts in the returns API: G-100001 had one left.
        assert_eq!(app.order_lookup("g-100001", "trent@example.com").await.status(), 404);
        assert_eq!(app.order_lookup("g100001", "oscar@example.com").await.status(), 429);
    }
}

async fn where_is_my_order_answers_a_wrong_email_and_an_unknown_order_alike(app: TestApp) {
    let number = app.confirmed_order("a trail bottle", "ana@example.com").await;
    let chat = app.start_chat().await;
    let mut answers = Vec::new();
    for message in [
        format!("where is my order {number}, I'm eve@example.com"),
        "where is my order G-999999, I'm ana@example.com".to_owned(),
    ] {
        let started = Instant::now();
        let turn = app.say(&chat, &message).await;
        assert!(started.elapsed() >= Duration::from_millis(150), "answered early: {message}");
        answers.push(status_answer(&turn));
    }
    assert_eq!(answers[0], answers[1]);
    assert!(answers[0].starts_with("For your privacy"), "{answers:?}");
    // The email is compared as the returns lookup compares it: case does not matter.
    let right = app.say(&chat, &format!("where is my order {number}, I'm ANA@example.com")).await;
    let total = app.db.store.order_summary(&number).await.unwrap().unwrap().total;
    assert!(total > 0);
    let total = format!("${}.{:02}", total / 100, total % 100);
    assert_eq!(status_answer(&right), format!("Order {number} is confirmed, total {total}."));
}

async fn return_status_takes_the_email_in_a_header(app: TestApp) {
    let number = app.confirmed_order("two black tees in M", "ana@example.com").await;
    let rma = crate::returns::a_return(&app, &number, "too_small").await;
    let rma = rma.as_str();
    let status = |email: &'static str| {
        app.client
            .get(format!("{}/api/v1/returns/{rma}", app.address))
            .header("Customer-Email", email)
            .send()
    };
    let found = status("ANA@example.com").await.unwrap();
    assert_eq!(found.status(), 200);
    let found: Value = found.json().await.unwrap();
    assert_eq!((found["rma"].as_str(), found["status"].as_str()), (Some(rma), Some("approved")));
    assert_eq!(code_of(status("eve@example.com").await.unwrap()).await, (404, "not_found".into()));
    // The header wins over an old-style query.
    let both = app
        .client
        .get(format!("{}/api/v1/returns/{rma}?email=ana@example.com", app.address))
        .header("customer-email", "eve@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), 404);
    // The old form still answers.
    let old = app.get(&format!("/api/v1/returns/{rma}?email=ana@example.com")).await;
    assert_eq!(old.status(), 200);
}

/// The number on the line of the metrics text that starts with `prefix`.
fn metric(text: &str, prefix: &str) -> Option<f64> {
    text.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

async fn metrics_need_the_bearer_token(app: TestApp) {
    let anonymous = app.get("/metrics").await;
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer realm=\"metrics\"");
    assert!(!anonymous.text().await.unwrap().contains("gapless_"));
    for wrong in ["nope", "test-metrics-toke", "test-metrics-tokenX", ""] {
        let response = app
            .client
            .get(format!("{}/metrics", app.address))
            .bearer_auth(wrong)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{wrong:?}");
    }
    let basic = app
        .client
        .get(format!("{}/metrics", app.address))
        .header("authorization", format!("Basic {METRICS_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
    // The scheme is case-insensitive (RFC 9110).
    let lower = app
        .client
        .get(format!("{}/metrics", app.address))
        .header("authorization", format!("bearer {METRICS_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), 200);
    let scraped = app.scrape().await;
    assert_eq!(scraped.status(), 200);
    assert_eq!(metric(&scraped.text().await.unwrap(), "gapless_chat_turns "), Some(0.0));
}

#[tokio::test]
async fn metrics_without_a_token_are_off() {
    for app in apps(|args| args.metrics_token = None).await {
        assert_eq!(app.get("/metrics").await.status(), 404);
        assert_eq!(app.scrape().await.status(), 404);
    }
}

#[tokio::test]
async fn the_shops_counts_are_read_at_most_once_per_refresh() {
    for app in apps(|args| args.metrics_refresh_ms = 1_500).await {
        let first = app.scrape().await.text().await.unwrap();
        assert_eq!(metric(&first, "gapless_chat_turns "), Some(0.0), "{first}");
        let chat = app.start_chat().await;
        app.say(&chat, "a diet coke").await;
        // Within the refresh time the counts are the snapshot's; requests are live.
        let cached = app.scrape().await.text().await.unwrap();
        assert_eq!(metric(&cached, "gapless_chat_turns "), Some(0.0), "{cached}");
        let requests = |text: &str| metric(text, "gapless_http_requests_total{status=\"2xx\"}");
        // (None before the first request was answered.)
        assert!(requests(&cached).unwrap() >= requests(&first).unwrap_or(0.0) + 3.0, "{cached}");
        // Sabotaged behind the app's back: a cached scrape does not even read the table.
        tokio::time::sleep(Duration::from_millis(1_600)).await;
        let fresh = app.scrape().await.text().await.unwrap();
        assert_eq!(metric(&fresh, "gapless_chat_turns "), Some(1.0), "{fresh}");
    }
}

#[tokio::test]
async fn every_api_error_has_the_json_body() {
    for app in apps(|_| {}).await {
        let chat = app.start_chat().await;
        let url = format!("{}/api/v1/conversations/{chat}/messages", app.address);
        let big = json!({ "text": "a".repeat(70 * 1024) }).to_string();

        // Over the body limit, announced by Content-Length.
        let response = app
            .client
            .post(&url)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(code_of(response).await, (413, "too_large".into()));

        // Over the body limit, streamed without a Content-Length.
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            big.into_bytes().chunks(8 * 1024).map(|c| Ok(c.to_vec())).collect();
        let response = app
            .client
            .post(&url)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)))
            .send()
            .await
            .unwrap();
        assert_eq!(code_of(response).await, (413, "too_large".into()));

        // A method the route does not take; `Allow` stays.
        let response = app
            .client
            .delete(format!("{}/api/v1/returns/lookup", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["allow"], "POST");
        assert_eq!(code_of(response).await, (405, "method_not_allowed".into()));

        // No such endpoint.
        let response = app.get("/api/v1/no/such/thing").await;
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(code_of(response).await, (404, "not_found".into()));

        // Pages keep their HTML 404.
        let page = app.get("/no/such/page").await;
        assert_eq!(page.status(), 404);
        assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    }
}

#[tokio::test]
async fn a_request_over_the_timeout_is_503_with_the_json_body() {
    // A lookup that finds nothing takes at least 150 ms by design.
    for app in apps(|args| args.request_timeout_ms = 50).await {
        let response = app.order_lookup("G-999999", "ana@example.com").await;
        assert_eq!(code_of(response).await, (503, "timeout".into()));
        // Fast requests are not affected.
        assert_eq!(app.get("/healthz").await.status(), 200);
    }
}

#[tokio::test]
async fn hsts_is_sent_when_cookies_are_secure() {
    for app in apps(|args| args.secure_cookies = true).await {
        for path in ["/healthz", "/", "/api/v1/no/such/thing"] {
            let response = app.get(path).await;
            assert_eq!(response.headers()["strict-transport-security"], "max-age=31536000");
        }
    }
    for app in apps(|_| {}).await {
        let response = app.get("/healthz").await;
        assert!(!response.headers().contains_key("strict-transport-security"));
    }
}

/// The nonce in a CSP header's `script-src`.
fn nonce(csp: &str) -> String {
    let start = csp.find("'nonce-").expect("a nonce in script-src") + "'nonce-".len();
    csp[start..].split('\'').next().unwrap().to_owned()
}

async fn pages_carry_a_csp_whose_nonce_is_on_every_inline_script(app: TestApp) {
    let mut nonces = Vec::new();
    for path in ["/", "/returns", "/staff", "/no/such/page"] {
        let response = app.get(path).await;
        let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
        for directive in [
            "default-src 'self'",
            "'wasm-unsafe-eval'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'self'",
        ] {
            assert!(csp.contains(directive), "{path}: {directive} missing from {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        let nonce = nonce(&csp);
        assert!(nonce.len() >= 16, "{nonce}");
        let html = response.text().await.unwrap();
        let scripts: Vec<&str> = html.split("<script").skip(1).collect();
        assert!(!scripts.is_empty(), "{path}: no script");
        for script in scripts {
            let tag = &script[..script.find('>').unwrap()];
            assert!(tag.contains(&format!("nonce=\"{nonce}\"")), "{path}: <script{tag}>");
        }
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 4, "a fresh nonce per response");
    // The JSON API is not a page.
    let api = app.get("/api/v1/openapi.json").await;
    assert!(!api.headers().contains_key("content-security-policy"));
}

crate::on_both_backends!(
    where_is_my_order_answers_a_wrong_email_and_an_unknown_order_alike,
    return_status_takes_the_email_in_a_header,
    metrics_need_the_bearer_token,
    pages_carry_a_csp_whose_nonce_is_on_every_inline_script,
);
