//! Staff sign-in (CONTRACTS §5): the session, `me`, identical failures, fixation and
//! the sign-in rate limit.

use std::{
    net::IpAddr,
    sync::{Arc, Mutex},
};

use reqwest::{header, Response, StatusCode};
use serde_json::{json, Value};
use server::{
    sessions::DbSessionStore,
    staff::accounts::{self, Password, StaffRole},
};
use time::{Duration, OffsetDateTime};

use crate::{
    helpers::{spawn_app_at, spawn_app_with, Backend, TestApp},
    on_both_backends,
};

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

    /// A sign-in from `client` (another browser, perhaps at another address).
    async fn sign_in_from(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> Response {
        client
            .post(format!("{}/api/v1/staff/session", self.address))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// A sign-in through the console's form (its server function), answered as JSON.
    async fn console_sign_in(&self, email: &str, password: &str) -> Response {
        self.client
            .post(format!("{}/api/staff/sign-in", self.address))
            .header("Accept", "application/json")
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .unwrap()
    }

    /// Who the console says is signed in: `null` for nobody.
    async fn console_me(&self) -> Value {
        let response = self
            .client
            .post(format!("{}/api/staff/me", self.address))
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// The stored session's expiry, `None` when the store has no such live session.
    async fn stored_expiry(&self, cookie: &str, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.db.store.session_load(cookie, now).await.unwrap().map(|(_, expires_at)| expires_at)
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

/// A browser whose requests come from `ip` (any 127.x.y.z reaches the test server).
fn browser_at(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
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
    a_sign_out_is_not_undone_by_a_request_in_flight,
    one_attacker_cannot_lock_a_staff_member_out,
    the_api_and_the_console_share_one_sign_in_allowance,
);

/// A clock the test moves by hand, and the server's view of it.
fn hand_clock() -> (Arc<Mutex<OffsetDateTime>>, server::returns::service::Clock) {
    let now = Arc::new(Mutex::new(OffsetDateTime::now_utc()));
    let clock = {
        let now = now.clone();
        Arc::new(move || *now.lock().unwrap())
    };
    (now, clock)
}

fn assert_near(actual: Option<OffsetDateTime>, expected: OffsetDateTime, what: &str) {
    let actual = actual.unwrap_or_else(|| panic!("{what}: no stored session"));
    assert!(
        (actual - expected).abs() <= Duration::seconds(2),
        "{what}: the stored session expires at {actual}, expected {expected}"
    );
}

/// The staff idle limit is a sliding 8 hours, read from an injected clock: a request
/// every 7 hours keeps a staff member signed in all day (the stored session's expiry
/// moves with each request), 8 idle hours end the session on the server, through the
/// API and the console alike.
async fn a_staff_session_ends_after_8_idle_hours_not_8_hours_after_sign_in(backend: Backend) {
    let (now, clock) = hand_clock();
    let Some(app) = spawn_app_at(backend, |_| {}, clock).await else { return };
    let start = *now.lock().unwrap();
    let set = |at: OffsetDateTime| *now.lock().unwrap() = at;
    app.add_staff("ana@example.com", StaffRole::Agent, ANA_PASSWORD).await;

    let response = app.sign_in("ana@example.com", ANA_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cookie = session_cookie(&response).expect("a session cookie at sign-in");
    assert_near(app.stored_expiry(&cookie, start).await, start + Duration::hours(8), "sign-in");

    for hours in [7, 14, 21] {
        let at = start + Duration::hours(hours);
        set(at);
        assert_eq!(app.me().await.status(), StatusCode::OK, "{hours} h after sign-in");
        let expiry = app.stored_expiry(&cookie, start).await;
        assert_near(expiry, at + Duration::hours(8), &format!("after a request at {hours} h"));
    }
    // 8 hours and a minute after the last request: signed out, the session deleted.
    set(start + Duration::hours(29) + Duration::minutes(1));
    assert_unauthorized(app.me().await).await;
    assert_eq!(app.stored_expiry(&cookie, start).await, None);

    // The console's way in keeps the same deadline.
    let later = start + Duration::hours(30);
    set(later);
    assert_eq!(app.sign_in("ana@example.com", ANA_PASSWORD).await.status(), 204);
    set(later + Duration::hours(7));
    assert_eq!(app.console_me().await["email"], "ana@example.com");
    set(later + Duration::hours(15));
    assert_eq!(app.console_me().await["email"], "ana@example.com", "slid by the last request");
    set(later + Duration::hours(23) + Duration::minutes(1));
    assert_eq!(app.console_me().await, Value::Null, "8 idle hours and a minute");
    assert_unauthorized(app.me().await).await;
}

/// Whatever else changes the session (here the shop's chat widget in the same browser),
/// a staff session still ends 8 idle hours after its last staff request, not 14 days
/// after the change.
async fn a_session_change_does_not_stretch_a_staff_session_to_14_days(backend: Backend) {
    let (now, clock) = hand_clock();
    let Some(app) = spawn_app_at(backend, |_| {}, clock).await else { return };
    let start = *now.lock().unwrap();
    app.add_staff("ana@example.com", StaffRole::Agent, ANA_PASSWORD).await;
    let response = app.sign_in("ana@example.com", ANA_PASSWORD).await;
    let cookie = session_cookie(&response).expect("a session cookie at sign-in");

    let chat = app
        .client
        .post(format!("{}/api/chat/send", app.address))
        .header("Accept", "application/json")
        .form(&[("text", "hello")])
        .send()
        .await
        .unwrap();
    assert_eq!(chat.status(), StatusCode::OK);
    let data = app.db.store.session_load(&cookie, start).await.unwrap().unwrap().0;
    assert!(data["chat.conversation"].is_string(), "the chat changed the session: {data}");
    assert_near(app.stored_expiry(&cookie, start).await, start + Duration::hours(8), "chat");

    *now.lock().unwrap() = start + Duration::hours(8) + Duration::minutes(1);
    assert_unauthorized(app.me().await).await;
}

macro_rules! with_a_hand_clock {
    ($($test:ident),* $(,)?) => {
        mod clocked {
            mod sqlite {
                $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::super::$test(crate::helpers::Backend::Sqlite).await;
                })*
            }
            mod postgres {
                $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::super::$test(crate::helpers::Backend::Postgres).await;
                })*
            }
        }
    };
}

with_a_hand_clock!(
    a_staff_session_ends_after_8_idle_hours_not_8_hours_after_sign_in,
    a_session_change_does_not_stretch_a_staff_session_to_14_days,
);

/// Signing out while another request of the same browser is still running: when that
/// request ends and the session layer saves what it loaded, the session stays deleted.
async fn a_sign_out_is_not_undone_by_a_request_in_flight(app: TestApp) {
    let id = app.add_staff("ana@example.com", StaffRole::Agent, ANA_PASSWORD).await;
    let response = app.sign_in("ana@example.com", ANA_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cookie = session_cookie(&response).expect("a session cookie at sign-in");

    // The other request: the session layer has loaded its session, as it does for each.
    let store = Arc::new(DbSessionStore::new(app.db.store.clone()));
    let in_flight =
        tower_sessions::Session::new(Some(cookie.parse().expect("a session id")), store, None);
    assert_eq!(in_flight.get::<String>("staff.id").await.unwrap(), Some(id));

    assert_eq!(app.sign_out().await.status(), StatusCode::NO_CONTENT);
    assert_unauthorized(app.me_with_cookie(Some(&cookie)).await).await;

    // It ends having changed the session, and the layer saves it.
    in_flight.insert("chat.conversation", "c-1").await.unwrap();
    in_flight.save().await.unwrap();
    assert_unauthorized(app.me_with_cookie(Some(&cookie)).await).await;
    assert_eq!(app.stored_expiry(&cookie, OffsetDateTime::now_utc()).await, None);
}

/// Someone guessing at Ana's password from one address is stopped there, and Ana,
/// signing in from her own, is not locked out by it. Guessing across many emails from
/// one address is stopped by the per-address limit.
async fn one_attacker_cannot_lock_a_staff_member_out(app: TestApp) {
    app.add_staff("ana@example.com", StaffRole::Admin, ANA_PASSWORD).await;
    let attacker = browser_at("127.0.0.2");
    for attempt in 0..10 {
        let guess = format!("guess number {attempt}");
        let response = app.sign_in_from(&attacker, "ana@example.com", &guess).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let stopped = app.sign_in_from(&attacker, "Ana@example.com", ANA_PASSWORD).await;
    assert_eq!(stopped.status(), StatusCode::TOO_MANY_REQUESTS);

    let ana = browser_at("127.0.0.3");
    let response = app.sign_in_from(&ana, "ana@example.com", ANA_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT, "Ana, from her own address");
    let me = ana.get(format!("{}/api/v1/staff/me", app.address)).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    // A new email per attempt does not get around the per-address limit: 30 at once,
    // then one a second (the loop itself takes a few seconds).
    let sprayer = browser_at("127.0.0.4");
    let started = std::time::Instant::now();
    let mut allowed = 0;
    for n in 0..100 {
        let email = format!("someone{n}@example.com");
        let response = app.sign_in_from(&sprayer, &email, ANA_PASSWORD).await;
        match response.status() {
            StatusCode::UNAUTHORIZED => allowed += 1,
            StatusCode::TOO_MANY_REQUESTS => break,
            other => panic!("attempt {n}: {other}"),
        }
    }
    let most = 30.0 + started.elapsed().as_secs_f64().ceil();
    assert!(
        allowed >= 30 && f64::from(allowed) <= most,
        "{allowed} attempts before the limit, at most {most} expected"
    );
}

/// The console's sign-in form and the JSON API draw on one allowance: ten failed
/// attempts through the API leave none for the console, from the same address.
async fn the_api_and_the_console_share_one_sign_in_allowance(app: TestApp) {
    app.add_staff("ana@example.com", StaffRole::Admin, ANA_PASSWORD).await;
    for attempt in 0..10 {
        let response = app.sign_in("ana@example.com", &format!("guess number {attempt}")).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let console = app.console_sign_in("ana@example.com", ANA_PASSWORD).await;
    assert_eq!(console.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = console.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=12).contains(&wait), "{wait}");
    assert_unauthorized(app.me().await).await;
}

/// Sign-ins with made-up emails from many addresses (each under every rate limit) do
/// not queue unbounded Argon2 work: with one password check allowed at once and no
/// wait, those that find it taken are told to come back (`503 busy`, `Retry-After`);
/// the others get the usual 401 after their (dummy) check.
async fn password_checks_at_once_are_bounded(backend: Backend) {
    let configure = |args: &mut server::cli::ServeArgs| {
        args.signin_hashes = 1;
        args.signin_wait_ms = 0;
    };
    let Some(app) = spawn_app_with(backend, configure).await else { return };
    let attempts = (0..40).map(|n| {
        let app = &app;
        async move {
            let browser = browser_at(&format!("127.0.1.{}", n + 1));
            let email = format!("nobody{n}@example.com");
            let response = app.sign_in_from(&browser, &email, "a random guess 123").await;
            let status = response.status();
            let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
            let body: Value = response.json().await.unwrap();
            (status, retry_after, body)
        }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let (mut checked, mut busy) = (0, 0);
    for (status, retry_after, body) in answers {
        match status {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                busy += 1;
                assert_eq!(body["error"]["code"], "busy", "{body}");
                let wait: u64 =
                    retry_after.expect("Retry-After").to_str().unwrap().parse().unwrap();
                assert!((1..=5).contains(&wait), "{wait}");
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert!(checked >= 1, "one check at a time still runs");
    assert!(busy >= 1, "40 sign-ins at once, one check allowed: {checked} were all checked");
}

mod bounded {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::password_checks_at_once_are_bounded(crate::helpers::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::password_checks_at_once_are_bounded(crate::helpers::Backend::Postgres).await;
    }
}
