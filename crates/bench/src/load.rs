//! The one load generator every target is measured with: `connections` tasks, each with
//! its own keep-alive HTTP/1.1 connection, POST back to back (closed loop) through a warm-up
//! and then a fixed measuring window. Only responses that complete inside the window count.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::cpu::{CpuSample, Group};

#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub connections: usize,
    /// Distinct recipients; connection `c`'s `k`th request goes to `(c + k·connections) mod
    /// recipients`, so with one per connection each connection keeps to its own.
    pub recipients: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// Hard cap on requests started per target, warm-up included.
    pub max_requests: u64,
    /// A request that takes longer is counted as a timeout.
    pub timeout: Duration,
}

/// Where to send and how to authenticate.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The full send URL (`.../api/v1/subaccounts/{id}/messages`).
    pub url: String,
    pub api_key: Option<String>,
    /// Diagnosis: send a message of an unknown type, which Parley rejects with 400 after
    /// authenticating the caller and parsing the body, before it touches the message
    /// store; then the good answers are 400s.
    pub rejected: bool,
}

impl Endpoint {
    fn body(&self, recipient: usize) -> String {
        if self.rejected {
            rejected_body_for(recipient)
        } else {
            body_for(recipient)
        }
    }

    fn expected(&self) -> reqwest::StatusCode {
        if self.rejected {
            reqwest::StatusCode::BAD_REQUEST
        } else {
            reqwest::StatusCode::OK
        }
    }
}

/// What one target did under load.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Good answers (200s; 400s for a `rejected` endpoint) that completed inside the
    /// measuring window. Everything below that says "200" means these.
    pub ok_in_window: u64,
    /// The measuring window actually used (shorter when the request cap cut it).
    pub window: Duration,
    pub capped: bool,
    /// Latency percentiles of the 200s in the window, microseconds.
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    /// 200s over the whole run (warm-up and window).
    pub ok_total: u64,
    /// Everything that was not a good 200, over the whole run, by kind.
    pub errors: BTreeMap<String, u64>,
    /// The first failure seen, with its response body, for diagnosis.
    pub first_error: Option<String>,
    /// CPU used during the window, per process group.
    pub cpu: Vec<(String, f64)>,
    pub cpu_idle: f64,
}

