//! `clientMessageId` idempotency: a retry of the same send gets the message stored the
//! first time, but a *different* send under an id already used is refused, never answered
//! with the first message while the second silently goes nowhere.

use chrono::{DateTime, Utc};
use parley_store::Message;
use parley_types::codes::SyncCode;

use crate::Error;

/// What a send asks for, as far as a retry must repeat it: who gets what, when and how.
/// Ids, times of acceptance and the batch differ between a request and its retry.
pub(super) struct Intent {
    msisdn: String,
    content_type: String,
    content: serde_json::Value,
    reply_to: Option<parley_types::Umid>,
    dlr_callback_url: Option<String>,
    scheduled_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
}

impl Intent {
    /// The intent of a message about to be accepted, if it carries a `clientMessageId`.
    pub(super) fn of(message: &Message) -> Option<Self> {
        message.client_message_id.as_ref()?;
        Some(Self {
            msisdn: message.msisdn.clone(),
            content_type: message.content_type.clone(),
            content: message.content.clone(),
            reply_to: message.reply_to,
            dlr_callback_url: message.dlr_callback_url.clone(),
            scheduled_at: message.scheduled_at,
            expires_at: message.expires_at,
        })
    }

    /// `Ok` when `stored` (the message first accepted under the id) is what this request
    /// asks for, else the error to answer with.
    pub(super) fn check(&self, stored: &Message, now: DateTime<Utc>) -> Result<(), Error> {
        // A schedule already past is dropped when a request is read, so a retry that comes
        // after the scheduled time cannot repeat it; one still ahead must match.
        let same_schedule = match (self.scheduled_at, stored.scheduled_at) {
            (Some(asked), Some(first)) => asked == first,
            (Some(_), None) => false,
            (None, Some(first)) => first <= now,
            (None, None) => true,
        };
        let same = self.msisdn == stored.msisdn
            && self.content_type == stored.content_type
            && self.content == stored.content
            && self.reply_to == stored.reply_to
            && self.dlr_callback_url == stored.dlr_callback_url
            && self.expires_at == stored.expires_at
            && same_schedule;
        if same {
            return Ok(());
        }
        Err(Error::invalid(
            SyncCode::InvalidParameters,
            format!(
                "Invalid parameter(s): 'clientMessageId' {:?} was already used for message {} with a different recipient or content; use a new clientMessageId for a new message",
                stored.client_message_id.as_deref().unwrap_or_default(),
                stored.umid
            ),
        ))
    }
}
