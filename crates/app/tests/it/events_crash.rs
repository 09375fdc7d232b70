//! The event log across a pause and a crash, with the real binary: a consumer that was
//! not running while 10,000 messages went through catches up with every event, in order,
//! when it runs again; killed with SIGKILL half-way through, it loses none and counts
//! none twice (its counters move in the transaction that moves its checkpoint).

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use parley_store::{EventKind, EventStore, StoredEvent};
use parley_store_sqlite::SqliteStore;
use serde_json::{Value, json};

use crate::process::{Server, counting_graph, start_with};

const MESSAGES: usize = 10_000;
const COUNTERS: &str = "usage-counters";

/// Settings for every start: small batches, so the catch-up takes many steps to kill one
/// in the middle of; a short lease, because a restart listens on another port (so it is
/// another owner) and must not wait long for the dead one's lease.
const STEPS: [(&str, &str); 2] = [
    ("PARLEY_EVENTS__BATCH", "50"),
    ("PARLEY_EVENTS__LEASE_SECONDS", "1"),
];

async fn start(data: &Path, graph: std::net::SocketAddr, paused: bool) -> Server {
    let mut env = STEPS.to_vec();
    if paused {
        env.push(("PARLEY_EVENTS__PAUSED", "[\"usage-counters\"]"));
    }
    start_with(data, graph, &env).await
}

/// The counters consumer's checkpoint, if it ever ran.
async fn position(store: &SqliteStore) -> Option<i64> {
    let consumers = store.consumers().await.unwrap();
    consumers
        .into_iter()
        .find(|c| c.name == COUNTERS)
        .map(|c| c.position)
}

async fn wait_for(what: &str, seconds: u64, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !done().await {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen in {seconds} s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The whole log, in order.
async fn all_events(store: &SqliteStore) -> Vec<StoredEvent> {
    let mut events: Vec<StoredEvent> = Vec::new();
    loop {
        let after = events.last().map_or(0, |e| e.seq);
        let read = store.read_events(after, None, 5_000).await.unwrap();
        if read.events.is_empty() {
            return events;
        }
        events.extend(read.events);
    }
}

#[tokio::test]
async fn a_paused_consumer_catches_up_in_order_and_a_kill_half_way_loses_no_event() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (graph, sends) = counting_graph().await;
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path(), graph, true).await;
    let bootstrap: Value =
        serde_json::from_slice(&std::fs::read(data.path().join("bootstrap.json")).unwrap())
            .unwrap();
    let key = bootstrap["apiKey"].as_str().unwrap();
    let sub = bootstrap["subAccountId"].as_str().unwrap();

    // 10,000 messages to 1,000 people, 10 each (within WhatsApp's burst to one user), while
    // the counters consumer is paused.
    let user = |i: usize| format!("+1555700{:04}", i % 1000);
    let messages: Vec<Value> = (0..MESSAGES)
        .map(|i| json!({"user": {"msisdn": user(i)}, "type": "text", "content": {"text": format!("n{i}")}}))
        .collect();
    let answer: Value = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/subaccounts/{sub}/messages/batch",
            server.base
        ))
        .bearer_auth(key)
        .json(&json!({"messages": messages, "includeMessagesInResponse": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["acceptedCount"], MESSAGES, "{}", answer["message"]);
    let accepted: Vec<String> = answer["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["umid"].as_str().unwrap().to_owned())
        .collect();
    wait_for("every send", 120, async || {
        sends.lock().unwrap().len() == MESSAGES
    })
    .await;
    let store = SqliteStore::open(&data.path().join("parley.db"))
        .await
        .unwrap();
    // Each message was accepted and sent: two events each, and the consumer never ran.
    wait_for("every event", 30, async || {
        store.event_head().await.unwrap() == 2 * MESSAGES as i64
    })
    .await;
    assert_eq!(position(&store).await, None, "paused consumers do not run");
    drop(server);

    // Run again, and kill it half-way through the catch-up.
    let server = start(data.path(), graph, false).await;
    let head = store.event_head().await.unwrap();
    wait_for("a third of the backlog", 60, async || {
        position(&store).await.is_some_and(|p| p >= head / 3)
    })
    .await;
    drop(server); // SIGKILL
    let at_kill = position(&store).await.unwrap();
    assert!(at_kill < head, "killed half-way: {at_kill} of {head}");

    let server = start(data.path(), graph, false).await;
    wait_for("the catch-up", 120, async || {
        position(&store).await == Some(head)
    })
    .await;
    drop(server);

    let account = parley_types::AccountId::parse(bootstrap["accountId"].as_str().unwrap()).unwrap();
    let today = chrono::Utc::now().date_naive();
    let mut totals: HashMap<String, i64> = HashMap::new();
    for counter in store
        .counters(
            &account,
            today - chrono::Days::new(1),
            today + chrono::Days::new(2),
        )
        .await
        .unwrap()
    {
        *totals.entry(counter.key.metric).or_default() += counter.value;
    }
    assert_eq!(
        totals.get("accepted"),
        Some(&(MESSAGES as i64)),
        "{totals:?}"
    );
    assert_eq!(totals.get("sent"), Some(&(MESSAGES as i64)), "{totals:?}");

    // The log itself: per conversation, acceptances in the order the batch gave, and each
    // message sent after it was accepted.
    let events = all_events(&store).await;
    assert_eq!(events.len(), 2 * MESSAGES);
    let mut accepted_in_log: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut accepted_at: HashMap<&str, i64> = HashMap::new();
    for event in &events {
        match event.kind {
            EventKind::MessageAccepted => {
                accepted_in_log
                    .entry(&event.conversation)
                    .or_default()
                    .push(&event.subject);
                accepted_at.insert(&event.subject, event.seq);
            }
            EventKind::MessageStatus => {
                let accepted = accepted_at.get(event.subject.as_str());
                assert!(
                    accepted.is_some_and(|seq| *seq < event.seq),
                    "sent before accepted"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(accepted_in_log.len(), 1000);
    for (conversation, umids) in accepted_in_log {
        let msisdn = conversation.rsplit(':').next().unwrap();
        let expected: Vec<&str> = (0..MESSAGES)
            .filter(|i| user(*i) == msisdn)
            .map(|i| accepted[i].as_str())
            .collect();
        assert_eq!(umids, expected, "{conversation} in batch order");
    }
    eprintln!("consumer killed at {at_kill} of {head} events; caught up exactly");
}
