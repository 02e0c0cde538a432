//! Customer email (CONTRACTS §10) through a real SMTP server on loopback
//! (`tests/smtp`): the messages an order and a return send, their headers, both parts
//! and the figures; the SMTP server down, then answering 4xx, then 5xx; what staff see;
//! and a shop without email.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use serde_json::{json, Value};
use server::staff::accounts::StaffRole;
use time::OffsetDateTime;

use crate::{
    helpers::{spawn_app_with, Backend, TestApp},
    returns::a_return,
    smtp::{Mail, Reply, SmtpServer},
};

const FROM: &str = "Trail Shop <orders@shop.test>";

async fn app_mailing_to(backend: Backend, url: String) -> Option<TestApp> {
    spawn_app_with(backend, move |args| {
        args.smtp_url = Some(url.into());
        args.mail_from = Some(FROM.to_owned());
    })
    .await
}

impl TestApp {
    /// The order as the staff console reads it, emails included.
    async fn staff_view(&self, number: &str) -> Value {
        let found = server::audit::order_events(self.db.store.as_ref(), number).await.unwrap();
        serde_json::to_value(found).unwrap()
    }

    async fn wait_for_emails(&self, number: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        for _ in 0..600 {
            let view = self.staff_view(number).await;
            let emails = view["emails"].as_array().cloned().unwrap_or_default();
            if done(&emails) {
                return emails;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out; emails: {:#}", self.staff_view(number).await["emails"]);
    }
}

fn one_about<'a>(mails: &'a [Mail], subject_part: &str) -> &'a Mail {
    let found: Vec<_> = mails
        .iter()
        .filter(|m| m.header("Subject").is_some_and(|s| s.contains(subject_part)))
        .collect();
    assert_eq!(found.len(), 1, "one message about {subject_part:?}: {mails:#?}");
    found[0]
}

async fn an_order_and_its_return_mail_the_customer(backend: Backend) {
    let smtp = SmtpServer::start(SmtpServer::always_accept()).await;
    let Some(app) = app_mailing_to(backend, smtp.url()).await else { return };
    let chat = app.start_chat().await;
    app.say(&chat, "two black tees in M").await;
    app.say(&chat, "my name is Ana Ruiz, ana@example.com").await;
    app.say(&chat, "ship to 12 Main St, Springfield, 62701, US").await;
    app.say(&chat, "confirm").await;
    let done = app.say(&chat, "yes").await;
    assert!(done["reply"].as_str().unwrap().contains("We'll send updates to ana@example.com"));
    let number = done["order"]["number"].as_str().unwrap().to_owned();
    let total = done["order"]["totals"]["total"].as_i64().unwrap();
    let total = format!("${}.{:02}", total / 100, total % 100);

    let mails = smtp.wait_for("the confirmation", |m| !m.is_empty()).await;
    let confirmed = one_about(&mails, "is confirmed");
    assert_eq!(confirmed.from, "orders@shop.test");
    assert_eq!(confirmed.to, ["ana@example.com"]);
    let from = confirmed.header("From").unwrap();
    assert!(from.contains("Trail Shop") && from.ends_with("<orders@shop.test>"), "{from}");
    assert_eq!(confirmed.header("To").unwrap(), "ana@example.com");
    assert_eq!(
        confirmed.header("Subject").unwrap(),
        format!("Trail Shop: order {number} is confirmed")
    );
    assert!(confirmed.header("Date").is_some());
    let view = app.staff_view(&number).await;
    let event_id =
        view["events"].as_array().unwrap().iter().find(|e| e["type"] == "confirmed").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
    assert_eq!(confirmed.header("Message-ID").unwrap(), format!("<{event_id}@shop.test>"));
    assert!(confirmed.header("Content-Type").unwrap().starts_with("multipart/alternative"));
    let text = confirmed.part("text/plain").expect("a text part");
    let html = confirmed.part("text/html").expect("an HTML part");
    for part in [&text, &html] {
        assert!(part.contains(&number), "{part}");
        assert!(part.contains("Total"), "{part}");
        assert!(part.contains(&total), "total {total} in {part}");
        assert!(part.contains("Ana Ruiz"), "{part}");
        assert!(part.contains("12 Main St"), "{part}");
    }
    assert!(text.contains("- 2 x Black tee") || text.contains("- 2 x "), "{text}");
    assert!(html.contains("<table"), "{html}");
    assert!(!html.contains("<img"), "no tracking pixels: {html}");

    // Shipped, with tracking.
    let key = app.api_key("warehouse").await;
    app.fulfil(&key, &number, "shipped", OffsetDateTime::now_utc()).await;
    let mails = smtp.wait_for("the shipping notice", |m| m.len() >= 2).await;
    let shipped = one_about(&mails, "has shipped");
    let text = shipped.part("text/plain").unwrap();
    assert!(text.contains("with UPS") && text.contains("1Z999"), "{text}");
    assert!(text.contains("https://track.example/1Z999"), "{text}");
    // Auto-escaped like everything in the HTML part ("/" as "&#x2f;"), which browsers
    // read back as the link.
    let html = shipped.part("text/html").unwrap();
    assert!(html.contains("href=\"https:&#x2f;&#x2f;track.example&#x2f;1Z999\""), "{html}");

    // A return: the decision, then the refund.
    let rma = a_return(&app, &number, "changed_mind").await;
    let mails = smtp.wait_for("the return's decision", |m| m.len() >= 3).await;
    let decision = one_about(&mails, &rma);
    assert!(decision.header("Subject").unwrap().contains("is approved"));
    let text = decision.part("text/plain").unwrap();
    assert!(text.contains("1 x ") && text.contains("approved"), "{text}");
    assert!(text.contains("Pack the approved items"), "{text}");
    app.sign_in_as(StaffRole::Admin).await;
    let received = app.staff_records(&rma, json!({ "type": "received" })).await;
    assert_eq!(received.status(), 200);
    let refunded: Value =
        app.staff_records(&rma, json!({ "type": "refunded" })).await.json().await.unwrap();
    let amount = refunded["refund_amount"].as_i64().unwrap();
    let amount = format!("${}.{:02}", amount / 100, amount % 100);
    let mails = smtp.wait_for("the refund", |m| m.len() >= 4).await;
    let refund = one_about(&mails, "your refund");
    assert!(refund.header("Subject").unwrap().contains(&amount), "{amount}");
    assert!(refund.part("text/html").unwrap().contains(&amount));
    assert_eq!(mails.len(), 4, "received mails nobody");

    // Staff see every message, sent, on the order.
    // The last one may be accepted a moment before its attempt is recorded.
    let emails = app
        .wait_for_emails(&number, |e| e.len() == 4 && e.iter().all(|e| e["status"] == "sent"))
        .await;
    assert!(emails.iter().all(|e| e["attempts"] == 1), "{emails:#?}");
    let kinds: Vec<&str> = emails.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["order.confirmed", "order.shipped", "return.approved", "return.refunded"]);
    let page = app.get(&format!("/staff/orders/{number}")).await.text().await.unwrap();
    assert!(page.contains("Emails to the customer"), "{page}");
    assert!(page.contains(&format!("Trail Shop: order {number} has shipped")), "{page}");
    let metrics = app.scrape().await.text().await.unwrap();
    assert!(metrics.contains("gapless_email_attempts_total{outcome=\"sent\"} 4"), "{metrics}");
    assert!(metrics.contains("gapless_email_failed_messages 0"), "{metrics}");
}

