use parley_store_postgres::PostgresStore;
use parley_testkit::pg::PgCluster;

/// A store on a database of its own cluster. The suite drops the cluster before the
/// store (`let (store, _guard)` drops in reverse order); that is fine because the
/// cluster stops in immediate mode, which does not wait for the pool's connections.
async fn fresh_store() -> (PostgresStore, PgCluster) {
    let (cluster, url) = fresh_database();
    (node(&url).await, cluster)
}

fn fresh_database() -> (PgCluster, String) {
    let cluster = PgCluster::start().expect("start postgres");
    let url = cluster.fresh_database().expect("create database");
    (cluster, url)
}

/// A node on a migrated database (the first to get there migrates; the rest find nothing
/// pending).
async fn node(url: &str) -> PostgresStore {
    let store = PostgresStore::connect(url, 4)
        .await
        .expect("connect to postgres");
    store.migrate().await.expect("migrate");
    store
}

#[tokio::test]
async fn connecting_leaves_the_schema_alone_until_migrate_is_asked_for() {
    let (_cluster, url) = fresh_database();
    let store = PostgresStore::connect(&url, 2).await.unwrap();
    let pending = store.pending_migrations().await.unwrap();
    assert!(
        pending.len() >= 11,
        "a fresh database lacks every migration: {pending:?}"
    );
    assert_eq!(store.migrate().await.unwrap(), pending.len());
    assert!(store.pending_migrations().await.unwrap().is_empty());
    assert_eq!(
        store.migrate().await.unwrap(),
        0,
        "a second run applies nothing"
    );
}

parley_store::conformance_suite!(fresh_store);

// Beyond the shared suite: what PostgreSQL is for, several nodes on one database. Each
// store below has its own pool, as a separate Parley node would.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::Duration;
use parley_store::conformance::{outbound, sandbox, t0};
use parley_store::{
    AcceptOutcome, DispatchResult, DispatchStore, Message, MessageState, MessageStatus,
    MessageStore, TenantStore,
};
use parley_types::Umid;

