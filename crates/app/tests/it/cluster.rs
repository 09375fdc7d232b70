//! Several Parley nodes as separate processes on one throwaway PostgreSQL cluster: the
//! schema is migrated by `parley migrate`, not by whichever node starts first.

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use parley_testkit::pg::PgCluster;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::process::{Server, free_port, spawn_ready};

/// GET `url` (the simulator's control API, no credentials) as JSON.
async fn get_json(http: &reqwest::Client, url: String) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

/// The binary the nodes run: `PARLEY_CLUSTER_BIN` if set (`scripts/test` points it at a
/// release build, as a cluster would run), else this test build's own.
fn parley_bin() -> std::path::PathBuf {
    std::env::var_os("PARLEY_CLUSTER_BIN")
        .map(Into::into)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_parley").into())
}

/// `parley ARGS` on the cluster's database, waiting for it to exit.
fn parley(url: &str, data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(parley_bin())
        .args(args)
        .args(["--database-url", url])
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .output()
        .expect("parley binary")
}

/// `parley serve` with `args` and `PARLEY_…` settings `env`, ready to answer.
pub(crate) async fn node(
    url: &str,
    data: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Server {
    node_on(free_port(), url, data, args, env).await
}

/// [`node`] on a given port (a restarted node comes back where it was).
async fn node_on(
    port: u16,
    url: &str,
    data: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Server {
    let mut command = Command::new(parley_bin());
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .args(["--database-url", url])
        .arg("--data-dir")
        .arg(data)
        .envs(env.iter().copied());
    spawn_ready(command, port).await
}

#[tokio::test]
async fn a_node_refuses_an_unmigrated_database_until_parley_migrate_has_run() {
    let cluster = PgCluster::start().expect("start postgres");
    let url = cluster.fresh_database().unwrap();
    let data = tempfile::tempdir().unwrap();

    let refused = parley(&url, data.path(), &["serve", "--listen", "127.0.0.1:0"]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success(),
        "serve started on an empty schema"
    );
    assert!(said.contains("run `parley migrate` first"), "{said}");

    let migrated = parley(&url, data.path(), &["migrate"]);
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    assert!(String::from_utf8_lossy(&migrated.stdout).contains("postgres"));
    let again = parley(&url, data.path(), &["migrate"]);
    assert!(again.status.success(), "migrating twice is harmless");

    let server = node(&url, data.path(), &[], &[]).await;
    let health: serde_json::Value = reqwest::get(format!("{}/readyz", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["database"], "postgres", "{health}");
}

// ---------------------------------------------------------------------------------------
// Three nodes, 50,000 messages, one node killed and restarted.

pub(crate) const SECRETS: [(&str, &str); 3] = [
    ("PARLEY_META__ACCESS_TOKEN", "cluster-token"),
    ("PARLEY_META__APP_SECRET", "cluster-secret"),
    ("PARLEY_META__VERIFY_TOKEN", "cluster-verify"),
];
/// The four busy subaccounts send this many templates each, in batches of `BATCH`; the
/// first also schedules `SCHEDULED` messages a few seconds ahead…
const BUSY_EACH: usize = 12_000;
const BATCH: usize = 500;
const SCHEDULED: usize = 1_000;
/// …while the quiet one sends this many one-time codes one by one, `OTP_EVERY` apart.
const OTPS: usize = 1_000;
const OTP_EVERY: Duration = Duration::from_millis(100);
const TOTAL: usize = 4 * BUSY_EACH + OTPS + SCHEDULED;
/// The quiet subaccount's one-time codes: accepted to handed to WhatsApp (`sent`), at the
/// 99th percentile, however long the busy subaccounts' backlog (measured 1.4 s on this
/// 2-core machine; the bound leaves room for a noisier one). See BENCHMARKS.md.
const OTP_P99_BOUND_MS: i64 = 3_000;
/// The lease is short, so the killed node's work is taken over within the test. A message
/// the killed node handed to WhatsApp is sent again only once its number's receipts have
/// come in to the grace past the hand-off (or stopped coming for the grace): on this
/// 2-CPU machine receipts lag the sends by a minute and more under this load, and a grace
/// alone (20 s, then 60 s) let a few dozen be sent twice before their receipts came.
const LEASE_SECONDS: &str = "3";
const GRACE_SECONDS: &str = "60";

/// `psql` on the cluster's database: one value per row, fields split by `|`.
fn sql(cluster: &PgCluster, url: &str, query: &str) -> Vec<String> {
    let out = cluster
        .client_command("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-At", "-c", query])
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "{query}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn sql_number(cluster: &PgCluster, url: &str, query: &str) -> i64 {
    sql(cluster, url, query)[0].parse().unwrap()
}

/// A load balancer in front of the api nodes, as a cluster would have: each request goes
/// to the next node, and to the other when that one does not answer (it was killed).
async fn balancer(nodes: Vec<String>) -> String {
    use axum::body::Body;
    use axum::extract::{Request, State};
    use axum::response::Response;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Clone)]
    struct Backends {
        nodes: Arc<Vec<String>>,
        next: Arc<AtomicUsize>,
        http: reqwest::Client,
    }
    async fn forward(State(b): State<Backends>, request: Request) -> Response {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let first = b.next.fetch_add(1, Ordering::Relaxed);
        for attempt in 0..b.nodes.len() * 20 {
            let node = &b.nodes[(first + attempt) % b.nodes.len()];
            let mut outgoing = b
                .http
                .request(parts.method.clone(), format!("{node}{path}"))
                .body(body.clone());
            for (name, value) in &parts.headers {
                if name != "host" && name != "content-length" {
                    outgoing = outgoing.header(name, value);
                }
            }
            match outgoing.send().await {
                Ok(answer) => {
                    let mut response = Response::builder().status(answer.status());
                    for (name, value) in answer.headers() {
                        response = response.header(name, value);
                    }
                    return response
                        .body(Body::from(answer.bytes().await.unwrap_or_default()))
                        .unwrap();
                }
                // Not reached (refused) or cut off mid-request (killed): the next node.
                // A request the dead node had committed comes back as a duplicate of
                // itself (every message carries its clientMessageId).
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        Response::builder().status(502).body(Body::empty()).unwrap()
    }
    let backends = Backends {
        nodes: Arc::new(nodes),
        next: Arc::default(),
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
    };
    let app = axum::Router::new().fallback(forward).with_state(backends);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// The customer's webhook endpoint: the ids (`webhook-id`) of the events it received.
async fn receiver() -> (String, Arc<Mutex<HashSet<String>>>) {
    async fn hook(
        axum::extract::State(seen): axum::extract::State<Arc<Mutex<HashSet<String>>>>,
        headers: axum::http::HeaderMap,
    ) -> &'static str {
        if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
            seen.lock().unwrap().insert(id.to_owned());
        }
        "ok"
    }
    let seen: Arc<Mutex<HashSet<String>>> = Arc::default();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(seen.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), seen)
}

