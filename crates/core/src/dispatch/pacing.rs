//! Pacing: WhatsApp takes a business number's messages only so fast (80 per second by
//! default, up to 1,000 once upgraded; error 130429 beyond) and one user's only so often
//! (about one every 6 s, short bursts tolerated; error 131056 beyond). The dispatcher keeps
//! within both with token buckets on the injected clock, so a burst of accepted messages
//! leaves at the number's pace instead of failing in bulk.
//!
//! The buckets live in the dispatcher's memory: they shape one dispatcher's sends. (With
//! several nodes each keeps its own; see `docs/decisions.md`.)

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use parley_types::{ChannelId, TokenBucket};

/// Meta's pair rate: one message to a user every this often…
pub const PAIR_INTERVAL: Duration = Duration::seconds(6);
/// …after a burst of up to this many.
pub const PAIR_BURST: u32 = 45;

/// How fast one number may send, and how long a full bucket lets it burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PacingConfig {
    /// Messages per second a business number may send.
    pub per_number: u32,
}

impl Default for PacingConfig {
    fn default() -> Self {
        Self { per_number: 80 }
    }
}

/// Why a message waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hold {
    /// The business number is at its messages-per-second limit.
    Throughput,
    /// The recipient got as many messages as the pair rate allows for now.
    PairRate,
    /// A template to a new user while the portfolio reached as many users in 24 hours as
    /// its messaging limit (tier) allows.
    MessagingLimit,
}

impl Hold {
    pub fn label(self) -> &'static str {
        match self {
            Hold::Throughput => "throughput",
            Hold::PairRate => "pair_rate",
            Hold::MessagingLimit => "messaging_limit",
        }
    }
}

/// What the pacer says about one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Send,
    /// Try again at this time.
    Wait(DateTime<Utc>, Hold),
}

/// The buckets of every number and of every (number, recipient) pair that sent lately.
#[derive(Debug)]
pub struct Pacer {
    config: PacingConfig,
    numbers: HashMap<ChannelId, TokenBucket>,
    pairs: HashMap<(ChannelId, String), TokenBucket>,
    /// Per number, how many messages were held back for throughput in this round; spreads
    /// their new times one token apart instead of piling them on the next one.
    queued_behind: HashMap<ChannelId, u32>,
}

impl Pacer {
    pub fn new(config: PacingConfig) -> Self {
        Self {
            config,
            numbers: HashMap::new(),
            pairs: HashMap::new(),
            queued_behind: HashMap::new(),
        }
    }

    fn number(&mut self, channel: ChannelId, now: DateTime<Utc>) -> &mut TokenBucket {
        let rate = f64::from(self.config.per_number.max(1));
        // One second's worth: a number that was idle may send a second's messages at once.
        self.numbers
            .entry(channel)
            .or_insert_with(|| TokenBucket::full(rate, rate, now))
    }

    fn pair(&mut self, channel: ChannelId, msisdn: &str, now: DateTime<Utc>) -> &mut TokenBucket {
        self.pairs
            .entry((channel, msisdn.to_owned()))
            .or_insert_with(|| {
                let per_second = 1.0 / PAIR_INTERVAL.num_seconds() as f64;
                TokenBucket::full(per_second, f64::from(PAIR_BURST), now)
            })
    }

    /// Starts a round: numbers that cannot send anything now, and how many messages the
    /// others may send at most (what to claim). Numbers not seen yet are not counted (they
    /// start with a full bucket when their first message is claimed); with none seen yet
    /// there is no bound.
    pub fn start_round(&mut self, now: DateTime<Utc>) -> (Vec<ChannelId>, u32) {
        self.queued_behind.clear();
        // Buckets that filled up again know nothing a fresh one would not.
        self.pairs.retain(|_, bucket| !bucket.is_full(now));
        let mut saturated = Vec::new();
        if self.numbers.is_empty() {
            return (saturated, u32::MAX);
        }
        let mut room = 0u32;
        for (channel, bucket) in &mut self.numbers {
            match bucket.whole_tokens(now) {
                0 => saturated.push(*channel),
                n => room = room.saturating_add(n),
            }
        }
        (saturated, room)
    }

    /// Whether one claimed message may go now; if so, its tokens are taken.
    pub fn admit(&mut self, channel: ChannelId, msisdn: &str, now: DateTime<Utc>) -> Verdict {
        let pair = self.pair(channel, msisdn, now);
        if pair.whole_tokens(now) == 0 {
            return Verdict::Wait(pair.time_of_token(1), Hold::PairRate);
        }
        let number = self.number(channel, now);
        if number.whole_tokens(now) == 0 {
            let behind = self.queued_behind.entry(channel).or_default();
            *behind += 1;
            let at = self.numbers[&channel].time_of_token(*behind);
            return Verdict::Wait(at, Hold::Throughput);
        }
        number.spend();
        self.pair(channel, msisdn, now).spend();
        Verdict::Send
    }

    /// WhatsApp said "too fast" (130429) although the bucket allowed it: its idea of the
    /// number's rate is lower than ours for now, so the number sends nothing until its
    /// bucket has refilled from empty.
    pub fn throttled(&mut self, channel: ChannelId, now: DateTime<Utc>) -> DateTime<Utc> {
        self.number(channel, now).drain(now)
    }

    /// WhatsApp said "too often to this user" (131056): the pair waits a full interval.
    pub fn pair_throttled(
        &mut self,
        channel: ChannelId,
        msisdn: &str,
        now: DateTime<Utc>,
    ) -> DateTime<Utc> {
        self.pair(channel, msisdn, now).drain(now)
    }

