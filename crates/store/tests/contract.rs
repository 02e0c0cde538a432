//! One contract, two backends: every story here runs against SQLite always and against
//! PostgreSQL when `TEST_DATABASE_URL` is set (skipped with a message otherwise).

use std::sync::Arc;

use gapless_domain::{catalog::Catalog, sku::Sku};
use gapless_store::{
    new_id, CustomerWrite, EventWrite, ImportSummary, LineWrite, NewConversation, OrderProjection,
    OrderWrite, StockKey, StockLevel, Store, StoreError, TurnWrite,
};
use serde_json::json;
use time::{macros::datetime, Duration, OffsetDateTime};

fn catalog(json: &str) -> Catalog {
    Catalog::from_json(json).expect("test catalog is valid")
}

const FIRST: &str = r#"{
  "currency": "USD",
  "products": [
    { "sku": "TEE", "name": "tee", "price": 2500, "stock": 10, "category": "Apparel",
      "options": [ { "name": "color", "kind": "single",
                     "values": [ { "name": "black", "stock": 3 }, { "name": "white" } ] } ] },
    { "sku": "MUG", "name": "mug", "price": 1200, "stock": null },
    { "sku": "CAP", "name": "cap", "price": 1800, "stock": 4, "final_sale": true }
  ]
}"#;

const SECOND: &str = r#"{
  "currency": "USD",
  "products": [
    { "sku": "MUG", "name": "enamel mug", "price": 1400, "stock": 7 },
    { "sku": "TEE", "name": "tee", "price": 2600, "stock": 2,
      "options": [ { "name": "color", "kind": "single",
                     "values": [ { "name": "black" }, { "name": "white", "stock": 5 } ] } ] },
    { "sku": "SOCKS", "name": "socks", "price": 900 }
  ]
}"#;

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

async fn a_new_database_has_no_catalog(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
    assert_eq!(store.catalog().await.unwrap(), None);
    assert_eq!(store.catalog_imported_at().await.unwrap(), None);
    assert!(store.stock_levels().await.unwrap().is_empty());
}

async fn an_imported_catalog_reads_back_equal(store: Arc<dyn Store>) {
    let first = catalog(FIRST);
    let summary = store.replace_catalog(&first).await.unwrap();
    assert_eq!(summary, ImportSummary { added: 3, updated: 0, removed: 0 });
    assert_eq!(store.catalog().await.unwrap(), Some(first));
    assert!(store.catalog_imported_at().await.unwrap().is_some());

    let stock = store.stock_levels().await.unwrap();
    let expected = [
        (StockKey::product(sku("CAP")), 4),
        (StockKey::product(sku("TEE")), 10),
        (StockKey::value(sku("TEE"), "color", "black"), 3),
    ];
    assert_eq!(stock.len(), expected.len(), "{stock:?}");
    for (key, on_hand) in expected {
        assert_eq!(stock[&key], StockLevel { on_hand, reserved: 0 }, "{key:?}");
    }
}

async fn a_second_import_replaces_the_first(store: Arc<dyn Store>) {
    store.replace_catalog(&catalog(FIRST)).await.unwrap();
    let second = catalog(SECOND);
    let summary = store.replace_catalog(&second).await.unwrap();
    assert_eq!(summary, ImportSummary { added: 1, updated: 2, removed: 1 });
    // The order of the file is the order of the shop.
    assert_eq!(store.catalog().await.unwrap(), Some(second));

    let stock = store.stock_levels().await.unwrap();
    let keys: Vec<_> = stock.keys().cloned().collect();
    assert_eq!(
        keys,
        vec![
            StockKey::product(sku("MUG")),
            StockKey::product(sku("TEE")),
            StockKey::value(sku("TEE"), "color", "white"),
        ]
    );
    assert_eq!(stock[&StockKey::product(sku("TEE"))].on_hand, 2);
}

async fn importing_the_same_catalog_twice_changes_nothing(store: Arc<dyn Store>) {
    let first = catalog(FIRST);
    store.replace_catalog(&first).await.unwrap();
    let before = store.stock_levels().await.unwrap();
    let summary = store.replace_catalog(&first).await.unwrap();
    assert_eq!(summary, ImportSummary { added: 0, updated: 3, removed: 0 });
    assert_eq!(store.catalog().await.unwrap(), Some(first));
    assert_eq!(store.stock_levels().await.unwrap(), before);
}

async fn migrating_twice_is_harmless(store: Arc<dyn Store>) {
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
}

async fn start_conversation(store: &dyn Store) -> String {
    let id = new_id();
    let new = NewConversation {
        id: id.clone(),
        channel: "api".into(),
        started_at: OffsetDateTime::now_utc(),
    };
    store.create_conversation(&new).await.unwrap();
    id
}

