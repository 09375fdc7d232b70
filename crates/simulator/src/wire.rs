//! The Graph API as the simulator speaks it: the send request it reads, its answers and
//! error objects, and the webhooks it writes, written from Meta's documents
//! (`reference/meta-cloud-api.md` §1, §4, §5; `reference/usernames-bsuid.md`) as of the
//! 2026 API: business-scoped user ids on inbound and status webhooks, sends addressed by
//! one (`recipient`), reactions. These are the simulator's own, never Parley's adapter's:
//! a test double that shared the adapter's wire code would mirror its mistakes instead of
//! catching them (`tests/it/graph_fixtures.rs` holds Meta's documented payloads).

use serde::{Deserialize, Serialize};
use serde_json::Value;

fn is_false(b: &bool) -> bool {
    !b
}

/// `POST /{version}/{phone-number-id}/messages`: a send, or a mark-as-read. Meta refuses
/// fields it does not know; so does the simulator, naming the field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    pub messaging_product: String,
    #[serde(default)]
    pub recipient_type: Option<String>,
    /// The user's phone number (any formatting).
    #[serde(default)]
    pub to: Option<String>,
    /// The user's business-scoped user id, instead of `to`.
    #[serde(default)]
    pub recipient: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub context: Option<ContextRef>,
    #[serde(default)]
    pub biz_opaque_callback_data: Option<String>,
    #[serde(default)]
    pub text: Option<Text>,
    #[serde(default)]
    pub image: Option<MediaRef>,
    #[serde(default)]
    pub video: Option<MediaRef>,
    #[serde(default)]
    pub audio: Option<MediaRef>,
    #[serde(default)]
    pub document: Option<MediaRef>,
    #[serde(default)]
    pub sticker: Option<MediaRef>,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub reaction: Option<Reaction>,
    /// Contact cards: a type Meta has and the simulator does not show (131051).
    #[serde(default)]
    pub contacts: Option<Value>,
    /// Graph's `template` object, read by [`crate::template_send`].
    #[serde(default)]
    pub template: Option<Value>,
    /// Graph's `interactive` object, read by [`crate::interactive_send`].
    #[serde(default)]
    pub interactive: Option<Value>,
    /// `"read"` for mark-as-read requests.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub message_id: Option<String>,
    #[serde(default)]
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

/// A pin on the map; coordinates as numbers (Graph also sends them as strings in sends).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    #[serde(deserialize_with = "number_or_string")]
    pub latitude: f64,
    #[serde(deserialize_with = "number_or_string")]
    pub longitude: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

fn number_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| serde::de::Error::custom("not a number")),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom("not a number")),
        _ => Err(serde::de::Error::custom("expected a number")),
    }
}

/// An emoji on a message; an empty or absent emoji takes the reaction back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub message_id: String,
    #[serde(default)]
    pub emoji: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypingIndicator {
    #[serde(rename = "type")]
    pub kind: String,
}

/// The answer to an accepted send.
#[derive(Debug, Clone, Serialize)]
pub struct SendResponse {
    pub messaging_product: String,
    pub contacts: Vec<ContactRef>,
    pub messages: Vec<MessageRef>,
}

/// Who a send went to: what the sender wrote, and the user's number when it was sent to
/// a number (`to`) or the user's business-scoped id when it was sent to one
/// (`recipient`); never both, so a number the sender did not give is not disclosed.
#[derive(Debug, Clone, Serialize)]
pub struct ContactRef {
    pub input: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageRef {
    pub id: String,
}

/// `{"error": {...}}`, Meta's synchronous error body.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    pub error: GraphError,
}

#[derive(Debug, Clone, Serialize)]
pub struct GraphError {
    pub message: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub code: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_data: Option<ErrorData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fbtrace_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_product: Option<String>,
    #[serde(default)]
    pub details: String,
}

/// The webhook envelope: `{"object":"whatsapp_business_account","entry":[...]}`.
#[derive(Debug, Clone, Serialize)]
pub struct Envelope {
    pub object: String,
    pub entry: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub field: String,
    pub value: Value,
}

/// `value` of a `messages` change.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MessagesValue {
    pub messaging_product: String,
    pub metadata: Metadata,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<InboundWire>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<StatusWire>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Metadata {
    pub display_phone_number: String,
    pub phone_number_id: String,
}

/// The user a webhook is about: on inbound messages with the profile, on statuses the
/// recipient. Since 2026 every one carries the business-scoped user id (`user_id`),
/// except a number that is not on WhatsApp, which has none.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    pub wa_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
}

/// One inbound message (`value.messages[]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct InboundWire {
    pub from: String,
    pub id: String,
    /// Unix seconds, as a string.
    pub timestamp: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<InboundContext>,
    /// Set when the user arrived from a click-to-WhatsApp ad or a page post.
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction: Option<Reaction>,
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

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsupportedWire {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// `interactive` of an inbound message: which answer, and its object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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

/// A tapped reply button or a picked list row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyWire {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A completed Flow (`name: "flow"`).
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_timestamp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_source: Option<String>,
}

/// `button` of an inbound message: the tapped quick reply's payload and label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ButtonReply {
    pub payload: String,
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
}

/// One delivery receipt (`value.statuses[]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StatusWire {
    pub id: String,
    pub status: String,
    pub timestamp: String,
    pub recipient_id: String,
    /// The recipient's business-scoped user id (none for a number not on WhatsApp).
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

/// `referral` of an inbound message: the ad or post the user came from.
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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WebhookError {
    pub code: u32,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<ErrorData>,
}

/// Meta's signature header on every webhook: HMAC-SHA256 of the exact body with the app
/// secret, as `sha256=<lowercase hex>`.
pub mod signature {
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    pub const HEADER: &str = "x-hub-signature-256";

    pub fn sign(app_secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes())
            .expect("hmac takes keys of any length");
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    /// Meta's webhook bodies are ASCII: every other character travels as `\uXXXX` (a
    /// surrogate pair above the basic plane), and that is what is signed.
    pub fn ascii_json(value: &serde_json::Value) -> String {
        let raw = value.to_string();
        let mut out = String::with_capacity(raw.len());
        for ch in raw.chars() {
            if ch.is_ascii() {
                out.push(ch);
            } else {
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// The example of Meta's "Verify payloads" section: this secret and body.
        #[test]
        fn signs_as_meta_documents() {
            let signed = sign("secret", b"{\"object\":\"whatsapp_business_account\"}");
            assert!(signed.starts_with("sha256=") && signed.len() == 7 + 64);
            assert_eq!(
                ascii_json(&serde_json::json!({"t": "é😀"})),
                "{\"t\":\"\\u00e9\\ud83d\\ude00\"}"
            );
        }
    }
}
