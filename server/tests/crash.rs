//! Crash safety: the server is killed with SIGKILL in the middle of a burst of
//! confirmations. After a restart every confirmation that was answered is there, once,
//! and every order's events fold to what its projection says. The same for webhook
//! messages and customer emails queued or in flight: all arrive after a restart.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use gapless_domain::{
    money::Currency,
    orders::{OrderEvent, OrderState},
};
use gapless_store::testing::{self, TestDatabase};
use serde_json::{json, Value};

mod smtp;

const SHOPPERS: usize = 24;
/// Kill the server once this many confirmations have been answered.
const KILL_AFTER: usize = 6;

fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

struct Server {
    child: Child,
    base: String,
}

async fn start(url: &str) -> Server {
    start_with(url, &[]).await
}

async fn start_with(url: &str, env: &[(&str, &str)]) -> Server {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_gapless"))
        .env("DATABASE_URL", url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", repo_path("public"))
        .env("GAPLESS_CATALOG", repo_path("demo/catalog.json"))
        .env("GAPLESS_RETURN_POLICY", repo_path("demo/return-policy.json"))
        .env("RUST_LOG", "off")
        .env("GAPLESS_RATE_IP_BURST", "100000")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{base}/healthz")).await.map(|r| r.status() != 200).unwrap_or(true) {
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Server { child, base }
}

async fn say(client: &reqwest::Client, base: &str, chat: &str, text: &str, key: &str) -> Value {
    let response = client
        .post(format!("{base}/api/v1/conversations/{chat}/messages"))
        .header("Idempotency-Key", key)
        .json(&json!({ "text": text }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{text}");
    response.json().await.unwrap()
}

async fn burst_of_confirmations_survives_sigkill(db: TestDatabase) {
    server::tls::install_crypto_provider();
    let client = reqwest::Client::new();
    let mut server = start(&db.url).await;
    let mut chats = Vec::new();
    for n in 0..SHOPPERS {
        let created: Value = client
            .post(format!("{}/api/v1/conversations", server.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let chat = created["id"].as_str().unwrap().to_owned();
        let name = format!("Ana {}", (b'A' + n as u8) as char);
        for (i, text) in [
            "two diet cokes and a tee in m black".to_owned(),
            format!("my name is {name}, crash{n}@example.com"),
            "ship to 12 Main St, Springfield, 62701, US".to_owned(),
            "confirm".to_owned(),
        ]
        .iter()
        .enumerate()
        {
            say(&client, &server.base, &chat, text, &format!("prep-{i}")).await;
        }
        chats.push(chat);
    }

    let answered = Arc::new(AtomicUsize::new(0));
    let pid = server.child.id();
    let mut burst = Vec::new();
    for (n, chat) in chats.clone().into_iter().enumerate() {
        let (client, base, answered) = (client.clone(), server.base.clone(), answered.clone());
        burst.push(tokio::spawn(async move {
            // Spread over ~100 ms: SQLite commits concurrent turns together, and a burst
            // sent in one instant can be committed and answered before the kill lands.
            tokio::time::sleep(std::time::Duration::from_millis(4 * n as u64)).await;
            let response = client
                .post(format!("{base}/api/v1/conversations/{chat}/messages"))
                .header("Idempotency-Key", "confirm-for-real")
                .json(&json!({ "text": "yes" }))
                .send()
                .await;
            let body: Option<Value> = match response {
                Ok(r) if r.status() == 200 => r.json().await.ok(),
                _ => None,
            };
            if body.is_some() && answered.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap();
            }
            (chat, body)
        }));
    }
    let mut confirmed_answers = Vec::new();
    for task in burst {
        let (chat, body) = task.await.unwrap();
        if let Some(body) = body {
            if body["order"]["status"] == "confirmed" {
                confirmed_answers.push((chat, body));
            }
        }
    }
    server.child.wait().unwrap();
    let answered = answered.load(Ordering::SeqCst);
    assert!(answered < SHOPPERS, "the kill must land mid-burst, but all {answered} were answered");
    assert!(confirmed_answers.len() >= KILL_AFTER.min(SHOPPERS), "{}", confirmed_answers.len());

    let server = start(&db.url).await;
    for (chat, before) in &confirmed_answers {
        let again = say(&client, &server.base, chat, "yes", "confirm-for-real").await;
        assert_eq!(&again, before, "the answer survives the crash and is not redone");
    }
    for chat in &chats {
        let conversation = db.store.conversation(chat).await.unwrap().unwrap();
        let order_id = conversation.order_id.unwrap();
        let number = conversation.order_number.unwrap();
        let rows = db.store.order_events(&order_id).await.unwrap();
        let events: Vec<OrderEvent> =
            rows.iter().map(|r| serde_json::from_value(r.payload.clone()).unwrap()).collect();
        let confirmations =
            events.iter().filter(|e| matches!(e, OrderEvent::Confirmed { .. })).count();
        let was_answered = confirmed_answers.iter().any(|(c, _)| c == chat);
        if was_answered {
            assert_eq!(confirmations, 1, "answered confirmation stored exactly once");
        } else {
            assert!(confirmations <= 1);
        }
        let folded = OrderState::fold(Currency::parse("USD").unwrap(), &events).unwrap();
        let projection = db.store.order_summary(&number).await.unwrap().unwrap();
        assert_eq!(projection.status, folded.status, "{number}");
        assert_eq!(projection.total, folded.totals.total.minor(), "{number}");
    }
    drop(server);
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_burst_of_confirmations_survives_sigkill() {
    burst_of_confirmations_survives_sigkill(testing::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_burst_of_confirmations_survives_sigkill() {
    let Some(db) = testing::postgres().await else { return };
    burst_of_confirmations_survives_sigkill(db).await;
}

/// What the loopback receiver got: (webhook-id, order number, seq) per accepted request.
type Got = Arc<std::sync::Mutex<Vec<(String, String, u64)>>>;

/// A receiver that takes every message after a pause, so that messages queue up.
async fn slow_receiver(pause: Duration) -> (Got, String) {
    use axum::{body::Bytes, extract::State, http::HeaderMap, routing::post, Router};
    async fn receive(
        State((got, pause)): State<(Got, Duration)>,
        headers: HeaderMap,
        body: Bytes,
    ) -> &'static str {
        tokio::time::sleep(pause).await;
        let body: Value = serde_json::from_slice(&body).unwrap();
        let id = headers["webhook-id"].to_str().unwrap().to_owned();
        let number = body["data"]["order"]["number"].as_str().unwrap().to_owned();
        let seq = body["data"]["event"]["seq"].as_u64().unwrap();
        got.lock().unwrap().push((id, number, seq));
        "ok"
    }
    let got: Got = Arc::default();
    let app = Router::new().route("/hook", post(receive)).with_state((got.clone(), pause));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (got, url)
}

/// SIGKILL while webhook messages are queued and in flight: after a restart every
/// message arrives (at least once), and each order's in seq order.
async fn queued_webhooks_survive_sigkill(db: TestDatabase) {
    server::tls::install_crypto_provider();
    let (got, url) = slow_receiver(Duration::from_millis(150)).await;
    db.store
        .add_endpoint(&gapless_store::NewEndpoint {
            id: "ep_crash".into(),
            url,
            events: vec!["order.*".into()],
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
            created_ms: 0,
        })
        .await
        .unwrap();
    // A short timeout keeps the lease of what the dead server held short.
    let env = [("GAPLESS_WEBHOOK_TIMEOUT_MS", "1000")];
    let mut server = start_with(&db.url, &env).await;
    let client = reqwest::Client::new();
    let mut chats = Vec::new();
    for n in 0..8 {
        let created: Value = client
            .post(format!("{}/api/v1/conversations", server.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let chat = created["id"].as_str().unwrap().to_owned();
        say(&client, &server.base, &chat, "two diet cokes and a tee in m black", &format!("a{n}"))
            .await;
        say(&client, &server.base, &chat, "and a trail bottle", &format!("b{n}")).await;
        chats.push(chat);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while got.lock().unwrap().len() < 3 {
        assert!(Instant::now() < deadline, "no webhook arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Command::new("kill").args(["-KILL", &server.child.id().to_string()]).status().unwrap();
    server.child.wait().unwrap();
    let before_restart = got.lock().unwrap().len();

    let mut expected = std::collections::HashSet::new();
    for chat in &chats {
        let conversation = db.store.conversation(chat).await.unwrap().unwrap();
        for row in db.store.order_events(&conversation.order_id.unwrap()).await.unwrap() {
            expected.insert(row.id);
        }
    }
    assert!(before_restart < expected.len(), "everything was sent before the kill");

    let _server = start_with(&db.url, &env).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let received: std::collections::HashSet<String> =
            got.lock().unwrap().iter().map(|(id, _, _)| id.clone()).collect();
        if expected.is_subset(&received) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} messages arrived after the restart",
            received.intersection(&expected).count(),
            expected.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Per order, first arrivals in seq order (a message in flight at the kill may
    // come twice: at least once).
    let mut last: std::collections::HashMap<String, u64> = Default::default();
    let mut seen = std::collections::HashSet::new();
    for (id, number, seq) in got.lock().unwrap().iter() {
        if !seen.insert(id.clone()) {
            continue;
        }
        let before = last.insert(number.clone(), *seq).unwrap_or(0);
        assert!(*seq > before, "order {number}: seq {seq} arrived after {before}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_queued_webhooks_survive_sigkill() {
    queued_webhooks_survive_sigkill(testing::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_queued_webhooks_survive_sigkill() {
    let Some(db) = testing::postgres().await else { return };
    queued_webhooks_survive_sigkill(db).await;
}

/// SIGKILL while customer emails are queued and in flight (the SMTP server takes a
/// second per message): after a restart every confirmation is mailed, at least once,
/// each with its event's Message-ID.
async fn queued_emails_survive_sigkill(db: TestDatabase) {
    server::tls::install_crypto_provider();
    let smtp = smtp::SmtpServer::start_on(
        0,
        smtp::SmtpServer::always_accept(),
        Duration::from_millis(1000),
    )
    .await;
    let url = smtp.url();
    // A short webhook timeout keeps the lease of what the dead server held short.
    let env = [
        ("GAPLESS_WEBHOOK_TIMEOUT_MS", "1000"),
        ("GAPLESS_SMTP_URL", url.as_str()),
        ("GAPLESS_MAIL_FROM", "Trail Shop <orders@shop.test>"),
    ];
    let mut server = start_with(&db.url, &env).await;
    let client = reqwest::Client::new();
    let mut chats = Vec::new();
    for n in 0..6 {
        let created: Value = client
            .post(format!("{}/api/v1/conversations", server.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let chat = created["id"].as_str().unwrap().to_owned();
        let key = |step: &str| format!("{step}{n}");
        say(&client, &server.base, &chat, "a trail bottle", &key("a")).await;
        let who = format!("my name is Ana Ruiz, ana{n}@example.com");
        say(&client, &server.base, &chat, &who, &key("b")).await;
        let to = "ship to 12 Main St, Springfield, 62701, US";
        say(&client, &server.base, &chat, to, &key("c")).await;
        say(&client, &server.base, &chat, "confirm", &key("d")).await;
        say(&client, &server.base, &chat, "yes", &key("e")).await;
        chats.push(chat);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while smtp.offered() < 1 {
        assert!(Instant::now() < deadline, "no email was offered");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Command::new("kill").args(["-KILL", &server.child.id().to_string()]).status().unwrap();
    server.child.wait().unwrap();

    let mut expected = std::collections::HashSet::new();
    for chat in &chats {
        let conversation = db.store.conversation(chat).await.unwrap().unwrap();
        for row in db.store.order_events(&conversation.order_id.unwrap()).await.unwrap() {
            if row.event_type == "confirmed" {
                expected.insert(format!("<{}@shop.test>", row.id));
            }
        }
    }
    assert_eq!(expected.len(), 6);
    let before_restart = smtp.accepted().len();
    assert!(before_restart < expected.len(), "everything was mailed before the kill");

    let _server = start_with(&db.url, &env).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let received: std::collections::HashSet<String> =
            smtp.accepted().iter().filter_map(|m| m.header("Message-ID")).collect();
        if expected.is_subset(&received) {
            assert_eq!(received.len(), expected.len(), "a message no event stands for");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} emails arrived after the restart",
            received.intersection(&expected).count(),
            expected.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mailed = smtp.accepted();
    for chat in 0..6 {
        let to = format!("ana{chat}@example.com");
        assert!(mailed.iter().any(|m| m.to == [to.clone()]), "nothing to {to}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_queued_emails_survive_sigkill() {
    queued_emails_survive_sigkill(testing::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_queued_emails_survive_sigkill() {
    let Some(db) = testing::postgres().await else { return };
    queued_emails_survive_sigkill(db).await;
}