/// The SMTP server is down, then answers 4xx, then takes the message: it arrives once,
/// with its Message-ID. Then a 5xx is final and staff see why.
async fn smtp_down_then_up_then_refusing(backend: Backend) {
    let port = SmtpServer::free_port();
    let Some(app) = app_mailing_to(backend, crate::smtp::url(port)).await else { return };
    let number = app.confirmed_order("a trail bottle", "ana@example.com").await;
    let emails = app
        .wait_for_emails(&number, |e| e.len() == 1 && e[0]["attempts"].as_u64() >= Some(1))
        .await;
    assert_eq!(emails[0]["status"], "pending", "a connection error is retried");
    assert!(emails[0]["next_attempt_at"].is_string());
    assert!(emails[0]["last_error"].is_string());

    let refused_once = Arc::new(AtomicBool::new(false));
    let flag = refused_once.clone();
    let refuse_5xx = Arc::new(AtomicBool::new(false));
    let permanent = refuse_5xx.clone();
    let behaviour: crate::smtp::Behaviour = Arc::new(move |_| {
        if permanent.load(Ordering::SeqCst) {
            Reply::Refuse(550, "5.1.1 <bob@example.com>: mailbox unavailable")
        } else if !flag.swap(true, Ordering::SeqCst) {
            Reply::Refuse(451, "4.3.0 try again later")
        } else {
            Reply::Accept
        }
    });
    let smtp = SmtpServer::start_on(port, behaviour, Duration::ZERO).await;
    let mails = smtp.wait_for("the confirmation", |m| !m.is_empty()).await;
    let emails = app.wait_for_emails(&number, |e| e[0]["status"] == "sent").await;
    assert!(emails[0]["attempts"].as_u64().unwrap() >= 3, "down, 451, sent: {emails:#?}");
    assert!(refused_once.load(Ordering::SeqCst));
    assert_eq!(smtp.offered(), 2, "offered twice (451, then taken)");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.accepted().len(), 1, "never sent twice");
    let message_id = mails[0].header("Message-ID").unwrap();
    assert!(message_id.ends_with("@shop.test>"), "{message_id}");

    refuse_5xx.store(true, Ordering::SeqCst);
    let other = app.confirmed_order("a trail bottle", "bob@example.com").await;
    let emails = app.wait_for_emails(&other, |e| e.len() == 1 && e[0]["status"] == "failed").await;
    assert_eq!(emails[0]["attempts"], 1, "a 5xx is not retried");
    let error = emails[0]["last_error"].as_str().unwrap();
    assert!(error.contains("550") && error.contains("mailbox unavailable"), "{error}");
    let metrics = app.scrape().await.text().await.unwrap();
    assert!(metrics.contains("gapless_email_failed_messages 1"), "{metrics}");
    // The staff dashboard counts it too.
    app.sign_in_as(StaffRole::Agent).await;
    let dashboard: Value = app.get("/api/v1/staff/metrics").await.json().await.unwrap();
    assert_eq!(dashboard["emails"]["failed"], 1, "{}", dashboard["emails"]);
    assert!(metrics.contains("gapless_email_attempts_total{outcome=\"failed\"} 1"), "{metrics}");
}

/// Without SMTP settings nothing is queued and the chat promises no mail.
async fn without_smtp_the_chat_says_where_to_follow_the_order(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else { return };
    let chat = app.start_chat().await;
    app.say(&chat, "a trail bottle").await;
    app.say(&chat, "my name is Ana Ruiz, ana@example.com").await;
    app.say(&chat, "ship to 12 Main St, Springfield, 62701, US").await;
    app.say(&chat, "confirm").await;
    let done = app.say(&chat, "yes").await;
    let reply = done["reply"].as_str().unwrap();
    let number = done["order"]["number"].as_str().unwrap();
    assert!(!reply.contains("send updates"), "{reply}");
    assert!(reply.contains(&format!("where is my order {number}?")), "{reply}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.staff_view(number).await["emails"], json!([]));
}

macro_rules! with_mail {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                super::$test($crate::helpers::Backend::Sqlite).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                super::$test($crate::helpers::Backend::Postgres).await;
            })*
        }
    };
}

with_mail!(
    an_order_and_its_return_mail_the_customer,
    smtp_down_then_up_then_refusing,
    without_smtp_the_chat_says_where_to_follow_the_order,
);
