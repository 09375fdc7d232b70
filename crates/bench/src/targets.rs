//! The servers under test, each a child process of the benchmark on `127.0.0.1`: the bare
//! axum handler (this binary's hidden `bare-server` command), and the real `parley` binary on
//! SQLite or on a throwaway PostgreSQL cluster made durable. Every child is killed when its
//! handle is dropped, and every temporary directory removed, also when the run fails.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::Json;
use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use parley_testkit::pg::PgCluster;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

/// The send path, as Parley routes it.
pub const SEND_PATH: &str = "/api/v1/subaccounts/{subAccountId}/messages";

/// The batch path, as Parley routes it.
pub const BATCH_PATH: &str = "/api/v1/subaccounts/{subAccountId}/messages/batch";

/// The message log path, as Parley routes it.
pub const LOG_PATH: &str = "/api/v1/accounts/{accountId}/messages";

/// Largest request body the bare server reads: Parley's own limit for a batch.
const MAX_BODY: usize = 32 * 1024 * 1024;

/// How long a server may take to come up.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// The bare baseline: reads and parses the JSON body, answers what Parley answers for a
/// queued text message, with a fixed umid and timestamp. No auth, no validation, no storage.
pub async fn bare_handler(Json(body): Json<Value>) -> Json<Value> {
    let msisdn = body
        .pointer("/user/msisdn")
        .and_then(Value::as_str)
        .unwrap_or("+15551234567")
        .to_owned();
    Json(json!({
        "umid": "0190b5d2-8c6e-7c3a-9a4b-2f1e3d5c7a90",
        "user": { "msisdn": msisdn, "country": "US" },
        "status": { "state": "queued", "timestamp": "2026-01-01T00:00:00.00Z" },
    }))
}

/// The bare baseline of a batch: reads and parses the JSON body, answers Parley's counts
/// for a batch whose every message was accepted (without the per-message results, as with
/// `includeMessagesInResponse: false`). No auth, no validation, no storage.
pub async fn bare_batch_handler(Json(body): Json<Value>) -> Json<Value> {
    let count = body
        .get("messages")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    Json(json!({
        "batchId": "0190b5d2-8c6e-7c3a-9a4b-2f1e3d5c7a91",
        "acceptedCount": count,
        "rejectedCount": 0,
    }))
}

/// The bare baseline of a log page: `pageSize` records shaped like Parley's message
/// details, built in memory. No auth, no database.
pub async fn bare_log_handler(
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Json<Value> {
    let size: usize = query
        .get("pageSize")
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let records: Vec<Value> = (0..size)
        .map(|i| {
            json!({
                "umid": format!("0190b5d2-8c6e-7c3a-9a4b-2f1e3d5c{i:04}"),
                "subAccountId": "bench",
                "batchId": "0190b5d2-8c6e-7c3a-9a4b-2f1e3d5c7a91",
                "clientMessageId": format!("logs-3-{i}"),
                "direction": "outbound",
                "channel": "WhatsApp",
                "channelId": "0190b5d2-8c6e-7c3a-9a4b-2f1e3d5c7a92",
                "user": {"msisdn": format!("+1555{i:07}"), "country": "US"},
                "status": {"state": "queued", "timestamp": "2026-01-01T00:00:00.000Z"},
                "content": {"type": "template", "text": format!("Your order A-{i} shipped.")},
                "createdAt": "2026-01-01T00:00:00.000Z",
            })
        })
        .collect();
    Json(json!({ "data": records, "nextCursor": "MTc2NzIyNTYwMDAwMHwwMTkwYjVkMg" }))
}

/// Runs the bare server until killed; prints `listening on ADDR` once bound.
pub async fn serve_bare(listen: &str) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new()
        .route(SEND_PATH, post(bare_handler))
        .route(LOG_PATH, axum::routing::get(bare_log_handler))
        .route(
            BATCH_PATH,
            post(bare_batch_handler).layer(DefaultBodyLimit::max(MAX_BODY)),
        );
    println!("listening on {addr}");
    axum::serve(listener, app).await.context("serving")
}

/// A server child process.
pub struct Server {
    child: Child,
    pub pid: u32,
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    /// Where its stderr goes, shown when it fails.
    log: Option<PathBuf>,
}

impl Server {
    /// Kills the process (SIGKILL: its data is thrown away anyway) and reaps it.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }

    /// The end of its log, for error messages.
    pub fn log_tail(&self) -> String {
        let Some(log) = &self.log else {
            return String::new();
        };
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Fails if the process has exited.
    pub fn check_alive(&mut self, what: &str) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{what} exited ({status}); its log ends:\n{}",
                self.log_tail()
            );
        }
        Ok(())
    }
}

