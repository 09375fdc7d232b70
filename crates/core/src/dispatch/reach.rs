//! WhatsApp's messaging limit: a business portfolio may start conversations with only so
//! many different users in a rolling 24 hours (its tier: 250, 2,000, 10,000, 100,000 or
//! unlimited). Templates to users beyond it fail; so the dispatcher counts the users its
//! templates reached and holds a template to a new user, while the portfolio is at its
//! limit, until the oldest counted user drops out of the 24 hours.
//!
//! The tier is what WhatsApp last reported for the business account
//! (`phone_number_quality_update`), or the configured default (a new portfolio's 250)
//! until it reports one. Parley counts every template's recipient; WhatsApp counts only
//! users whose customer-service window was closed, so Parley may hold a template somewhat
//! early but never makes WhatsApp refuse one. The count lives in the dispatcher's memory
//! (like the pacing buckets; see `docs/decisions.md`).

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};

/// How long a reached user counts against the limit.
pub const REACH_WINDOW: Duration = Duration::hours(24);

/// The number of unique users a tier allows in 24 hours; `Some(None)`: unlimited; `None`:
/// not a tier WhatsApp reports.
pub fn tier_limit(tier: &str) -> Option<Option<u64>> {
    Some(match tier.trim().to_ascii_uppercase().as_str() {
        "TIER_50" => Some(50),
        "TIER_250" => Some(250),
        "TIER_1K" => Some(1_000),
        "TIER_2K" => Some(2_000),
        "TIER_10K" => Some(10_000),
        "TIER_100K" => Some(100_000),
        "TIER_UNLIMITED" => None,
        _ => return None,
    })
}

/// The users one portfolio's templates reached in the last 24 hours.
#[derive(Debug, Default)]
struct Reach {
    /// When each user was first counted, oldest first (one entry per counted user).
    order: VecDeque<(DateTime<Utc>, String)>,
    counted: HashMap<String, DateTime<Utc>>,
}

impl Reach {
    fn prune(&mut self, now: DateTime<Utc>) {
        while let Some((at, _)) = self.order.front() {
            if *at + REACH_WINDOW > now {
                break;
            }
            let (_, user) = self.order.pop_front().expect("front exists");
            self.counted.remove(&user);
        }
    }
}

/// Every portfolio's tier and reach.
#[derive(Debug)]
pub struct MessagingLimits {
    /// The limit of a portfolio WhatsApp has not reported a tier for.
    default: Option<u64>,
    /// Reported limits by business account id.
    reported: HashMap<String, Option<u64>>,
    reach: HashMap<String, Reach>,
}

impl MessagingLimits {
    pub fn new(default: Option<u64>) -> Self {
        Self {
            default,
            reported: HashMap::new(),
            reach: HashMap::new(),
        }
    }

    /// Replaces the reported tiers (`(business account, tier)`); unknown tier names are
    /// ignored with a warning.
    pub fn set_reported(&mut self, tiers: impl IntoIterator<Item = (String, String)>) {
        self.reported.clear();
        for (waba, tier) in tiers {
            match tier_limit(&tier) {
                Some(limit) => {
                    self.reported.insert(waba, limit);
                }
                None => tracing::warn!(%waba, %tier, "unknown messaging tier; ignored"),
            }
        }
    }

    /// The portfolio's limit: unique users per 24 hours, `None` for unlimited.
    pub fn limit(&self, waba: &str) -> Option<u64> {
        self.reported.get(waba).copied().unwrap_or(self.default)
    }

    /// Whether a template to `user` may go now: yes if the user was reached in the last
    /// 24 hours or there is room (the user is then counted), else the time the next
    /// place frees up.
    pub fn admit(
        &mut self,
        waba: &str,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DateTime<Utc>> {
        let Some(limit) = self.limit(waba) else {
            return Ok(());
        };
        let reach = self.reach.entry(waba.to_owned()).or_default();
        reach.prune(now);
        if reach.counted.contains_key(user) {
            return Ok(());
        }
        if reach.counted.len() as u64 >= limit {
            let oldest = reach.order.front().map_or(now, |(at, _)| *at);
            return Err(oldest + REACH_WINDOW);
        }
        reach.counted.insert(user.to_owned(), now);
        reach.order.push_back((now, user.to_owned()));
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

    #[test]
    fn tiers_read_as_whatsapp_reports_them() {
        assert_eq!(tier_limit("TIER_250"), Some(Some(250)));
        assert_eq!(tier_limit("tier_2k"), Some(Some(2_000)));
        assert_eq!(tier_limit("TIER_UNLIMITED"), Some(None));
        assert_eq!(tier_limit("TIER_NOT_SET"), None);
    }

    #[test]
    fn new_users_wait_for_room_while_known_ones_go() {
        let mut limits = MessagingLimits::new(Some(2));
        assert_eq!(limits.admit("waba", "+1", t0()), Ok(()));
        let later = t0() + Duration::hours(1);
        assert_eq!(limits.admit("waba", "+2", later), Ok(()));
        assert_eq!(
            limits.admit("waba", "+3", later),
            Err(t0() + REACH_WINDOW),
            "room when the first user drops out"
        );
        assert_eq!(limits.admit("waba", "+1", later), Ok(()), "already counted");
        assert_eq!(limits.admit("other", "+3", later), Ok(()), "per portfolio");
        assert_eq!(limits.admit("waba", "+3", t0() + REACH_WINDOW), Ok(()));
    }

    #[test]
    fn a_reported_tier_replaces_the_default() {
        let mut limits = MessagingLimits::new(Some(1));
        limits.set_reported([("waba".to_owned(), "TIER_UNLIMITED".to_owned())]);
        for user in ["+1", "+2", "+3"] {
            assert_eq!(limits.admit("waba", user, t0()), Ok(()));
        }
        assert_eq!(limits.limit("other"), Some(1));
        limits.set_reported([("waba".to_owned(), "TIER_2K".to_owned())]);
        assert_eq!(limits.limit("waba"), Some(2_000));
    }
}
