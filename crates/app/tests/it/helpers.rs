use std::path::PathBuf;
use std::sync::Arc;

use parley_app::config::{Config, Overrides};
use parley_app::{Platform, Schema, bootstrap, open_store};
use parley_core::dispatch::{DispatchReport, Dispatcher};
use parley_simulator::Simulator;
use parley_testkit::pg::PgCluster;
use parley_types::AdjustableClock;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running Parley with its sandbox. Background workers do not run: a test drives them
/// with [`TestApp::settle`] and moves the clock with [`TestApp::advance`], never sleeps.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub key: String,
    pub sub_account: String,
    pub account: String,
    pub channel: String,
    /// The bearer key of the simulator's control API.
    pub simulator_token: String,
    /// The console's first admin (`admin@parley.local`) and the password printed once.
    pub console_admin: bootstrap::ConsoleAdmin,
    pub store: parley_store::SharedStore,
    dispatcher: Arc<Dispatcher>,
    pub webhooks: Arc<parley_core::webhooks::WebhookDeliverer>,
    pub files: parley_core::media::FileHosting,
    housekeeper: Arc<parley_core::housekeeping::Housekeeper>,
    /// The node's event consumers (usage counters, the console's live view).
    pub events: Arc<parley_core::events::EventRunner>,
    pub jobs: Arc<parley_jobs::JobWorker>,
    simulator: Simulator,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _data: tempfile::TempDir,
    _cluster: Option<PgCluster>,
}

fn init_test_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        parley_app::telemetry::init_logging(parley_app::config::LogFormat::Text);
    }
}

/// What a test changes about the platform it runs.
#[derive(Debug, Default, Clone, Copy)]
pub struct Setup {
    /// Time stands still until the test advances it (it flows otherwise).
    pub stopped_clock: bool,
    /// `dispatch.throughput_per_number`, when not the default.
    pub throughput_per_number: Option<u32>,
    /// `webhooks.timeout_ms`, when not the default.
    pub webhook_timeout_ms: Option<u64>,
    /// Any other change to the configuration.
    pub configure: Option<fn(&mut Config)>,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, Setup::default()).await
}

pub async fn spawn_app_with(backend: Backend, setup: Setup) -> TestApp {
    init_test_logs();
    let data = tempfile::tempdir().expect("temp dir");
    let cluster = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(PgCluster::start().expect("throwaway postgres cluster")),
    };
    let overrides = Overrides {
        listen: Some("127.0.0.1:0".into()),
        data_dir: Some(data.path().to_owned()),
        database_url: cluster
            .as_ref()
            .map(|c| c.fresh_database().expect("database")),
        ..Overrides::default()
    };
    let mut config = Config::load(None, &overrides).expect("config");
    if let Some(mps) = setup.throughput_per_number {
        config.dispatch.throughput_per_number = mps;
    }
    if let Some(timeout) = setup.webhook_timeout_ms {
        config.webhooks.timeout_ms = timeout;
    }
    if let Some(configure) = setup.configure {
        configure(&mut config);
    }
    let clock = Arc::new(if setup.stopped_clock {
        AdjustableClock::stopped_at(chrono::Utc::now())
    } else {
        AdjustableClock::new()
    });
    let store = open_store(&config, Schema::Migrate).await.expect("store");
    let listener = TcpListener::bind(config.listen).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let platform = Platform::build_with_clock(config, store, addr, clock)
        .await
        .expect("platform");
    let first = bootstrap::run(&platform.store, platform.clock.clone(), data.path())
        .await
        .expect("bootstrap");
    let credentials = first.sandbox.expect("a fresh database bootstraps");
    let console_admin = first
        .console_admin
        .expect("a fresh database gets a console admin");
    platform.register_channels().await.expect("register");
    // The console's live view starts where the log stands now, as a serving node's does.
    platform.events.run_once().await.expect("event consumers");
    let router = platform.router();
    let (stop, stopped) = oneshot::channel::<()>();
    let limits = platform.config.http.limits();
    let server = tokio::spawn(async move {
        parley_app::http_server::serve(listener, router, limits, async {
            let _ = stopped.await;
        })
        .await
        .expect("server");
    });
    let sandbox = &credentials.sandbox;
    TestApp {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        key: credentials.api_key.clone(),
        sub_account: sandbox.sub_account.id.to_string(),
        account: sandbox.account.id.to_string(),
        channel: sandbox.channel.id.to_string(),
        simulator_token: platform.state.simulator_access.token.clone(),
        console_admin,
        store: platform.store.clone(),
        dispatcher: platform.dispatcher.clone(),
        webhooks: platform.webhooks.clone(),
        files: platform.state.files.clone(),
        housekeeper: platform.housekeeper.clone(),
        events: platform.events.clone(),
        jobs: platform.jobs.clone(),
        simulator: platform.simulator.clone().expect("simulator mode"),
        stop: Some(stop),
        server: Some(server),
        _data: data,
        _cluster: cluster,
    }
}