    /// When every known number is at its limit: how long until one of them can send
    /// `want` messages (or as many as its bucket holds). `None` when one can send now or
    /// none is known. An idle dispatcher sleeps this long rather than claim by the token.
    pub fn next_room_in(&mut self, now: DateTime<Utc>, want: u32) -> Option<Duration> {
        let mut soonest: Option<DateTime<Utc>> = None;
        for bucket in self.numbers.values_mut() {
            if bucket.whole_tokens(now) > 0 {
                return None;
            }
            let at = bucket.time_of_token(want.clamp(1, bucket.capacity() as u32));
            soonest = Some(soonest.map_or(at, |s| s.min(at)));
        }
        soonest.map(|at| at - now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    fn sent(pacer: &mut Pacer, channel: ChannelId, users: u32, now: DateTime<Utc>) -> u32 {
        (0..users)
            .filter(|u| pacer.admit(channel, &format!("+1555{u:07}"), now) == Verdict::Send)
            .count() as u32
    }

    #[test]
    fn a_number_sends_its_rate_per_second_and_no_more() {
        let mut pacer = Pacer::new(PacingConfig { per_number: 80 });
        let channel = ChannelId::new();
        assert_eq!(
            sent(&mut pacer, channel, 200, t0()),
            80,
            "a full second's burst"
        );
        let (saturated, room) = pacer.start_round(t0());
        assert_eq!((saturated, room), (vec![channel], 0));
        assert_eq!(
            pacer.next_room_in(t0(), 1),
            Some(Duration::microseconds(12_500))
        );
        assert_eq!(
            pacer.next_room_in(t0(), 1000),
            Some(Duration::seconds(1)),
            "at most a full bucket"
        );
        let half = t0() + Duration::milliseconds(500);
        assert_eq!(pacer.start_round(half).1, 40);
        assert_eq!(sent(&mut pacer, channel, 200, half), 40);
        let later = t0() + Duration::seconds(10);
        assert_eq!(
            sent(&mut pacer, channel, 200, later),
            80,
            "never more than one second's worth"
        );
    }

    #[test]
    fn held_messages_are_spread_one_token_apart() {
        let mut pacer = Pacer::new(PacingConfig { per_number: 10 });
        let channel = ChannelId::new();
        sent(&mut pacer, channel, 10, t0());
        pacer.start_round(t0());
        let waits: Vec<Verdict> = (0..3)
            .map(|u| pacer.admit(channel, &format!("+1666{u:07}"), t0()))
            .collect();
        let at = |ms| Verdict::Wait(t0() + Duration::milliseconds(ms), Hold::Throughput);
        assert_eq!(waits, vec![at(100), at(200), at(300)]);
    }

    #[test]
    fn one_user_gets_a_burst_then_one_message_every_six_seconds() {
        let mut pacer = Pacer::new(PacingConfig { per_number: 1000 });
        let channel = ChannelId::new();
        let user = "+15550000001";
        let burst = (0..100)
            .take_while(|_| pacer.admit(channel, user, t0()) == Verdict::Send)
            .count();
        assert_eq!(burst, PAIR_BURST as usize);
        assert_eq!(
            pacer.admit(channel, user, t0()),
            Verdict::Wait(t0() + PAIR_INTERVAL, Hold::PairRate)
        );
        assert_eq!(
            pacer.admit(channel, "+15550000002", t0()),
            Verdict::Send,
            "other users are not held back"
        );
        assert_eq!(
            pacer.admit(channel, user, t0() + PAIR_INTERVAL),
            Verdict::Send
        );
    }

    #[test]
    fn nothing_bounds_the_first_claim() {
        let mut pacer = Pacer::new(PacingConfig::default());
        assert_eq!(pacer.start_round(t0()), (vec![], u32::MAX));
        assert_eq!(pacer.next_room_in(t0(), 1), None);
    }

    #[test]
    fn numbers_are_paced_apart() {
        let mut pacer = Pacer::new(PacingConfig { per_number: 5 });
        let (busy, idle) = (ChannelId::new(), ChannelId::new());
        assert_eq!(sent(&mut pacer, busy, 10, t0()), 5);
        assert_eq!(sent(&mut pacer, idle, 3, t0()), 3);
        let (saturated, room) = pacer.start_round(t0());
        assert_eq!((saturated, room), (vec![busy], 2));
        assert_eq!(
            pacer.next_room_in(t0(), 1),
            None,
            "the idle number can still send"
        );
    }

    #[test]
    fn a_throttle_from_whatsapp_empties_the_bucket() {
        let mut pacer = Pacer::new(PacingConfig { per_number: 4 });
        let channel = ChannelId::new();
        assert_eq!(pacer.admit(channel, "+15550000001", t0()), Verdict::Send);
        assert_eq!(
            pacer.throttled(channel, t0()),
            t0() + Duration::milliseconds(250)
        );
        assert_eq!(pacer.start_round(t0()), (vec![channel], 0));
        let user = "+15550000002";
        assert_eq!(
            pacer.pair_throttled(channel, user, t0()),
            t0() + PAIR_INTERVAL
        );
    }

    #[test]
    fn full_pair_buckets_are_forgotten() {
        let mut pacer = Pacer::new(PacingConfig::default());
        let channel = ChannelId::new();
        pacer.admit(channel, "+15550000001", t0());
        pacer.start_round(t0());
        assert_eq!(pacer.pairs.len(), 1);
        pacer.start_round(t0() + PAIR_INTERVAL);
        assert!(pacer.pairs.is_empty());
    }
}
