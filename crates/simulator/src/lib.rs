//! The WhatsApp simulator: an emulator of Meta's Graph API (same endpoints, payloads,
//! error objects and signed webhooks) with simulated phones, and a control API through
//! which a person or a test acts as the end user and moves the clock.
//!
//! Policies enforced: the 24-hour customer-service window (131047), the free entry point
//! and per-message pricing (`windows`), throughput (130429) and the pair rate (131056)
//! (`throughput`), the portfolio's messaging limit and its upgrades (131048, `limits`),
//! each number's quality rating from users' blocks and reports and the template pauses it
//! leads to (`quality`, `policy`), and users not on WhatsApp or who blocked the number
//! (131026; every number whose E.164 digits start with [`NOT_ON_WHATSAPP_PREFIX`] is not on
//! WhatsApp), and media as Meta takes it (uploads and links checked by content, type and
//! size, 131053; user files over 100 MB arrive unsupported, 131052; `media`). A person
//! can make sends fail or answer slowly on purpose (`faults`) and follow every change of
//! the phones' chats and the templates as server-sent events (`events`).
//! State is kept in memory and, when the simulator is opened on a state file (`persist`),
//! on disk, so a restart keeps every template, chat, window, tier and pending receipt; a
//! send is answered only once it is on disk. The Graph wire types, the template and interactive readers and
//! the webhook signing are the simulator's own (`wire`, `template_send`,
//! `interactive_send`), written from Meta's documents, never Parley's adapter's: a test
//! double that shared its code would mirror the adapter's mistakes. Depends on neither
//! the adapter nor Parley's core or storage: it only talks HTTP, like Meta.

mod answers;
mod control;
mod events;
mod faults;
mod feedback_api;
mod graph;
mod interactive_send;
mod limits;
mod media;
mod media_api;
mod persist;
mod policy;
mod pump;
mod quality;
mod reach;
mod rules_api;
mod saved;
mod state;
mod template_api;
mod template_send;
mod templates;
mod throughput;
mod updates;
mod users;
mod windows;
pub mod wire;

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration as StdDuration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use chrono::Duration;
use parley_types::{AdjustableClock, Clock};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::{Notify, watch};

pub use pump::PumpReport;

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    graph::messages,
    media_api::upload,
    media_api::retrieve,
    media_api::remove,
    media_api::download,
    media_api::phone_upload,
    media_api::media_bytes,
    control::list_phones,
    control::phone_messages,
    control::phone_sends,
    control::phone_reads,
    control::clock,
    control::advance_clock,
    control::sends,
    control::businesses,
    updates::update,
    rules_api::window,
    rules_api::limits,
    rules_api::set_limits,
    feedback_api::block,
    feedback_api::unblock,
    feedback_api::report,
    template_api::create,
    template_api::list,
    template_api::remove,
    template_api::control_list,
    template_api::act,
    answers::tap,
    events::events,
    faults::faults,
    faults::set_faults,
))]
struct SimulatorDoc;

/// The simulator's routes as mounted under `/sim`, for `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <SimulatorDoc as utoipa::OpenApi>::openapi()
}
pub use state::{Business, PhoneMessage};

/// Numbers whose E.164 digits start with this (the unassigned country code +999) are "not
/// on WhatsApp": sends to them fail with 131026.
pub const NOT_ON_WHATSAPP_PREFIX: &str = "999";

/// When simulated phones acknowledge a message. Each delay is varied by ±20% with a seeded
/// random source, so a run is reproducible for a given seed.
#[derive(Debug, Clone)]
pub struct DeliverySchedule {
    pub delivered_after: Duration,
    pub read_after: Duration,
    /// `false`: messages stay `delivered` until the phone reads them via the control API.
    pub auto_read: bool,
    pub seed: u64,
    /// How long template review takes.
    pub review_after: Duration,
    /// Most delivery receipts one webhook carries. Meta batches them; a client that reads
    /// one status per webhook (pywa reads `statuses[0]`) needs 1.
    pub statuses_per_webhook: usize,
}