impl TestApp {
    /// The data directory (the database on SQLite, the media storage).
    pub fn data_dir(&self) -> &std::path::Path {
        self._data.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn messages_url(&self) -> String {
        self.url(&format!(
            "/api/v1/subaccounts/{}/messages",
            self.sub_account
        ))
    }

    /// `POST …/messages` with the sandbox key.
    pub async fn send(&self, body: Value) -> (StatusCode, Value) {
        self.send_as(&self.key, &self.sub_account, body).await
    }

    pub async fn send_as(&self, key: &str, sub_account: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url(&format!("/api/v1/subaccounts/{sub_account}/messages")))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.expect("json body"))
    }

    /// Sends text and returns the umid, asserting it was queued.
    pub async fn send_text(&self, to: &str, text: &str) -> String {
        let (status, body) = self
            .send(json!({"user": {"msisdn": to}, "type": "text", "content": {"text": text}}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"]["state"], "queued");
        body["umid"].as_str().expect("umid").to_owned()
    }

    /// The message as stored (fields the 8x8 record does not show).
    pub async fn stored(&self, umid: &str) -> parley_store::Message {
        self.store
            .message(umid.parse().expect("umid"))
            .await
            .expect("store")
            .expect("stored")
    }

    pub async fn details(&self, umid: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/{umid}", self.messages_url()))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        body["data"][0].clone()
    }

    /// The simulated phone writes to the business.
    pub async fn phone_sends(&self, msisdn: &str, body: Value) -> Value {
        let response = self
            .http
            .post(self.url(&format!("/sim/api/phones/{msisdn}/messages")))
            .json(&body)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("json")
    }

    /// `GET path` without credentials, read as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    }

    /// `GET path` with the sandbox key: the status and the JSON body.
    pub async fn api_get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Any call with the sandbox key (a JSON body if given): the status and the JSON body.
    pub async fn api_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The chat as the phone sees it.
    pub async fn phone(&self, msisdn: &str) -> Vec<Value> {
        let body = self
            .get_json(&format!("/sim/api/phones/{msisdn}/messages"))
            .await;
        body["messages"].as_array().expect("messages").clone()
    }

    pub async fn advance(&self, seconds: u64) {
        let response = self
            .http
            .post(self.url("/sim/api/clock/advance"))
            .json(&json!({ "seconds": seconds }))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
    }

    pub fn templates_url(&self) -> String {
        self.url(&format!(
            "/api/v1/accounts/{}/channels/{}/templates",
            self.account, self.channel
        ))
    }

    /// `POST …/templates` with the sandbox key.
    pub async fn create_template(&self, body: &Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.templates_url())
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The channel's templates as `GET …/templates` lists them.
    pub async fn templates(&self) -> Vec<Value> {
        let response = self
            .http
            .get(self.templates_url())
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        body["templates"].as_array().expect("templates").clone()
    }

    /// `POST` of a JSON body to a simulator control path; the answer's JSON.
    pub async fn control(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.json().await.expect("json")
    }

    /// The simulator's id of a template, by name and language.
    pub async fn simulator_template_id(&self, name: &str, language: &str) -> String {
        let listed = self
            .get_json(&format!("/sim/api/templates?name={name}"))
            .await;
        listed["templates"]
            .as_array()
            .expect("templates")
            .iter()
            .find(|t| t["language"] == language)
            .and_then(|t| t["id"].as_str())
            .unwrap_or_else(|| panic!("the simulator has {name} ({language})"))
            .to_owned()
    }

    /// `/metrics`, the Prometheus text.
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("request")
            .text()
            .await
            .expect("text")
    }

    /// Every timer and work job that is due (queued log exports are built).
    pub async fn run_jobs(&self) -> parley_jobs::WorkerReport {
        self.jobs.run_once().await.expect("jobs round")
    }

    /// One housekeeping round: expired files, sessions and events removed.
    pub async fn housekeeping(&self) -> parley_core::housekeeping::HousekeepingReport {
        self.housekeeper
            .run_once()
            .await
            .expect("housekeeping round")
    }

    pub async fn dispatch(&self) -> DispatchReport {
        self.dispatcher.run_once().await.expect("dispatch round")
    }

    /// Runs the dispatcher, the simulator's webhooks and the customer's webhooks until
    /// none has work that is due.
    pub async fn settle(&self) {
        for _ in 0..100 {
            let dispatched = self.dispatch().await;
            let pumped = self.simulator.run_once().await;
            assert!(!pumped.blocked, "webhook delivery to parley failed");
            let delivered = self.webhooks.run_once().await.expect("webhook round");
            let consumed = self.events.run_once().await.expect("event consumers");
            if dispatched.is_idle() && pumped.delivered == 0 && delivered.is_idle() && consumed == 0
            {
                return;
            }
        }
        panic!("work did not settle within 100 rounds");
    }

    /// Creates a second, unrelated tenant and returns its API key.
    pub async fn second_tenant_key(&self) -> String {
        let other = parley_core::bootstrap::generate(chrono::Utc::now());
        self.store
            .create_tenant(&other.sandbox)
            .await
            .expect("second tenant");
        other.api_key
    }

    /// `GET …/messages?msisdn=`: the conversation with a user, newest first.
    pub async fn conversation(&self, msisdn: &str) -> Vec<Value> {
        let response = self
            .http
            .get(self.messages_url())
            .query(&[("msisdn", msisdn)])
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        body["data"].as_array().expect("data").clone()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// Generates one test per backend from an `async fn(TestApp)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await).await;
                }
            )*
        }
    };
}

/// Generates, per `async fn(Backend)`, a module with one test per backend (for tests that
/// set their platform up themselves).
#[macro_export]
macro_rules! on_each_backend {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }
                #[tokio::test]
                async fn postgres() {
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            }
        )*
    };
}

/// The payloads of one folder of `tests/fixtures/seeds` (see its INDEX.md), by file name.
pub fn seed_files(folder: &str) -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/seeds")
        .join(folder);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("seed fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let body = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (name, body)
        })
        .collect()
}
