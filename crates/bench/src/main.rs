//! `parley-bench`: a reproducible load benchmark of Parley's send endpoint
//! (`POST /api/v1/subaccounts/{id}/messages`). One load generator, one run, several targets
//! measured one after the other on loopback: a bare axum handler that answers the same JSON
//! (the baseline), the real `parley` binary on SQLite (WAL, `synchronous=FULL`), and on a
//! throwaway PostgreSQL cluster with durable commits (`fsync`, `synchronous_commit` on).
//! It counts only 200s that name a queued message, reports messages/s, latency percentiles,
//! errors, where the CPU went, and each Parley rate as a ratio to the bare handler measured
//! in the same run, and prints it all as Markdown. The machine is shared and noisy, so the
//! ratio is the result; absolute numbers only describe this run.
//!
//! Subcommands measure the rest of the pipeline the same way: `webhooks` (delivery to a
//! customer's endpoint, `webhooks.rs`) and `bulk` (accepting 10,000-message batches, and a
//! bulk send end to end at the number's throughput, `bulk.rs`) and `logs` (the message
//! log's pages and export at a million messages, `logs.rs`).
//!
//! `bench/run.sh` builds release binaries and runs it; see `bench/README.md`.

mod bulk;
mod cluster;
mod cpu;
mod load;
mod logs;
mod targets;
mod webhooks;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::Value;

use crate::cpu::Group;
use crate::load::{Endpoint, LoadConfig, LoadReport};
use crate::targets::{DurablePostgres, SEND_PATH};

/// Load benchmark of Parley's send endpoint against a bare axum handler (loopback only).
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the bare baseline handler (started by the benchmark itself).
    #[command(hide = true)]
    BareServer {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },
    /// Measure bulk sending (see `bulk.rs`): accepting 10,000-message batches, and
    /// 100,000 templates end to end at the number's throughput.
    Bulk {
        #[command(flatten)]
        args: bulk::BulkArgs,
        /// The parley binary (as for the send benchmark).
        #[arg(long)]
        parley_bin: Option<PathBuf>,
    },
    /// Measure scale-out (see `cluster.rs`): accepted and delivered messages/s with 1, 2
    /// and 3 nodes on one PostgreSQL, and the statements each message costs it.
    Cluster {
        #[command(flatten)]
        args: cluster::ClusterArgs,
        /// The parley binary (as for the send benchmark).
        #[arg(long)]
        parley_bin: Option<PathBuf>,
    },
    /// Measure the message log at a million messages (see `logs.rs`): filtered pages and
    /// a whole-log export.
    Logs {
        #[command(flatten)]
        args: logs::LogArgs,
        /// The parley binary (as for the send benchmark).
        #[arg(long)]
        parley_bin: Option<PathBuf>,
    },
    /// Measure webhook delivery (see `webhooks.rs`) instead of the send endpoint.
    Webhooks {
        #[command(flatten)]
        args: webhooks::WebhookArgs,
        /// The parley binary (as for the send benchmark).
        #[arg(long)]
        parley_bin: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// The parley binary [default: next to this binary, else target/release/parley, else
    /// target/debug/parley].
    #[arg(long)]
    parley_bin: Option<PathBuf>,
    /// Concurrent connections, each sending back to back.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Distinct recipients the requests go to, in turn [default: one per connection, so
    /// each connection writes to one user; give a large number to model a bulk send].
    #[arg(long)]
    recipients: Option<usize>,
    /// Seconds of warm-up per target (not counted).
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Seconds measured per target.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Hard cap on requests per target (warm-up included); the window ends early at it.
    #[arg(long, default_value_t = 2_000_000)]
    max_requests: u64,
    /// Seconds after which one request counts as timed out.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Targets in the order measured; the ratio is to the mean of the `bare` runs.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "bare,sqlite,postgres,bare"
    )]
    targets: Vec<Target>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Target {
    /// The bare axum handler (the baseline).
    Bare,
    /// Parley on SQLite.
    Sqlite,
    /// Parley on a durable PostgreSQL.
    Postgres,
    /// Diagnosis: Parley on SQLite, every request rejected (400) after authentication and
    /// body parsing, so nothing is stored or dispatched.
    SqliteRejected,
}

