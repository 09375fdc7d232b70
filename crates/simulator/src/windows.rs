//! Meta's conversation rules as the simulator enforces them (`reference/meta-cloud-api.md`
//! §6.5–6.6): the 24-hour customer-service window, the 72-hour free entry point, and what a
//! message costs, reported as the `pricing` object of its status webhooks.

use std::collections::HashMap;

use crate::wire::PricingWire;
use chrono::{DateTime, Utc};
use parley_types::windows::{FREE_ENTRY_LASTS, FREE_ENTRY_REPLY_WITHIN, SERVICE_WINDOW};
use serde_json::{Value, json};

/// (phone-number id, wa_id): a business number and one user.
type Pair = (String, String);

fn pair(phone_number_id: &str, wa_id: &str) -> Pair {
    (phone_number_id.to_owned(), wa_id.to_owned())
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Windows {
    /// When each user last wrote to each business number.
    #[serde(with = "crate::saved::entries")]
    last_inbound: HashMap<Pair, DateTime<Utc>>,
    /// Users whose latest arrival came from a click-to-WhatsApp ad or page button, and
    /// when: a reply within [`FREE_ENTRY_REPLY_WITHIN`] opens a free entry point.
    #[serde(with = "crate::saved::entries")]
    referred: HashMap<Pair, DateTime<Utc>>,
    /// Free entry points that are (or were) open, until when.
    #[serde(with = "crate::saved::entries")]
    free_entry_until: HashMap<Pair, DateTime<Utc>>,
}

impl Windows {
    /// The user wrote: the service window (re)opens; an arrival from an ad also makes a
    /// free entry point possible.
    pub fn user_wrote(
        &mut self,
        phone_number_id: &str,
        wa_id: &str,
        referred: bool,
        now: DateTime<Utc>,
    ) {
        let key = pair(phone_number_id, wa_id);
        if referred && !self.free_entry_active(phone_number_id, wa_id, now) {
            self.referred.insert(key.clone(), now);
        }
        self.last_inbound.insert(key, now);
    }

    pub fn service_open(&self, phone_number_id: &str, wa_id: &str, now: DateTime<Utc>) -> bool {
        self.service_until(phone_number_id, wa_id)
            .is_some_and(|until| now < until)
    }

    fn service_until(&self, phone_number_id: &str, wa_id: &str) -> Option<DateTime<Utc>> {
        self.last_inbound
            .get(&pair(phone_number_id, wa_id))
            .map(|last| *last + SERVICE_WINDOW)
    }

    pub fn free_entry_active(
        &self,
        phone_number_id: &str,
        wa_id: &str,
        now: DateTime<Utc>,
    ) -> bool {
        self.free_entry_until
            .get(&pair(phone_number_id, wa_id))
            .is_some_and(|until| now < *until)
    }

    /// The business sent the user a message: a timely first reply to a referred user
    /// opens the free entry point, which then runs its 72 hours whatever happens.
    pub fn business_replied(&mut self, phone_number_id: &str, wa_id: &str, now: DateTime<Utc>) {
        let key = pair(phone_number_id, wa_id);
        let Some(arrived) = self.referred.remove(&key) else {
            return;
        };
        if now - arrived < FREE_ENTRY_REPLY_WITHIN {
            self.free_entry_until.insert(key, now + FREE_ENTRY_LASTS);
        }
    }

    /// What a message to the user costs under per-message pricing: templates are
    /// charged by category, utility ones are free inside the service window, and
    /// everything is free inside a free entry point. `template_category` is `None` for a
    /// free-form message.
    pub fn price(
        &self,
        phone_number_id: &str,
        wa_id: &str,
        template_category: Option<&str>,
        now: DateTime<Utc>,
    ) -> PricingWire {
        let free = |kind: &str, category: &str| PricingWire::new(false, kind, category);
        if self.free_entry_active(phone_number_id, wa_id, now) {
            return free("free_entry_point", "referral_conversion");
        }
        match template_category.map(str::to_ascii_lowercase) {
            None => free("free_customer_service", "service"),
            Some(category)
                if category == "utility" && self.service_open(phone_number_id, wa_id, now) =>
            {
                free("free_customer_service", "utility")
            }
            Some(category) => PricingWire::new(true, "regular", &category),
        }
    }

    /// The user's windows as the control API shows them.
    pub fn describe(&self, phone_number_id: &str, wa_id: &str, now: DateTime<Utc>) -> Value {
        let key = pair(phone_number_id, wa_id);
        let service_until = self.service_until(phone_number_id, wa_id);
        let free_until = self.free_entry_until.get(&key);
        let reply_by = self
            .referred
            .get(&key)
            .map(|at| *at + FREE_ENTRY_REPLY_WITHIN)
            .filter(|by| now < *by);
        json!({
            "serviceWindow": {
                "open": service_until.is_some_and(|u| now < u),
                "expiresAt": service_until.filter(|u| now < *u),
            },
            "freeEntryPoint": {
                "active": free_until.is_some_and(|u| now < *u),
                "expiresAt": free_until.filter(|u| now < **u),
                "replyBy": reply_by,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    const NUMBER: &str = "100";
    const USER: &str = "6591234567";

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    fn kind(w: &Windows, category: Option<&str>, at: DateTime<Utc>) -> (String, String, bool) {
        let p = w.price(NUMBER, USER, category, at);
        (p.kind.unwrap(), p.category.unwrap(), p.billable.unwrap())
    }

    #[test]
    fn the_service_window_opens_resets_and_closes() {
        let mut w = Windows::default();
        assert!(!w.service_open(NUMBER, USER, t0()));
        w.user_wrote(NUMBER, USER, false, t0());
        let later = t0() + Duration::hours(20);
        w.user_wrote(NUMBER, USER, false, later);
        assert!(w.service_open(NUMBER, USER, t0() + Duration::hours(43)));
        assert!(!w.service_open(NUMBER, USER, later + SERVICE_WINDOW));
    }

    #[test]
    fn utility_is_free_only_inside_the_window_and_marketing_never() {
        let mut w = Windows::default();
        w.user_wrote(NUMBER, USER, false, t0());
        let inside = t0() + Duration::hours(1);
        assert_eq!(
            kind(&w, Some("UTILITY"), inside),
            ("free_customer_service".into(), "utility".into(), false)
        );
        assert_eq!(
            kind(&w, Some("MARKETING"), inside),
            ("regular".into(), "marketing".into(), true)
        );
        assert_eq!(
            kind(&w, None, inside),
            ("free_customer_service".into(), "service".into(), false)
        );
        let outside = t0() + Duration::hours(25);
        assert_eq!(
            kind(&w, Some("UTILITY"), outside),
            ("regular".into(), "utility".into(), true)
        );
    }

    #[test]
    fn a_timely_reply_to_an_ad_opens_72_free_hours_that_do_not_reset() {
        let mut w = Windows::default();
        w.user_wrote(NUMBER, USER, true, t0());
        assert!(
            !w.free_entry_active(NUMBER, USER, t0()),
            "not before the reply"
        );
        let reply = t0() + Duration::hours(23);
        w.business_replied(NUMBER, USER, reply);
        w.user_wrote(NUMBER, USER, false, reply + Duration::hours(70));
        let near_end = reply + FREE_ENTRY_LASTS - Duration::seconds(1);
        assert_eq!(
            kind(&w, Some("MARKETING"), near_end),
            (
                "free_entry_point".into(),
                "referral_conversion".into(),
                false
            )
        );
        assert!(!w.free_entry_active(NUMBER, USER, reply + FREE_ENTRY_LASTS));
    }

    #[test]
    fn a_late_reply_to_an_ad_opens_nothing() {
        let mut w = Windows::default();
        w.user_wrote(NUMBER, USER, true, t0());
        w.business_replied(NUMBER, USER, t0() + FREE_ENTRY_REPLY_WITHIN);
        assert!(!w.free_entry_active(NUMBER, USER, t0() + Duration::hours(25)));
        w.business_replied(NUMBER, USER, t0() + Duration::hours(26));
        assert!(
            !w.free_entry_active(NUMBER, USER, t0() + Duration::hours(26)),
            "the chance is gone"
        );
    }
}
