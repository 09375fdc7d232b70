//! What the database keeps about hosted files and log exports: the files themselves live
//! in `parley-media`'s storage, the database says who owns them, what they are, who may
//! read them and until when.

use chrono::{DateTime, Utc};
use parley_types::{AccountId, ChannelId, SubAccountId, Umid};

use crate::{Direction, MessageState};

/// Where a hosted file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileOrigin {
    /// `POST …/files`.
    Upload,
    /// Media a user sent, downloaded from WhatsApp and re-hosted.
    Inbound,
}

impl FileOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upload => "upload",
            Self::Inbound => "inbound",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "upload" => Some(Self::Upload),
            "inbound" => Some(Self::Inbound),
            _ => None,
        }
    }
}

/// A hosted file (`/files/{file_name}`). Written `pending` before its bytes go to storage
/// and marked ready after, so a crash in between leaves a row the cleaner finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedFile {
    /// 32 hex digits and an extension; also the storage key's last part.
    pub file_name: String,
    pub account_id: AccountId,
    pub sub_account_id: SubAccountId,
    pub mime: String,
    pub size: u64,
    pub origin: FileOrigin,
    /// SHA-256 (hex) of the download token; the token itself is never stored.
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    /// After this the file is no longer served and the cleaner removes it.
    pub expires_at: DateTime<Utc>,
}

/// Which messages a log page or an export wants. Every filter is optional but the
/// account; the order is newest first, ties broken by umid, so pages are stable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    pub account_id: Option<AccountId>,
    pub sub_account_id: Option<SubAccountId>,
    pub channel_id: Option<ChannelId>,
    pub direction: Option<Direction>,
    pub state: Option<MessageState>,
    /// ISO 3166 alpha-2 codes; empty: any country.
    pub countries: Vec<String>,
    pub umid: Option<Umid>,
    pub client_message_id: Option<String>,
    /// The user's number in E.164.
    pub msisdn: Option<String>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub to: Option<DateTime<Utc>>,
}

/// Where the previous page ended: the last message's creation time and umid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogCursor {
    pub created_at: DateTime<Utc>,
    pub umid: Umid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    /// Finished, but no message matched.
    Empty,
}

impl ExportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Empty => "empty",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::Running,
            Self::Succeeded,
            Self::Failed,
            Self::Cancelled,
            Self::Empty,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// A log export job (`POST …/messages/exports`).
#[derive(Debug, Clone, PartialEq)]
pub struct ExportJob {
    pub id: uuid::Uuid,
    pub account_id: AccountId,
    pub sub_account_id: SubAccountId,
    pub status: ExportStatus,
    /// The normalised request: the filter and the row limit (0: none), as JSON.
    pub request: serde_json::Value,
    /// Phone numbers and content written in the clear (the account allows it).
    pub unmasked: bool,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Set once it succeeded: the file, the token of its download link (kept, not
    /// hashed, so the status can show the link again until it expires), how many rows,
    /// and until when the link works.
    pub file_key: Option<String>,
    pub download_token: Option<String>,
    pub rows: Option<u64>,
    pub expires_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

/// How a running export ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportResult {
    Succeeded {
        file_key: String,
        download_token: String,
        rows: u64,
        expires_at: DateTime<Utc>,
    },
    Empty,
    Failed(String),
}
