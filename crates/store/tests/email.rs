//! The customer email queue contract, on SQLite always and on PostgreSQL when
//! `TEST_DATABASE_URL` is set (skipped with a message otherwise).

use std::{collections::HashSet, sync::Arc};

use gapless_store::{
    contract, new_id, AttemptNext, EmailAttempt, EmailStatus, FanOut, NewEmail, OutboxMessage,
    Store,
};

mod support;
use support::{write_events, LEASE};

fn email(row: &OutboxMessage, subject: &str) -> NewEmail {
    NewEmail {
        order_number: "G-100042".into(),
        rma: None,
        recipient: "ana@example.com".into(),
        message_id: format!("<{}@shop.example>", row.event_id),
        subject: subject.to_owned(),
        message: format!("Subject: {subject}\r\n\r\nseq {}\r\n", row.seq),
    }
}

/// Fans out every waiting row, with a message for the `order.confirmed` and
/// `order.shipped` ones; returns the rows.
async fn fan_out_mail(store: &dyn Store, now: i64, subject: &str) -> Vec<OutboxMessage> {
    let rows = store.claim_unfanned(now, LEASE, 100).await.unwrap();
    fan_out_rows(store, &rows, now, subject).await;
    rows
}

async fn fan_out_rows(store: &dyn Store, rows: &[OutboxMessage], now: i64, subject: &str) {
    let fan: Vec<FanOut> = rows
        .iter()
        .map(|row| FanOut {
            outbox_id: row.id,
            stream: row.stream.clone(),
            seq: row.seq,
            body: String::new(),
            endpoint_ids: Vec::new(),
            email: matches!(row.topic.as_str(), "order.confirmed" | "order.shipped")
                .then(|| email(row, subject)),
        })
        .collect();
    store.fan_out(&fan, now).await.unwrap();
}

fn attempt(id: i64, at: i64, next: AttemptNext) -> EmailAttempt {
    EmailAttempt {
        email_id: id,
        at_ms: at,
        error: (next != AttemptNext::Delivered).then(|| "421 4.3.0 try later".into()),
        next,
    }
}

async fn one_message_per_event(store: Arc<dyn Store>) {
    let order = new_id();
    write_events(&*store, None, &order, 0, &["line_added", "confirmed"]).await;
    let rows = fan_out_mail(&*store, 1_000, "first").await;
    assert_eq!(rows.len(), 2);
    // A second worker that outlived its lease fans the same rows out again.
    fan_out_rows(&*store, &rows, 2_000, "second").await;
    let listed = store.order_emails("G-100042").await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].subject, "first");
    assert_eq!(listed[0].topic, "order.confirmed");
    assert_eq!(listed[0].status, EmailStatus::Pending);
    assert_eq!(listed[0].event_id, rows[1].event_id);

    let claims = store.claim_emails(3_000, LEASE, 10).await.unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].message_id, format!("<{}@shop.example>", rows[1].event_id));
    assert_eq!(claims[0].recipient, "ana@example.com");
    assert!(!format!("{:?}", claims[0]).contains("ana@"), "Debug shows the address");
    store
        .record_email_attempt(&attempt(claims[0].id, 3_100, AttemptNext::Delivered))
        .await
        .unwrap();
    assert!(store.claim_emails(10_000_000, LEASE, 10).await.unwrap().is_empty());
    let listed = store.order_emails("G-100042").await.unwrap();
    assert_eq!(listed[0].status, EmailStatus::Sent);
    assert_eq!((listed[0].attempts, listed[0].done_ms), (1, Some(3_100)));
    // A late record of the same message changes nothing.
    store.record_email_attempt(&attempt(claims[0].id, 4_000, AttemptNext::Failed)).await.unwrap();
    assert_eq!(store.order_emails("G-100042").await.unwrap()[0].status, EmailStatus::Sent);
}

