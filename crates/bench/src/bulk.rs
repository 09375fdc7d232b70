//! `parley-bench bulk`: bulk sending through `POST …/messages/batch`, on the real `parley`
//! binary (SQLite, or a durable PostgreSQL), in two measurements:
//!
//! - **accept**: how long Parley takes to accept a batch of 10,000 template messages
//!   (each to its own user) and answer with its counts, against the bare axum handler
//!   parsing the same body, measured in the same run. The dispatcher is slowed to one
//!   message a second so that it does not compete with the accepts for the machine.
//! - **send**: end to end, `messages` templates to as many users as back-to-back batches,
//!   from the first batch request until WhatsApp (the embedded simulator) has taken every
//!   one, with the number's throughput raised to `rate` in Parley's pacing and in the
//!   simulator, and the portfolio's messaging limit lifted. The ideal is `messages / rate`;
//!   the overhead is what Parley adds to it.
//!
//! "WhatsApp took it" is Parley's `parley_dispatch_sent_total`: counted when the Graph
//! API call answered with a message id, the moment the simulator has accepted the message.
//! Everything listens on `127.0.0.1`; every wait is bounded.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::body::Bytes;
use serde_json::{Value, json};

use crate::cpu::{CpuSample, Group};
use crate::targets::{self, BATCH_PATH, DurablePostgres, Parley};
use crate::webhooks::Database;

/// The template every message uses: `order_note`, UTILITY, one body parameter.
const TEMPLATE: &str = "order_note";
/// Most messages Parley takes in one batch (8x8's schema).
const MAX_BATCH: usize = 10_000;
/// Simulated users of each kind of batch, by index (`+1555` and seven digits).
const SEND_USERS: usize = 2_000_000;
const ACCEPT_USERS: usize = 3_000_000;
const WARMUP_USERS: usize = 4_000_000;
/// Messages of the batch each server gets before the timed ones (connections, caches).
const WARMUP_MESSAGES: usize = 10;
/// How often the send measurement reads Parley's counters.
const POLL_EVERY: Duration = Duration::from_millis(500);
/// The send measurement gives up when nothing moved for this long.
const STALL_LIMIT: Duration = Duration::from_secs(60);
/// How long to wait for every delivery receipt once everything was sent.
const DELIVERY_LIMIT: Duration = Duration::from_secs(120);
/// Users whose last message's state is read back after the send.
const STATE_SAMPLE: usize = 50;
/// Time given to the simulator's tier upgrade (a webhook to Parley) before sending.
const UPGRADE_SETTLE: Duration = Duration::from_secs(2);

#[derive(clap::Args, Debug)]
pub struct BulkArgs {
    /// Which measurements, in order: `accept` (time to accept a batch) and `send` (end to
    /// end at the number's throughput).
    #[arg(long, value_delimiter = ',', default_value = "accept,send")]
    measure: Vec<Measure>,
    /// Databases measured, in order.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    targets: Vec<Database>,
    /// Messages per batch (at most 10,000).
    #[arg(long, default_value_t = MAX_BATCH)]
    batch_size: usize,
    /// accept: timed batches per server, each to users of its own.
    #[arg(long, default_value_t = 5)]
    batches: usize,
    /// send: templates sent, each to its own user, as back-to-back batches.
    #[arg(long, default_value_t = 100_000)]
    messages: usize,
    /// send: the business number's throughput, messages per second (1 to 1,000), set in
    /// Parley's pacing and in the simulator.
    #[arg(long, default_value_t = 1000)]
    rate: u32,
    /// Seconds one batch request may take.
    #[arg(long, default_value_t = 120.0)]
    timeout: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Measure {
    Accept,
    Send,
}

/// The `+1555…` number of user `n`.
fn user(n: usize) -> String {
    format!("+1555{n:07}")
}

/// A batch of `count` `order_note` templates to users `first..first + count`, as a sender
/// writes it: the shared template names it, each message brings its user, its own id and
/// its body parameter.
pub(crate) fn batch_body(label: &str, first: usize, count: usize) -> Bytes {
    batch_body_to(label, (first..first + count).map(|n| (user(n), n)))
}

/// A batch of `order_note` templates, one to each `(msisdn, n)`, with `A-{n}` as the body
/// parameter.
pub(crate) fn batch_body_to(label: &str, users: impl Iterator<Item = (String, usize)>) -> Bytes {
    let messages: Vec<Value> = users
        .enumerate()
        .map(|(i, (msisdn, n))| {
            json!({
                "user": {"msisdn": msisdn},
                "clientMessageId": format!("{label}-{i}"),
                "content": {"template": {"components": [
                    {"type": "body", "parameters": [{"type": "text", "text": format!("A-{n}")}]}
                ]}},
            })
        })
        .collect();
    Bytes::from(
        json!({
            "clientBatchId": label,
            "template": {"type": "template",
                         "content": {"template": {"name": TEMPLATE, "language": "en"}}},
            "messages": messages,
            "includeMessagesInResponse": false,
        })
        .to_string(),
    )
}

/// A batch body and how many messages it holds.
#[derive(Clone)]
pub(crate) struct Batch {
    pub body: Bytes,
    pub count: usize,
}

/// Posts one batch and checks that every message was accepted; the time from sending the
/// request to having read the whole answer.
pub(crate) async fn post_batch(
    client: &reqwest::Client,
    url: &str,
    key: Option<&str>,
    batch: &Batch,
) -> Result<Duration> {
    let mut request = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(batch.body.clone());
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let started = Instant::now();
    let response = request
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let text = response.text().await.context("reading the batch answer")?;
    let took = started.elapsed();
    if status != reqwest::StatusCode::OK {
        bail!(
            "POST {url} answered {status}: {}",
            crate::truncate(&text, 300)
        );
    }
    let answer: Value = serde_json::from_str(&text).context("the batch answer is not JSON")?;
    if answer["acceptedCount"] != json!(batch.count) || answer["rejectedCount"] != json!(0) {
        bail!(
            "expected {} accepted and none rejected, got: {}",
            batch.count,
            crate::truncate(&text, 300)
        );
    }
    Ok(took)
}

pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .tcp_nodelay(true)
        .no_proxy()
        .build()
        .context("building the HTTP client")
}