fn turn(conversation: &str, seq: u32, text: &str) -> TurnWrite {
    TurnWrite {
        conversation_id: conversation.to_owned(),
        turn_id: new_id(),
        seq,
        text: text.to_owned(),
        received_at: OffsetDateTime::now_utc(),
        idempotency_key: None,
        extractor: "rules".into(),
        audit: json!({ "commands": [] }),
        reply: format!("reply to {text}"),
        response: json!({ "reply": format!("reply to {text}") }),
        outcome: None,
        handoff: false,
        order: None,
    }
}

/// An order write for `lines` of TEE at 2500 each, reserving `reserve` tees.
fn order_write(
    order_id: &str,
    number: &str,
    version: u32,
    quantity: u32,
    reserve: u32,
) -> OrderWrite {
    OrderWrite {
        order_id: order_id.to_owned(),
        number: number.to_owned(),
        expected_version: version,
        events: vec![EventWrite {
            id: new_id(),
            event_type: "line_added".into(),
            schema_version: 1,
            payload: json!({ "sku": "TEE", "quantity": quantity }),
        }],
        actor: "shopper".into(),
        projection: OrderProjection {
            status: if reserve > 0 { "confirmed" } else { "draft" }.into(),
            currency: "USD".into(),
            subtotal: 2500 * i64::from(quantity),
            shipping: 0,
            total: 2500 * i64::from(quantity),
            shipping_address: Some(json!({ "line1": "1 Main St", "city": "Springfield" })),
            customer: Some(CustomerWrite {
                email: "ana@example.com".into(),
                name: Some("Ana".into()),
                phone: None,
            }),
            lines: vec![LineWrite {
                sku: "TEE".into(),
                name: "tee".into(),
                quantity,
                choices: json!([]),
                unit_price: 2500,
                total: 2500 * i64::from(quantity),
            }],
        },
        reserve: if reserve > 0 { vec![(StockKey::product(sku("TEE")), reserve)] } else { vec![] },
        release: vec![],
    }
}

async fn turns_are_recorded_in_order(store: Arc<dyn Store>) {
    let conversation = start_conversation(store.as_ref()).await;
    assert_eq!(store.conversation(&conversation).await.unwrap().unwrap().turn_count, 0);
    store.record_turn(&turn(&conversation, 1, "hi")).await.unwrap();
    store.record_turn(&turn(&conversation, 2, "two tees")).await.unwrap();

    let row = store.conversation(&conversation).await.unwrap().unwrap();
    assert_eq!((row.turn_count, row.outcome.as_str(), row.order_id), (2, "open", None));
    let turns = store.turns(&conversation).await.unwrap();
    let texts: Vec<_> = turns.iter().map(|t| (t.seq, t.text.as_str())).collect();
    assert_eq!(texts, vec![(1, "hi"), (2, "two tees")]);
    assert_eq!(turns[1].audit, json!({ "commands": [] }));
    assert!(store.conversation("no-such-id").await.unwrap().is_none());
}

async fn a_turn_number_is_taken_once(store: Arc<dyn Store>) {
    let conversation = start_conversation(store.as_ref()).await;
    store.record_turn(&turn(&conversation, 1, "first")).await.unwrap();
    let error = store.record_turn(&turn(&conversation, 1, "racing")).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    let texts: Vec<_> =
        store.turns(&conversation).await.unwrap().into_iter().map(|t| t.text).collect();
    assert_eq!(texts, vec!["first"]);
}

async fn an_idempotency_key_is_used_once(store: Arc<dyn Store>) {
    let conversation = start_conversation(store.as_ref()).await;
    let mut first = turn(&conversation, 1, "two tees");
    first.idempotency_key = Some("key-1".into());
    store.record_turn(&first).await.unwrap();
    let mut again = turn(&conversation, 2, "two tees");
    again.idempotency_key = Some("key-1".into());
    let error = store.record_turn(&again).await.unwrap_err();
    assert!(matches!(error, StoreError::DuplicateTurn), "{error:?}");
    assert_eq!(
        store.turn_response(&conversation, "key-1").await.unwrap(),
        Some(first.response.clone())
    );
    assert_eq!(store.turn_response(&conversation, "other").await.unwrap(), None);
    assert_eq!(store.conversation(&conversation).await.unwrap().unwrap().turn_count, 1);
}

