//! The `parley` binary's library half: configuration, the one composition root that builds
//! every service once ([`Platform::build`]), and [`Platform::serve`], which runs the HTTP
//! surfaces and the background workers side by side until a shutdown future resolves.
//!
//! This is the only crate that knows which storage backends and channels exist.

pub mod bootstrap;
pub mod config;
pub mod http_server;
mod pricing_config;
pub mod simulator_token;
pub mod telemetry;
mod webhook_http;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use anyhow::Context;
use chrono::Duration;
use parley_api::AppState;
use parley_api::rate_limit::{RateLimitConfig, RateLimits};
use parley_channel_meta::{MetaAdapter, MetaConfig, MetaIntake};
use parley_channels::{Adapters, ChannelAdapter, Intakes};
use parley_core::console::ConsoleService;
use parley_core::contacts::{ContactService, OptOutKeywords};
use parley_core::dispatch::{DispatchConfig, Dispatcher, PacingConfig};
use parley_core::events::{Consumer, EventRunner, LiveUpdates, RunnerConfig, UsageCounters};
use parley_core::housekeeping::Housekeeper;
use parley_core::inbound::{InboundMedia, InboundService};
use parley_core::keys::KeyService;
use parley_core::logs::{ExportConfig, ExportRunner, LogExports, LogQueryService};
use parley_core::media::{FileHosting, HostingConfig, MediaUploads};
use parley_core::messages::MessageService;
use parley_core::pricing::UsageService;
use parley_core::templates::TemplateService;
use parley_core::webhooks::health::HealthConfig;
use parley_core::webhooks::targets::TargetPolicy;
use parley_core::webhooks::{DeliveryConfig, WebhookDeliverer, WebhookOutbox, WebhookService};
use parley_jobs::{JobWorker, WorkerConfig};
use parley_simulator::{Business, DeliverySchedule, Simulator, SimulatorConfig};
use parley_store::SharedStore;
use parley_store_postgres::PostgresStore;
use parley_store_sqlite::SqliteStore;
use parley_types::{AdjustableClock, ChannelKind, SharedClock, SystemClock};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

pub use config::{Config, Role};
pub use webhook_http::HttpTransport;

/// What opening the database does about migrations this build has and it lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// Apply them (`parley migrate`; `serve` on SQLite or when told to).
    Migrate,
    /// Refuse to start while any is missing: on a cluster, a rolling upgrade migrates
    /// first (`parley migrate`) and then restarts its nodes.
    Require,
}

/// Opens the configured database (creating the data directory for SQLite). SQLite is
/// always migrated: one process owns the file, so there is no rollout to order.
pub async fn open_store(config: &Config, schema: Schema) -> anyhow::Result<SharedStore> {
    if let Some(url) = config.postgres() {
        let store = PostgresStore::connect(url, config.database_pool_size)
            .await
            .context("connecting to PostgreSQL")?;
        match schema {
            Schema::Migrate => {
                let applied = store.migrate().await.context("migrating PostgreSQL")?;
                if applied > 0 {
                    tracing::info!(applied, "applied database migrations");
                }
            }
            Schema::Require => {
                let pending = store.pending_migrations().await?;
                if !pending.is_empty() {
                    anyhow::bail!(
                        "the database lacks {} migration(s) this build needs (versions {:?}): \
                         run `parley migrate` first, or start with `serve --migrate` \
                         (or migrate_on_start = true)",
                        pending.len(),
                        pending
                    );
                }
            }
        }
        return Ok(Arc::new(store));
    }
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let path = config.data_dir.join("parley.db");
    let store = SqliteStore::open(&path)
        .await
        .with_context(|| format!("opening SQLite database {}", path.display()))?;
    Ok(Arc::new(store))
}

/// How often a simulator node without the api role rereads the business numbers.
const CHANNEL_REFRESH: StdDuration = StdDuration::from_secs(2);

