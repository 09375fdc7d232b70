//! What the simulated WhatsApp knows: business numbers, phones and their chats, the
//! customer-service windows, messaging limits and quality ratings, every send the Graph
//! API accepted, media files, and the receipts and user messages waiting to become
//! webhooks.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::wire::{InboundWire, PricingWire};

use crate::limits::MessagingLimits;
use crate::quality::Quality;
use crate::throughput::Throughput;
use crate::windows::Windows;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Business {
    pub phone_number_id: String,
    /// E.164 with the `+`.
    pub display_number: String,
    pub waba_id: String,
    /// Parley's channel id, accepted as `channelId` by the control API.
    pub alias: Option<String>,
}

/// One bubble in a phone's chat, as the phone sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneMessage {
    pub id: String,
    /// `from_business` or `from_user`.
    pub direction: String,
    pub business_number: String,
    pub phone_number_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The Meta content object for `type` (e.g. `{"body": "hi"}` for text).
    pub message: Value,
    /// `sent`, `delivered`, `read` for the business's messages (ticks); `sent` or `read`
    /// (blue ticks from the business) for the user's.
    pub status: String,
    pub timestamp: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_id: Option<String>,
    /// Set while the business shows "typing…" in answer to this message.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub typing: bool,
    /// The file the bubble shows (its own, or its template's header), served by the
    /// control API at `/api/media/{id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Phone {
    pub msisdn: String,
    pub name: String,
    pub messages: Vec<PhoneMessage>,
}

/// A send the Graph API accepted, whatever became of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcceptedSend {
    pub id: String,
    pub phone_number_id: String,
    pub to: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub callback_data: Option<String>,
    /// The uploaded media the send named by id (its own or its template header's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
    /// The URL the send named instead, for the simulator to download.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_link: Option<String>,
    pub at: DateTime<Utc>,
    /// Meta's error code when the send failed after acceptance.
    pub error_code: Option<u32>,
    /// What it costs, as its status webhooks say; `None` when it failed.
    pub pricing: Option<PricingWire>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    pub code: u32,
    pub title: String,
    pub details: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Scheduled {
    Status {
        wamid: String,
        phone_number_id: String,
        recipient: String,
        callback_data: Option<String>,
        status: String,
        failure: Option<Failure>,
        /// What the message costs; `None` on failures.
        pricing: Option<PricingWire>,
    },
    Inbound {
        phone_number_id: String,
        profile_name: String,
        message: Box<InboundWire>,
    },
    /// Review of a pending template comes due.
    TemplateReview { id: String },
    /// A pause of a template comes to its end; `pause` numbers it, so that a pause lifted
    /// or deepened meanwhile is left alone.
    TemplateUnpause { id: String, pause: u32 },
    /// Negative feedback about a number leaves the rating window: the rating may recover.
    QualityCheck { phone_number_id: String },
    /// A change of the business account, its numbers or its templates, reported on the
    /// webhook `field` (`message_template_status_update`, `account_update`, …).
    ManagementWebhook {
        waba_id: String,
        field: String,
        value: Value,
    },
}

/// Everything the simulated WhatsApp knows; written whole to its state file (`persist`).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    pub businesses: Vec<Business>,
    /// By wa_id (E.164 digits).
    pub phones: BTreeMap<String, Phone>,
    /// Customer-service windows and free entry points.
    pub windows: Windows,
    /// Throughput and pair-rate limits.
    pub throughput: Throughput,
    /// Each portfolio's messaging limit and the users it reached.
    pub limits: MessagingLimits,
    /// Each number's quality rating, and who blocked it.
    pub quality: Quality,
    pub sends: Vec<AcceptedSend>,
    /// Events waiting for their time, kept in (due, seq) order.
    #[serde(with = "crate::saved::ordered_entries")]
    pub timeline: BTreeMap<(DateTime<Utc>, u64), Scheduled>,
    next_seq: u64,
    /// wamid → the wa_id whose chat holds it.
    owners: HashMap<String, String>,
    /// Every business account's templates, deleted ones removed.
    pub templates: Vec<crate::templates::SimTemplate>,
    next_template_id: u64,
    /// wamid of a template send → the template message, for taps on its buttons.
    pub template_sends: HashMap<String, crate::template_send::TemplateSend>,
    /// Uploaded, received and downloaded files.
    pub media: crate::media::MediaStore,
    /// Failures and latency the control API asked the Graph API to add to sends.
    pub faults: crate::faults::Faults,
    /// Webhooks built and not yet answered by the callback, per business account.
    pub outbox: crate::pump::Outbox,
    /// Sends written to the state file's journal (each send's number in it).
    pub journal_seq: u64,
    /// The simulated time when the state was saved: a restart resumes from it, so time
    /// (windows, receipts due) never runs backwards across restarts.
    pub saved_at: Option<DateTime<Utc>>,
    /// What changed since the lock was taken, announced when it is released.
    #[serde(skip)]
    pub changes: crate::events::Changes,
}

