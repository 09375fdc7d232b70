//! `parley-bench cluster`: Parley scaled out on one durable PostgreSQL. For each node
//! count in `--nodes`, on a fresh database: that many `api,workers` nodes plus the
//! simulator as a node of its own (as Meta would be, and as in the scale-out test), the
//! sandbox number's throughput raised to WhatsApp's highest (1,000/s, per node), then
//! `--messages` templates (each to its own user) in batches spread over the nodes in turn.
//!
//! - **accepted/s**: messages over the time from the first batch request to the last
//!   answer;
//! - **handed over in**, **delivered/s**: until every message has left the queue (WhatsApp
//!   took it), and until every one is `delivered` (its receipt stored), from the first
//!   request;
//! - **statements per message**: what PostgreSQL executed meanwhile (`pg_stat_statements`,
//!   the benchmark's own polling left out), each one a round trip from a node.
//!
//! Everything listens on `127.0.0.1`; every wait is bounded.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::json;

use crate::bulk::{Batch, approved_template_via, batch_body, http_client, post_batch, thousands};
use crate::targets::{
    BATCH_PATH, DurablePostgres, Node, spawn_node, spawn_parley_at, start_durable_postgres_with,
};

#[derive(Args, Debug)]
pub struct ClusterArgs {
    /// Node counts to measure, one after the other, each on a fresh database.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    pub nodes: Vec<usize>,
    /// Messages per node count.
    #[arg(long, default_value_t = 30_000)]
    pub messages: usize,
    /// Messages per batch request.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Batch requests in flight at once.
    #[arg(long, default_value_t = 4)]
    pub in_flight: usize,
}

/// The number's throughput in Parley's pacing (per node) and the simulator: WhatsApp's
/// highest, 1,000 messages/s, above what this machine sends, so the machine is measured.
const THROUGHPUT: u32 = 1_000;
/// The longest a node count may take to hand over and deliver everything.
const DRAIN_LIMIT: Duration = Duration::from_secs(600);
/// Marks the benchmark's own queries, to leave them out of the statement count.
const OWN: &str = "/* parley-bench */";

struct Measured {
    nodes: usize,
    accepted_in: Duration,
    handed_in: Duration,
    delivered_in: Duration,
    statements: u64,
    top: Vec<(u64, String)>,
}

