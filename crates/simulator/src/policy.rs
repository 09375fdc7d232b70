//! How sends and users' feedback move the rules that watch a business, and the webhooks
//! each move sends: a template outside the user's service window counts against the
//! portfolio's messaging limit (and may earn an upgrade); every message sent and every
//! block or report moves the number's quality rating; a complaint about a number rated RED
//! pauses the templates the complaining user got from it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::limits::Tier;
use crate::quality::{Change, FEEDBACK_WINDOW, Rating};
use crate::state::{Business, Failure, Scheduled, State};

/// What a block or report did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackOutcome {
    /// `false` for a block of a number the user had already blocked, which changes nothing.
    pub counted: bool,
    pub quality: Rating,
    /// Templates paused (or disabled) because of it.
    pub paused: Vec<PausedTemplate>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PausedTemplate {
    pub id: String,
    pub name: String,
    pub language: String,
    /// `PAUSED` or, after the last pause, `DISABLED`.
    pub status: String,
}

impl State {
    fn numbers_of(&self, waba_id: &str) -> Vec<Business> {
        self.businesses
            .iter()
            .filter(|b| b.waba_id == waba_id)
            .cloned()
            .collect()
    }

    /// `phone_number_quality_update` for one number.
    fn report_number(
        &mut self,
        business: &Business,
        event: &str,
        current: Tier,
        old: Tier,
        now: DateTime<Utc>,
    ) {
        let value = json!({
            "display_phone_number": business.display_number.trim_start_matches('+'),
            "event": event,
            "current_limit": current.as_str(),
            "old_limit": old.as_str(),
        });
        self.report(
            &business.waba_id,
            now,
            [("phone_number_quality_update", value)],
        );
    }

    /// Sets the portfolio's messaging limit; each of its numbers reports a change.
    pub fn set_messaging_limit(&mut self, waba_id: &str, tier: Tier, now: DateTime<Utc>) {
        let Some(old) = self.limits.set_tier(waba_id, tier) else {
            return;
        };
        let event = if tier > old { "UPGRADE" } else { "DOWNGRADE" };
        for number in self.numbers_of(waba_id) {
            self.report_number(&number, event, tier, old, now);
        }
    }

