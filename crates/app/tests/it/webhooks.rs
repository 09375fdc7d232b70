//! Webhooks to the customer end to end: configured through 8x8's API, delivered to a real
//! HTTP receiver in the test, retried on 8x8's ladder (checked on the injected clock),
//! dead-lettered, redriven, and signed so an independent implementation verifies them.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::helpers::{Backend, Setup, TestApp, spawn_app_with};

const USER: &str = "+15552340077";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// A customer's endpoint: answers each request with the next scripted status (200 once the
/// script runs out), or hangs past the timeout for a scripted 0.
#[derive(Clone, Default)]
pub(crate) struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
}

async fn receive(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> AxumStatus {
    let answer = r.script.lock().unwrap().pop_front().unwrap_or(200);
    r.received.lock().unwrap().push(Received {
        headers,
        body: body.to_vec(),
    });
    if answer == 0 {
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        return AxumStatus::OK;
    }
    AxumStatus::from_u16(answer).unwrap()
}

/// Serves `app` on a free loopback port; its base URL.
async fn serve(app: axum::Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

impl Receiver {
    pub(crate) async fn start() -> (Self, String) {
        let receiver = Self::default();
        let app = axum::Router::new()
            .route("/hook", post(receive))
            .with_state(receiver.clone());
        (receiver.clone(), format!("{}/hook", serve(app).await))
    }

    fn script(&self, answers: &[u16]) {
        self.script.lock().unwrap().extend(answers);
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub(crate) fn events(&self) -> Vec<Value> {
        self.received().iter().map(Received::json).collect()
    }
}

async fn app(backend: Backend) -> TestApp {
    spawn_app_with(
        backend,
        Setup {
            stopped_clock: true,
            webhook_timeout_ms: Some(300),
            ..Setup::default()
        },
    )
    .await
}

impl TestApp {
    /// `GET …/webhooks/deliveries{rest}`.
    async fn deliveries(&self, rest: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/deliveries{rest}", self.webhooks_url()))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "deliveries{rest}");
        response.json().await.unwrap()
    }

    async fn redrive(&self, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/deliveries/redrive", self.webhooks_url()))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    fn webhooks_url(&self) -> String {
        self.url(&format!("/api/v1/accounts/{}/webhooks", self.account))
    }

    async fn configure(&self, method: reqwest::Method, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .request(method, self.webhooks_url())
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        (
            response.status(),
            response.json().await.unwrap_or(Value::Null),
        )
    }
}

async fn configuration_round_trips_with_secrets_masked(backend: Backend) {
    let app = app(backend).await;
    let (status, saved) = app
        .configure(
            reqwest::Method::POST,
            json!([{"subAccountId": "*", "url": "https://hooks.test/all", "httpAuthorization": "Basic dXNlcjpwYXNzd29yZA==", "signingSecret": SECRET},
                   {"subAccountId": app.sub_account, "url": "https://hooks.test/bm", "type": "CABM", "enabled": false}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(
        saved.as_array().unwrap().len(),
        3,
        "no type is CADR and MSG: {saved}"
    );
    let (_, listed) = app.configure(reqwest::Method::GET, Value::Null).await;
    assert_eq!(listed, saved);
    let all = listed.as_array().unwrap();
    let dr = all.iter().find(|w| w["type"] == "CADR").unwrap();
    assert_eq!(dr["httpAuthorization"], "***");
    assert_eq!(dr["signingSecret"], "***");
    assert!(!listed.to_string().contains("dXNlcjpwYXNzd29yZA"));

    let (status, refused) = app
        .configure(
            reqwest::Method::POST,
            json!([{"subAccountId": "someone-else", "url": "https://hooks.test"}]),
        )
        .await;
    assert_eq!(
        (status, refused["code"].as_u64()),
        (StatusCode::BAD_REQUEST, Some(1001))
    );
    let (status, refused) = app
        .configure(
            reqwest::Method::POST,
            json!([{"subAccountId": "*", "url": "not a url"}]),
        )
        .await;
    assert_eq!(
        (status, refused["code"].as_u64()),
        (StatusCode::BAD_REQUEST, Some(1005))
    );
    assert!(refused["message"].as_str().unwrap().contains("'[0].url'"));

    let (status, left) = app
        .configure(reqwest::Method::DELETE, json!([{"subAccountId": "*"}]))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        left.as_array().unwrap().len(),
        1,
        "only the CABM webhook is left: {left}"
    );

    let other = app.second_tenant_key().await;
    let response = app
        .http
        .get(app.webhooks_url())
        .bearer_auth(other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

/// Python's standard library, not Parley's code, checks the signature.
fn verified_by_python(received: &Received) -> bool {
    let header = |name: &str| received.headers[name].to_str().unwrap().to_owned();
    let script = r#"
import base64, hashlib, hmac, sys
secret, msg_id, timestamp, signature = sys.argv[1:5]
body = sys.stdin.buffer.read()
key = base64.b64decode(secret.removeprefix("whsec_"))
expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode()
sys.exit(0 if any(s == "v1," + expected for s in signature.split(" ")) else 1)
"#;
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            script,
            SECRET,
            &header("webhook-id"),
            &header("webhook-timestamp"),
            &header("webhook-signature"),
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&received.body)
        .unwrap();
    child.wait().unwrap().success()
}

async fn inbound_messages_and_receipts_arrive_signed_and_in_order(backend: Backend) {
    let app = app(backend).await;
    let (receiver, url) = Receiver::start().await;
    app.configure(
        reqwest::Method::POST,
        json!([{"subAccountId": "*", "url": url, "httpAuthorization": "Bearer t0ken", "signingSecret": SECRET}]),
    )
    .await;
    let wrote = app
        .phone_sends(
            USER,
            json!({"type": "text", "content": {"text": "Where is my order?"}}),
        )
        .await;
    app.settle().await;
    let (status, sent) = app
        .send(
            json!({"user": {"msisdn": USER}, "type": "text", "content": {"text": "On its way"},
                     "clientMessageId": "cm-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.settle().await;
    app.advance(5).await;
    app.settle().await;

    let events = receiver.events();
    let inbound = &events[0];
    assert_eq!(
        inbound["eventType"], "inbound_message_received",
        "{events:#?}"
    );
    assert_eq!(inbound["version"], 3);
    assert_eq!(inbound["namespace"], "ChatApps");
    assert_eq!(inbound["payload"]["type"], "Text");
    assert_eq!(inbound["payload"]["content"]["text"], "Where is my order?");
    assert_eq!(inbound["payload"]["user"]["msisdn"], USER);
    assert_eq!(inbound["payload"]["recipient"]["channelId"], app.channel);
    assert!(wrote["id"].is_string());
    let states: Vec<String> = events[1..]
        .iter()
        .map(|e| {
            assert_eq!(e["eventType"], "outbound_message_status_changed");
            assert_eq!(e["version"], 9);
            assert_eq!(e["payload"]["umid"], sent["umid"]);
            assert_eq!(e["payload"]["clientMessageId"], "cm-1");
            let status = &e["payload"]["status"];
            format!(
                "{}/{}",
                status["state"].as_str().unwrap(),
                status["detail"].as_str().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            "queued/-",
            "sent/-",
            "delivered/delivered_to_operator",
            "delivered/delivered_to_recipient",
            "read/-"
        ],
        "every status change, in order"
    );
    let pricing: Vec<&Value> = events[1..]
        .iter()
        .map(|e| &e["payload"]["whatsapp"]["pricingCategory"])
        .collect();
    assert_eq!(
        pricing,
        [
            &Value::Null,
            &Value::Null,
            &json!("service"),
            &json!("service"),
            &json!("service")
        ],
        "priced once WhatsApp has the message"
    );
    assert!(events[3]["payload"].get("outboundContent").is_none());
    assert!(events[3]["payload"]["user"].get("channelUserId").is_none());
    let delivered = &events[4]["payload"];
    assert_eq!(delivered["outboundContent"]["body"]["text"], "On its way");
    // WhatsApp's business-scoped id for the user, as the receipt named the recipient.
    let channel_user_id = delivered["user"]["channelUserId"].as_str().unwrap();
    assert!(channel_user_id.starts_with("US."), "{channel_user_id}");
    assert_eq!(delivered["user"]["msisdn"], USER);
    for received in receiver.received() {
        assert_eq!(received.headers["authorization"], "Bearer t0ken");
        assert!(verified_by_python(&received), "signature verifies");
    }
}

async fn failures_are_retried_on_the_ladder_then_dead_lettered_and_redriven(backend: Backend) {
    let app = app(backend).await;
    let (receiver, url) = Receiver::start().await;
    app.configure(
        reqwest::Method::POST,
        json!([{"subAccountId": "*", "url": url, "type": "MSG"}]),
    )
    .await;
    // 500, a timeout, 503, 404, 500: the first try and the four of 8x8's ladder.
    receiver.script(&[500, 0, 503, 404, 500]);
    app.phone_sends(USER, json!({"type": "text", "content": {"text": "hello?"}}))
        .await;
    app.settle().await;
    assert_eq!(receiver.received().len(), 1);
    for (gap, tries) in [(1, 2), (10, 3), (30, 4), (90, 5)] {
        app.advance(gap - 1).await;
        app.settle().await;
        assert_eq!(receiver.received().len(), tries - 1, "not before {gap} s");
        app.advance(1).await;
        app.settle().await;
        assert_eq!(receiver.received().len(), tries, "after {gap} s");
    }
    let receiver_now = receiver.received().len();
    // Beyond 8x8's ladder, Parley keeps trying for about a day before giving up.
    receiver.script(&[500; 8]);
    for _ in 0..8 {
        app.advance(9 * 3600).await;
        app.settle().await;
    }
    assert_eq!(receiver.received().len(), receiver_now + 8);
    let dead = app.deliveries("?state=dead").await;
    let dead = &dead["deliveries"].as_array().unwrap()[..];
    assert_eq!(dead.len(), 1, "{dead:#?}");
    assert_eq!(
        (&dead[0]["type"], &dead[0]["attempts"]),
        (&json!("MSG"), &json!(13))
    );
    let id = dead[0]["id"].as_str().unwrap();
    let detail = app.deliveries(&format!("/{id}")).await;
    let attempts = detail["attemptLog"].as_array().unwrap();
    assert_eq!(attempts.len(), 13);
    assert_eq!(attempts[0]["statusCode"], 500);
    assert_eq!(attempts[0]["url"], url);
    assert!(
        attempts[1]["statusCode"].is_null(),
        "timed out: {}",
        attempts[1]
    );
    assert!(attempts[1]["error"].as_str().unwrap().contains("no answer"));
    assert_eq!(detail["payload"]["payload"]["content"]["text"], "hello?");

    // A time range without it redrives nothing.
    let (_, redriven) = app
        .redrive(json!({"from": "2020-01-01T00:00:00Z", "to": "2020-01-02T00:00:00Z"}))
        .await;
    assert_eq!(redriven["redriven"], 0);
    // Redriven once the endpoint is healthy again: delivered, nothing lost.
    let (status, redriven) = app
        .redrive(json!({"type": "MSG", "subAccountId": "*"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(redriven["redriven"], 1);
    app.settle().await;
    let last = receiver.events().pop().unwrap();
    assert_eq!(last["payload"]["content"]["text"], "hello?");
}

async fn every_business_management_event_arrives_in_8x8_shape(backend: Backend) {
    let app = app(backend).await;
    let (receiver, url) = Receiver::start().await;
    app.configure(
        reqwest::Method::POST,
        json!([{"subAccountId": "*", "url": url, "type": "CABM"}]),
    )
    .await;
    let (status, created) = app
        .create_template(
            &json!({"name": "hook_notice", "language": "en_US", "category": "utility",
            "components": [{"type": "body", "text": "Your visit is confirmed."}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = app.simulator_template_id("hook_notice", "en_US").await;
    let act = |body: Value| {
        let path = format!("/sim/api/templates/{id}/actions");
        let app = &app;
        async move { app.control(&path, body).await }
    };
    act(json!({"action": "approve"})).await;
    act(json!({"action": "quality", "score": "YELLOW"})).await;
    act(json!({"action": "category", "category": "MARKETING"})).await;
    let update = |field: &str, value: Value| {
        let path = format!("/sim/api/businesses/{}/updates", app.channel);
        let body = json!({"field": field, "value": value});
        let app = &app;
        async move { app.control(&path, body).await }
    };
    update(
        "phone_number_quality_update",
        json!({"event": "UPGRADE", "current_limit": "TIER_10K", "old_limit": "TIER_2K",
               "max_daily_conversations_per_business": "TIER_10K"}),
    )
    .await;
    update(
        "account_update",
        json!({"event": "ACCOUNT_VIOLATION", "violation_info": {"violation_type": "SCAM"}}),
    )
    .await;
    app.settle().await;

    // Template and business events travel on lanes of their own, in any order between them.
    let mut events = receiver.events();
    let order = [
        "template_status_update",
        "template_quality_update",
        "template_category_update",
        "phone_number_quality_update",
        "account_update",
    ];
    events.sort_by_key(|e| order.iter().position(|t| e["eventType"] == *t));
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(types, order, "each once: {events:#?}");
    for event in &events {
        for field in ["eventId", "timestamp", "businessAccountId", "eventDetails"] {
            assert!(!event[field].is_null(), "{field} in {event}");
        }
        assert_eq!(event["provider"], "WhatsApp");
        assert_eq!(event["accountId"], app.account);
        assert!(uuid::Uuid::parse_str(event["eventId"].as_str().unwrap()).is_ok());
    }
    let meta = |i: usize| &events[i]["eventDetails"]["meta"];
    assert_eq!(events[0]["eventDetails"]["templateName"], "hook_notice");
    assert_eq!(events[0]["eventDetails"]["templateLanguage"], "en_US");
    assert!(events[0]["eventDetails"]["templateId"].is_i64());
    assert_eq!(meta(0)["status"], "APPROVED");
    assert_eq!(
        (
            &meta(1)["previousQualityScore"],
            &meta(1)["newQualityScore"]
        ),
        (&json!("UNKNOWN"), &json!("YELLOW"))
    );
    assert_eq!(
        (&meta(2)["previousCategory"], &meta(2)["newCategory"]),
        (&json!("UTILITY"), &json!("MARKETING"))
    );
    let number = &events[3]["eventDetails"];
    let display = app.get_json("/sim/api/businesses").await["businesses"][0]["displayNumber"]
        .as_str()
        .unwrap()
        .trim_start_matches('+')
        .to_owned();
    assert_eq!(number["displayPhoneNumber"], display);
    assert_eq!(
        number["meta"],
        json!({"event": "UPGRADE", "currentLimit": "TIER_10K", "oldLimit": "TIER_2K",
               "maxDailyConversationsPerBusiness": "TIER_10K"})
    );
    let account = &events[4]["eventDetails"];
    assert_eq!(account["event"], "ACCOUNT_VIOLATION");
    assert_eq!(account["violationInfo"]["violationType"], "SCAM");
}

async fn deliveries_are_listed_by_filter_and_page_and_redriven_one_by_one(backend: Backend) {
    let app = app(backend).await;
    let (receiver, url) = Receiver::start().await;
    app.configure(
        reqwest::Method::POST,
        json!([{"subAccountId": "*", "url": url}]),
    )
    .await;
    for text in ["one", "two", "three"] {
        app.phone_sends(USER, json!({"type": "text", "content": {"text": text}}))
            .await;
    }
    app.settle().await;
    app.send_text(USER, "got them").await;
    app.settle().await;

    let inbound = app.deliveries("?type=MSG&limit=2").await;
    let page = inbound["deliveries"].as_array().unwrap();
    assert_eq!(page.len(), 2);
    assert!(
        page.iter()
            .all(|d| d["state"] == "delivered" && d["attempts"] == 1)
    );
    let cursor = inbound["nextCursor"].as_str().unwrap();
    let rest = app
        .deliveries(&format!("?type=MSG&limit=2&cursor={cursor}"))
        .await;
    assert_eq!(rest["deliveries"].as_array().unwrap().len(), 1);
    assert!(rest["nextCursor"].is_null());
    let receipts = app
        .deliveries(&format!("?type=CADR&subAccountId={}", app.sub_account))
        .await;
    assert!(!receipts["deliveries"].as_array().unwrap().is_empty());
    let refused = app
        .http
        .get(format!("{}/deliveries?state=lost", app.webhooks_url()))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(refused.json::<Value>().await.unwrap()["code"], 1005);

    // A delivered event sent once more, as it was.
    let oldest = &rest["deliveries"][0];
    let before = receiver.received().len();
    let (_, redriven) = app.redrive(json!({"id": oldest["id"]})).await;
    assert_eq!(redriven["redriven"], 1);
    app.settle().await;
    let again = receiver.events();
    assert_eq!(again.len(), before + 1);
    assert_eq!(again.last().unwrap()["payload"]["content"]["text"], "one");

    let other = app.second_tenant_key().await;
    let hidden = app
        .http
        .get(format!(
            "{}/deliveries/{}",
            app.webhooks_url(),
            oldest["id"].as_str().unwrap()
        ))
        .bearer_auth(other)
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
}

impl TestApp {
    async fn endpoint_state(&self) -> Value {
        let response = self
            .http
            .get(format!("{}/endpoints", self.webhooks_url()))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        body["endpoints"][0]["state"].clone()
    }
}

/// An endpoint failing for 15 minutes is marked failing and then gets one request per
/// 5 minutes, however many events wait for it; its first success marks it healthy and
/// the waiting events follow.
async fn a_failing_endpoint_is_reported_probed_slowly_and_reset_by_a_success(backend: Backend) {
    let app = app(backend).await;
    let (receiver, url) = Receiver::start().await;
    app.configure(
        reqwest::Method::POST,
        json!([{"subAccountId": "*", "url": url, "type": "MSG"}]),
    )
    .await;
    receiver.script(&[500; 40]);
    for n in 0..3 {
        let user = format!("+1555234010{n}");
        app.phone_sends(&user, json!({"type": "text", "content": {"text": "hi"}}))
            .await;
    }
    app.settle().await;
    assert!(
        app.endpoint_state().await.is_null(),
        "an everyday failure is not news"
    );
    // Through 8x8's ladder and two extended steps (up to 5.5 and 16.5 minutes): over 15
    // minutes of failures.
    for step in [1, 10, 30, 90, 330, 990] {
        app.advance(step).await;
        app.settle().await;
    }
    assert_eq!(app.endpoint_state().await, "failing");
    let before = receiver.received().len();
    // Each event's first try, the ladder and the first extended step; the second extended
    // step of the event that marked the endpoint failing, and of those that came due
    // before it in the same round (jitter decides which).
    assert!(
        (3 * 6 + 1..=3 * 7).contains(&before),
        "every event tried on its own schedule until the endpoint was marked: {before}"
    );
    // Every event's next try (30 minutes ±10%) comes due: one probe goes, the rest wait.
    app.advance(33 * 60).await;
    app.settle().await;
    assert_eq!(receiver.received().len(), before + 1, "one probe");
    app.advance(5 * 60).await;
    app.settle().await;
    assert_eq!(receiver.received().len(), before + 2, "the next probe");

    receiver.script.lock().unwrap().clear();
    app.advance(5 * 60).await;
    app.settle().await;
    assert_eq!(app.endpoint_state().await, "healthy");
    let delivered = app.deliveries("?state=delivered").await;
    assert_eq!(
        delivered["deliveries"].as_array().unwrap().len(),
        3,
        "the successful probe, and at once every event that waited, even those whose next \
         try was an hour away"
    );
    assert_eq!(receiver.received().len(), before + 5);
    assert!(
        app.metrics()
            .await
            .contains("parley_webhook_failing_endpoints")
    );
}

/// One failed request among successes is everyday: the failed event keeps to 8x8's
/// ladder even though the endpoint answers other events meanwhile.
async fn a_success_elsewhere_does_not_hurry_a_retry(backend: Backend) {
    let app = app(backend).await;
    let (receiver, url) = Receiver::start().await;
    app.configure(
        reqwest::Method::POST,
        json!([{"subAccountId": "*", "url": url, "type": "MSG"}]),
    )
    .await;
    receiver.script(&[500]);
    app.phone_sends(USER, json!({"type": "text", "content": {"text": "first"}}))
        .await;
    app.settle().await;
    app.phone_sends(
        "+15552340078",
        json!({"type": "text", "content": {"text": "second"}}),
    )
    .await;
    app.settle().await;
    assert_eq!(
        receiver.received().len(),
        2,
        "the failure, then the other event"
    );
    app.advance(1).await;
    app.settle().await;
    let texts: Vec<Value> = receiver
        .events()
        .iter()
        .map(|e| e["payload"]["content"]["text"].clone())
        .collect();
    assert_eq!(texts, ["first", "second", "first"]);
}

/// A customer's OAuth token issuer and endpoint in one: tokens `tok-1`, `tok-2`, …; the
/// endpoint refuses `tok-1` with a 401 (as if revoked) and takes later ones.
#[derive(Clone, Default)]
struct OauthSite {
    token_requests: Arc<Mutex<Vec<(String, String)>>>,
    authorizations: Arc<Mutex<Vec<String>>>,
}

async fn issue_token(
    State(site): State<OauthSite>,
    headers: HeaderMap,
    body: String,
) -> axum::Json<Value> {
    let basic = headers["authorization"].to_str().unwrap().to_owned();
    let mut requests = site.token_requests.lock().unwrap();
    requests.push((basic, body));
    axum::Json(json!({"access_token": format!("tok-{}", requests.len()), "expires_in": 3600}))
}

async fn oauth_hook(State(site): State<OauthSite>, headers: HeaderMap) -> AxumStatus {
    let authorization = headers["authorization"].to_str().unwrap().to_owned();
    site.authorizations
        .lock()
        .unwrap()
        .push(authorization.clone());
    if authorization == "Bearer tok-1" {
        AxumStatus::UNAUTHORIZED
    } else {
        AxumStatus::OK
    }
}

async fn oauth_tokens_are_fetched_cached_and_refreshed_on_401(backend: Backend) {
    let app = app(backend).await;
    let site = OauthSite::default();
    let base = serve(
        axum::Router::new()
            .route("/token", post(issue_token))
            .route("/hook", post(oauth_hook))
            .with_state(site.clone()),
    )
    .await;
    app.configure(
        reqwest::Method::POST,
        json!([{"subAccountId": "*", "url": format!("{base}/hook"), "type": "MSG",
                "httpAuthorization": "Basic c3RhdGljOm5vdC11c2Vk",
                "oauth": {"url": format!("{base}/token"), "clientId": "parley-client",
                          "clientSecret": "s3cret", "scope": "webhooks"}}]),
    )
    .await;
    for text in ["one", "two"] {
        app.phone_sends(USER, json!({"type": "text", "content": {"text": text}}))
            .await;
        app.settle().await;
    }
    assert_eq!(
        *site.authorizations.lock().unwrap(),
        ["Bearer tok-1", "Bearer tok-2", "Bearer tok-2"],
        "a 401 fetches a new token once, which is then kept"
    );
    let requests = site.token_requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2);
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode("parley-client:s3cret");
    assert_eq!(requests[0].0, format!("Basic {basic}"));
    assert_eq!(
        requests[0].1,
        "grant_type=client_credentials&scope=webhooks"
    );
    let delivered = app.deliveries("?state=delivered").await;
    assert_eq!(delivered["deliveries"].as_array().unwrap().len(), 2);
}

/// An endpoint that takes requests and never answers until released.
#[derive(Clone, Default)]
struct StuckEndpoint {
    arrived: Arc<std::sync::atomic::AtomicUsize>,
    release: Arc<tokio::sync::Notify>,
}

async fn stuck(State(endpoint): State<StuckEndpoint>) -> AxumStatus {
    endpoint
        .arrived
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    endpoint.release.notified().await;
    AxumStatus::OK
}

impl StuckEndpoint {
    pub(crate) async fn start() -> (Self, String) {
        let endpoint = Self::default();
        let app = axum::Router::new()
            .route("/stuck", post(stuck))
            .with_state(endpoint.clone());
        (endpoint, format!("{}/stuck", serve(app).await))
    }

    fn arrived(&self) -> usize {
        self.arrived.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The platform's (injected) clock.
async fn app_now(app: &TestApp) -> chrono::DateTime<chrono::Utc> {
    let clock = app.get_json("/sim/api/clock").await;
    clock["now"].as_str().unwrap().parse().unwrap()
}

/// A tenant whose endpoint hangs has 30 events due before another tenant's one; the other
/// tenant's event is delivered while the hanging requests are still open, and the first
/// tenant never holds more than its share of the deliverer.
async fn a_tenants_hanging_endpoint_never_delays_another_tenant(backend: Backend) {
    use parley_core::webhooks::{DeliveryConfig, WebhookDeliverer};
    use parley_store::{BusinessEvent, Webhook, WebhookKind};

    let app = app(backend).await;
    let (stuck, stuck_url) = StuckEndpoint::start().await;
    let (receiver, url) = Receiver::start().await;
    let now = app_now(&app).await;
    let heavy = parley_types::AccountId::parse(&app.account).unwrap();
    let other = parley_core::bootstrap::generate(now).sandbox;
    app.store.create_tenant(&other).await.unwrap();
    let light = other.account.id.clone();
    for (account, url) in [(&heavy, &stuck_url), (&light, &url)] {
        app.store
            .save_webhooks(&[Webhook {
                account_id: account.clone(),
                sub_account_id: "*".into(),
                kind: WebhookKind::Cabm,
                url: url.clone(),
                enabled: true,
                http_authorization: None,
                oauth: None,
                signing_secret: None,
                created_at: now,
                updated_at: now,
            }])
            .await
            .unwrap();
    }
    let update = |account: &parley_types::AccountId, waba: String, seconds: i64| BusinessEvent {
        account_id: account.clone(),
        waba_id: waba,
        event_type: "account_update".into(),
        details: json!({"event": "ACCOUNT_VIOLATION"}),
        at: now - chrono::Duration::seconds(seconds),
    };
    for i in 0..30 {
        let event = update(&heavy, format!("heavy-{i}"), 100 - i);
        app.store.record_business_event(&event).await.unwrap();
    }
    app.store
        .record_business_event(&update(&light, "light".into(), 1))
        .await
        .unwrap();
    app.events
        .run_once()
        .await
        .expect("the outbox takes the updates");

    let deliverer = Arc::new(WebhookDeliverer::new(
        app.store.clone(),
        Arc::new(
            parley_app::HttpTransport::new(parley_core::webhooks::targets::TargetPolicy::open())
                .unwrap(),
        ),
        Arc::new(parley_types::AdjustableClock::stopped_at(now)),
        DeliveryConfig {
            timeout: std::time::Duration::from_secs(60),
            concurrency: 8,
            per_account: 2,
            ..DeliveryConfig::default()
        },
    ));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(deliverer.run(stopped));
    let delivered = async {
        while receiver.received().is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), delivered)
        .await
        .expect("the light tenant's event is delivered while the heavy tenant's hang");
    assert_eq!(receiver.events()[0]["accountId"], light.to_string());
    // The hanging tenant's requests may still be on their way when the light one lands
    // (under load they were seen to); what matters is that no more than its share arrive.
    let hanging = async {
        while stuck.arrived() == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), hanging)
        .await
        .expect("the hanging tenant's events are attempted too");
    assert!(
        (1..=2).contains(&stuck.arrived()),
        "the hanging tenant holds at most its share: {}",
        stuck.arrived()
    );
    stop.send(true).unwrap();
    stuck.release.notify_waiters();
    running.await.unwrap();
}

crate::on_each_backend!(
    configuration_round_trips_with_secrets_masked,
    inbound_messages_and_receipts_arrive_signed_and_in_order,
    failures_are_retried_on_the_ladder_then_dead_lettered_and_redriven,
    every_business_management_event_arrives_in_8x8_shape,
    deliveries_are_listed_by_filter_and_page_and_redriven_one_by_one,
    a_tenants_hanging_endpoint_never_delays_another_tenant,
    a_failing_endpoint_is_reported_probed_slowly_and_reset_by_a_success,
    a_success_elsewhere_does_not_hurry_a_retry,
    oauth_tokens_are_fetched_cached_and_refreshed_on_401,
);
