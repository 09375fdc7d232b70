//! Time is injected: every rule that depends on time reads a [`Clock`], so tests and the
//! simulator can move time forward instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

pub type SharedClock = Arc<dyn Clock>;

/// Wall-clock time, used when Parley talks to the real Meta.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Wall-clock time plus an offset that only grows. In simulator mode the whole process
/// shares one of these, so `POST /sim/api/clock/advance` moves every time-based rule at
/// once ("25 hours later" is a test that takes a second) while time still flows normally.
/// A stopped one moves only when advanced, for tests that count what happens per second.
#[derive(Debug, Default)]
pub struct AdjustableClock {
    /// Set when the clock stands still at this time (plus the offset).
    stopped_at: Option<DateTime<Utc>>,
    offset_ms: AtomicI64,
}

impl AdjustableClock {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn stopped_at(at: DateTime<Utc>) -> Self {
        Self {
            stopped_at: Some(at),
            offset_ms: AtomicI64::new(0),
        }
    }

    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds().max(0), Ordering::SeqCst);
    }

    pub fn offset(&self) -> Duration {
        Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
}

impl Clock for AdjustableClock {
    fn now(&self) -> DateTime<Utc> {
        self.stopped_at.unwrap_or_else(Utc::now) + self.offset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_forward_and_never_back() {
        let clock = AdjustableClock::new();
        let before = clock.now();
        clock.advance(Duration::hours(25));
        clock.advance(Duration::hours(-3));
        let moved = clock.now() - before;
        assert!(moved >= Duration::hours(25) && moved < Duration::hours(26));
    }

    #[test]
    fn a_stopped_clock_moves_only_when_advanced() {
        let at = Utc::now() - Duration::days(3);
        let clock = AdjustableClock::stopped_at(at);
        assert_eq!(clock.now(), at);
        clock.advance(Duration::milliseconds(1500));
        assert_eq!(clock.now(), at + Duration::milliseconds(1500));
    }
}