/// Reads the child's stdout: the first line containing `marker` is sent on `found` (the
/// rest of that line after the marker); everything is copied to `copy` if given, so the
/// pipe never fills up.
fn watch_stdout(
    child: &mut Child,
    marker: &'static str,
    copy: Option<PathBuf>,
) -> Result<oneshot::Receiver<String>> {
    let stdout = child.stdout.take().context("child stdout not piped")?;
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let mut tx = Some(tx);
        let mut file = match copy {
            Some(path) => tokio::fs::File::create(path).await.ok(),
            None => None,
        };
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(f) = file.as_mut() {
                let _ = f.write_all(format!("{line}\n").as_bytes()).await;
            }
            if let Some(i) = line.find(marker)
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(line[i + marker.len()..].trim().to_owned());
            }
        }
    });
    Ok(rx)
}

/// Starts this binary's bare server on a free loopback port.
pub async fn spawn_bare() -> Result<Server> {
    let exe = std::env::current_exe().context("locating parley-bench")?;
    let mut child = Command::new(exe)
        .args(["bare-server", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting the bare server")?;
    let pid = child.id().context("bare server pid")?;
    let addr = watch_stdout(&mut child, "listening on ", None)?;
    let addr = tokio::time::timeout(START_TIMEOUT, addr)
        .await
        .context("the bare server did not start")?
        .context("the bare server exited before listening")?;
    Ok(Server {
        child,
        pid,
        base_url: format!("http://{addr}"),
        log: None,
    })
}

/// What `parley serve` writes to `bootstrap.json` on first start.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    pub account_id: String,
    pub sub_account_id: String,
    /// The sandbox's WhatsApp channel (also the simulator's key for its business number).
    pub channel_id: String,
    pub api_key: String,
}

/// A running `parley serve` with its own data directory.
pub struct Parley {
    pub server: Server,
    pub bootstrap: Bootstrap,
    /// Holds `parley.db` (SQLite), `bootstrap.json` and the logs; removed on drop.
    dir: TempDir,
}

impl Parley {
    /// Kills the server, then removes its data directory.
    pub async fn stop(self) {
        stop_and_remove(self.server, self.dir).await;
    }
}

/// A `parley serve` that made no sandbox of its own: a node of a cluster whose database
/// another node bootstrapped, or a simulator-only node.
pub struct Node {
    pub server: Server,
    dir: TempDir,
}

impl Node {
    /// Kills the server, then removes its data directory.
    pub async fn stop(self) {
        stop_and_remove(self.server, self.dir).await;
    }
}

async fn stop_and_remove(server: Server, dir: TempDir) {
    server.stop().await;
    let path = dir.path().to_owned();
    if let Err(e) = dir.close() {
        eprintln!("warning: removing {} failed: {e}", path.display());
    }
}

/// Starts `parley serve` on a free loopback port with a fresh data directory, on SQLite or,
/// with `database_url`, on PostgreSQL; returns once it is ready and the sandbox exists.
pub async fn spawn_parley(bin: &Path, database_url: Option<&str>) -> Result<Parley> {
    spawn_parley_with(bin, database_url, &[]).await
}

/// [`spawn_parley`] with configuration variables (`PARLEY_*`) set for this server, over
/// whatever the benchmark's own environment says.
pub async fn spawn_parley_with(
    bin: &Path,
    database_url: Option<&str>,
    env: &[(&str, String)],
) -> Result<Parley> {
    spawn_parley_at(bin, "127.0.0.1:0", database_url, env).await
}

/// [`spawn_parley_with`] listening on `listen`.
pub async fn spawn_parley_at(
    bin: &Path,
    listen: &str,
    database_url: Option<&str>,
    env: &[(&str, String)],
) -> Result<Parley> {
    let Node { mut server, dir } = start_node(bin, listen, database_url, env).await?;
    let bootstrap = read_bootstrap(&dir.path().join("data/bootstrap.json"))?;
    wait_ready(&mut server).await?;
    Ok(Parley {
        server,
        bootstrap,
        dir,
    })
}

/// `parley serve` on `listen` with a fresh data directory and `env`, ready to answer; for
/// nodes that make no sandbox (see [`Node`]).
pub async fn spawn_node(
    bin: &Path,
    listen: &str,
    database_url: &str,
    env: &[(&str, String)],
) -> Result<Node> {
    let mut node = start_node(bin, listen, Some(database_url), env).await?;
    wait_ready(&mut node.server).await?;
    Ok(node)
}

/// Starts `parley serve` and returns once it listens.
async fn start_node(
    bin: &Path,
    listen: &str,
    database_url: Option<&str>,
    env: &[(&str, String)],
) -> Result<Node> {
    let dir = tempfile::Builder::new()
        .prefix("parley-bench-")
        .tempdir()
        .context("creating a data directory")?;
    let stderr_path = dir.path().join("parley.stderr");
    let stderr = std::fs::File::create(&stderr_path).context("creating the log file")?;
    let mut cmd = Command::new(bin);
    cmd.arg("serve")
        .args(["--listen", listen])
        .arg("--data-dir")
        .arg(dir.path().join("data"));
    if let Some(url) = database_url {
        cmd.args(["--database-url", url]);
    }
    // Only warnings: per-request logging would measure the log writer.
    // The benchmarks measure the pipeline beyond 8x8's request rate limits.
    // The simulator plays Meta: keeping its state on disk is Meta's cost, not the
    // pipeline's, and the figures stay comparable with those before it could.
    cmd.env("RUST_LOG", "warn")
        .env("PARLEY_API__RATE_LIMIT_PER_SUBACCOUNT", "1000000")
        .env("PARLEY_API__RATE_LIMIT_PER_IP", "1000000")
        .env("PARLEY_SIMULATOR__STATE_FILE", "")
        .env_remove("PARLEY_LISTEN")
        .env_remove("PARLEY_DATA_DIR")
        .env_remove("PARLEY_DATABASE_URL")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let pid = child.id().context("parley pid")?;
    let listening = watch_stdout(
        &mut child,
        "Listening on ",
        Some(dir.path().join("parley.stdout")),
    )?;
    let mut server = Server {
        child,
        pid,
        base_url: String::new(),
        log: Some(stderr_path),
    };
    let started = Instant::now();
    let mut listening = listening;
    let line = loop {
        server.check_alive("parley")?;
        if started.elapsed() > START_TIMEOUT {
            bail!("parley did not start listening within {START_TIMEOUT:?}");
        }
        match tokio::time::timeout(Duration::from_millis(200), &mut listening).await {
            Ok(Ok(line)) => break line,
            Ok(Err(_)) => {
                server.check_alive("parley")?;
                bail!("parley closed its stdout without listening")
            }
            Err(_) => continue,
        }
    };
    // "http://127.0.0.1:PORT (console of the simulator: …)"
    server.base_url = line
        .split_whitespace()
        .next()
        .context("no URL after 'Listening on'")?
        .to_owned();
    Ok(Node { server, dir })
}

fn read_bootstrap(path: &Path) -> Result<Bootstrap> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let v: Value = serde_json::from_str(&text).context("bootstrap.json is not JSON")?;
    let field = |name: &str| -> Result<String> {
        v.get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("bootstrap.json has no {name}"))
    };
    Ok(Bootstrap {
        account_id: field("accountId")?,
        sub_account_id: field("subAccountId")?,
        channel_id: field("channelId")?,
        api_key: field("apiKey")?,
    })
}