async fn an_order_is_events_plus_projection(store: Arc<dyn Store>) {
    store.replace_catalog(&catalog(FIRST)).await.unwrap();
    let conversation = start_conversation(store.as_ref()).await;
    let first = store.next_order_number().await.unwrap();
    let second = store.next_order_number().await.unwrap();
    assert!(second > first, "order numbers increase");

    let number = format!("G-{}", 100_000 + first);
    let order_id = new_id();
    let mut draft = turn(&conversation, 1, "two tees");
    draft.order = Some(order_write(&order_id, &number, 0, 2, 0));
    store.record_turn(&draft).await.unwrap();
    let mut confirm = turn(&conversation, 2, "confirm");
    confirm.outcome = Some("ordered".into());
    confirm.order = Some(order_write(&order_id, &number, 1, 3, 3));
    store.record_turn(&confirm).await.unwrap();

    let events = store.order_events(&order_id).await.unwrap();
    let seqs: Vec<_> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2]);
    assert_eq!(events[1].payload, json!({ "sku": "TEE", "quantity": 3 }));
    assert_eq!(events[1].message_id.as_deref(), Some(confirm.turn_id.as_str()));

    let summary = store.order_summary(&number).await.unwrap().unwrap();
    assert_eq!(summary.status, "confirmed");
    assert_eq!(summary.total, 7500);
    assert_eq!(summary.email.as_deref(), Some("ana@example.com"));
    let conversation = store.conversation(&conversation).await.unwrap().unwrap();
    assert_eq!(conversation.outcome, "ordered");
    assert_eq!(conversation.order_id.as_deref(), Some(order_id.as_str()));
    assert_eq!(conversation.order_number.as_deref(), Some(number.as_str()));
    let tee = store.stock_levels().await.unwrap()[&StockKey::product(sku("TEE"))];
    assert_eq!(tee, StockLevel { on_hand: 10, reserved: 3 });
}

async fn a_stale_order_version_writes_nothing(store: Arc<dyn Store>) {
    store.replace_catalog(&catalog(FIRST)).await.unwrap();
    let conversation = start_conversation(store.as_ref()).await;
    let order_id = new_id();
    let mut first = turn(&conversation, 1, "a tee");
    first.order = Some(order_write(&order_id, "G-100001", 0, 1, 0));
    store.record_turn(&first).await.unwrap();
    let mut stale = turn(&conversation, 2, "make that 2");
    stale.order = Some(order_write(&order_id, "G-100001", 0, 2, 0));
    assert!(store.record_turn(&stale).await.is_err());
    assert_eq!(store.order_events(&order_id).await.unwrap().len(), 1);
    assert_eq!(store.turns(&conversation).await.unwrap().len(), 1);
}

async fn a_reservation_beyond_stock_writes_nothing(store: Arc<dyn Store>) {
    store.replace_catalog(&catalog(FIRST)).await.unwrap();
    let conversation = start_conversation(store.as_ref()).await;
    let order_id = new_id();
    let mut greedy = turn(&conversation, 1, "eleven tees, confirm");
    greedy.order = Some(order_write(&order_id, "G-100007", 0, 11, 11));
    let error = store.record_turn(&greedy).await.unwrap_err();
    match error {
        StoreError::OutOfStock { key, available } => {
            assert_eq!((key, available), (StockKey::product(sku("TEE")), 10));
        }
        other => panic!("expected out of stock, got {other:?}"),
    }
    assert!(store.order_summary("G-100007").await.unwrap().is_none());
    assert!(store.turns(&conversation).await.unwrap().is_empty());
    let tee = store.stock_levels().await.unwrap()[&StockKey::product(sku("TEE"))];
    assert_eq!(tee.reserved, 0);
}

/// 50 shoppers confirm one tee each at the same moment; 10 are in stock.
async fn concurrent_confirmations_never_oversell(store: Arc<dyn Store>) {
    store.replace_catalog(&catalog(FIRST)).await.unwrap();
    let mut shoppers = Vec::new();
    for n in 0..50 {
        let store = store.clone();
        shoppers.push(tokio::spawn(async move {
            let conversation = start_conversation(store.as_ref()).await;
            let mut confirm = turn(&conversation, 1, "one tee, confirm");
            confirm.order = Some(order_write(&new_id(), &format!("G-{}", 200_000 + n), 0, 1, 1));
            store.record_turn(&confirm).await
        }));
    }
    let mut sold = 0;
    for shopper in shoppers {
        match shopper.await.unwrap() {
            Ok(()) => sold += 1,
            Err(StoreError::OutOfStock { available: 0, .. }) => {}
            Err(other) => panic!("unexpected failure: {other:?}"),
        }
    }
    assert_eq!(sold, 10);
    let tee = store.stock_levels().await.unwrap()[&StockKey::product(sku("TEE"))];
    assert_eq!(tee, StockLevel { on_hand: 10, reserved: 10 });
}

