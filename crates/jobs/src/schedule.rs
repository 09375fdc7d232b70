//! Setting timers and work jobs, cancelling them, and finding them again.

use chrono::{DateTime, Duration, Utc};
use parley_store::{Job, JobKind, JobState, NewJob, SharedStore, StoreResult};
use parley_types::{AccountId, SharedClock};

/// Seconds to wait after each failed attempt; the job is dead after the last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(pub Vec<u32>);

impl RetrySchedule {
    /// No retry: one attempt.
    pub fn none() -> Self {
        Self(Vec::new())
    }

    /// When the attempt numbered `attempts` (1 for the first) failed at `now`, when the
    /// next is due; `None` when the schedule is used up.
    pub fn next_after(retry: &[u32], attempts: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
        retry
            .get(index)
            .map(|seconds| now + Duration::seconds(i64::from(*seconds)))
    }
}

/// A timer to set.
#[derive(Debug, Clone)]
pub struct Timer {
    pub queue: String,
    pub key: String,
    pub account: AccountId,
    pub due_at: DateTime<Utc>,
    pub payload: serde_json::Value,
    /// The order key of its event, so it is consumed in order with a conversation's other
    /// events (`None`: its own).
    pub conversation: Option<String>,
}

impl From<Timer> for NewJob {
    fn from(timer: Timer) -> Self {
        NewJob {
            kind: JobKind::Timer,
            queue: timer.queue,
            key: timer.key,
            account_id: timer.account,
            conversation: timer.conversation,
            payload: timer.payload,
            due_at: timer.due_at,
            retry: Vec::new(),
        }
    }
}

/// A work job to schedule.
#[derive(Debug, Clone)]
pub struct Work {
    pub queue: String,
    pub key: String,
    pub account: AccountId,
    pub due_at: DateTime<Utc>,
    pub payload: serde_json::Value,
    pub retry: RetrySchedule,
}

impl From<Work> for NewJob {
    fn from(work: Work) -> Self {
        NewJob {
            kind: JobKind::Work,
            queue: work.queue,
            key: work.key,
            account_id: work.account,
            conversation: None,
            payload: work.payload,
            due_at: work.due_at,
            retry: work.retry.0,
        }
    }
}

#[derive(Clone)]
pub struct Jobs {
    store: SharedStore,
    clock: SharedClock,
}

impl Jobs {
    pub fn new(store: SharedStore, clock: SharedClock) -> Self {
        Self { store, clock }
    }

    /// Sets a timer; `false` if its key was already used in its queue (nothing changes).
    pub async fn set_timer(&self, timer: Timer) -> StoreResult<bool> {
        Ok(self.schedule(&[timer.into()]).await? == 1)
    }

    /// Schedules a work job; `false` if its key was already used in its queue.
    pub async fn schedule_work(&self, work: Work) -> StoreResult<bool> {
        Ok(self.schedule(&[work.into()]).await? == 1)
    }

    /// Schedules many at once (one transaction); yields how many keys were new.
    pub async fn schedule(&self, jobs: &[NewJob]) -> StoreResult<u64> {
        self.store.schedule_jobs(jobs, self.clock.now()).await
    }

    /// Cancels a pending timer or job; `false` if it had fired, run or been cancelled.
    pub async fn cancel(&self, queue: &str, key: &str) -> StoreResult<bool> {
        self.store.cancel_job(queue, key, self.clock.now()).await
    }

    pub async fn get(&self, queue: &str, key: &str) -> StoreResult<Option<Job>> {
        self.store.job(queue, key).await
    }

    /// The dead-lettered jobs (of `queue`, if given), oldest due first.
    pub async fn dead(&self, queue: Option<&str>, limit: u32) -> StoreResult<Vec<Job>> {
        self.store.jobs_in_state(queue, JobState::Dead, limit).await
    }

    /// Tries a dead job again, with its whole schedule; `false` if it was not dead.
    pub async fn redrive(&self, id: i64) -> StoreResult<bool> {
        self.store.redrive_job(id, self.clock.now()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_schedule_gives_each_failed_attempt_its_wait_then_ends() {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
        let ladder = [1, 10, 30, 90];
        let next = |attempts| RetrySchedule::next_after(&ladder, attempts, now);
        assert_eq!(next(1), Some(now + Duration::seconds(1)));
        assert_eq!(next(4), Some(now + Duration::seconds(90)));
        assert_eq!(next(5), None);
        assert_eq!(next(0), None);
        assert_eq!(RetrySchedule::next_after(&[], 1, now), None);
    }
}