async fn wait_ready(server: &mut Server) -> Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()?;
    let url = format!("{}/readyz", server.base_url);
    let started = Instant::now();
    loop {
        server.check_alive("parley")?;
        if let Ok(r) = client.get(&url).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        if started.elapsed() > START_TIMEOUT {
            bail!("{url} did not answer 200 within {START_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads counters from Parley's Prometheus endpoint (sums over label sets).
pub async fn parley_counters(base_url: &str, names: &[&str]) -> Result<Vec<(String, f64)>> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()?;
    let text = metrics_text(&client, base_url).await?;
    Ok(names
        .iter()
        .map(|name| ((*name).to_owned(), metric_sum(&text, name)))
        .collect())
}

/// Parley's `/metrics` (Prometheus text).
pub async fn metrics_text(client: &reqwest::Client, base_url: &str) -> Result<String> {
    Ok(client
        .get(format!("{base_url}/metrics"))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?)
}

/// Each label set of metric `name` (`""` for none) with its value.
pub fn metric_series(text: &str, name: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(name)?;
            let (labels, value) = rest.rsplit_once(' ')?;
            let labels = labels.trim();
            if !(labels.is_empty() || labels.starts_with('{')) {
                return None;
            }
            Some((labels.to_owned(), value.parse::<f64>().ok()?))
        })
        .collect()
}

/// Metric `name` summed over its label sets (0 when absent).
pub fn metric_sum(text: &str, name: &str) -> f64 {
    metric_series(text, name).iter().map(|(_, v)| v).sum()
}

/// A throwaway PostgreSQL cluster with durable commits, and one database for Parley.
pub struct DurablePostgres {
    /// Stopped (immediately) and removed on drop.
    cluster: PgCluster,
    pub url: String,
    /// `name=value` of the settings that matter for commit cost, as the server reports them.
    pub settings: String,
    pub version: String,
}

