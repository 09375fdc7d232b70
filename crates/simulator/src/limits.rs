//! Messaging limits (`reference/meta-cloud-api.md` §6.3): how many different users a
//! business may reach with templates outside their customer-service windows in a rolling
//! 24 hours, and how that limit grows.
//!
//! Meta applies the limit per business portfolio since October 2025, shared by all its
//! numbers. The simulator knows no portfolios, so the WhatsApp Business Account
//! (`Business::waba_id`) stands in for one: every number of a WABA shares its tier and its
//! reach.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::reach::RollingUniques;
use crate::state::Failure;

/// A portfolio's messaging limit, as Meta names it in `phone_number_quality_update`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, serde::Deserialize,
)]
pub enum Tier {
    /// Where every new portfolio starts.
    #[default]
    T250,
    T2K,
    T10K,
    T100K,
    Unlimited,
}

impl Tier {
    pub const ALL: [Tier; 5] = [
        Tier::T250,
        Tier::T2K,
        Tier::T10K,
        Tier::T100K,
        Tier::Unlimited,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::T250 => "TIER_250",
            Tier::T2K => "TIER_2K",
            Tier::T10K => "TIER_10K",
            Tier::T100K => "TIER_100K",
            Tier::Unlimited => "TIER_UNLIMITED",
        }
    }

    pub fn parse(name: &str) -> Option<Tier> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Unique users a day; `None` for unlimited.
    pub fn limit(self) -> Option<usize> {
        match self {
            Tier::T250 => Some(250),
            Tier::T2K => Some(2_000),
            Tier::T10K => Some(10_000),
            Tier::T100K => Some(100_000),
            Tier::Unlimited => None,
        }
    }

    fn next(self) -> Option<Tier> {
        Self::ALL.into_iter().find(|t| *t > self)
    }
}

/// The rolling windows reach is counted over: the limit's day, the 7 days of the
/// automatic-scaling rule and the 30 days of the way out of the first tier.
const WINDOWS: [Duration; 3] = [Duration::days(1), Duration::days(7), Duration::days(30)];
const DAY: usize = 0;
const WEEK: usize = 1;
const MONTH: usize = 2;

/// Unique users reached in 30 days that take a portfolio out of [`Tier::T250`] (Meta's
/// "usage path" to 2,000 when the business is not verified).
pub const FIRST_UPGRADE_REACH: usize = 2_000;

/// Unique users reached, as the control API shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reach {
    pub last24h: usize,
    pub last7d: usize,
    pub last30d: usize,
}

/// The next tier a portfolio has earned by its reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upgrade {
    pub to: Tier,
    /// Whether it also takes high (GREEN) quality, which only the caller can judge.
    pub needs_green: bool,
}

#[derive(Debug, Serialize, serde::Deserialize)]
struct Portfolio {
    tier: Tier,
    reach: RollingUniques<3>,
}

impl Default for Portfolio {
    fn default() -> Self {
        Self {
            tier: Tier::default(),
            reach: RollingUniques::new(WINDOWS),
        }
    }
}

#[derive(Debug, Default, Serialize, serde::Deserialize)]
pub struct MessagingLimits {
    /// By WABA id, created at first use.
    portfolios: HashMap<String, Portfolio>,
}

impl MessagingLimits {
    fn portfolio(&mut self, waba_id: &str) -> &mut Portfolio {
        if !self.portfolios.contains_key(waba_id) {
            self.portfolios
                .insert(waba_id.to_owned(), Portfolio::default());
        }
        self.portfolios
            .get_mut(waba_id)
            .expect("inserted just above")
    }

    pub fn tier(&self, waba_id: &str) -> Tier {
        self.portfolios
            .get(waba_id)
            .map_or(Tier::default(), |p| p.tier)
    }

    /// Sets the tier; the old one when it changed.
    pub fn set_tier(&mut self, waba_id: &str, tier: Tier) -> Option<Tier> {
        let portfolio = self.portfolio(waba_id);
        let old = std::mem::replace(&mut portfolio.tier, tier);
        (old != tier).then_some(old)
    }

    pub fn reach(&mut self, waba_id: &str, now: DateTime<Utc>) -> Reach {
        let [last24h, last7d, last30d] = self.portfolio(waba_id).reach.counts(now);
        Reach {
            last24h,
            last7d,
            last30d,
        }
    }

