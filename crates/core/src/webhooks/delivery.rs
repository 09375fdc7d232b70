//! Delivering the outbox: claim due lanes, find each event's webhook, build and sign the
//! body, post it, and record the attempt with its outcome: delivered on a 2xx, otherwise
//! again after 8x8's ladder (1 s, 10 s, 30 s, 90 s) and then an extended schedule, and
//! dead-lettered (kept for redrive) after the last attempt.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::Duration;
use parley_store::{
    ALL_SUB_ACCOUNTS, EndpointHealth, EventSubject, FinishedEvent, SharedStore, Webhook,
    WebhookAttempt, WebhookEvent, WebhookOutcome,
};
use parley_types::{AccountId, SharedClock};
use rand::Rng;

use super::health::{Gate, HealthConfig, HealthTracker};
use super::{payload, signing};
use crate::Result;

/// A webhook request, ready to post.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRequest {
    pub url: String,
    /// `Content-Type`, `Authorization` (static), signature headers.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// 8x8's `oauth` object: the transport fetches (and caches) a token with it.
    pub oauth: Option<serde_json::Value>,
    pub timeout: StdDuration,
}

/// How a post ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Status(u16),
    /// No answer: refused, timed out, broken off.
    Failed(String),
}

/// Posts webhook requests (HTTP in production, a recorder in tests).
#[async_trait]
pub trait WebhookTransport: Send + Sync {
    async fn post(&self, request: &WebhookRequest) -> Answer;
}

/// When failed deliveries are tried again.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// 8x8's documented gaps, kept exact.
    pub ladder: Vec<Duration>,
    /// Parley's extension after the ladder, each gap varied by ±10%.
    pub extended: Vec<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        let seconds = |s: i64| Duration::seconds(s);
        let minutes = |m: i64| Duration::minutes(m);
        Self {
            ladder: vec![seconds(1), seconds(10), seconds(30), seconds(90)],
            // About 24 hours in all.
            extended: vec![
                minutes(5),
                minutes(15),
                minutes(30),
                minutes(60),
                minutes(120),
                minutes(240),
                minutes(480),
                minutes(480),
            ],
        }
    }
}

impl RetryPolicy {
    /// The wait before the next attempt after `attempts` failed ones; `None` once they
    /// are spent.
    pub fn next_delay(&self, attempts: u32) -> Option<Duration> {
        let index = attempts.checked_sub(1)? as usize;
        if let Some(gap) = self.ladder.get(index) {
            return Some(*gap);
        }
        let gap = *self.extended.get(index - self.ladder.len())?;
        let jitter = rand::rng().random_range(0.9..1.1);
        Some(Duration::milliseconds(
            (gap.num_milliseconds() as f64 * jitter) as i64,
        ))
    }

    /// The whole schedule, without jitter: how long an event is tried for.
    pub fn span(&self) -> Duration {
        self.ladder
            .iter()
            .chain(&self.extended)
            .fold(Duration::zero(), |total, gap| total + *gap)
    }

    /// How many attempts an event gets.
    pub fn attempts(&self) -> u32 {
        (1 + self.ladder.len() + self.extended.len()) as u32
    }
}

#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    pub timeout: StdDuration,
    /// How often an idle deliverer looks for due events.
    pub poll: StdDuration,
    /// Requests in flight at once.
    pub concurrency: u32,
    /// Requests in flight at once for one account (see [`WebhookDeliverer::run`]).
    pub per_account: u32,
    pub lease: Duration,
    pub retry: RetryPolicy,
    pub health: HealthConfig,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            timeout: StdDuration::from_secs(5),
            poll: StdDuration::from_millis(200),
            concurrency: 64,
            per_account: 16,
            lease: Duration::seconds(60),
            retry: RetryPolicy::default(),
            health: HealthConfig::default(),
        }
    }
}

/// A delivery that ended, waiting to be recorded.
struct Settled {
    finished: FinishedEvent,
    /// The endpoint's standing, when this delivery changed it.
    health: Option<EndpointHealth>,
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub delivered: usize,
    pub retried: usize,
    pub dead: usize,
    pub dropped: usize,
}

impl DeliveryReport {
    pub fn is_idle(&self) -> bool {
        *self == Self::default()
    }
}

