use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::Duration;
use clap::{Args, Parser, Subcommand};
use parley_app::config::{Config, MetaOverrides, Overrides, Role};
use parley_app::{Platform, Schema, bootstrap, open_store, shutdown_signal, telemetry};
use parley_core::keys::KeyService;
use parley_types::{AccountId, ApiKeyId, Clock, SystemClock};
use tokio::net::TcpListener;

/// Parley: a self-hosted, 8x8-compatible WhatsApp Business messaging platform.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct GlobalArgs {
    /// Configuration file (TOML); see the commented defaults with `parley config`.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Where the SQLite database and bootstrap.json live [env: PARLEY_DATA_DIR].
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Run on PostgreSQL: postgres://… [env: PARLEY_DATABASE_URL].
    #[arg(long, global = true)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the platform (API, workers and, unless live, the WhatsApp simulator).
    Serve(ServeArgs),
    /// Apply the database migrations this build has and the database lacks, then exit.
    /// On a cluster, run it once before starting (or upgrading) the nodes.
    Migrate,
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Print the embedded default configuration, with comments.
    Config,
}

#[derive(Args)]
struct ServeArgs {
    /// ADDR:PORT to listen on [env: PARLEY_LISTEN].
    #[arg(long)]
    listen: Option<String>,
    /// Apply pending PostgreSQL migrations before serving (SQLite always migrates)
    /// [config: migrate_on_start].
    #[arg(long)]
    migrate: bool,
    /// What this node runs, comma-separated: api, workers, simulator (default: all)
    /// [env: PARLEY_ROLES].
    #[arg(long, value_delimiter = ',')]
    roles: Option<Vec<parley_app::config::Role>>,
    /// Graph API base URL (e.g. https://graph.facebook.com) to go live with Meta.
    #[arg(long)]
    meta_graph_url: Option<String>,
    #[arg(long)]
    meta_access_token: Option<String>,
    #[arg(long)]
    meta_app_secret: Option<String>,
    #[arg(long)]
    meta_verify_token: Option<String>,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key; it is printed once.
    Create {
        #[arg(long, default_value = "cli")]
        name: String,
        /// Account to create it for (default: the only account).
        #[arg(long)]
        account: Option<String>,
    },
    /// List keys (their ids and first characters; never the keys).
    List {
        #[arg(long)]
        account: Option<String>,
    },
    /// Revoke a key by id.
    Revoke { id: String },
}

fn overrides(global: &GlobalArgs, serve: Option<&ServeArgs>) -> Overrides {
    Overrides {
        listen: serve.and_then(|s| s.listen.clone()),
        data_dir: global.data_dir.clone(),
        database_url: global.database_url.clone(),
        migrate_on_start: serve.and_then(|s| s.migrate.then_some(true)),
        roles: serve.and_then(|s| s.roles.clone()),
        meta: MetaOverrides {
            graph_url: serve.and_then(|s| s.meta_graph_url.clone()),
            access_token: serve.and_then(|s| s.meta_access_token.clone()),
            app_secret: serve.and_then(|s| s.meta_app_secret.clone()),
            verify_token: serve.and_then(|s| s.meta_verify_token.clone()),
        },
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    telemetry::init_logging(config.log_format);
    tracing::info!(?config, "starting parley");
    let schema = if config.migrate_on_start {
        Schema::Migrate
    } else {
        Schema::Require
    };
    let store = open_store(&config, schema).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let local_addr = listener.local_addr()?;
    let base_url = if config.public_url.is_empty() {
        format!("http://{local_addr}")
    } else {
        config.public_url.clone()
    };
    let data_dir = config.data_dir.clone();
    let platform = Platform::build(config, store, local_addr).await?;
    if !platform.config.has(Role::Api) {
        println!(
            "Listening on {base_url} as {:?} (no API on this node)",
            platform.config.roles
        );
        return platform.serve(listener, shutdown_signal()).await;
    }
    let first = bootstrap::run(&platform.store, platform.clock.clone(), &data_dir).await?;
    match &first.sandbox {
        Some(credentials) => {
            platform.register_channels().await?;
            bootstrap::record(
                &data_dir,
                "simulatorToken",
                &platform.state.simulator_access.token,
            )?;
            println!("{}", bootstrap::banner(credentials, &base_url, &data_dir));
        }
        None => println!(
            "Parley is using the existing data ({}); sandbox details are in {}",
            platform.store.backend_name(),
            bootstrap::bootstrap_file(&data_dir).display()
        ),
    }
    if let Some(admin) = &first.console_admin {
        println!("{}", bootstrap::console_banner(admin, &base_url));
    }
    println!("Listening on {base_url} (the console: {base_url}/console/)");
    platform.serve(listener, shutdown_signal()).await
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let store = open_store(&config, Schema::Migrate).await?;
    println!(
        "the {} database has every migration this build knows",
        store.backend_name()
    );
    Ok(())
}

async fn account_for(
    keys_store: &parley_store::SharedStore,
    given: Option<String>,
) -> anyhow::Result<AccountId> {
    if let Some(id) = given {
        return AccountId::parse(&id).map_err(|e| anyhow::anyhow!(e));
    }
    let accounts = keys_store.accounts().await?;
    match accounts.as_slice() {
        [only] => Ok(only.id.clone()),
        [] => anyhow::bail!("the database has no account yet: run `parley serve` once first"),
        _ => anyhow::bail!("several accounts exist: choose one with --account"),
    }
}

async fn keys(config: Config, command: KeysCommand) -> anyhow::Result<()> {
    let store = open_store(&config, Schema::Require).await?;
    // A one-off command: nothing to remember between lookups.
    let service = KeyService::new(store.clone(), Arc::new(SystemClock), Duration::zero());
    let now = SystemClock.now();
    match command {
        KeysCommand::Create { name, account } => {
            let account = account_for(&store, account).await?;
            let issued = service.create(&account, &name, now).await?;
            println!("{}", issued.secret);
            eprintln!(
                "key {} created for account {account}; it is not shown again",
                issued.record.id
            );
        }
        KeysCommand::List { account } => {
            let account = account_for(&store, account).await?;
            println!(
                "{:<38} {:<12} {:<24} {:<10} name",
                "id", "starts with", "created", "state"
            );
            for key in service.list(&account).await? {
                let state = if key.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{:<38} {:<12} {:<24} {:<10} {}",
                    key.id,
                    key.prefix,
                    key.created_at.format("%Y-%m-%d %H:%M:%S"),
                    state,
                    key.name
                );
            }
        }
        KeysCommand::Revoke { id } => {
            let id: ApiKeyId = id
                .parse()
                .context("key ids are UUIDs (see `parley keys list`)")?;
            if service.revoke(id, now).await? {
                println!("key {id} revoked");
            } else {
                anyhow::bail!("no active key {id}");
            }
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let serve_args = match &cli.command {
        Command::Serve(args) => Some(args),
        _ => None,
    };
    if let Command::Config = cli.command {
        print!("{}", parley_app::config::DEFAULTS);
        return ExitCode::SUCCESS;
    }
    let config = match Config::load(
        cli.global.config.as_deref(),
        &overrides(&cli.global, serve_args),
    ) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("parley: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Serve(_) => serve(config).await,
        Command::Migrate => migrate(config).await,
        Command::Keys(command) => keys(config, command).await,
        Command::Config => unreachable!("handled above"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("parley: {e:#}");
            ExitCode::FAILURE
        }
    }
}