/// Posts until the balancer gets an answer from a node that is up: what a client does
/// when a node dies under its request. Yields the final answer's JSON.
async fn post_until_answered(http: &reqwest::Client, url: &str, key: &str, body: &Value) -> Value {
    for _ in 0..100 {
        if let Ok(answer) = http.post(url).bearer_auth(key).json(body).send().await
            && answer.status() == 200
        {
            return answer.json().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never accepted {body}");
}

fn template_batch(sub: &str, first: usize) -> Value {
    let messages: Vec<Value> = (first..first + BATCH)
        .map(|n| {
            json!({"user": {"msisdn": format!("+1{}{n:07}", 200 + sub.len() % 10)},
                   "clientMessageId": format!("{sub}-{n}"),
                   "content": {"template": {"components": [
                       {"type": "body", "parameters": [{"type": "text", "text": format!("A-{n}")}]}]}}})
        })
        .collect();
    json!({"clientBatchId": format!("{sub}-{first}"),
           "template": {"type": "template", "content": {"template": {"name": "order_note", "language": "en"}}},
           "messages": messages, "includeMessagesInResponse": false})
}

fn template_message(msisdn: &str, client_id: &str) -> Value {
    json!({"user": {"msisdn": msisdn}, "type": "template", "clientMessageId": client_id,
           "content": {"template": {"name": "order_note", "language": "en", "components": [
               {"type": "body", "parameters": [{"type": "text", "text": "123456"}]}]}}})
}

/// Creates `order_note` for a channel through the API and approves it in the simulator.
async fn approved_template(
    http: &reqwest::Client,
    api: &str,
    sim: &str,
    key: &str,
    account: &str,
    channel: &str,
) {
    let templates = format!("{api}/api/v1/accounts/{account}/channels/{channel}/templates");
    let created = http
        .post(&templates)
        .bearer_auth(key)
        .json(&json!({"name": "order_note", "language": "en", "category": "UTILITY",
                      "components": [{"type": "BODY", "text": "Your code {{1}}.", "examples": ["A-1"]}]}))
        .send()
        .await
        .unwrap();
    assert!(
        created.status().is_success(),
        "{}",
        created.text().await.unwrap()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let listed: Value =
            get_json(http, format!("{sim}/sim/api/templates?name=order_note")).await;
        for template in listed["templates"].as_array().unwrap() {
            if template["status"] != "APPROVED" {
                let id = template["id"].as_str().unwrap();
                let _ = http
                    .post(format!("{sim}/sim/api/templates/{id}/actions"))
                    .json(&json!({"action": "approve"}))
                    .send()
                    .await;
            }
        }
        let ours: Value = http
            .get(&templates)
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if ours["templates"][0]["status"] == "APPROVED" {
            return;
        }
        assert!(Instant::now() < deadline, "not approved: {ours}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// Six minutes of the whole machine with release-built nodes: `scripts/test` runs it on its
// own after the rest of the suite, with `PARLEY_CLUSTER_BIN` set to a release build (a
// debug build of the nodes would take several times as long).
#[ignore = "50,000 messages over three processes; scripts/test runs it alone with PARLEY_CLUSTER_BIN"]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_share_the_work_and_one_killed_loses_nothing_and_sends_nothing_twice() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let started = Instant::now();
    let cluster = PgCluster::start().expect("start postgres");
    let url = cluster.fresh_database().unwrap();
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    assert!(parley(&url, dirs[0].path(), &["migrate"]).status.success());

    let (ports, sim_port) = ([free_port(), free_port()], free_port());
    let nodes: Vec<String> = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect();
    let lb = balancer(nodes.clone()).await;
    let sim = format!("http://127.0.0.1:{sim_port}");
    let mut sim_env: Vec<(&str, &str)> = SECRETS.to_vec();
    let hook_target = format!("{lb}/meta/webhook");
    sim_env.extend([
        ("PARLEY_ROLES", "simulator"),
        ("PARLEY_SIMULATOR__WEBHOOK_URL", hook_target.as_str()),
        ("PARLEY_SIMULATOR__AUTO_READ", "false"),
        // The simulator node is never killed here: its state file would only cost time.
        ("PARLEY_SIMULATOR__STATE_FILE", ""),
    ]);
    let _simulator = node_on(sim_port, &url, dirs[2].path(), &[], &sim_env).await;
    let graph = format!("{sim}/sim/graph");
    let mut worker_env: Vec<(&str, &str)> = SECRETS.to_vec();
    worker_env.extend([
        ("PARLEY_ROLES", "api,workers"),
        ("PARLEY_META__GRAPH_URL", graph.as_str()),
        ("PARLEY_DISPATCH__LEASE_SECONDS", LEASE_SECONDS),
        ("PARLEY_DISPATCH__UNCONFIRMED_GRACE_SECONDS", GRACE_SECONDS),
        ("PARLEY_DISPATCH__THROUGHPUT_PER_NUMBER", "1000"),
        ("PARLEY_DISPATCH__DEFAULT_MESSAGING_LIMIT", "TIER_UNLIMITED"),
        ("PARLEY_API__RATE_LIMIT_PER_SUBACCOUNT", "1000000"),
        ("PARLEY_API__RATE_LIMIT_PER_IP", "1000000"),
        ("PARLEY_WEBHOOKS__ALLOW_TARGETS", "[\"127.0.0.1\"]"),
        ("PARLEY_CACHE__LOOKUP_SECONDS", "1"),
    ]);
    // The first api node on an empty database creates the sandbox; the other starts after.
    let mut a = node_on(ports[0], &url, dirs[0].path(), &[], &worker_env).await;
    let _b = node_on(ports[1], &url, dirs[1].path(), &[], &worker_env).await;
    let bootstrap: Value =
        serde_json::from_slice(&std::fs::read(dirs[0].path().join("bootstrap.json")).unwrap())
            .unwrap();
    let (account, key) = (
        bootstrap["accountId"].as_str().unwrap().to_owned(),
        bootstrap["apiKey"].as_str().unwrap().to_owned(),
    );

    // Five subaccounts of the sandbox account, each with a number of its own: the
    // sandbox's (the quiet one) and four busy ones added to the database.
    let mut subs = vec![(
        bootstrap["subAccountId"].as_str().unwrap().to_owned(),
        bootstrap["channelId"].as_str().unwrap().to_owned(),
    )];
    for n in 1..=4 {
        let (sub, channel) = (format!("busy-{n}"), uuid::Uuid::new_v4().to_string());
        sql(
            &cluster,
            &url,
            &format!(
                "INSERT INTO sub_accounts VALUES ('{sub}', '{account}', 0); \
                 INSERT INTO channels VALUES ('{channel}', '{account}', '{sub}', \
                    '+1555010000{n}', 'waba-{n}', 'pnid-{n}', 0);"
            ),
        );
        subs.push((sub, channel));
    }
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let known: Value = get_json(&http, format!("{sim}/sim/api/businesses")).await;
        if known["businesses"].as_array().unwrap().len() == subs.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the simulator never learnt the numbers: {known}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (_, channel) in &subs {
        let set = http
            .post(format!("{sim}/sim/api/businesses/{channel}/limits"))
            .json(&json!({"throughput": 1000, "messagingLimit": "TIER_UNLIMITED"}))
            .send()
            .await
            .unwrap();
        assert!(set.status().is_success(), "{}", set.text().await.unwrap());
        approved_template(&http, &lb, &sim, &key, &account, channel).await;
    }
    let (hook, seen) = receiver().await;
    let configured = http
        .post(format!("{lb}/api/v1/accounts/{account}/webhooks"))
        .bearer_auth(&key)
        .json(&json!([{"subAccountId": "*", "url": hook, "type": "CADR", "signingSecret": "cluster-hooks-signing-secret"}]))
        .send()
        .await
        .unwrap();
    assert!(
        configured.status().is_success(),
        "{}",
        configured.text().await.unwrap()
    );
    eprintln!(
        "cluster ready after {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The load, all through the balancer: four busy subaccounts' batches, the quiet one's
    // codes one by one, and its scheduled messages.
    let load_started = Instant::now();
    let mut load = Vec::new();
    for (sub, _) in &subs[1..] {
        let (http, lb, key, sub) = (http.clone(), lb.clone(), key.clone(), sub.clone());
        load.push(tokio::spawn(async move {
            let url = format!("{lb}/api/v1/subaccounts/{sub}/messages/batch");
            for first in (0..BUSY_EACH).step_by(BATCH) {
                post_until_answered(&http, &url, &key, &template_batch(&sub, first)).await;
            }
        }));
    }
    {
        let (http, key) = (http.clone(), key.clone());
        let single = format!("{lb}/api/v1/subaccounts/{}/messages", subs[1].0);
        let at = chrono::Utc::now() + chrono::Duration::seconds(8);
        load.push(tokio::spawn(async move {
            for n in 0..SCHEDULED {
                let when = at + chrono::Duration::milliseconds((n as i64 % 10) * 1_000);
                let mut body = template_message(&format!("+1300{n:07}"), &format!("later-{n}"));
                body["scheduled"] = json!(when.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                post_until_answered(&http, &single, &key, &body).await;
            }
        }));
    }
    {
        let (http, key) = (http.clone(), key.clone());
        let single = format!("{lb}/api/v1/subaccounts/{}/messages", subs[0].0);
        load.push(tokio::spawn(async move {
            for n in 0..OTPS {
                let body = template_message(&format!("+1400{n:07}"), &format!("otp-{n}"));
                post_until_answered(&http, &single, &key, &body).await;
                tokio::time::sleep(OTP_EVERY).await;
            }
        }));
    }

    // Kill one worker node (SIGKILL) once a fifth has been handed to the simulator, and
    // bring it back a moment later.
    let handed_over = |sends: &Value| sends["sends"].as_array().map_or(0, Vec::len);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let sends: Value = get_json(&http, format!("{sim}/sim/api/sends")).await;
        if handed_over(&sends) >= TOTAL / 5 {
            break;
        }
        assert!(Instant::now() < deadline, "sending did not get going");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let killed_ms = chrono::Utc::now().timestamp_millis();
    let _ = a.child.kill();
    let _ = a.child.wait();
    let killed_at = load_started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    a = node_on(ports[0], &url, dirs[0].path(), &[], &worker_env).await;
    let restarted_at = load_started.elapsed();
    for task in load {
        task.await.unwrap();
    }
    let accepted_in = load_started.elapsed();
    eprintln!(
        "node killed at {:.1} s, back at {:.1} s; all accepted at {:.1} s",
        killed_at.as_secs_f64(),
        restarted_at.as_secs_f64(),
        accepted_in.as_secs_f64()
    );

    // Everything leaves the queue and every webhook event is delivered.
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut polls = 0;
    loop {
        let waiting = sql(
            &cluster,
            &url,
            "SELECT (SELECT COUNT(*) FROM messages WHERE direction = 'outbound' \
                       AND state = 'queued'), \
                    (SELECT COUNT(*) FROM messages WHERE direction = 'outbound' \
                       AND state = 'sent'), \
                    (SELECT COUNT(*) FROM webhook_events WHERE state = 'pending')",
        )
        .remove(0);
        if waiting == "0|0|0" {
            break;
        }
        if polls % 10 == 0 {
            let handed = handed_over(&get_json(&http, format!("{sim}/sim/api/sends")).await);
            eprintln!(
                "{:5.1} s: {handed} handed to the simulator; queued|sent|events pending: {waiting}",
                load_started.elapsed().as_secs_f64()
            );
        }
        polls += 1;
        assert!(
            Instant::now() < deadline,
            "queued|sent|events pending: {waiting}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let drained_in = load_started.elapsed();
    // How the killed node's hand-offs ended (settled by their receipts, or sent again):
    // printed, as the crash may or may not catch one mid-call.
    for node in &nodes {
        let metrics = http.get(format!("{node}/metrics")).send().await.unwrap();
        let metrics = metrics.text().await.unwrap();
        metrics
            .lines()
            .filter(|l| l.starts_with("parley_dispatch_interrupted_total"))
            .for_each(|l| eprintln!("{node}: {l}"));
    }
    drop(a);

    // Every message accepted once, handed to the simulator exactly once, delivered.
    let stored = sql(
        &cluster,
        &url,
        "SELECT umid, client_message_id, state FROM messages WHERE direction = 'outbound'",
    );
    assert_eq!(
        stored.len(),
        TOTAL,
        "one stored message per intended message"
    );
    let client_ids: HashSet<&str> = stored
        .iter()
        .map(|r| r.split('|').nth(1).unwrap())
        .collect();
    assert_eq!(client_ids.len(), TOTAL, "no message accepted twice");
    let sends: Value = get_json(&http, format!("{sim}/sim/api/sends")).await;
    let mut per_umid: HashMap<String, u32> = HashMap::new();
    for send in sends["sends"].as_array().unwrap() {
        if send["errorCode"].is_null() {
            *per_umid
                .entry(send["callbackData"].as_str().unwrap_or_default().to_owned())
                .or_default() += 1;
        }
    }
    // (umid, what went wrong) for every message not sent exactly once and delivered.
    let mut wrong = Vec::new();
    for row in &stored {
        let fields: Vec<&str> = row.split('|').collect();
        let times = per_umid.remove(fields[0]).unwrap_or(0);
        if times != 1 || fields[2] != "delivered" {
            let said = format!("{} sent {times} times, {}", fields[1], fields[2]);
            wrong.push((fields[0].to_owned(), said));
        }
    }
    for (umid, said) in wrong.iter().take(5) {
        let history = sql(
            &cluster,
            &url,
            &format!(
                "SELECT state, detail, error_code, error_message, status_at \
                 FROM message_statuses WHERE umid = '{umid}' ORDER BY id"
            ),
        );
        eprintln!("{said}: {history:?}");
    }
    assert!(
        wrong.is_empty(),
        "{} messages not sent exactly once and delivered",
        wrong.len()
    );
    assert!(
        per_umid.is_empty(),
        "sends of no stored message: {per_umid:?}"
    );

    // Scheduled messages: each released once, never before its time.
    let early_or_twice = sql_number(
        &cluster,
        &url,
        "SELECT COUNT(*) FROM messages m WHERE m.client_message_id LIKE 'later-%' AND \
           (SELECT COUNT(*) FROM message_statuses s WHERE s.umid = m.umid AND s.state = 'sent') <> 1",
    );
    assert_eq!(
        early_or_twice, 0,
        "a scheduled message was sent other than once"
    );

    // Every webhook event delivered (at least once) to the customer's endpoint.
    let events = sql(&cluster, &url, "SELECT id, state FROM webhook_events");
    let seen = seen.lock().unwrap().clone();
    let mut missing = 0;
    for row in &events {
        let (id, state) = row.split_once('|').unwrap();
        assert_eq!(state, "delivered", "event {id}");
        // The deliverer's `webhook-id`: `msg_` and the event's stable UUID.
        let uuid = uuid::Uuid::from_u64_pair(0x7061_726c_6579_7768, id.parse().unwrap());
        missing += usize::from(!seen.contains(&format!("msg_{}", uuid.simple())));
    }
    assert_eq!(
        missing,
        0,
        "{missing} of {} events never reached the endpoint",
        events.len()
    );

    // Fairness: the quiet subaccount's codes against the busy subaccounts' backlog.
    let latency = |filter: &str| -> Vec<i64> {
        sql(
            &cluster,
            &url,
            &format!(
                "SELECT s.status_at - m.created_at FROM messages m \
                 JOIN message_statuses s ON s.umid = m.umid AND s.state = 'sent' \
                 WHERE {filter} ORDER BY 1"
            ),
        )
        .iter()
        .map(|v| v.parse().unwrap())
        .collect()
    };
    let pct = |v: &[i64], p: usize| v[(v.len() * p / 100).min(v.len() - 1)];
    // Codes the killed node had claimed wait for its lease (and, once handed to WhatsApp,
    // the grace for their receipts) before the other node takes them over: those accepted
    // in the lease before the kill are reported apart from the fairness bound.
    let lease_ms: i64 = LEASE_SECONDS.parse::<i64>().unwrap() * 1_000;
    let otp = latency(&format!(
        "m.client_message_id LIKE 'otp-%' AND m.created_at NOT BETWEEN {} AND {killed_ms}",
        killed_ms - lease_ms
    ));
    let otp_at_kill = latency(&format!(
        "m.client_message_id LIKE 'otp-%' AND m.created_at BETWEEN {} AND {killed_ms}",
        killed_ms - lease_ms
    ));
    let busy = latency("m.sub_account_id LIKE 'busy-%' AND m.scheduled_at IS NULL");
    eprintln!(
        "{TOTAL} messages accepted in {:.1} s ({:.0}/s), all delivered in {:.1} s ({:.0}/s); \
         node killed at {:.1} s, back at {:.1} s; {} webhook events delivered\n\
         one-time codes accepted→sent: p50 {} ms, p99 {} ms, max {} ms; \
         {} accepted just before the kill: max {} ms; \
         busy subaccounts: p50 {} ms, p99 {} ms",
        accepted_in.as_secs_f64(),
        TOTAL as f64 / accepted_in.as_secs_f64(),
        drained_in.as_secs_f64(),
        TOTAL as f64 / drained_in.as_secs_f64(),
        killed_at.as_secs_f64(),
        restarted_at.as_secs_f64(),
        events.len(),
        pct(&otp, 50),
        pct(&otp, 99),
        otp[otp.len() - 1],
        otp_at_kill.len(),
        otp_at_kill.last().copied().unwrap_or_default(),
        pct(&busy, 50),
        pct(&busy, 99),
    );
    assert!(
        pct(&otp, 99) <= OTP_P99_BOUND_MS,
        "one-time codes waited {} ms at the 99th percentile",
        pct(&otp, 99)
    );
    let take_over_ms = lease_ms + GRACE_SECONDS.parse::<i64>().unwrap() * 1_000;
    assert!(
        otp_at_kill
            .iter()
            .all(|&ms| ms <= take_over_ms + OTP_P99_BOUND_MS),
        "codes the killed node held waited longer than its lease and grace: {otp_at_kill:?}"
    );
    assert!(
        pct(&busy, 50) > 4 * pct(&otp, 99),
        "the busy subaccounts built no backlog to be fair against (p50 {} ms)",
        pct(&busy, 50)
    );
}
