//! One contract, two backends: every story here runs against SQLite always and against
//! PostgreSQL when `TEST_DATABASE_URL` is set (skipped with a message otherwise).

use std::sync::Arc;

use gapless_domain::{
    catalog::Catalog,
    orders::{OrderStatus, PaymentStatus},
    returns::ReturnStatus,
    sku::Sku,
    staff_metrics::{
        fulfilment_metrics, ConversationDay, ConversationDays, ConversationFacts,
        ConversationStatus, DeliveryDays, Leg, OrderFulfilmentFacts, Outcome, Period,
    },
};
use gapless_store::{
    contract, new_id, ApiKeyRow, AuditTurnQuery, ConversationQuery, CustomerWrite, EventWrite,
    FulfilmentWrite, ImportSummary, LineWrite, NewApiKey, NewConversation, NewReturn, NewStaff,
    OrderProjection, OrderWrite, PaymentEventWrite, ReturnEventWrite, ReturnItemRow,
    ReturnItemWrite, ReturnUpdate, StaffReplyWrite, StaffRow, StockKey, StockLevel, Store,
    StoreError, TurnWrite,
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
        extractor: gapless_domain::chat::Extractor::Rules,
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
            status: if reserve > 0 { OrderStatus::Confirmed } else { OrderStatus::Draft },
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
            shipped_at: None,
            delivered_at: None,
            payment_status: PaymentStatus::NotRequired,
            payment_expires_at: None,
            snapshot: None,
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
    confirm.outcome = Some(Outcome::Ordered);
    confirm.order = Some(order_write(&order_id, &number, 1, 3, 3));
    store.record_turn(&confirm).await.unwrap();

    let events = store.order_events(&order_id).await.unwrap();
    let seqs: Vec<_> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2]);
    assert_eq!(events[1].payload, json!({ "sku": "TEE", "quantity": 3 }));
    assert_eq!(events[1].message_id.as_deref(), Some(confirm.turn_id.as_str()));

    let summary = store.order_summary(&number).await.unwrap().unwrap();
    assert_eq!(summary.status, OrderStatus::Confirmed);
    assert_eq!(summary.total, 7500);
    assert_eq!(summary.email.as_deref(), Some("ana@example.com"));
    let conversation = store.conversation(&conversation).await.unwrap().unwrap();
    assert_eq!(conversation.outcome, ConversationStatus::Ordered);
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
    assert!(store.session_create("s-1", &json!({ "step": 0 }), NOW).await.unwrap());
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

