//! The real binary as a process: killed with SIGKILL while messages are being accepted and
//! dispatched, then restarted. No accepted message may be lost or sent twice.
//!
//! Parley runs in live mode against a counting Graph API inside this test, which records
//! every send by the umid Parley attaches (`biz_opaque_callback_data`), so the count
//! survives the kill. Real processes run in real time, so this test waits on conditions
//! with a deadline instead of driving workers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub(crate) type Sends = Arc<Mutex<HashMap<String, u32>>>;

/// How long the servers here remember a valid key: a key revoked from the command line
/// while a server runs must stop working within this time.
const KEY_CACHE_SECONDS: u64 = 1;

/// A Graph API that accepts every send after a short delay and counts it by umid.
pub(crate) async fn counting_graph() -> (SocketAddr, Sends) {
    async fn messages(State(sends): State<Sends>, body: axum::Json<Value>) -> axum::Json<Value> {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let umid = body["biz_opaque_callback_data"]
            .as_str()
            .unwrap_or("none")
            .to_owned();
        *sends.lock().unwrap().entry(umid.clone()).or_default() += 1;
        axum::Json(json!({"messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": "1"}], "messages": [{"id": format!("wamid.{umid}")}]}))
    }
    let sends = Sends::default();
    let app = Router::new()
        .route("/{version}/{pnid}/messages", post(messages))
        .with_state(sends.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, sends)
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(data: &Path, graph: SocketAddr) -> Server {
    start_with(data, graph, &[]).await
}

/// Parley in live mode against `graph`, with extra `PARLEY_…` settings.
pub(crate) async fn start_with(data: &Path, graph: SocketAddr, env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_parley"));
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data)
        .args(["--meta-graph-url", &format!("http://{graph}")])
        .args([
            "--meta-access-token",
            "crash-token",
            "--meta-app-secret",
            "crash-secret",
        ])
        .args(["--meta-verify-token", "crash-verify"])
        .env(
            "PARLEY_CACHE__LOOKUP_SECONDS",
            KEY_CACHE_SECONDS.to_string(),
        )
        .env("PARLEY_DISPATCH__LEASE_SECONDS", "2")
        // The counting Graph API sends no receipts, so nothing could tell a resend from a
        // duplicate: interrupted hand-offs are given up on at once (the at-most-once
        // choice). Resending is tested in `cluster`, against the simulator, whose
        // receipts settle what reached it.
        .env("PARLEY_DISPATCH__AFTER_CRASH", "undelivered")
        .env("PARLEY_DISPATCH__UNCONFIRMED_GRACE_SECONDS", "0")
        // The fastest WhatsApp allows, so the backlog left by the kill drains in seconds.
        .env("PARLEY_DISPATCH__THROUGHPUT_PER_NUMBER", "1000")
        // The load here is a test of the pipeline, not of the API's rate limits.
        .env("PARLEY_API__RATE_LIMIT_PER_SUBACCOUNT", "1000000")
        .env("PARLEY_API__RATE_LIMIT_PER_IP", "1000000")
        .envs(env.iter().copied());
    spawn_ready(command, port).await
}

/// Starts `command` (a `parley serve` listening on `port`), quiet but for its errors, and
/// waits until it answers `/readyz`.
pub(crate) async fn spawn_ready(mut command: Command, port: u16) -> Server {
    let child = command
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("parley binary");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "parley did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server
}

