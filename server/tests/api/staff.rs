//! Staff sign-in (CONTRACTS §5): the session, `me`, identical failures, fixation and
//! the sign-in rate limit.

use reqwest::{header, Response, StatusCode};
use serde_json::{json, Value};
use server::staff::accounts::{self, Password, StaffRole};

use crate::{helpers::TestApp, on_both_backends};

const ANA_PASSWORD: &str = "correct horse battery staple";
const BO_PASSWORD: &str = "tr0ub4dor & three";

impl TestApp {
    async fn add_staff(&self, email: &str, role: StaffRole, password: &str) -> String {
        accounts::create(self.db.store.as_ref(), email, role, &Password::new(password))
            .await
            .expect("the staff account is created")
            .id
    }

    async fn disable_staff(&self, email: &str) {
        self.execute_sql(&format!(
            "UPDATE staff_accounts SET disabled_at = '2030-01-01T00:00:00.000000Z'
             WHERE email = '{email}'"
        ))
        .await;
    }

    async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.client
            .post(format!("{}/api/v1/staff/session", self.address))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    async fn sign_out(&self) -> Response {
        self.client.delete(format!("{}/api/v1/staff/session", self.address)).send().await.unwrap()
    }

    async fn me(&self) -> Response {
        self.get("/api/v1/staff/me").await
    }

    /// `me` with only `cookie` (none when `None`), as another browser would send it.
    async fn me_with_cookie(&self, cookie: Option<&str>) -> Response {
        let mut request = reqwest::Client::new().get(format!("{}/api/v1/staff/me", self.address));
        if let Some(value) = cookie {
            request = request.header(header::COOKIE, format!("gapless_session={value}"));
        }
        request.send().await.unwrap()
    }
}

/// The value of the `gapless_session` cookie a response sets, if it sets one.
fn session_cookie(response: &Response) -> Option<String> {
    response.headers().get_all(header::SET_COOKIE).iter().find_map(|value| {
        let value = value.to_str().ok()?.strip_prefix("gapless_session=")?;
        Some(value.split(';').next().unwrap_or_default().to_owned())
    })
}

async fn assert_unauthorized(response: Response) -> String {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"]["code"], "unauthorized", "{body}");
    text
}

async fn staff_sign_in_then_me_then_sign_out(app: TestApp) {
    let id = app.add_staff("Ana@Example.com", StaffRole::Admin, ANA_PASSWORD).await;
    assert_unauthorized(app.me().await).await;

    // Any capitalization of the email signs in.
    let response = app.sign_in(" ANA@example.com", ANA_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cookie = session_cookie(&response).expect("a session cookie at sign-in");
    // A staff session lives 8 idle hours, not the shopper's 14 days.
    let set_cookie = response.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("Max-Age=28800"), "{set_cookie}");

    let response = app.me().await;
    assert_eq!(response.status(), StatusCode::OK);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me, json!({ "id": id, "email": "ana@example.com", "role": "admin" }));

    let response = app.sign_out().await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_unauthorized(app.me().await).await;
    // Signed out on the server, not only in this browser: the old cookie is dead too.
    assert_unauthorized(app.me_with_cookie(Some(&cookie)).await).await;

    // Signing out without a session is harmless.
    assert_eq!(app.sign_out().await.status(), StatusCode::NO_CONTENT);
}

async fn failed_sign_ins_all_get_the_same_401(app: TestApp) {
    app.add_staff("ana@example.com", StaffRole::Admin, ANA_PASSWORD).await;
    app.add_staff("bo@example.com", StaffRole::Agent, BO_PASSWORD).await;
    app.disable_staff("bo@example.com").await;

    let wrong_password =
        assert_unauthorized(app.sign_in("ana@example.com", BO_PASSWORD).await).await;
    assert_unauthorized(app.me().await).await;
    let unknown_email =
        assert_unauthorized(app.sign_in("cy@example.com", ANA_PASSWORD).await).await;
    assert_unauthorized(app.me().await).await;
    let disabled = assert_unauthorized(app.sign_in("bo@example.com", BO_PASSWORD).await).await;
    assert_unauthorized(app.me().await).await;
    let not_an_email = assert_unauthorized(app.sign_in("ana", ANA_PASSWORD).await).await;
    assert_unauthorized(app.me().await).await;

    assert_eq!(wrong_password, unknown_email);
    assert_eq!(wrong_password, disabled);
    assert_eq!(wrong_password, not_an_email);
    assert!(!wrong_password.contains("ana@example.com"), "{wrong_password}");
}