/// Everything built once at start.
pub struct Platform {
    pub config: Config,
    pub store: SharedStore,
    pub state: AppState,
    pub dispatcher: Arc<Dispatcher>,
    /// Wakes the dispatcher (new work was queued).
    pub dispatch_wake: Arc<Notify>,
    pub webhooks: Arc<WebhookDeliverer>,
    /// Builds log exports and removes expired files.
    pub housekeeper: Arc<Housekeeper>,
    /// Hands the domain events to this node's consumers.
    pub events: Arc<EventRunner>,
    /// Fires due timers and runs due jobs.
    pub jobs: Arc<JobWorker>,
    /// The embedded WhatsApp simulator, unless Parley talks to Meta.
    pub simulator: Option<Simulator>,
    pub clock: SharedClock,
    /// Set when the clock can be moved (simulator mode).
    pub adjustable_clock: Option<Arc<AdjustableClock>>,
    pub local_addr: SocketAddr,
}

/// How a local listener is reached from this process (a wildcard bind is reached on loopback).
fn reachable(addr: SocketAddr) -> SocketAddr {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    addr
}

impl Platform {
    /// Builds the platform for a listener already bound at `local_addr` (so tests can bind
    /// port 0 and the simulator knows where to post webhooks).
    pub async fn build(
        config: Config,
        store: SharedStore,
        local_addr: SocketAddr,
    ) -> anyhow::Result<Self> {
        Self::build_with_clock(config, store, local_addr, Arc::new(AdjustableClock::new())).await
    }