impl Default for DeliverySchedule {
    fn default() -> Self {
        Self {
            delivered_after: Duration::seconds(1),
            read_after: Duration::seconds(3),
            auto_read: true,
            seed: 1,
            review_after: Duration::seconds(5),
            statuses_per_webhook: pump::MAX_STATUSES_PER_WEBHOOK,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// The token Graph requests must carry.
    pub access_token: String,
    /// Signs every webhook (`X-Hub-Signature-256`).
    pub app_secret: String,
    /// Where webhooks go (Parley's `/meta/webhook`), and the token its handshake expects.
    pub webhook_url: String,
    pub verify_token: String,
    pub schedule: DeliverySchedule,
}

pub(crate) struct Inner {
    config: SimulatorConfig,
    clock: Arc<AdjustableClock>,
    state: Mutex<state::State>,
    rng: Mutex<StdRng>,
    http: reqwest::Client,
    wake: Notify,
    /// Signs media URLs, so that only this simulator issues them.
    media_key: [u8; 32],
    /// Serialises webhook delivery so receipts for one message leave in order.
    delivering: tokio::sync::Mutex<pump::Delivery>,
    /// Tells the console's event streams what changed.
    announcer: events::Announcer,
    /// Where the state is kept across restarts; `None`: in memory only.
    state_file: Option<persist::StateFile>,
    /// The state changed since it was last saved.
    dirty: AtomicBool,
    /// One save at a time, so a later snapshot never lands before an earlier one.
    saving: tokio::sync::Mutex<Option<Instant>>,
}

/// A handle to the simulator; cheap to clone.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

/// How often the state is saved at most while sends change it (every other change is
/// saved before it is answered).
const SAVE_EVERY: StdDuration = StdDuration::from_secs(1);

impl Simulator {
    /// A simulator whose state lives in memory only.
    pub fn new(config: SimulatorConfig, clock: Arc<AdjustableClock>) -> Self {
        Self::with_state(config, clock, state::State::default(), None)
    }

    /// A simulator that keeps its state in the SQLite file at `path` (created if
    /// missing), starting from what the file holds.
    pub async fn open(
        config: SimulatorConfig,
        clock: Arc<AdjustableClock>,
        path: &Path,
    ) -> Result<Self, String> {
        let file = persist::StateFile::open(path).await?;
        let state = file.load().await?;
        let restored = state.is_some();
        // Simulated time moved on before the restart (`POST /api/clock/advance`): resume
        // from there rather than from the wall clock.
        if let Some(saved_at) = state.as_ref().and_then(|s| s.saved_at) {
            let behind = saved_at - clock.now();
            if behind > Duration::zero() {
                clock.advance(behind);
            }
        }
        let sim = Self::with_state(config, clock, state.unwrap_or_default(), Some(file));
        if restored {
            tracing::info!(path = %path.display(), "the simulator picked up where it stopped");
            // The replayed journal now lives in the snapshot.
            sim.inner.dirty.store(true, Ordering::SeqCst);
            sim.save().await;
        }
        Ok(sim)
    }

    fn with_state(
        config: SimulatorConfig,
        clock: Arc<AdjustableClock>,
        state: state::State,
        state_file: Option<persist::StateFile>,
    ) -> Self {
        let rng = StdRng::seed_from_u64(config.schedule.seed);
        let http = reqwest::Client::builder()
            .timeout(StdDuration::from_secs(10))
            .build()
            .expect("a plain http client always builds");
        Self {
            inner: Arc::new(Inner {
                config,
                clock,
                state: Mutex::new(state),
                rng: Mutex::new(rng),
                http,
                wake: Notify::new(),
                media_key: rand::random(),
                delivering: tokio::sync::Mutex::new(pump::Delivery::default()),
                announcer: events::Announcer::new(),
                state_file,
                dirty: AtomicBool::new(false),
                saving: tokio::sync::Mutex::new(None),
            }),
        }
    }

    /// Writes the state to its file, if it has one and it changed since the last save.
    pub async fn save(&self) {
        let Some(file) = &self.inner.state_file else {
            return;
        };
        let mut last = self.inner.saving.lock().await;
        if !self.inner.dirty.swap(false, Ordering::SeqCst) {
            return;
        }
        let snapshot = {
            let mut state = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
            state.saved_at = Some(self.inner.clock.now());
            serde_json::to_string(&*state)
                .map(|json| (json, state.journal_seq, file.file_changes(&state)))
        };
        let saved = match snapshot {
            Ok((json, seq, files)) => file.save(json, seq, files, self.inner.clock.now()).await,
            Err(e) => Err(e.to_string()),
        };
        match saved {
            Ok(()) => *last = Some(Instant::now()),
            Err(e) => {
                tracing::error!(error = %e, "the simulator's state was not saved; will retry");
                self.inner.dirty.store(true, Ordering::SeqCst);
            }
        }
    }

    /// Saves if the state changed and the last save is [`SAVE_EVERY`] old.
    async fn save_if_due(&self) {
        let due = self
            .inner
            .saving
            .try_lock()
            .is_ok_and(|last| last.is_none_or(|at| at.elapsed() >= SAVE_EVERY));
        if due && self.inner.dirty.load(Ordering::SeqCst) {
            self.save().await;
        }
    }

    /// Makes a business number known to the simulated Graph API. `alias` is the id the
    /// control API accepts as `channelId` (Parley's channel id).
    pub fn register_business(&self, business: Business) {
        // A number already known as it is changes nothing (a simulator node learns the
        // numbers again every few seconds), so nothing has to be saved.
        if self.inner.state().business(&business.phone_number_id) == Some(&business) {
            return;
        }
        self.inner.state().register(business);
    }

    /// The Graph API emulator under `/graph/{version}/…` and the control API under `/api/…`.
    pub fn router(&self) -> Router {
        Router::new()
            .merge(graph::router())
            .merge(media_api::graph_router())
            .merge(media_api::control_router())
            .merge(template_api::graph_router())
            .merge(control::router())
            .merge(updates::router())
            .merge(rules_api::router())
            .merge(feedback_api::router())
            .merge(template_api::control_router())
            .merge(answers::router())
            .merge(events::router())
            .merge(faults::router())
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                save_after_change,
            ))
            .with_state(self.clone())
    }

