//! Parley's HTTP surfaces: the 8x8-compatible Chat Apps routes (at the root and under
//! `/chatapps`), the Meta webhook intake, and the operations endpoints. Handlers extract,
//! call a core service and map the result; every 8x8 error leaves through [`ApiError`] as
//! the documented envelope.
//!
//! Depends on `core` services and the `channels` contracts; knows no storage backend and
//! no provider's wire (`/meta/webhook` reads through a [`parley_channels::WebhookIntake`]).

mod auth;
mod console;
mod contacts;
mod dto;
mod error;
mod extract;
mod files;
mod logs;
mod messages;
mod meta_webhook;
pub mod openapi;
mod ops;
pub mod rate_limit;
mod sim_access;
mod templates;
mod usage;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use parley_core::console::ConsoleService;
use parley_core::contacts::ContactService;
use parley_core::inbound::InboundService;
use parley_core::keys::KeyService;
use parley_core::logs::{LogExports, LogQueryService};
use parley_core::media::FileHosting;
use parley_core::messages::MessageService;
use parley_core::pricing::UsageService;
use parley_core::templates::TemplateService;
use parley_core::webhooks::WebhookService;
use parley_store::SharedStore;
use parley_types::SharedClock;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use metrics_exporter_prometheus::PrometheusHandle;
pub use sim_access::SimulatorAccess;

/// Largest JSON body the 8x8 routes accept.
pub const MAX_JSON_BODY: usize = 1024 * 1024;
/// Largest batch body: 10,000 messages of up to about 3 KB each.
pub const MAX_BATCH_BODY: usize = 32 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub store: SharedStore,
    pub messages: MessageService,
    pub keys: KeyService,
    pub inbound: InboundService,
    pub templates: TemplateService,
    pub webhooks: Arc<WebhookService>,
    pub usage: UsageService,
    pub contacts: ContactService,
    /// Console users and their sessions.
    pub console: ConsoleService,
    pub clock: SharedClock,
    /// Uploaded and re-hosted files.
    pub files: FileHosting,
    pub logs: LogQueryService,
    pub exports: LogExports,
    /// Wakes the job worker (which builds exports) when an export is queued.
    pub export_wake: Arc<tokio::sync::Notify>,
    /// The per-subaccount and per-IP request limits.
    pub limits: Arc<rate_limit::RateLimits>,
    /// How each channel kind's provider webhooks are authenticated and read
    /// (`/meta/webhook` is WhatsApp's).
    pub intakes: Arc<parley_channels::Intakes>,
    pub metrics: Option<PrometheusHandle>,
    /// Served at `/openapi.json`: [`openapi::document`] plus the app's other surfaces.
    pub openapi: Arc<utoipa::openapi::OpenApi>,
    /// Who may use the simulator's control API.
    pub simulator_access: Arc<SimulatorAccess>,
    /// The console's live view (`/console/api/events`), fed by the event consumer.
    pub live: Arc<parley_core::events::LiveUpdates>,
}

/// The 8x8 Chat Apps routes, relative to a product base URL.
fn chatapps() -> Router<AppState> {
    messages::router()
        .merge(templates::router())
        .merge(webhooks::router())
        .merge(usage::router())
        .merge(contacts::router())
        .merge(files::api_router())
        .merge(logs::router())
}

/// Every HTTP surface of a node: the operations endpoints always, the 8x8 API, the
/// console and Meta's webhook when it has the api role (`api`), and the simulator's routes
/// under `/sim` when it runs one.
pub fn router(state: AppState, simulator: Option<Router>, api: bool) -> Router {
    let mut app = Router::new().merge(ops::router());
    if api {
        let chat_apps = Router::new()
            .merge(chatapps())
            .nest("/chatapps", chatapps())
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                console::session::guard,
            ))
            .fallback(error::not_found)
            .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
            .layer(axum::middleware::from_fn_with_state(
                state.limits.clone(),
                rate_limit::per_ip,
            ));
        app = app
            .merge(meta_webhook::router())
            .merge(files::download_router())
            .merge(console::router(state.clone()))
            .merge(console::assets_router())
            .merge(chat_apps);
    }
    let mut app = app.with_state(state.clone());
    if let Some(simulator) = simulator {
        // A console session is held to its role (the outer layer, so it runs first);
        // otherwise the control API needs the simulator token, unless it is open.
        let guarded = simulator
            .route_layer(axum::middleware::from_fn_with_state(
                state.simulator_access.clone(),
                sim_access::guard,
            ))
            .route_layer(axum::middleware::from_fn_with_state(
                state,
                console::session::guard,
            ));
        app = app.nest("/sim", guarded);
    }
    app.layer(axum::middleware::from_fn(ops::track_requests))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(TraceLayer::new_for_http())
}
