use chrono::{DateTime, Utc};
use parley_types::{AccountId, ApiKeyId, ChannelId, ChannelKind, StatusNote, SubAccountId, Umid};
use serde::{Deserialize, Serialize};

use crate::status::MessageStatus;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAccount {
    pub id: SubAccountId,
    pub account_id: AccountId,
    pub created_at: DateTime<Utc>,
}

/// One WhatsApp business number: 8x8's `channelId` plus Meta's WABA and phone-number ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub id: ChannelId,
    /// Which adapter it goes through, and how it is addressed.
    pub kind: ChannelKind,
    pub account_id: AccountId,
    pub sub_account_id: SubAccountId,
    pub business_number: String,
    pub waba_id: String,
    pub phone_number_id: String,
    pub created_at: DateTime<Utc>,
}

/// Everything the first start creates, written in one transaction.
#[derive(Debug, Clone)]
pub struct Sandbox {
    pub account: Account,
    pub sub_account: SubAccount,
    pub channel: Channel,
    pub api_key: NewApiKey,
}

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub id: ApiKeyId,
    pub account_id: AccountId,
    pub name: String,
    /// The first characters of the key, shown in listings so a person can tell keys apart.
    pub prefix: String,
    /// SHA-256 of the whole key; the key itself is never stored.
    pub hash: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub account_id: AccountId,
    pub name: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Outbound,
    Inbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Outbound => "outbound",
            Self::Inbound => "inbound",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "outbound" => Some(Self::Outbound),
            "inbound" => Some(Self::Inbound),
            _ => None,
        }
    }
}

/// A stored message, outbound or inbound.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub umid: Umid,
    pub account_id: AccountId,
    pub sub_account_id: SubAccountId,
    pub channel_id: ChannelId,
    pub direction: Direction,
    /// The end user's number in E.164.
    pub msisdn: String,
    pub country: Option<String>,
    /// 8x8 content type: `Text`, `Image`, `Video`, `Audio`, `File`, `Location`.
    pub content_type: String,
    /// The 8x8 `content` object, normalised.
    pub content: serde_json::Value,
    pub client_message_id: Option<String>,
    /// The message this one quotes (`context.umid` out, `replyToUmid` in).
    pub reply_to: Option<Umid>,
    /// Meta's `wamid`, once known.
    pub provider_message_id: Option<String>,
    /// The end user's WhatsApp profile name (inbound only).
    pub user_name: Option<String>,
    pub status: MessageStatus,
    pub created_at: DateTime<Utc>,
    /// Where this message's delivery receipts go instead of the account's CADR webhook.
    pub dlr_callback_url: Option<String>,
    /// WhatsApp's business-scoped id of the user (8x8's `channelUserId`), once known.
    pub channel_user_id: Option<String>,
    /// What it costs, once the provider said (outbound only).
    pub pricing: Option<MessagePricing>,
    /// The batch it was sent in (outbound only).
    pub batch: Option<BatchRef>,
    /// When the sender asked for it to go out; `None`: at once.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// It is dropped (undelivered, "Expired") if not handed to WhatsApp by then.
    pub expires_at: Option<DateTime<Utc>>,
    /// Who sent it (outbound only; `None` for messages accepted before origins existed).
    pub origin: Option<Origin>,
}

/// Who sent an outbound message, with what of theirs: kept with the message, so logs,
/// reports and webhooks can say so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Origin {
    /// `POST …/messages`.
    Api,
    /// `POST …/messages/batch` (the message's `batch` says which).
    Batch,
    Campaign {
        campaign: String,
    },
    /// A workflow instance's step.
    Automation {
        instance: String,
        step: String,
    },
    /// An agent answering a ticket.
    Agent {
        agent: String,
        ticket: String,
    },
}