async fn a_disabled_account_loses_its_session_at_once(app: TestApp) {
    app.add_staff("bo@example.com", StaffRole::Agent, BO_PASSWORD).await;
    assert_eq!(app.sign_in("bo@example.com", BO_PASSWORD).await.status(), StatusCode::NO_CONTENT);
    let me: Value = app.me().await.json().await.unwrap();
    assert_eq!(me["role"], "agent");

    app.disable_staff("bo@example.com").await;
    assert_unauthorized(app.me().await).await;
}

async fn signing_in_changes_the_session_id(app: TestApp) {
    app.add_staff("ana@example.com", StaffRole::Admin, ANA_PASSWORD).await;
    let bo = app.add_staff("bo@example.com", StaffRole::Agent, BO_PASSWORD).await;

    // A session that exists before the sign-in: the shop's chat one if it sets a cookie,
    // else an earlier staff session in the same browser.
    let chat = app.client.post(format!("{}/api/chat/state", app.address)).send().await.unwrap();
    let mut before: Vec<String> = session_cookie(&chat).into_iter().collect();
    let first = app.sign_in("ana@example.com", ANA_PASSWORD).await;
    assert_eq!(first.status(), StatusCode::NO_CONTENT);
    before.extend(session_cookie(&first));
    assert!(!before.is_empty());

    let second = app.sign_in("bo@example.com", BO_PASSWORD).await;
    assert_eq!(second.status(), StatusCode::NO_CONTENT);
    let after = session_cookie(&second).expect("a new session cookie at sign-in");
    assert!(!before.contains(&after), "{after} was in use before the sign-in: {before:?}");

    // Whoever knew an id from before (one planted in a victim's browser, say) holds
    // nothing now; the new id is Bo's.
    for old in &before {
        assert_unauthorized(app.me_with_cookie(Some(old)).await).await;
    }
    let me: Value = app.me_with_cookie(Some(&after)).await.json().await.unwrap();
    assert_eq!(me["id"], bo);
}

