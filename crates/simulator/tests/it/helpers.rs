//! A simulator served on `127.0.0.1:0` with a stopped clock, a webhook receiver that keeps
//! what it is sent, and the requests a business and its users make.

use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, TimeZone, Utc};
use parley_simulator::{Business, DeliverySchedule, Simulator, SimulatorConfig};
use parley_types::AdjustableClock;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;

pub const WABA: &str = "waba-1";
pub const TOKEN: &str = "test-token";

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

/// A user's number, distinct per `n`.
pub fn user(n: usize) -> String {
    format!("+1555{n:07}")
}

/// The `n`th business number (from 1): phone-number id `pn-n`, display `+1555010000n`.
pub fn number(n: usize) -> (String, String) {
    (format!("pn-{n}"), format!("+1555010000{n}"))
}

type Received = Arc<Mutex<Vec<Value>>>;

pub struct TestSim {
    pub sim: Simulator,
    base: String,
    http: reqwest::Client,
    received: Received,
}

/// Serves `router` on a free loopback port; its base URL.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

/// Meta's handshake: echo the challenge.
async fn verify(Query(query): Query<HashMap<String, String>>) -> String {
    query.get("hub.challenge").cloned().unwrap_or_default()
}

async fn collect(State(received): State<Received>, Json(body): Json<Value>) -> &'static str {
    received.lock().unwrap().push(body);
    "ok"
}

