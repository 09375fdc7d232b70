//! The sandbox survives restarts: the simulated WhatsApp keeps its templates, chats,
//! windows and pending receipts in its state file, so after SIGTERM and after SIGKILL the
//! same sends and receipts carry on (no 1031 "template does not exist", no 1022 "outside
//! the window"). The real binary, real time: every wait has a deadline.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::process::{Server, free_port, spawn_ready, terminate};

const USER: &str = "+15551234567";

/// The sandbox on `data`, receipts held back a minute of simulated time (so they are
/// still pending when the server stops) and read receipts off.
async fn sandbox(data: &Path) -> Server {
    sandbox_with(data, &[]).await
}

async fn sandbox_with(data: &Path, env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_parley"));
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data)
        .env("PARLEY_SIMULATOR__DELIVERED_AFTER_MS", "60000")
        .env("PARLEY_SIMULATOR__AUTO_READ", "false")
        .env("PARLEY_SIMULATOR__REVIEW_AFTER_MS", "3600000")
        .envs(env.iter().copied());
    spawn_ready(command, port).await
}

struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
    sub: String,
    account: String,
    channel: String,
}

impl Client {
    fn new(server: &Server, data: &Path) -> Self {
        let bootstrap: Value =
            serde_json::from_slice(&std::fs::read(data.join("bootstrap.json")).unwrap()).unwrap();
        let text = |key: &str| bootstrap[key].as_str().unwrap().to_owned();
        Self {
            http: reqwest::Client::new(),
            base: server.base.clone(),
            key: text("apiKey"),
            sub: text("subAccountId"),
            account: text("accountId"),
            channel: text("channelId"),
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn send(&self, body: Value) -> String {
        let (status, answer) = self
            .call(
                "POST",
                &format!("/api/v1/subaccounts/{}/messages", self.sub),
                Some(body),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        answer["umid"].as_str().unwrap().to_owned()
    }

    async fn text(&self, text: &str) -> String {
        self.send(json!({"user": {"msisdn": USER}, "type": "text", "content": {"text": text}}))
            .await
    }

    async fn template(&self) -> String {
        self.send(
            json!({"user": {"msisdn": USER}, "type": "template", "content": {"template": {
            "name": "order_update", "language": "en_US", "components": [{"type": "body",
            "parameters": [{"type": "text", "text": "Ana"}]}]}}}),
        )
        .await
    }

    /// Waits until WhatsApp has the message (`delivered_to_operator`, Meta's `sent`) or,
    /// with `on_phone`, until the phone has it (`delivered_to_recipient`); panics with
    /// its status after 20 s.
    async fn reaches(&self, umid: &str, on_phone: bool) -> Value {
        let wanted: &[&str] = if on_phone {
            &["delivered_to_recipient"]
        } else {
            &["delivered_to_operator", "delivered_to_recipient"]
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (_, details) = self
                .call(
                    "GET",
                    &format!("/api/v1/subaccounts/{}/messages/{umid}", self.sub),
                    None,
                )
                .await;
            let status = details["data"][0]["status"].clone();
            if wanted.iter().any(|d| status["detail"] == *d) {
                return status;
            }
            assert!(status["state"] != "undelivered", "{umid} failed: {status}");
            assert!(
                Instant::now() < deadline,
                "{umid} did not reach {wanted:?}: {status}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn sim(&self, method: &str, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(
                method.parse().unwrap(),
                format!("{}/sim/api{path}", self.base),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{method} {path}");
        response.json().await.unwrap_or(Value::Null)
    }

    /// Moves simulated time on, so held-back receipts fall due.
    async fn advance(&self, seconds: u64) {
        self.sim("POST", "/clock/advance", json!({"seconds": seconds}))
            .await;
    }
}

fn kill(server: &mut Server) {
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success()
    );
    let _ = server.child.wait();
}

#[tokio::test]
async fn a_restarted_sandbox_keeps_its_templates_chats_windows_and_pending_receipts() {
    let data = tempfile::tempdir().unwrap();
    let mut first = sandbox(data.path()).await;
    let client = Client::new(&first, data.path());
    // A template, approved by the simulated Meta, and a user who wrote.
    let (status, created) = client
        .call(
            "POST",
            &format!(
                "/api/v1/accounts/{}/channels/{}/templates",
                client.account, client.channel
            ),
            Some(
                json!({"name": "order_update", "language": "en_US", "category": "UTILITY",
                "components": [{"type": "BODY", "text": "Hi {{1}}, your order has shipped.",
                "examples": ["Ana"]}]}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let listed = client
        .sim("GET", "/templates?name=order_update", Value::Null)
        .await;
    let id = listed["templates"][0]["id"].as_str().unwrap().to_owned();
    client
        .sim(
            "POST",
            &format!("/templates/{id}/actions"),
            json!({"action": "approve"}),
        )
        .await;
    client
        .sim(
            "POST",
            &format!("/phones/{USER}/messages"),
            json!({"type": "text", "content": {"text": "hi"}}),
        )
        .await;
    // The number's limits as the simulated Meta set them: an upgraded tier, a throughput.
    let limits_path = format!("/businesses/{}/limits", client.channel);
    client
        .sim(
            "POST",
            &limits_path,
            json!({"messagingLimit": "TIER_10K", "throughput": 250}),
        )
        .await;
    let before = client.text("before the restart").await;
    client.reaches(&before, false).await;

    // SIGTERM: everything was saved on the way out.
    assert!(terminate(&mut first).await.success());
    let mut second = sandbox(data.path()).await;
    let client = Client::new(&second, data.path());
    let chat = client
        .sim("GET", &format!("/phones/{USER}/messages"), Value::Null)
        .await;
    assert!(
        chat["messages"].as_array().unwrap().len() >= 2,
        "the chat is still there: {chat}"
    );
    let limits = client.sim("GET", &limits_path, Value::Null).await;
    assert_eq!(limits["messagingLimit"], "TIER_10K", "{limits}");
    assert_eq!(limits["throughput"], 250, "{limits}");
    assert!(limits["reach"]["last24h"].as_u64().is_some(), "{limits}");
    let template = client.template().await;
    let after = client.text("after the restart").await;
    client.reaches(&template, false).await;
    client.reaches(&after, false).await;
    // The receipts held back before the restart come due as well as the new ones.
    client.advance(90).await;
    for umid in [&before, &template, &after] {
        client.reaches(umid, true).await;
    }

    // SIGKILL, right after WhatsApp took a send: the send was on disk before it was
    // answered, so its receipt still comes.
    let unsaved = client.text("just before the kill").await;
    client.reaches(&unsaved, false).await;
    kill(&mut second);
    let third = sandbox(data.path()).await;
    let client = Client::new(&third, data.path());
    let template = client.template().await;
    client.reaches(&template, false).await;
    client.advance(90).await;
    client.reaches(&unsaved, true).await;
    client.reaches(&template, true).await;
}

/// The crash test against the simulated WhatsApp itself: users write, the business
/// answers in a stream of sends, the process is killed in the middle of it. After the
/// restart every accepted message ends delivered to the phone: none is forgotten by the
/// simulator (no 1031, no 1022 for a user who wrote), none is stuck at `sent`.
#[tokio::test]
async fn a_sandbox_killed_mid_stream_settles_every_message_after_restart() {
    const USERS: usize = 20;
    // Interrupted hand-offs are taken over quickly; what WhatsApp took is settled by its
    // receipts, the rest is sent again.
    let fast = [
        ("PARLEY_DISPATCH__LEASE_SECONDS", "2"),
        ("PARLEY_DISPATCH__UNCONFIRMED_GRACE_SECONDS", "2"),
        ("PARLEY_DISPATCH__THROUGHPUT_PER_NUMBER", "1000"),
        ("PARLEY_API__RATE_LIMIT_PER_SUBACCOUNT", "1000000"),
        ("PARLEY_API__RATE_LIMIT_PER_IP", "1000000"),
    ];
    let data = tempfile::tempdir().unwrap();
    let mut first = sandbox_with(data.path(), &fast).await;
    let client = Client::new(&first, data.path());
    client
        .sim(
            "POST",
            &format!("/businesses/{}/limits", client.channel),
            json!({"throughput": 1000}),
        )
        .await;
    let users: Vec<String> = (0..USERS).map(|n| format!("+1555200{n:04}")).collect();
    for user in &users {
        client
            .sim(
                "POST",
                &format!("/phones/{user}/messages"),
                json!({"type": "text", "content": {"text": "hi"}}),
            )
            .await;
    }
    // Sends go on while the process is killed; those answered 200 were accepted.
    let accepted = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sender = {
        let (accepted, http, base, key, sub) = (
            accepted.clone(),
            client.http.clone(),
            client.base.clone(),
            client.key.clone(),
            client.sub.clone(),
        );
        let users = users.clone();
        tokio::spawn(async move {
            for n in 0..2_000 {
                let body = json!({"user": {"msisdn": users[n % USERS]}, "type": "text",
                                  "content": {"text": format!("update {n}")}});
                let sent = http
                    .post(format!("{base}/api/v1/subaccounts/{sub}/messages"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await;
                let Ok(response) = sent else { return };
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
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while accepted.lock().unwrap().len() < 150 {
        assert!(Instant::now() < deadline, "sends were not accepted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    kill(&mut first);
    let _ = sender.await;
    let accepted = accepted.lock().unwrap().clone();
    assert!(accepted.len() >= 150);

    let second = sandbox_with(data.path(), &fast).await;
    let client = Client::new(&second, data.path());
    // Lease and grace run out in real time; then the held-back receipts are due.
    tokio::time::sleep(Duration::from_secs(5)).await;
    client.advance(90).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut pending = accepted.clone();
    while !pending.is_empty() {
        let mut still = Vec::new();
        for umid in pending {
            let (_, details) = client
                .call(
                    "GET",
                    &format!("/api/v1/subaccounts/{}/messages/{umid}", client.sub),
                    None,
                )
                .await;
            let status = details["data"][0]["status"].clone();
            assert_ne!(status["state"], "undelivered", "{umid}: {status}");
            if status["detail"] != "delivered_to_recipient" {
                still.push(umid);
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} messages never reached the phone",
            pending.len(),
            accepted.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        client.advance(90).await;
    }
}