/// Saving changes a session that exists, never makes one: a session deleted (signed
/// out) while another request still held it stays deleted when that request ends and
/// saves, and an id nobody created is not brought into being by a save.
async fn saving_never_brings_back_a_deleted_session(store: Arc<dyn Store>) {
    let expires_at = NOW + Duration::hours(8);
    let staff = json!({ "staff.id": "ana", "staff.csrf": "t" });
    assert!(store.session_create("s-1", &staff, expires_at).await.unwrap());
    assert!(store.session_create("s-2", &json!({ "user": "bo" }), expires_at).await.unwrap());
    // A request loads the session; meanwhile another one signs out (deletes it).
    let (held, _) = store.session_load("s-1", NOW).await.unwrap().expect("s-1 loads");
    store.session_delete("s-1").await.unwrap();
    // The first request ends and saves what it held, with a later expiry.
    store.session_save("s-1", &held, NOW + Duration::hours(9)).await.unwrap();
    assert_eq!(store.session_load("s-1", NOW).await.unwrap(), None);
    assert_eq!(store.session_load("s-1", NOW - Duration::days(1)).await.unwrap(), None);

    store.session_save("never-created", &staff, expires_at).await.unwrap();
    assert_eq!(store.session_load("never-created", NOW).await.unwrap(), None);
    // Both ids are still free (no row was written), and the other session is untouched.
    assert!(store.session_create("s-1", &json!({}), expires_at).await.unwrap());
    assert!(store.session_create("never-created", &json!({}), expires_at).await.unwrap());
    assert_eq!(
        store.session_load("s-2", NOW).await.unwrap(),
        Some((json!({ "user": "bo" }), micros(expires_at)))
    );
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

// Returns.

/// Places an order with one line per quantity (TEE, MUG, CAP, TEE, …) through a chat
/// turn, as the chat does; `status` "confirmed" or "draft". Returns (id, number).
async fn place_order(store: &dyn Store, quantities: &[u32], status: &str) -> (String, String) {
    let conversation = start_conversation(store).await;
    let order_id = new_id();
    let number = format!("G-{}", 100_000 + store.next_order_number().await.unwrap());
    let mut write = order_write(&order_id, &number, 0, 1, 0);
    write.projection.status = status.parse().unwrap();
    write.projection.lines = quantities
        .iter()
        .enumerate()
        .map(|(i, &quantity)| {
            let unit_price = 1000 * (i as i64 + 1);
            LineWrite {
                sku: ["TEE", "MUG", "CAP"][i % 3].to_owned(),
                name: format!("item {i}"),
                quantity,
                choices: json!([]),
                unit_price,
                total: unit_price * i64::from(quantity),
            }
        })
        .collect();
    let mut place = turn(&conversation, 1, "order, confirm");
    place.order = Some(write);
    store.record_turn(&place).await.unwrap();
    (order_id, number)
}

fn return_event(kind: &str, at: OffsetDateTime) -> ReturnEventWrite {
    ReturnEventWrite {
        id: new_id(),
        event_type: kind.to_owned(),
        schema_version: 1,
        payload: json!({ "type": kind, "note": format!("{kind} payload") }),
        actor: if kind == "requested" { "customer" } else { "system" }.to_owned(),
        at,
    }
}

/// An approved return of `claims` (line, quantity), one approved item each, requested
/// and approved at `at` by ana.
fn a_return(order_id: &str, rma: &str, at: OffsetDateTime, claims: &[(u32, u32)]) -> NewReturn {
    NewReturn {
        id: new_id(),
        rma: rma.to_owned(),
        order_id: order_id.to_owned(),
        email: "ana@example.com".into(),
        resolution: "refund".into(),
        status: ReturnStatus::Approved,
        requested_at: at,
        items: claims
            .iter()
            .map(|&(line, quantity)| ReturnItemWrite {
                line,
                sku: "TEE".into(),
                quantity,
                reason: "too_small".into(),
                comment: None,
                decision: "approved".into(),
                rule: "auto_approve".into(),
                message: "Approved.".into(),
                value: 1000 * i64::from(quantity),
                restocking_fee: 0,
            })
            .collect(),
        events: vec![return_event("requested", at), return_event("approved", at)],
        claims: claims.to_vec(),
        counted_since: at,
        max_recent: None,
    }
}

/// Units claimed per line, as the returns lookup shows them.
async fn claimed(store: &dyn Store, number: &str) -> Vec<u32> {
    let order = store.returnable_order(number).await.unwrap().expect("order is returnable");
    order.lines.iter().map(|line| line.claimed).collect()
}

fn update(
    return_id: &str,
    expected_version: u32,
    kind: &str,
    status: &str,
    at: OffsetDateTime,
) -> ReturnUpdate {
    ReturnUpdate {
        return_id: return_id.to_owned(),
        expected_version,
        events: vec![return_event(kind, at)],
        status: status.parse().unwrap(),
        release: vec![],
        refund_amount: None,
        at,
        replacement: None,
        order_refund: None,
        restock: vec![],
    }
}

async fn a_confirmed_order_is_returnable(store: Arc<dyn Store>) {
    let (order_id, number) = place_order(store.as_ref(), &[2, 1], "confirmed").await;
    let order = store.returnable_order(&number).await.unwrap().unwrap();
    assert_eq!(order.order_id, order_id);
    assert_eq!(order.number, number);
    assert_eq!(order.email.as_deref(), Some("ana@example.com"));
    assert_eq!((order.status.as_str(), order.currency.as_str()), ("confirmed", "USD"));
    assert!(order.confirmed_at.is_some());
    assert_eq!(order.delivered_at, None);
    let lines: Vec<_> = order
        .lines
        .iter()
        .map(|l| (l.line, l.sku.as_str(), l.name.as_str(), l.quantity, l.unit_price, l.claimed))
        .collect();
    assert_eq!(lines, vec![(0, "TEE", "item 0", 2, 1000, 0), (1, "MUG", "item 1", 1, 2000, 0)]);

    assert_eq!(store.returnable_order("G-999999").await.unwrap(), None);
    let (_, draft) = place_order(store.as_ref(), &[1], "draft").await;
    assert!(store.order_summary(&draft).await.unwrap().is_some());
    assert_eq!(store.returnable_order(&draft).await.unwrap(), None, "a draft was never bought");
}

async fn a_created_return_reads_back(store: Arc<dyn Store>) {
    let (order_id, number) = place_order(store.as_ref(), &[3, 2], "confirmed").await;
    let at = datetime!(2030-06-01 14:00:00.123_456_789 +02:00);
    let mut new = a_return(&order_id, "R-READ", at, &[(0, 1)]);
    new.email = "Ana@Example.com".into();
    new.resolution = "store_credit".into();
    new.items.push(ReturnItemWrite {
        line: 1,
        sku: "MUG".into(),
        quantity: 2,
        reason: "changed_mind".into(),
        comment: Some("never used, still boxed".into()),
        decision: "rejected".into(),
        rule: "final_sale".into(),
        message: "This item was a final sale and cannot be returned.".into(),
        value: 4000,
        restocking_fee: 250,
    });
    store.create_return(&new).await.unwrap();

    let row = store.return_by_rma("R-READ").await.unwrap().unwrap();
    assert_eq!((row.id.as_str(), row.rma.as_str()), (new.id.as_str(), "R-READ"));
    assert_eq!((row.order_id.as_str(), row.order_number.as_str()), (&*order_id, &*number));
    assert_eq!(row.email, "Ana@Example.com");
    assert_eq!((row.status.as_str(), row.resolution.as_str()), ("approved", "store_credit"));
    assert_eq!((row.version, row.refund_amount), (2, None));
    assert_eq!(row.requested_at, micros(at));
    assert_eq!(row.requested_at, datetime!(2030-06-01 12:00:00.123_456 UTC));
    assert_eq!(row.updated_at, micros(at));
    let items: Vec<ReturnItemRow> = new
        .items
        .iter()
        .map(|i| ReturnItemRow {
            line: i.line,
            sku: i.sku.clone(),
            quantity: i.quantity,
            reason: i.reason.clone(),
            comment: i.comment.clone(),
            decision: i.decision.clone(),
            rule: i.rule.clone(),
            message: i.message.clone(),
            value: i.value,
            restocking_fee: i.restocking_fee,
        })
        .collect();
    assert_eq!(row.items, items);
    assert_eq!(row.events.len(), 2);
    for (seq, (read, written)) in row.events.iter().zip(&new.events).enumerate() {
        assert_eq!(read.seq, seq as u32 + 1);
        assert_eq!(
            (&read.id, &read.event_type, &read.payload, &read.actor),
            (&written.id, &written.event_type, &written.payload, &written.actor)
        );
        assert_eq!(read.at, micros(written.at));
    }
    assert_eq!(store.return_by_rma("R-NOPE").await.unwrap(), None);
    // Only the approved item holds units.
    assert_eq!(claimed(store.as_ref(), &number).await, vec![1, 0]);

    // A taken code: refused whole, the claim it asked for not taken.
    let again = a_return(&order_id, "R-READ", at, &[(0, 1)]);
    let error = store.create_return(&again).await.unwrap_err();
    assert!(matches!(&error, StoreError::Conflict(m) if m == "rma taken"), "{error:?}");
    assert_eq!(claimed(store.as_ref(), &number).await, vec![1, 0]);
    assert_eq!(store.return_by_rma("R-READ").await.unwrap().unwrap().id, new.id);
}

async fn claims_never_exceed_what_was_bought(store: Arc<dyn Store>) {
    let (order_id, number) = place_order(store.as_ref(), &[3, 2], "confirmed").await;
    let at = datetime!(2030-06-01 12:00:00 UTC);
    store.create_return(&a_return(&order_id, "R-1", at, &[(0, 2)])).await.unwrap();
    assert_eq!(claimed(store.as_ref(), &number).await, vec![2, 0]);

    // Line 0 would fit, line 1 does not: nothing of the request is written.
    let error =
        store.create_return(&a_return(&order_id, "R-2", at, &[(0, 1), (1, 3)])).await.unwrap_err();
    assert!(matches!(error, StoreError::OverClaimed { line: 1, available: 2 }), "{error:?}");
    assert_eq!(store.return_by_rma("R-2").await.unwrap(), None);
    assert_eq!(claimed(store.as_ref(), &number).await, vec![2, 0]);

    let error = store.create_return(&a_return(&order_id, "R-3", at, &[(0, 2)])).await.unwrap_err();
    assert!(matches!(error, StoreError::OverClaimed { line: 0, available: 1 }), "{error:?}");
    // The same line twice in one request counts twice.
    let error =
        store.create_return(&a_return(&order_id, "R-4", at, &[(0, 1), (0, 1)])).await.unwrap_err();
    assert!(matches!(error, StoreError::OverClaimed { line: 0, available: 1 }), "{error:?}");
    // A line the order does not have.
    let error = store.create_return(&a_return(&order_id, "R-5", at, &[(7, 1)])).await.unwrap_err();
    assert!(matches!(error, StoreError::OverClaimed { line: 7, available: 0 }), "{error:?}");

    store.create_return(&a_return(&order_id, "R-6", at, &[(0, 1), (1, 2)])).await.unwrap();
    assert_eq!(claimed(store.as_ref(), &number).await, vec![3, 2]);
    let error = store.create_return(&a_return(&order_id, "R-7", at, &[(1, 1)])).await.unwrap_err();
    assert!(matches!(error, StoreError::OverClaimed { line: 1, available: 0 }), "{error:?}");

    let rmas: Vec<_> =
        store.list_returns(None, 10).await.unwrap().into_iter().map(|r| r.rma).collect();
    assert_eq!(rmas.len(), 2, "{rmas:?}");
    assert_eq!(store.recent_returns("ana@example.com", at).await.unwrap(), 2);
}

/// 20 customers' requests for one unit each of a 5-unit line arrive at once.
async fn concurrent_claims_never_return_more_than_bought(store: Arc<dyn Store>) {
    let (order_id, number) = place_order(store.as_ref(), &[5], "confirmed").await;
    let requests = (0..20).map(|n| {
        let store = store.clone();
        let new = a_return(&order_id, &format!("R-C{n}"), OffsetDateTime::now_utc(), &[(0, 1)]);
        tokio::spawn(async move { store.create_return(&new).await })
    });
    let mut accepted = 0;
    for outcome in futures_join(requests.collect()).await {
        match outcome {
            Ok(()) => accepted += 1,
            Err(StoreError::OverClaimed { line: 0, available: 0 }) => {}
            Err(other) => panic!("unexpected failure: {other:?}"),
        }
    }
    assert_eq!(accepted, 5);
    assert_eq!(claimed(store.as_ref(), &number).await, vec![5]);
    assert_eq!(store.list_returns(None, 100).await.unwrap().len(), 5);
}

async fn a_stale_return_version_writes_nothing(store: Arc<dyn Store>) {
    let (order_id, _) = place_order(store.as_ref(), &[2], "confirmed").await;
    let requested = datetime!(2030-06-01 12:00:00 UTC);
    let new = a_return(&order_id, "R-V", requested, &[(0, 2)]);
    store.create_return(&new).await.unwrap();

    let received = requested + Duration::days(3);
    store.update_return(&update(&new.id, 2, "received", "received", received)).await.unwrap();
    let row = store.return_by_rma("R-V").await.unwrap().unwrap();
    assert_eq!((row.version, row.status.as_str()), (3, "received"));
    assert_eq!((row.requested_at, row.updated_at), (requested, received));

    // A second writer that read version 2 too.
    let mut stale = update(&new.id, 2, "refunded", "refunded", received + Duration::hours(1));
    stale.refund_amount = Some(2000);
    let error = store.update_return(&stale).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    assert_eq!(store.return_by_rma("R-V").await.unwrap().unwrap(), row, "nothing was written");
    let error = store
        .update_return(&update("no-such-return", 0, "x", "received", received))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");

    let refunded_at = received + Duration::days(1);
    let mut refund = update(&new.id, 3, "refunded", "refunded", refunded_at);
    refund.refund_amount = Some(2000);
    store.update_return(&refund).await.unwrap();
    // A later event without an amount keeps the one recorded.
    let noted = refunded_at + Duration::minutes(5);
    store.update_return(&update(&new.id, 4, "noted", "refunded", noted)).await.unwrap();
    let row = store.return_by_rma("R-V").await.unwrap().unwrap();
    assert_eq!((row.version, row.status.as_str(), row.refund_amount), (5, "refunded", Some(2000)));
    assert_eq!(row.updated_at, noted);
    let events: Vec<_> = row.events.iter().map(|e| (e.seq, e.event_type.as_str())).collect();
    assert_eq!(
        events,
        vec![(1, "requested"), (2, "approved"), (3, "received"), (4, "refunded"), (5, "noted")]
    );
    assert_eq!(row.events[3].id, refund.events[0].id);
    assert_eq!(row.events[3].at, refunded_at);
}

async fn released_claims_can_be_claimed_again(store: Arc<dyn Store>) {
    let (order_id, number) = place_order(store.as_ref(), &[3], "confirmed").await;
    let at = datetime!(2030-06-01 12:00:00 UTC);
    let first = a_return(&order_id, "R-1", at, &[(0, 3)]);
    store.create_return(&first).await.unwrap();
    let error = store.create_return(&a_return(&order_id, "R-2", at, &[(0, 1)])).await.unwrap_err();
    assert!(matches!(error, StoreError::OverClaimed { line: 0, available: 0 }), "{error:?}");

    // Staff reject two of the three units.
    let mut partly = update(&first.id, 2, "rejected", "approved", at + Duration::hours(1));
    partly.release = vec![(0, 2)];
    store.update_return(&partly).await.unwrap();
    assert_eq!(claimed(store.as_ref(), &number).await, vec![1]);

    store.create_return(&a_return(&order_id, "R-3", at, &[(0, 2)])).await.unwrap();
    assert_eq!(claimed(store.as_ref(), &number).await, vec![3]);
    let error = store.create_return(&a_return(&order_id, "R-4", at, &[(0, 1)])).await.unwrap_err();
    assert!(matches!(error, StoreError::OverClaimed { line: 0, available: 0 }), "{error:?}");

    // Cancelling the first gives back its last unit.
    let mut cancel = update(&first.id, 3, "cancelled", "cancelled", at + Duration::hours(2));
    cancel.release = vec![(0, 1)];
    store.update_return(&cancel).await.unwrap();
    assert_eq!(claimed(store.as_ref(), &number).await, vec![2]);
    store.create_return(&a_return(&order_id, "R-5", at, &[(0, 1)])).await.unwrap();
    assert_eq!(claimed(store.as_ref(), &number).await, vec![3]);
}

async fn returns_are_listed_newest_first(store: Arc<dyn Store>) {
    let (order_id, number) = place_order(store.as_ref(), &[10], "confirmed").await;
    // Whole seconds, fractions and other offsets: text order is not time order.
    let requests = [
        ("R-A", datetime!(2030-06-01 12:00:00 UTC), "approved"),
        ("R-B", datetime!(2030-06-01 12:00:00.25 UTC), "in_review"),
        ("R-C", datetime!(2030-06-01 13:59:59 +02:00), "approved"),
        ("R-D", datetime!(2030-06-01 07:30:00 -05:00), "approved"),
    ];
    for (rma, at, status) in requests {
        let mut new = a_return(&order_id, rma, at, &[(0, 1)]);
        new.status = status.parse().unwrap();
        store.create_return(&new).await.unwrap();
    }
    let rmas = |rows: Vec<gapless_store::ReturnListRow>| -> Vec<String> {
        rows.into_iter().map(|r| r.rma).collect()
    };
    assert_eq!(rmas(store.list_returns(None, 10).await.unwrap()), ["R-D", "R-B", "R-A", "R-C"]);
    assert_eq!(
        rmas(store.list_returns(Some("approved"), 10).await.unwrap()),
        ["R-D", "R-A", "R-C"]
    );
    assert_eq!(rmas(store.list_returns(None, 2).await.unwrap()), ["R-D", "R-B"]);
    assert_eq!(rmas(store.list_returns(Some("approved"), 1).await.unwrap()), ["R-D"]);
    assert!(store.list_returns(Some("refunded"), 10).await.unwrap().is_empty());

    let rows = store.list_returns(Some("in_review"), 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].order_number.as_str(), rows[0].email.as_str()),
        (&*number, "ana@example.com")
    );
    assert_eq!(rows[0].status, ReturnStatus::InReview);
    assert_eq!(rows[0].requested_at, datetime!(2030-06-01 12:00:00.25 UTC));
    assert_eq!(rows[0].updated_at, rows[0].requested_at);
}