/// A fixed "now" with a fraction of a second, so that whole-second expiries around it
/// catch comparisons done on text instead of time.
const NOW: OffsetDateTime = datetime!(2030-06-01 12:00:00.25 UTC);

/// What a stored expiry reads back as: truncated to the microsecond on both backends.
fn micros(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000 * 1_000).unwrap()
}

async fn a_created_session_loads_back(store: Arc<dyn Store>) {
    let data = json!({ "cart": ["TEE", "CAP"], "locale": "de", "n": 3 });
    let expires_at = datetime!(2030-06-01 15:00:00.123_456_789 +02:00);
    assert!(store.session_create("s-1", &data, expires_at).await.unwrap());

    let (loaded, loaded_expiry) = store.session_load("s-1", NOW).await.unwrap().unwrap();
    assert_eq!(loaded, data);
    assert_eq!(loaded_expiry, micros(expires_at));
    assert_eq!(loaded_expiry, datetime!(2030-06-01 13:00:00.123_456 UTC));
    assert!(store.session_load("s-2", NOW).await.unwrap().is_none());
}

async fn a_taken_session_id_is_not_created_again(store: Arc<dyn Store>) {
    let first = json!({ "user": "ana" });
    let expires_at = NOW + Duration::hours(1);
    assert!(store.session_create("s-1", &first, expires_at).await.unwrap());
    let taken = store
        .session_create("s-1", &json!({ "user": "mallory" }), NOW + Duration::days(30))
        .await
        .unwrap();
    assert!(!taken);
    assert_eq!(store.session_load("s-1", NOW).await.unwrap(), Some((first, micros(expires_at))));

    // An expired row not yet swept still holds its id: the caller picks another.
    let old = NOW - Duration::hours(1);
    assert!(store.session_create("s-old", &json!({}), old).await.unwrap());
    assert!(!store.session_create("s-old", &json!({ "new": true }), expires_at).await.unwrap());
    assert!(store.session_load("s-old", NOW).await.unwrap().is_none());
}

async fn saving_a_session_replaces_it(store: Arc<dyn Store>) {
    let first_expiry = NOW + Duration::minutes(5);
    store.session_save("s-1", &json!({ "step": 1 }), first_expiry).await.unwrap();
    assert_eq!(
        store.session_load("s-1", NOW).await.unwrap(),
        Some((json!({ "step": 1 }), micros(first_expiry)))
    );

    let second_expiry = NOW + Duration::days(1);
    store.session_save("s-1", &json!({ "step": 2, "cart": [] }), second_expiry).await.unwrap();
    assert_eq!(
        store.session_load("s-1", NOW).await.unwrap(),
        Some((json!({ "step": 2, "cart": [] }), micros(second_expiry)))
    );
    // Saving can also move the expiry earlier, into the past.
    store.session_save("s-1", &json!({ "step": 3 }), NOW - Duration::seconds(1)).await.unwrap();
    assert!(store.session_load("s-1", NOW).await.unwrap().is_none());
}

async fn an_expired_session_does_not_load(store: Arc<dyn Store>) {
    let data = json!({ "user": "ana" });
    let cases = [
        ("a-second-ago", NOW - Duration::seconds(1), false),
        // A whole second, before a `now` with a fraction: "…:00Z" sorts after "…:00.25Z".
        ("whole-second", datetime!(2030-06-01 12:00:00 UTC), false),
        // Local times in other offsets: the text would say the opposite of the instant.
        ("east-expired", datetime!(2030-06-01 13:59:00 +02:00), false),
        ("west-live", datetime!(2030-06-01 07:01:00 -05:00), true),
        ("tomorrow", NOW + Duration::days(1), true),
        // Expired means "before now": at `now` itself a session still loads.
        ("exactly-now", NOW, true),
    ];
    for (id, expires_at, _) in cases {
        assert!(store.session_create(id, &data, expires_at).await.unwrap(), "{id}");
    }
    for (id, expires_at, live) in cases {
        let loaded = store.session_load(id, NOW).await.unwrap();
        let expected = live.then(|| (data.clone(), micros(expires_at)));
        assert_eq!(loaded, expected, "{id}");
    }
}

