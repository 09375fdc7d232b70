//! How fast WhatsApp takes messages (`reference/meta-cloud-api.md` §6.1–6.2): each business
//! number sends at most its throughput (80 messages/s by default, up to 1,000; error 130429
//! beyond), and one user gets a short burst and then one message every few seconds (the
//! pair rate; error 131056 beyond). Both are token buckets on the simulator's clock.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use parley_types::TokenBucket;
use serde::Serialize;

use crate::state::Failure;

pub const DEFAULT_THROUGHPUT: u32 = 80;
pub const MAX_THROUGHPUT: u32 = 1000;
pub const DEFAULT_PAIR_BURST: u32 = 45;
pub const DEFAULT_PAIR_INTERVAL: Duration = Duration::seconds(6);

/// Pair buckets kept before the full (forgettable) ones are dropped.
const PAIRS_BEFORE_PRUNING: usize = 10_000;

/// The limits in force, as the control API shows and sets them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairRate {
    pub burst: u32,
    pub interval_seconds: f64,
}

impl Default for PairRate {
    fn default() -> Self {
        Self {
            burst: DEFAULT_PAIR_BURST,
            interval_seconds: DEFAULT_PAIR_INTERVAL.num_seconds() as f64,
        }
    }
}

/// The settings are kept across restarts; the buckets start full again, as after a pause.
#[derive(Debug, Default, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Throughput {
    /// Messages per second per business number, where it differs from the default.
    rates: HashMap<String, u32>,
    #[serde(skip)]
    numbers: HashMap<String, TokenBucket>,
    pair_rate: PairRate,
    #[serde(skip)]
    pairs: HashMap<(String, String), TokenBucket>,
}

impl Throughput {
    pub fn rate(&self, phone_number_id: &str) -> u32 {
        self.rates
            .get(phone_number_id)
            .copied()
            .unwrap_or(DEFAULT_THROUGHPUT)
    }

    /// Sets a number's messages per second (1 to [`MAX_THROUGHPUT`]).
    pub fn set_rate(&mut self, phone_number_id: &str, per_second: u32, now: DateTime<Utc>) {
        let per_second = per_second.clamp(1, MAX_THROUGHPUT);
        self.rates.insert(phone_number_id.to_owned(), per_second);
        if let Some(bucket) = self.numbers.get_mut(phone_number_id) {
            let rate = f64::from(per_second);
            bucket.set_rate(rate, rate, now);
        }
    }

    pub fn pair_rate(&self) -> PairRate {
        self.pair_rate
    }

    pub fn set_pair_rate(&mut self, pair_rate: PairRate) {
        self.pair_rate = pair_rate;
        self.pairs.clear();
    }

    /// Takes the tokens for one message from `phone_number_id` to `wa_id`, or says which
    /// limit it broke (nothing is taken then).
    pub fn admit(
        &mut self,
        phone_number_id: &str,
        wa_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Failure> {
        let rate = f64::from(self.rate(phone_number_id));
        let number = self
            .numbers
            .entry(phone_number_id.to_owned())
            .or_insert_with(|| TokenBucket::full(rate, rate, now));
        if number.whole_tokens(now) == 0 {
            return Err(Failure {
                code: 130429,
                title: "Rate limit hit".into(),
                details: format!(
                    "Cloud API message throughput has been reached: this number sends at most {rate} messages per second"
                ),
            });
        }
        if self.pairs.len() >= PAIRS_BEFORE_PRUNING {
            self.pairs.retain(|_, bucket| !bucket.is_full(now));
        }
        let PairRate {
            burst,
            interval_seconds,
        } = self.pair_rate;
        let pair = self
            .pairs
            .entry((phone_number_id.to_owned(), wa_id.to_owned()))
            .or_insert_with(|| TokenBucket::full(1.0 / interval_seconds, f64::from(burst), now));
        if pair.take(now).is_err() {
            return Err(Failure {
                code: 131056,
                title: "(Business Account, Consumer Account) pair rate limit hit".into(),
                details: "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time".into(),
            });
        }
        number.spend();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    fn codes(t: &mut Throughput, users: &[&str], at: DateTime<Utc>) -> Vec<u32> {
        users
            .iter()
            .map(|u| t.admit("100", u, at).err().map_or(0, |f| f.code))
            .collect()
    }

    #[test]
    fn a_number_takes_its_rate_per_second() {
        let mut t = Throughput::default();
        t.set_rate("100", 2, t0());
        assert_eq!(codes(&mut t, &["1", "2", "3"], t0()), [0, 0, 130429]);
        let later = t0() + Duration::milliseconds(500);
        assert_eq!(codes(&mut t, &["4", "5"], later), [0, 130429]);
        t.set_rate("100", 5_000, later);
        assert_eq!(t.rate("100"), MAX_THROUGHPUT, "capped at Meta's highest");
    }

    #[test]
    fn one_user_gets_a_burst_then_waits_without_costing_the_number() {
        let mut t = Throughput::default();
        t.set_pair_rate(PairRate {
            burst: 2,
            interval_seconds: 6.0,
        });
        assert_eq!(
            codes(&mut t, &["1", "1", "1", "2"], t0()),
            [0, 0, 131056, 0]
        );
        assert_eq!(codes(&mut t, &["1"], t0() + Duration::seconds(6)), [0]);
    }
}