pub struct WebhookDeliverer {
    store: SharedStore,
    transport: Arc<dyn WebhookTransport>,
    clock: SharedClock,
    config: DeliveryConfig,
    health: HealthTracker,
    /// Rung when events join the outbox ([`super::WebhookOutbox`]), so an idle deliverer
    /// takes them at once instead of at its next poll.
    pub wake: Arc<tokio::sync::Notify>,
}

/// The webhook that takes an event: the subaccount's own before the account-wide one.
fn target<'w>(webhooks: &'w [Webhook], event: &WebhookEvent) -> Option<&'w Webhook> {
    let of = |sub: &str| {
        webhooks
            .iter()
            .find(|w| w.kind == event.kind && w.sub_account_id == sub)
    };
    event
        .sub_account_id
        .as_ref()
        .and_then(|sub| of(sub.as_str()))
        .or_else(|| of(ALL_SUB_ACCOUNTS))
}

/// Where an event goes: a receipt with its own `dlrCallbackUrl` goes there (with the
/// CADR webhook's credentials, if any); otherwise to the enabled webhook that takes it.
fn destination(
    webhook: Option<&Webhook>,
    subject: &EventSubject,
) -> Option<(String, Option<Webhook>)> {
    if let EventSubject::Status { message, .. } = subject
        && let Some(url) = &message.dlr_callback_url
    {
        return Some((url.clone(), webhook.filter(|w| w.enabled).cloned()));
    }
    let webhook = webhook.filter(|w| w.enabled)?;
    Some((webhook.url.clone(), Some(webhook.clone())))
}

impl WebhookDeliverer {
    pub fn new(
        store: SharedStore,
        transport: Arc<dyn WebhookTransport>,
        clock: SharedClock,
        config: DeliveryConfig,
    ) -> Self {
        Self {
            store,
            transport,
            clock,
            health: HealthTracker::new(config.health.clone()),
            config,
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Delivers until `shutdown` turns true, then finishes the requests in flight.
    ///
    /// A pipeline rather than rounds: whenever a request ends, the freed slot takes the
    /// next due event, so one slow endpoint never holds up the rest. Claims skip accounts
    /// that already have `per_account` requests in flight, which keeps a tenant whose
    /// endpoint hangs from taking every slot (a single claim may overshoot that cap by
    /// less than its size). The `webhooks` event consumer rings [`Self::wake`] when it adds
    /// events; an idle deliverer also polls (retries come due that way).
    pub async fn run(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut in_flight = tokio::task::JoinSet::new();
        let mut per_account: HashMap<AccountId, u32> = HashMap::new();
        while !*shutdown.borrow() {
            if let Err(e) = self.fill(&mut in_flight, &mut per_account).await {
                tracing::error!(error = %e, "claiming webhook events failed");
            }
            tokio::select! {
                Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                    // Everything else that ended meanwhile shares the commit.
                    let mut ended = vec![done];
                    while let Some(more) = in_flight.try_join_next() {
                        ended.push(more);
                    }
                    self.record_ended(ended, &mut per_account).await;
                }
                _ = shutdown.changed() => {}
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.config.poll) => {}
            }
        }
        while let Some(done) = in_flight.join_next().await {
            self.record_ended(vec![done], &mut per_account).await;
        }
    }

    /// Claims due events into the free slots and starts their requests.
    async fn fill(
        self: &Arc<Self>,
        in_flight: &mut tokio::task::JoinSet<(AccountId, Result<Settled>)>,
        per_account: &mut HashMap<AccountId, u32>,
    ) -> Result<()> {
        let cap = self.config.per_account;
        loop {
            let free = (self.config.concurrency as usize).saturating_sub(in_flight.len());
            if free == 0 {
                return Ok(());
            }
            let busy: Vec<AccountId> = per_account
                .iter()
                .filter(|(_, n)| **n >= cap)
                .map(|(account, _)| account.clone())
                .collect();
            let events = self.claim(free.min(cap as usize) as u32, &busy).await?;
            if events.is_empty() {
                return Ok(());
            }
            let webhooks = self.webhooks_of(&events).await?;
            for event in events {
                *per_account.entry(event.account_id.clone()).or_default() += 1;
                let webhook = target(&webhooks[&event.account_id], &event).cloned();
                let this = Arc::clone(self);
                in_flight.spawn(async move {
                    let outcome = this.deliver(&event, webhook.as_ref()).await;
                    (event.account_id, outcome)
                });
            }
        }
    }