async fn recent_returns_count_live_requests_since(store: Arc<dyn Store>) {
    let (order_id, _) = place_order(store.as_ref(), &[20], "confirmed").await;
    let since = datetime!(2030-06-01 12:00:00 UTC);
    let requests = [
        // (rma, email, requested at, status, counts)
        ("R-1", "ana@example.com", datetime!(2030-06-01 12:00:00.25 UTC), "approved", true),
        ("R-2", "ana@example.com", since, "in_review", true),
        ("R-3", "ana@example.com", datetime!(2030-06-01 13:59:00 +02:00), "approved", false),
        ("R-4", "ana@example.com", datetime!(2030-06-01 07:30:00 -05:00), "rejected", false),
        ("R-5", "ana@example.com", datetime!(2030-06-01 12:40:00 UTC), "received", true),
        ("R-6", "ana@example.com", datetime!(2030-06-01 12:45:00 UTC), "approved", false),
        ("R-7", "bo@example.com", datetime!(2030-06-01 12:10:00 UTC), "approved", false),
    ];
    for (rma, email, at, status, _) in requests {
        let claims: &[(u32, u32)] = if status == "rejected" { &[] } else { &[(0, 1)] };
        let mut new = a_return(&order_id, rma, at, claims);
        new.email = email.to_owned();
        new.status = status.parse().unwrap();
        store.create_return(&new).await.unwrap();
        if rma == "R-6" {
            // Cancelled after it was counted once.
            assert_eq!(store.recent_returns("ana@example.com", since).await.unwrap(), 4);
            let mut cancel = update(&new.id, 2, "cancelled", "cancelled", at + Duration::hours(1));
            cancel.release = vec![(0, 1)];
            store.update_return(&cancel).await.unwrap();
        }
    }
    let expected = requests.iter().filter(|r| r.4).count() as u32;
    assert_eq!(expected, 3);
    assert_eq!(store.recent_returns("ana@example.com", since).await.unwrap(), expected);
    assert_eq!(store.recent_returns("bo@example.com", since).await.unwrap(), 1);
    assert_eq!(store.recent_returns("cy@example.com", since).await.unwrap(), 0);
    let later = datetime!(2030-06-01 12:00:00.250_001 UTC);
    assert_eq!(store.recent_returns("ana@example.com", later).await.unwrap(), 1);
    let earlier = datetime!(2030-06-01 11:58:00 UTC);
    assert_eq!(store.recent_returns("ana@example.com", earlier).await.unwrap(), 4);
}

async fn completed_return_events_cover_the_period(store: Arc<dyn Store>) {
    let (order_id, _) = place_order(store.as_ref(), &[10], "confirmed").await;
    let from = datetime!(2030-06-01 00:00:00 UTC);
    let to = datetime!(2030-06-02 00:00:00 UTC);
    let requested = datetime!(2030-05-28 09:00:00 UTC);
    let received = datetime!(2030-05-30 09:00:00.5 UTC);
    // (rma, final status or None to stop at received, completed at, in the report)
    let returns = [
        ("R-FROM", Some("refunded"), from, true),
        ("R-MID", Some("credited"), datetime!(2030-06-01 10:00:00.5 UTC), true),
        ("R-OPEN", None, datetime!(2030-06-01 11:00:00 UTC), false),
        ("R-TO", Some("exchanged"), to, false),
        ("R-BEFORE", Some("refunded"), datetime!(2030-05-31 23:59:59.999 UTC), false),
        ("R-EAST", Some("exchanged"), datetime!(2030-06-02 01:00:00 +02:00), true),
        ("R-WEST", Some("refunded"), datetime!(2030-06-01 20:00:00 -05:00), false),
    ];
    let mut expected = Vec::new();
    for (rma, done, at, reported) in returns {
        let new = a_return(&order_id, rma, requested, &[(0, 1)]);
        store.create_return(&new).await.unwrap();
        let receipt_at = if done.is_some() { received } else { at };
        let receipt = update(&new.id, 2, "received", "received", receipt_at);
        store.update_return(&receipt).await.unwrap();
        let mut ids = vec![new.events[0].id.clone(), new.events[1].id.clone()];
        ids.push(receipt.events[0].id.clone());
        if let Some(status) = done {
            let finish = update(&new.id, 3, status, status, at);
            store.update_return(&finish).await.unwrap();
            ids.push(finish.events[0].id.clone());
        }
        if reported {
            expected.push(ids);
        }
    }

    let mut reported = store.completed_return_events(from, to).await.unwrap();
    for events in &reported {
        let seqs: Vec<_> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![1, 2, 3, 4]);
        assert_eq!(events[2].at, received);
    }
    let mut ids: Vec<Vec<String>> =
        reported.iter().map(|events| events.iter().map(|e| e.id.clone()).collect()).collect();
    ids.sort();
    expected.sort();
    assert_eq!(ids, expected);
    reported.sort_by_key(|events| events[3].at);
    let finals: Vec<_> = reported.iter().map(|events| events[3].event_type.as_str()).collect();
    assert_eq!(finals, ["refunded", "credited", "exchanged"]);
    // The next day has R-TO (at its start) and R-WEST.
    let next_day = store.completed_return_events(to, to + Duration::days(1)).await.unwrap();
    assert_eq!(next_day.len(), 2);
}

async fn a_delivery_date_shows_in_the_lookup(store: Arc<dyn Store>) {
    let (_, number) = place_order(store.as_ref(), &[1], "confirmed").await;
    let (_, other) = place_order(store.as_ref(), &[1], "confirmed").await;
    let at = datetime!(2030-06-03 09:15:00.500_000_9 +02:00);
    assert!(store.mark_delivered(&number, at).await.unwrap());
    let order = store.returnable_order(&number).await.unwrap().unwrap();
    assert_eq!(order.delivered_at, Some(micros(at)));
    assert_eq!(order.delivered_at, Some(datetime!(2030-06-03 07:15:00.5 UTC)));
    assert_eq!(store.returnable_order(&other).await.unwrap().unwrap().delivered_at, None);
    assert!(!store.mark_delivered("G-999999", at).await.unwrap());
}

fn new_staff(email: &str, role: &str) -> NewStaff {
    NewStaff {
        id: new_id(),
        email: email.to_owned(),
        role: role.to_owned(),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$salt${email}"),
        created_at: datetime!(2030-06-01 14:00:00.123_456_789 +02:00),
    }
}

async fn a_created_staff_account_reads_back_by_email_and_id(store: Arc<dyn Store>) {
    let ana = new_staff("ana@example.com", "admin");
    assert!(store.create_staff(&ana).await.unwrap());
    let bo = new_staff("bo@example.com", "agent");
    assert!(store.create_staff(&bo).await.unwrap());

    let expected = StaffRow {
        id: ana.id.clone(),
        email: "ana@example.com".into(),
        role: "admin".into(),
        password_hash: ana.password_hash.clone(),
        created_at: datetime!(2030-06-01 12:00:00.123_456 UTC),
        disabled_at: None,
    };
    assert_eq!(store.staff_by_email("ana@example.com").await.unwrap(), Some(expected.clone()));
    assert_eq!(store.staff_by_id(&ana.id).await.unwrap(), Some(expected));
    assert_eq!(store.staff_by_id(&bo.id).await.unwrap().unwrap().role, "agent");

    assert_eq!(store.staff_by_email("cy@example.com").await.unwrap(), None);
    assert_eq!(store.staff_by_id(&new_id()).await.unwrap(), None);
    // Emails are compared as given: the caller lowercases before storing and looking up.
    assert_eq!(store.staff_by_email("ANA@example.com").await.unwrap(), None);
    // An id is not an email and an email is not an id.
    assert_eq!(store.staff_by_id("ana@example.com").await.unwrap(), None);
    assert_eq!(store.staff_by_email(&ana.id).await.unwrap(), None);
}

async fn a_taken_staff_email_is_not_created_again(store: Arc<dyn Store>) {
    let first = new_staff("ana@example.com", "admin");
    assert!(store.create_staff(&first).await.unwrap());

    let mut second = new_staff("ana@example.com", "agent");
    second.password_hash = "$argon2id$v=19$other".into();
    assert!(!store.create_staff(&second).await.unwrap());

    let stored = store.staff_by_email("ana@example.com").await.unwrap().unwrap();
    assert_eq!(stored.id, first.id);
    assert_eq!(stored.role, "admin");
    assert_eq!(stored.password_hash, first.password_hash);
    assert_eq!(store.staff_by_id(&second.id).await.unwrap(), None, "nothing written");
}

async fn concurrent_staff_creations_with_one_email_create_one(store: Arc<dyn Store>) {
    let handles = (0..8)
        .map(|i| {
            let store = store.clone();
            let role = if i % 2 == 0 { "admin" } else { "agent" };
            tokio::spawn(async move {
                store.create_staff(&new_staff("ana@example.com", role)).await.unwrap()
            })
        })
        .collect();
    let created = futures_join(handles).await;
    assert_eq!(created.iter().filter(|&&c| c).count(), 1, "{created:?}");
}

async fn a_staff_role_outside_admin_and_agent_is_refused(store: Arc<dyn Store>) {
    let error = store.create_staff(&new_staff("ana@example.com", "owner")).await.unwrap_err();
    assert!(matches!(error, StoreError::Database(_)), "{error:?}");
    assert_eq!(store.staff_by_email("ana@example.com").await.unwrap(), None);
}

/// A conversation started at `at` (with a turn per text, then `outcome` if given).
async fn conversation_at(
    store: &dyn Store,
    at: OffsetDateTime,
    texts: &[&str],
    outcome: Option<&str>,
) -> String {
    let id = new_id();
    let new = NewConversation { id: id.clone(), channel: "api".into(), started_at: at };
    store.create_conversation(&new).await.unwrap();
    for (i, text) in texts.iter().enumerate() {
        let mut write = turn(&id, i as u32 + 1, text);
        if i + 1 == texts.len() {
            write.outcome = outcome.map(|o| Outcome::parse(o).unwrap());
        }
        store.record_turn(&write).await.unwrap();
    }
    id
}

/// Every conversation, a page of 100, none yet idle long enough to count as abandoned.
fn all_conversations() -> ConversationQuery {
    ConversationQuery::all(OffsetDateTime::now_utc(), Duration::hours(24))
}

async fn listed(store: &dyn Store, query: &ConversationQuery) -> Vec<String> {
    let page = store.list_conversations(query).await.unwrap();
    page.conversations.into_iter().map(|c| c.id).collect()
}

fn words(w: &[&str]) -> Vec<String> {
    w.iter().map(|w| w.to_string()).collect()
}

