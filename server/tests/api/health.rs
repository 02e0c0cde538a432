use crate::helpers::TestApp;

async fn healthz_reports_the_database(app: TestApp) {
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let expected = if app.db.url.starts_with("sqlite:") { "sqlite" } else { "postgres" };
    assert_eq!(body["database"], expected);
}

async fn responses_carry_security_headers(app: TestApp) {
    let response = app.get("/healthz").await;
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["x-frame-options"], "DENY");
}

async fn static_files_are_served_from_the_site_root(app: TestApp) {
    let response = app.get("/favicon.svg").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/svg+xml");
}

/// The number on a line of the metrics text that starts with `prefix`.
fn metric(text: &str, prefix: &str) -> Option<f64> {
    text.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

async fn metrics_report_requests_and_the_shops_counts(app: TestApp) {
    let empty = app.scrape().await.text().await.unwrap();
    assert_eq!(metric(&empty, "gapless_chat_turns "), Some(0.0), "{empty}");

    let chat = app.start_chat().await;
    for text in [
        "two black tees in M",
        "my name is Ana Ruiz, ana@example.com",
        "ship to 12 Main St, Springfield, 62701, US",
        "confirm",
        "yes",
    ] {
        app.say(&chat, text).await;
    }
    app.get("/no/such/page").await;
    let response = app.scrape().await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().contains("openmetrics"));
    let text = response.text().await.unwrap();
    assert_eq!(metric(&text, "gapless_chat_turns "), Some(5.0), "{text}");
    assert_eq!(metric(&text, "gapless_orders{state=\"confirmed\"}"), Some(1.0), "{text}");
    assert_eq!(metric(&text, "gapless_conversations{state=\"ordered\"}"), Some(1.0), "{text}");
    assert!(metric(&text, "gapless_http_requests_total{status=\"2xx\"}").unwrap() >= 6.0);
    assert_eq!(metric(&text, "gapless_http_requests_total{status=\"4xx\"}"), Some(1.0), "{text}");
    assert!(metric(&text, "gapless_http_request_duration_seconds_count").unwrap() >= 7.0);
}

crate::on_both_backends!(
    healthz_reports_the_database,
    metrics_report_requests_and_the_shops_counts,
    responses_carry_security_headers,
    static_files_are_served_from_the_site_root,
);
