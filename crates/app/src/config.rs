//! Configuration: commented defaults embedded in the binary (`defaults.toml`), then an
//! optional file, then `PARLEY_*` variables, then flags. Validated before anything starts;
//! secrets are redacted from `Debug` so they never reach a log line.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use crate::pricing_config::{PricingSection, VolumeTierSection};

pub const DEFAULTS: &str = include_str!("../defaults.toml");

#[derive(Clone, Deserialize)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Connections each node keeps to PostgreSQL at most.
    pub database_pool_size: u32,
    /// Whether `serve` applies pending PostgreSQL migrations (SQLite is always migrated).
    pub migrate_on_start: bool,
    /// What this node does: any of `api`, `workers`, `simulator`.
    #[serde(deserialize_with = "roles")]
    pub roles: Vec<Role>,
    pub public_url: String,
    pub log_format: LogFormat,
    pub http: HttpSection,
    pub meta: MetaSection,
    pub simulator: SimulatorSection,
    pub dispatch: DispatchSection,
    pub cache: CacheSection,
    pub webhooks: WebhooksSection,
    pub pricing: PricingSection,
    pub api: ApiSection,
    pub opt_out: OptOutSection,
    pub media: MediaSection,
    pub logs: LogsSection,
    pub events: EventsSection,
    pub jobs: JobsSection,
}

