//! The 8x8 message status and the rule that status updates only move forward.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageState {
    Queued,
    Sent,
    Delivered,
    Read,
    Undelivered,
    Received,
}

impl MessageState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Undelivered => "undelivered",
            Self::Received => "received",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::Sent,
            Self::Delivered,
            Self::Read,
            Self::Undelivered,
            Self::Received,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusDetail {
    DeliveredToOperator,
    DeliveredToRecipient,
    RejectedByOperator,
    UndeliveredToRecipient,
}

impl StatusDetail {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeliveredToOperator => "delivered_to_operator",
            Self::DeliveredToRecipient => "delivered_to_recipient",
            Self::RejectedByOperator => "rejected_by_operator",
            Self::UndeliveredToRecipient => "undelivered_to_recipient",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::DeliveredToOperator,
            Self::DeliveredToRecipient,
            Self::RejectedByOperator,
            Self::UndeliveredToRecipient,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// One observed status of a message, as 8x8 reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageStatus {
    pub state: MessageState,
    pub detail: Option<StatusDetail>,
    pub error_code: Option<u32>,
    pub error_message: Option<String>,
    /// Meta's own error code, kept as a string as 8x8 reports it.
    pub provider_error_code: Option<String>,
    pub at: DateTime<Utc>,
}

impl MessageStatus {
    /// 8x8's `status` object (`{state, detail, timestamp, errorCode, errorMessage}`), as
    /// message details, send responses and receipts show it.
    pub fn to_8x8(&self) -> serde_json::Value {
        let mut obj = serde_json::Map::new();
        obj.insert("state".into(), self.state.as_str().into());
        if let Some(detail) = self.detail {
            obj.insert("detail".into(), detail.as_str().into());
        }
        obj.insert(
            "timestamp".into(),
            parley_types::time::format_8x8(self.at).into(),
        );
        if let Some(code) = self.error_code {
            obj.insert("errorCode".into(), code.into());
        }
        if let Some(message) = &self.error_message {
            obj.insert("errorMessage".into(), message.clone().into());
        }
        serde_json::Value::Object(obj)
    }

    pub fn new(state: MessageState, at: DateTime<Utc>) -> Self {
        Self {
            state,
            detail: None,
            error_code: None,
            error_message: None,
            provider_error_code: None,
            at,
        }
    }

    /// `undelivered` for a reason Parley (or WhatsApp, with its code in `provider_code`)
    /// gives: 8x8's delivery error and a message saying what happened.
    pub fn undelivered(
        error: parley_types::codes::DeliveryError,
        message: String,
        provider_code: Option<u32>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            state: MessageState::Undelivered,
            detail: Some(StatusDetail::RejectedByOperator),
            error_code: Some(error.code),
            error_message: Some(message),
            provider_error_code: provider_code.map(|c| c.to_string()),
            at,
        }
    }

    pub fn with_detail(mut self, detail: StatusDetail) -> Self {
        self.detail = Some(detail);
        self
    }

    /// Whether the message reached the user's phone (what a charge waits for).
    pub fn reached_user(&self) -> bool {
        matches!(
            (self.state, self.detail),
            (MessageState::Read, _)
                | (
                    MessageState::Delivered,
                    Some(StatusDetail::DeliveredToRecipient)
                )
        )
    }

    /// Position in the lifecycle. Provider receipts arrive out of order and twice; a
    /// status only replaces one of lower rank, so `read` is never undone by a late
    /// `delivered`, and a failure after `sent` still lands.
    ///
    /// Time only moves forward too: WhatsApp dates its receipts to the whole second, so a
    /// `delivered` in the second the message was `sent` (…37.680) says …37. Both backends
    /// date a step no earlier than the step it follows, which keeps the history in the
    /// order things happened and still inside the second WhatsApp gave.
    pub fn rank(&self) -> i32 {
        match (self.state, self.detail) {
            (MessageState::Queued, _) => 0,
            (MessageState::Sent, _) => 1,
            (MessageState::Delivered, Some(StatusDetail::DeliveredToRecipient)) => 3,
            (MessageState::Delivered, _) => 2,
            (MessageState::Read, _) => 4,
            (MessageState::Undelivered, _) => 5,
            (MessageState::Received, _) => 6,
        }
    }
}