    /// A template goes to `wa_id` outside their service window: they count as reached,
    /// unless they would be one user too many for the day. A user already reached in the
    /// last 24 hours costs nothing more. Nothing is counted when it fails.
    ///
    /// Meta documents no error code for a portfolio over its messaging limit; the
    /// simulator reports 131048 ("Spam rate limit hit"), the code Meta uses when it stops
    /// a business's messages to protect users.
    pub fn reach_user(
        &mut self,
        waba_id: &str,
        wa_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Failure> {
        let portfolio = self.portfolio(waba_id);
        if let Some(limit) = portfolio.tier.limit()
            && !portfolio.reach.contains(wa_id, DAY, now)
            && portfolio.reach.counts(now)[DAY] >= limit
        {
            return Err(Failure {
                code: 131048,
                title: "Spam rate limit hit".into(),
                details: format!(
                    "the business portfolio's messaging limit of {limit} unique users in 24 hours was reached"
                ),
            });
        }
        // Recorded even when unlimited, so that the reach the control API shows, and
        // the upgrades after a downgrade, stay right.
        portfolio.reach.record(wa_id, now);
        Ok(())
    }

    /// The tier the portfolio's reach has earned, by Meta's rules: out of the first tier
    /// after [`FIRST_UPGRADE_REACH`] unique users in 30 days; from there up, one tier
    /// when the users reached in the last 7 days are at least half the current limit
    /// (and quality is high).
    ///
    /// Meta evaluates this about every 6 hours; the simulator after every counted send,
    /// so an upgrade shows at once, and a portfolio that already qualifies for the tier
    /// after can move up again on its next send.
    pub fn earned(&mut self, waba_id: &str, now: DateTime<Utc>) -> Option<Upgrade> {
        let portfolio = self.portfolio(waba_id);
        let to = portfolio.tier.next()?;
        let limit = portfolio.tier.limit()?;
        let reached = portfolio.reach.counts(now);
        let (week, month) = (reached[WEEK], reached[MONTH]);
        match portfolio.tier {
            Tier::T250 => (month >= FIRST_UPGRADE_REACH).then_some(Upgrade {
                to,
                needs_green: false,
            }),
            _ => (week * 2 >= limit).then_some(Upgrade {
                to,
                needs_green: true,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const WABA: &str = "waba";

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    fn user(n: usize) -> String {
        format!("1555{n:07}")
    }

    /// Reaches users `from..to` at `at`; the codes of the failures.
    fn reach(
        l: &mut MessagingLimits,
        users: std::ops::Range<usize>,
        at: DateTime<Utc>,
    ) -> Vec<u32> {
        users
            .filter_map(|n| l.reach_user(WABA, &user(n), at).err().map(|f| f.code))
            .collect()
    }

    #[test]
    fn tiers_climb_in_meta_order_and_read_back() {
        let names: Vec<&str> = Tier::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(
            names,
            [
                "TIER_250",
                "TIER_2K",
                "TIER_10K",
                "TIER_100K",
                "TIER_UNLIMITED"
            ]
        );
        assert_eq!(Tier::parse("TIER_10K"), Some(Tier::T10K));
        assert_eq!(Tier::parse("TIER_1K"), None, "the legacy tier is gone");
        assert_eq!(Tier::Unlimited.next(), None);
    }

    #[test]
    fn the_251st_new_user_in_a_day_is_refused_and_counted_users_are_not() {
        let mut l = MessagingLimits::default();
        assert!(reach(&mut l, 0..250, t0()).is_empty());
        assert_eq!(reach(&mut l, 250..251, t0()), [131048]);
        assert!(reach(&mut l, 0..1, t0()).is_empty(), "already counted");
        assert_eq!(
            l.reach(WABA, t0()).last24h,
            250,
            "the refusal did not count"
        );
        let next_day = t0() + Duration::days(1);
        assert!(reach(&mut l, 250..251, next_day).is_empty());
        assert_eq!(
            l.reach(WABA, next_day),
            Reach {
                last24h: 1,
                last7d: 251,
                last30d: 251
            }
        );
    }

    #[test]
    fn unlimited_refuses_nobody_and_still_counts() {
        let mut l = MessagingLimits::default();
        assert_eq!(l.set_tier(WABA, Tier::Unlimited), Some(Tier::T250));
        assert_eq!(l.set_tier(WABA, Tier::Unlimited), None, "no change");
        assert!(reach(&mut l, 0..1_000, t0()).is_empty());
        assert_eq!(l.reach(WABA, t0()).last24h, 1_000);
        assert_eq!(l.earned(WABA, t0()), None, "nothing above unlimited");
    }

    #[test]
    fn the_first_tier_is_left_after_2000_users_in_30_days_whatever_the_quality() {
        let mut l = MessagingLimits::default();
        for day in 0..7 {
            let at = t0() + Duration::days(day);
            let first = day as usize * 250;
            assert!(reach(&mut l, first..first + 250, at).is_empty());
        }
        let eighth = t0() + Duration::days(7);
        assert!(reach(&mut l, 1_750..1_999, eighth).is_empty());
        assert_eq!(l.earned(WABA, eighth), None, "1,999 users");
        assert!(reach(&mut l, 1_999..2_000, eighth).is_empty());
        assert_eq!(
            l.earned(WABA, eighth),
            Some(Upgrade {
                to: Tier::T2K,
                needs_green: false
            })
        );
    }

    #[test]
    fn higher_tiers_take_half_the_limit_in_7_days() {
        let mut l = MessagingLimits::default();
        l.set_tier(WABA, Tier::T2K);
        assert!(reach(&mut l, 0..999, t0()).is_empty());
        assert_eq!(l.earned(WABA, t0()), None);
        assert!(reach(&mut l, 999..1_000, t0()).is_empty());
        assert_eq!(
            l.earned(WABA, t0()),
            Some(Upgrade {
                to: Tier::T10K,
                needs_green: true
            })
        );
        assert_eq!(
            l.earned(WABA, t0() + Duration::days(7)),
            None,
            "the week has passed"
        );
    }
}
