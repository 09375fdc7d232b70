//! Graph API shapes (`reference/meta-cloud-api.md` §1, §4, §5) as the adapter writes its
//! requests and reads webhooks. The simulator has its own (it must not mirror these).

use parley_channels::Location;
use serde::{Deserialize, Serialize};

fn is_false(b: &bool) -> bool {
    !b
}

/// `POST /{version}/{phone-number-id}/messages`: a send, or a mark-as-read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    pub messaging_product: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<ContextRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<MediaRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<MediaRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<MediaRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<MediaRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticker: Option<MediaRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Graph's `template` object (see [`crate::templates`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<serde_json::Value>,
    /// Graph's `interactive` object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactive: Option<serde_json::Value>,
    /// `"read"` for mark-as-read requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typing_indicator: Option<TypingIndicator>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextRef {
    pub message_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub body: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub preview_url: bool,
}

/// A media object in a send: exactly one of `id` or `link`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypingIndicator {
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendResponse {
    pub messaging_product: String,
    #[serde(default)]
    pub contacts: Vec<ContactRef>,
    #[serde(default)]
    pub messages: Vec<MessageRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContactRef {
    pub input: String,
    pub wa_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageRef {
    pub id: String,
}

/// `{"error": {...}}`, Meta's synchronous error body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: GraphError,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GraphError {
    pub message: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    pub code: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<ErrorData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fbtrace_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_product: Option<String>,
    #[serde(default)]
    pub details: String,
}

/// The webhook envelope: `{"object":"whatsapp_business_account","entry":[...]}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub object: String,
    pub entry: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub value: serde_json::Value,
}

/// `value` of a `messages` change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MessagesValue {
    pub messaging_product: String,
    pub metadata: Metadata,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<InboundWire>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<StatusWire>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Metadata {
    pub display_phone_number: String,
    pub phone_number_id: String,
}

/// The user a webhook is about. Since 2026 Meta adds the user's business-scoped id
/// (`user_id`, `reference/usernames-bsuid.md`), and status webhooks carry one per
/// recipient, without a profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    #[serde(default)]
    pub wa_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Profile {
    pub name: String,
}

/// One inbound message (`value.messages[]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InboundWire {
    pub from: String,
    pub id: String,
    /// Unix seconds, as a string.
    pub timestamp: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<InboundContext>,
    /// Set when the user arrived from a click-to-WhatsApp ad or a page button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral: Option<ReferralWire>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<InboundMedia>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<InboundMedia>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<InboundMedia>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<InboundMedia>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticker: Option<InboundMedia>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// A tap on a template's quick-reply button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button: Option<ButtonReply>,
    /// An answer to an interactive message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactive: Option<InboundInteractive>,
    /// With `type: "unsupported"`: what the user sent (`{"type": "image"}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsupported: Option<UnsupportedWire>,
    /// Why the message reached the business as `unsupported`: 131051 for a type the API
    /// does not know, 131052 for media it could not take (over 100 MB).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<WebhookError>,
}

/// `unsupported` of an inbound message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsupportedWire {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// `interactive` of an inbound message: which answer, and its object.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InboundInteractive {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button_reply: Option<ReplyWire>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_reply: Option<ReplyWire>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nfm_reply: Option<NfmReply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_permission_reply: Option<CallPermissionReply>,
}

/// A tapped reply button or picked list row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyWire {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A completed Flow (`name: "flow"`) or address form (`name: "address_message"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NfmReply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    pub response_json: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallPermissionReply {
    pub response: String,
    #[serde(default)]
    pub is_permanent: bool,
    /// Unix seconds; Graph has sent it both as a number and as a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_timestamp: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_source: Option<String>,
}

/// `button` of an inbound message: the tapped quick reply's payload and label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ButtonReply {
    pub payload: String,
    pub text: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InboundContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InboundMedia {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Sent by Meta since late 2025 (rolled out gradually); the simulator leaves it out, so
    /// the media is reached through `GET /{media-id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One delivery receipt (`value.statuses[]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StatusWire {
    pub id: String,
    pub status: String,
    pub timestamp: String,
    pub recipient_id: String,
    /// The recipient's business-scoped id (2026).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<WebhookError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing: Option<PricingWire>,
}

/// `pricing` of a status: what the message costs under per-message pricing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingWire {
    /// Being phased out in favour of `type` (`regular` is billable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing_model: Option<String>,
    /// `regular`, `free_customer_service` or `free_entry_point`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `marketing`, `utility`, `authentication`, `service`, `referral_conversion`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

impl PricingWire {
    pub fn new(billable: bool, kind: &str, category: &str) -> Self {
        Self {
            billable: Some(billable),
            pricing_model: Some("PMP".into()),
            kind: Some(kind.into()),
            category: Some(category.into()),
        }
    }
}

/// `referral` of an inbound message: the click-to-WhatsApp ad or page post the user
/// came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// `ad` or `post`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ctwa_clid: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookError {
    pub code: u32,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<ErrorData>,
}
