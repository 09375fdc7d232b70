//! The domain event log as the store speaks it: what an appended event says, a consumer's
//! checkpoint, and the counters consumers keep. Events are appended by the store itself,
//! in the transaction of the change they report; nothing outside the store writes them.

use chrono::{DateTime, NaiveDate, Utc};
use parley_types::{AccountId, ChannelId, SubAccountId};

use crate::{Direction, MessageStatus};

/// What changed. The names are stored (`events.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// An outbound message was accepted (its first status: `queued` or `scheduled`).
    MessageAccepted,
    /// A user's message arrived.
    MessageReceived,
    /// A message moved to a later status (sent, delivered, read, undelivered, …).
    MessageStatus,
    /// A delivered message was charged (`charge` says how much).
    MessageCharged,
    /// A template's review status, quality or category changed (or it was created).
    TemplateChanged,
    /// The provider reported a change to a business account or number.
    BusinessUpdated,
    /// A timer scheduled with `crates/jobs` came due (`timer` says which).
    TimerFired,
}

impl EventKind {
    pub const ALL: [Self; 7] = [
        Self::MessageAccepted,
        Self::MessageReceived,
        Self::MessageStatus,
        Self::MessageCharged,
        Self::TemplateChanged,
        Self::BusinessUpdated,
        Self::TimerFired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MessageAccepted => "message.accepted",
            Self::MessageReceived => "message.received",
            Self::MessageStatus => "message.status",
            Self::MessageCharged => "message.charged",
            Self::TemplateChanged => "template.changed",
            Self::BusinessUpdated => "business.updated",
            Self::TimerFired => "timer.fired",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }

    /// Whether the event is about one message (and carries [`StoredEvent::message`]).
    pub fn is_message(self) -> bool {
        matches!(
            self,
            Self::MessageAccepted
                | Self::MessageReceived
                | Self::MessageStatus
                | Self::MessageCharged
        )
    }
}

/// One event as read back from the log, with what its kind needs to be acted on.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// The event's place in the whole log; consumers checkpoint on it.
    pub seq: i64,
    pub kind: EventKind,
    pub account_id: AccountId,
    pub sub_account_id: Option<SubAccountId>,
    pub channel_id: Option<ChannelId>,
    /// The order key: a conversation (`m:<channel>:<msisdn>`), a template (`t:<id>`) or a
    /// business account (`b:<waba>`). Events with one key are read in the order appended.
    pub conversation: String,
    /// The umid, template id or WABA id the event is about.
    pub subject: String,
    pub at: DateTime<Utc>,
    /// For message events: the message and the status the event reports.
    pub message: Option<EventMessage>,
    /// For `message.charged`: the charge.
    pub charge: Option<EventCharge>,
    /// For `timer.fired`: the timer.
    pub timer: Option<EventTimer>,
}

/// The timer a `timer.fired` event reports (its `subject` is the timer's key).
#[derive(Debug, Clone, PartialEq)]
pub struct EventTimer {
    pub job_id: i64,
    pub queue: String,
    pub key: String,
    pub payload: serde_json::Value,
}

/// The message a message event is about, as it is now, and the status the event reported
/// (from the message's history, so a later change does not rewrite an earlier event).
#[derive(Debug, Clone, PartialEq)]
pub struct EventMessage {
    pub direction: Direction,
    pub msisdn: String,
    pub country: Option<String>,
    pub content_type: String,
    pub status: MessageStatus,
    /// Whether this status is the first with which the message reached the user
    /// (`delivered`, or `read` when no `delivered` came first).
    pub first_reach: bool,
    /// Whether the message has a receipt URL of its own (8x8's `dlrCallbackUrl`), which
    /// takes its receipts whatever webhooks the account has.
    pub own_receipt_url: bool,
}

/// What a `message.charged` event charged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventCharge {
    pub category: String,
    pub cost_micros: i64,
}

/// A stretch of the log read after a position. On PostgreSQL a sequence number may be
/// committed after a later one; `watch` remembers such a gap so the next read can tell
/// when it is safe to pass it. Hand it back to the next read as it was given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventRead {
    /// In `seq` order, with no event still in flight between them and the position read
    /// after.
    pub events: Vec<StoredEvent>,
    pub watch: Option<GapWatch>,
}

/// A gap in the sequence the reader waits on: every missing number up to `upto` is
/// either still being committed or lost to a rollback, and the answer is known once every
/// transaction older than `horizon` (a transaction id) has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GapWatch {
    pub upto: i64,
    pub horizon: i64,
}

/// Where a newly registered consumer starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumerStart {
    /// With the oldest event still kept.
    Beginning,
    /// With the next event appended (it is not interested in history).
    Head,
}

/// A consumer's registration, as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerState {
    pub name: String,
    pub position: i64,
    pub owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A counter's key: per subaccount, channel and UTC day, a metric (`accepted`,
/// `delivered`, `undelivered`, `read`, `received`, `charged`, `cost_micros`, …) and a
/// dimension of it (an error code, `category:country`, or empty).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CounterKey {
    pub account_id: AccountId,
    pub sub_account_id: SubAccountId,
    pub channel_id: ChannelId,
    pub day: NaiveDate,
    pub metric: String,
    pub dimension: String,
}

/// A counter and its value (or, handed to [`crate::EventStore::advance_consumer`], the
/// amount to add).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub key: CounterKey,
    pub value: i64,
}