/// Webhook fields of a template's review state: every such change reports one.
const TEMPLATE_FIELDS: &[&str] = &[
    "message_template_status_update",
    "message_template_quality_update",
    "template_category_update",
];

/// Rank of a receipt on the phone, so a late `delivered` never undoes `read`.
fn tick_rank(status: &str) -> u8 {
    match status {
        "sent" => 1,
        "delivered" => 2,
        "read" => 3,
        _ => 0,
    }
}

pub fn display_name(wa_id: &str) -> String {
    format!("User {}", &wa_id[wa_id.len().saturating_sub(4)..])
}

impl State {
    pub fn register(&mut self, business: Business) {
        self.businesses
            .retain(|b| b.phone_number_id != business.phone_number_id);
        self.businesses.push(business);
    }

    pub fn business(&self, phone_number_id: &str) -> Option<&Business> {
        self.businesses
            .iter()
            .find(|b| b.phone_number_id == phone_number_id)
    }

    /// By Parley channel id, phone-number id or display number; the first one by default.
    pub fn business_for(&self, key: Option<&str>) -> Option<&Business> {
        match key {
            None => self.businesses.first(),
            Some(k) => self.businesses.iter().find(|b| {
                b.alias.as_deref() == Some(k) || b.phone_number_id == k || b.display_number == k
            }),
        }
    }

    /// Every user with a chat: whom a send's `recipient` (a business-scoped id) can name,
    /// since a business learns a user's id only from a webhook about a chat.
    pub fn known_users(&self) -> impl Iterator<Item = &str> {
        self.phones.keys().map(String::as_str)
    }

    pub fn phone(&mut self, wa_id: &str) -> &mut Phone {
        self.phones
            .entry(wa_id.to_owned())
            .or_insert_with(|| Phone {
                msisdn: format!("+{wa_id}"),
                name: display_name(wa_id),
                messages: Vec::new(),
            })
    }

    /// A fresh numeric template id, as Meta's are.
    pub fn new_template_id(&mut self) -> String {
        self.next_template_id += 1;
        format!("{}", 1_000_000_000_000_000 + self.next_template_id)
    }

    pub fn template_mut(&mut self, id: &str) -> Option<&mut crate::templates::SimTemplate> {
        self.templates.iter_mut().find(|t| t.id == id)
    }

    /// A template submitted for review.
    pub fn add_template(&mut self, template: crate::templates::SimTemplate) {
        self.templates.push(template);
        self.changes.templates();
    }

    /// Deletes the business account's templates called `name` (every language); whether
    /// there were any.
    pub fn remove_templates(&mut self, waba_id: &str, name: &str) -> bool {
        let before = self.templates.len();
        self.templates
            .retain(|t| !(t.waba_id == waba_id && t.name == name));
        let removed = self.templates.len() != before;
        if removed {
            self.changes.templates();
        }
        removed
    }

    /// Queues the webhooks of a management change (a template's, the account's) for now.
    pub fn report(
        &mut self,
        waba_id: &str,
        now: DateTime<Utc>,
        webhooks: impl IntoIterator<Item = (impl Into<String>, Value)>,
    ) {
        for (field, value) in webhooks {
            let field: String = field.into();
            if TEMPLATE_FIELDS.contains(&field.as_str()) {
                self.changes.templates();
            }
            self.schedule(
                now,
                Scheduled::ManagementWebhook {
                    waba_id: waba_id.to_owned(),
                    field,
                    value,
                },
            );
        }
    }

    pub fn schedule(&mut self, due: DateTime<Utc>, event: Scheduled) {
        self.next_seq += 1;
        self.timeline.insert((due, self.next_seq), event);
    }

    /// Whether an event is due at `now`.
    pub fn has_due(&self, now: DateTime<Utc>) -> bool {
        self.timeline
            .first_key_value()
            .is_some_and(|((due, _), _)| *due <= now)
    }

