//! The webhook outbox contract, on SQLite always and on PostgreSQL when
//! `TEST_DATABASE_URL` is set (skipped with a message otherwise).

use std::{collections::HashSet, sync::Arc};

use gapless_store::{
    contract, new_id, AttemptNext, AttemptRecord, DeliveryStatus, FanOut, NewEndpoint, Store,
};
use time::OffsetDateTime;

mod support;
use support::{write_events, LEASE};

fn endpoint(id: &str, events: &[&str]) -> NewEndpoint {
    NewEndpoint {
        id: id.to_owned(),
        url: format!("http://127.0.0.1:9/{id}"),
        events: events.iter().map(|e| e.to_string()).collect(),
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        created_ms: 1,
    }
}

/// Fans out every waiting row to the endpoints whose filters take it.
async fn fan_out_all(store: &dyn Store, now: i64) -> usize {
    let endpoints = store.endpoints().await.unwrap();
    let rows = store.claim_unfanned(now, LEASE, 100).await.unwrap();
    let fan: Vec<FanOut> = rows
        .iter()
        .map(|row| FanOut {
            outbox_id: row.id,
            stream: row.stream.clone(),
            seq: row.seq,
            body: format!("{{\"seq\":{}}}", row.seq),
            endpoint_ids: endpoints
                .iter()
                .filter(|e| gapless_domain::webhooks::takes(&e.events, &row.topic))
                .map(|e| e.id.clone())
                .collect(),
            email: None,
        })
        .collect();
    store.fan_out(&fan, now).await.unwrap();
    rows.len()
}

fn attempt(id: i64, at: i64, next: AttemptNext) -> AttemptRecord {
    AttemptRecord {
        delivery_id: id,
        at_ms: at,
        status_code: Some(if next == AttemptNext::Delivered { 200 } else { 500 }),
        latency_ms: 3,
        error: (next != AttemptNext::Delivered).then(|| "HTTP 500".into()),
        next,
    }
}