    /// A template to `wa_id` that passed every other check: outside the user's service
    /// window it counts against the portfolio's messaging limit (131048 beyond it) and
    /// may earn the portfolio its next tier.
    pub fn template_reaches(
        &mut self,
        business: &Business,
        wa_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Failure> {
        if self
            .windows
            .service_open(&business.phone_number_id, wa_id, now)
        {
            return Ok(());
        }
        self.limits.reach_user(&business.waba_id, wa_id, now)?;
        if let Some(upgrade) = self.limits.earned(&business.waba_id, now)
            && (!upgrade.needs_green || self.portfolio_green(&business.waba_id, now))
        {
            self.set_messaging_limit(&business.waba_id, upgrade.to, now);
        }
        Ok(())
    }

    /// Whether every number of the portfolio rates GREEN: the limit is the portfolio's,
    /// so one number rated lower holds all of them back.
    fn portfolio_green(&mut self, waba_id: &str, now: DateTime<Utc>) -> bool {
        self.numbers_of(waba_id)
            .iter()
            .all(|number| self.rate(number, now) == Rating::Green)
    }

    /// The number's rating at `now`, reporting a change that the passing of time made.
    pub fn rate(&mut self, business: &Business, now: DateTime<Utc>) -> Rating {
        let change = self.quality.rerate(&business.phone_number_id, now);
        self.rating_moved(business, change, now)
    }

    /// Reports a change of rating, the way Meta does: `FLAGGED` when the number becomes
    /// RED, `UNFLAGGED` when it leaves RED. Meta has no event for GREEN ↔ YELLOW; that
    /// shows only where the rating is read (the control API's `quality`).
    fn rating_moved(
        &mut self,
        business: &Business,
        change: Option<Change>,
        now: DateTime<Utc>,
    ) -> Rating {
        let event = match change {
            Some((before, Rating::Red)) if before != Rating::Red => Some("FLAGGED"),
            Some((Rating::Red, _)) => Some("UNFLAGGED"),
            _ => None,
        };
        if let Some(event) = event {
            let tier = self.limits.tier(&business.waba_id);
            self.report_number(business, event, tier, tier, now);
        }
        self.quality.rating(&business.phone_number_id)
    }

    /// The number sent `wa_id` a message: one more user its feedback is weighed against.
    pub fn messaged(&mut self, business: &Business, wa_id: &str, now: DateTime<Utc>) {
        let change = self.quality.sent(&business.phone_number_id, wa_id, now);
        self.rating_moved(business, change, now);
    }

    /// The user `wa_id` blocks (`block`) or reports the business number: negative
    /// feedback now, and a blocked user gets none of its messages any more. When the
    /// number is then RED, every template the user got from it in the feedback window
    /// that is still APPROVED drops to RED quality and is paused.
    pub fn negative_feedback(
        &mut self,
        business: &Business,
        wa_id: &str,
        block: bool,
        now: DateTime<Utc>,
    ) -> FeedbackOutcome {
        let phone_number_id = &business.phone_number_id;
        // The user acted on the chat: announced even when a repeated block changes nothing.
        self.changes.phone(wa_id);
        if block && !self.quality.block(phone_number_id, wa_id) {
            return FeedbackOutcome {
                counted: false,
                quality: self.rate(business, now),
                paused: Vec::new(),
            };
        }
        let change = self.quality.feedback(phone_number_id, now);
        self.schedule(
            now + FEEDBACK_WINDOW,
            Scheduled::QualityCheck {
                phone_number_id: phone_number_id.clone(),
            },
        );
        let quality = self.rating_moved(business, change, now);
        let paused = if quality == Rating::Red {
            self.pause_received(business, wa_id, now)
        } else {
            Vec::new()
        };
        FeedbackOutcome {
            counted: true,
            quality,
            paused,
        }
    }

    /// The user `wa_id` unblocks the business number: its messages get through again. The
    /// feedback the block gave stays counted. Whether the number was blocked.
    pub fn unblock(&mut self, business: &Business, wa_id: &str) -> bool {
        let unblocked = self.quality.unblock(&business.phone_number_id, wa_id);
        if unblocked {
            self.changes.phone(wa_id);
        }
        unblocked
    }

    /// Pauses the APPROVED templates `wa_id` received from the number in the feedback
    /// window.
    fn pause_received(
        &mut self,
        business: &Business,
        wa_id: &str,
        now: DateTime<Utc>,
    ) -> Vec<PausedTemplate> {
        let since = now - FEEDBACK_WINDOW;
        let mut received: Vec<(String, String)> = self
            .phones
            .get(wa_id)
            .map(|phone| {
                phone
                    .messages
                    .iter()
                    .rev()
                    .take_while(|m| m.timestamp > since)
                    .filter(|m| {
                        m.direction == "from_business"
                            && m.phone_number_id == business.phone_number_id
                    })
                    .filter_map(|m| self.template_sends.get(&m.id))
                    .map(|t| (t.name.clone(), t.language.clone()))
                    .collect()
            })
            .unwrap_or_default();
        received.sort();
        received.dedup();
        let ids: Vec<String> = self
            .templates
            .iter()
            .filter(|t| {
                t.waba_id == business.waba_id
                    && t.status == "APPROVED"
                    && received.contains(&(t.name.clone(), t.language.clone()))
            })
            .map(|t| t.id.clone())
            .collect();
        ids.iter()
            .filter_map(|id| self.pause_for_quality(id, now))
            .collect()
    }

    /// The template's quality drops to RED and it takes the next step of the pause
    /// ladder, whose end is scheduled.
    fn pause_for_quality(&mut self, id: &str, now: DateTime<Utc>) -> Option<PausedTemplate> {
        let template = self.template_mut(id)?;
        let mut webhooks = Vec::new();
        if template.quality_score != "RED" {
            webhooks.extend(template.set_quality("RED", now));
        }
        let (paused, lasts) = template.pause();
        webhooks.extend(paused);
        let pause = template.pauses;
        let outcome = PausedTemplate {
            id: template.id.clone(),
            name: template.name.clone(),
            language: template.language.clone(),
            status: template.status.clone(),
        };
        let waba_id = template.waba_id.clone();
        self.report(&waba_id, now, webhooks);
        if let Some(lasts) = lasts {
            self.schedule(
                now + lasts,
                Scheduled::TemplateUnpause {
                    id: id.to_owned(),
                    pause,
                },
            );
        }
        Some(outcome)
    }

    /// A scheduled pause is over: the template is APPROVED again (`UNPAUSE`).
    pub fn end_pause(&mut self, id: &str, pause: u32, now: DateTime<Utc>) {
        let Some(template) = self.template_mut(id) else {
            return;
        };
        let waba_id = template.waba_id.clone();
        if let Some(webhooks) = template.pause_over(pause) {
            self.report(&waba_id, now, webhooks);
        }
    }
}