/// A simulator with `numbers` business numbers on one WABA, throughput at its highest so
/// that only the rules under test refuse anything.
pub async fn spawn_sim(numbers: usize) -> TestSim {
    // As the binaries do: reqwest's rustls comes without a crypto provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let received = Received::default();
    let hooks = serve(
        Router::new()
            .route("/hook", get(verify).post(collect))
            .with_state(received.clone()),
    )
    .await;
    let config = SimulatorConfig {
        access_token: TOKEN.into(),
        app_secret: "secret".into(),
        webhook_url: format!("{hooks}/hook"),
        verify_token: "verify".into(),
        schedule: DeliverySchedule {
            auto_read: false,
            ..DeliverySchedule::default()
        },
    };
    let sim = Simulator::new(config, Arc::new(AdjustableClock::stopped_at(t0())));
    for n in 1..=numbers {
        let (phone_number_id, display_number) = number(n);
        sim.register_business(Business {
            phone_number_id,
            display_number,
            waba_id: WABA.into(),
            alias: None,
        });
    }
    let base = serve(sim.router()).await;
    let app = TestSim {
        sim,
        base,
        http: reqwest::Client::new(),
        received,
    };
    for n in 1..=numbers {
        let (status, _) = app
            .post(
                &format!("/api/businesses/pn-{n}/limits"),
                json!({"throughput": 1000}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    app
}

impl TestSim {
    pub async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .delete(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    /// `GET /api/businesses/{key}/limits`.
    pub async fn limits(&self, key: &str) -> Value {
        self.get(&format!("/api/businesses/{key}/limits")).await
    }

    /// Creates an APPROVED template without parameters; its id.
    pub async fn approved_template(&self, name: &str) -> String {
        let (status, created) = self
            .post(
                &format!("/graph/v21.0/{WABA}/message_templates"),
                json!({"name": name, "language": "en_US", "category": "MARKETING",
                       "components": [{"type": "BODY", "text": "News from us"}]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        self.template_action(&id, json!({"action": "approve"}))
            .await;
        id
    }

    pub async fn template_action(&self, id: &str, action: Value) -> Value {
        let (status, template) = self
            .post(&format!("/api/templates/{id}/actions"), action)
            .await;
        assert_eq!(status, StatusCode::OK, "{template}");
        template
    }

    pub async fn template_status(&self, name: &str) -> String {
        let listed = self.get(&format!("/api/templates?name={name}")).await;
        listed["templates"][0]["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Sends template `name` from number `pn` to `to`; the wamid (Meta accepts first).
    pub async fn send_template(&self, pn: &str, to: &str, name: &str) -> String {
        let (status, sent) = self
            .post(
                &format!("/graph/v21.0/{pn}/messages"),
                json!({"messaging_product": "whatsapp", "to": to, "type": "template",
                       "template": {"name": name, "language": {"code": "en_US"}}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        sent["messages"][0]["id"].as_str().unwrap().to_owned()
    }

    /// Sends template `name` from `pn` to each of `users`, each thousand a second after the
    /// one before (the first a second after what came before), so that throughput never
    /// refuses; the wamids.
    pub async fn send_templates(
        &self,
        pn: &str,
        users: impl IntoIterator<Item = usize>,
        name: &str,
    ) -> Vec<String> {
        let mut wamids = Vec::new();
        for (i, n) in users.into_iter().enumerate() {
            if i % 1000 == 0 {
                self.advance(Duration::seconds(1));
            }
            wamids.push(self.send_template(pn, &user(n), name).await);
        }
        wamids
    }

    pub async fn send_text(&self, pn: &str, to: &str, text: &str) -> String {
        let (status, sent) = self
            .post(
                &format!("/graph/v21.0/{pn}/messages"),
                json!({"messaging_product": "whatsapp", "to": to, "type": "text",
                       "text": {"body": text}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        sent["messages"][0]["id"].as_str().unwrap().to_owned()
    }

    /// The user writes to number `pn`, opening the customer-service window.
    pub async fn user_writes(&self, who: &str, pn: &str) {
        let (status, body) = self
            .post(
                &format!("/api/phones/{who}/messages"),
                json!({"type": "text", "content": {"text": "hello"}, "channelId": pn}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    pub fn advance(&self, by: Duration) {
        self.sim.clock().advance(by);
    }

    /// Delivers what is due and returns the value of every business change (not message
    /// or receipt) on `field` received so far, oldest first, forgetting them.
    pub async fn changes(&self, field: &str) -> Vec<Value> {
        let report = self.sim.run_once().await;
        assert!(!report.blocked, "the receiver takes every webhook");
        let mut received = self.received.lock().unwrap();
        let mut values = Vec::new();
        received.retain(|body| {
            let change = &body["entry"][0]["changes"][0];
            if change["field"] == field {
                values.push(change["value"].clone());
                false
            } else {
                true
            }
        });
        values
    }

    /// Meta's error code for each send so far, by wamid (0: it went through).
    pub async fn send_codes(&self) -> HashMap<String, u64> {
        let sends = self.get("/api/sends").await;
        sends["sends"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["id"].as_str().unwrap().to_owned(),
                    s["errorCode"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    }

    pub async fn code_of(&self, wamid: &str) -> u64 {
        self.send_codes().await[wamid]
    }

    /// The `failed` receipt of `wamid`, delivered by webhook.
    pub async fn failed_receipt(&self, wamid: &str) -> Value {
        self.sim.run_once().await;
        let received = self.received.lock().unwrap();
        received
            .iter()
            .flat_map(|body| {
                body["entry"][0]["changes"][0]["value"]["statuses"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .find(|s| s["id"] == wamid && s["status"] == "failed")
            .unwrap_or_else(|| panic!("no failed receipt for {wamid}"))
    }
}

/// `phone_number_quality_update` as the simulator reports it.
pub fn number_update(display: &str, event: &str, current: &str, old: &str) -> Value {
    json!({"display_phone_number": display.trim_start_matches('+'), "event": event,
           "current_limit": current, "old_limit": old})
}

/// One part of a `multipart/form-data` body.
pub struct Part<'a> {
    pub name: &'a str,
    pub filename: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

impl<'a> Part<'a> {
    pub fn text(name: &'a str, value: &'a str) -> Self {
        Self {
            name,
            filename: None,
            content_type: None,
            body: value.as_bytes(),
        }
    }

    pub fn file(filename: &'a str, content_type: Option<&'a str>, body: &'a [u8]) -> Self {
        Self {
            name: "file",
            filename: Some(filename),
            content_type,
            body,
        }
    }
}

/// A `multipart/form-data` body and its `Content-Type` (reqwest's multipart is not built).
pub fn form(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "----parley-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", part.name);
        if let Some(filename) = part.filename {
            disposition.push_str(&format!("; filename=\"{filename}\""));
        }
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(content_type) = part.content_type {
            body.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(part.body);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

impl TestSim {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request to the simulator, with the business's token when `bearer`.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path_or_url: &str,
        bearer: bool,
    ) -> reqwest::Response {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            self.url(path_or_url)
        };
        let mut request = self.http.request(method, url);
        if bearer {
            request = request.bearer_auth(TOKEN);
        }
        request.send().await.unwrap()
    }

    /// `GET` with the business's token; status and JSON body.
    pub async fn graph_get(&self, path: &str) -> (StatusCode, Value) {
        let response = self.call(reqwest::Method::GET, path, true).await;
        (response.status(), response.json().await.unwrap())
    }

    pub async fn graph_delete(&self, path: &str) -> (StatusCode, Value) {
        let response = self.call(reqwest::Method::DELETE, path, true).await;
        (response.status(), response.json().await.unwrap())
    }

    /// Posts a multipart form to `path` (with the business's token).
    pub async fn post_form(&self, path: &str, parts: &[Part<'_>]) -> (StatusCode, Value) {
        let (content_type, body) = form(parts);
        let response = self
            .http
            .post(self.url(path))
            .bearer_auth(TOKEN)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    /// Number `pn` uploads `body` declared as `mime`, the way Meta's docs show it.
    pub async fn upload(&self, pn: &str, mime: &str, body: &[u8]) -> (StatusCode, Value) {
        self.post_form(
            &format!("/graph/v21.0/{pn}/media"),
            &[
                Part::text("messaging_product", "whatsapp"),
                Part::file("upload.bin", Some(mime), body),
                Part::text("type", mime),
            ],
        )
        .await
    }

    /// Uploads and returns the media id.
    pub async fn uploaded(&self, pn: &str, mime: &str, body: &[u8]) -> String {
        let (status, answer) = self.upload(pn, mime, body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer["id"].as_str().unwrap().to_owned()
    }

    /// `POST /api/phones/{who}/messages`.
    pub async fn phone_sends(&self, who: &str, body: Value) -> (StatusCode, Value) {
        self.post(&format!("/api/phones/{who}/messages"), body)
            .await
    }

    /// The chat on `who`'s phone.
    pub async fn chat(&self, who: &str) -> Vec<Value> {
        let chat = self.get(&format!("/api/phones/{who}/messages")).await;
        chat["messages"].as_array().unwrap().clone()
    }

    /// Sends `body` (a Graph send without `messaging_product` and `to`) from `pn` to `to`.
    pub async fn send(&self, pn: &str, to: &str, body: Value) -> (StatusCode, Value) {
        let mut body = body;
        body["messaging_product"] = json!("whatsapp");
        body["to"] = json!(to);
        self.post(&format!("/graph/v21.0/{pn}/messages"), body)
            .await
    }

    /// Delivers what is due; the `value` of every `messages` webhook received so far.
    pub async fn message_values(&self) -> Vec<Value> {
        self.sim.run_once().await;
        let received = self.received.lock().unwrap();
        received
            .iter()
            .map(|body| &body["entry"][0]["changes"][0])
            .filter(|change| change["field"] == "messages")
            .map(|change| change["value"].clone())
            .collect()
    }

    /// Delivers what is due; every user message the business received so far.
    pub async fn user_messages(&self) -> Vec<Value> {
        self.sim.run_once().await;
        let received = self.received.lock().unwrap();
        received
            .iter()
            .flat_map(|body| {
                body["entry"][0]["changes"][0]["value"]["messages"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect()
    }

    /// Delivers what is due; the receipts of `wamid` so far, in order.
    pub async fn receipts(&self, wamid: &str) -> Vec<Value> {
        self.sim.run_once().await;
        let received = self.received.lock().unwrap();
        received
            .iter()
            .flat_map(|body| {
                body["entry"][0]["changes"][0]["value"]["statuses"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter(|s| s["id"] == wamid)
            .collect()
    }
}

impl TestSim {
    /// `PUT` with a JSON body; status and JSON body.
    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .put(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    /// `PUT` with `body` as a JSON request's body, whatever it is; status and JSON body.
    pub async fn put_raw(&self, path: &str, body: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .put(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    /// Opens `GET /api/events`; once this returns, every change is on the stream.
    pub async fn events(&self) -> EventStream {
        let response = self.call(reqwest::Method::GET, "/api/events", false).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "server-sent events"
        );
        EventStream {
            response,
            buffer: String::new(),
        }
    }
}

/// The console's view of the simulator's server-sent events.
pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    /// The next event's name and data. Events are sent as changes happen, so one that
    /// takes seconds is not coming: the wait is bounded to fail rather than hang.
    pub async fn next(&mut self) -> (String, Value) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        name = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                // A block without a name is a keep-alive comment.
                if let Some(name) = name {
                    return (name, serde_json::from_str(&data).unwrap());
                }
                continue;
            }
            let chunk =
                tokio::time::timeout(std::time::Duration::from_secs(5), self.response.chunk())
                    .await
                    .expect("an event within 5 s")
                    .unwrap()
                    .expect("the stream stays open");
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Whether the server ended the stream (after what is still buffered).
    pub async fn ended(&mut self) -> bool {
        loop {
            let chunk =
                tokio::time::timeout(std::time::Duration::from_secs(5), self.response.chunk())
                    .await
                    .expect("the stream ends or says something within 5 s")
                    .unwrap();
            match chunk {
                None => return true,
                Some(chunk) => self.buffer.push_str(std::str::from_utf8(&chunk).unwrap()),
            }
        }
    }

    /// The next `n` events.
    pub async fn take(&mut self, n: usize) -> Vec<(String, Value)> {
        let mut events = Vec::new();
        for _ in 0..n {
            events.push(self.next().await);
        }
        events
    }
}

/// A `phone` event for `msisdn`.
pub fn phone_event(msisdn: &str) -> (String, Value) {
    ("phone".into(), json!({ "msisdn": msisdn }))
}

/// A `templates` event.
pub fn templates_event() -> (String, Value) {
    ("templates".into(), json!({}))
}
