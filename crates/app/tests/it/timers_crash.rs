//! Durable timers with the real binary: 100,000 timers come due, the node firing them is
//! killed with SIGKILL half-way, and after the restart every timer has fired exactly once
//! (one `timer.fired` event each): on SQLite, and on PostgreSQL with two nodes firing at
//! once, one of them killed.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use parley_store::{EventKind, JobKind, JobState, JobStore, NewJob, Store};
use parley_store_postgres::PostgresStore;
use parley_store_sqlite::SqliteStore;
use parley_testkit::pg::PgCluster;
use serde_json::json;

use crate::cluster::{SECRETS, node};
use crate::process::{Server, counting_graph, start_with};

const TIMERS: usize = 100_000;
const QUEUE: &str = "test.crash";
/// Small transactions, so the firing takes long enough to be killed half-way.
const BATCH: (&str, &str) = ("PARLEY_JOBS__TIMER_BATCH", "100");

fn timers() -> Vec<NewJob> {
    let due = chrono::Utc::now() + chrono::Duration::seconds(1);
    (0..TIMERS)
        .map(|i| NewJob {
            kind: JobKind::Timer,
            queue: QUEUE.into(),
            key: format!("t-{i:06}"),
            account_id: parley_types::AccountId::parse("crash-test").unwrap(),
            conversation: None,
            payload: json!({"n": i}),
            due_at: due,
            retry: Vec::new(),
        })
        .collect()
}

/// How many timers have fired (each is one event; nothing else happens here).
async fn fired(store: &dyn Store) -> i64 {
    store.event_head().await.unwrap()
}

async fn wait_until_fired(store: &dyn Store, at_least: i64, seconds: u64) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while fired(store).await < at_least {
        assert!(
            Instant::now() < deadline,
            "{at_least} timers did not fire in {seconds} s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Every timer fired, and each is reported by exactly one event.
async fn fired_exactly_once(store: &dyn Store) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !store
        .jobs_in_state(Some(QUEUE), JobState::Pending, 1)
        .await
        .unwrap()
        .is_empty()
    {
        assert!(Instant::now() < deadline, "timers still pending");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut keys = HashSet::new();
    let mut events = 0;
    let (mut after, mut watch) = (0, None);
    loop {
        let read = store.read_events(after, watch, 10_000).await.unwrap();
        watch = read.watch;
        let Some(last) = read.events.last() else {
            if watch.is_none() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        after = last.seq;
        for event in &read.events {
            assert_eq!(event.kind, EventKind::TimerFired);
            let timer = event.timer.as_ref().expect("the timer");
            assert_eq!(timer.payload["n"], timer.key[2..].parse::<usize>().unwrap());
            keys.insert(timer.key.clone());
            events += 1;
        }
    }
    assert_eq!(keys.len(), TIMERS, "every timer fired");
    assert_eq!(events, TIMERS, "none fired twice");
}

#[tokio::test]
async fn a_hundred_thousand_timers_fire_exactly_once_across_a_kill_on_sqlite() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (graph, _) = counting_graph().await;
    let data = tempfile::tempdir().unwrap();
    let server = start_with(data.path(), graph, &[BATCH]).await;
    let store = SqliteStore::open(&data.path().join("parley.db"))
        .await
        .unwrap();
    assert_eq!(
        store
            .schedule_jobs(&timers(), chrono::Utc::now())
            .await
            .unwrap(),
        TIMERS as u64
    );

    wait_until_fired(&store, TIMERS as i64 / 3, 120).await;
    drop(server); // SIGKILL
    let at_kill = fired(&store).await;
    assert!(at_kill < TIMERS as i64, "killed half-way: {at_kill}");

    let _server = start_with(data.path(), graph, &[BATCH]).await;
    fired_exactly_once(&store).await;
    eprintln!("killed after {at_kill} of {TIMERS} timers; each fired exactly once");
}

#[tokio::test]
async fn a_hundred_thousand_timers_fire_exactly_once_on_two_postgres_nodes_one_killed() {
    let cluster = PgCluster::start().expect("start postgres");
    let url = cluster.fresh_database().unwrap();
    let store = PostgresStore::connect(&url, 4).await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(
        store
            .schedule_jobs(&timers(), chrono::Utc::now())
            .await
            .unwrap(),
        TIMERS as u64
    );

    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut env: Vec<(&str, &str)> = SECRETS.to_vec();
    env.extend([
        ("PARLEY_ROLES", "workers"),
        // Workers only: nothing is sent, but a node without the simulator names Meta.
        ("PARLEY_META__GRAPH_URL", "http://127.0.0.1:9"),
        BATCH,
    ]);
    let start = |dir: &std::path::Path| {
        let (url, env, dir) = (url.clone(), env.clone(), dir.to_owned());
        async move { node(&url, &dir, &[], &env).await }
    };
    let a: Server = start(dirs[0].path()).await;
    let _b: Server = start(dirs[1].path()).await;
    wait_until_fired(&store, TIMERS as i64 / 3, 120).await;
    drop(a); // SIGKILL, while b fires too
    let at_kill = fired(&store).await;
    assert!(at_kill < TIMERS as i64, "killed half-way: {at_kill}");
    let _a = start(dirs[0].path()).await;
    fired_exactly_once(&store).await;
    eprintln!(
        "one of two nodes killed after {at_kill} of {TIMERS} timers; each fired exactly once"
    );
}
