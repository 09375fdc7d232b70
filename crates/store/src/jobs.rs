//! Durable jobs and timers as the store speaks them (the service is `crates/jobs`).

use chrono::{DateTime, Utc};
use parley_types::AccountId;

/// What happens when a job is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Fires exactly once: becomes a `timer.fired` event, in the same transaction.
    Timer,
    /// Is claimed under a lease, run by its queue's handler, and retried on failure.
    Work,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timer => "timer",
            Self::Work => "work",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "timer" => Some(Self::Timer),
            "work" => Some(Self::Work),
            _ => None,
        }
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for `due_at` (or, after a failure, for its next attempt).
    Pending,
    /// Claimed by a node until its lease runs out.
    Running,
    /// A timer that fired.
    Fired,
    /// A work job that succeeded.
    Done,
    /// A work job that failed every attempt its schedule allows.
    Dead,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Fired => "fired",
            Self::Done => "done",
            Self::Dead => "dead",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Running,
            Self::Fired,
            Self::Done,
            Self::Dead,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|state| state.as_str() == raw)
    }
}

/// A job to schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub kind: JobKind,
    /// What it is for (`automation.wait`, `converse.auto_close`, `logs.export`, …).
    pub queue: String,
    /// Unique within the queue: scheduling the same key again changes nothing.
    pub key: String,
    pub account_id: AccountId,
    /// The order key of a timer's event (`None`: `j:<queue>:<key>`).
    pub conversation: Option<String>,
    pub payload: serde_json::Value,
    pub due_at: DateTime<Utc>,
    /// Seconds to wait after each failed attempt; past its end the job is dead.
    pub retry: Vec<u32>,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: i64,
    pub kind: JobKind,
    pub queue: String,
    pub key: String,
    pub account_id: AccountId,
    pub conversation: String,
    pub payload: serde_json::Value,
    pub due_at: DateTime<Utc>,
    pub state: JobState,
    /// Attempts started (a work job's current one included).
    pub attempts: u32,
    pub retry: Vec<u32>,
    pub owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// What became of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobFailure {
    /// Tried again at this time.
    RetryAt(DateTime<Utc>),
    /// No attempts left.
    Dead,
    /// The caller no longer held the job (its lease ran out and another node took it).
    NotHeld,
}
