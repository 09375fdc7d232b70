//! A token bucket on an injected clock: holds up to `capacity` tokens and gains
//! `per_second` of them a second. The dispatcher's pacing, the simulator's throughput and
//! pair-rate limits, and the API's request rate limits are all one of these.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone)]
pub struct TokenBucket {
    per_second: f64,
    capacity: f64,
    tokens: f64,
    at: DateTime<Utc>,
}

impl TokenBucket {
    /// A bucket that starts full at `now`.
    pub fn full(per_second: f64, capacity: f64, now: DateTime<Utc>) -> Self {
        Self {
            per_second,
            capacity,
            tokens: capacity,
            at: now,
        }
    }

    pub fn capacity(&self) -> f64 {
        self.capacity
    }

    /// Changes the rate (and the burst) from `now` on, keeping the tokens it has.
    pub fn set_rate(&mut self, per_second: f64, capacity: f64, now: DateTime<Utc>) {
        self.refill(now);
        self.per_second = per_second;
        self.capacity = capacity;
        self.tokens = self.tokens.min(capacity);
    }

    pub fn refill(&mut self, now: DateTime<Utc>) {
        // A clock that went backwards adds nothing (and takes nothing away).
        let elapsed = (now - self.at)
            .num_microseconds()
            .unwrap_or(i64::MAX)
            .max(0);
        self.tokens = (self.tokens + elapsed as f64 / 1e6 * self.per_second).min(self.capacity);
        self.at = self.at.max(now);
    }

    /// Whole tokens available at `now`.
    pub fn whole_tokens(&mut self, now: DateTime<Utc>) -> u32 {
        self.refill(now);
        self.tokens.floor() as u32
    }

    /// Takes one token if there is one at `now`; otherwise says when the next one comes.
    pub fn take(&mut self, now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
        if self.whole_tokens(now) == 0 {
            return Err(self.time_of_token(1));
        }
        self.tokens -= 1.0;
        Ok(())
    }

    /// Takes one token whether or not there is one (the bucket may go into debt).
    pub fn spend(&mut self) {
        self.tokens -= 1.0;
    }

    /// Empties the bucket at `now`; answers when its next token comes.
    pub fn drain(&mut self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.refill(now);
        self.tokens = 0.0;
        self.time_of_token(1)
    }

    /// When the `n`th token from now (1 = the next) will be there.
    pub fn time_of_token(&self, n: u32) -> DateTime<Utc> {
        let missing = (f64::from(n) - self.tokens).max(0.0);
        self.at + Duration::microseconds((missing / self.per_second * 1e6).ceil() as i64)
    }

    /// Whether the bucket is full again at `now`: it then knows nothing a fresh one would
    /// not, and may be forgotten.
    pub fn is_full(&mut self, now: DateTime<Utc>) -> bool {
        self.refill(now);
        self.tokens >= self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn a_full_bucket_gives_its_burst_then_one_token_per_interval() {
        let mut bucket = TokenBucket::full(2.0, 3.0, t0());
        assert!((0..3).all(|_| bucket.take(t0()).is_ok()));
        assert_eq!(bucket.take(t0()), Err(t0() + Duration::milliseconds(500)));
        assert!(bucket.take(t0() + Duration::milliseconds(500)).is_ok());
        assert_eq!(
            bucket.whole_tokens(t0() + Duration::seconds(60)),
            3,
            "never more than its capacity"
        );
    }

    #[test]
    fn a_clock_going_backwards_changes_nothing() {
        let mut bucket = TokenBucket::full(1.0, 1.0, t0());
        bucket.drain(t0());
        assert_eq!(bucket.whole_tokens(t0() - Duration::seconds(5)), 0);
        assert_eq!(bucket.whole_tokens(t0() + Duration::seconds(1)), 1);
    }

    #[test]
    fn a_new_rate_applies_from_now() {
        let mut bucket = TokenBucket::full(1.0, 1.0, t0());
        bucket.drain(t0());
        bucket.set_rate(10.0, 10.0, t0());
        assert_eq!(bucket.whole_tokens(t0() + Duration::milliseconds(500)), 5);
    }
}