/// Two nodes on one fresh database.
async fn two_nodes() -> ([PostgresStore; 2], PgCluster) {
    let (cluster, url) = fresh_database();
    ([node(&url).await, node(&url).await], cluster)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_racing_on_the_same_request_agree_on_one_outcome() {
    let (nodes, _cluster) = two_nodes().await;
    let sandbox = sandbox();
    let bootstraps = on_both_nodes(&nodes, 8, |node, _| {
        let sandbox = sandbox.clone();
        async move { node.bootstrap_sandbox(&sandbox).await.unwrap() }
    })
    .await;
    assert_eq!(bootstraps.iter().filter(|&&created| created).count(), 1);

    let retries = on_both_nodes(&nodes, 16, |node, _| {
        let m = outbound(&sandbox, "+15551230001", Some("order-1"), t0());
        async move { node.accept_outbound(&[m]).await.unwrap().remove(0) }
    })
    .await;
    let accepted: Vec<Umid> = retries
        .iter()
        .filter_map(|o| match o {
            AcceptOutcome::Accepted(m) => Some(m.umid),
            AcceptOutcome::Duplicate(_) => None,
        })
        .collect();
    assert_eq!(accepted.len(), 1, "exactly one copy is accepted");
    assert!(retries.iter().all(|o| o.message().umid == accepted[0]));
    assert_eq!(nodes[0].dispatch_backlog().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_never_claim_the_same_message_and_keep_per_recipient_order() {
    const RECIPIENTS: usize = 10;
    const PER_RECIPIENT: usize = 10;
    let (nodes, _cluster) = two_nodes().await;
    let sandbox = sandbox();
    assert!(nodes[0].bootstrap_sandbox(&sandbox).await.unwrap());
    let mut accepted: HashMap<String, Vec<Umid>> = HashMap::new();
    for n in 0..PER_RECIPIENT {
        let batch: Vec<Message> = (0..RECIPIENTS)
            .map(|r| outbound(&sandbox, &format!("+1555123{r:04}"), None, t0()))
            .collect();
        for m in &batch {
            accepted.entry(m.msisdn.clone()).or_default().push(m.umid);
        }
        nodes[n % 2].accept_outbound(&batch).await.unwrap();
    }

    // Workers claim and complete until the queue is empty. A recipient's next message
    // is claimable only once the previous one is completed, so the claim log lists each
    // recipient's messages in accept order.
    let claims = Arc::new(Mutex::new(Vec::<(String, Umid)>::new()));
    on_both_nodes(&nodes, 6, |node, worker| {
        let claims = Arc::clone(&claims);
        async move {
            loop {
                let jobs = node
                    .claim_dispatch(t0(), t0() + Duration::hours(1), 3, &[])
                    .await
                    .unwrap();
                if jobs.is_empty() {
                    if node.dispatch_backlog().await.unwrap() == 0 {
                        return;
                    }
                    tokio::task::yield_now().await;
                    continue;
                }
                claims.lock().unwrap().extend(
                    jobs.iter()
                        .map(|j| (j.message.msisdn.clone(), j.message.umid)),
                );
                for job in jobs {
                    let umid = job.message.umid;
                    let result = DispatchResult::Sent {
                        provider_message_id: format!("wamid.{worker}.{umid}"),
                        status: MessageStatus::new(MessageState::Sent, t0()),
                    };
                    node.complete_dispatch(umid, &result).await.unwrap();
                }
            }
        }
    })
    .await;

    let claims = claims.lock().unwrap();
    let distinct: HashSet<Umid> = claims.iter().map(|c| c.1).collect();
    assert_eq!(
        claims.len(),
        RECIPIENTS * PER_RECIPIENT,
        "one claim per message"
    );
    assert_eq!(distinct.len(), claims.len(), "no message claimed twice");
    for (msisdn, in_order) in accepted {
        let claimed: Vec<Umid> = claims
            .iter()
            .filter(|c| c.0 == msisdn)
            .map(|c| c.1)
            .collect();
        assert_eq!(claimed, in_order, "order to {msisdn}");
    }
}

/// Runs `count` tasks at once, alternating between the nodes, and collects their results.
async fn on_both_nodes<F, Fut, T>(nodes: &[PostgresStore; 2], count: usize, task: F) -> Vec<T>
where
    F: Fn(PostgresStore, usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = (0..count)
        .map(|i| tokio::spawn(task(nodes[i % 2].clone(), i)))
        .collect();
    let mut results = Vec::with_capacity(count);
    for handle in handles {
        results.push(handle.await.expect("task panicked"));
    }
    results
}

#[tokio::test]
async fn a_message_queued_on_one_node_wakes_the_others() {
    let (nodes, _cluster) = two_nodes().await;
    let sandbox = sandbox();
    assert!(nodes[0].bootstrap_sandbox(&sandbox).await.unwrap());
    let wake = Arc::new(tokio::sync::Notify::new());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let listener = nodes[1].clone();
    let relay = tokio::spawn({
        let wake = wake.clone();
        async move {
            listener
                .relay_notifications(parley_store_postgres::DISPATCH_CHANNEL, wake, stopped)
                .await
        }
    });
    // The listener subscribes asynchronously: queue until a wake-up arrives, a bounded
    // number of times (each wait ends at a notification, not a fixed sleep).
    let mut woken = false;
    for n in 0..50 {
        let m = outbound(&sandbox, &format!("+1555123{n:04}"), None, t0());
        nodes[0].accept_outbound(&[m]).await.unwrap();
        let waited = tokio::time::timeout(std::time::Duration::from_millis(200), wake.notified());
        if waited.await.is_ok() {
            woken = true;
            break;
        }
    }
    assert!(woken, "queueing on one node never woke the other");
    stop.send(true).unwrap();
    relay.await.unwrap().unwrap();
}

/// Appends a business event in a transaction of its own that stays open: its `seq` is
/// drawn but not visible.
async fn open_append(url: &str) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO events (kind, account_id, conversation, subject, at) \
         VALUES ('business.updated', 'acct-1', 'b:1000', '1000', 0)",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    tx
}

async fn business_update(store: &PostgresStore) {
    use parley_store::WebhookStore;
    store
        .record_business_event(&parley_store::BusinessEvent {
            account_id: sandbox().account.id,
            waba_id: "1000".into(),
            event_type: "account_update".into(),
            details: serde_json::json!({}),
            at: t0(),
        })
        .await
        .unwrap();
}

fn seqs(read: &parley_store::EventRead) -> Vec<i64> {
    read.events.iter().map(|e| e.seq).collect()
}

#[tokio::test]
async fn a_reader_waits_at_a_number_still_being_committed_and_passes_a_rolled_back_one() {
    use parley_store::EventStore;
    let (cluster, url) = fresh_database();
    let store = node(&url).await;
    store.bootstrap_sandbox(&sandbox()).await.unwrap();
    business_update(&store).await;
    let in_flight = open_append(&url).await;
    business_update(&store).await;

    let read = store.read_events(0, None, 100).await.unwrap();
    assert_eq!(seqs(&read), [1], "seq 3 is visible but 2 may still come");
    let watch = read.watch.expect("the gap is watched");
    let again = store.read_events(1, Some(watch), 100).await.unwrap();
    assert!(again.events.is_empty(), "still in flight: {again:?}");

    in_flight.commit().await.unwrap();
    let read = store.read_events(1, again.watch, 100).await.unwrap();
    assert_eq!(seqs(&read), [2, 3], "committed late, read in order");
    assert_eq!(read.watch, None);

    let rolled_back = open_append(&url).await;
    business_update(&store).await;
    let read = store.read_events(3, None, 100).await.unwrap();
    assert!(read.events.is_empty());
    rolled_back.rollback().await.unwrap();
    let read = store.read_events(3, read.watch, 100).await.unwrap();
    assert_eq!(
        seqs(&read),
        [5],
        "a rolled back number is passed once nothing can fill it"
    );
    drop(cluster);
}
