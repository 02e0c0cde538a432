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

crate::on_both_backends!(
    healthz_reports_the_database,
    responses_carry_security_headers,
    static_files_are_served_from_the_site_root,
);
