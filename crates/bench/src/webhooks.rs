//! `parley-bench webhooks`: how fast Parley delivers webhooks to a customer's endpoint, and
//! how late. The endpoint is a receiver in this process on `127.0.0.1` that answers every
//! tenth request with a 500. Parley (sandbox, SQLite or a durable PostgreSQL) gets a CADR
//! webhook pointing at it, then:
//!
//! 1. **burst**: `messages` text messages accepted as fast as `connections` connections
//!    send them. Each accepted message writes its `queued` receipt to the outbox in the
//!    same transaction, so the burst leaves a backlog; the rate at which it drains, once
//!    the accepts stop, is the delivery rate.
//! 2. **steady**: messages at a fixed `rate` for `seconds`; the lag of each `queued`
//!    receipt (from its status timestamp to its first 2xx) at p50/p90/p99.
//!
//! The baseline, measured in the same run: this process posting the same body to the same
//! receiver over `connections` connections, back to back (what the machine's HTTP stack
//! allows without a database); the drain rate is reported as a ratio to it.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};

use crate::targets::{self, DurablePostgres};

#[derive(clap::Args, Debug)]
pub struct WebhookArgs {
    /// Messages in the burst.
    #[arg(long, default_value_t = 20_000)]
    messages: usize,
    /// Connections sending the burst, and posting the baseline.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Messages per second in the steady phase.
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// Seconds of the steady phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Databases measured, in order.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    targets: Vec<Database>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Database {
    Sqlite,
    Postgres,
}

/// What the receiver saw.
#[derive(Default)]
struct Sink {
    requests: AtomicU64,
    failed: AtomicU64,
    /// Only the answers in 2xx count from here on: receipts that are not `queued`.
    other: AtomicUsize,
    /// Each message's first `queued` receipt: its lag (ms) and when it came.
    queued: Mutex<HashMap<String, (i64, Instant)>>,
}

impl Sink {
    /// How many of `umids` have their `queued` receipt.
    fn arrived(&self, umids: &[String]) -> usize {
        let queued = self.queued.lock().unwrap();
        umids.iter().filter(|u| queued.contains_key(*u)).count()
    }

    /// Waits until every one of `umids` has its receipt, or `limit` passes (a receipt
    /// that failed five times in a row waits minutes for its next try); how many came.
    async fn wait_for(&self, umids: &[String], limit: Duration) -> usize {
        let deadline = Instant::now() + limit;
        while self.arrived(umids) < umids.len() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.arrived(umids)
    }
}