impl DurablePostgres {
    /// The cluster's directory (data, log, socket).
    pub fn dir(&self) -> &Path {
        self.cluster.dir()
    }

    /// `statements` through `psql` on the database at `url`; the output. Blocking.
    pub fn psql(&self, url: &str, statements: &[&str]) -> Result<String> {
        run_psql(&self.cluster, statements, url)
    }

    /// Another empty database in the same (durable) cluster; blocking.
    pub fn fresh_database(&self) -> Result<String> {
        self.cluster.fresh_database()
    }

    /// The postmaster's process id, from the first line of `postmaster.pid`.
    pub fn postmaster_pid(&self) -> Result<u32> {
        let path = self.cluster.dir().join("data/postmaster.pid");
        std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .with_context(|| format!("{} names no pid", path.display()))
    }
}

/// Durability the test cluster turns off, turned back on with `ALTER SYSTEM` (written to
/// `postgresql.auto.conf`, which wins over `postgresql.conf`); all three take effect on a
/// configuration reload.
const DURABLE: [(&str, &str); 3] = [
    ("fsync", "on"),
    ("synchronous_commit", "on"),
    ("full_page_writes", "on"),
];

/// `statements` through `psql` on database `db` of `cluster`; the output, trimmed.
fn run_psql(cluster: &PgCluster, statements: &[&str], db: &str) -> Result<String> {
    let mut cmd = cluster.client_command("psql");
    cmd.args(["--no-psqlrc", "--quiet", "--tuples-only", "--no-align"])
        .args(["--set", "ON_ERROR_STOP=1"]);
    for statement in statements {
        cmd.args(["--command", statement]);
    }
    cmd.arg(db);
    let out = cmd.output().context("running psql")?;
    if !out.status.success() {
        bail!(
            "psql failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Starts the testkit's cluster and makes it durable (blocking: run it off the runtime).
pub fn start_durable_postgres() -> Result<DurablePostgres> {
    start_durable_postgres_with(&[])
}

/// [`start_durable_postgres`] with more server-start settings (`name = value`).
pub fn start_durable_postgres_with(settings: &[&str]) -> Result<DurablePostgres> {
    let cluster = PgCluster::start_with(settings).context("starting PostgreSQL")?;
    let psql = |sql: &[&str], db: &str| run_psql(&cluster, sql, db);
    let base = cluster.url();
    let mut statements: Vec<String> = DURABLE
        .iter()
        .map(|(name, value)| format!("ALTER SYSTEM SET {name} = '{value}'"))
        .collect();
    statements.push("SELECT pg_reload_conf()".into());
    let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
    psql(&statements, &base)?;

    let url = cluster.fresh_database()?;
    let names = DURABLE.map(|(name, _)| format!("'{name}'")).join(",");
    let query = format!(
        "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ' ' ORDER BY name) \
         FROM pg_settings WHERE name IN ({names}, 'wal_sync_method', 'shared_buffers', \
         'wal_buffers', 'commit_delay', 'max_connections')"
    );
    // The reload reaches new sessions within moments; check from Parley's own database.
    let started = Instant::now();
    let settings = loop {
        let settings = psql(&[&query], &url)?;
        let durable = DURABLE
            .iter()
            .all(|(name, value)| settings.split(' ').any(|s| s == format!("{name}={value}")));
        if durable {
            break settings;
        }
        if started.elapsed() > Duration::from_secs(10) {
            bail!("PostgreSQL did not become durable: {settings}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Everything written while fsync was off goes to disk now.
    psql(&["CHECKPOINT"], &url)?;
    let version = psql(&["SHOW server_version"], &url)?;
    Ok(DurablePostgres {
        cluster,
        url,
        settings,
        version,
    })
}

/// The cost of one durable write here: append 4 KiB and `fdatasync`, `rounds` times, in
/// `dir`. Returns (median, p99) in microseconds. Blocking.
pub fn fsync_probe(dir: &Path, rounds: usize) -> Result<(u64, u64)> {
    use std::io::Write;
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path).context("creating the fsync probe file")?;
    let block = [0x5au8; 4096];
    let mut times = Vec::with_capacity(rounds);
    let deadline = Instant::now() + Duration::from_secs(5);
    for _ in 0..rounds {
        let t = Instant::now();
        file.write_all(&block)?;
        file.sync_data()?;
        times.push(t.elapsed().as_micros() as u64);
        if Instant::now() > deadline {
            break;
        }
    }
    drop(file);
    let _ = std::fs::remove_file(&path);
    times.sort_unstable();
    let at = |p: f64| times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1];
    Ok((at(0.5), at(0.99)))
}