/// Sends SIGTERM and waits (up to 20 s) for the process to exit.
pub(crate) async fn terminate(server: &mut Server) -> std::process::ExitStatus {
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "parley did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `senders` tasks sending texts, each to its own 50 recipients, until 2,000 each are sent
/// or the server stops answering; the umids accepted so far.
pub(crate) fn load(
    url: &str,
    key: &str,
    senders: u16,
) -> (Arc<Mutex<Vec<String>>>, Vec<tokio::task::JoinHandle<()>>) {
    let accepted: Arc<Mutex<Vec<String>>> = Arc::default();
    let tasks = (0..senders)
        .map(|sender| {
            let (http, url, key, accepted) = (
                reqwest::Client::new(),
                url.to_owned(),
                key.to_owned(),
                accepted.clone(),
            );
            tokio::spawn(async move {
                for n in 0..2_000 {
                    let body = json!({"user": {"msisdn": format!("+1555{sender:03}{:04}", n % 50)},
                                      "type": "text", "content": {"text": format!("message {n}")}});
                    let Ok(response) = http.post(&url).bearer_auth(&key).json(&body).send().await
                    else {
                        return;
                    };
                    if response.status() != 200 {
                        return;
                    }
                    let answer: Value = response.json().await.unwrap();
                    accepted
                        .lock()
                        .unwrap()
                        .push(answer["umid"].as_str().unwrap().to_owned());
                }
            })
        })
        .collect();
    (accepted, tasks)
}

#[tokio::test]
async fn a_killed_server_loses_no_accepted_message_and_sends_none_twice() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (graph, sends) = counting_graph().await;
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path(), graph).await;
    let bootstrap: Value =
        serde_json::from_slice(&std::fs::read(data.path().join("bootstrap.json")).unwrap())
            .unwrap();
    let key = bootstrap["apiKey"].as_str().unwrap().to_owned();
    let url = format!(
        "{}/api/v1/subaccounts/{}/messages",
        server.base,
        bootstrap["subAccountId"].as_str().unwrap()
    );

    // 16 senders, each to its own recipients, until the server dies under them.
    let (accepted, senders) = load(&url, &key, 16);
    let deadline = Instant::now() + Duration::from_secs(30);
    while accepted.lock().unwrap().len() < 300 || sends.lock().unwrap().len() < 100 {
        assert!(Instant::now() < deadline, "load did not get going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(server); // SIGKILL, mid-flight
    for sender in senders {
        sender.await.unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();

    let server = start(data.path(), graph).await;
    let http = reqwest::Client::new();
    let details = format!(
        "{}/api/v1/subaccounts/{}/messages",
        server.base,
        bootstrap["subAccountId"].as_str().unwrap()
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut interrupted = 0;
    for umid in &accepted {
        let state = loop {
            let record: Value = http
                .get(format!("{details}/{umid}"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let status = record["data"][0]["status"].clone();
            assert!(
                !status.is_null(),
                "accepted message {umid} was lost: {record}"
            );
            if status["state"] != "queued" {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "message {umid} never left the queue"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let sent = sends.lock().unwrap().get(umid).copied().unwrap_or(0);
        match state["state"].as_str().unwrap() {
            "sent" => assert_eq!(sent, 1, "{umid} was sent {sent} times"),
            "undelivered" => {
                assert_eq!(state["errorCode"], 57, "{state}");
                assert!(
                    state["errorMessage"]
                        .as_str()
                        .unwrap()
                        .contains("interrupted"),
                    "{state}"
                );
                assert!(sent <= 1, "{umid} was sent {sent} times");
                interrupted += 1;
            }
            other => panic!("unexpected state {other} for {umid}"),
        }
    }
    let duplicates: Vec<_> = sends
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(u, _)| u.clone())
        .collect();
    assert!(duplicates.is_empty(), "sent twice: {duplicates:?}");
    eprintln!(
        "{} accepted before the kill, {interrupted} interrupted mid-hand-off, none lost or sent twice",
        accepted.len()
    );
}

fn parley(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_parley"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .output()
        .expect("parley binary")
}

#[tokio::test]
async fn keys_made_on_the_command_line_work_until_revoked_and_sigterm_stops_cleanly() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (graph, _) = counting_graph().await;
    let data = tempfile::tempdir().unwrap();
    let mut server = start(data.path(), graph).await;
    let bootstrap: Value =
        serde_json::from_slice(&std::fs::read(data.path().join("bootstrap.json")).unwrap())
            .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.path().join("bootstrap.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "bootstrap.json is for its owner only");
    }

    let created = parley(data.path(), &["keys", "create", "--name", "ci"]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let key = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let listed = String::from_utf8(parley(data.path(), &["keys", "list"]).stdout).unwrap();
    assert!(
        listed.contains("ci") && listed.contains("sandbox"),
        "{listed}"
    );
    assert!(!listed.contains(&key), "keys are never shown again");

    let http = reqwest::Client::new();
    let url = format!(
        "{}/api/v1/subaccounts/{}/messages",
        server.base,
        bootstrap["subAccountId"].as_str().unwrap()
    );
    let body =
        json!({"user": {"msisdn": "+15551234567"}, "type": "text", "content": {"text": "hi"}});
    let send = |key: String| http.post(&url).bearer_auth(key).json(&body).send();
    assert_eq!(send(key.clone()).await.unwrap().status(), 200);

    let id = listed
        .lines()
        .find(|l| l.ends_with(" ci"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    assert!(
        parley(data.path(), &["keys", "revoke", &id])
            .status
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(KEY_CACHE_SECONDS + 5);
    while send(key.clone()).await.unwrap().status() != 401 {
        assert!(
            Instant::now() < deadline,
            "a revoked key still works after the cache time"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let status = terminate(&mut server).await;
    assert!(status.success(), "graceful shutdown exits 0, got {status}");

    let again = start(data.path(), graph).await;
    let restarted: Value =
        serde_json::from_slice(&std::fs::read(data.path().join("bootstrap.json")).unwrap())
            .unwrap();
    assert_eq!(restarted, bootstrap, "a later start creates nothing again");
    drop(again);
}

/// The sandbox as a person runs it: the simulator inside, the console's admin in
/// `bootstrap.json`. A console tab listening to the simulator's event stream must not keep
/// SIGTERM from stopping the server (an event stream never ends by itself).
#[tokio::test]
async fn a_console_tab_on_the_event_stream_does_not_hold_up_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_parley"));
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data.path());
    let mut server = spawn_ready(command, port).await;
    let bootstrap: Value =
        serde_json::from_slice(&std::fs::read(data.path().join("bootstrap.json")).unwrap())
            .unwrap();
    assert_eq!(bootstrap["consoleEmail"], "admin@parley.local");

    let http = reqwest::Client::new();
    let signed_in = http
        .post(format!("{}/console/api/session", server.base))
        .json(
            &json!({"email": bootstrap["consoleEmail"], "password": bootstrap["consolePassword"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let events = http
        .get(format!("{}/sim/api/events", server.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert_eq!(events.headers()["content-type"], "text/event-stream");

    let started = Instant::now();
    let status = terminate(&mut server).await;
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopping took {:?}",
        started.elapsed()
    );
    drop(events);
}