async fn receive(State(sink): State<Arc<Sink>>, body: axum::body::Bytes) -> StatusCode {
    // One in ten, scattered (a fixed stride could hit the same lane every time when few
    // lanes are left).
    let n = sink.requests.fetch_add(1, Ordering::Relaxed);
    if (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) % 10 == 0 {
        sink.failed.fetch_add(1, Ordering::Relaxed);
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let event = serde_json::from_slice::<Value>(&body).unwrap_or_default();
    let status = &event["payload"]["status"];
    let (Some(umid), Some(at)) = (
        event["payload"]["umid"].as_str(),
        status["timestamp"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()),
    ) else {
        return StatusCode::OK;
    };
    if status["state"] != "queued" {
        sink.other.fetch_add(1, Ordering::Relaxed);
        return StatusCode::OK;
    }
    let lag = chrono::Utc::now()
        .signed_duration_since(at)
        .num_milliseconds();
    sink.queued
        .lock()
        .unwrap()
        .entry(umid.to_owned())
        .or_insert((lag, Instant::now()));
    StatusCode::OK
}

async fn start_receiver() -> Result<(Arc<Sink>, String)> {
    let sink = Arc::new(Sink::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let app = axum::Router::new()
        .route("/hook", post(receive))
        .with_state(sink.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((sink, url))
}

/// A receipt as Parley posts it, for the baseline.
fn sample_body() -> String {
    json!({"version": 9, "namespace": "ChatApps", "eventType": "outbound_message_status_changed",
        "description": "ChatApps outbound message delivery receipt",
        "payload": {"umid": "0190b5d2-8c6e-7c3a-9a4b-2f1e3d5c7a90", "subAccountId": "sandbox-123456",
            "channel": "whatsapp", "user": {"msisdn": "+15551234567"},
            "status": {"state": "delivered", "detail": "delivered_to_operator", "timestamp": "2026-01-01T00:00:00.00Z"}}})
    .to_string()
}

/// Posts to the receiver back to back for `window`; requests per second.
async fn baseline(url: &str, connections: usize, window: Duration) -> Result<f64> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()?;
    let body = sample_body();
    let sent = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + window;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, url, body, sent) =
            (client.clone(), url.to_owned(), body.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < end {
                let posted = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                if posted.is_ok() {
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    Ok(sent.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

struct Run {
    database: Database,
    accepted: usize,
    accept_rate: f64,
    drained: usize,
    drain_rate: f64,
    drain_seconds: f64,
    requests: u64,
    failed: u64,
    other: usize,
    lags: Vec<i64>,
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Sends one text; the umid when accepted.
async fn send_text(client: &reqwest::Client, url: &str, key: &str, n: usize) -> Option<String> {
    let body = json!({"user": {"msisdn": crate::load::msisdn_for(n % 1000)},
                      "type": "text", "content": {"text": format!("webhook bench {n}")}});
    let answer = client
        .post(url)
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .ok()?;
    if answer.status() != 200 {
        return None;
    }
    let answer: Value = answer.json().await.ok()?;
    answer["umid"].as_str().map(str::to_owned)
}

async fn measure(database: Database, bin: &std::path::Path, args: &WebhookArgs) -> Result<Run> {
    let postgres: Option<DurablePostgres> = match database {
        Database::Postgres => {
            Some(tokio::task::spawn_blocking(targets::start_durable_postgres).await??)
        }
        Database::Sqlite => None,
    };
    let parley = targets::spawn_parley(bin, postgres.as_ref().map(|pg| pg.url.as_str())).await?;
    let result = drive(&parley, args, database).await;
    parley.stop().await;
    result
}

async fn drive(parley: &targets::Parley, args: &WebhookArgs, database: Database) -> Result<Run> {
    let (sink, hook) = start_receiver().await?;
    let base = &parley.server.base_url;
    let key = &parley.bootstrap.api_key;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .build()?;
    let configured = client
        .post(format!(
            "{base}/api/v1/accounts/{}/webhooks",
            parley.bootstrap.account_id
        ))
        .bearer_auth(key)
        .json(&json!([{"subAccountId": "*", "url": hook, "type": "CADR"}]))
        .send()
        .await?;
    if !configured.status().is_success() {
        bail!("configuring the webhook: {}", configured.text().await?);
    }
    let send_url = format!(
        "{base}/api/v1/subaccounts/{}/messages",
        parley.bootstrap.sub_account_id
    );

    // Burst.
    let next = Arc::new(AtomicUsize::new(0));
    let accepted: Arc<Mutex<Vec<String>>> = Arc::default();
    let started = Instant::now();
    let mut senders = Vec::new();
    for _ in 0..args.connections {
        let (client, url, key) = (client.clone(), send_url.clone(), key.clone());
        let (next, accepted, total) = (next.clone(), accepted.clone(), args.messages);
        senders.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return;
                }
                if let Some(umid) = send_text(&client, &url, &key, n).await {
                    accepted.lock().unwrap().push(umid);
                }
            }
        }));
    }
    for sender in senders {
        sender.await?;
    }
    let accept_seconds = started.elapsed().as_secs_f64();
    let burst = accepted.lock().unwrap().clone();
    let accepts_done = Instant::now();
    sink.wait_for(&burst, Duration::from_secs(60)).await;
    // The backlog's drain rate up to the arrival of its 90th percentile: the last tenth
    // is the events whose first tries failed, waiting out 8x8's ladder (1 s, 10 s, …).
    let mut after: Vec<Instant> = {
        let queued = sink.queued.lock().unwrap();
        burst
            .iter()
            .filter_map(|u| queued.get(u).map(|q| q.1))
            .filter(|at| *at > accepts_done)
            .collect()
    };
    after.sort_unstable();
    let drained = after.len() * 9 / 10;
    let t90 = *after
        .get(drained.saturating_sub(1))
        .context("no backlog left when the accepts ended")?;
    let drain_seconds = t90.saturating_duration_since(accepts_done).as_secs_f64();

    // Steady.
    let mut tick = tokio::time::interval(Duration::from_secs(1) / args.rate.max(1));
    let steady_end = Instant::now() + Duration::from_secs(args.seconds);
    let mut in_flight = tokio::task::JoinSet::new();
    let mut n = args.messages;
    while Instant::now() < steady_end {
        tick.tick().await;
        let (client, url, key) = (client.clone(), send_url.clone(), key.clone());
        n += 1;
        in_flight.spawn(async move { send_text(&client, &url, &key, n).await });
    }
    let mut steady = Vec::new();
    while let Some(sent) = in_flight.join_next().await {
        steady.extend(sent?);
    }
    let late = steady.len() - sink.wait_for(&steady, Duration::from_secs(60)).await;
    let mut lags: Vec<i64> = {
        let queued = sink.queued.lock().unwrap();
        steady
            .iter()
            .filter_map(|u| queued.get(u).map(|q| q.0))
            .collect()
    };
    lags.sort_unstable();
    // Not there after a minute: later than any percentile shown, counted as such.
    lags.extend(std::iter::repeat_n(i64::MAX, late));
    Ok(Run {
        database,
        accepted: burst.len(),
        accept_rate: burst.len() as f64 / accept_seconds,
        drained,
        drain_rate: drained as f64 / drain_seconds.max(0.001),
        drain_seconds,
        requests: sink.requests.load(Ordering::Relaxed),
        failed: sink.failed.load(Ordering::Relaxed),
        other: sink.other.load(Ordering::Relaxed),
        lags,
    })
}

pub async fn run(bin: &std::path::Path, args: &WebhookArgs) -> Result<String> {
    if args.messages == 0 || args.connections == 0 || args.rate == 0 || args.seconds == 0 {
        bail!("--messages, --connections, --rate and --seconds must be positive");
    }
    let (_baseline_sink, baseline_url) = start_receiver().await?;
    let mut baselines = Vec::new();
    let mut runs = Vec::new();
    eprintln!("webhooks: baseline …");
    baselines.push(baseline(&baseline_url, args.connections, Duration::from_secs(5)).await?);
    for database in &args.targets {
        eprintln!("webhooks: {database:?} …");
        runs.push(measure(*database, bin, args).await?);
        eprintln!("webhooks: baseline …");
        baselines.push(baseline(&baseline_url, args.connections, Duration::from_secs(5)).await?);
    }
    let bare = baselines.iter().sum::<f64>() / baselines.len() as f64;
    let mut out = String::new();
    let _ = writeln!(out, "### Webhook delivery\n");
    let _ = writeln!(
        out,
        "- baseline (this process posting a receipt-sized body to the same receiver, {} \
         connections): {} /s (runs: {})",
        args.connections,
        bare.round(),
        baselines
            .iter()
            .map(|b| format!("{b:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "- burst: {} messages over {} connections; steady: {} messages/s for {} s; the \
         receiver answers every 10th request with a 500\n",
        args.messages, args.connections, args.rate, args.seconds
    );
    let _ = writeln!(
        out,
        "| database | accepted | accepted/s | 90 % of the backlog | deliveries/s (2xx) | vs baseline | requests (500s) | other receipts | steady lag p50 / p90 / p99 / max | lag ≥ 1 s |"
    );
    let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for run in &runs {
        let _ = writeln!(
            out,
            "| {:?} | {} | {:.0} | {} in {:.1} s | {:.0} | **{:.1} %** | {} ({}) | {} | {} / {} / {} / {} ms | {} of {} |",
            run.database,
            run.accepted,
            run.accept_rate,
            run.drained,
            run.drain_seconds,
            run.drain_rate,
            100.0 * run.drain_rate / bare,
            run.requests,
            run.failed,
            run.other,
            percentile(&run.lags, 0.5),
            percentile(&run.lags, 0.9),
            percentile(&run.lags, 0.99),
            run.lags
                .last()
                .map(|l| if *l == i64::MAX {
                    "> 60 s".to_owned()
                } else {
                    l.to_string()
                })
                .unwrap_or_default(),
            run.lags.iter().filter(|l| **l >= 1000).count(),
            run.lags.len(),
        );
    }
    Ok(out)
}