    /// Frees the slots of deliveries that ended and records them. Whatever fails to be
    /// recorded comes back when its lease runs out (delivered again: at least once).
    async fn record_ended(
        &self,
        ended: Vec<std::result::Result<(AccountId, Result<Settled>), tokio::task::JoinError>>,
        per_account: &mut HashMap<AccountId, u32>,
    ) {
        let mut settled = Vec::with_capacity(ended.len());
        for done in ended {
            match done {
                Ok((account, outcome)) => {
                    if let Some(n) = per_account.get_mut(&account) {
                        *n -= 1;
                        if *n == 0 {
                            per_account.remove(&account);
                        }
                    }
                    match outcome {
                        Ok(s) => settled.push(s),
                        Err(e) => tracing::error!(error = %e, "webhook delivery failed"),
                    }
                }
                // A panicked delivery: its account's count is lost with it, which only
                // makes that account's cap stricter.
                Err(e) => tracing::error!(error = %e, "webhook delivery task failed"),
            }
        }
        if let Err(e) = self.record(&settled).await {
            tracing::error!(error = %e, "recording webhook deliveries failed");
        }
    }

    async fn claim(&self, limit: u32, skip: &[AccountId]) -> Result<Vec<WebhookEvent>> {
        let now = self.clock.now();
        Ok(self
            .store
            .claim_webhook_events(now, now + self.config.lease, limit, skip)
            .await?)
    }

    /// The webhooks of every account among `events`.
    async fn webhooks_of(
        &self,
        events: &[WebhookEvent],
    ) -> Result<HashMap<AccountId, Vec<Webhook>>> {
        let mut webhooks: HashMap<AccountId, Vec<Webhook>> = HashMap::new();
        for event in events {
            if !webhooks.contains_key(&event.account_id) {
                let of_account = self.store.webhooks(&event.account_id).await?;
                webhooks.insert(event.account_id.clone(), of_account);
            }
        }
        Ok(webhooks)
    }

    /// One round, for tests and tools: every due lane's head (up to `concurrency`),
    /// delivered concurrently and awaited.
    pub async fn run_once(&self) -> Result<DeliveryReport> {
        let events = self.claim(self.config.concurrency, &[]).await?;
        let webhooks = self.webhooks_of(&events).await?;
        let settled = futures::future::join_all(events.iter().map(|event| {
            let webhook = target(&webhooks[&event.account_id], event);
            self.deliver(event, webhook)
        }))
        .await
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
        self.record(&settled).await?;
        let mut report = DeliveryReport::default();
        for outcome in settled.iter().map(|s| &s.finished.outcome) {
            match outcome {
                WebhookOutcome::Delivered => report.delivered += 1,
                WebhookOutcome::Retry(_) => report.retried += 1,
                WebhookOutcome::Dead => report.dead += 1,
                WebhookOutcome::Dropped => report.dropped += 1,
            }
        }
        Ok(report)
    }

    /// Delivers one event (or decides it needs no request); what to record comes back.
    async fn deliver(&self, event: &WebhookEvent, webhook: Option<&Webhook>) -> Result<Settled> {
        let settled = |outcome, attempt| Settled {
            finished: FinishedEvent {
                id: event.id,
                outcome,
                attempt,
            },
            health: None,
        };
        let subject = self.store.event_subject(event).await?;
        let destination = subject
            .as_ref()
            .and_then(|subject| destination(webhook, subject).map(|d| (subject, d)));
        let Some((subject, (url, webhook))) = destination else {
            return Ok(settled(WebhookOutcome::Dropped, None));
        };
        let request = self.request(event, subject, url, webhook.as_ref());
        let at = self.clock.now();
        if let Gate::Hold(until) = self.health.gate(&event.account_id, &request.url, at) {
            let (outcome, attempt) = self.hold(event, request.url, until);
            return Ok(settled(outcome, attempt));
        }
        let started = std::time::Instant::now();
        let answer = self.transport.post(&request).await;
        let attempt = WebhookAttempt {
            at,
            url: request.url.clone(),
            status_code: match answer {
                Answer::Status(code) => Some(code),
                Answer::Failed(_) => None,
            },
            latency_ms: started.elapsed().as_millis() as u64,
            error: match &answer {
                Answer::Status(code) if (200..300).contains(code) => None,
                Answer::Status(code) => Some(format!("HTTP {code}")),
                Answer::Failed(why) => Some(why.clone()),
            },
        };
        metrics::counter!("parley_webhook_attempts_total").increment(1);
        let now = self.clock.now();
        let outcome = if attempt.error.is_none() {
            metrics::histogram!("parley_webhook_lag_seconds")
                .record((now - event.created_at).num_milliseconds().max(0) as f64 / 1000.0);
            WebhookOutcome::Delivered
        } else {
            metrics::counter!("parley_webhook_failures_total").increment(1);
            match self.config.retry.next_delay(event.attempts + 1) {
                Some(delay) => WebhookOutcome::Retry(now + delay),
                None => WebhookOutcome::Dead,
            }
        };
        let health = self.health.record(
            &event.account_id,
            &attempt.url,
            attempt.error.as_deref(),
            now,
        );
        Ok(Settled {
            health,
            ..settled(outcome, Some(attempt))
        })
    }