async fn endpoints_are_added_paused_and_removed(store: Arc<dyn Store>) {
    assert!(store.add_endpoint(&endpoint("a", &["*"])).await.unwrap());
    assert!(!store.add_endpoint(&endpoint("a", &["order.*"])).await.unwrap(), "id taken");
    assert!(store.add_endpoint(&endpoint("b", &["order.*", "return.refunded"])).await.unwrap());
    let listed = store.endpoints().await.unwrap();
    assert_eq!(listed.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(listed[1].events, ["order.*", "return.refunded"]);
    assert!(!listed[0].paused);
    assert!(!format!("{:?}", listed[0]).contains("whsec_"), "Debug shows the secret");

    assert!(store.set_endpoint_paused("a", true).await.unwrap());
    assert!(store.endpoints().await.unwrap()[0].paused);
    assert!(!store.set_endpoint_paused("nope", true).await.unwrap());
    assert!(store.remove_endpoint("a").await.unwrap());
    assert!(!store.remove_endpoint("a").await.unwrap());
    assert_eq!(store.endpoints().await.unwrap().len(), 1);
}

async fn messages_of_one_order_go_out_in_seq_order(store: Arc<dyn Store>) {
    store.add_endpoint(&endpoint("all", &["*"])).await.unwrap();
    store.add_endpoint(&endpoint("confirmed", &["order.confirmed"])).await.unwrap();
    let order = new_id();
    let chat = write_events(&*store, None, &order, 0, &["line_added", "summary_shown"]).await;
    write_events(&*store, Some(&chat), &order, 2, &["confirmed"]).await;
    let other = new_id();
    write_events(&*store, None, &other, 0, &["line_added"]).await;

    let rows = store.claim_unfanned(1_000, LEASE, 100).await.unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(
        rows.iter().map(|r| (r.topic.as_str(), r.seq)).collect::<Vec<_>>(),
        [
            ("order.line_added", 1),
            ("order.summary_shown", 2),
            ("order.confirmed", 3),
            ("order.line_added", 1)
        ]
    );
    assert_eq!(rows[0].stream, format!("order:{order}"));
    // The message names its event and order; the event's payload stays in its own table.
    let message = rows[2].payload.as_object().expect("a JSON object");
    let mut keys = message.keys().map(String::as_str).collect::<Vec<_>>();
    keys.sort_unstable();
    assert_eq!(keys, ["event_id", "order_id", "order_number", "seq", "type"]);
    assert_eq!(
        (&message["event_id"], &message["order_id"], &message["seq"], &message["type"]),
        (
            &serde_json::json!(rows[2].event_id),
            &serde_json::json!(order),
            &serde_json::json!(3),
            &serde_json::json!("confirmed")
        )
    );
    // Leased: a second worker gets none of them until the lease runs out.
    assert!(store.claim_unfanned(1_001, LEASE, 100).await.unwrap().is_empty());
    // Not fanned out yet: nothing can be sent.
    assert!(store.claim_deliveries(1_000, LEASE, 100).await.unwrap().is_empty());
    let again = store.claim_unfanned(1_000 + LEASE + 1, LEASE, 100).await.unwrap();
    assert_eq!(again.len(), 4, "an expired lease gives the rows back");
    // Fanned out once that second lease ran out too.
    let fan_at = 1_000 + 2 * LEASE + 2;
    assert_eq!(fan_out_all(&*store, fan_at).await, 4);
    let health = store.outbox_health().await.unwrap();
    assert_eq!((health.unfanned, health.pending, health.failed), (0, 5, 0));

    // For each endpoint and stream only the first pending message is due.
    let now = fan_at + 1_000;
    let claims = store.claim_deliveries(now, LEASE, 100).await.unwrap();
    let mut due: Vec<(String, String)> =
        claims.iter().map(|c| (c.endpoint_id.clone(), c.topic.clone())).collect();
    due.sort();
    assert_eq!(
        due,
        [
            ("all".to_owned(), "order.line_added".to_owned()),
            ("all".to_owned(), "order.line_added".to_owned()),
            ("confirmed".to_owned(), "order.confirmed".to_owned()),
        ]
    );
    assert!(claims.iter().all(|c| c.secret.starts_with("whsec_") && c.body.contains("seq")));
    // Leased: claiming again right away finds nothing new.
    assert!(store.claim_deliveries(now, LEASE, 100).await.unwrap().is_empty());

    // The first of the order for "all" fails and is retried later: the second waits.
    let first = claims
        .iter()
        .find(|c| c.endpoint_id == "all" && c.message_id == rows[0].event_id)
        .expect("the order's first message")
        .clone();
    store.record_attempt(&attempt(first.id, now, AttemptNext::RetryAt(now + 5_000))).await.unwrap();
    let others: Vec<i64> = claims.iter().filter(|c| c.id != first.id).map(|c| c.id).collect();
    for id in &others {
        store.record_attempt(&attempt(*id, now, AttemptNext::Delivered)).await.unwrap();
    }
    assert!(store.claim_deliveries(now + 1, LEASE, 100).await.unwrap().is_empty());
    let retried = store.claim_deliveries(now + 5_000, LEASE, 100).await.unwrap();
    assert_eq!(retried.iter().map(|c| c.id).collect::<Vec<_>>(), [first.id]);
    assert_eq!(retried[0].attempts, 1);
    assert_eq!(retried[0].first_attempt_ms, Some(now));
    store.record_attempt(&attempt(first.id, now + 5_000, AttemptNext::Delivered)).await.unwrap();
    let second = store.claim_deliveries(now + 5_001, LEASE, 100).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].topic, "order.summary_shown");
    // A message given up on lets the next one go.
    store.record_attempt(&attempt(second[0].id, now + 5_001, AttemptNext::Failed)).await.unwrap();
    let third = store.claim_deliveries(now + 5_002, LEASE, 100).await.unwrap();
    assert_eq!(third.len(), 1);
    assert_eq!(
        (third[0].endpoint_id.as_str(), third[0].topic.as_str()),
        ("all", "order.confirmed")
    );
    store.record_attempt(&attempt(third[0].id, now + 5_002, AttemptNext::Delivered)).await.unwrap();

    let listed = store.deliveries("all", None, 10).await.unwrap();
    assert_eq!(listed.len(), 4);
    let failed = store.deliveries("all", Some(DeliveryStatus::Failed), 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].last_status, Some(500));
    assert_eq!(failed[0].last_error.as_deref(), Some("HTTP 500"));
    let health = store.outbox_health().await.unwrap();
    assert_eq!((health.pending, health.failed), (0, 1));

    // Send again: pending and due at once, attempts counted afresh.
    assert!(!store.redeliver("confirmed", failed[0].id, now + 6_000).await.unwrap());
    assert!(store.redeliver("all", failed[0].id, now + 6_000).await.unwrap());
    let resent = store.claim_deliveries(now + 6_000, LEASE, 100).await.unwrap();
    assert_eq!(resent.iter().map(|c| c.id).collect::<Vec<_>>(), [failed[0].id]);
    assert_eq!(resent[0].attempts, 0);
}