impl Origin {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Batch => "batch",
            Self::Campaign { .. } => "campaign",
            Self::Automation { .. } => "automation",
            Self::Agent { .. } => "agent",
        }
    }

    /// What of the sender's it came from, as stored (`instance/step`, `agent/ticket`).
    pub fn reference(&self) -> Option<String> {
        match self {
            Self::Api | Self::Batch => None,
            Self::Campaign { campaign } => Some(campaign.clone()),
            Self::Automation { instance, step } => Some(format!("{instance}/{step}")),
            Self::Agent { agent, ticket } => Some(format!("{agent}/{ticket}")),
        }
    }

    /// The origin as stored; `None` for an unknown kind or a reference that does not fit.
    pub fn from_stored(kind: &str, reference: Option<&str>) -> Option<Self> {
        let pair = || {
            let (a, b) = reference?.split_once('/')?;
            Some((a.to_owned(), b.to_owned()))
        };
        match kind {
            "api" => Some(Self::Api),
            "batch" => Some(Self::Batch),
            "campaign" => Some(Self::Campaign {
                campaign: reference?.to_owned(),
            }),
            "automation" => pair().map(|(instance, step)| Self::Automation { instance, step }),
            "agent" => pair().map(|(agent, ticket)| Self::Agent { agent, ticket }),
            _ => None,
        }
    }
}

/// A message's batch (`POST …/messages/batch`): Parley's id and the sender's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRef {
    pub id: uuid::Uuid,
    pub client_batch_id: Option<String>,
}

impl BatchRef {
    /// `batchId` and `clientBatchId` onto a JSON object (a receipt, a details record).
    pub fn write_ids(&self, into: &mut serde_json::Value) {
        into["batchId"] = serde_json::json!(self.id);
        if let Some(id) = &self.client_batch_id {
            into["clientBatchId"] = serde_json::json!(id);
        }
    }
}

/// A message's price: the provider's category, and what Parley charged at delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagePricing {
    /// `marketing`, `utility`, `authentication`, `service`, `referral_conversion`, …
    pub category: String,
    /// `regular` (charged), `free_customer_service` or `free_entry_point`.
    pub kind: String,
    pub billable: bool,
    /// The charge in millionths of the rate card's currency, set once it was delivered.
    pub cost_micros: Option<i64>,
}

/// What the provider said a message costs, carried by a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptPricing {
    pub category: String,
    pub kind: String,
    pub billable: bool,
}

/// The price of one charged message: millionths of the currency, and the volume tier it
/// fell in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    pub micros: i64,
    pub tier: u32,
}

/// The rate card the store charges delivered messages by.
pub trait PriceList: Send + Sync {
    /// The price of the `nth` (from 1) charged message this month of `category` to numbers
    /// with this country calling code.
    fn price(&self, category: &str, calling_code: &str, nth: u64) -> Price;
}

/// A user's conversation state with one business number, as Parley recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationWindow {
    /// When the user last wrote: the 24-hour customer-service window runs from here.
    pub last_inbound_at: DateTime<Utc>,
    /// When the user last arrived from an ad or page button, while a reply can still open
    /// a free entry point.
    pub referred_at: Option<DateTime<Utc>>,
    /// Until when the free entry point (opened by a timely reply) lasts.
    pub free_entry_until: Option<DateTime<Utc>>,
}

/// Delivered messages of one group in a month, for the usage report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    pub sub_account_id: SubAccountId,
    pub waba_id: String,
    pub category: String,
    /// ISO 3166 alpha-2, when known.
    pub country: Option<String>,
    /// The volume tier charged messages fell in (`None` for free ones).
    pub tier: Option<u32>,
    pub delivered: u64,
    pub charged: u64,
    pub cost_micros: i64,
}

/// What a user's message does to the account's do-not-contact list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptChange {
    /// A stop keyword: onto the list.
    Out,
    /// A start keyword: off it.
    In,
}

/// How a number came onto an account's do-not-contact list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptOutSource {
    /// The user wrote a stop keyword.
    Keyword,
    /// The Contacts API's blacklist endpoint.
    Api,
}

impl OptOutSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyword => "keyword",
            Self::Api => "api",
        }
    }
}