async fn conversations_are_found_by_their_words(store: Arc<dyn Store>) {
    let pizza = start_conversation(store.as_ref()).await;
    store.record_turn(&turn(&pizza, 1, "Two large PEPPERONI pizzas")).await.unwrap();
    store.record_turn(&turn(&pizza, 2, "and 100% extra cheese")).await.unwrap();
    let tees = start_conversation(store.as_ref()).await;
    store.record_turn(&turn(&tees, 1, "two black tees in M \"slim\"")).await.unwrap();
    let silent = start_conversation(store.as_ref()).await;

    let store = store.as_ref();
    let with = |w: &[&str]| ConversationQuery { words: words(w), ..all_conversations() };
    // Newest first, all of them without words.
    assert_eq!(
        listed(store, &all_conversations()).await,
        [silent.as_str(), tees.as_str(), pizza.as_str()]
    );
    let two = ConversationQuery { limit: 2, ..all_conversations() };
    assert_eq!(listed(store, &two).await, [silent.as_str(), tees.as_str()]);
    // Every word must appear (in any message), in any case, anywhere in a word.
    assert_eq!(listed(store, &with(&["pepperoni"])).await, [pizza.as_str()]);
    assert_eq!(listed(store, &with(&["eppe"])).await, [pizza.as_str()]);
    assert_eq!(listed(store, &with(&["two", "cheese"])).await, [pizza.as_str()]);
    assert_eq!(listed(store, &with(&["two"])).await, [tees.as_str(), pizza.as_str()]);
    assert_eq!(listed(store, &with(&["tees", "cheese"])).await, Vec::<String>::new());
    // Short words too, and neither LIKE's wildcards nor quotes are syntax.
    assert_eq!(listed(store, &with(&["ee"])).await, [tees.as_str(), pizza.as_str()]);
    assert_eq!(listed(store, &with(&["100%"])).await, [pizza.as_str()]);
    assert_eq!(listed(store, &with(&["%"])).await, [pizza.as_str()]);
    assert_eq!(listed(store, &with(&["_"])).await, Vec::<String>::new());
    assert_eq!(listed(store, &with(&["\"slim\""])).await, [tees.as_str()]);
    assert_eq!(listed(store, &with(&["slim\" OR pizzas"])).await, Vec::<String>::new());
}

/// A word in more than a thousand turns is searched another way on SQLite (through each
/// conversation's turns rather than the trigram index): the answer is the same.
async fn a_common_word_is_found_like_a_rare_one(store: Arc<dyn Store>) {
    let at = datetime!(2026-03-02 10:00 UTC);
    let tasks = (0..50)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let texts: Vec<String> = (0..21).map(|n| format!("tee number {n}")).collect();
                let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
                conversation_at(store.as_ref(), at + Duration::seconds(i), &texts, None).await
            })
        })
        .collect();
    let mut tees = futures_join(tasks).await;
    let kayak =
        conversation_at(store.as_ref(), at - Duration::hours(1), &["a TEE", "and a kayak"], None)
            .await;
    tees.reverse();
    tees.push(kayak.clone());
    let with = |w: &[&str]| ConversationQuery { words: words(w), ..all_conversations() };
    assert_eq!(listed(store.as_ref(), &with(&["tee"])).await, tees);
    assert_eq!(listed(store.as_ref(), &with(&["Tee", "kayak"])).await, [kayak.as_str()]);
    assert_eq!(listed(store.as_ref(), &with(&["number", "kayak"])).await, Vec::<String>::new());
}

async fn conversations_are_filtered_by_outcome(store: Arc<dyn Store>) {
    let at = datetime!(2026-03-02 10:00 UTC);
    let store = store.as_ref();
    let ordered = conversation_at(store, at, &["buy"], Some("ordered")).await;
    let handed =
        conversation_at(store, at + Duration::minutes(1), &["help"], Some("handed_off")).await;
    let failed = conversation_at(store, at + Duration::minutes(2), &["?"], Some("failed")).await;
    let open = conversation_at(store, at + Duration::minutes(3), &["hi"], None).await;
    let outcome =
        |o: &str| ConversationQuery { outcome: Some(o.parse().unwrap()), ..all_conversations() };
    assert_eq!(listed(store, &outcome("ordered")).await, [ordered.as_str()]);
    assert_eq!(listed(store, &outcome("handed_off")).await, [handed.as_str()]);
    assert_eq!(listed(store, &outcome("failed")).await, [failed.as_str()]);
    assert_eq!(listed(store, &outcome("open")).await, [open.as_str()]);
    assert_eq!(listed(store, &outcome("abandoned")).await, Vec::<String>::new());
    // An unknown outcome cannot be asked for: the query's type has no word for it.
    assert!("nonsense".parse::<ConversationStatus>().is_err());

    // Idle since before `idle_since`, the open conversation is abandoned, and says so.
    let later = OffsetDateTime::now_utc() + Duration::hours(25);
    let idle = |o: &str| ConversationQuery {
        outcome: Some(o.parse().unwrap()),
        ..ConversationQuery::all(later, Duration::hours(24))
    };
    assert_eq!(listed(store, &idle("abandoned")).await, [open.as_str()]);
    assert_eq!(listed(store, &idle("open")).await, Vec::<String>::new());
    assert_eq!(listed(store, &idle("ordered")).await, [ordered.as_str()], "only open ones go idle");
    let page = store
        .list_conversations(&ConversationQuery::all(later, Duration::hours(24)))
        .await
        .unwrap();
    let outcomes: Vec<&str> = page.conversations.iter().map(|c| c.outcome.as_str()).collect();
    assert_eq!(outcomes, ["abandoned", "failed", "handed_off", "ordered"]);
}

async fn conversations_are_filtered_by_start_half_open(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let day = datetime!(2026-03-02 00:00 UTC);
    let before = conversation_at(store, day - Duration::microseconds(1), &[], None).await;
    let first = conversation_at(store, day, &[], None).await;
    let within = conversation_at(store, day + Duration::milliseconds(1500), &[], None).await;
    let last =
        conversation_at(store, day + Duration::days(1) - Duration::microseconds(1), &[], None)
            .await;
    let next_day = conversation_at(store, day + Duration::days(1), &[], None).await;
    let range =
        |from, to| ConversationQuery { started_from: from, started_to: to, ..all_conversations() };
    let one_day = range(Some(day), Some(day + Duration::days(1)));
    assert_eq!(listed(store, &one_day).await, [last.as_str(), within.as_str(), first.as_str()]);
    assert_eq!(
        listed(store, &range(Some(day + Duration::days(1)), None)).await,
        [next_day.as_str()]
    );
    assert_eq!(listed(store, &range(None, Some(day))).await, [before.as_str()]);
    let second = range(Some(day + Duration::seconds(1)), Some(day + Duration::seconds(2)));
    assert_eq!(listed(store, &second).await, [within.as_str()], "sub-second times sort as times");
}

async fn a_conversation_is_found_by_its_order_number(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let with_order = start_conversation(store).await;
    let mut write = turn(&with_order, 1, "one tee");
    write.order = Some(order_write(&new_id(), "G-100042", 0, 1, 0));
    store.record_turn(&write).await.unwrap();
    let _other = conversation_at(store, OffsetDateTime::now_utc(), &["one tee"], None).await;
    let number =
        |n: &str| ConversationQuery { order_number: Some(n.into()), ..all_conversations() };
    let page = store.list_conversations(&number("G-100042")).await.unwrap();
    assert_eq!(page.conversations.len(), 1);
    assert_eq!(page.conversations[0].id, with_order);
    assert_eq!(page.conversations[0].order_number.as_deref(), Some("G-100042"));
    assert_eq!(listed(store, &number("G-100043")).await, Vec::<String>::new());
    assert_eq!(
        listed(store, &number("G-10004")).await,
        Vec::<String>::new(),
        "exact, not a prefix"
    );
}

async fn conversation_filters_combine(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let day = datetime!(2026-03-02 00:00 UTC);
    let wanted =
        conversation_at(store, day + Duration::hours(9), &["red tee"], Some("ordered")).await;
    let _open = conversation_at(store, day + Duration::hours(10), &["red tee"], None).await;
    let _other_day =
        conversation_at(store, day - Duration::hours(1), &["red tee"], Some("ordered")).await;
    let _other_words =
        conversation_at(store, day + Duration::hours(11), &["blue cap"], Some("ordered")).await;
    let query = ConversationQuery {
        outcome: Some(ConversationStatus::Ordered),
        started_from: Some(day),
        started_to: Some(day + Duration::days(1)),
        words: words(&["RED", "tee"]),
        ..all_conversations()
    };
    assert_eq!(listed(store, &query).await, [wanted.as_str()]);
}

