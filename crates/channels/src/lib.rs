//! The contract between Parley's core and a messaging provider: what an outbound message
//! looks like once validated, how a send attempt can end, and the normalised inbound
//! traffic (user messages and delivery receipts) an adapter hands back.
//!
//! Knows nothing about HTTP, storage or any one provider's wire format.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_types::{StatusNote, Umid};
use serde::{Deserialize, Serialize};

pub mod interactive;
mod registry;
pub mod template;

pub use interactive::{InteractiveMessage, InteractiveReply};
pub use registry::{Adapters, Intakes};
pub use template::{TemplateCategory, TemplateMessage, TemplateSpec};

/// Whether `raw` is an absolute http(s) URL with a host and no whitespace.
pub fn is_web_url(raw: &str) -> bool {
    let has_host = |scheme: &str| {
        raw.get(..scheme.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
            && raw[scheme.len()..]
                .split(['/', '?', '#'])
                .next()
                .is_some_and(|host| !host.is_empty())
    };
    (has_host("https://") || has_host("http://")) && !raw.contains(char::is_whitespace)
}

/// The business number a message leaves from, as the provider knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRoute {
    /// Which adapter takes it ([`Adapters`] looks it up).
    pub kind: parley_types::ChannelKind,
    pub phone_number_id: String,
    pub business_number: String,
    /// The WhatsApp Business Account the number belongs to; templates live there.
    pub waba_id: String,
}

pub use parley_types::media::MediaKind;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OutboundContent {
    Text {
        body: String,
    },
    Media {
        kind: MediaKind,
        url: String,
        /// The provider's id for the same file, uploaded beforehand: sent instead of
        /// the URL when present (see [`ChannelAdapter::upload_media`]).
        media_id: Option<String>,
        caption: Option<String>,
        filename: Option<String>,
    },
    Location(Location),
    Template(TemplateMessage),
    Interactive(InteractiveMessage),
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutboundMessage {
    pub umid: Umid,
    /// E.164 with the leading `+`.
    pub to: String,
    pub content: OutboundContent,
    /// The provider id of the message this one quotes.
    pub reply_to: Option<String>,
}

/// An error as the provider reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderError {
    pub code: u32,
    pub title: String,
    pub details: Option<String>,
}

/// How one send attempt ended. The distinction matters for "never lost, never twice":
/// only `Retryable` means the provider certainly did not take the message.
#[derive(Debug, Clone, PartialEq)]
pub enum SendOutcome {
    Accepted {
        provider_message_id: String,
    },
    /// Refused for good (bad request, policy): report `undelivered`.
    Rejected(ProviderError),
    /// Refused for now (rate limits, provider unavailable, connection refused): the
    /// message was not taken and can be sent again later.
    Retryable(ProviderError),
    /// The request may or may not have reached the provider (timeout mid-call).
    Unknown(String),
}

/// What the provider answered when a template was submitted for review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmittedTemplate {
    pub provider_template_id: String,
    /// Usually `PENDING`.
    pub status: String,
    /// The category the provider filed it under (it may re-categorise at once).
    pub category: TemplateCategory,
}

/// Media a user sent, as the provider serves it: its type and its bytes, streamed.
pub struct MediaDownload {
    pub mime_type: Option<String>,
    pub body: futures::stream::BoxStream<'static, Result<bytes::Bytes, String>>,
}

/// A file to upload to the provider, streamed.
pub struct MediaUpload {
    pub file_name: String,
    pub mime_type: String,
    pub size: u64,
    pub body: futures::stream::BoxStream<'static, Result<bytes::Bytes, String>>,
}

/// How a provider's webhooks come into Parley: its subscription handshake, how a posted
/// body is shown to be the provider's, and how it is read. The HTTP edge serves the route
/// and knows nothing of the provider's wire.
pub trait WebhookIntake: Send + Sync {
    /// The header that carries the body's signature.
    fn signature_header(&self) -> &'static str;
    /// Whether `signature` (the header's value) proves `body` came from the provider.
    fn authentic(&self, body: &[u8], signature: Option<&str>) -> bool;
    /// The answer to a subscription handshake with these query parameters (`mode`, the
    /// token, the challenge), or `None` to refuse it.
    fn handshake(
        &self,
        mode: Option<&str>,
        token: Option<&str>,
        challenge: Option<String>,
    ) -> Option<String>;
    /// The events in an authenticated body; `Err` names what could not be read.
    fn read(&self, body: &[u8]) -> Result<Vec<ChannelEvent>, String>;
}