#[derive(Debug, Clone)]
pub enum AcceptOutcome {
    Accepted(Message),
    /// The subaccount already sent a message with this `clientMessageId`: here it is.
    Duplicate(Message),
}

impl AcceptOutcome {
    pub fn message(&self) -> &Message {
        match self {
            Self::Accepted(m) | Self::Duplicate(m) => m,
        }
    }
}

#[derive(Debug, Clone)]
pub enum InboundOutcome {
    Stored,
    /// Meta delivered the same webhook twice; the first copy is kept.
    AlreadyStored,
}

/// Outbound work handed to a dispatcher by [`crate::DispatchStore::claim_dispatch`].
#[derive(Debug, Clone)]
pub struct DispatchJob {
    pub message: Message,
    pub attempts: u32,
}

/// How a dispatch attempt ended.
#[derive(Debug, Clone)]
pub enum DispatchResult {
    /// The provider accepted it: `sent`, with the provider's id.
    Sent {
        provider_message_id: String,
        status: MessageStatus,
    },
    /// The provider refused it for good: `undelivered` with the reason.
    Failed { status: MessageStatus },
}

/// A provider's receipt for one outbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub channel: ChannelId,
    /// What the provider says the message costs, when it says.
    pub pricing: Option<ReceiptPricing>,
    /// The provider's id for the message (Meta's wamid): how the message is found.
    pub provider_message_id: String,
    /// The umid the provider echoed back, if any. It finds a message whose provider id
    /// Parley has not recorded yet (the receipt overtook the dispatcher's own record, or a
    /// crash interrupted the dispatch), and the provider id is then attached to it.
    pub umid: Option<Umid>,
    pub status: MessageStatus,
    /// The recipient's business-scoped id, when the provider gives it: kept on the
    /// message if it has none yet.
    pub channel_user_id: Option<String>,
}

/// A message template on a WhatsApp Business Account, as Parley keeps it: the definition
/// submitted for review and what the provider has said about it since.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub id: uuid::Uuid,
    pub account_id: AccountId,
    pub channel_id: ChannelId,
    pub waba_id: String,
    pub name: String,
    pub language: String,
    /// The current category (`AUTHENTICATION`, `MARKETING`, `UTILITY`); the provider may
    /// have changed the one submitted.
    pub category: String,
    /// The validated definition as submitted (core's `TemplateSpec`), as JSON.
    pub spec: serde_json::Value,
    /// `PENDING`, `APPROVED`, `REJECTED`, `PAUSED`, `DISABLED`, `PENDING_DELETION`, …
    pub status: String,
    /// Why it was rejected or paused, as the provider put it ([`StatusNote::headline`]).
    pub reason: Option<String>,
    /// `GREEN`, `YELLOW`, `RED` or `UNKNOWN`.
    pub quality: String,
    pub provider_template_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it was deleted; its name stays blocked for a while after.
    pub deleted_at: Option<DateTime<Utc>>,
}

/// One step in a template's life, oldest first in [`crate::TemplateStore::template_history`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateHistoryEntry {
    pub at: DateTime<Utc>,
    pub status: String,
    /// What the provider said with a status change; empty for the other steps.
    #[serde(flatten)]
    pub note: StatusNote,
    pub quality: String,
    pub category: String,
}

/// The per-business-account limits a new template must stay within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateLimits {
    /// Live templates (every language counts).
    pub max_templates: u32,
    pub max_created_per_hour: u32,
    /// How long a deleted template's name cannot be used again.
    pub name_blocked_for: chrono::Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CreateTemplateOutcome {
    Created(Template),
    /// This name was deleted recently; it is free again at `until`.
    NameBlocked {
        until: DateTime<Utc>,
    },
    /// A live template with this name and language exists.
    Exists(Template),
    TooManyTemplates {
        limit: u32,
    },
    /// Too many creations in the last hour; the next one is possible at `retry_at`.
    RateLimited {
        retry_at: DateTime<Utc>,
    },
}

/// A change the provider reported for a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateUpdate {
    Status { status: String, note: StatusNote },
    Quality { score: String },
    Category { category: String },
}