#[derive(Debug, Clone, Deserialize)]
pub struct JobsSection {
    pub timer_batch: u32,
    pub lease_seconds: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EventsSection {
    pub retention_days: u32,
    pub batch: u32,
    pub lease_seconds: u32,
    pub paused: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MediaSection {
    pub upload_retention_days: u32,
    pub inbound_retention_hours: u32,
    pub storage: parley_media::StorageConfig,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogsSection {
    pub export_link_hours: u32,
    pub retention_days: u32,
}

/// The words that put users on the account's do-not-contact list and take them off it
/// (the whole message, any case).
#[derive(Debug, Clone, Deserialize)]
pub struct OptOutSection {
    pub stop_keywords: Vec<String>,
    pub start_keywords: Vec<String>,
}

/// How long a connection may stall and how many one client may hold.
#[derive(Debug, Clone, Deserialize)]
pub struct HttpSection {
    pub header_read_timeout_seconds: u32,
    pub body_read_timeout_seconds: u32,
    pub idle_timeout_seconds: u32,
    pub max_connections_per_client: u32,
}

impl HttpSection {
    pub fn limits(&self) -> crate::http_server::ConnectionLimits {
        let seconds = |s: u32| std::time::Duration::from_secs(u64::from(s));
        crate::http_server::ConnectionLimits {
            header_read: seconds(self.header_read_timeout_seconds),
            body_read: seconds(self.body_read_timeout_seconds),
            idle: seconds(self.idle_timeout_seconds),
            per_client: self.max_connections_per_client as usize,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiSection {
    pub rate_limit_per_subaccount: u32,
    pub rate_limit_per_ip: u32,
}

/// A part of the platform a node runs. A single node runs all three; a cluster gives
/// each node the ones it should (see the README's "Running a cluster").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The HTTP surfaces: the 8x8 API, the console, Meta's webhook.
    Api,
    /// Message dispatch, webhook delivery, timers and cleaners.
    Workers,
    /// The WhatsApp simulator (Graph API emulator and its control API).
    Simulator,
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name.trim() {
            "api" => Ok(Role::Api),
            "workers" => Ok(Role::Workers),
            "simulator" => Ok(Role::Simulator),
            other => Err(format!(
                "unknown role {other:?}: roles are api, workers and simulator"
            )),
        }
    }
}

/// What becomes of a message a dead worker handed to WhatsApp when no receipt came
/// (`parley_core::dispatch::AfterCrash`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AfterCrash {
    Resend,
    Undelivered,
}

impl From<AfterCrash> for parley_core::dispatch::AfterCrash {
    fn from(choice: AfterCrash) -> Self {
        match choice {
            AfterCrash::Resend => Self::Resend,
            AfterCrash::Undelivered => Self::Undelivered,
        }
    }
}

/// Roles as a list (TOML) or comma-separated (`PARLEY_ROLES=api,workers`).
fn roles<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<Role>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        List(Vec<Role>),
        Text(String),
    }
    match Given::deserialize(deserializer)? {
        Given::List(roles) => Ok(roles),
        Given::Text(text) => text
            .split(',')
            .filter(|name| !name.trim().is_empty())
            .map(str::parse)
            .collect::<Result<_, String>>()
            .map_err(serde::de::Error::custom),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Deserialize)]
pub struct MetaSection {
    pub graph_url: String,
    pub api_version: String,
    pub access_token: String,
    pub app_secret: String,
    pub verify_token: String,
}

#[derive(Clone, Deserialize)]
pub struct SimulatorSection {
    pub delivered_after_ms: u64,
    pub read_after_ms: u64,
    pub auto_read: bool,
    pub seed: u64,
    pub review_after_ms: u64,
    pub statuses_per_webhook: usize,
    pub webhook_url: String,
    /// The control API's bearer key; empty: `<data_dir>/simulator-token`, made once.
    pub control_token: String,
    /// The SQLite file the simulator keeps its state in (relative: under `data_dir`);
    /// empty: in memory only.
    pub state_file: String,
    /// Whether the control API takes callers without credentials when Parley listens on
    /// loopback only.
    pub open_on_loopback: bool,
}

/// WhatsApp's highest throughput for one number, messages per second.
const MAX_THROUGHPUT: u32 = 1000;

#[derive(Debug, Clone, Deserialize)]
pub struct DispatchSection {
    pub batch: u32,
    pub concurrency: usize,
    pub lease_seconds: u32,
    pub unconfirmed_grace_seconds: u32,
    pub after_crash: AfterCrash,
    pub throughput_per_number: u32,
    /// The messaging limit (tier) of a business account WhatsApp has not reported one
    /// for yet, e.g. `TIER_250`.
    pub default_messaging_limit: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebhooksSection {
    pub timeout_ms: u64,
    pub concurrency: u32,
    pub per_account: u32,
    pub lease_seconds: u32,
    /// Internal hosts, addresses or networks webhooks may reach outside the sandbox.
    pub allow_targets: Vec<String>,
    pub failing_after_seconds: u32,
    pub failing_probe_seconds: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CacheSection {
    pub lookup_seconds: u32,
}

/// Values given on the command line; only those set override the rest.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migrate_on_start: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<Role>>,
    #[serde(skip_serializing_if = "MetaOverrides::is_empty")]
    pub meta: MetaOverrides,
}

#[derive(Debug, Default, Serialize)]
pub struct MetaOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_token: Option<String>,
}

impl MetaOverrides {
    fn is_empty(&self) -> bool {
        self.graph_url.is_none()
            && self.access_token.is_none()
            && self.app_secret.is_none()
            && self.verify_token.is_none()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULTS));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file(file));
        }
        let config: Self = figment
            .merge(Env::prefixed("PARLEY_").split("__"))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| ConfigError(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let url = &self.database_url;
        if !(url.is_empty() || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ConfigError(
                "database_url must be empty (SQLite) or a postgres:// URL".into(),
            ));
        }
        let graph = &self.meta.graph_url;
        if !(graph.is_empty() || graph.starts_with("https://") || graph.starts_with("http://")) {
            return Err(ConfigError("meta.graph_url must be an http(s) URL".into()));
        }
        if self.live() {
            let defaults: MetaSection = Figment::from(Toml::string(DEFAULTS))
                .extract_inner("meta")
                .map_err(|e| ConfigError(e.to_string()))?;
            for (name, value, default) in [
                (
                    "meta.access_token",
                    &self.meta.access_token,
                    &defaults.access_token,
                ),
                (
                    "meta.app_secret",
                    &self.meta.app_secret,
                    &defaults.app_secret,
                ),
                (
                    "meta.verify_token",
                    &self.meta.verify_token,
                    &defaults.verify_token,
                ),
            ] {
                if value.is_empty() || value == default {
                    return Err(ConfigError(format!(
                        "{name} must be set to your Meta app's value when meta.graph_url points at Meta"
                    )));
                }
            }
        }
        if self.webhooks.concurrency == 0
            || self.webhooks.per_account == 0
            || self.webhooks.timeout_ms == 0
            || self.webhooks.lease_seconds == 0
        {
            return Err(ConfigError(
                "webhooks.concurrency, per_account, timeout_ms and lease_seconds must be at least 1".into(),
            ));
        }
        if u64::from(self.webhooks.lease_seconds) * 1000 <= self.webhooks.timeout_ms {
            // Otherwise another worker could take an event while its attempt still runs.
            return Err(ConfigError(
                "webhooks.lease_seconds must be longer than webhooks.timeout_ms".into(),
            ));
        }
        if self.dispatch.batch == 0 || self.dispatch.concurrency == 0 {
            return Err(ConfigError(
                "dispatch.batch and dispatch.concurrency must be at least 1".into(),
            ));
        }
        if !(1..=MAX_THROUGHPUT).contains(&self.dispatch.throughput_per_number) {
            return Err(ConfigError(format!(
                "dispatch.throughput_per_number must be between 1 and {MAX_THROUGHPUT} \
                 (messages per second; WhatsApp's default is 80, its highest 1,000)"
            )));
        }
        if parley_core::dispatch::reach::tier_limit(&self.dispatch.default_messaging_limit)
            .is_none()
        {
            return Err(ConfigError(
                "dispatch.default_messaging_limit must be a WhatsApp tier: TIER_250, TIER_2K, \
                 TIER_10K, TIER_100K or TIER_UNLIMITED"
                    .into(),
            ));
        }
        self.pricing.rate_card().map_err(ConfigError)?;
        if self.api.rate_limit_per_subaccount == 0 || self.api.rate_limit_per_ip == 0 {
            return Err(ConfigError(
                "api.rate_limit_per_subaccount and api.rate_limit_per_ip must be at least 1".into(),
            ));
        }
        let http = &self.http;
        if http.header_read_timeout_seconds == 0
            || http.body_read_timeout_seconds == 0
            || http.idle_timeout_seconds == 0
            || http.max_connections_per_client == 0
        {
            return Err(ConfigError(
                "http timeouts and http.max_connections_per_client must be at least 1".into(),
            ));
        }
        if !self.public_url.is_empty() && !self.public_url.starts_with("http") {
            return Err(ConfigError("public_url must be an http(s) URL".into()));
        }
        if self.roles.is_empty() {
            return Err(ConfigError(
                "roles must name at least one of api, workers, simulator".into(),
            ));
        }
        if !self.live() && !self.has(Role::Simulator) {
            return Err(ConfigError(
                "a node without the simulator role must be given meta.graph_url (Meta's, or \
                 a simulator node's http://HOST:PORT/sim/graph)"
                    .into(),
            ));
        }
        if self.database_pool_size == 0 {
            return Err(ConfigError("database_pool_size must be at least 1".into()));
        }
        Ok(())
    }

    /// `true` when Parley talks to Meta rather than the embedded simulator.
    pub fn live(&self) -> bool {
        !self.meta.graph_url.is_empty()
    }

    /// Whether this node runs `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn postgres(&self) -> Option<&str> {
        (!self.database_url.is_empty()).then_some(self.database_url.as_str())
    }
}