impl Target {
    fn label(self) -> &'static str {
        match self {
            Self::Bare => "bare axum handler (baseline)",
            Self::Sqlite => "Parley, SQLite (WAL, synchronous=FULL)",
            Self::Postgres => "Parley, PostgreSQL (fsync=on, synchronous_commit=on)",
            Self::SqliteRejected => {
                "diagnosis: Parley, SQLite, rejected after auth (400s/s, nothing stored)"
            }
        }
    }
}

/// One measured target.
struct Row {
    target: Target,
    report: LoadReport,
    notes: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("parley-bench: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Some(Command::BareServer { listen }) => {
                if !listen.ip().is_loopback() {
                    bail!("the bare server only listens on loopback");
                }
                targets::serve_bare(&listen.to_string()).await
            }
            Some(Command::Webhooks { args, parley_bin }) => {
                let _ = rustls::crypto::ring::default_provider().install_default();
                let bin = crate::parley_bin(parley_bin.as_deref())?;
                let mut out = machine_description();
                let _ = writeln!(out, "- parley binary: {}\n", bin.display());
                tokio::select! {
                    result = webhooks::run(&bin, &args) => {
                        out.push_str(&result?);
                        print!("{out}");
                        Ok(())
                    }
                    _ = tokio::signal::ctrl_c() => bail!("interrupted"),
                }
            }
            Some(Command::Logs { args, parley_bin }) => {
                report(parley_bin, |bin, header| async move {
                    logs::run(&bin, &args, &header).await
                })
                .await
            }
            Some(Command::Cluster { args, parley_bin }) => {
                report(parley_bin, |bin, header| async move {
                    cluster::run(&bin, &args, &header).await
                })
                .await
            }
            Some(Command::Bulk { args, parley_bin }) => {
                report(parley_bin, |bin, header| async move {
                    bulk::run(&bin, &args, &header).await
                })
                .await
            }
            None => {
                // Ctrl-C drops the run's future, and with it every child and directory.
                tokio::select! {
                    result = run(&cli.run) => result,
                    _ = tokio::signal::ctrl_c() => bail!("interrupted"),
                }
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("parley-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &RunArgs) -> Result<()> {
    // reqwest is built without a default TLS provider (as in the rest of the workspace).
    let _ = rustls::crypto::ring::default_provider().install_default();
    if args.connections == 0 || args.duration <= 0.0 || args.warmup < 0.0 || args.timeout <= 0.0 {
        bail!("--connections, --duration and --timeout must be positive");
    }
    let recipients = args.recipients.unwrap_or(args.connections);
    if recipients == 0 {
        bail!("--recipients must be positive");
    }
    let config = LoadConfig {
        connections: args.connections,
        recipients,
        warmup: Duration::from_secs_f64(args.warmup),
        duration: Duration::from_secs_f64(args.duration),
        max_requests: args.max_requests,
        timeout: Duration::from_secs_f64(args.timeout),
    };
    let needs_parley = args.targets.iter().any(|t| *t != Target::Bare);
    let parley_bin = if needs_parley {
        Some(parley_bin(args.parley_bin.as_deref())?)
    } else {
        None
    };

    let mut header = machine_description();
    let tmp = std::env::temp_dir();
    let (fsync_p50, fsync_p99) = {
        let tmp = tmp.clone();
        tokio::task::spawn_blocking(move || targets::fsync_probe(&tmp, 200)).await??
    };
    let _ = writeln!(
        header,
        "- durable write here (append 4 KiB + fdatasync in {}): median {}, p99 {}",
        tmp.display(),
        ms(fsync_p50),
        ms(fsync_p99)
    );
    let _ = writeln!(
        header,
        "- load: {} connections, closed loop (each sends its next request when the last is \
         answered), HTTP/1.1 keep-alive via reqwest, text messages to {} distinct recipients in \
         turn, {} s warm-up + {} s measured per target, cap {} requests per target, {} s \
         request timeout; targets in order: {}",
        config.connections,
        config.recipients,
        args.warmup,
        args.duration,
        config.max_requests,
        args.timeout,
        args.targets
            .iter()
            .map(|t| format!("{t:?}").to_lowercase())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(bin) = &parley_bin {
        let _ = writeln!(header, "- parley binary: {}", bin.display());
    }

    let mut rows = Vec::new();
    let mut bare_shape = None;
    for (i, target) in args.targets.iter().copied().enumerate() {
        eprintln!("[{}/{}] {} …", i + 1, args.targets.len(), target.label());
        let row = match target {
            Target::Bare => run_bare(&config, &mut bare_shape).await?,
            Target::Sqlite | Target::Postgres | Target::SqliteRejected => {
                let bin = parley_bin.as_deref().expect("resolved above");
                run_parley(target, bin, &config, &mut header, bare_shape.as_ref()).await?
            }
        };
        eprintln!(
            "      {:.0}/s, p50 {}, p99 {}, {} errors",
            row.report.rate(),
            ms(row.report.p50_us),
            ms(row.report.p99_us),
            row.report.error_count()
        );
        rows.push(row);
        // Let the previous server's sockets and background work settle.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    print!("{}", render(&header, &rows));
    Ok(())
}

async fn run_bare(config: &LoadConfig, shape_out: &mut Option<Vec<String>>) -> Result<Row> {
    let server = targets::spawn_bare().await?;
    let endpoint = Endpoint {
        url: format!(
            "{}{}",
            server.base_url,
            SEND_PATH.replace("{subAccountId}", "bench")
        ),
        api_key: None,
        rejected: false,
    };
    let result = async {
        let client = load::client(1, config.timeout)?;
        let sample = load::probe(&client, &endpoint).await?;
        *shape_out = Some(shape(&sample));
        let groups = [
            Group::Pid {
                label: "server".into(),
                pid: server.pid,
            },
            Group::Pid {
                label: "load generator".into(),
                pid: std::process::id(),
            },
        ];
        load::run(&endpoint, config, &groups).await
    }
    .await;
    server.stop().await;
    Ok(Row {
        target: Target::Bare,
        report: result?,
        notes: Vec::new(),
    })
}

async fn run_parley(
    target: Target,
    bin: &Path,
    config: &LoadConfig,
    header: &mut String,
    bare_shape: Option<&Vec<String>>,
) -> Result<Row> {
    let postgres: Option<DurablePostgres> = if target == Target::Postgres {
        let pg = tokio::task::spawn_blocking(targets::start_durable_postgres).await??;
        let _ = writeln!(
            header,
            "- PostgreSQL {} (throwaway cluster in {}): {}",
            pg.version,
            pg.dir().display(),
            pg.settings
        );
        Some(pg)
    } else {
        None
    };
    let parley = targets::spawn_parley(bin, postgres.as_ref().map(|pg| pg.url.as_str())).await?;
    let endpoint = Endpoint {
        url: format!(
            "{}{}",
            parley.server.base_url,
            SEND_PATH.replace("{subAccountId}", &parley.bootstrap.sub_account_id)
        ),
        api_key: Some(parley.bootstrap.api_key.clone()),
        rejected: target == Target::SqliteRejected,
    };
    let mut notes = Vec::new();
    let result = async {
        let client = load::client(1, config.timeout)?;
        let sample = load::probe(&client, &endpoint).await?;
        if let Some(bare) = bare_shape.filter(|_| !endpoint.rejected) {
            let ours = shape(&sample);
            if &ours == bare {
                notes.push("the response has the bare handler's fields and types".to_owned());
            } else {
                notes.push(format!(
                    "response shape differs from the bare handler's: parley {ours:?}, bare {bare:?}"
                ));
            }
        }
        let mut groups = vec![
            Group::Pid {
                label: "server".into(),
                pid: parley.server.pid,
            },
            Group::Pid {
                label: "load generator".into(),
                pid: std::process::id(),
            },
        ];
        if let Some(pg) = &postgres {
            groups.push(Group::Tree {
                label: "postgres".into(),
                root: pg.postmaster_pid()?,
            });
        }
        let report = load::run(&endpoint, config, &groups).await?;
        // Parley's own count must match the 200s seen (plus the probe's).
        let counters = targets::parley_counters(
            &parley.server.base_url,
            &[
                "parley_messages_accepted_total",
                "parley_dispatch_sent_total",
                "parley_dispatch_failed_total",
                "parley_accept_group_messages_sum",
                "parley_accept_group_messages_count",
                "parley_accept_commit_seconds_sum",
            ],
        )
        .await?;
        let accepted = counters[0].1 as u64;
        let seen = if endpoint.rejected {
            0
        } else {
            report.ok_total + 1
        };
        if accepted != seen {
            notes.push(format!(
                "Parley counted {accepted} accepted messages but the client saw {seen} 200s"
            ));
        } else {
            notes.push(format!(
                "Parley's accepted counter matches the {seen} 200s the client saw"
            ));
        }
        notes.push(format!(
            "dispatcher meanwhile: {} sent to the simulator, {} failed (it runs in the same \
             process, on the same cores)",
            counters[1].1 as u64, counters[2].1 as u64
        ));
        let commits = counters[4].1;
        if commits > 0.0 {
            notes.push(format!(
                "accept commits: {commits:.0}, {:.1} messages and {:.2} ms each on average \
                 (whole run)",
                counters[3].1 / commits,
                counters[5].1 / commits * 1e3
            ));
        }
        Ok::<_, anyhow::Error>(report)
    }
    .await;
    if result.is_err() {
        let tail = parley.server.log_tail();
        if !tail.is_empty() {
            eprintln!("parley's log ends:\n{tail}");
        }
    }
    parley.stop().await;
    if let Some(pg) = postgres {
        // pg_ctl stop blocks.
        tokio::task::spawn_blocking(move || drop(pg)).await?;
    }
    let mut report = result?;
    if let Some(e) = report.first_error.take() {
        notes.push(format!("first error: {}", truncate(&e, 300)));
    }
    Ok(Row {
        target,
        report,
        notes,
    })
}

/// The parley binary to start: the flag, else the one built alongside this binary, else
/// the workspace's release build, else its debug build.
fn parley_bin(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = given {
        if path.is_file() {
            return Ok(path.to_owned());
        }
        bail!("--parley-bin {} is not a file", path.display());
    }
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        candidates.push(dir.join("parley"));
    }
    candidates.push(PathBuf::from("target/release/parley"));
    candidates.push(PathBuf::from("target/debug/parley"));
    let found = candidates.into_iter().find(|p| p.is_file()).context(
        "no parley binary found: build it (`cargo build --release -p parley`) or pass --parley-bin",
    )?;
    if found.components().any(|c| c.as_os_str() == "debug") {
        eprintln!(
            "warning: benchmarking a debug build ({}); use bench/run.sh for release numbers",
            found.display()
        );
    }
    Ok(found)
}

/// JSON pointer paths with the type at each, sorted: what "the same JSON" means here.
fn shape(value: &Value) -> Vec<String> {
    fn walk(v: &Value, path: String, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    walk(child, format!("{path}/{k}"), out);
                }
            }
            Value::Array(items) => out.push(format!("{path}:array[{}]", items.len())),
            Value::String(_) => out.push(format!("{path}:string")),
            Value::Number(_) => out.push(format!("{path}:number")),
            Value::Bool(_) => out.push(format!("{path}:bool")),
            Value::Null => out.push(format!("{path}:null")),
        }
    }
    let mut out = Vec::new();
    walk(value, String::new(), &mut out);
    out.sort();
    out
}