async fn conversation_pages_have_no_gaps_or_repeats(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let at = datetime!(2026-03-02 12:00 UTC);
    let mut expected = Vec::new();
    // Five start in the same microsecond, among others: the id breaks the tie.
    for i in 0..11 {
        let started = if (3..8).contains(&i) { at } else { at + Duration::seconds(i) };
        expected.push((started, conversation_at(store, started, &[], None).await));
    }
    expected.sort_by(|a, b| b.cmp(a));
    let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();

    for size in [1, 2, 3, 5, 11, 12] {
        let mut seen = Vec::new();
        let mut query = ConversationQuery { limit: size, ..all_conversations() };
        let mut pages = 0;
        loop {
            let page = store.list_conversations(&query).await.unwrap();
            assert!(page.conversations.len() <= size as usize);
            seen.extend(page.conversations.into_iter().map(|c| c.id));
            pages += 1;
            match page.next {
                Some(next) => query.cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, expected, "pages of {size}");
        assert_eq!(pages, 11_usize.div_ceil(size as usize), "no empty page at the end");
    }

    // A conversation started meanwhile does not shift the pages after the first.
    let first = store
        .list_conversations(&ConversationQuery { limit: 4, ..all_conversations() })
        .await
        .unwrap();
    conversation_at(store, at + Duration::hours(1), &[], None).await;
    let second = ConversationQuery { limit: 4, cursor: first.next, ..all_conversations() };
    assert_eq!(listed(store, &second).await, expected[4..8]);
}

async fn a_bad_cursor_is_refused(store: Arc<dyn Store>) {
    let store = store.as_ref();
    conversation_at(store, OffsetDateTime::now_utc(), &[], None).await;
    for cursor in ["", "nonsense", "2e", "3132332e", "31322e27204f5220313d31"] {
        let query = ConversationQuery { cursor: Some(cursor.into()), ..all_conversations() };
        let error = store.list_conversations(&query).await.unwrap_err();
        assert!(matches!(error, StoreError::BadCursor(_)), "{cursor:?}: {error:?}");
        assert!(error.to_string().contains("first page"), "{error}");
    }
}

async fn audit_turns_are_read_by_time_page_by_page(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let at = datetime!(2026-03-02 12:00 UTC);
    let chat = conversation_at(store, at, &[], None).await;
    let mut expected = Vec::new();
    for (seq, offset) in [(1, 0), (2, 0), (3, 1), (4, 2), (5, 86_400)] {
        let mut write = turn(&chat, seq, &format!("turn {seq}"));
        write.received_at = at + Duration::seconds(offset);
        if seq == 2 {
            write.order = Some(order_write(&new_id(), "G-100077", 0, 1, 0));
        }
        store.record_turn(&write).await.unwrap();
        if offset < 86_400 {
            expected.push(write.turn_id);
        }
    }
    let mut query = AuditTurnQuery { from: at, to: at + Duration::days(1), after: None, limit: 2 };
    let mut seen = Vec::new();
    loop {
        let rows = store.audit_turns(&query).await.unwrap();
        let Some(last) = rows.last() else { break };
        query.after = Some((last.turn.received_at, last.turn.id.clone()));
        for row in &rows {
            assert_eq!(row.conversation_id, chat);
            assert_eq!(row.order_number.as_deref(), Some("G-100077"));
        }
        seen.extend(rows.into_iter().map(|r| r.turn.id));
    }
    let mut expected_order = expected.clone();
    // Turns 1 and 2 share a time: they come by id.
    expected_order[..2].sort();
    assert_eq!(seen, expected_order);
}

async fn an_exchange_writes_its_replacement_or_nothing(store: Arc<dyn Store>) {
    store.replace_catalog(&catalog(FIRST)).await.unwrap();
    let (order_id, number) = place_order(store.as_ref(), &[2], "confirmed").await;
    let lookup = store.returnable_order(&number).await.unwrap().unwrap();
    assert_eq!(lookup.lines[0].choices, json!([]), "the lookup carries the line's choices");
    let requested = datetime!(2030-06-01 12:00:00 UTC);
    let new = a_return(&order_id, "R-X", requested, &[(0, 2)]);
    store.create_return(&new).await.unwrap();
    let received = requested + Duration::days(2);
    store.update_return(&update(&new.id, 2, "received", "received", received)).await.unwrap();
    let before = store.stock_levels().await.unwrap()[&StockKey::product(sku("TEE"))];

    // More tees than the shop has: the return stays received and no order appears.
    let exchanged = received + Duration::days(1);
    let too_many = before.on_hand - before.reserved + 1;
    let replacement_number = format!("G-{}", 100_000 + store.next_order_number().await.unwrap());
    let mut exchange = update(&new.id, 3, "exchanged", "exchanged", exchanged);
    exchange.replacement = Some(order_write(&new_id(), &replacement_number, 0, too_many, too_many));
    let error = store.update_return(&exchange).await.unwrap_err();
    assert!(matches!(error, StoreError::OutOfStock { .. }), "{error:?}");
    let row = store.return_by_rma("R-X").await.unwrap().unwrap();
    assert_eq!((row.version, row.status.as_str()), (3, "received"));
    assert!(store.order_summary(&replacement_number).await.unwrap().is_none());
    assert_eq!(store.stock_levels().await.unwrap()[&StockKey::product(sku("TEE"))], before);

    // Two tees: the replacement is a confirmed order with its stock reserved.
    let replacement_id = new_id();
    exchange.replacement = Some(order_write(&replacement_id, &replacement_number, 0, 2, 2));
    store.update_return(&exchange).await.unwrap();
    let row = store.return_by_rma("R-X").await.unwrap().unwrap();
    assert_eq!((row.version, row.status.as_str()), (4, "exchanged"));
    let summary = store.order_summary(&replacement_number).await.unwrap().unwrap();
    assert_eq!((summary.status.as_str(), summary.total), ("confirmed", 5000));
    let events = store.order_events(&replacement_id).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message_id, None, "no chat turn made it");
    let tee = store.stock_levels().await.unwrap()[&StockKey::product(sku("TEE"))];
    assert_eq!(tee.reserved, before.reserved + 2);
}

async fn handoffs_queue_until_staff_close_them(store: Arc<dyn Store>) {
    let ana = new_staff("ana@example.com", "agent");
    assert!(store.create_staff(&ana).await.unwrap());
    let quiet = start_conversation(store.as_ref()).await;
    store.record_turn(&turn(&quiet, 1, "two tees")).await.unwrap();
    let first = start_conversation(store.as_ref()).await;
    let mut ask = turn(&first, 1, "talk to a human please");
    ask.handoff = true;
    ask.outcome = Some(Outcome::HandedOff);
    store.record_turn(&ask).await.unwrap();
    let second = start_conversation(store.as_ref()).await;
    let mut ask = turn(&second, 1, "a person, now");
    ask.handoff = true;
    store.record_turn(&ask).await.unwrap();

    let queue = store.handoff_queue(10).await.unwrap();
    let ids: Vec<_> = queue.iter().map(|h| h.conversation_id.as_str()).collect();
    assert_eq!(
        ids,
        [first.as_str(), second.as_str()],
        "oldest handoff first; the quiet one is not there"
    );
    assert_eq!(queue[0].last_message.as_deref(), Some("talk to a human please"));
    assert_eq!((queue[0].turn_count, queue[0].replies), (1, 0));
    assert_eq!(store.handoff_queue(1).await.unwrap().len(), 1);

    let at = datetime!(2030-06-01 12:00:00.5 UTC);
    let reply = |text: &str, close: bool, offset: i64| StaffReplyWrite {
        id: new_id(),
        conversation_id: first.clone(),
        staff_id: ana.id.clone(),
        text: text.to_owned(),
        at: at + Duration::seconds(offset),
        close,
    };
    assert!(store.add_staff_reply(&reply("Hi, Ana here.", false, 0)).await.unwrap());
    assert_eq!(store.handoff_queue(10).await.unwrap()[0].replies, 1, "still waiting");
    assert!(store.add_staff_reply(&reply("Sorted, thanks!", true, 9)).await.unwrap());
    let queue = store.handoff_queue(10).await.unwrap();
    assert_eq!(queue.iter().map(|h| h.conversation_id.clone()).collect::<Vec<_>>(), [second]);

    let replies = store.staff_replies(&first).await.unwrap();
    let texts: Vec<_> = replies.iter().map(|r| (r.text.as_str(), r.staff_email.as_str())).collect();
    assert_eq!(
        texts,
        [("Hi, Ana here.", "ana@example.com"), ("Sorted, thanks!", "ana@example.com")]
    );
    assert_eq!(replies[0].at, at);
    assert!(store.staff_replies(&quiet).await.unwrap().is_empty());

    let mut nowhere = reply("hello?", false, 20);
    nowhere.conversation_id = new_id();
    assert!(!store.add_staff_reply(&nowhere).await.unwrap(), "no such conversation");
    assert!(store.staff_replies(&nowhere.conversation_id).await.unwrap().is_empty());
}

async fn dashboard_facts_cover_the_period(store: Arc<dyn Store>) {
    let (order_id, number) = place_order(store.as_ref(), &[2], "confirmed").await;
    let asking = start_conversation(store.as_ref()).await;
    let mut unsure = turn(&asking, 1, "a wombat please");
    unsure.response = json!({ "reply": "?", "messages": [
        { "type": "error", "code": "unknown_product", "param": "wombat", "content": "…" } ] });
    store.record_turn(&unsure).await.unwrap();
    let mut fine = turn(&asking, 2, "a tee then");
    fine.response = json!({ "reply": "ok", "messages": [
        { "type": "info", "code": "confirmation_needed", "param": null, "content": "…" } ] });
    fine.handoff = true;
    store.record_turn(&fine).await.unwrap();

    let now = OffsetDateTime::now_utc();
    let (from, to) = (now - Duration::hours(1), now + Duration::hours(1));
    let facts = store.conversation_facts(from, to).await.unwrap();
    assert_eq!(facts.len(), 2, "{facts:?}");
    let ordered = facts.iter().find(|f| f.order_number.as_deref() == Some(&number)).unwrap();
    assert!(ordered.confirmed_at.is_some() && ordered.first_message_at.is_some());
    assert_eq!((ordered.turns, ordered.clarification_turns, ordered.handed_off), (1, 0, false));
    let asked = facts.iter().find(|f| f.id == asking).unwrap();
    assert_eq!((asked.turns, asked.clarification_turns, asked.handed_off), (2, 1, true));
    assert_eq!(asked.confirmed_at, None);
    let later = store.conversation_facts(to, to + Duration::hours(1)).await.unwrap();
    assert!(later.is_empty(), "{later:?}");

    // A return requested in one period and completed in the next belongs to both.
    let requested = datetime!(2030-06-01 12:00:00 UTC);
    let new = a_return(&order_id, "R-F", requested, &[(0, 2)]);
    store.create_return(&new).await.unwrap();
    let received = requested + Duration::days(2);
    store.update_return(&update(&new.id, 2, "received", "received", received)).await.unwrap();
    let refunded = requested + Duration::days(40);
    store.update_return(&update(&new.id, 3, "refunded", "refunded", refunded)).await.unwrap();
    let june = store
        .return_facts(datetime!(2030-06-01 00:00 UTC), datetime!(2030-07-01 00:00 UTC))
        .await
        .unwrap();
    assert_eq!(june.len(), 1);
    let fact = &june[0];
    assert_eq!((fact.rma.as_str(), fact.status.as_str()), ("R-F", "refunded"));
    assert_eq!((fact.received_at, fact.completed_at), (Some(received), Some(refunded)));
    assert_eq!(fact.items.len(), 1);
    assert_eq!(
        (fact.items[0].sku.as_str(), fact.items[0].name.as_str(), fact.items[0].quantity),
        ("TEE", "item 0", 2)
    );
    assert_eq!(fact.items[0].decision, "approved");
    let july = store
        .return_facts(datetime!(2030-07-01 00:00 UTC), datetime!(2030-08-01 00:00 UTC))
        .await
        .unwrap();
    assert_eq!(july.iter().map(|r| r.rma.as_str()).collect::<Vec<_>>(), ["R-F"]);
    let may = store
        .return_facts(datetime!(2030-05-01 00:00 UTC), datetime!(2030-06-01 00:00 UTC))
        .await
        .unwrap();
    assert!(may.is_empty(), "the period is half-open");
}

/// A cancellation of `order_id` (at `version`) as the chat writes it.
async fn cancel_order(
    store: &dyn Store,
    order_id: &str,
    number: &str,
    version: u32,
) -> Result<(), StoreError> {
    let conversation = start_conversation(store).await;
    let mut write = order_write(order_id, number, version, 1, 0);
    write.projection.status = OrderStatus::Cancelled;
    write.events[0].event_type = "cancelled".into();
    let mut cancel = turn(&conversation, 1, "cancel my order");
    cancel.order = Some(write);
    store.record_turn(&cancel).await
}

