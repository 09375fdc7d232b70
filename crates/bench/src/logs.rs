//! `parley-bench logs`: the message log at a million messages, on the real `parley` binary
//! (SQLite, or a durable PostgreSQL).
//!
//! Each server is first filled with `messages` templates through `POST …/messages/batch`
//! (10,000 a batch, the dispatcher slowed to one message a second so they stay queued and
//! nothing competes with the measurements), to users in three countries, one in a hundred
//! to a single busy user. Then:
//!
//! - **export**: one 8x8 log export of every message (`POST …/messages/exports`, polled
//!   until it succeeded), its file downloaded and counted, against compressing the same
//!   CSV in this process at the same gzip level;
//! - **pages**: `GET /api/v1/accounts/{id}/messages` with each filter the console offers,
//!   the first page and the `deep_page`-th (reached by following `nextCursor`), each
//!   requested `samples` times one after the other, against the bare axum handler answering
//!   a page of the same size from memory, measured in the same run; after the export
//!   (see `STATISTICS_SETTLE`).
//!
//! Everything listens on `127.0.0.1`; every wait is bounded.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde_json::Value;

use crate::bulk::{self, Batch};
use crate::targets::{self, BATCH_PATH, DurablePostgres, LOG_PATH, Parley};
use crate::webhooks::Database;

/// Most messages Parley takes in one batch.
const BATCH: usize = 10_000;
/// The user who gets one message in a hundred.
const BUSY_USER: &str = "+15550000000";
/// Time given to the housekeeping round after the export (it refreshes the statistics).
const STATISTICS_SETTLE: Duration = Duration::from_secs(2);
/// How often an export's status is read.
const EXPORT_POLL: Duration = Duration::from_millis(100);

#[derive(clap::Args, Debug)]
pub struct LogArgs {
    /// Databases measured, in order.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    targets: Vec<Database>,
    /// Messages in the log (a multiple of 10,000).
    #[arg(long, default_value_t = 1_000_000)]
    messages: usize,
    /// Timed requests per page measured.
    #[arg(long, default_value_t = 30)]
    samples: usize,
    /// Rows per page (the console's page).
    #[arg(long, default_value_t = 50)]
    page_size: u32,
    /// The deep page measured besides the first.
    #[arg(long, default_value_t = 100)]
    deep_page: usize,
    /// Seconds the export may take.
    #[arg(long, default_value_t = 900.0)]
    export_timeout: f64,
}

/// User `n`'s number: one in a hundred is the busy user; of the rest, half are in the US,
/// a quarter in the UK and a quarter in Singapore.
fn log_user(n: usize) -> String {
    if n.is_multiple_of(100) {
        return BUSY_USER.to_owned();
    }
    match n % 4 {
        2 => format!("+4477{n:08}"),
        3 => format!("+658{n:07}"),
        _ => format!("+1555{n:07}"),
    }
}

/// One filter of the log, as a query string (without `pageSize` and `cursor`).
struct Case {
    label: String,
    query: String,
}

/// The timings of one page, `samples` requests.
struct PageTimes {
    times: Vec<Duration>,
    rows: usize,
    bytes: usize,
}

impl PageTimes {
    fn median(&self) -> Duration {
        bulk::median(&self.times)
    }

    fn p95(&self) -> Duration {
        let mut sorted = self.times.clone();
        sorted.sort_unstable();
        let at = (sorted.len() * 95).div_ceil(100).saturating_sub(1);
        sorted.get(at).copied().unwrap_or_default()
    }
}

struct CaseRun {
    case: Case,
    first: PageTimes,
    /// `None` when the filter has fewer pages.
    deep: Option<PageTimes>,
}

struct ExportRun {
    took: Duration,
    rows: usize,
    gzip_bytes: usize,
    csv_bytes: usize,
    /// Compressing the same CSV here at the export's level (the baseline).
    gzip_alone: Duration,
    rss_before_kib: Option<u64>,
    peak_rss_kib: Option<u64>,
}

struct DatabaseRun {
    database: Database,
    seeding: Duration,
    cases: Vec<CaseRun>,
    export: ExportRun,
    cpu: Option<(Vec<(String, f64)>, f64)>,
}