impl LoadReport {
    pub fn rate(&self) -> f64 {
        if self.window.is_zero() {
            return 0.0;
        }
        self.ok_in_window as f64 / self.window.as_secs_f64()
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// The JSON body of a text message to recipient number `recipient`.
pub fn body_for(recipient: usize) -> String {
    serde_json::json!({
        "user": { "msisdn": msisdn_for(recipient) },
        "type": "text",
        "content": { "text": format!("benchmark message to recipient {recipient}") },
    })
    .to_string()
}

/// Like [`body_for`], with a message type that does not exist.
pub fn rejected_body_for(recipient: usize) -> String {
    serde_json::json!({
        "user": { "msisdn": msisdn_for(recipient) },
        "type": "bench-no-such-type",
        "content": { "text": format!("benchmark message to recipient {recipient}") },
    })
    .to_string()
}

pub fn msisdn_for(recipient: usize) -> String {
    format!("+1555{:07}", 1_234_567 + recipient % 8_000_000)
}

pub fn client(connections: usize, timeout: Duration) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_nodelay(true)
        .timeout(timeout)
        .no_proxy()
        .build()
        .context("building the HTTP client")
}

fn request(client: &reqwest::Client, endpoint: &Endpoint, body: &str) -> reqwest::RequestBuilder {
    let mut req = client
        .post(&endpoint.url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .body(body.to_owned());
    if let Some(key) = &endpoint.api_key {
        req = req.header(AUTHORIZATION, format!("Bearer {key}"));
    }
    req
}

/// One request with the whole answer checked; returns the parsed body. Used before the
/// load to prove the target works and to compare response shapes.
pub async fn probe(client: &reqwest::Client, endpoint: &Endpoint) -> Result<Value> {
    let response = request(client, endpoint, &endpoint.body(0))
        .send()
        .await
        .with_context(|| format!("POST {}", endpoint.url))?;
    let status = response.status();
    let text = response.text().await.context("reading the response")?;
    if status != endpoint.expected() {
        bail!("POST {} answered {status}: {text}", endpoint.url);
    }
    let body: Value = serde_json::from_str(&text).context("the response is not JSON")?;
    if endpoint.rejected {
        return Ok(body);
    }
    let queued = body.pointer("/status/state").and_then(Value::as_str) == Some("queued");
    let has_umid = body.get("umid").and_then(Value::as_str).is_some();
    let msisdn_echoed =
        body.pointer("/user/msisdn").and_then(Value::as_str) == Some(msisdn_for(0).as_str());
    if !(queued && has_umid && msisdn_echoed) {
        bail!("unexpected send response: {text}");
    }
    Ok(body)
}

/// A completed request: when it finished (µs after the start), how long it took (µs).
type Sample = (u64, u32);

struct Shared {
    started: AtomicU64,
    stop: AtomicBool,
    /// µs after the start at which the request cap was reached, or `u64::MAX`.
    cap_hit_at: AtomicU64,
    errors: Mutex<(BTreeMap<String, u64>, Option<String>)>,
}

pub async fn run(
    endpoint: &Endpoint,
    config: &LoadConfig,
    cpu_groups: &[Group],
) -> Result<LoadReport> {
    let client = client(config.connections, config.timeout)?;
    let shared = Arc::new(Shared {
        started: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        cap_hit_at: AtomicU64::new(u64::MAX),
        errors: Mutex::new((BTreeMap::new(), None)),
    });
    let t0 = Instant::now();
    let window_start = config.warmup;
    let window_end = config.warmup + config.duration;
    let mut tasks = Vec::with_capacity(config.connections);
    for connection in 0..config.connections {
        let client = client.clone();
        let endpoint = endpoint.clone();
        let shared = shared.clone();
        let max_requests = config.max_requests;
        let (connections, recipients) = (config.connections, config.recipients);
        // Bodies are made before the clock starts when they repeat; otherwise per request.
        let own_body = (recipients == connections).then(|| endpoint.body(connection));
        tasks.push(tokio::spawn(async move {
            let mut samples: Vec<Sample> = Vec::new();
            let mut ok_total = 0u64;
            let mut recipient = connection % recipients;
            loop {
                if shared.stop.load(Ordering::Relaxed) || t0.elapsed() >= window_end {
                    break;
                }
                if shared.started.fetch_add(1, Ordering::Relaxed) >= max_requests {
                    let at = t0.elapsed().as_micros() as u64;
                    shared.cap_hit_at.fetch_min(at, Ordering::Relaxed);
                    shared.stop.store(true, Ordering::Relaxed);
                    break;
                }
                let fresh;
                let body = match &own_body {
                    Some(body) => body.as_str(),
                    None => {
                        fresh = endpoint.body(recipient);
                        fresh.as_str()
                    }
                };
                recipient = (recipient + connections) % recipients;
                let sent = Instant::now();
                let outcome = send_one(&client, &endpoint, body).await;
                let done = t0.elapsed();
                match outcome {
                    Ok(()) => {
                        ok_total += 1;
                        if done >= window_start && done < window_end {
                            let latency = sent.elapsed().as_micros().min(u32::MAX as u128);
                            samples.push((done.as_micros() as u64, latency as u32));
                        }
                    }
                    Err((kind, detail)) => {
                        let mut errors = shared.errors.lock().await;
                        *errors.0.entry(kind).or_default() += 1;
                        if errors.1.is_none() {
                            errors.1 = Some(detail);
                        }
                    }
                }
            }
            (samples, ok_total)
        }));
    }

    // CPU accounting over the measuring window, sampled beside the load.
    let sampler = {
        let groups = cpu_groups.to_vec();
        let shared = shared.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until((t0 + window_start).into()).await;
            let before = CpuSample::take(&groups);
            // Wake early if the cap stops the run.
            let deadline = t0 + window_end;
            while Instant::now() < deadline && !shared.stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(50).min(deadline - Instant::now())).await;
            }
            let after = CpuSample::take(&groups);
            match (before, after) {
                (Ok(b), Ok(a)) => Some(b.usage_until(&a)),
                _ => None,
            }
        })
    };

    let mut samples = Vec::new();
    let mut ok_total = 0;
    for task in tasks {
        let (s, ok) = task.await.context("a load task panicked")?;
        samples.extend(s);
        ok_total += ok;
    }
    let cpu = sampler.await.context("the CPU sampler panicked")?;

    let cap_hit_at = shared.cap_hit_at.load(Ordering::Relaxed);
    let window_end_us = (window_end.as_micros() as u64).min(cap_hit_at);
    let window_start_us = window_start.as_micros() as u64;
    if window_end_us <= window_start_us {
        bail!(
            "the request cap ({}) was reached during the warm-up; raise --max-requests",
            config.max_requests
        );
    }
    let mut latencies: Vec<u32> = samples
        .iter()
        .filter(|(done, _)| *done >= window_start_us && *done < window_end_us)
        .map(|&(_, latency)| latency)
        .collect();
    latencies.sort_unstable();
    let pct = |p: f64| -> u64 {
        if latencies.is_empty() {
            return 0;
        }
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        u64::from(latencies[i])
    };
    let (errors, first_error) = std::mem::take(&mut *shared.errors.lock().await);
    let (cpu, cpu_idle) = cpu.unwrap_or_default();
    Ok(LoadReport {
        ok_in_window: latencies.len() as u64,
        window: Duration::from_micros(window_end_us - window_start_us),
        capped: cap_hit_at != u64::MAX,
        p50_us: pct(0.50),
        p90_us: pct(0.90),
        p99_us: pct(0.99),
        max_us: latencies.last().copied().map_or(0, u64::from),
        ok_total,
        errors,
        first_error,
        cpu,
        cpu_idle,
    })
}

/// One POST, read to the end. A good answer is a 200 whose body names a queued message
/// (or, for a `rejected` endpoint, a 400); anything else comes back as `(kind, detail)`.
async fn send_one(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    body: &str,
) -> std::result::Result<(), (String, String)> {
    let response = match request(client, endpoint, body).send().await {
        Ok(r) => r,
        Err(e) => return Err(classify(&e)),
    };
    let status = response.status();
    let bytes = match response.bytes().await {
        Ok(b) => b,
        Err(e) => return Err(classify(&e)),
    };
    if status != endpoint.expected() {
        return Err((
            format!("HTTP {}", status.as_u16()),
            format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes)),
        ));
    }
    if endpoint.rejected {
        return Ok(());
    }
    // A cheap check (the same for every target) that this is a send answer.
    if !contains(&bytes, b"\"queued\"") || !contains(&bytes, b"\"umid\"") {
        return Err((
            "200 without a queued message".to_owned(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn classify(e: &reqwest::Error) -> (String, String) {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect error"
    } else if e.is_body() || e.is_decode() {
        "body error"
    } else {
        "request error"
    };
    (kind.to_owned(), format!("{e:#}"))
}