async fn a_cancelled_order_takes_no_claims_and_a_claimed_order_no_cancel(store: Arc<dyn Store>) {
    let at = datetime!(2030-06-01 12:00:00 UTC);
    // Claimed first: the cancellation is refused and writes nothing.
    let (claimed_id, claimed_number) = place_order(store.as_ref(), &[2], "confirmed").await;
    store.create_return(&a_return(&claimed_id, "R-C1", at, &[(0, 1)])).await.unwrap();
    let error = cancel_order(store.as_ref(), &claimed_id, &claimed_number, 1).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    assert_eq!(store.order_events(&claimed_id).await.unwrap().len(), 1);
    let order = store.returnable_order(&claimed_number).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::Confirmed);

    // Delivered: refused the same way.
    let (delivered_id, delivered_number) = place_order(store.as_ref(), &[1], "confirmed").await;
    assert!(store.mark_delivered(&delivered_number, at).await.unwrap());
    let error =
        cancel_order(store.as_ref(), &delivered_id, &delivered_number, 1).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");

    // Cancelled first: a return that claims units is refused, one that claims none (all
    // its items rejected) is kept as the record of what was asked.
    let (order_id, number) = place_order(store.as_ref(), &[2], "confirmed").await;
    cancel_order(store.as_ref(), &order_id, &number, 1).await.unwrap();
    let order = store.returnable_order(&number).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    let error = store.create_return(&a_return(&order_id, "R-C2", at, &[(0, 1)])).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    assert_eq!(store.return_by_rma("R-C2").await.unwrap(), None);
    assert_eq!(claimed(store.as_ref(), &number).await, vec![0]);
    let mut rejected = a_return(&order_id, "R-C3", at, &[]);
    rejected.status = ReturnStatus::Rejected;
    store.create_return(&rejected).await.unwrap();
}

async fn concurrent_cancels_and_returns_never_both_win(store: Arc<dyn Store>) {
    let at = datetime!(2030-06-01 12:00:00 UTC);
    for round in 0..6 {
        let (order_id, number) = place_order(store.as_ref(), &[1], "confirmed").await;
        let returning = {
            let store = store.clone();
            let new = a_return(&order_id, &format!("R-RACE{round}"), at, &[(0, 1)]);
            tokio::spawn(async move { store.create_return(&new).await })
        };
        let cancelling = {
            let store = store.clone();
            let (order_id, number) = (order_id.clone(), number.clone());
            tokio::spawn(async move { cancel_order(store.as_ref(), &order_id, &number, 1).await })
        };
        let (returned, cancelled) = (returning.await.unwrap(), cancelling.await.unwrap());
        assert!(returned.is_ok() != cancelled.is_ok(), "round {round}: {returned:?} {cancelled:?}");
        let order = store.returnable_order(&number).await.unwrap().unwrap();
        let expected = if returned.is_ok() { ("confirmed", 1) } else { ("cancelled", 0) };
        assert_eq!((order.status.as_str(), order.lines[0].claimed), expected, "round {round}");
    }
}

async fn a_return_is_written_only_under_the_limit_it_was_decided_on(store: Arc<dyn Store>) {
    let (order_id, number) = place_order(store.as_ref(), &[10], "confirmed").await;
    let at = datetime!(2030-06-01 12:00:00 UTC);
    let under = |rma: &str, max_recent: Option<u32>| NewReturn {
        counted_since: at - Duration::days(30),
        max_recent,
        ..a_return(&order_id, rma, at, &[(0, 1)])
    };
    store.create_return(&under("R-N1", Some(0))).await.unwrap();
    // Decided as if R-N1 did not exist: refused, its claim not taken.
    let error = store.create_return(&under("R-N2", Some(0))).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    assert_eq!(claimed(store.as_ref(), &number).await, vec![1]);
    store.create_return(&under("R-N2", Some(1))).await.unwrap();
    store.create_return(&under("R-N3", None)).await.unwrap();

    // Eight requests decided under the limit at once: exactly one is written.
    let handles = (0..8)
        .map(|i| {
            let store = store.clone();
            let new = under(&format!("R-P{i}"), Some(3));
            tokio::spawn(async move { store.create_return(&new).await })
        })
        .collect();
    let results = futures_join(handles).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    assert_eq!(store.recent_returns("ana@example.com", at - Duration::days(30)).await.unwrap(), 4);
    assert_eq!(claimed(store.as_ref(), &number).await, vec![4]);
}

async fn restocked_units_return_to_on_hand_with_the_receipt(store: Arc<dyn Store>) {
    store.replace_catalog(&catalog(FIRST)).await.unwrap();
    let (order_id, _) = place_order(store.as_ref(), &[2], "confirmed").await;
    let at = datetime!(2030-06-01 12:00:00 UTC);
    let new = a_return(&order_id, "R-STOCK", at, &[(0, 2)]);
    store.create_return(&new).await.unwrap();
    let tee = StockKey::product(sku("TEE"));
    let black = StockKey::value(sku("TEE"), "color", "black");
    let before = store.stock_levels().await.unwrap();
    let mut receipt = update(&new.id, 2, "received", "received", at + Duration::hours(1));
    receipt.restock =
        vec![(tee.clone(), 2), (black.clone(), 2), (StockKey::product(sku("MUG")), 1)];
    store.update_return(&receipt).await.unwrap();
    let after = store.stock_levels().await.unwrap();
    assert_eq!(after[&tee].on_hand, before[&tee].on_hand + 2);
    assert_eq!(after[&black].on_hand, before[&black].on_hand + 2);
    assert_eq!(after.get(&StockKey::product(sku("MUG"))), None, "untracked stays untracked");

    // A stale receipt writes nothing, stock included.
    let mut stale = update(&new.id, 2, "received", "received", at + Duration::hours(2));
    stale.restock = vec![(tee.clone(), 5)];
    assert!(store.update_return(&stale).await.is_err());
    assert_eq!(store.stock_levels().await.unwrap()[&tee].on_hand, after[&tee].on_hand);
}

fn new_key(name: &str, hash: &str) -> NewApiKey {
    NewApiKey {
        id: new_id(),
        name: name.to_owned(),
        key_hash: hash.to_owned(),
        created_at: datetime!(2030-06-01 14:00:00.123_456_789 UTC),
    }
}

async fn api_keys_are_found_by_hash_until_revoked(store: Arc<dyn Store>) {
    let warehouse = new_key("warehouse", "hash-1");
    assert!(store.create_api_key(&warehouse).await.unwrap());
    assert!(!store.create_api_key(&new_key("warehouse", "hash-2")).await.unwrap(), "name in use");
    let carrier = new_key("carrier", "hash-3");
    assert!(store.create_api_key(&carrier).await.unwrap());
    let found = store.api_key_by_hash("hash-1").await.unwrap().unwrap();
    assert_eq!(
        found,
        ApiKeyRow {
            id: warehouse.id.clone(),
            name: "warehouse".into(),
            created_at: micros(warehouse.created_at),
            revoked_at: None,
        }
    );
    assert_eq!(store.api_key_by_hash("hash-2").await.unwrap(), None);

    let at = datetime!(2030-06-02 08:00 UTC);
    let revoked = store.revoke_api_key("warehouse", at).await.unwrap();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].revoked_at, Some(at));
    assert_eq!(store.api_key_by_hash("hash-1").await.unwrap(), None, "a revoked key is unknown");
    assert!(store.revoke_api_key("warehouse", at).await.unwrap().is_empty(), "only once");
    // By id too; the name is free again once its key is revoked.
    assert_eq!(store.revoke_api_key(&carrier.id, at).await.unwrap()[0].name, "carrier");
    assert!(store.create_api_key(&new_key("warehouse", "hash-4")).await.unwrap());
    let listed: Vec<(String, bool)> = store
        .api_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|key| (key.name, key.revoked_at.is_some()))
        .collect();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed.iter().filter(|(_, revoked)| !revoked).count(), 1);
}

/// A `shipped` or `delivered` write of the order placed by [`place_order`].
fn fulfilment(
    order_id: &str,
    number: &str,
    version: u32,
    kind: &str,
    at: OffsetDateTime,
    key: &str,
    idempotency_key: Option<&str>,
) -> FulfilmentWrite {
    let mut order = order_write(order_id, number, version, 1, 0);
    order.events[0].event_type = kind.to_owned();
    order.events[0].payload = json!({ "type": kind, "at": "…" });
    order.actor = "system".into();
    order.projection.status = kind.parse().unwrap();
    if kind == "shipped" {
        order.projection.shipped_at = Some(at);
    } else {
        order.projection.delivered_at = Some(at);
    }
    FulfilmentWrite {
        order,
        api_key_id: key.to_owned(),
        idempotency_key: idempotency_key.map(str::to_owned),
        response: json!({ "number": number, "status": kind }),
        at,
    }
}

async fn a_fulfilment_appends_to_the_order_once_per_idempotency_key(store: Arc<dyn Store>) {
    store.replace_catalog(&catalog(FIRST)).await.unwrap();
    let key = new_key("warehouse", "hash-1");
    store.create_api_key(&key).await.unwrap();
    let (order_id, number) = place_order(store.as_ref(), &[1], "confirmed").await;
    let shipped_at = datetime!(2030-06-02 09:00:00.5 UTC);
    let shipped = fulfilment(&order_id, &number, 1, "shipped", shipped_at, &key.id, Some("s-1"));
    store.record_fulfilment(&shipped).await.unwrap();
    let events = store.order_events(&order_id).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(),
        ["line_added", "shipped"]
    );
    assert_eq!((events[1].seq, events[1].actor.as_str()), (2, "system"));
    assert_eq!(events[1].conversation_id, None);
    assert_eq!(store.order_summary(&number).await.unwrap().unwrap().status, OrderStatus::Shipped);
    let kept = store.fulfilment_response(&key.id, "s-1").await.unwrap().unwrap();
    assert_eq!((kept.order_number.as_str(), &kept.response), (number.as_str(), &shipped.response));
    assert_eq!(store.fulfilment_response(&key.id, "other").await.unwrap(), None);

    // The same key again, even written as if at the right version: nothing.
    let again = fulfilment(&order_id, &number, 2, "shipped", shipped_at, &key.id, Some("s-1"));
    assert!(matches!(store.record_fulfilment(&again).await, Err(StoreError::DuplicateTurn)));
    // A stale version: nothing.
    let stale = fulfilment(&order_id, &number, 1, "delivered", shipped_at, &key.id, Some("d-1"));
    assert!(matches!(store.record_fulfilment(&stale).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.fulfilment_response(&key.id, "d-1").await.unwrap(), None, "rolled back");
    assert_eq!(store.order_events(&order_id).await.unwrap().len(), 2);

    // A shipped order is not cancelled, whatever the writer believed.
    let conversation = start_conversation(store.as_ref()).await;
    let mut cancel = turn(&conversation, 1, "cancel");
    let mut write = order_write(&order_id, &number, 2, 1, 0);
    write.projection.status = OrderStatus::Cancelled;
    cancel.order = Some(write);
    assert!(matches!(store.record_turn(&cancel).await, Err(StoreError::Conflict(_))));

    let delivered_at = datetime!(2030-06-04 15:00:00.25 UTC);
    let delivered = fulfilment(&order_id, &number, 2, "delivered", delivered_at, &key.id, None);
    store.record_fulfilment(&delivered).await.unwrap();
    let order = store.returnable_order(&number).await.unwrap().unwrap();
    assert_eq!(order.delivered_at, Some(delivered_at), "return windows count from here");
    assert_eq!(store.order_summary(&number).await.unwrap().unwrap().status, OrderStatus::Delivered);

    let now = OffsetDateTime::now_utc();
    let facts = store
        .order_fulfilment_facts(now - Duration::hours(1), now + Duration::hours(1))
        .await
        .unwrap();
    let fact = facts.iter().find(|f| f.number == number).unwrap();
    assert_eq!((fact.shipped_at, fact.delivered_at), (Some(shipped_at), Some(delivered_at)));
    assert!(fact.confirmed_at.is_some() && !fact.handed_off && fact.returns.is_empty());
    assert_eq!(fact.status, "delivered");
    let later = store
        .order_fulfilment_facts(now + Duration::hours(1), now + Duration::hours(2))
        .await
        .unwrap();
    assert!(later.is_empty(), "{later:?}");
}