    /// [`Self::build`] with the clock that simulator mode uses (tests stop it); ignored
    /// when live, where time is the system's.
    pub async fn build_with_clock(
        config: Config,
        store: SharedStore,
        local_addr: SocketAddr,
        simulated_clock: Arc<AdjustableClock>,
    ) -> anyhow::Result<Self> {
        // reqwest is built without a default TLS provider; pick ring (cheaper to build).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let self_url = format!("http://{}", reachable(local_addr));
        let (clock, adjustable_clock): (SharedClock, _) = if config.live() {
            (Arc::new(SystemClock), None)
        } else {
            (simulated_clock.clone(), Some(simulated_clock.clone()))
        };
        let meta = MetaConfig {
            graph_url: if config.live() {
                config.meta.graph_url.clone()
            } else {
                format!("{self_url}/sim/graph")
            },
            api_version: config.meta.api_version.clone(),
            access_token: config.meta.access_token.clone(),
            app_secret: config.meta.app_secret.clone(),
            verify_token: config.meta.verify_token.clone(),
        };
        // Every adapter is found by its channel kind; WhatsApp's is Meta's Graph API.
        let whatsapp: Arc<dyn ChannelAdapter> =
            Arc::new(MetaAdapter::new(meta.clone()).context("building the Graph API client")?);
        let adapter: Arc<dyn ChannelAdapter> =
            Arc::new(Adapters::default().with(ChannelKind::WhatsApp, whatsapp));
        // The simulator keeps simulated time even on a node whose own work is live: it
        // plays Meta for the other nodes of a cluster.
        let simulator_config = config.has(Role::Simulator).then(|| {
            let sim = &config.simulator;
            let webhook_url = if sim.webhook_url.is_empty() {
                format!("{self_url}/meta/webhook")
            } else {
                sim.webhook_url.clone()
            };
            SimulatorConfig {
                access_token: meta.access_token.clone(),
                app_secret: meta.app_secret.clone(),
                webhook_url,
                verify_token: meta.verify_token.clone(),
                schedule: DeliverySchedule {
                    delivered_after: Duration::milliseconds(sim.delivered_after_ms as i64),
                    read_after: Duration::milliseconds(sim.read_after_ms as i64),
                    auto_read: sim.auto_read,
                    seed: sim.seed,
                    review_after: Duration::milliseconds(sim.review_after_ms as i64),
                    statuses_per_webhook: sim.statuses_per_webhook.max(1),
                },
            }
        });
        let simulator = match simulator_config {
            None => None,
            Some(sim_config) => {
                let clock = simulated_clock.clone();
                Some(match config.simulator_state_file() {
                    Some(path) => Simulator::open(sim_config, clock, &path)
                        .await
                        .map_err(|e| anyhow::anyhow!(e))
                        .context("opening the simulator's state file")?,
                    None => Simulator::new(sim_config, clock),
                })
            }
        };
        let storage = parley_media::MediaStorage::open(&config.media.storage, &config.data_dir)
            .context("opening the media storage")?;
        let public_url = if config.public_url.is_empty() {
            self_url.clone()
        } else {
            config.public_url.clone()
        };
        let files = FileHosting::new(
            store.clone(),
            storage.clone(),
            clock.clone(),
            hosting_config(&config, public_url.clone()),
        );
        let wake = Arc::new(Notify::new());
        let dispatcher = Arc::new(
            Dispatcher::new(
                store.clone(),
                adapter.clone(),
                clock.clone(),
                wake.clone(),
                DispatchConfig {
                    batch: config.dispatch.batch,
                    concurrency: config.dispatch.concurrency,
                    lease: Duration::seconds(i64::from(config.dispatch.lease_seconds)),
                    unconfirmed_grace: Duration::seconds(i64::from(
                        config.dispatch.unconfirmed_grace_seconds,
                    )),
                    after_crash: config.dispatch.after_crash.into(),
                    pacing: PacingConfig {
                        per_number: config.dispatch.throughput_per_number,
                    },
                    default_messaging_limit: parley_core::dispatch::reach::tier_limit(
                        &config.dispatch.default_messaging_limit,
                    )
                    .flatten(),
                    ..DispatchConfig::default()
                },
            )
            .with_media_uploads(MediaUploads::new(
                files.clone(),
                adapter.clone(),
                clock.clone(),
            )),
        );
        let dispatch_wake = wake.clone();
        // The sandbox delivers anywhere; live, internal addresses only when allowed.
        let targets = if config.live() {
            TargetPolicy::guarded(&config.webhooks.allow_targets)
                .map_err(|e| anyhow::anyhow!("webhooks.allow_targets: {e}"))?
        } else {
            TargetPolicy::open()
        };
        let webhooks = Arc::new(WebhookDeliverer::new(
            store.clone(),
            Arc::new(HttpTransport::new(targets.clone()).context("building the webhook client")?),
            clock.clone(),
            DeliveryConfig {
                timeout: StdDuration::from_millis(config.webhooks.timeout_ms),
                concurrency: config.webhooks.concurrency,
                per_account: config.webhooks.per_account,
                lease: Duration::seconds(i64::from(config.webhooks.lease_seconds)),
                health: HealthConfig {
                    failing_after: Duration::seconds(i64::from(
                        config.webhooks.failing_after_seconds,
                    )),
                    probe_every: Duration::seconds(i64::from(
                        config.webhooks.failing_probe_seconds,
                    )),
                },
                ..DeliveryConfig::default()
            },
        ));
        let mut openapi = parley_api::openapi::document();
        if simulator.is_some() {
            openapi.merge(parley_simulator::openapi());
        }
        let lookup_ttl = Duration::seconds(i64::from(config.cache.lookup_seconds));
        let templates =
            TemplateService::new(store.clone(), adapter.clone(), clock.clone(), lookup_ttl);
        let rate_card = Arc::new(config.pricing.rate_card().map_err(|e| anyhow::anyhow!(e))?);
        let exports = LogExports::new(
            store.clone(),
            storage.clone(),
            clock.clone(),
            ExportConfig {
                link_ttl: Duration::hours(i64::from(config.logs.export_link_hours)),
                retention: Duration::days(i64::from(config.logs.retention_days)),
                public_url: public_url.clone(),
                page: 5_000,
            },
        );
        let (simulator_token, _) =
            simulator_token::load_or_create(&config.simulator.control_token, &config.data_dir)?;
        let simulator_access = Arc::new(parley_api::SimulatorAccess {
            token: simulator_token,
            open: config.simulator.open_on_loopback && local_addr.ip().is_loopback(),
        });
        let console = ConsoleService::new(store.clone(), clock.clone());
        let export_runner = ExportRunner::new(exports.clone());
        let housekeeper = Arc::new(Housekeeper::new(
            store.clone(),
            clock.clone(),
            files.clone(),
            export_runner.clone(),
            console.clone(),
            Duration::days(i64::from(config.events.retention_days)),
        ));
        let live = Arc::new(LiveUpdates::default());
        let events = Arc::new(event_runner(&config, &store, &clock, &live, &webhooks));
        let jobs = Arc::new(job_worker(&config, &store, &clock).with(Arc::new(export_runner)));
        let state = AppState {
            store: store.clone(),
            messages: MessageService::new(
                store.clone(),
                adapter.clone(),
                clock.clone(),
                wake.clone(),
                lookup_ttl,
                templates.clone(),
            ),
            keys: KeyService::new(store.clone(), clock.clone(), lookup_ttl),
            console,
            clock: clock.clone(),
            inbound: InboundService::new(
                store.clone(),
                clock.clone(),
                lookup_ttl,
                templates.clone(),
                rate_card.clone(),
                OptOutKeywords::new(
                    &config.opt_out.stop_keywords,
                    &config.opt_out.start_keywords,
                ),
            )
            .with_media(InboundMedia {
                adapter: adapter.clone(),
                files: files.clone(),
            }),
            templates,
            usage: UsageService::new(store.clone(), clock.clone(), rate_card),
            contacts: ContactService::new(store.clone(), clock.clone()),
            files,
            logs: LogQueryService::new(store.clone()),
            exports,
            export_wake: jobs.wake.clone(),
            limits: Arc::new(RateLimits::new(
                RateLimitConfig {
                    per_sub_account: config.api.rate_limit_per_subaccount,
                    per_ip: config.api.rate_limit_per_ip,
                },
                clock.clone(),
            )),
            webhooks: Arc::new(WebhookService::new(store.clone(), clock.clone(), targets)),
            intakes: Arc::new(Intakes::default().with(
                ChannelKind::WhatsApp,
                Arc::new(MetaIntake {
                    app_secret: meta.app_secret,
                    verify_token: meta.verify_token,
                }),
            )),
            metrics: telemetry::metrics_handle(),
            openapi: Arc::new(openapi),
            simulator_access,
            live,
        };
        let platform = Self {
            config,
            store,
            state,
            dispatcher,
            dispatch_wake,
            webhooks,
            housekeeper,
            events,
            jobs,
            simulator,
            clock,
            adjustable_clock,
            local_addr,
        };
        platform.register_channels().await?;
        Ok(platform)
    }

