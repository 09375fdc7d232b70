//! Unique users over rolling windows ("how many different people did this portfolio reach
//! in the last 24 hours, 7 days, 30 days"), which both the messaging limit and the quality
//! rating are made of. A send must stay O(1) amortised (the benchmark sends 100,000
//! templates at 1,000/s), so nothing is ever rescanned: every reach is appended once to one
//! queue, each window keeps a cursor into it and a live count, and cursors only move
//! forward as time passes.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug)]
pub struct RollingUniques<const N: usize> {
    /// Window lengths, shortest first; the last one decides what is kept at all.
    windows: [Duration; N],
    /// Every reach still inside the longest window, oldest first.
    events: VecDeque<(DateTime<Utc>, String)>,
    /// Absolute index of `events[0]` (indices never repeat, so they identify a reach).
    first: u64,
    /// Absolute index of the oldest reach inside each window.
    starts: [u64; N],
    /// Users whose latest reach is inside each window.
    counts: [usize; N],
    /// Each user's latest reach (absolute index): an older reach of the same user leaving
    /// a window does not make them leave it.
    latest: HashMap<String, u64>,
}

impl<const N: usize> RollingUniques<N> {
    /// `windows` must be shortest first.
    pub fn new(windows: [Duration; N]) -> Self {
        debug_assert!(windows.is_sorted(), "windows are shortest first");
        Self {
            windows,
            events: VecDeque::new(),
            first: 0,
            starts: [0; N],
            counts: [0; N],
            latest: HashMap::new(),
        }
    }

    /// `user` was reached at `now`.
    pub fn record(&mut self, user: &str, now: DateTime<Utc>) {
        self.advance(now);
        // Requests race for the state lock with times read before it: keep the queue in
        // time order, a few milliseconds do not matter.
        let now = self.events.back().map_or(now, |(last, _)| now.max(*last));
        let index = self.first + self.events.len() as u64;
        let previous = self.latest.insert(user.to_owned(), index);
        for (start, count) in self.starts.iter().zip(&mut self.counts) {
            if previous.is_none_or(|p| p < *start) {
                *count += 1;
            }
        }
        self.events.push_back((now, user.to_owned()));
    }

    /// Whether `user` was reached inside window `window` (an index into the lengths).
    pub fn contains(&mut self, user: &str, window: usize, now: DateTime<Utc>) -> bool {
        self.advance(now);
        self.latest
            .get(user)
            .is_some_and(|&i| i >= self.starts[window])
    }

    /// Unique users reached inside each window.
    pub fn counts(&mut self, now: DateTime<Utc>) -> [usize; N] {
        self.advance(now);
        self.counts
    }

    /// Moves every window's start up to `now`, forgetting what left the longest one.
    fn advance(&mut self, now: DateTime<Utc>) {
        let end = self.first + self.events.len() as u64;
        for w in 0..N {
            let oldest_kept = now - self.windows[w];
            while self.starts[w] < end {
                let (at, user) = &self.events[(self.starts[w] - self.first) as usize];
                if *at > oldest_kept {
                    break;
                }
                if self.latest.get(user) == Some(&self.starts[w]) {
                    self.counts[w] -= 1;
                }
                self.starts[w] += 1;
            }
        }
        let keep_from = self.starts.iter().copied().min().unwrap_or(end);
        while self.first < keep_from {
            let Some((_, user)) = self.events.pop_front() else {
                break;
            };
            if self.latest.get(&user) == Some(&self.first) {
                self.latest.remove(&user);
            }
            self.first += 1;
        }
    }
}

/// [`RollingUniques`] as saved: the windows in milliseconds, the per-window arrays as lists
/// (serde has no arrays of a generic length).
#[derive(Serialize, Deserialize)]
struct Saved {
    windows_ms: Vec<i64>,
    events: VecDeque<(DateTime<Utc>, String)>,
    first: u64,
    starts: Vec<u64>,
    counts: Vec<usize>,
    latest: HashMap<String, u64>,
}

impl<const N: usize> Serialize for RollingUniques<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Saved {
            windows_ms: self.windows.iter().map(|w| w.num_milliseconds()).collect(),
            events: self.events.clone(),
            first: self.first,
            starts: self.starts.to_vec(),
            counts: self.counts.to_vec(),
            latest: self.latest.clone(),
        }
        .serialize(s)
    }
}

impl<'de, const N: usize> Deserialize<'de> for RollingUniques<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let saved = Saved::deserialize(d)?;
        let wrong = || serde::de::Error::custom(format!("expected {N} windows"));
        let windows: Vec<Duration> = saved
            .windows_ms
            .into_iter()
            .map(Duration::milliseconds)
            .collect();
        Ok(Self {
            windows: windows.try_into().map_err(|_| wrong())?,
            events: saved.events,
            first: saved.first,
            starts: saved.starts.try_into().map_err(|_| wrong())?,
            counts: saved.counts.try_into().map_err(|_| wrong())?,
            latest: saved.latest,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    fn day_and_week() -> RollingUniques<2> {
        RollingUniques::new([Duration::days(1), Duration::days(7)])
    }

    #[test]
    fn a_user_counts_once_per_window_however_often_reached() {
        let mut r = day_and_week();
        r.record("1", t0());
        r.record("1", t0() + Duration::hours(1));
        r.record("2", t0() + Duration::hours(2));
        assert_eq!(r.counts(t0() + Duration::hours(3)), [2, 2]);
    }

    #[test]
    fn users_leave_each_window_when_their_latest_reach_does() {
        let mut r = day_and_week();
        r.record("1", t0());
        r.record("2", t0());
        r.record("1", t0() + Duration::hours(20));
        let next_day = t0() + Duration::days(1);
        assert_eq!(
            r.counts(next_day),
            [1, 2],
            "2 left the day, 1 came back later"
        );
        assert!(r.contains("1", 0, next_day));
        assert!(!r.contains("2", 0, next_day));
        assert!(r.contains("2", 1, next_day));
        let later = t0() + Duration::hours(20) + Duration::days(7);
        assert_eq!(r.counts(later), [0, 0]);
        assert!(r.latest.is_empty() && r.events.is_empty(), "all forgotten");
    }

    #[test]
    fn a_saved_counter_counts_on_where_it_stopped() {
        let mut r = day_and_week();
        r.record("1", t0());
        r.record("2", t0() + Duration::hours(30));
        let json = serde_json::to_string(&r).unwrap();
        let mut back: RollingUniques<2> = serde_json::from_str(&json).unwrap();
        let later = t0() + Duration::hours(31);
        assert_eq!(back.counts(later), r.counts(later));
        assert_eq!(back.counts(later), [1, 2]);
        assert!(serde_json::from_str::<RollingUniques<3>>(&json).is_err());
    }

    #[test]
    fn a_user_who_left_the_short_window_counts_again_there_only() {
        let mut r = day_and_week();
        r.record("1", t0());
        r.record("1", t0() + Duration::days(2));
        assert_eq!(r.counts(t0() + Duration::days(2)), [1, 1]);
    }
}