async fn sign_in_attempts_for_one_email_are_rate_limited(app: TestApp) {
    app.add_staff("ana@example.com", StaffRole::Admin, ANA_PASSWORD).await;
    for attempt in 0..10 {
        let response = app.sign_in("ana@example.com", &format!("guess number {attempt}")).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    // Past the burst even the right password waits, whatever the capitalization.
    let response = app.sign_in("Ana@Example.com", ANA_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = response.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=12).contains(&wait), "{wait}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert_unauthorized(app.me().await).await;

    // Other accounts are not locked out by someone guessing at Ana's.
    app.add_staff("bo@example.com", StaffRole::Agent, BO_PASSWORD).await;
    assert_eq!(app.sign_in("bo@example.com", BO_PASSWORD).await.status(), StatusCode::NO_CONTENT);
}

async fn sign_in_bodies_are_checked(app: TestApp) {
    let response = app
        .client
        .post(format!("{}/api/v1/staff/session", app.address))
        .json(&json!({ "email": "ana@example.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid", "{body}");

    let response = app
        .client
        .post(format!("{}/api/v1/staff/session", app.address))
        .body("email=ana@example.com&password=x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

async fn staff_pages_send_the_signed_out_to_sign_in_and_back(app: TestApp) {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    for path in ["/staff/conversations", "/staff/returns", "/staff/conversations/abc-1"] {
        let response = browser.get(format!("{}{path}", app.address)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        let location = response.headers()[header::LOCATION].to_str().unwrap().to_owned();
        assert_eq!(location, format!("/staff?next={path}"));
    }
    // The sign-in page itself is open, and a sign-in goes back where it was sent from.
    let page = browser.get(format!("{}/staff", app.address)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    app.add_staff("ana@example.com", StaffRole::Agent, ANA_PASSWORD).await;
    let signed_in = browser
        .post(format!("{}/api/staff/sign-in", app.address))
        .form(&[
            ("email", "ana@example.com"),
            ("password", ANA_PASSWORD),
            ("next", "/staff/returns"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.headers()[header::LOCATION], "/staff/returns");
    let page = browser.get(format!("{}/staff/returns", app.address)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    // A `next` that leads off the site is ignored.
    let elsewhere = browser
        .post(format!("{}/api/staff/sign-in", app.address))
        .form(&[
            ("email", "ana@example.com"),
            ("password", ANA_PASSWORD),
            ("next", "//evil.example/staff/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.headers()[header::LOCATION], "/staff");
}

/// A console form posted without the session's CSRF token changes nothing.
async fn console_forms_need_the_sessions_csrf_token(app: TestApp) {
    app.add_staff("ana@example.com", StaffRole::Agent, ANA_PASSWORD).await;
    assert_eq!(app.sign_in("ana@example.com", ANA_PASSWORD).await.status(), StatusCode::NO_CONTENT);
    let me: Value = app
        .client
        .post(format!("{}/api/staff/me", app.address))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = me["csrf"].as_str().expect("the console gets its token").to_owned();
    assert_eq!(token.len(), 64);

    let sign_out = |csrf: Option<&str>| {
        let mut form = vec![];
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf.to_owned()));
        }
        app.client
            .post(format!("{}/api/staff/sign-out", app.address))
            .header("Accept", "application/json")
            .form(&form)
            .send()
    };
    let wrong = sign_out(Some("0".repeat(64).as_str())).await.unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let missing = sign_out(None).await.unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.me().await.status(), StatusCode::OK, "still signed in");
    let right = sign_out(Some(&token)).await.unwrap();
    assert!(right.status().is_success() || right.status().is_redirection(), "{}", right.status());
    assert_unauthorized(app.me().await).await;
}

/// A state-changing request a browser sends for another site is refused before it runs.
async fn cross_site_requests_are_refused(app: TestApp) {
    app.add_staff("ana@example.com", StaffRole::Agent, ANA_PASSWORD).await;
    let post = |path: &str, origin: Option<&str>| {
        let mut request = app
            .client
            .post(format!("{}{path}", app.address))
            .json(&json!({ "email": "ana@example.com", "password": ANA_PASSWORD }));
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        request.send()
    };
    let evil = post("/api/v1/staff/session", Some("https://evil.example")).await.unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    let body: Value = evil.json().await.unwrap();
    assert_eq!(body["error"]["code"], "cross_origin");
    assert!(session_cookie_absent(&app).await, "no session was made");
    let own = app.address.trim_end_matches('/').to_owned();
    assert_eq!(post("/api/v1/staff/session", Some(&own)).await.unwrap().status(), 204);
    // Reads are not affected.
    let read = app
        .client
        .get(format!("{}/api/v1/staff/me", app.address))
        .header(header::ORIGIN, "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
}

async fn session_cookie_absent(app: &TestApp) -> bool {
    app.me().await.status() == StatusCode::UNAUTHORIZED
}

on_both_backends!(
    staff_sign_in_then_me_then_sign_out,
    failed_sign_ins_all_get_the_same_401,
    a_disabled_account_loses_its_session_at_once,
    signing_in_changes_the_session_id,
    sign_in_attempts_for_one_email_are_rate_limited,
    sign_in_bodies_are_checked,
    staff_pages_send_the_signed_out_to_sign_in_and_back,
    console_forms_need_the_sessions_csrf_token,
    cross_site_requests_are_refused,
);