async fn order_fulfilment_facts_carry_returns_and_handoffs(store: Arc<dyn Store>) {
    store.replace_catalog(&catalog(FIRST)).await.unwrap();
    let (order_id, number) = place_order(store.as_ref(), &[2], "confirmed").await;
    let requested = datetime!(2030-06-10 12:00:00 UTC);
    store.create_return(&a_return(&order_id, "R-FACT", requested, &[(0, 1)])).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let facts = store
        .order_fulfilment_facts(now - Duration::hours(1), now + Duration::hours(1))
        .await
        .unwrap();
    let fact = facts.iter().find(|f| f.number == number).unwrap();
    assert_eq!(fact.returns.len(), 1);
    assert_eq!(fact.returns[0].requested_at, requested);
    assert_eq!((fact.shipped_at, fact.delivered_at), (None, None));
}

fn payment_event(
    order_id: &str,
    number: &str,
    version: u32,
    event_id: &str,
    kind: &str,
) -> PaymentEventWrite {
    let mut order = order_write(order_id, number, version, 1, 0);
    order.events[0].event_type = kind.to_owned();
    order.events[0].payload = json!({ "type": kind });
    order.actor = "system".into();
    order.projection.status = OrderStatus::Confirmed;
    PaymentEventWrite {
        provider: "stripe".into(),
        event_id: event_id.to_owned(),
        event_type: "checkout.session.completed".into(),
        order_number: Some(number.to_owned()),
        order: Some(order),
        at: OffsetDateTime::now_utc(),
    }
}

async fn a_payment_event_appends_to_the_order_once(store: Arc<dyn Store>) {
    store.replace_catalog(&catalog(FIRST)).await.unwrap();
    let (order_id, number) = place_order(store.as_ref(), &[1], "confirmed").await;
    let paid = payment_event(&order_id, &number, 1, "evt_1", "paid");
    assert!(store.record_payment_event(&paid).await.unwrap());
    let events = store.order_events(&order_id).await.unwrap();
    assert_eq!(
        events.iter().map(|e| (e.seq, e.event_type.as_str(), e.actor.as_str())).collect::<Vec<_>>(),
        [(1, "line_added", "shopper"), (2, "paid", "system")]
    );
    // The same Stripe event again, even written at the right version: nothing.
    let again = payment_event(&order_id, &number, 2, "evt_1", "paid");
    assert!(!store.record_payment_event(&again).await.unwrap());
    assert_eq!(store.order_events(&order_id).await.unwrap().len(), 2);
    // A stale version: a conflict, and the event id is not remembered.
    let stale = payment_event(&order_id, &number, 1, "evt_2", "payment_expired");
    assert!(matches!(store.record_payment_event(&stale).await, Err(StoreError::Conflict(_))));
    let retried = payment_event(&order_id, &number, 2, "evt_2", "payment_expired");
    assert!(store.record_payment_event(&retried).await.unwrap(), "evt_2 was rolled back");
    // An event that changes no order is still remembered.
    let other =
        PaymentEventWrite { order: None, ..payment_event(&order_id, &number, 3, "evt_3", "x") };
    assert!(store.record_payment_event(&other).await.unwrap());
    assert!(!store.record_payment_event(&other).await.unwrap());
    assert_eq!(store.order_events(&order_id).await.unwrap().len(), 3);
    // Another provider's event with the same id is another event.
    let elsewhere = PaymentEventWrite { provider: "other".into(), ..other };
    assert!(store.record_payment_event(&elsewhere).await.unwrap());
}

/// A small deterministic generator for the random workload (xorshift64*).
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The lead times of `days` summed over the period, as of `from` (as the store reads
/// a period).
fn leads_of_period(mut days: ConversationDays, from: time::Date) -> ConversationDays {
    for lead in &mut days.lead_times {
        lead.day = from;
    }
    days.normalized()
}

/// What the store's facts say, as the domain counts them: the recount.
async fn recount(store: &dyn Store, from: OffsetDateTime, to: OffsetDateTime) -> ConversationDays {
    let facts: Vec<ConversationFacts> = store
        .conversation_facts(from, to)
        .await
        .unwrap()
        .into_iter()
        .map(|row| ConversationFacts {
            outcome: Outcome::parse(&row.outcome),
            needs_manual_handling: row.order_number.is_some() && row.handed_off,
            payment: row
                .payment_status
                .as_deref()
                .map(|text| PaymentStatus::ALL.into_iter().find(|s| s.as_str() == text).unwrap())
                .unwrap_or_default(),
            id: row.id,
            started_at: row.started_at,
            first_message_at: row.first_message_at,
            confirmed_at: row.confirmed_at,
            turns: row.turns,
            clarification_turns: row.clarification_turns,
            order_number: row.order_number,
        })
        .collect();
    ConversationDays::count(&facts)
}

/// The dashboard's sums per day (kept by triggers as each write happens) equal a recount
/// from the facts after a random workload of turns, clarifications, orders placed and
/// confirmed later, payments, handoffs and cancellations over many days.
async fn dashboard_days_equal_a_recount_after_a_random_workload(store: Arc<dyn Store>) {
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15);
    let now = OffsetDateTime::now_utc();
    let (from, to) = (now - Duration::days(400), now + Duration::days(2));
    let (first_day, end_day) = (from.date(), to.date());
    let codes = [
        "ambiguous_product",
        "unknown_product",
        "missing",
        "not_understood",
        "confirmation_needed",
    ];
    for round in 0..60u64 {
        let started_at = now
            - Duration::days(dice.below(12) as i64 + if dice.chance(10) { 300 } else { 0 })
            - Duration::milliseconds(dice.below(86_400_000) as i64);
        let id = new_id();
        store
            .create_conversation(&NewConversation {
                id: id.clone(),
                channel: "api".into(),
                started_at,
            })
            .await
            .unwrap();
        let turns = 1 + dice.below(7) as u32;
        let mut order: Option<(String, String, u32, String)> = None;
        let mut elapsed = Duration::ZERO;
        for seq in 1..=turns {
            elapsed += Duration::milliseconds(1 + dice.below(400_000) as i64);
            let mut write = turn(&id, seq, "something");
            write.received_at = started_at + elapsed;
            if dice.chance(40) {
                let code = codes[dice.below(codes.len() as u64) as usize];
                write.response = json!({ "reply": "?", "messages": [
                    { "type": "error", "code": code, "param": null, "content": "…" } ] });
            }
            let status = match &order {
                None if dice.chance(45) => Some("draft"),
                Some((_, _, _, status)) if status == "draft" && dice.chance(60) => {
                    Some("confirmed")
                }
                Some((_, _, _, status)) if status == "confirmed" && dice.chance(15) => {
                    Some("cancelled")
                }
                _ => None,
            };
            if let Some(status) = status {
                let (order_id, number, version) = match &order {
                    Some((order_id, number, version, _)) => {
                        (order_id.clone(), number.clone(), *version)
                    }
                    None => (
                        new_id(),
                        format!("G-{}", 100_000 + store.next_order_number().await.unwrap()),
                        0,
                    ),
                };
                let mut placed = order_write(&order_id, &number, version, 1, 0);
                placed.projection.status = status.parse().unwrap();
                if status == "confirmed" && dice.chance(50) {
                    placed.projection.payment_status = PaymentStatus::Pending;
                }
                write.order = Some(placed);
                write.outcome = (status == "confirmed").then_some(Outcome::Ordered);
                order = Some((order_id, number, version + 1, status.to_owned()));
            }
            if seq == turns && dice.chance(20) {
                write.handoff = true;
                write.outcome = Some(Outcome::HandedOff);
            }
            store.record_turn(&write).await.unwrap();
            // Between turns, a confirmed order is paid, refunded or its link expires (and
            // the shopper may write again after that).
            if let Some((order_id, number, version, status)) = order.as_mut() {
                if status == "confirmed" && dice.chance(35) {
                    let kind = ["paid", "payment_expired", "refunded"][dice.below(3) as usize];
                    let event_id = format!("evt_{round}_{seq}");
                    let mut event = payment_event(order_id, number, *version, &event_id, kind);
                    if let Some(write) = event.order.as_mut() {
                        write.projection.payment_status = match kind {
                            "paid" => PaymentStatus::Paid,
                            "payment_expired" => PaymentStatus::Expired,
                            _ => PaymentStatus::Refunded,
                        };
                    }
                    assert!(store.record_payment_event(&event).await.unwrap());
                    *version += 1;
                }
            }
        }
        if round % 20 == 19 {
            let kept = store.conversation_days(first_day, end_day).await.unwrap();
            let counted = leads_of_period(recount(store.as_ref(), from, to).await, first_day);
            assert_eq!(kept.normalized(), counted, "round {round}");
        }
    }
    let kept = store.conversation_days(first_day, end_day).await.unwrap();
    let counted = recount(store.as_ref(), from, to).await;
    assert_eq!(kept.normalized(), leads_of_period(counted.clone(), first_day));
    // Day by day, each day's lead times too.
    for day in counted.days.iter().map(|d| d.day) {
        let one = store.conversation_days(day, day.next_day().unwrap()).await.unwrap();
        let expected: Vec<(i64, u64)> = counted
            .lead_times
            .iter()
            .filter(|l| l.day == day)
            .map(|l| (l.lead_ms, l.conversations))
            .collect();
        let found: Vec<(i64, u64)> =
            one.lead_times.iter().map(|l| (l.lead_ms, l.conversations)).collect();
        assert_eq!(found, expected, "{day}");
    }
    // The workload reached every sum (else the comparison above proves little).
    let total = |f: fn(&ConversationDay) -> u64| counted.days.iter().map(f).sum::<u64>();
    for (name, sum) in [
        ("conversations", total(|d| d.conversations)),
        ("clarification_turns", total(|d| d.clarification_turns)),
        ("orders", total(|d| d.orders)),
        ("confirmed", total(|d| d.confirmed)),
        ("exceptions", total(|d| d.exceptions)),
        ("handed_off", total(|d| d.handed_off)),
        ("payment_links", total(|d| d.payment_links)),
        ("paid", total(|d| d.paid)),
    ] {
        assert!(sum > 0, "the workload made no {name}");
    }
    assert!(!counted.lead_times.is_empty());
    // A period reads only its days.
    let today = now.date();
    let one_day = store.conversation_days(today, today.next_day().unwrap()).await.unwrap();
    assert!(one_day.days.iter().all(|d| d.day == today), "{one_day:?}");
}