async fn a_paused_endpoint_gets_nothing_until_resumed(store: Arc<dyn Store>) {
    store.add_endpoint(&endpoint("p", &["*"])).await.unwrap();
    store.set_endpoint_paused("p", true).await.unwrap();
    write_events(&*store, None, &new_id(), 0, &["line_added"]).await;
    fan_out_all(&*store, 1_000).await;
    assert!(store.claim_deliveries(2_000, LEASE, 10).await.unwrap().is_empty());
    store.set_endpoint_paused("p", false).await.unwrap();
    assert_eq!(store.claim_deliveries(2_000, LEASE, 10).await.unwrap().len(), 1);
}

async fn released_claims_are_due_again(store: Arc<dyn Store>) {
    store.add_endpoint(&endpoint("r", &["*"])).await.unwrap();
    write_events(&*store, None, &new_id(), 0, &["line_added"]).await;
    fan_out_all(&*store, 1_000).await;
    let claims = store.claim_deliveries(2_000, LEASE, 10).await.unwrap();
    assert_eq!(claims.len(), 1);
    store.release_deliveries(&[claims[0].id]).await.unwrap();
    let again = store.claim_deliveries(2_001, LEASE, 10).await.unwrap();
    assert_eq!(again.iter().map(|c| c.id).collect::<Vec<_>>(), [claims[0].id]);
}

async fn concurrent_claimers_never_share_a_delivery(store: Arc<dyn Store>) {
    store.add_endpoint(&endpoint("c", &["*"])).await.unwrap();
    for _ in 0..40 {
        write_events(&*store, None, &new_id(), 0, &["line_added"]).await;
    }
    fan_out_all(&*store, 1_000).await;
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let claims = store.claim_deliveries(2_000, LEASE, 3).await.unwrap();
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
    assert_eq!(unique.len(), all.len(), "a delivery was claimed twice");
    assert_eq!(all.len(), 40);
}

async fn test_messages_and_pruning(store: Arc<dyn Store>) {
    store.add_endpoint(&endpoint("t", &["order.confirmed"])).await.unwrap();
    assert_eq!(store.enqueue_test("nope", &new_id(), "{}", 1_000).await.unwrap(), None);
    let id =
        store.enqueue_test("t", &new_id(), "{\"type\":\"webhook.test\"}", 1_000).await.unwrap();
    let claims = store.claim_deliveries(1_000, LEASE, 10).await.unwrap();
    assert_eq!(claims.iter().map(|c| Some(c.id)).collect::<Vec<_>>(), [id]);
    assert_eq!(claims[0].topic, "webhook.test");
    store.record_attempt(&attempt(claims[0].id, 1_500, AttemptNext::Delivered)).await.unwrap();
    // An event no endpoint takes, fanned out to none.
    write_events(&*store, None, &new_id(), 0, &["line_added"]).await;
    let now = gapless_store::unix_ms(OffsetDateTime::now_utc());
    fan_out_all(&*store, now).await;
    // Nothing is older than the cutoff yet.
    assert_eq!(store.prune_outbox(1_000).await.unwrap(), 0);
    assert_eq!(store.prune_outbox(now + 1).await.unwrap(), 2);
    assert!(store.deliveries("t", None, 10).await.unwrap().is_empty());
}

async fn removing_an_endpoint_drops_its_queue(store: Arc<dyn Store>) {
    store.add_endpoint(&endpoint("gone", &["*"])).await.unwrap();
    write_events(&*store, None, &new_id(), 0, &["line_added"]).await;
    fan_out_all(&*store, 1_000).await;
    assert_eq!(store.outbox_health().await.unwrap().pending, 1);
    store.remove_endpoint("gone").await.unwrap();
    assert_eq!(store.outbox_health().await.unwrap().pending, 0);
    assert!(store.claim_deliveries(2_000, LEASE, 10).await.unwrap().is_empty());
}

contract!(
    endpoints_are_added_paused_and_removed,
    messages_of_one_order_go_out_in_seq_order,
    a_paused_endpoint_gets_nothing_until_resumed,
    released_claims_are_due_again,
    concurrent_claimers_never_share_a_delivery,
    test_messages_and_pruning,
    removing_an_endpoint_drops_its_queue,
);