const REDACTED: &str = "<redacted>";

impl Config {
    /// Where the simulator keeps its state, if anywhere.
    pub fn simulator_state_file(&self) -> Option<PathBuf> {
        let file = self.simulator.state_file.trim();
        (!file.is_empty()).then(|| self.data_dir.join(file))
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field(
                "database",
                &if self.database_url.is_empty() {
                    "sqlite"
                } else {
                    "postgres (url redacted)"
                },
            )
            .field("database_pool_size", &self.database_pool_size)
            .field("migrate_on_start", &self.migrate_on_start)
            .field("roles", &self.roles)
            .field("public_url", &self.public_url)
            .field("log_format", &self.log_format)
            .field("http", &self.http)
            .field("meta", &self.meta)
            .field("simulator", &self.simulator)
            .field("dispatch", &self.dispatch)
            .field("cache", &self.cache)
            .field("webhooks", &self.webhooks)
            .field("pricing", &self.pricing.currency)
            .field("api", &self.api)
            .finish()
    }
}

impl fmt::Debug for SimulatorSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimulatorSection")
            .field("delivered_after_ms", &self.delivered_after_ms)
            .field("read_after_ms", &self.read_after_ms)
            .field("auto_read", &self.auto_read)
            .field("seed", &self.seed)
            .field("review_after_ms", &self.review_after_ms)
            .field("statuses_per_webhook", &self.statuses_per_webhook)
            .field("webhook_url", &self.webhook_url)
            .field(
                "control_token",
                &if self.control_token.is_empty() {
                    ""
                } else {
                    "(redacted)"
                },
            )
            .field("open_on_loopback", &self.open_on_loopback)
            .field("state_file", &self.state_file)
            .finish()
    }
}

