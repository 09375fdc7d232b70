//! A business number's quality rating (`reference/meta-cloud-api.md` §6.4) and the users
//! who blocked it.
//!
//! Meta rates a number from users' feedback over about 7 days, weighted in ways it does not
//! publish. The simulator uses a rule a test can predict: the feedback rate is the
//! negative feedback (blocks and reports) of the last 7 days divided by the unique users
//! the number sent any message to in those 7 days (at least 1); RED (low) from
//! [`RED_FROM_PERCENT`], YELLOW (medium) from [`YELLOW_FROM_PERCENT`], GREEN (high) below.

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::reach::RollingUniques;

/// How far back feedback and recipients count.
pub const FEEDBACK_WINDOW: Duration = Duration::days(7);
pub const RED_FROM_PERCENT: usize = 5;
pub const YELLOW_FROM_PERCENT: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Rating {
    #[default]
    Green,
    Yellow,
    Red,
}

impl Rating {
    fn of(feedback: usize, recipients: usize) -> Rating {
        let recipients = recipients.max(1);
        if feedback * 100 >= RED_FROM_PERCENT * recipients {
            Rating::Red
        } else if feedback * 100 >= YELLOW_FROM_PERCENT * recipients {
            Rating::Yellow
        } else {
            Rating::Green
        }
    }
}

/// A rating that moved: (before, now).
pub type Change = (Rating, Rating);

#[derive(Debug, Serialize, serde::Deserialize)]
struct Number {
    recipients: RollingUniques<1>,
    /// When each negative feedback came, oldest first.
    feedback: VecDeque<DateTime<Utc>>,
    /// The rating last computed (and reported).
    rating: Rating,
}

impl Default for Number {
    fn default() -> Self {
        Self {
            recipients: RollingUniques::new([FEEDBACK_WINDOW]),
            feedback: VecDeque::new(),
            rating: Rating::default(),
        }
    }
}

impl Number {
    /// Recomputes the rating at `now`; what changed since it was last computed.
    fn rerate(&mut self, now: DateTime<Utc>) -> Option<Change> {
        while self
            .feedback
            .front()
            .is_some_and(|at| *at <= now - FEEDBACK_WINDOW)
        {
            self.feedback.pop_front();
        }
        let [recipients] = self.recipients.counts(now);
        let rating = Rating::of(self.feedback.len(), recipients);
        let before = std::mem::replace(&mut self.rating, rating);
        (before != rating).then_some((before, rating))
    }
}

#[derive(Debug, Default, Serialize, serde::Deserialize)]
pub struct Quality {
    /// By phone-number id, created at first use.
    numbers: HashMap<String, Number>,
    /// (phone-number id, wa_id): users who blocked a number.
    blocked: HashSet<(String, String)>,
}

impl Quality {
    fn number(&mut self, phone_number_id: &str) -> &mut Number {
        if !self.numbers.contains_key(phone_number_id) {
            self.numbers
                .insert(phone_number_id.to_owned(), Number::default());
        }
        self.numbers
            .get_mut(phone_number_id)
            .expect("inserted just above")
    }

    /// The rating as last computed; [`Self::rerate`] brings it up to date.
    pub fn rating(&self, phone_number_id: &str) -> Rating {
        self.numbers
            .get(phone_number_id)
            .map_or(Rating::default(), |n| n.rating)
    }

    /// Brings the rating up to date with the passing of time.
    pub fn rerate(&mut self, phone_number_id: &str, now: DateTime<Utc>) -> Option<Change> {
        self.number(phone_number_id).rerate(now)
    }

    /// The number delivered a message to `wa_id`: one more user in the denominator.
    pub fn sent(
        &mut self,
        phone_number_id: &str,
        wa_id: &str,
        now: DateTime<Utc>,
    ) -> Option<Change> {
        let number = self.number(phone_number_id);
        number.recipients.record(wa_id, now);
        number.rerate(now)
    }

    /// A user blocked or reported the number.
    pub fn feedback(&mut self, phone_number_id: &str, now: DateTime<Utc>) -> Option<Change> {
        let number = self.number(phone_number_id);
        number.feedback.push_back(now);
        number.rerate(now)
    }

    /// Whether this made `wa_id` block the number (`false`: they already had).
    pub fn block(&mut self, phone_number_id: &str, wa_id: &str) -> bool {
        self.blocked
            .insert((phone_number_id.to_owned(), wa_id.to_owned()))
    }

    /// Whether this lifted a block.
    pub fn unblock(&mut self, phone_number_id: &str, wa_id: &str) -> bool {
        self.blocked
            .remove(&(phone_number_id.to_owned(), wa_id.to_owned()))
    }

    /// The phone-number ids `wa_id` blocked, sorted.
    pub fn blocked_by(&self, wa_id: &str) -> Vec<&str> {
        let mut numbers: Vec<&str> = self
            .blocked
            .iter()
            .filter(|(_, user)| user == wa_id)
            .map(|(number, _)| number.as_str())
            .collect();
        numbers.sort_unstable();
        numbers
    }

    pub fn blocked(&self, phone_number_id: &str, wa_id: &str) -> bool {
        // Checked on every send: spare the allocation when nobody blocked anybody.
        !self.blocked.is_empty()
            && self
                .blocked
                .contains(&(phone_number_id.to_owned(), wa_id.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const NUMBER: &str = "100";

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    fn sent_to(q: &mut Quality, users: usize) {
        for n in 0..users {
            q.sent(NUMBER, &format!("1555{n:07}"), t0());
        }
    }

    #[test]
    fn feedback_per_user_reached_sets_the_rating() {
        let mut q = Quality::default();
        sent_to(&mut q, 100);
        assert_eq!(q.feedback(NUMBER, t0()), None, "1 %");
        assert_eq!(
            q.feedback(NUMBER, t0()),
            Some((Rating::Green, Rating::Yellow)),
            "2 %"
        );
        q.feedback(NUMBER, t0());
        q.feedback(NUMBER, t0());
        assert_eq!(
            q.feedback(NUMBER, t0()),
            Some((Rating::Yellow, Rating::Red)),
            "5 %"
        );
    }

    #[test]
    fn feedback_without_recipients_counts_against_one_user() {
        let mut q = Quality::default();
        assert_eq!(q.feedback(NUMBER, t0()), Some((Rating::Green, Rating::Red)));
    }

    #[test]
    fn the_rating_recovers_as_feedback_ages_out() {
        let mut q = Quality::default();
        sent_to(&mut q, 10);
        q.feedback(NUMBER, t0());
        assert_eq!(q.rating(NUMBER), Rating::Red);
        let almost = t0() + FEEDBACK_WINDOW - Duration::seconds(1);
        assert_eq!(q.rerate(NUMBER, almost), None);
        assert_eq!(
            q.rerate(NUMBER, t0() + FEEDBACK_WINDOW),
            Some((Rating::Red, Rating::Green))
        );
    }

    #[test]
    fn a_block_is_per_number_and_can_be_lifted() {
        let mut q = Quality::default();
        assert!(q.block(NUMBER, "15550000001"));
        assert!(!q.block(NUMBER, "15550000001"), "already blocked");
        assert!(q.blocked(NUMBER, "15550000001"));
        assert!(!q.blocked("200", "15550000001"));
        assert!(q.unblock(NUMBER, "15550000001"));
        assert!(!q.blocked(NUMBER, "15550000001"));
    }
}