    /// Makes every stored business number known to the simulator.
    pub async fn register_channels(&self) -> anyhow::Result<()> {
        match &self.simulator {
            Some(simulator) => register_channels(&self.store, simulator).await,
            None => Ok(()),
        }
    }

    pub fn router(&self) -> axum::Router {
        parley_api::router(
            self.state.clone(),
            self.simulator.as_ref().map(Simulator::router),
            self.config.has(Role::Api),
        )
    }

    /// Serves HTTP and runs the dispatcher and simulator until `shutdown` resolves; then
    /// stops taking requests, lets in-flight requests and the current dispatch round
    /// finish, and returns.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop, stopped) = watch::channel(false);
        let mut workers = Vec::new();
        if self.config.has(Role::Workers) {
            workers.push(tokio::spawn(self.dispatcher.clone().run(stopped.clone())));
            workers.push(tokio::spawn(self.webhooks.clone().run(stopped.clone())));
            workers.push(tokio::spawn(self.housekeeper.clone().run(stopped.clone())));
            workers.push(tokio::spawn(self.jobs.clone().run(stopped.clone())));
            if let Some(url) = self.config.postgres() {
                workers.push(tokio::spawn(wake_on_new_work(
                    url.to_owned(),
                    self.dispatch_wake.clone(),
                    stopped.clone(),
                )));
            }
        }
        if self.config.has(Role::Workers) || self.config.has(Role::Api) {
            workers.push(tokio::spawn(self.events.clone().run(stopped.clone())));
        }
        if let Some(simulator) = self.simulator.clone() {
            if self.state.simulator_access.open {
                tracing::info!(
                    listen = %self.local_addr,
                    "the simulator's control API (/sim/api) is open to callers without credentials: parley listens on loopback only"
                );
            } else {
                tracing::info!(
                    token_file = %simulator_token::token_file(&self.config.data_dir).display(),
                    "the simulator's control API (/sim/api) needs a console session or the simulator token"
                );
            }
            workers.push(tokio::spawn(simulator.clone().run(stopped.clone())));
            if !self.config.has(Role::Api) {
                // Business numbers are made by the api nodes; learn them as they appear.
                workers.push(tokio::spawn(follow_channels(
                    self.store.clone(),
                    simulator.clone(),
                    stopped.clone(),
                )));
            }
        }
        let app = self.router();
        let limits = self.config.http.limits();
        // Open event streams (a console tab) never end by themselves: close them as soon as
        // shutdown begins, or the graceful shutdown would wait for them forever.
        let simulator = self.simulator.clone();
        let live = self.state.live.clone();
        let shutdown = async move {
            shutdown.await;
            live.close();
            if let Some(simulator) = simulator {
                simulator.close_events();
            }
        };
        let served = http_server::serve(listener, app, limits, shutdown)
            .await
            .context("serving HTTP");
        let _ = stop.send(true);
        for worker in workers {
            if tokio::time::timeout(StdDuration::from_secs(30), worker)
                .await
                .is_err()
            {
                tracing::warn!("a background worker did not stop within 30 s");
            }
        }
        tracing::info!("parley stopped");
        served
    }
}