/// The delivery sums per day of confirmation (kept by migration 0017's triggers) equal a
/// recount from the orders' facts after a random workload of confirmations, shipments,
/// deliveries (late, early, before the confirmation), cancellations, handoffs and returns
/// that are rejected or cancelled again; and the misses the store names are the recount's.
async fn delivery_sums_equal_a_recount_after_a_random_workload(store: Arc<dyn Store>) {
    store.replace_catalog(&catalog(FIRST)).await.unwrap();
    let key = new_key("warehouse", "hash-deliveries");
    assert!(store.create_api_key(&key).await.unwrap());
    let mut dice = Dice(0x2545_F491_4F6C_DD1D);
    let now = OffsetDateTime::now_utc();
    let (from, to) = (now - Duration::days(2), now + Duration::days(2));
    let (first_day, end_day) = (from.date(), to.date());
    let hours = |dice: &mut Dice, most: u64| Duration::minutes(dice.below(most * 60) as i64);
    for round in 0..40u32 {
        let conversation = start_conversation(store.as_ref()).await;
        let order_id = new_id();
        let number = format!("G-{}", 100_000 + store.next_order_number().await.unwrap());
        let mut place = turn(&conversation, 1, "order, confirm");
        let mut write = order_write(&order_id, &number, 0, 2, 0);
        write.projection.status = OrderStatus::Confirmed;
        write.projection.lines[0].quantity = 2;
        place.order = Some(write);
        store.record_turn(&place).await.unwrap();
        let mut version = 1;
        let mut seq = 1;
        if dice.chance(15) {
            seq += 1;
            let mut cancel = turn(&conversation, seq, "cancel");
            let mut write = order_write(&order_id, &number, version, 2, 0);
            write.projection.status = OrderStatus::Cancelled;
            cancel.order = Some(write);
            store.record_turn(&cancel).await.unwrap();
            continue;
        }
        if dice.chance(75) {
            let at = now + hours(&mut dice, 60) - Duration::hours(2);
            let shipped = fulfilment(&order_id, &number, version, "shipped", at, &key.id, None);
            store.record_fulfilment(&shipped).await.unwrap();
            version += 1;
            if dice.chance(75) {
                // Up to 9 days after the confirmation, now and then (2 h) before it.
                let at = if dice.chance(15) {
                    now - Duration::hours(2)
                } else {
                    now + hours(&mut dice, 9 * 24)
                };
                let delivered =
                    fulfilment(&order_id, &number, version, "delivered", at, &key.id, None);
                store.record_fulfilment(&delivered).await.unwrap();
            }
        }
        if dice.chance(25) {
            seq += 1;
            let mut help = turn(&conversation, seq, "a person please");
            help.handoff = true;
            help.outcome = Some(Outcome::HandedOff);
            store.record_turn(&help).await.unwrap();
        }
        if dice.chance(35) {
            let mut new = a_return(&order_id, &format!("R-DEL-{round}"), now, &[(0, 1)]);
            if dice.chance(50) {
                new.items[0].reason = "wrong_item".into();
            }
            let return_id = new.id.clone();
            store.create_return(&new).await.unwrap();
            if dice.chance(40) {
                let status = if dice.chance(50) { "rejected" } else { "cancelled" };
                let mut undo = update(&return_id, 2, status, status, now);
                undo.release = vec![(0, 1)];
                store.update_return(&undo).await.unwrap();
            }
        }
    }
    let rows = store.order_fulfilment_facts(from, to).await.unwrap();
    let facts: Vec<OrderFulfilmentFacts> =
        rows.iter().filter_map(gapless_store::OrderFulfilmentFactRow::facts).collect();
    let counted = DeliveryDays::count(&facts);
    let kept = store.delivery_days(first_day, end_day).await.unwrap();
    assert_eq!(kept, counted.as_read_from(first_day));
    // The workload reached every part of the sums (else the comparison proves little).
    let classes: Vec<_> = counted.deliveries.iter().map(|d| d.class).collect();
    for (part, reached) in [
        ("delivered", classes.iter().any(|c| c.delivered_days.is_some())),
        ("not delivered", classes.iter().any(|c| c.delivered_days.is_none())),
        ("delivered before confirmed", classes.iter().any(|c| c.delivered_days == Some(0))),
        ("late for 5 days", classes.iter().any(|c| c.delivered_days > Some(5))),
        ("not in full", classes.iter().any(|c| !c.in_full)),
        ("exception", classes.iter().any(|c| c.exception)),
        ("returned", classes.iter().any(|c| c.returned)),
        ("returned in full", classes.iter().any(|c| c.returned && c.in_full)),
        ("cancelled", facts.iter().any(|f| f.cancelled)),
        ("shipped", counted.lead_times.iter().any(|l| l.leg == Leg::Shipped)),
        ("a return undone", rows.iter().any(|r| r.returns.iter().any(|x| x.status != "approved"))),
    ] {
        assert!(reached, "the workload never reached: {part}");
    }
    // The misses, as decided a week from now (every order past due) and now (none yet).
    let period =
        Period { from: first_day.midnight().assume_utc(), to: end_day.midnight().assume_utc() };
    for at in [now + Duration::days(7), now] {
        let promise = Duration::days(5);
        let named = store.delivery_misses(first_day, end_day, 5, at - promise).await.unwrap();
        let exact = fulfilment_metrics(&facts, period, promise, at);
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        assert_eq!(sorted(named.late), sorted(exact.late.clone()), "late at {at}");
        assert_eq!(sorted(named.not_perfect), sorted(exact.not_perfect.clone()), "at {at}");
    }
}

/// A snapshot is read back only while it is of the order's current version.
async fn an_order_snapshot_is_read_only_while_current(store: Arc<dyn Store>) {
    assert_eq!(store.order_snapshot("nothing").await.unwrap(), None);
    let conversation = start_conversation(store.as_ref()).await;
    let order_id = new_id();
    let number = format!("G-{}", 100_000 + store.next_order_number().await.unwrap());
    let mut first = turn(&conversation, 1, "a tee");
    let mut write = order_write(&order_id, &number, 0, 1, 0);
    write.projection.snapshot = Some(json!({ "lines": 1 }));
    first.order = Some(write);
    store.record_turn(&first).await.unwrap();
    assert_eq!(store.order_snapshot(&order_id).await.unwrap(), Some((1, json!({ "lines": 1 }))));

    // A write without one leaves the stored snapshot behind: readers fold instead.
    let mut second = turn(&conversation, 2, "another");
    second.order = Some(order_write(&order_id, &number, 1, 2, 0));
    store.record_turn(&second).await.unwrap();
    assert_eq!(store.order_snapshot(&order_id).await.unwrap(), None);

    let mut third = turn(&conversation, 3, "and another");
    let mut write = order_write(&order_id, &number, 2, 3, 0);
    write.projection.snapshot = Some(json!({ "lines": 3 }));
    third.order = Some(write);
    store.record_turn(&third).await.unwrap();
    assert_eq!(store.order_snapshot(&order_id).await.unwrap(), Some((3, json!({ "lines": 3 }))));
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
    saving_never_brings_back_a_deleted_session,
    an_expired_session_does_not_load,
    a_deleted_session_is_gone,
    only_expired_sessions_are_swept,
    the_write_probe_commits_and_clears,
    concurrent_turns_commit_independently,
    conversations_are_found_by_their_words,
    a_common_word_is_found_like_a_rare_one,
    conversations_are_filtered_by_outcome,
    conversations_are_filtered_by_start_half_open,
    a_conversation_is_found_by_its_order_number,
    conversation_filters_combine,
    conversation_pages_have_no_gaps_or_repeats,
    a_bad_cursor_is_refused,
    audit_turns_are_read_by_time_page_by_page,
    a_confirmed_order_is_returnable,
    a_created_return_reads_back,
    claims_never_exceed_what_was_bought,
    concurrent_claims_never_return_more_than_bought,
    a_stale_return_version_writes_nothing,
    an_exchange_writes_its_replacement_or_nothing,
    released_claims_can_be_claimed_again,
    returns_are_listed_newest_first,
    recent_returns_count_live_requests_since,
    a_cancelled_order_takes_no_claims_and_a_claimed_order_no_cancel,
    concurrent_cancels_and_returns_never_both_win,
    a_return_is_written_only_under_the_limit_it_was_decided_on,
    restocked_units_return_to_on_hand_with_the_receipt,
    completed_return_events_cover_the_period,
    a_delivery_date_shows_in_the_lookup,
    a_created_staff_account_reads_back_by_email_and_id,
    a_taken_staff_email_is_not_created_again,
    concurrent_staff_creations_with_one_email_create_one,
    a_staff_role_outside_admin_and_agent_is_refused,
    handoffs_queue_until_staff_close_them,
    dashboard_facts_cover_the_period,
    dashboard_days_equal_a_recount_after_a_random_workload,
    delivery_sums_equal_a_recount_after_a_random_workload,
    an_order_snapshot_is_read_only_while_current,
    api_keys_are_found_by_hash_until_revoked,
    a_fulfilment_appends_to_the_order_once_per_idempotency_key,
    order_fulfilment_facts_carry_returns_and_handoffs,
    a_payment_event_appends_to_the_order_once,
);
