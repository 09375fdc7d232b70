//! The real binary killed with SIGKILL while it delivers receipts to the customer's
//! endpoint under load, then restarted: every receipt of every accepted message still
//! arrives, at least once. Real processes run in real time, so this test waits on
//! conditions with a deadline instead of driving workers.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::process::{counting_graph, load, start_with};

/// The customer's endpoint: the receipt states it got per umid, and how many requests.
#[derive(Clone, Default)]
struct Endpoint {
    states: Arc<Mutex<HashMap<String, Vec<String>>>>,
    requests: Arc<AtomicUsize>,
    /// Answers every tenth request with a 500 while set.
    flaky: Arc<AtomicBool>,
}

async fn receive(State(endpoint): State<Endpoint>, body: axum::Json<Value>) -> StatusCode {
    let n = endpoint.requests.fetch_add(1, Ordering::SeqCst);
    if endpoint.flaky.load(Ordering::SeqCst) && n % 10 == 9 {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let payload = &body["payload"];
    if let (Some(umid), Some(state)) = (
        payload["umid"].as_str(),
        payload["status"]["state"].as_str(),
    ) {
        endpoint
            .states
            .lock()
            .unwrap()
            .entry(umid.to_owned())
            .or_default()
            .push(state.to_owned());
    }
    StatusCode::OK
}

impl Endpoint {
    async fn start() -> (Self, String) {
        let endpoint = Self {
            flaky: Arc::new(AtomicBool::new(true)),
            ..Self::default()
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/receipts", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/receipts", post(receive))
            .with_state(endpoint.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (endpoint, url)
    }

    /// Whether `umid`'s receipts include `queued` and a final state.
    fn complete(&self, umid: &str) -> bool {
        self.states.lock().unwrap().get(umid).is_some_and(|states| {
            states.iter().any(|s| s == "queued")
                && states.iter().any(|s| s == "sent" || s == "undelivered")
        })
    }
}

/// Settings both runs share: short leases so the restarted server takes over what the
/// killed one had claimed within seconds, and loopback webhook targets allowed.
const SETTINGS: [(&str, &str); 3] = [
    ("PARLEY_WEBHOOKS__LEASE_SECONDS", "2"),
    ("PARLEY_WEBHOOKS__TIMEOUT_MS", "1000"),
    ("PARLEY_WEBHOOKS__ALLOW_TARGETS", r#"["127.0.0.1"]"#),
];

#[tokio::test]
async fn a_server_killed_mid_delivery_delivers_every_receipt_after_restart() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (graph, _sends) = counting_graph().await;
    let (endpoint, hook_url) = Endpoint::start().await;
    let data = tempfile::tempdir().unwrap();
    let server = start_with(data.path(), graph, &SETTINGS).await;
    let bootstrap: Value =
        serde_json::from_slice(&std::fs::read(data.path().join("bootstrap.json")).unwrap())
            .unwrap();
    let key = bootstrap["apiKey"].as_str().unwrap().to_owned();
    let account = bootstrap["accountId"].as_str().unwrap().to_owned();
    let http = reqwest::Client::new();
    // Live, internal targets are refused unless allowed (127.0.0.1 is, here).
    for internal in [
        "http://10.0.0.7/hook",
        "http://localhost:9/hook",
        "http://[::1]/hook",
    ] {
        let refused = http
            .post(format!(
                "{}/api/v1/accounts/{account}/webhooks",
                server.base
            ))
            .bearer_auth(&key)
            .json(&json!([{"subAccountId": "*", "url": internal}]))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 400, "{internal}");
        let refused: Value = refused.json().await.unwrap();
        assert_eq!(refused["code"], 1005);
        assert!(
            refused["message"].as_str().unwrap().contains("'[0].url'"),
            "{refused}"
        );
    }
    let configured = http
        .post(format!(
            "{}/api/v1/accounts/{account}/webhooks",
            server.base
        ))
        .bearer_auth(&key)
        .json(&json!([{"subAccountId": "*", "url": hook_url, "type": "CADR"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        configured.status(),
        200,
        "{}",
        configured.text().await.unwrap()
    );
    let url = format!(
        "{}/api/v1/subaccounts/{}/messages",
        server.base,
        bootstrap["subAccountId"].as_str().unwrap()
    );

    // 8 senders, each to its own recipients, until the server dies under them.
    let (accepted, senders) = load(&url, &key, 8);
    let deadline = Instant::now() + Duration::from_secs(30);
    while accepted.lock().unwrap().len() < 300 || endpoint.requests.load(Ordering::SeqCst) < 300 {
        assert!(Instant::now() < deadline, "load did not get going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(server); // SIGKILL, mid-delivery
    for sender in senders {
        sender.await.unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    let before_restart = endpoint.requests.load(Ordering::SeqCst);
    let incomplete_at_kill = accepted.iter().filter(|u| !endpoint.complete(u)).count();
    endpoint.flaky.store(false, Ordering::SeqCst);

    let server = start_with(data.path(), graph, &SETTINGS).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let missing: Vec<&String> = accepted.iter().filter(|u| !endpoint.complete(u)).collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} messages still miss receipts, e.g. {:?}",
            missing.len(),
            accepted.len(),
            endpoint.states.lock().unwrap().get(missing[0])
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Nothing left behind: no delivery pending (once the receipts of messages whose
    // acceptance the kill cut off, which the senders never learnt of, have gone too) or
    // dead-lettered.
    let deliveries = |state: &'static str| {
        let request = http
            .get(format!(
                "{}/api/v1/accounts/{account}/webhooks/deliveries?state={state}",
                server.base
            ))
            .bearer_auth(&key);
        async move {
            let listed: Value = request.send().await.unwrap().json().await.unwrap();
            listed["deliveries"].clone()
        }
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while deliveries("pending").await != json!([]) {
        assert!(Instant::now() < deadline, "{}", deliveries("pending").await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for state in ["dead", "dropped"] {
        assert_eq!(deliveries(state).await, json!([]), "{state}");
    }
    let states = endpoint.states.lock().unwrap();
    let received: usize = states.values().map(Vec::len).sum();
    let distinct: usize = states
        .values()
        .map(|s| s.iter().collect::<HashSet<_>>().len())
        .sum();
    eprintln!(
        "{} accepted; {incomplete_at_kill} lacked receipts at the kill; {before_restart} requests \
         before it; {received} receipts received, {} of them repeats, none lost",
        accepted.len(),
        received - distinct
    );
}