/// Requests one page; the time to the whole answer, the answer, and its size.
async fn get_page(
    client: &reqwest::Client,
    url: &str,
    key: Option<&str>,
) -> Result<(Duration, Value, usize)> {
    let mut request = client.get(url);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let started = Instant::now();
    let response = request.send().await.with_context(|| format!("GET {url}"))?;
    let status = response.status();
    let body = response.bytes().await.context("reading the page")?;
    let took = started.elapsed();
    if !status.is_success() {
        bail!(
            "GET {url} answered {status}: {}",
            crate::truncate(&String::from_utf8_lossy(&body), 300)
        );
    }
    let page: Value = serde_json::from_slice(&body).context("the page is not JSON")?;
    Ok((took, page, body.len()))
}

/// Requests `url` once to warm up, then `samples` times.
async fn time_page(
    client: &reqwest::Client,
    url: &str,
    key: Option<&str>,
    samples: usize,
) -> Result<PageTimes> {
    let (_, page, bytes) = get_page(client, url, key).await?;
    let rows = page["data"].as_array().map_or(0, Vec::len);
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        times.push(get_page(client, url, key).await?.0);
    }
    Ok(PageTimes { times, rows, bytes })
}

/// Follows `nextCursor` from the first page to the `n`-th; its URL, if it exists.
async fn deep_page_url(
    client: &reqwest::Client,
    first: &str,
    key: &str,
    n: usize,
) -> Result<Option<String>> {
    let mut url = first.to_owned();
    for _ in 1..n {
        let (_, page, _) = get_page(client, &url, Some(key)).await?;
        let Some(cursor) = page["nextCursor"].as_str() else {
            return Ok(None);
        };
        url = format!("{first}&cursor={}", encode(cursor));
    }
    Ok(Some(url))
}