/// Runs a subcommand that measures the `parley` binary (`given`, else the default) and
/// prints its Markdown report, headed by the machine and the binary; Ctrl-C drops it.
async fn report<F, Fut>(given: Option<PathBuf>, measure: F) -> Result<()>
where
    F: FnOnce(PathBuf, String) -> Fut,
    Fut: std::future::Future<Output = Result<String>>,
{
    let _ = rustls::crypto::ring::default_provider().install_default();
    let bin = parley_bin(given.as_deref())?;
    let mut header = machine_description();
    let _ = writeln!(header, "- parley binary: {}", bin.display());
    tokio::select! {
        result = measure(bin, header) => {
            print!("{}", result?);
            Ok(())
        }
        _ = tokio::signal::ctrl_c() => bail!("interrupted"),
    }
}

fn machine_description() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let fs = filesystem_of(&std::env::temp_dir()).unwrap_or_else(|| "unknown".into());
    format!(
        "- machine: {cpus} CPUs ({model}), Linux {kernel}; servers, PostgreSQL and the load \
         generator all run on these CPUs, and other work on the machine competes with them\n\
         - temporary directories (SQLite and PostgreSQL data): {fs}\n"
    )
}

/// `type (device)` of the mount holding `path`, from `/proc/mounts`.
fn filesystem_of(path: &Path) -> Option<String> {
    let path = path.canonicalize().ok()?;
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (device, mount, kind) = (f.next()?, f.next()?, f.next()?);
            path.starts_with(mount)
                .then(|| (mount.len(), format!("{kind} ({device})")))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, s)| s)
}

