//! The worker on a real (SQLite) store with the clock moved by hand: timers fire once as
//! events, a failing job is retried at its schedule's times and dead-lettered after the
//! last, a redriven job runs again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use chrono::{Duration, TimeZone, Utc};
use parley_jobs::{JobHandler, JobWorker, Jobs, RetrySchedule, Timer, Work, WorkerConfig};
use parley_store::conformance::sandbox;
use parley_store::{EventKind, Job, JobState, SharedStore};
use parley_store_sqlite::SqliteStore;
use parley_types::{AdjustableClock, Clock};
use serde_json::json;

/// Fails its first `failures` runs.
struct Flaky {
    runs: AtomicU32,
    failures: u32,
}

#[async_trait]
impl JobHandler for Flaky {
    fn queue(&self) -> &str {
        "exports"
    }

    async fn run(&self, _job: &Job) -> Result<(), String> {
        let run = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        if run <= self.failures {
            Err(format!("attempt {run} failed"))
        } else {
            Ok(())
        }
    }
}

async fn setup(
    failures: u32,
) -> (
    SharedStore,
    Arc<AdjustableClock>,
    Arc<Flaky>,
    JobWorker,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let store: SharedStore = Arc::new(
        SqliteStore::open(&dir.path().join("jobs.db"))
            .await
            .unwrap(),
    );
    store.bootstrap_sandbox(&sandbox()).await.unwrap();
    let clock = Arc::new(AdjustableClock::stopped_at(
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap(),
    ));
    let flaky = Arc::new(Flaky {
        runs: AtomicU32::new(0),
        failures,
    });
    let worker = JobWorker::new(store.clone(), clock.clone(), WorkerConfig::new("node-a"))
        .with(flaky.clone());
    (store, clock, flaky, worker, dir)
}

fn export(clock: &AdjustableClock, retry: &[u32]) -> Work {
    Work {
        queue: "exports".into(),
        key: "export-1".into(),
        account: sandbox().account.id,
        due_at: clock.now(),
        payload: json!({}),
        retry: RetrySchedule(retry.to_vec()),
    }
}

#[tokio::test]
async fn a_failing_job_is_retried_on_its_schedule_then_dead_until_redriven() {
    let (store, clock, flaky, worker, _dir) = setup(3).await;
    let jobs = Jobs::new(store.clone(), clock.clone());
    assert!(jobs.schedule_work(export(&clock, &[10, 30])).await.unwrap());
    assert!(
        !jobs.schedule_work(export(&clock, &[10, 30])).await.unwrap(),
        "same key"
    );

    assert_eq!(worker.run_once().await.unwrap().jobs_failed, 1);
    clock.advance(Duration::seconds(9));
    assert_eq!(
        worker.run_once().await.unwrap().jobs_failed,
        0,
        "waits 10 s"
    );
    clock.advance(Duration::seconds(1));
    assert_eq!(worker.run_once().await.unwrap().jobs_failed, 1);
    clock.advance(Duration::seconds(30));
    assert_eq!(
        worker.run_once().await.unwrap().jobs_failed,
        1,
        "the third and last attempt"
    );
    clock.advance(Duration::days(1));
    worker.run_once().await.unwrap();
    assert_eq!(flaky.runs.load(Ordering::SeqCst), 3);
    let dead = jobs.dead(Some("exports"), 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("attempt 3 failed"));

    assert!(jobs.redrive(dead[0].id).await.unwrap());
    assert_eq!(worker.run_once().await.unwrap().jobs_done, 1);
    let done = jobs.get("exports", "export-1").await.unwrap().unwrap();
    assert_eq!(done.state, JobState::Done);
}

#[tokio::test]
async fn timers_fire_at_their_time_once_and_a_cancelled_one_never() {
    let (store, clock, _flaky, worker, _dir) = setup(0).await;
    let jobs = Jobs::new(store.clone(), clock.clone());
    let timer = |key: &str, minutes| Timer {
        queue: "converse.auto_close".into(),
        key: key.into(),
        account: sandbox().account.id,
        due_at: clock.now() + Duration::minutes(minutes),
        payload: json!({"ticket": key}),
        conversation: None,
    };
    assert!(jobs.set_timer(timer("t-1", 60)).await.unwrap());
    assert!(jobs.set_timer(timer("t-2", 60)).await.unwrap());
    assert!(jobs.cancel("converse.auto_close", "t-2").await.unwrap());
    assert_eq!(worker.run_once().await.unwrap().timers_fired, 0);
    clock.advance(Duration::minutes(60));
    assert_eq!(worker.run_once().await.unwrap().timers_fired, 1);
    assert_eq!(worker.run_once().await.unwrap().timers_fired, 0);
    let events = store.read_events(0, None, 10).await.unwrap().events;
    let fired: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::TimerFired)
        .collect();
    assert_eq!(fired.len(), 1);
    assert_eq!(
        fired[0].timer.as_ref().unwrap().payload,
        json!({"ticket": "t-1"})
    );
}