#[async_trait]
pub trait ChannelAdapter: Send + Sync {
    async fn send(&self, route: &ChannelRoute, message: &OutboundMessage) -> SendOutcome;
    /// Marks an inbound message read (blue ticks), optionally showing a typing indicator.
    async fn mark_read(
        &self,
        route: &ChannelRoute,
        provider_message_id: &str,
        typing: bool,
    ) -> Result<(), ProviderError>;
    /// Submits a template for review on the route's business account.
    async fn submit_template(
        &self,
        route: &ChannelRoute,
        spec: &TemplateSpec,
    ) -> Result<SubmittedTemplate, ProviderError>;
    /// Deletes every language of the template `name` on the route's business account.
    async fn delete_template(&self, route: &ChannelRoute, name: &str) -> Result<(), ProviderError>;
    /// Fetches media a user sent to the route's number, by the provider's media id.
    async fn download_media(
        &self,
        route: &ChannelRoute,
        media_id: &str,
    ) -> Result<MediaDownload, ProviderError>;
    /// Uploads a file for the route's number to send by id; yields the provider's media
    /// id (Meta keeps it 30 days).
    async fn upload_media(
        &self,
        route: &ChannelRoute,
        upload: MediaUpload,
    ) -> Result<String, ProviderError>;
}

#[derive(Debug, Clone, PartialEq)]
pub enum InboundContent {
    Text {
        body: String,
    },
    Media {
        kind: MediaKind,
        provider_media_id: String,
        url: Option<String>,
        mime_type: Option<String>,
        caption: Option<String>,
        filename: Option<String>,
    },
    Location(Location),
    /// A tap on a template's quick-reply button: its label and the payload the business
    /// attached to it.
    Button {
        text: String,
        payload: String,
    },
    /// An answer to an interactive message: a reply button, a list row, a Flow, a
    /// call-permission request.
    Interactive(InteractiveReply),
    /// A type Parley does not handle yet; kept so the message is not lost.
    Unsupported {
        kind: String,
    },
}

/// A message a user sent to a business number.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundMessage {
    pub phone_number_id: String,
    pub provider_message_id: String,
    /// The user's number in E.164 (`+` and digits).
    pub from: String,
    pub profile_name: Option<String>,
    /// The user's business-scoped id (WhatsApp's BSUID), when the provider gives it.
    pub user_id: Option<String>,
    pub timestamp: DateTime<Utc>,
    pub content: InboundContent,
    /// The provider id of the message the user replied to.
    pub reply_to: Option<String>,
    /// The ad or page button the user came from, if any.
    pub referral: Option<Referral>,
}

/// Where a user came from: a click-to-WhatsApp ad or a Facebook page button. Such an
/// arrival makes a free entry point possible (see `docs/decisions.md`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Referral {
    /// `ad` or `post`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
}

/// What the provider says a message costs under per-message pricing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pricing {
    /// `marketing`, `utility`, `authentication`, `service`, `referral_conversion`, …
    pub category: String,
    /// Whether delivering it is charged.
    pub billable: bool,
    /// `regular`, `free_customer_service` or `free_entry_point`.
    pub kind: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderStatus {
    Sent,
    Delivered,
    Read,
    Failed,
}

/// A delivery receipt for an outbound message.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusReport {
    pub phone_number_id: String,
    pub provider_message_id: String,
    pub status: ProviderStatus,
    pub timestamp: DateTime<Utc>,
    pub error: Option<ProviderError>,
    /// What Parley attached to the send (`biz_opaque_callback_data`): the umid.
    pub callback_data: Option<String>,
    /// Absent on failures and from providers that do not say.
    pub pricing: Option<Pricing>,
    /// The recipient's business-scoped id (WhatsApp's BSUID), when the provider gives it.
    pub user_id: Option<String>,
}

/// What changed about a template, as the provider reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateChange {
    /// Review outcome or lifecycle step: `APPROVED`, `REJECTED`, `PAUSED`, `DISABLED`, …
    Status {
        status: String,
        /// Why: the rejection reason, a pause's title, a flagged template's disable date.
        note: StatusNote,
    },
    Quality {
        previous: Option<String>,
        score: String,
    },
    Category {
        previous: Option<String>,
        category: String,
    },
}

/// A template webhook: one template (by business account, name and language) changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateEvent {
    pub waba_id: String,
    pub provider_template_id: Option<String>,
    pub name: String,
    pub language: String,
    pub change: TemplateChange,
    /// When the provider says it happened, if it says.
    pub timestamp: Option<DateTime<Utc>>,
}

/// What a business update is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusinessUpdateKind {
    /// A number's quality or messaging limit changed (upgrade, downgrade, flagged, …).
    NumberQuality,
    /// The business account changed (violation, restriction, verification, …).
    Account,
}

/// A change to the business account or one of its numbers, other than a template's.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessUpdate {
    pub waba_id: String,
    pub kind: BusinessUpdateKind,
    /// The provider's fields as it sent them, keys in camelCase.
    pub fields: serde_json::Value,
    /// When the provider says it happened, if it says.
    pub timestamp: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChannelEvent {
    Message(InboundMessage),
    Status(StatusReport),
    Template(TemplateEvent),
    Business(BusinessUpdate),
}