/// Creates `order_note` through Parley's API, approves it in the simulator, and waits
/// until Parley has heard of the approval (the simulator's webhook).
pub(crate) async fn approved_template(client: &reqwest::Client, parley: &Parley) -> Result<()> {
    approved_template_via(client, parley, &parley.server.base_url).await
}

/// [`approved_template`] with the simulator served at `sim` (a node of its own).
pub(crate) async fn approved_template_via(
    client: &reqwest::Client,
    parley: &Parley,
    sim: &str,
) -> Result<()> {
    let base = &parley.server.base_url;
    let b = &parley.bootstrap;
    let templates = format!(
        "{base}/api/v1/accounts/{}/channels/{}/templates",
        b.account_id, b.channel_id
    );
    let created = client
        .post(&templates)
        .bearer_auth(&b.api_key)
        .json(
            &json!({"name": TEMPLATE, "language": "en", "category": "UTILITY",
                      "components": [{"type": "BODY", "text": "Your order {{1}} shipped.",
                                      "examples": ["A-1"]}]}),
        )
        .send()
        .await?;
    if !created.status().is_success() {
        bail!("creating the template: {}", created.text().await?);
    }
    let listed: Value = client
        .get(format!("{sim}/sim/api/templates?name={TEMPLATE}"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = listed["templates"]
        .as_array()
        .and_then(|all| all.iter().find(|t| t["language"] == "en"))
        .and_then(|t| t["id"].as_str())
        .with_context(|| format!("the simulator does not list {TEMPLATE}: {listed}"))?
        .to_owned();
    let approved = client
        .post(format!("{sim}/sim/api/templates/{id}/actions"))
        .json(&json!({"action": "approve"}))
        .send()
        .await?;
    // The simulator's own review may have decided first; what Parley shows decides.
    let approve_answer = (!approved.status().is_success()).then_some(approved.text().await?);
    let started = Instant::now();
    loop {
        let list: Value = client
            .get(&templates)
            .bearer_auth(&b.api_key)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let status = list["templates"]
            .as_array()
            .and_then(|all| all.iter().find(|t| t["templateName"] == TEMPLATE))
            .map(|t| t["status"].clone())
            .unwrap_or(Value::Null);
        if status == "APPROVED" {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!(
                "{TEMPLATE} is not APPROVED in Parley after 30 s (status {status}; approving \
                 answered {})",
                approve_answer.as_deref().unwrap_or("200")
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(crate) fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

pub(crate) fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `throughput` from a label set `{reason="throughput"}`; the label set otherwise.
fn reason(labels: &str) -> &str {
    labels
        .split_once("reason=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or(labels, |(reason, _)| reason)
}

/// CPU in cores per group, then idle, as one table cell.
pub(crate) fn cpu_cell(cpu: &Option<(Vec<(String, f64)>, f64)>) -> String {
    match cpu {
        Some((groups, idle)) => {
            let mut parts: Vec<String> = groups
                .iter()
                .filter(|(_, c)| *c >= 0.005)
                .map(|(l, c)| format!("{l} {c:.2}"))
                .collect();
            parts.push(format!("idle {idle:.2}"));
            parts.join(", ")
        }
        None => "–".into(),
    }
}

pub(crate) fn cpu_groups(
    parley: Option<&Parley>,
    pg: Option<&DurablePostgres>,
) -> Result<Vec<Group>> {
    let mut groups = Vec::new();
    if let Some(parley) = parley {
        groups.push(Group::Pid {
            label: "parley".into(),
            pid: parley.server.pid,
        });
    }
    if let Some(pg) = pg {
        groups.push(Group::Tree {
            label: "postgres".into(),
            root: pg.postmaster_pid()?,
        });
    }
    groups.push(Group::Pid {
        label: "bench".into(),
        pid: std::process::id(),
    });
    Ok(groups)
}

// ---------------------------------------------------------------------------------------
// accept

/// One server's timed batches.
struct AcceptRun {
    label: String,
    times: Vec<Duration>,
    cpu: Option<(Vec<(String, f64)>, f64)>,
    notes: Vec<String>,
}

/// Dispatcher settings for the accept measurement: one message a second, one at a time, so
/// that the accepts have the machine to themselves (the backlog stays queued).
pub(crate) fn quiet_dispatcher() -> Vec<(&'static str, String)> {
    vec![
        ("PARLEY_DISPATCH__THROUGHPUT_PER_NUMBER", "1".into()),
        ("PARLEY_DISPATCH__BATCH", "1".into()),
        ("PARLEY_DISPATCH__CONCURRENCY", "1".into()),
    ]
}

async fn accept_bare(bodies: &[Batch], warmup: &Batch, timeout: Duration) -> Result<AcceptRun> {
    let server = targets::spawn_bare().await?;
    let url = format!(
        "{}{}",
        server.base_url,
        BATCH_PATH.replace("{subAccountId}", "bench")
    );
    let result = async {
        let client = http_client(timeout)?;
        post_batch(&client, &url, None, warmup).await?;
        let groups = [
            Group::Pid {
                label: "bare".into(),
                pid: server.pid,
            },
            Group::Pid {
                label: "bench".into(),
                pid: std::process::id(),
            },
        ];
        let before = CpuSample::take(&groups)?;
        let mut times = Vec::new();
        for body in bodies {
            times.push(post_batch(&client, &url, None, body).await?);
        }
        let cpu = CpuSample::take(&groups)
            .ok()
            .map(|a| before.usage_until(&a));
        Ok::<_, anyhow::Error>(AcceptRun {
            label: "bare axum handler (parses the body)".into(),
            times,
            cpu,
            notes: Vec::new(),
        })
    }
    .await;
    server.stop().await;
    result
}

async fn accept_parley(
    database: Database,
    bin: &Path,
    pg: Option<&DurablePostgres>,
    bodies: &[Batch],
    warmup: &Batch,
    timeout: Duration,
) -> Result<AcceptRun> {
    let url = match pg {
        Some(pg) => Some(tokio::task::block_in_place(|| pg.fresh_database())?),
        None => None,
    };
    let parley = targets::spawn_parley_with(bin, url.as_deref(), &quiet_dispatcher()).await?;
    let result = async {
        let client = http_client(timeout)?;
        approved_template(&client, &parley).await?;
        let batch_url = format!(
            "{}{}",
            parley.server.base_url,
            BATCH_PATH.replace("{subAccountId}", &parley.bootstrap.sub_account_id)
        );
        let key = Some(parley.bootstrap.api_key.as_str());
        post_batch(&client, &batch_url, key, warmup).await?;
        let groups = cpu_groups(Some(&parley), pg)?;
        let before = CpuSample::take(&groups)?;
        let mut times = Vec::new();
        for (i, body) in bodies.iter().enumerate() {
            let took = post_batch(&client, &batch_url, key, body).await?;
            eprintln!("      batch {}: {}", i + 1, secs(took));
            times.push(took);
        }
        let cpu = CpuSample::take(&groups)
            .ok()
            .map(|a| before.usage_until(&a));
        let text = targets::metrics_text(&client, &parley.server.base_url).await?;
        let total: usize = bodies.iter().map(|b| b.count).sum::<usize>() + warmup.count;
        let accepted = targets::metric_sum(&text, "parley_messages_accepted_total") as usize;
        let mut notes = Vec::new();
        if accepted == total {
            notes.push(format!(
                "Parley's accepted counter matches the {total} messages (with the warm-up's)"
            ));
        } else {
            notes.push(format!(
                "Parley counted {accepted} accepted messages, the batches held {total}"
            ));
        }
        notes.push(format!(
            "dispatcher meanwhile (1 message/s, one at a time): {} sent, {} failed, {} held",
            targets::metric_sum(&text, "parley_dispatch_sent_total") as u64,
            targets::metric_sum(&text, "parley_dispatch_failed_total") as u64,
            targets::metric_sum(&text, "parley_dispatch_held_total") as u64,
        ));
        Ok::<_, anyhow::Error>(AcceptRun {
            label: format!("Parley, {database:?}"),
            times,
            cpu,
            notes,
        })
    }
    .await;
    if result.is_err() {
        eprintln!("parley's log ends:\n{}", parley.server.log_tail());
    }
    parley.stop().await;
    result
}

// ---------------------------------------------------------------------------------------
// send

/// Parley's dispatch counters at one moment of the send.
#[derive(Debug, Clone, Default)]
struct Sample {
    at: Duration,
    sent: u64,
    failed: u64,
    retried: u64,
    /// Held by Parley's pacer, by reason.
    held: Vec<(String, f64)>,
    /// WhatsApp said "too fast" (130429/131056), by reason.
    throttled: Vec<(String, f64)>,
}

impl Sample {
    fn read(text: &str, at: Duration) -> Self {
        Self {
            at,
            sent: targets::metric_sum(text, "parley_dispatch_sent_total") as u64,
            failed: targets::metric_sum(text, "parley_dispatch_failed_total") as u64,
            retried: targets::metric_sum(text, "parley_dispatch_retried_total") as u64,
            held: targets::metric_series(text, "parley_dispatch_held_total"),
            throttled: targets::metric_series(text, "parley_dispatch_throttled_total"),
        }
    }

    fn done(&self) -> u64 {
        self.sent + self.failed
    }

    fn held_total(&self) -> u64 {
        self.held.iter().map(|(_, v)| *v as u64).sum()
    }

    fn throttled_total(&self) -> u64 {
        self.throttled.iter().map(|(_, v)| *v as u64).sum()
    }
}

/// How the wait for the sends ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Every message sent or failed.
    Complete,
    /// Nothing moved for [`STALL_LIMIT`].
    Stalled,
    /// The overall time limit passed.
    TimedOut,
    /// The batches could not be sent.
    Aborted,
}

struct SendRun {
    database: Database,
    messages: usize,
    rate: u32,
    batch_size: usize,
    batch_times: Vec<Duration>,
    /// From the first batch request to the last batch answer.
    accepted_in: Duration,
    samples: Vec<Sample>,
    ending: Ending,
    /// When `sent + failed` first reached `messages` (or the last sample).
    finished_at: Duration,
    /// When every sent message was delivered, by Parley's usage report, if seen.
    delivered: Option<Duration>,
    delivered_note: Option<String>,
    cpu: Option<(Vec<(String, f64)>, f64)>,
    limits: Value,
    reach_after: Value,
    states: BTreeMap<String, usize>,
    error: Option<String>,
}

impl SendRun {
    fn last(&self) -> Sample {
        self.samples.last().cloned().unwrap_or_default()
    }

    /// When `sent` first reached `n`.
    fn sent_at(&self, n: u64) -> Option<Duration> {
        self.samples.iter().find(|s| s.sent >= n).map(|s| s.at)
    }
}

/// Reads Parley's counters every [`POLL_EVERY`] until every message is sent or failed,
/// nothing moves for [`STALL_LIMIT`] (once the batches are in), `stop` is set, or
/// `deadline` passes.
async fn poll_dispatch(
    client: reqwest::Client,
    base: String,
    t0: Instant,
    messages: u64,
    deadline: Instant,
    batches_in: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> (Vec<Sample>, Ending) {
    let mut samples: Vec<Sample> = Vec::new();
    let mut moved = Instant::now();
    let mut tick = tokio::time::interval(POLL_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if stop.load(Ordering::Relaxed) {
            return (samples, Ending::Aborted);
        }
        if let Ok(text) = targets::metrics_text(&client, &base).await {
            let sample = Sample::read(&text, t0.elapsed());
            if samples.last().is_none_or(|l| l.done() != sample.done()) {
                moved = Instant::now();
            }
            let complete = sample.done() >= messages;
            samples.push(sample);
            if complete {
                return (samples, Ending::Complete);
            }
        }
        if batches_in.load(Ordering::Relaxed) && moved.elapsed() > STALL_LIMIT {
            return (samples, Ending::Stalled);
        }
        if Instant::now() > deadline {
            return (samples, Ending::TimedOut);
        }
    }
}

/// Delivered messages this month by Parley's usage report (receipts from WhatsApp).
async fn delivered_count(client: &reqwest::Client, parley: &Parley) -> Result<u64> {
    let month = chrono::Utc::now().format("%Y-%m");
    let report: Value = client
        .get(format!(
            "{}/api/v1/accounts/{}/usage/messages?billingPeriod={month}",
            parley.server.base_url, parley.bootstrap.account_id
        ))
        .bearer_auth(&parley.bootstrap.api_key)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(report["data"]
        .as_array()
        .context("the usage report has no data")?
        .iter()
        .filter_map(|g| g.pointer("/volume/delivered").and_then(Value::as_u64))
        .sum())
}

/// The state of the last message of `STATE_SAMPLE` users spread over the send.
async fn sample_states(
    client: &reqwest::Client,
    parley: &Parley,
    messages: usize,
) -> BTreeMap<String, usize> {
    let mut states = BTreeMap::new();
    let step = (messages / STATE_SAMPLE).max(1);
    for i in (0..messages).step_by(step).take(STATE_SAMPLE) {
        let url = format!(
            "{}/api/v1/subaccounts/{}/messages",
            parley.server.base_url, parley.bootstrap.sub_account_id
        );
        let answer = client
            .get(&url)
            .query(&[("msisdn", user(SEND_USERS + i).as_str()), ("limit", "1")])
            .bearer_auth(&parley.bootstrap.api_key)
            .send()
            .await;
        let key = match answer {
            Ok(r) => match r.json::<Value>().await {
                Ok(body) => {
                    let status = &body["data"][0]["status"];
                    match status["errorCode"].as_u64() {
                        Some(code) => format!(
                            "{} {code} ({})",
                            status["state"].as_str().unwrap_or("?"),
                            crate::truncate(status["errorMessage"].as_str().unwrap_or(""), 120)
                        ),
                        None => status["state"].as_str().unwrap_or("no message").to_owned(),
                    }
                }
                Err(e) => format!("unreadable answer: {e}"),
            },
            Err(e) => format!("request failed: {e}"),
        };
        *states.entry(key).or_default() += 1;
    }
    states
}

async fn send_parley(
    database: Database,
    bin: &Path,
    pg: Option<&DurablePostgres>,
    args: &BulkArgs,
) -> Result<SendRun> {
    let url = match pg {
        Some(pg) => Some(tokio::task::block_in_place(|| pg.fresh_database())?),
        None => None,
    };
    let env = [(
        "PARLEY_DISPATCH__THROUGHPUT_PER_NUMBER",
        args.rate.to_string(),
    )];
    let parley = targets::spawn_parley_with(bin, url.as_deref(), &env).await?;
    let result = drive_send(database, &parley, pg, args).await;
    if result
        .as_ref()
        .map_or(true, |r| r.ending != Ending::Complete)
    {
        eprintln!("parley's log ends:\n{}", parley.server.log_tail());
    }
    parley.stop().await;
    result
}

async fn drive_send(
    database: Database,
    parley: &Parley,
    pg: Option<&DurablePostgres>,
    args: &BulkArgs,
) -> Result<SendRun> {
    let base = parley.server.base_url.clone();
    let client = http_client(Duration::from_secs_f64(args.timeout))?;
    approved_template(&client, parley).await?;
    let limits = client
        .post(format!(
            "{base}/sim/api/businesses/{}/limits",
            parley.bootstrap.channel_id
        ))
        .json(&json!({"throughput": args.rate, "messagingLimit": "TIER_UNLIMITED"}))
        .send()
        .await?;
    if !limits.status().is_success() {
        bail!("setting the simulator's limits: {}", limits.text().await?);
    }
    let limits: Value = limits.json().await?;
    if limits["throughput"] != json!(args.rate) || limits["messagingLimit"] != "TIER_UNLIMITED" {
        bail!("the simulator did not take the limits: {limits}");
    }
    // The new tier reaches Parley as a webhook (phone_number_quality_update, UPGRADE).
    tokio::time::sleep(UPGRADE_SETTLE).await;

    // Bodies are made before the clock starts.
    let batches: Vec<Batch> = (0..args.messages)
        .step_by(args.batch_size)
        .enumerate()
        .map(|(b, first)| {
            let count = args.batch_size.min(args.messages - first);
            Batch {
                body: batch_body(&format!("bench-send-{b}"), SEND_USERS + first, count),
                count,
            }
        })
        .collect();
    let batch_url = format!(
        "{base}{}",
        BATCH_PATH.replace("{subAccountId}", &parley.bootstrap.sub_account_id)
    );
    let ideal = Duration::from_secs_f64(args.messages as f64 / f64::from(args.rate));
    let groups = cpu_groups(Some(parley), pg)?;
    let batches_in = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));

    let cpu_before = CpuSample::take(&groups)?;
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(120) + ideal * 4;
    let poller = tokio::spawn(poll_dispatch(
        http_client(Duration::from_secs(10))?,
        base.clone(),
        t0,
        args.messages as u64,
        deadline,
        batches_in.clone(),
        stop.clone(),
    ));
    let mut batch_times = Vec::new();
    let mut error = None;
    for (i, batch) in batches.iter().enumerate() {
        match post_batch(&client, &batch_url, Some(&parley.bootstrap.api_key), batch).await {
            Ok(took) => {
                eprintln!(
                    "      batch {}/{}: {} (t = {})",
                    i + 1,
                    batches.len(),
                    secs(took),
                    secs(t0.elapsed())
                );
                batch_times.push(took);
            }
            Err(e) => {
                error = Some(format!("batch {} failed: {e:#}", i + 1));
                stop.store(true, Ordering::Relaxed);
                break;
            }
        }
    }
    let accepted_in = t0.elapsed();
    batches_in.store(true, Ordering::Relaxed);
    let (samples, ending) = poller.await.context("the counter poller panicked")?;
    let cpu = CpuSample::take(&groups)
        .ok()
        .map(|a| cpu_before.usage_until(&a));
    let finished_at = samples.last().map_or(t0.elapsed(), |s| s.at);
    let sent = samples.last().map_or(0, |s| s.sent);
    eprintln!("      {ending:?} at {}: {sent} sent", secs(finished_at));

    // Delivery receipts, once everything went out (so the reports do not compete).
    let mut delivered = None;
    let mut delivered_note = None;
    if ending == Ending::Complete && sent > 0 {
        let until = Instant::now() + DELIVERY_LIMIT;
        loop {
            match delivered_count(&client, parley).await {
                Ok(n) if n >= sent => {
                    delivered = Some(t0.elapsed());
                    break;
                }
                Ok(n) if Instant::now() > until => {
                    delivered_note = Some(format!(
                        "{n} of {sent} delivered {} s after the last send",
                        DELIVERY_LIMIT.as_secs()
                    ));
                    break;
                }
                Ok(_) => tokio::time::sleep(POLL_EVERY).await,
                Err(e) => {
                    delivered_note = Some(format!("usage report unavailable: {e:#}"));
                    break;
                }
            }
        }
    }
    let reach_after = client
        .get(format!(
            "{base}/sim/api/businesses/{}/limits",
            parley.bootstrap.channel_id
        ))
        .send()
        .await?
        .json::<Value>()
        .await
        .map(|l| l["reach"].clone())
        .unwrap_or(Value::Null);
    let states = sample_states(&client, parley, args.messages).await;
    Ok(SendRun {
        database,
        messages: args.messages,
        rate: args.rate,
        batch_size: args.batch_size,
        batch_times,
        accepted_in,
        samples,
        ending,
        finished_at,
        delivered,
        delivered_note,
        cpu,
        limits,
        reach_after,
        states,
        error,
    })
}

// ---------------------------------------------------------------------------------------
// run and report

/// Runs the measurements; the Markdown report, `header` (the machine) under its title.
pub async fn run(bin: &Path, args: &BulkArgs, header: &str) -> Result<String> {
    if !(1..=MAX_BATCH).contains(&args.batch_size) {
        bail!("--batch-size must be 1 to {MAX_BATCH}");
    }
    if args.batches == 0 || args.batches * args.batch_size > 1_000_000 {
        bail!("--batches must be positive, and at most 1,000,000 messages in all");
    }
    if !(1..=1_000_000).contains(&args.messages) {
        bail!("--messages must be 1 to 1,000,000");
    }
    if !(1..=1000).contains(&args.rate) {
        bail!("--rate must be 1 to 1,000 (WhatsApp's highest throughput)");
    }
    if args.timeout <= 0.0 || args.measure.is_empty() || args.targets.is_empty() {
        bail!("--timeout, --measure and --targets must not be empty or zero");
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    let accept = args.measure.contains(&Measure::Accept);
    let send = args.measure.contains(&Measure::Send);
    let bodies: Vec<Batch> = if accept {
        (0..args.batches)
            .map(|b| Batch {
                body: batch_body(
                    &format!("bench-accept-{b}"),
                    ACCEPT_USERS + b * args.batch_size,
                    args.batch_size,
                ),
                count: args.batch_size,
            })
            .collect()
    } else {
        Vec::new()
    };
    let warmup = Batch {
        body: batch_body("bench-warmup", WARMUP_USERS, WARMUP_MESSAGES),
        count: WARMUP_MESSAGES,
    };

    let mut accepts = Vec::new();
    let mut sends = Vec::new();
    let mut pg_versions = Vec::new();
    if accept {
        eprintln!("bulk accept: bare …");
        accepts.push(accept_bare(&bodies, &warmup, timeout).await?);
    }
    for database in &args.targets {
        let pg = match database {
            Database::Postgres => {
                let pg = tokio::task::spawn_blocking(targets::start_durable_postgres).await??;
                pg_versions.push(format!(
                    "PostgreSQL {} (throwaway cluster, a fresh database per server): {}",
                    pg.version, pg.settings
                ));
                Some(pg)
            }
            Database::Sqlite => None,
        };
        let measured = async {
            if accept {
                eprintln!("bulk accept: {database:?} …");
                let run = accept_parley(*database, bin, pg.as_ref(), &bodies, &warmup, timeout);
                accepts.push(run.await?);
                eprintln!("bulk accept: bare …");
                accepts.push(accept_bare(&bodies, &warmup, timeout).await?);
            }
            if send {
                eprintln!(
                    "bulk send: {database:?}, {} messages at {}/s …",
                    args.messages, args.rate
                );
                sends.push(send_parley(*database, bin, pg.as_ref(), args).await?);
            }
            Ok::<_, anyhow::Error>(())
        }
        .await;
        if let Some(pg) = pg {
            // pg_ctl stop blocks.
            tokio::task::spawn_blocking(move || drop(pg)).await?;
        }
        measured?;
    }

    let mut out = String::new();
    let _ = writeln!(out, "### Bulk sending (`POST …/messages/batch`)\n");
    out.push_str(header);
    for v in &pg_versions {
        let _ = writeln!(out, "- {v}");
    }
    let passed: Vec<String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("PARLEY_"))
        .map(|(k, v)| format!("`{k}={v}`"))
        .collect();
    if !passed.is_empty() {
        let _ = writeln!(
            out,
            "- configuration passed through to every `parley` (the measurements' own \
             settings below win): {}",
            passed.join(" ")
        );
    }
    let _ = writeln!(out);
    if accept {
        render_accept(&mut out, &accepts, args);
    }
    if send {
        render_send(&mut out, &sends);
    }
    Ok(out)
}

fn render_accept(out: &mut String, runs: &[AcceptRun], args: &BulkArgs) {
    let bare: Vec<f64> = runs
        .iter()
        .filter(|r| r.label.starts_with("bare"))
        .map(|r| median(&r.times).as_secs_f64())
        .collect();
    let bare = bare.iter().sum::<f64>() / bare.len().max(1) as f64;
    let _ = writeln!(
        out,
        "#### Accepting a batch of {} template messages\n",
        thousands(args.batch_size as u64)
    );
    let _ = writeln!(
        out,
        "- each server gets a warm-up batch of {WARMUP_MESSAGES}, then {} batches of {} \
         `{TEMPLATE}` templates back to back, every message to a user of its own (the shared \
         `template` names it, each item brings its body parameter and a `clientMessageId`); \
         the time is from sending the request to having read the answer \
         (`{{batchId, acceptedCount, rejectedCount}}`, every message accepted)",
        args.batches,
        thousands(args.batch_size as u64)
    );
    let _ = writeln!(
        out,
        "- Parley's dispatcher is held to 1 message/s, one at a time \
         (`PARLEY_DISPATCH__THROUGHPUT_PER_NUMBER=1`, `__BATCH=1`, `__CONCURRENCY=1`), so the \
         backlog stays queued and does not compete with the accepts"
    );
    let _ = writeln!(
        out,
        "- the baseline is the bare axum handler parsing the same bodies into a \
         `serde_json::Value` and answering the counts, measured before and after each \
         database\n"
    );
    let _ = writeln!(
        out,
        "| # | server | median | min | max | messages/s (median) | vs bare | CPU during the batches (cores) |"
    );
    let _ = writeln!(out, "|---|---|--:|--:|--:|--:|--:|---|");
    for (i, run) in runs.iter().enumerate() {
        let m = median(&run.times);
        let min = run.times.iter().min().copied().unwrap_or_default();
        let max = run.times.iter().max().copied().unwrap_or_default();
        let ratio = if bare > 0.0 {
            format!("{:.1}×", m.as_secs_f64() / bare)
        } else {
            "n/a".into()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {ratio} | {} |",
            i + 1,
            run.label,
            secs(m),
            secs(min),
            secs(max),
            thousands((args.batch_size as f64 / m.as_secs_f64().max(1e-9)) as u64),
            cpu_cell(&run.cpu),
        );
    }
    let _ = writeln!(
        out,
        "\n\"vs bare\" is the median time divided by the mean of the bare medians ({:.3} s).\n",
        bare
    );
    let _ = writeln!(out, "Each batch, in order:\n");
    for (i, run) in runs.iter().enumerate() {
        let times: Vec<String> = run
            .times
            .iter()
            .map(|t| format!("{:.3}", t.as_secs_f64()))
            .collect();
        let _ = writeln!(out, "- #{} {}: {} s", i + 1, run.label, times.join(", "));
        for note in &run.notes {
            let _ = writeln!(out, "  - {note}");
        }
    }
    let _ = writeln!(out);
}

fn render_send(out: &mut String, runs: &[SendRun]) {
    let Some(first) = runs.first() else {
        return;
    };
    let _ = writeln!(
        out,
        "#### End to end: {} templates to {} users at {}/s\n",
        thousands(first.messages as u64),
        thousands(first.messages as u64),
        thousands(u64::from(first.rate))
    );
    let _ = writeln!(
        out,
        "- the number's throughput is raised in both places: Parley's pacing \
         (`PARLEY_DISPATCH__THROUGHPUT_PER_NUMBER={}`) and the simulator \
         (`POST /sim/api/businesses/{{channelId}}/limits {{\"throughput\": {}, \
         \"messagingLimit\": \"TIER_UNLIMITED\"}}`, then {} s for the UPGRADE webhook to \
         reach Parley); Parley's other dispatch settings as configured (defaults: 128 claimed \
         a round, 32 calls in flight); the simulator's phones acknowledge after ~1 s and read \
         after ~3 s (defaults), so receipts flow back while Parley sends",
        first.rate,
        first.rate,
        UPGRADE_SETTLE.as_secs()
    );
    let _ = writeln!(
        out,
        "- the messages go as back-to-back batches of up to {} (`{TEMPLATE}`, one user each); \
         the clock runs from the first batch request to the moment Parley's \
         `parley_dispatch_sent_total` (counted when the simulator's Graph API answered with \
         a message id: WhatsApp took it) plus `parley_dispatch_failed_total` reached the \
         message count, read from `/metrics` every {} ms (so ±{} ms)",
        thousands(MAX_BATCH as u64),
        POLL_EVERY.as_millis(),
        POLL_EVERY.as_millis()
    );
    let _ = writeln!(
        out,
        "- \"delivered\": Parley's usage report (`GET …/usage/messages`, delivered volume) \
         read every {} ms once everything was sent\n",
        POLL_EVERY.as_millis()
    );
    let _ = writeln!(
        out,
        "| database | sent / messages | batches accepted in | first sent at | all taken by WhatsApp at | ideal | overhead | steady rate (10–90 %) | all delivered at | held by Parley's pacer | throttled by WhatsApp | failed |"
    );
    let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for run in runs {
        let last = run.last();
        let ideal = run.messages as f64 / f64::from(run.rate);
        let total = run.finished_at.as_secs_f64();
        let complete = run.ending == Ending::Complete && last.failed == 0;
        let (taken, overhead) = if complete {
            (
                format!("**{total:.1} s**"),
                format!(
                    "{:+.1} s ({:+.1} %)",
                    total - ideal,
                    100.0 * (total - ideal) / ideal
                ),
            )
        } else {
            (format!("{:?} at {total:.1} s", run.ending), "n/a".into())
        };
        let n = run.messages as u64;
        let steady = match (run.sent_at(n / 10), run.sent_at(n * 9 / 10)) {
            (Some(a), Some(b)) if b > a => format!(
                "{:.0}/s",
                (n * 9 / 10 - n / 10) as f64 / (b - a).as_secs_f64()
            ),
            _ => "–".into(),
        };
        let delivered = match (&run.delivered, &run.delivered_note) {
            (Some(at), _) => format!("{:.1} s", at.as_secs_f64()),
            (None, Some(note)) => note.clone(),
            (None, None) => "–".into(),
        };
        let by_reason = |series: &[(String, f64)]| {
            let total: f64 = series.iter().map(|(_, v)| v).sum();
            if total == 0.0 {
                return "0".to_owned();
            }
            series
                .iter()
                .filter(|(_, v)| *v > 0.0)
                .map(|(l, v)| format!("{v:.0} {}", reason(l)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "| {:?} | {} / {} | {:.1} s ({} × ≤ {}) | {} | {taken} | {ideal:.1} s | {overhead} | {steady} | {delivered} | {} | {} | {} |",
            run.database,
            thousands(last.sent),
            thousands(n),
            run.accepted_in.as_secs_f64(),
            run.batch_times.len(),
            thousands(run.batch_size as u64),
            run.samples
                .iter()
                .find(|s| s.sent > 0)
                .map_or("–".into(), |s| format!("{:.1} s", s.at.as_secs_f64())),
            by_reason(&last.held),
            by_reason(&last.throttled),
            last.failed,
        );
    }
    let _ = writeln!(out);
    for run in runs {
        let last = run.last();
        let _ = writeln!(out, "{:?}:\n", run.database);
        if let Some(e) = &run.error {
            let _ = writeln!(out, "- **{e}**");
        }
        let times: Vec<String> = run
            .batch_times
            .iter()
            .map(|t| format!("{:.2}", t.as_secs_f64()))
            .collect();
        let _ = writeln!(out, "- each batch took: {} s", times.join(", "));
        let _ = writeln!(
            out,
            "- CPU from the first batch to the last send (cores): {}",
            cpu_cell(&run.cpu)
        );
        let _ = writeln!(
            out,
            "- retried (WhatsApp busy, not a throttle): {}; the simulator's limits as set: \
             throughput {}, {}; its reach afterwards: {}",
            last.retried, run.limits["throughput"], run.limits["messagingLimit"], run.reach_after
        );
        let states: Vec<String> = run
            .states
            .iter()
            .map(|(state, n)| format!("{n} {state}"))
            .collect();
        let _ = writeln!(
            out,
            "- last message of {} users spread over the send, read back at the end: {}",
            run.states.values().sum::<usize>(),
            states.join(", ")
        );
        let _ = writeln!(
            out,
            "\n| t | sent | sent/s since the row before | held | throttled | failed |"
        );
        let _ = writeln!(out, "|--:|--:|--:|--:|--:|--:|");
        let ideal = run.messages as f64 / f64::from(run.rate);
        let step = Duration::from_secs_f64((ideal / 10.0).max(1.0).round());
        let mut previous = Sample::default();
        let mut next = step;
        for (i, s) in run.samples.iter().enumerate() {
            let is_last = i + 1 == run.samples.len();
            if s.at < next && !is_last {
                continue;
            }
            while next <= s.at {
                next += step;
            }
            let span = (s.at - previous.at).as_secs_f64().max(1e-9);
            let _ = writeln!(
                out,
                "| {:.1} s | {} | {:.0} | {} | {} | {} |",
                s.at.as_secs_f64(),
                thousands(s.sent),
                (s.sent - previous.sent) as f64 / span,
                s.held_total(),
                s.throttled_total(),
                s.failed
            );
            previous = s.clone();
        }
        let _ = writeln!(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_body_is_what_parley_expects() {
        let body: Value = serde_json::from_slice(&batch_body("b-1", 2_000_000, 3)).unwrap();
        assert_eq!(body["messages"].as_array().unwrap().len(), 3);
        assert_eq!(body["template"]["content"]["template"]["name"], TEMPLATE);
        let second = &body["messages"][1];
        assert_eq!(second["user"]["msisdn"], "+15552000001");
        assert_eq!(second["clientMessageId"], "b-1-1");
        assert_eq!(
            second["content"]["template"]["components"][0]["parameters"][0]["text"],
            "A-2000001"
        );
        assert_eq!(body["includeMessagesInResponse"], false);
    }

    #[test]
    fn the_bare_batch_handler_counts_the_messages() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let body = serde_json::from_slice(&batch_body("b", 0, 7)).unwrap();
        let axum::Json(answer) = rt.block_on(targets::bare_batch_handler(axum::Json(body)));
        assert_eq!(answer["acceptedCount"], 7);
        assert_eq!(answer["rejectedCount"], 0);
    }

    #[test]
    fn series_are_read_by_label() {
        let text = "# TYPE parley_dispatch_held_total counter\n\
                    parley_dispatch_held_total{reason=\"throughput\"} 12\n\
                    parley_dispatch_held_total{reason=\"pair_rate\"} 3\n\
                    parley_dispatch_held_total_other 99\n\
                    parley_dispatch_sent_total 40\n";
        assert_eq!(
            targets::metric_sum(text, "parley_dispatch_held_total"),
            15.0
        );
        assert_eq!(
            targets::metric_sum(text, "parley_dispatch_sent_total"),
            40.0
        );
        assert_eq!(
            targets::metric_series(text, "parley_dispatch_held_total")[0],
            ("{reason=\"throughput\"}".to_owned(), 12.0)
        );
        assert_eq!(reason("{reason=\"pair_rate\"}"), "pair_rate");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(999), "999");
    }
}
