//! The worker every node with the `workers` role runs: fires due timers and runs due work
//! jobs with their queue's handler.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::Duration;
use parley_store::{Job, SharedStore, StoreResult};
use parley_types::SharedClock;
use tokio::sync::{Notify, watch};

use crate::RetrySchedule;

/// Runs the work jobs of one queue.
#[async_trait]
pub trait JobHandler: Send + Sync {
    fn queue(&self) -> &str;
    /// Does the job; an `Err` is a failed attempt (retried on the job's schedule). The
    /// job may run again after a crash, so its effect must tolerate that.
    async fn run(&self, job: &Job) -> Result<(), String>;
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// This node, as the owner of the jobs it claims.
    pub owner: String,
    /// Timers fired per transaction.
    pub timer_batch: u32,
    /// Work jobs claimed at once.
    pub claim_batch: u32,
    /// How long a claimed job stays with this node.
    pub lease: Duration,
    /// How often an idle worker looks for due work.
    pub poll: StdDuration,
}

impl WorkerConfig {
    pub fn new(owner: impl Into<String>) -> Self {
        Self {
            owner: owner.into(),
            timer_batch: 500,
            claim_batch: 16,
            lease: Duration::minutes(5),
            poll: StdDuration::from_millis(250),
        }
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WorkerReport {
    pub timers_fired: u64,
    pub jobs_done: usize,
    pub jobs_failed: usize,
}

pub struct JobWorker {
    store: SharedStore,
    clock: SharedClock,
    config: WorkerConfig,
    handlers: Vec<Arc<dyn JobHandler>>,
    /// Rung to look for due work at once.
    pub wake: Arc<Notify>,
}

impl JobWorker {
    pub fn new(store: SharedStore, clock: SharedClock, config: WorkerConfig) -> Self {
        Self {
            store,
            clock,
            config,
            handlers: Vec::new(),
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn with(mut self, handler: Arc<dyn JobHandler>) -> Self {
        self.handlers.push(handler);
        self
    }

    /// Fires every due timer and runs every due job; what a test calls instead of waiting.
    pub async fn run_once(&self) -> StoreResult<WorkerReport> {
        let mut report = WorkerReport::default();
        loop {
            let fired = self
                .store
                .fire_due_timers(self.clock.now(), self.config.timer_batch)
                .await?;
            report.timers_fired += fired;
            if fired < u64::from(self.config.timer_batch) {
                break;
            }
        }
        metrics::counter!("parley_timers_fired_total").increment(report.timers_fired);
        if self.handlers.is_empty() {
            return Ok(report);
        }
        let queues: Vec<String> = self.handlers.iter().map(|h| h.queue().to_owned()).collect();
        loop {
            let now = self.clock.now();
            let claimed = self
                .store
                .claim_jobs(
                    &queues,
                    &self.config.owner,
                    now,
                    now + self.config.lease,
                    self.config.claim_batch,
                )
                .await?;
            if claimed.is_empty() {
                return Ok(report);
            }
            for job in claimed {
                if self.run_job(&job).await? {
                    report.jobs_done += 1;
                } else {
                    report.jobs_failed += 1;
                }
            }
        }
    }

    /// Runs one claimed job and records the outcome; yields whether it succeeded.
    async fn run_job(&self, job: &Job) -> StoreResult<bool> {
        let Some(handler) = self.handlers.iter().find(|h| h.queue() == job.queue) else {
            return Ok(false);
        };
        let owner = &self.config.owner;
        match handler.run(job).await {
            Ok(()) => {
                self.store
                    .complete_job(job.id, owner, self.clock.now())
                    .await?;
                Ok(true)
            }
            Err(error) => {
                let now = self.clock.now();
                let retry_at = RetrySchedule::next_after(&job.retry, job.attempts, now);
                tracing::warn!(queue = %job.queue, key = %job.key, attempts = job.attempts,
                    dead = retry_at.is_none(), %error, "job failed");
                self.store
                    .fail_job(job.id, owner, &error, retry_at, now)
                    .await?;
                Ok(false)
            }
        }
    }

    /// Runs rounds until `shutdown`: at once when woken, else every `poll`.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            if let Err(e) = self.run_once().await {
                tracing::error!(error = %e, "jobs round failed");
            }
            tokio::select! {
                _ = shutdown.changed() => {}
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.config.poll) => {}
            }
        }
    }
}