    /// Removes and returns the events due at `now`, oldest first, each with when it fell due.
    pub fn take_due(&mut self, now: DateTime<Utc>) -> Vec<(DateTime<Utc>, Scheduled)> {
        let later = self.timeline.split_off(&(now, u64::MAX));
        std::mem::replace(&mut self.timeline, later)
            .into_iter()
            .map(|((due, _), event)| (due, event))
            .collect()
    }

    /// What an accepted send changes, live and when the journal is replayed
    /// (`persist`): the send on record, the template for taps on its buttons, the bubble
    /// on the phone (ending any "typing…" the business showed), its receipts, and the
    /// business's answer (which may open a free entry point; doing it twice is once).
    pub fn apply_send(&mut self, record: crate::persist::SendRecord) {
        let wamid = record.accepted.id.clone();
        if let Some(at) = record.replied {
            self.windows
                .business_replied(&record.accepted.phone_number_id, &record.to, at);
        }
        if let Some(template) = record.template {
            self.template_sends.insert(wamid, template);
        }
        if let Some(bubble) = record.bubble {
            for earlier in &mut self.phone(&record.to).messages {
                earlier.typing = false;
            }
            self.push_bubble(&record.to, bubble);
        }
        for (due, receipt) in record.receipts {
            self.schedule(due, receipt);
        }
        self.sends.push(record.accepted);
    }

    /// Adds a bubble to a phone's chat.
    pub fn push_bubble(&mut self, wa_id: &str, bubble: PhoneMessage) {
        self.owners.insert(bubble.id.clone(), wa_id.to_owned());
        self.phone(wa_id).messages.push(bubble);
        self.changes.phone(wa_id);
    }

    /// The user `wa_id` sends `wire` to `business`: the bubble appears on the phone, the
    /// customer-service window (re)opens (and, after an ad, a free entry point becomes
    /// possible), and the webhook is queued for now.
    pub fn user_sends(
        &mut self,
        business: &Business,
        wa_id: &str,
        mut wire: InboundWire,
        message: Value,
        now: DateTime<Utc>,
    ) -> PhoneMessage {
        if let Some(context) = wire.context.as_mut() {
            context.from = Some(business.display_number.trim_start_matches('+').to_owned());
        }
        let bubble = PhoneMessage {
            id: wire.id.clone(),
            direction: "from_user".into(),
            business_number: business.display_number.clone(),
            phone_number_id: business.phone_number_id.clone(),
            kind: wire.kind.clone(),
            message,
            status: "sent".into(),
            timestamp: now,
            context_id: wire.context.as_ref().and_then(|c| c.id.clone()),
            typing: false,
            media_id: None,
        };
        let profile_name = self.phone(wa_id).name.clone();
        self.push_bubble(wa_id, bubble.clone());
        let referred = wire.referral.is_some();
        self.windows
            .user_wrote(&business.phone_number_id, wa_id, referred, now);
        self.schedule(
            now,
            Scheduled::Inbound {
                phone_number_id: business.phone_number_id.clone(),
                profile_name,
                message: Box::new(wire),
            },
        );
        bubble
    }

    /// A bubble by wamid, with the wa_id of its chat.
    pub fn bubble(&self, wamid: &str) -> Option<(&str, &PhoneMessage)> {
        let wa_id = self.owners.get(wamid)?;
        let phone = self.phones.get(wa_id)?;
        let bubble = phone.messages.iter().rev().find(|m| m.id == wamid)?;
        Some((wa_id.as_str(), bubble))
    }

    /// A bubble by wamid, to change, with the wa_id of its chat (whose chat has changed).
    pub fn bubble_mut(&mut self, wamid: &str) -> Option<(&str, &mut PhoneMessage)> {
        let wa_id = self.owners.get(wamid)?;
        let phone = self.phones.get_mut(wa_id)?;
        let bubble = phone.messages.iter_mut().rev().find(|m| m.id == wamid)?;
        self.changes.phone(wa_id);
        Some((wa_id.as_str(), bubble))
    }

    /// A receipt reaches the phone: the bubble's ticks move on, never back.
    pub fn tick(&mut self, wamid: &str, status: &str) {
        let moves_on = self
            .bubble(wamid)
            .is_some_and(|(_, bubble)| tick_rank(status) > tick_rank(&bubble.status));
        if moves_on && let Some((_, bubble)) = self.bubble_mut(wamid) {
            bubble.status = status.into();
        }
    }
}