async fn a_deleted_session_is_gone(store: Arc<dyn Store>) {
    let expires_at = NOW + Duration::hours(1);
    store.session_create("s-1", &json!({ "user": "ana" }), expires_at).await.unwrap();
    store.session_create("s-2", &json!({ "user": "bo" }), expires_at).await.unwrap();
    store.session_delete("s-1").await.unwrap();
    assert!(store.session_load("s-1", NOW).await.unwrap().is_none());
    // The id is free again.
    assert!(store.session_create("s-1", &json!({}), expires_at).await.unwrap());
    // Deleting what is not there is not an error, and touches nothing else.
    store.session_delete("no-such-session").await.unwrap();
    assert_eq!(
        store.session_load("s-2", NOW).await.unwrap(),
        Some((json!({ "user": "bo" }), micros(expires_at)))
    );
}

async fn only_expired_sessions_are_swept(store: Arc<dyn Store>) {
    let expired = [
        ("old", NOW - Duration::days(3)),
        ("whole-second", datetime!(2030-06-01 12:00:00 UTC)),
        ("east", datetime!(2030-06-01 13:59:59 +02:00)),
    ];
    let live = [
        ("exactly-now", NOW),
        ("west", datetime!(2030-06-01 07:00:01 -05:00)),
        ("next-week", NOW + Duration::weeks(1)),
    ];
    for (id, expires_at) in expired.iter().chain(&live) {
        assert!(store.session_create(id, &json!({ "id": id }), *expires_at).await.unwrap());
    }

    assert_eq!(store.delete_expired_sessions(NOW).await.unwrap(), 3);
    assert_eq!(store.delete_expired_sessions(NOW).await.unwrap(), 0);
    for (id, expires_at) in live {
        let loaded = store.session_load(id, NOW).await.unwrap();
        assert_eq!(loaded, Some((json!({ "id": id }), micros(expires_at))), "{id}");
    }
    // Loading hides expired rows anyway; a free id shows the row itself is gone.
    for (id, _) in expired {
        assert!(store.session_create(id, &json!({}), NOW).await.unwrap(), "{id}");
    }
}

/// Many writers at once (SQLite commits them together): each turn stands or falls on
/// its own, and a refused one leaves no trace.
async fn concurrent_turns_commit_independently(store: Arc<dyn Store>) {
    let mut conversations = Vec::new();
    for _ in 0..24 {
        conversations.push(start_conversation(store.as_ref()).await);
    }
    let writes = conversations.iter().enumerate().map(|(i, conversation)| {
        let store = store.clone();
        // Every third turn claims a turn number the conversation is not at.
        let seq = if i % 3 == 0 { 2 } else { 1 };
        let write = turn(conversation, seq, &format!("turn {i}"));
        tokio::spawn(async move { store.record_turn(&write).await })
    });
    let outcomes: Vec<_> = futures_join(writes.collect()).await;
    for (i, (conversation, outcome)) in conversations.iter().zip(outcomes).enumerate() {
        let turns = store.turns(conversation).await.unwrap();
        if i % 3 == 0 {
            assert!(matches!(outcome, Err(StoreError::Conflict(_))), "{i}: {outcome:?}");
            assert!(turns.is_empty(), "{i}: a refused turn was written");
        } else {
            outcome.unwrap();
            assert_eq!(turns.len(), 1);
            assert_eq!(turns[0].text, format!("turn {i}"));
        }
    }
}

async fn futures_join<T>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.await.unwrap());
    }
    results
}

async fn the_write_probe_commits_and_clears(store: Arc<dyn Store>) {
    for _ in 0..3 {
        store.write_probe().await.unwrap();
    }
    assert_eq!(store.clear_write_probe().await.unwrap(), 3);
    assert_eq!(store.clear_write_probe().await.unwrap(), 0);
}

macro_rules! contract {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $story() {
                let db = gapless_store::testing::sqlite().await;
                super::$story(db.store.clone()).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $story() {
                let Some(db) = gapless_store::testing::postgres().await else { return };
                super::$story(db.store.clone()).await;
            })*
        }
    };
}

contract!(
    a_new_database_has_no_catalog,
    an_imported_catalog_reads_back_equal,
    a_second_import_replaces_the_first,
    importing_the_same_catalog_twice_changes_nothing,
    migrating_twice_is_harmless,
    turns_are_recorded_in_order,
    a_turn_number_is_taken_once,
    an_idempotency_key_is_used_once,
    an_order_is_events_plus_projection,
    a_stale_order_version_writes_nothing,
    a_reservation_beyond_stock_writes_nothing,
    concurrent_confirmations_never_oversell,
    a_created_session_loads_back,
    a_taken_session_id_is_not_created_again,
    saving_a_session_replaces_it,
    an_expired_session_does_not_load,
    a_deleted_session_is_gone,
    only_expired_sessions_are_swept,
    the_write_probe_commits_and_clears,
    concurrent_turns_commit_independently,
);