    /// Delivers every webhook that is due now; what a test calls instead of sleeping.
    pub async fn run_once(&self) -> PumpReport {
        pump::run_once(&self.inner).await
    }

    /// Delivers webhooks as they come due until `shutdown` turns true, saving the state as
    /// it goes and once more at the end.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            let report = self.run_once().await;
            self.save_if_due().await;
            let pause = if report.blocked {
                StdDuration::from_secs(1)
            } else {
                StdDuration::from_millis(100)
            };
            tokio::select! {
                _ = shutdown.changed() => {}
                _ = self.inner.wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
        self.save().await;
    }

    pub fn clock(&self) -> &AdjustableClock {
        &self.inner.clock
    }

    /// Ends every open `GET /api/events` stream, and those opened later at once. An event
    /// stream never finishes by itself, so a server that waits for in-flight requests
    /// before it stops must call this when its shutdown begins.
    pub fn close_events(&self) {
        self.inner.announcer.close();
    }
}

/// The locked state. What changed while it was held is announced when it is released,
/// before another request can read the state, so a reader that refetches on an event sees
/// the change.
pub(crate) struct StateGuard<'a> {
    state: MutexGuard<'a, state::State>,
    announcer: &'a events::Announcer,
    dirty: &'a AtomicBool,
}

impl Deref for StateGuard<'_> {
    type Target = state::State;

    fn deref(&self) -> &state::State {
        &self.state
    }
}

impl DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut state::State {
        self.dirty.store(true, Ordering::SeqCst);
        &mut self.state
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        let changes = self.state.changes.take();
        if !changes.is_empty() {
            self.announcer.announce(changes);
        }
    }
}

impl Inner {
    fn state(&self) -> StateGuard<'_> {
        StateGuard {
            // A panic while holding the lock would leave plain data behind, still usable.
            state: self.state.lock().unwrap_or_else(|p| p.into_inner()),
            announcer: &self.announcer,
            dirty: &self.dirty,
        }
    }

    /// `base` varied by ±20%.
    fn jitter(&self, base: Duration) -> Duration {
        use rand::Rng;
        let factor = self
            .rng
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .random_range(0.8..1.2);
        Duration::milliseconds((base.num_milliseconds() as f64 * factor) as i64)
    }
}

/// Whether a request to the simulator's routes (as nested, without `/sim`) is a Graph
/// send or mark-as-read: the journal keeps sends, every other change is saved whole.
fn is_graph_send(path: &str) -> bool {
    path.starts_with("/graph/") && path.ends_with("/messages")
}

/// Saves the state before answering a request that changed it (a phone writing, a
/// template reviewed, a fault set): what a caller was told happened survives a crash.
async fn save_after_change(
    axum::extract::State(sim): axum::extract::State<Simulator>,
    request: Request,
    next: Next,
) -> Response {
    let changes = !matches!(*request.method(), Method::GET | Method::HEAD)
        && !is_graph_send(request.uri().path());
    let response = next.run(request).await;
    if changes && response.status().is_success() {
        sim.save().await;
    }
    response
}