/// Percent-encodes a query value (cursors and numbers carry `+`, `=` and `/`).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Fills the log: `messages` templates in batches of 10,000; the time it took, and the
/// time range that holds exactly the middle batch.
async fn seed(
    client: &reqwest::Client,
    parley: &Parley,
    messages: usize,
) -> Result<(Duration, (String, String))> {
    let url = format!(
        "{}{}",
        parley.server.base_url,
        BATCH_PATH.replace("{subAccountId}", &parley.bootstrap.sub_account_id)
    );
    let key = Some(parley.bootstrap.api_key.as_str());
    let batches = messages / BATCH;
    let middle = batches / 2;
    let mut window = (String::new(), String::new());
    let started = Instant::now();
    for b in 0..batches {
        let first = b * BATCH;
        let batch = Batch {
            body: bulk::batch_body_to(
                &format!("logs-{b}"),
                (first..first + BATCH).map(|n| (log_user(n), n)),
            ),
            count: BATCH,
        };
        // Parley stamps messages in milliseconds: a millisecond's margin on each side
        // keeps the neighbouring batches out.
        if b == middle {
            tokio::time::sleep(Duration::from_millis(5)).await;
            window.0 = now_iso();
        }
        bulk::post_batch(client, &url, key, &batch).await?;
        if b == middle {
            window.1 = now_iso();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if (b + 1) % 10 == 0 {
            eprintln!(
                "      {} messages stored, {}",
                bulk::thousands(((b + 1) * BATCH) as u64),
                bulk::secs(started.elapsed())
            );
        }
    }
    Ok((started.elapsed(), window))
}

fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The filters measured.
fn cases(parley: &Parley, window: &(String, String)) -> Vec<Case> {
    let case = |label: &str, query: String| Case {
        label: label.to_owned(),
        query,
    };
    vec![
        case("none (the whole account)", String::new()),
        case(
            "subaccount (all of them)",
            format!("subAccountId={}", parley.bootstrap.sub_account_id),
        ),
        case("country SG (a quarter)", "country=SG".into()),
        case(
            "recipient, the busy user (1 %)",
            format!("recipient={}", encode(BUSY_USER)),
        ),
        case(
            "time range of one batch (1 %)",
            format!("from={}&to={}", encode(&window.0), encode(&window.1)),
        ),
        case(
            "clientMessageId (one message)",
            format!("clientMessageId=logs-{}-17", 3),
        ),
        case(
            "status undelivered (none match)",
            "status=undelivered".into(),
        ),
        case("direction inbound (none match)", "direction=inbound".into()),
    ]
}

async fn measure_pages(
    client: &reqwest::Client,
    parley: &Parley,
    cases: Vec<Case>,
    args: &LogArgs,
) -> Result<Vec<CaseRun>> {
    let base = format!(
        "{}{}?pageSize={}",
        parley.server.base_url,
        LOG_PATH.replace("{accountId}", &parley.bootstrap.account_id),
        args.page_size
    );
    let key = parley.bootstrap.api_key.as_str();
    let mut runs = Vec::new();
    for case in cases {
        let first_url = if case.query.is_empty() {
            base.clone()
        } else {
            format!("{base}&{}", case.query)
        };
        let first = time_page(client, &first_url, Some(key), args.samples).await?;
        let deep = match deep_page_url(client, &first_url, key, args.deep_page).await? {
            Some(url) => Some(time_page(client, &url, Some(key), args.samples).await?),
            None => None,
        };
        eprintln!(
            "      {}: first page {}, page {} {}",
            case.label,
            ms(first.median()),
            args.deep_page,
            deep.as_ref().map_or("–".into(), |d| ms(d.median()))
        );
        runs.push(CaseRun { case, first, deep });
    }
    Ok(runs)
}

/// Starts an export of the whole log, waits until it succeeded, downloads and checks it.
async fn measure_export(
    client: &reqwest::Client,
    parley: &Parley,
    messages: usize,
    timeout: Duration,
) -> Result<ExportRun> {
    let b = &parley.bootstrap;
    let exports = format!(
        "{}/api/v1/subaccounts/{}/messages/exports",
        parley.server.base_url, b.sub_account_id
    );
    let rss_before_kib = memory_kib(parley.server.pid, "VmRSS");
    let started = Instant::now();
    let created = client.post(&exports).bearer_auth(&b.api_key).send().await?;
    if created.status() != reqwest::StatusCode::ACCEPTED {
        bail!("starting the export: {}", created.text().await?);
    }
    let job: Value = created.json().await?;
    let job_id = job["jobId"].as_str().context("no jobId")?.to_owned();
    let link = loop {
        let status: Value = client
            .get(format!("{exports}/{job_id}"))
            .bearer_auth(&b.api_key)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        match status["status"].as_str() {
            Some("succeeded") => {
                break status["data"][0]
                    .as_str()
                    .with_context(|| format!("no link in {status}"))?
                    .to_owned();
            }
            Some("failed" | "empty" | "cancelled") => bail!("the export ended: {status}"),
            _ => {}
        }
        if started.elapsed() > timeout {
            bail!("the export did not finish in {timeout:?}: {status}");
        }
        tokio::time::sleep(EXPORT_POLL).await;
    };
    let took = started.elapsed();
    let peak_rss_kib = memory_kib(parley.server.pid, "VmHWM");
    let gzip = client
        .get(&link)
        .bearer_auth(&b.api_key)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let (csv, gzip_alone) = tokio::task::spawn_blocking(move || -> Result<_> {
        let mut csv = Vec::new();
        GzDecoder::new(&gzip[..])
            .read_to_end(&mut csv)
            .context("the export is not gzip")?;
        // The export's own level (`Compression::fast`), one thread, into memory.
        let started = Instant::now();
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(&csv)?;
        let again = encoder.finish()?;
        let alone = started.elapsed();
        Ok(((csv, gzip.len(), again.len()), alone))
    })
    .await??;
    let (csv, gzip_bytes, _) = csv;
    let rows = csv
        .iter()
        .filter(|&&c| c == b'\n')
        .count()
        .saturating_sub(1);
    if rows != messages {
        bail!("the export holds {rows} rows, the log {messages} messages");
    }
    Ok(ExportRun {
        took,
        rows,
        gzip_bytes,
        csv_bytes: csv.len(),
        gzip_alone,
        rss_before_kib,
        peak_rss_kib,
    })
}

/// A `/proc/{pid}/status` field in KiB (`VmRSS`, `VmHWM`).
fn memory_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

async fn run_database(
    database: Database,
    bin: &Path,
    pg: Option<&DurablePostgres>,
    args: &LogArgs,
) -> Result<DatabaseRun> {
    let url = match pg {
        Some(pg) => Some(tokio::task::block_in_place(|| pg.fresh_database())?),
        None => None,
    };
    let parley = targets::spawn_parley_with(bin, url.as_deref(), &bulk::quiet_dispatcher()).await?;
    let result = async {
        let client = bulk::http_client(Duration::from_secs(120))?;
        bulk::approved_template(&client, &parley).await?;
        eprintln!("      storing {} messages …", args.messages);
        let (seeding, window) = seed(&client, &parley, args.messages).await?;
        eprintln!("      exporting …");
        let export = measure_export(
            &client,
            &parley,
            args.messages,
            Duration::from_secs_f64(args.export_timeout),
        )
        .await?;
        eprintln!("      export: {}", bulk::secs(export.took));
        // The export's housekeeping round ends by refreshing the planner's statistics
        // (SQLite has no autovacuum); give it a moment to finish.
        tokio::time::sleep(STATISTICS_SETTLE).await;
        let groups = bulk::cpu_groups(Some(&parley), pg)?;
        let before = crate::cpu::CpuSample::take(&groups)?;
        let cases = measure_pages(&client, &parley, cases(&parley, &window), args).await?;
        let cpu = crate::cpu::CpuSample::take(&groups)
            .ok()
            .map(|a| before.usage_until(&a));
        Ok::<_, anyhow::Error>(DatabaseRun {
            database,
            seeding,
            cases,
            export,
            cpu,
        })
    }
    .await;
    if result.is_err() {
        eprintln!("parley's log ends:\n{}", parley.server.log_tail());
    }
    parley.stop().await;
    result
}

/// The bare handler's page, `samples` times (after one warm-up).
async fn bare_page(args: &LogArgs) -> Result<PageTimes> {
    let server = targets::spawn_bare().await?;
    let url = format!(
        "{}{}?pageSize={}",
        server.base_url,
        LOG_PATH.replace("{accountId}", "bench"),
        args.page_size
    );
    let result = async {
        let client = bulk::http_client(Duration::from_secs(30))?;
        time_page(&client, &url, None, args.samples).await
    }
    .await;
    server.stop().await;
    result
}

pub async fn run(bin: &Path, args: &LogArgs, header: &str) -> Result<String> {
    if args.messages == 0 || !args.messages.is_multiple_of(BATCH) || args.messages > 5_000_000 {
        bail!("--messages must be a positive multiple of 10,000, at most 5,000,000");
    }
    if args.samples == 0 || !(1..=500).contains(&args.page_size) || args.deep_page < 2 {
        bail!("--samples must be positive, --page-size 1 to 500, --deep-page at least 2");
    }
    if args.targets.is_empty() || args.export_timeout <= 0.0 {
        bail!("--targets and --export-timeout must not be empty or zero");
    }
    let mut bare = Vec::new();
    let mut runs = Vec::new();
    let mut pg_versions = Vec::new();
    eprintln!("logs: bare …");
    bare.push(bare_page(args).await?);
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
        eprintln!("logs: {database:?} …");
        let measured = run_database(*database, bin, pg.as_ref(), args).await;
        if let Some(pg) = pg {
            // pg_ctl stop blocks.
            tokio::task::spawn_blocking(move || drop(pg)).await?;
        }
        runs.push(measured?);
        eprintln!("logs: bare …");
        bare.push(bare_page(args).await?);
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### The message log at {} messages\n",
        bulk::thousands(args.messages as u64)
    );
    out.push_str(header);
    for v in &pg_versions {
        let _ = writeln!(out, "- {v}");
    }
    let _ = writeln!(
        out,
        "- the log: {} `order_note` templates accepted through `POST …/messages/batch` in \
         batches of 10,000, each to a user of its own (half US, a quarter UK, a quarter \
         Singapore) except every hundredth, which goes to one busy user; the dispatcher held \
         to 1 message/s so that they stay queued",
        bulk::thousands(args.messages as u64)
    );
    let _ = writeln!(
        out,
        "- pages: `GET /api/v1/accounts/{{id}}/messages?pageSize={}` with the filter; the \
         first page, and page {} reached by following `nextCursor`; each requested once to \
         warm up, then {} times one after the other; the time is to the last byte of the \
         answer; measured after the export, whose housekeeping round also refreshed the \
         planner's statistics (SQLite: `PRAGMA optimize`, a round at least every 30 s)",
        args.page_size, args.deep_page, args.samples
    );
    let _ = writeln!(
        out,
        "- the baseline is the bare axum handler answering a page of {} records of the same \
         shape from memory (no database), measured before and after each database\n",
        args.page_size
    );
    render(&mut out, &bare, &runs, args);
    Ok(out)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn render(out: &mut String, bare: &[PageTimes], runs: &[DatabaseRun], args: &LogArgs) {
    let bare_ms: Vec<f64> = bare
        .iter()
        .map(|b| b.median().as_secs_f64() * 1000.0)
        .collect();
    let bare_mean = bare_ms.iter().sum::<f64>() / bare_ms.len().max(1) as f64;
    let _ = writeln!(
        out,
        "Bare handler, page of {} records ({} bytes): medians {} (mean {bare_mean:.2} ms).\n",
        bare.first().map_or(0, |b| b.rows),
        bare.first().map_or(0, |b| b.bytes),
        bare_ms
            .iter()
            .map(|m| format!("{m:.2} ms"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let ratio = |d: Duration| format!("{:.1}×", d.as_secs_f64() * 1000.0 / bare_mean.max(1e-9));
    for run in runs {
        let _ = writeln!(
            out,
            "#### {:?}\n\nStoring the log took {} ({:.0} messages/s). CPU while paging: {}.\n",
            run.database,
            bulk::secs(run.seeding),
            args.messages as f64 / run.seeding.as_secs_f64(),
            bulk::cpu_cell(&run.cpu),
        );
        let _ = writeln!(
            out,
            "| filter | rows | first page: median | p95 | vs bare | page {}: median | p95 | vs bare |",
            args.deep_page
        );
        let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|");
        for c in &run.cases {
            let (deep_median, deep_p95, deep_ratio) = match &c.deep {
                Some(d) => (ms(d.median()), ms(d.p95()), ratio(d.median())),
                None => ("–".into(), "–".into(), "–".into()),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {deep_median} | {deep_p95} | {deep_ratio} |",
                c.case.label,
                c.first.rows,
                ms(c.first.median()),
                ms(c.first.p95()),
                ratio(c.first.median()),
            );
        }
        let e = &run.export;
        let kib = |v: Option<u64>| v.map_or("?".into(), |k| mib(k * 1024));
        let _ = writeln!(
            out,
            "\nExport of the whole log (`POST …/messages/exports` until `succeeded`): **{}** \
             for {} rows ({:.0} rows/s), {} of gzip CSV ({} uncompressed). Compressing the \
             same CSV alone in one thread at the same level takes {}, so the export costs \
             {:.1}× its compression. Parley's memory: {} resident before, peak {} since its \
             start (seeding included).\n",
            bulk::secs(e.took),
            bulk::thousands(e.rows as u64),
            e.rows as f64 / e.took.as_secs_f64(),
            mib(e.gzip_bytes as u64),
            mib(e.csv_bytes as u64),
            bulk::secs(e.gzip_alone),
            e.took.as_secs_f64() / e.gzip_alone.as_secs_f64().max(1e-9),
            kib(e.rss_before_kib),
            kib(e.peak_rss_kib),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_spread_over_three_countries_with_one_busy_user() {
        let users: Vec<String> = (0..400).map(log_user).collect();
        let busy = users.iter().filter(|u| *u == BUSY_USER).count();
        assert_eq!(busy, 4);
        let gb = users.iter().filter(|u| u.starts_with("+44")).count();
        let sg = users.iter().filter(|u| u.starts_with("+65")).count();
        assert_eq!((gb, sg), (100, 100));
        assert_eq!(log_user(999_999), "+6580999999");
        assert_eq!(log_user(999_998), "+447700999998");
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("+1555 a/b=c"), "%2B1555%20a%2Fb%3Dc");
        assert_eq!(
            encode("2026-01-01T00:00:00.000Z"),
            "2026-01-01T00%3A00%3A00.000Z"
        );
    }
}