/// The node's event consumers: the customer webhooks' outbox and the usage counters where
/// workers run (one node at a time works each, under a lease), the console's live view
/// where the console is served; less those the configuration pauses.
fn event_runner(
    config: &Config,
    store: &SharedStore,
    clock: &SharedClock,
    live: &Arc<LiveUpdates>,
    webhooks: &WebhookDeliverer,
) -> EventRunner {
    let mut runner_config = RunnerConfig::new(node_name(config));
    runner_config.batch = config.events.batch.max(1);
    runner_config.lease = Duration::seconds(i64::from(config.events.lease_seconds));
    let mut consumers: Vec<Arc<dyn Consumer>> = Vec::new();
    if config.has(Role::Workers) {
        consumers.push(Arc::new(WebhookOutbox::new(
            store.clone(),
            webhooks.wake.clone(),
        )));
        consumers.push(Arc::new(UsageCounters));
    }
    if config.has(Role::Api) {
        consumers.push(live.clone());
    }
    consumers
        .into_iter()
        .filter(|c| !config.events.paused.iter().any(|name| name == c.name()))
        .fold(
            EventRunner::new(store.clone(), clock.clone(), runner_config),
            EventRunner::with,
        )
}

/// The node's timers and work jobs; handlers for work queues are added by the caller.
fn job_worker(config: &Config, store: &SharedStore, clock: &SharedClock) -> JobWorker {
    let mut worker_config = WorkerConfig::new(node_name(config));
    worker_config.timer_batch = config.jobs.timer_batch.max(1);
    worker_config.lease = Duration::seconds(i64::from(config.jobs.lease_seconds));
    JobWorker::new(store.clone(), clock.clone(), worker_config)
}

/// This node as the owner of leases: its host and listen address, so a node restarted
/// after a crash takes its own leases back at once while other nodes stay apart.
fn node_name(config: &Config) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{host}/{}", config.listen)
}

/// Wakes this node's dispatcher whenever any node queues messages (PostgreSQL's
/// `LISTEN/NOTIFY`, on a connection of its own).
async fn wake_on_new_work(url: String, wake: Arc<Notify>, stopped: watch::Receiver<bool>) {
    let relayed = async {
        PostgresStore::connect(&url, 1)
            .await?
            .relay_notifications(parley_store_postgres::DISPATCH_CHANNEL, wake, stopped)
            .await
    };
    if let Err(e) = relayed.await {
        tracing::warn!(error = %e, "not listening for new work; idle dispatchers poll");
    }
}

async fn register_channels(store: &SharedStore, simulator: &Simulator) -> anyhow::Result<()> {
    for channel in store.channels().await? {
        simulator.register_business(Business {
            phone_number_id: channel.phone_number_id,
            display_number: channel.business_number,
            waba_id: channel.waba_id,
            alias: Some(channel.id.to_string()),
        });
    }
    Ok(())
}

/// Registers the stored business numbers with the simulator every few seconds until
/// `stopped`: a simulator node of a cluster learns the numbers the api nodes create.
async fn follow_channels(
    store: SharedStore,
    simulator: Simulator,
    mut stopped: watch::Receiver<bool>,
) {
    while !*stopped.borrow() {
        if let Err(e) = register_channels(&store, &simulator).await {
            tracing::warn!(error = %e, "could not read the business numbers");
        }
        tokio::select! {
            _ = tokio::time::sleep(CHANNEL_REFRESH) => {}
            _ = stopped.changed() => {}
        }
    }
}

fn hosting_config(config: &Config, public_url: String) -> HostingConfig {
    HostingConfig {
        upload_retention: Duration::days(i64::from(config.media.upload_retention_days)),
        inbound_retention: Duration::hours(i64::from(config.media.inbound_retention_hours)),
        public_url,
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::info!("shutdown requested; finishing in-flight work");
}