    /// Records deliveries that ended, in one transaction; then the endpoints whose
    /// standing changed.
    async fn record(&self, settled: &[Settled]) -> Result<()> {
        if settled.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        let finished: Vec<FinishedEvent> = settled.iter().map(|s| s.finished.clone()).collect();
        self.store.finish_webhook_events(&finished, now).await?;
        for change in settled.iter().filter_map(|s| s.health.as_ref()) {
            self.store.save_endpoint_health(change).await?;
            if change.failing_since.is_none() {
                // Back: what waited for this endpoint goes now, not at its next retry.
                self.store
                    .release_webhook_lanes(&change.account_id, &change.url, now)
                    .await?;
            }
        }
        Ok(())
    }

    /// An event for a failing endpoint between its probes waits for the next probe. That
    /// is not an attempt (nothing was sent, and waiting must not use up the event's
    /// tries), until the event is older than the whole retry schedule: then it is dead.
    fn hold(
        &self,
        event: &WebhookEvent,
        url: String,
        next_probe: chrono::DateTime<chrono::Utc>,
    ) -> (WebhookOutcome, Option<WebhookAttempt>) {
        let now = self.clock.now();
        if now - event.created_at < self.config.retry.span() {
            return (WebhookOutcome::Retry(next_probe), None);
        }
        let attempt = WebhookAttempt {
            at: now,
            url,
            status_code: None,
            latency_ms: 0,
            error: Some(
                "not sent: the endpoint has failed for longer than the retry schedule".into(),
            ),
        };
        (WebhookOutcome::Dead, Some(attempt))
    }

    fn request(
        &self,
        event: &WebhookEvent,
        subject: &EventSubject,
        url: String,
        webhook: Option<&Webhook>,
    ) -> WebhookRequest {
        let body = payload::body(event, subject).to_string().into_bytes();
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if let Some(authorization) = webhook.and_then(|w| w.http_authorization.as_ref()) {
            headers.push(("authorization".to_owned(), authorization.clone()));
        }
        if let Some(secret) = webhook.and_then(|w| w.signing_secret.as_ref()) {
            let id = format!("msg_{}", payload::event_uuid(event).simple());
            let timestamp = self.clock.now().timestamp();
            for (name, value) in signing::headers(secret, &id, timestamp, &body) {
                headers.push((name.to_owned(), value));
            }
        }
        WebhookRequest {
            url,
            headers,
            body,
            oauth: webhook.and_then(|w| w.oauth.clone()),
            timeout: self.config.timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_is_exact_and_the_extension_ends() {
        let policy = RetryPolicy::default();
        let delays: Vec<_> = (1..=4).map(|n| policy.next_delay(n).unwrap()).collect();
        assert_eq!(
            delays,
            [1, 10, 30, 90].map(Duration::seconds).to_vec(),
            "8x8's documented gaps"
        );
        let fifth = policy.next_delay(5).unwrap();
        assert!(fifth >= Duration::seconds(270) && fifth <= Duration::seconds(330));
        assert!(policy.next_delay(policy.attempts()).is_none());
        let total: i64 = (1..policy.attempts())
            .map(|n| policy.next_delay(n).unwrap().num_minutes())
            .sum();
        assert!(
            (20 * 60..=28 * 60).contains(&total),
            "about a day: {total} min"
        );
    }
}