async fn messages_of_one_order_go_out_in_order_and_retry(store: Arc<dyn Store>) {
    let order = new_id();
    let conversation = write_events(&*store, None, &order, 0, &["confirmed"]).await;
    write_events(&*store, Some(&conversation), &order, 1, &["shipped"]).await;
    fan_out_mail(&*store, 1_000, "m").await;
    let first = store.claim_emails(1_000, LEASE, 10).await.unwrap();
    assert_eq!(first.len(), 1, "the shipping notice waits for the confirmation");
    assert_eq!(first[0].topic, "order.confirmed");
    store
        .record_email_attempt(&attempt(first[0].id, 1_000, AttemptNext::RetryAt(6_000)))
        .await
        .unwrap();
    assert!(store.claim_emails(5_999, LEASE, 10).await.unwrap().is_empty(), "not due yet");
    let again = store.claim_emails(6_000, LEASE, 10).await.unwrap();
    assert_eq!(again.iter().map(|c| c.id).collect::<Vec<_>>(), [first[0].id]);
    assert_eq!((again[0].attempts, again[0].first_attempt_ms), (1, Some(1_000)));
    store.record_email_attempt(&attempt(again[0].id, 6_000, AttemptNext::Delivered)).await.unwrap();
    let shipped = store.claim_emails(6_001, LEASE, 10).await.unwrap();
    assert_eq!(shipped.len(), 1);
    assert_eq!(shipped[0].topic, "order.shipped");
    let refused = EmailAttempt {
        email_id: shipped[0].id,
        at_ms: 6_002,
        error: Some("550 5.1.1 mailbox unavailable".into()),
        next: AttemptNext::Failed,
    };
    store.record_email_attempt(&refused).await.unwrap();
    let listed = store.order_emails("G-100042").await.unwrap();
    assert_eq!(
        listed.iter().map(|e| e.status).collect::<Vec<_>>(),
        [EmailStatus::Sent, EmailStatus::Failed]
    );
    assert_eq!(listed[1].last_error.as_deref(), Some("550 5.1.1 mailbox unavailable"));
    let health = store.email_health().await.unwrap();
    assert_eq!((health.pending, health.sent, health.failed), (0, 1, 1));
}

async fn leases_hold_and_run_out(store: Arc<dyn Store>) {
    write_events(&*store, None, &new_id(), 0, &["confirmed"]).await;
    fan_out_mail(&*store, 1_000, "m").await;
    let health = store.email_health().await.unwrap();
    assert_eq!((health.pending, health.oldest_pending_ms.is_some()), (1, true));
    let claims = store.claim_emails(1_000, LEASE, 10).await.unwrap();
    assert_eq!(claims.len(), 1);
    assert!(store.claim_emails(1_001, LEASE, 10).await.unwrap().is_empty(), "leased");
    store.release_emails(&[claims[0].id]).await.unwrap();
    let back = store.claim_emails(1_002, LEASE, 10).await.unwrap();
    assert_eq!(back.len(), 1);
    // A worker that died holding it: the message comes back when the lease runs out.
    assert!(store.claim_emails(1_002 + LEASE, LEASE, 10).await.unwrap().is_empty());
    assert_eq!(store.claim_emails(1_003 + LEASE, LEASE, 10).await.unwrap().len(), 1);
}

async fn concurrent_claimers_never_share_a_message(store: Arc<dyn Store>) {
    for _ in 0..30 {
        write_events(&*store, None, &new_id(), 0, &["confirmed"]).await;
    }
    fan_out_mail(&*store, 1_000, "m").await;
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let claims = store.claim_emails(2_000, LEASE, 3).await.unwrap();
                    if claims.is_empty() {
                        return got;
                    }
                    got.extend(claims.into_iter().map(|c| c.id));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "a message was claimed twice");
    assert_eq!(all.len(), 30);
}

async fn pruning_the_outbox_keeps_what_was_mailed(store: Arc<dyn Store>) {
    write_events(&*store, None, &new_id(), 0, &["confirmed"]).await;
    fan_out_mail(&*store, 1_000, "m").await;
    assert_eq!(store.prune_outbox(i64::MAX).await.unwrap(), 1);
    let listed = store.order_emails("G-100042").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(store.claim_emails(2_000, LEASE, 10).await.unwrap().len(), 1);
}

contract!(
    one_message_per_event,
    messages_of_one_order_go_out_in_order_and_retry,
    leases_hold_and_run_out,
    concurrent_claimers_never_share_a_message,
    pruning_the_outbox_keeps_what_was_mailed,
);