fn ms(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn render(header: &str, rows: &[Row]) -> String {
    let bare: Vec<f64> = rows
        .iter()
        .filter(|r| r.target == Target::Bare)
        .map(|r| r.report.rate())
        .collect();
    let baseline = (!bare.is_empty()).then(|| bare.iter().sum::<f64>() / bare.len() as f64);
    let mut out = String::new();
    let _ = writeln!(out, "### Send endpoint: accepted messages/s\n");
    out.push_str(header);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| # | target | accepted/s | vs bare | p50 | p90 | p99 | max | 200s in window | errors |"
    );
    let _ = writeln!(out, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|");
    for (i, row) in rows.iter().enumerate() {
        let r = &row.report;
        let ratio = match baseline {
            Some(b) if b > 0.0 => format!("{:.1}%", 100.0 * r.rate() / b),
            _ => "n/a".into(),
        };
        let errors = if r.errors.is_empty() {
            "0".to_owned()
        } else {
            r.errors
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let window = if r.capped {
            format!(" (capped: {:.1} s)", r.window.as_secs_f64())
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {} | {} | {} | {} | {} | {}{} | {} |",
            i + 1,
            row.target.label(),
            r.rate(),
            ratio,
            ms(r.p50_us),
            ms(r.p90_us),
            ms(r.p99_us),
            ms(r.max_us),
            r.ok_in_window,
            window,
            errors
        );
    }
    if let Some(b) = baseline {
        let _ = writeln!(
            out,
            "\n\"vs bare\" is the rate divided by the mean of the bare runs ({b:.0}/s)."
        );
    }
    let _ = writeln!(
        out,
        "\nCPU during each measuring window, in cores (of {}):\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let _ = writeln!(
        out,
        "| # | target | server | postgres | load generator | other | idle |"
    );
    let _ = writeln!(out, "|---|---|--:|--:|--:|--:|--:|");
    for (i, row) in rows.iter().enumerate() {
        let get = |label: &str| {
            row.report
                .cpu
                .iter()
                .find(|(l, _)| l == label)
                .map_or("–".to_owned(), |(_, c)| format!("{c:.2}"))
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {:.2} |",
            i + 1,
            row.target.label(),
            get("server"),
            get("postgres"),
            get("load generator"),
            get("other"),
            row.report.cpu_idle
        );
    }
    let notes: Vec<String> = rows
        .iter()
        .enumerate()
        .flat_map(|(i, row)| row.notes.iter().map(move |n| format!("- #{}: {n}", i + 1)))
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(out, "\nNotes:\n");
        for note in notes {
            let _ = writeln!(out, "{note}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_ignore_values_but_not_fields() {
        let a = serde_json::json!({"umid": "x", "user": {"msisdn": "+1"}, "status": {"state": "queued"}});
        let b =
            serde_json::json!({"umid": "y", "user": {"msisdn": "+2"}, "status": {"state": "sent"}});
        let c = serde_json::json!({"umid": "y", "user": {"msisdn": "+2", "country": "US"}, "status": {"state": "sent"}});
        assert_eq!(shape(&a), shape(&b));
        assert_ne!(shape(&a), shape(&c));
    }

    #[test]
    fn the_bare_handler_answers_like_parley() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let body = serde_json::from_str(&load::body_for(3)).unwrap();
        let axum::Json(answer) = rt.block_on(targets::bare_handler(axum::Json(body)));
        assert_eq!(answer["user"]["msisdn"], load::msisdn_for(3));
        assert_eq!(answer["status"]["state"], "queued");
        assert_eq!(
            shape(&answer),
            [
                "/status/state:string",
                "/status/timestamp:string",
                "/umid:string",
                "/user/country:string",
                "/user/msisdn:string"
            ]
        );
    }
}
