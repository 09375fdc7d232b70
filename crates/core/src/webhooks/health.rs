//! Endpoint health: an endpoint whose every attempt has failed for longer than a set
//! period is marked failing, reported (log, `/metrics`, the endpoints API) and from then
//! on probed at a slow pace: one request per `probe_every`; events due in between wait
//! for the next probe instead of piling onto it. The first answer in 2xx resets it, and
//! the waiting events follow at the next probe time.
//!
//! The streaks live in the memory of each delivering node, which decides for itself;
//! changes are written to the store for reporting. A restart starts the streaks afresh.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use parley_store::EndpointHealth;
use parley_types::AccountId;

#[derive(Debug, Clone)]
pub struct HealthConfig {
    /// Failing this long without a success marks an endpoint failing.
    pub failing_after: Duration,
    /// A failing endpoint gets one request per this.
    pub probe_every: Duration,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            failing_after: Duration::minutes(15),
            probe_every: Duration::minutes(5),
        }
    }
}

/// Whether an event may be posted now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Go,
    /// The endpoint is failing and its next probe is not due before this.
    Hold(DateTime<Utc>),
}

#[derive(Debug, Clone)]
struct Streak {
    since: DateTime<Utc>,
    failing: bool,
    next_probe: DateTime<Utc>,
}

type Key = (AccountId, String);

#[derive(Debug, Default)]
pub struct HealthTracker {
    config: HealthConfig,
    streaks: Mutex<HashMap<Key, Streak>>,
}

impl HealthTracker {
    pub fn new(config: HealthConfig) -> Self {
        Self {
            config,
            streaks: Mutex::default(),
        }
    }

    pub fn config(&self) -> &HealthConfig {
        &self.config
    }

    fn streaks(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Streak>> {
        self.streaks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a request to `url` may go now. Granting a failing endpoint's probe books
    /// the next one, so concurrent deliveries send one probe between them.
    pub fn gate(&self, account: &AccountId, url: &str, now: DateTime<Utc>) -> Gate {
        let mut streaks = self.streaks();
        let Some(streak) = streaks.get_mut(&(account.clone(), url.to_owned())) else {
            return Gate::Go;
        };
        if !streak.failing {
            return Gate::Go;
        }
        if streak.next_probe > now {
            return Gate::Hold(streak.next_probe);
        }
        streak.next_probe = now + self.config.probe_every;
        Gate::Go
    }

    /// Records how a request to `url` ended; the change to write down when the endpoint
    /// is marked failing or a failing one recovers. (Streaks that end before that are
    /// everyday failures, retried on the event's own schedule, and written nowhere.)
    pub fn record(
        &self,
        account: &AccountId,
        url: &str,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Option<EndpointHealth> {
        let key = (account.clone(), url.to_owned());
        let mut streaks = self.streaks();
        let report = |failing_since, failing| EndpointHealth {
            account_id: account.clone(),
            url: url.to_owned(),
            failing_since,
            failing,
            last_error: error.map(str::to_owned),
            updated_at: now,
        };
        let Some(error) = error else {
            let ended = streaks.remove(&key)?;
            if !ended.failing {
                return None;
            }
            metrics::gauge!("parley_webhook_failing_endpoints").decrement(1.0);
            tracing::info!(%account, url, "webhook endpoint recovered");
            return Some(report(None, false));
        };
        match streaks.get_mut(&key) {
            None => {
                streaks.insert(
                    key,
                    Streak {
                        since: now,
                        failing: false,
                        next_probe: now,
                    },
                );
                None
            }
            Some(streak) if !streak.failing && now - streak.since >= self.config.failing_after => {
                streak.failing = true;
                streak.next_probe = now + self.config.probe_every;
                metrics::gauge!("parley_webhook_failing_endpoints").increment(1.0);
                tracing::warn!(%account, url, since = %streak.since, error, "webhook endpoint failing");
                Some(report(Some(streak.since), true))
            }
            Some(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap() + Duration::minutes(minutes)
    }

    #[test]
    fn a_long_failure_streak_marks_failing_and_one_success_resets_it() {
        let tracker = HealthTracker::new(HealthConfig::default());
        let account = AccountId::parse("acct").unwrap();
        let url = "https://x.test/hook";
        let fail = |minute| tracker.record(&account, url, Some("HTTP 500"), at(minute));
        assert_eq!(fail(0), None, "a failure is everyday news");
        assert_eq!(fail(10), None, "still within the period");
        assert_eq!(tracker.gate(&account, url, at(10)), Gate::Go);
        let marked = fail(15).expect("marked failing");
        assert!(marked.failing);
        assert_eq!(marked.failing_since, Some(at(0)));
        assert_eq!(tracker.gate(&account, url, at(16)), Gate::Hold(at(20)));
        assert_eq!(tracker.gate(&account, url, at(20)), Gate::Go, "the probe");
        assert_eq!(
            tracker.gate(&account, url, at(20)),
            Gate::Hold(at(25)),
            "one probe at a time"
        );
        let recovered = tracker.record(&account, url, None, at(21)).unwrap();
        assert_eq!((recovered.failing_since, recovered.failing), (None, false));
        assert_eq!(tracker.gate(&account, url, at(21)), Gate::Go);
        assert_eq!(tracker.record(&account, url, None, at(22)), None);
    }
}

#[cfg(test)]
mod short_streaks {
    use super::*;

    #[test]
    fn a_streak_shorter_than_the_period_is_written_nowhere() {
        let tracker = HealthTracker::new(HealthConfig::default());
        let account = AccountId::parse("acct").unwrap();
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(tracker.record(&account, "u", Some("HTTP 500"), at), None);
        assert_eq!(tracker.record(&account, "u", None, at), None);
    }
}
