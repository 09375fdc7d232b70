//! The customer's webhooks and the outbox of events waiting for them.

use chrono::{DateTime, Utc};
use parley_types::{AccountId, SubAccountId};

use crate::{Message, MessageStatus, Template, TemplateHistoryEntry};

/// 8x8's webhook `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookKind {
    /// Delivery receipts (`outbound_message_status_changed`).
    Cadr,
    /// Inbound messages (`inbound_message_received`).
    Msg,
    /// Business-management events (templates, number quality, account updates).
    Cabm,
}

impl WebhookKind {
    pub const ALL: [Self; 3] = [Self::Cadr, Self::Msg, Self::Cabm];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cadr => "CADR",
            Self::Msg => "MSG",
            Self::Cabm => "CABM",
        }
    }

    /// Any casing.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(raw.trim()))
    }
}

/// Every subaccount of the account, as 8x8 writes it.
pub const ALL_SUB_ACCOUNTS: &str = "*";

#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub account_id: AccountId,
    /// A subaccount id, or [`ALL_SUB_ACCOUNTS`].
    pub sub_account_id: String,
    pub kind: WebhookKind,
    pub url: String,
    pub enabled: bool,
    /// Sent as the `Authorization` header.
    pub http_authorization: Option<String>,
    /// 8x8's `oauth` object: `{url, clientId, clientSecret, credentialsLocation, scope}`.
    pub oauth: Option<serde_json::Value>,
    /// Parley's addition: signs every request (Standard Webhooks).
    pub signing_secret: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an outbox event reports, by the row of the change that caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSource {
    /// A message's status (`message_statuses`): a receipt, or an inbound arrival.
    Status,
    /// A template change (`template_events`).
    Template,
    /// A business-management change (`business_events`).
    Business,
}

impl EventSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Template => "template",
            Self::Business => "business",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Status, Self::Template, Self::Business]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventState {
    Pending,
    Delivered,
    /// Every attempt failed; kept for redrive.
    Dead,
    /// No webhook takes it any more (deleted or disabled after the change).
    Dropped,
}

impl EventState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
            Self::Dropped => "dropped",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Dead, Self::Dropped]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    pub id: i64,
    pub account_id: AccountId,
    pub sub_account_id: Option<SubAccountId>,
    pub kind: WebhookKind,
    pub source: EventSource,
    pub source_id: i64,
    pub lane: String,
    pub created_at: DateTime<Utc>,
    pub state: EventState,
    /// Attempts made so far.
    pub attempts: u32,
    /// Where the last attempt went.
    pub url: Option<String>,
    pub last_error: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// The change an event reports, as recorded when it happened.
#[derive(Debug, Clone, PartialEq)]
pub enum EventSubject {
    Status {
        message: Box<Message>,
        status: MessageStatus,
    },
    Template {
        template: Box<Template>,
        change: Box<TemplateHistoryEntry>,
        previous: Option<Box<TemplateHistoryEntry>>,
    },
    Business(BusinessEvent),
}

/// A business-management change (number quality, account update) as the provider told it.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessEvent {
    pub account_id: AccountId,
    pub waba_id: String,
    /// 8x8's `eventType`, e.g. `phone_number_quality_update`.
    pub event_type: String,
    /// 8x8's `eventDetails`.
    pub details: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookAttempt {
    pub at: DateTime<Utc>,
    pub url: String,
    /// The HTTP status answered, if any answer came.
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
}

/// How a claimed event ends this round.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookOutcome {
    Delivered,
    /// Try again at this time.
    Retry(DateTime<Utc>),
    Dead,
    Dropped,
}

/// How one claimed event ended, to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedEvent {
    pub id: i64,
    pub outcome: WebhookOutcome,
    /// The attempt made, if a request was sent (or given up on).
    pub attempt: Option<WebhookAttempt>,
}

/// Which finished events to deliver again.
#[derive(Debug, Clone, PartialEq)]
pub enum Redrive {
    /// One event (dead, delivered or dropped).
    Event(i64),
    /// Every dead event of the account, or only of one webhook: its type and, for a
    /// subaccount's own webhook, its subaccount.
    Dead {
        kind: Option<WebhookKind>,
        sub_account_id: Option<SubAccountId>,
    },
    /// Every dead event created in `[from, to)`.
    Range {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
}

impl Redrive {
    /// Every dead event of the account.
    pub const ALL_DEAD: Self = Self::Dead {
        kind: None,
        sub_account_id: None,
    };
}

/// Filters for listing events, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    pub state: Option<EventState>,
    pub kind: Option<WebhookKind>,
    pub sub_account_id: Option<SubAccountId>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub to: Option<DateTime<Utc>>,
    /// Only events older than this id (the cursor of the previous page).
    pub before_id: Option<i64>,
    pub limit: u32,
}

/// How a customer's endpoint has been answering.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointHealth {
    pub account_id: AccountId,
    pub url: String,
    /// Every attempt since then failed; `None` once one succeeds.
    pub failing_since: Option<DateTime<Utc>>,
    /// Failing for longer than the configured period: probed at a slow pace.
    pub failing: bool,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}