impl fmt::Debug for MetaSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetaSection")
            .field(
                "graph_url",
                &if self.graph_url.is_empty() {
                    "embedded simulator"
                } else {
                    &self.graph_url
                },
            )
            .field("api_version", &self.api_version)
            .field("access_token", &REDACTED)
            .field("app_secret", &REDACTED)
            .field("verify_token", &REDACTED)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_defaults_are_valid_and_describe_a_sandbox() {
        let config = Config::load(None, &Overrides::default()).unwrap();
        assert_eq!(config.listen.port(), 8080);
        assert!(!config.live());
        assert!(config.postgres().is_none());
    }

    fn load_file(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("parley.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(Some(&path), &Overrides::default())
    }

    #[test]
    fn a_node_runs_every_role_unless_told_and_roles_read_as_a_list_or_a_comma_list() {
        let all = Config::load(None, &Overrides::default()).unwrap();
        assert_eq!(all.roles, [Role::Api, Role::Workers, Role::Simulator]);
        assert!(
            !all.migrate_on_start,
            "serve must not migrate PostgreSQL unasked"
        );
        let live = "[meta]\ngraph_url = \"http://127.0.0.1:9/sim/graph\"\naccess_token = \"t\"\n\
                    app_secret = \"s\"\nverify_token = \"v\"\n";
        let listed = load_file(&format!("roles = [\"api\", \"workers\"]\n{live}")).unwrap();
        assert_eq!(listed.roles, [Role::Api, Role::Workers]);
        let comma = load_file(&format!("roles = \"workers, api\"\n{live}")).unwrap();
        assert_eq!(comma.roles, [Role::Workers, Role::Api]);
        let simulator = load_file("roles = \"simulator\"\n").unwrap();
        assert!(simulator.has(Role::Simulator) && !simulator.has(Role::Api));

        let unknown = load_file("roles = \"api,cron\"\n").unwrap_err().to_string();
        assert!(unknown.contains("unknown role \"cron\""), "{unknown}");
        let none = load_file("roles = []\n").unwrap_err().to_string();
        assert!(none.contains("at least one"), "{none}");
        let no_meta = load_file("roles = \"api,workers\"\n")
            .unwrap_err()
            .to_string();
        assert!(no_meta.contains("meta.graph_url"), "{no_meta}");
    }

    #[test]
    fn flags_override_and_are_validated() {
        let overrides = Overrides {
            database_url: Some("mysql://x".into()),
            ..Overrides::default()
        };
        let err = Config::load(None, &overrides).unwrap_err().to_string();
        assert!(err.contains("database_url"), "{err}");
        let live = Overrides {
            meta: MetaOverrides {
                graph_url: Some("https://graph.facebook.com".into()),
                ..MetaOverrides::default()
            },
            ..Overrides::default()
        };
        let err = Config::load(None, &live).unwrap_err().to_string();
        assert!(err.contains("meta.access_token"), "{err}");
    }

    #[test]
    fn throughput_beyond_whatsapps_range_is_refused() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), "[dispatch]\nthroughput_per_number = 5000\n").unwrap();
        let err = Config::load(Some(file.path()), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("dispatch.throughput_per_number"), "{err}");
    }

    #[test]
    fn a_rate_card_without_a_default_rate_is_refused() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(
            file.path(),
            "[pricing.rates.marketing_lite]\n\"1\" = 0.01\n",
        )
        .unwrap();
        let err = Config::load(Some(file.path()), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("pricing.rates.marketing_lite needs a default"),
            "{err}"
        );
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let overrides = Overrides {
            database_url: Some("postgres://u:hunter2@db/parley".into()),
            meta: MetaOverrides {
                graph_url: Some("https://graph.facebook.com".into()),
                access_token: Some("EAAG-secret-token".into()),
                app_secret: Some("app-secret-value".into()),
                verify_token: Some("verify-me".into()),
            },
            ..Overrides::default()
        };
        let config = Config::load(None, &overrides).unwrap();
        let shown = format!("{config:?}");
        for secret in [
            "hunter2",
            "EAAG-secret-token",
            "app-secret-value",
            "verify-me",
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