pub async fn run(bin: &Path, args: &ClusterArgs, header: &str) -> Result<String> {
    if args.nodes.is_empty() || args.nodes.contains(&0) || args.batch == 0 {
        bail!("--nodes needs counts of at least 1, --batch at least 1");
    }
    let pg = tokio::task::spawn_blocking(|| {
        start_durable_postgres_with(&["shared_preload_libraries = 'pg_stat_statements'"])
    })
    .await??;
    let mut results = Vec::new();
    for &nodes in &args.nodes {
        eprintln!("cluster: {nodes} node(s), {} messages", args.messages);
        results.push(measure(bin, &pg, nodes, args).await?);
    }
    Ok(report(header, &pg, args, &results))
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn measure(
    bin: &Path,
    pg: &DurablePostgres,
    nodes: usize,
    args: &ClusterArgs,
) -> Result<Measured> {
    let url = {
        let pg_url = pg.fresh_database()?;
        let migrated = std::process::Command::new(bin)
            .args(["migrate", "--database-url", &pg_url])
            .env("RUST_LOG", "warn")
            .output()
            .context("parley migrate")?;
        if !migrated.status.success() {
            bail!(
                "parley migrate: {}",
                String::from_utf8_lossy(&migrated.stderr)
            );
        }
        pg.psql(
            &pg_url,
            &["CREATE EXTENSION IF NOT EXISTS pg_stat_statements"],
        )?;
        pg_url
    };
    let ports: Vec<u16> = (0..nodes).map(|_| free_port()).collect::<Result<_>>()?;
    let sim_port = free_port()?;
    let sim = format!("http://127.0.0.1:{sim_port}");
    let secrets = [
        ("PARLEY_META__ACCESS_TOKEN", "bench-token".to_owned()),
        ("PARLEY_META__APP_SECRET", "bench-secret".to_owned()),
        ("PARLEY_META__VERIFY_TOKEN", "bench-verify".to_owned()),
    ];
    // Receipts go to the first node: the simulator has one callback URL.
    let mut sim_env = secrets.to_vec();
    sim_env.extend([
        ("PARLEY_ROLES", "simulator".to_owned()),
        (
            "PARLEY_SIMULATOR__WEBHOOK_URL",
            format!("http://127.0.0.1:{}/meta/webhook", ports[0]),
        ),
        ("PARLEY_SIMULATOR__AUTO_READ", "false".to_owned()),
    ]);
    let simulator = spawn_node(bin, &format!("127.0.0.1:{sim_port}"), &url, &sim_env).await?;
    let mut node_env = secrets.to_vec();
    node_env.extend([
        ("PARLEY_ROLES", "api,workers".to_owned()),
        ("PARLEY_META__GRAPH_URL", format!("{sim}/sim/graph")),
        (
            "PARLEY_DISPATCH__THROUGHPUT_PER_NUMBER",
            THROUGHPUT.to_string(),
        ),
        (
            "PARLEY_DISPATCH__DEFAULT_MESSAGING_LIMIT",
            "TIER_UNLIMITED".to_owned(),
        ),
    ]);
    // The first node bootstraps the empty database; the others join it.
    let listen = |port: &u16| format!("127.0.0.1:{port}");
    let first = spawn_parley_at(bin, &listen(&ports[0]), Some(&url), &node_env).await?;
    let mut others: Vec<Node> = Vec::new();
    for port in &ports[1..] {
        others.push(spawn_node(bin, &listen(port), &url, &node_env).await?);
    }
    let client = http_client(Duration::from_secs(120))?;
    let b = &first.bootstrap;
    // The simulator learns the number from the database within a few seconds.
    let limits = format!("{sim}/sim/api/businesses/{}/limits", b.channel_id);
    let started = Instant::now();
    loop {
        let answer = client
            .post(&limits)
            .json(&json!({"throughput": THROUGHPUT, "messagingLimit": "TIER_UNLIMITED"}))
            .send()
            .await?;
        if answer.status().is_success() {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!(
                "the simulator never learnt the number: {}",
                answer.text().await?
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    approved_template_via(&client, &first, &sim).await?;
    pg.psql(&url, &["SELECT pg_stat_statements_reset()"])?;

    let bases: Vec<String> = std::iter::once(first.server.base_url.clone())
        .chain(others.iter().map(|n| n.server.base_url.clone()))
        .collect();
    let path = BATCH_PATH.replace("{subAccountId}", &b.sub_account_id);
    let batches: Vec<(String, Batch)> = (0..args.messages)
        .step_by(args.batch)
        .enumerate()
        .map(|(i, first_user)| {
            let count = args.batch.min(args.messages - first_user);
            let body = batch_body(&format!("n{nodes}-{i}"), first_user, count);
            (
                format!("{}{path}", bases[i % bases.len()]),
                Batch { body, count },
            )
        })
        .collect();
    let load_started = Instant::now();
    // `in_flight` senders take the batches in order from one shared queue.
    let queue = std::sync::Arc::new(std::sync::Mutex::new(batches.into_iter()));
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..args.in_flight {
        let (client, key, queue) = (client.clone(), b.api_key.clone(), queue.clone());
        senders.spawn(async move {
            loop {
                let next = queue.lock().expect("batch queue").next();
                let Some((url, batch)) = next else {
                    return Ok::<_, anyhow::Error>(());
                };
                post_batch(&client, &url, Some(&key), &batch).await?;
            }
        });
    }
    while let Some(sent) = senders.join_next().await {
        sent??;
    }
    let accepted_in = load_started.elapsed();

    let count = |state: &str| -> Result<u64> {
        let n = pg.psql(
            &url,
            &[&format!(
                "SELECT {OWN} count(*) FROM messages WHERE direction = 'outbound' AND {state}"
            )],
        )?;
        n.parse().with_context(|| format!("count {n:?}"))
    };
    let total = args.messages as u64;
    let mut handed_in = None;
    let delivered_in = loop {
        if handed_in.is_none() && count("state <> 'queued'")? == total {
            handed_in = Some(load_started.elapsed());
        }
        if handed_in.is_some() && count("state = 'delivered'")? == total {
            break load_started.elapsed();
        }
        if load_started.elapsed() > DRAIN_LIMIT {
            bail!("{nodes} node(s) did not deliver {total} messages within {DRAIN_LIMIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let rows = pg.psql(
        &url,
        &[&format!(
            "SELECT {OWN} calls, regexp_replace(left(query, 70), '\\s+', ' ', 'g') \
             FROM pg_stat_statements \
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND query NOT LIKE '%parley-bench%' ORDER BY calls DESC"
        )],
    )?;
    let mut top: Vec<(u64, String)> = Vec::new();
    for row in rows.lines() {
        let (calls, query) = row.split_once('|').context("pg_stat_statements row")?;
        top.push((calls.trim().parse()?, query.trim().to_owned()));
    }
    let statements = top.iter().map(|(calls, _)| calls).sum();
    top.truncate(8);
    for node in others {
        node.stop().await;
    }
    first.stop().await;
    simulator.stop().await;
    Ok(Measured {
        nodes,
        accepted_in,
        handed_in: handed_in.unwrap_or(delivered_in),
        delivered_in,
        statements,
        top,
    })
}

fn per_second(messages: usize, took: Duration) -> String {
    thousands((messages as f64 / took.as_secs_f64()).round() as u64)
}

fn report(header: &str, pg: &DurablePostgres, args: &ClusterArgs, results: &[Measured]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### Scale-out: nodes on one PostgreSQL\n");
    let _ = writeln!(
        out,
        "{} templates per node count, in batches of {} ({} in flight, spread over the \
         nodes in turn); the simulator is a node of its own; PostgreSQL {} ({})\n",
        thousands(args.messages as u64),
        args.batch,
        args.in_flight,
        pg.version,
        pg.settings
    );
    let _ = writeln!(
        out,
        "| nodes | accepted/s | all handed to WhatsApp | delivered/s | statements per message |"
    );
    let _ = writeln!(out, "|--:|--:|--:|--:|--:|");
    for r in results {
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} s | {} | {:.1} |",
            r.nodes,
            per_second(args.messages, r.accepted_in),
            r.handed_in.as_secs_f64(),
            per_second(args.messages, r.delivered_in),
            r.statements as f64 / args.messages as f64
        );
    }
    for r in results {
        let _ = writeln!(
            out,
            "\nMost executed statements with {} node(s), per message:\n",
            r.nodes
        );
        for (calls, query) in &r.top {
            let _ = writeln!(
                out,
                "- {:.2} `{query}`",
                *calls as f64 / args.messages as f64
            );
        }
    }
    let _ = writeln!(out, "\n{header}");
    out
}
