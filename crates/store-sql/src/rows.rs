//! Rows as both SQL backends store them (times as epoch milliseconds, ids as text), and
//! their conversion into models. Shared so the two backends cannot drift apart.

use chrono::{DateTime, TimeZone, Utc};
use parley_types::{AccountId, ApiKeyId, ChannelId, ChannelKind, SubAccountId, Umid};

use crate::{
    Account, ApiKey, BatchRef, Channel, Direction, Message, MessagePricing, MessageState,
    MessageStatus, Origin, StatusDetail, StoreError, StoreResult, SubAccount,
};

/// Maps a driver error into the store's closed set. A broken constraint is the caller's
/// request clashing with stored data (retrying cannot help); a transaction that lost a race
/// may simply run again; decoding failures are corrupt rows; everything else is the
/// database being unreachable or refusing for now.
pub fn db_error(e: sqlx::Error) -> StoreError {
    use sqlx::error::ErrorKind;
    match &e {
        // PostgreSQL's deadlock_detected and serialization_failure.
        sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("40P01" | "40001")) => {
            StoreError::Contention(d.to_string())
        }
        sqlx::Error::Database(d) => match d.kind() {
            ErrorKind::UniqueViolation
            | ErrorKind::ForeignKeyViolation
            | ErrorKind::NotNullViolation
            | ErrorKind::CheckViolation => StoreError::Conflict(d.to_string()),
            _ => StoreError::Unavailable(e.to_string()),
        },
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_) => StoreError::Corrupt(e.to_string()),
        _ => StoreError::Unavailable(e.to_string()),
    }
}

pub fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub fn from_millis(ms: i64) -> StoreResult<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms}")))
}

fn parse<T: std::str::FromStr>(what: &str, raw: &str) -> StoreResult<T> {
    raw.parse()
        .map_err(|_| StoreError::Corrupt(format!("{what} {raw:?}")))
}

/// Umids as stored (text), checked.
pub fn umids(raw: &[String]) -> StoreResult<Vec<Umid>> {
    raw.iter().map(|u| parse::<Umid>("umid", u)).collect()
}

pub fn account_id(raw: &str) -> StoreResult<AccountId> {
    AccountId::parse(raw).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn sub_account_id(raw: &str) -> StoreResult<SubAccountId> {
    SubAccountId::parse(raw).map_err(|e| StoreError::Corrupt(e.to_string()))
}

#[derive(Debug, sqlx::FromRow)]
pub struct AccountRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

impl AccountRow {
    pub fn into_model(self) -> StoreResult<Account> {
        Ok(Account {
            id: account_id(&self.id)?,
            name: self.name,
            created_at: from_millis(self.created_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct SubAccountRow {
    pub id: String,
    pub account_id: String,
    pub created_at: i64,
}

impl SubAccountRow {
    pub fn into_model(self) -> StoreResult<SubAccount> {
        Ok(SubAccount {
            id: sub_account_id(&self.id)?,
            account_id: account_id(&self.account_id)?,
            created_at: from_millis(self.created_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct ChannelRow {
    pub id: String,
    pub kind: String,
    pub account_id: String,
    pub sub_account_id: String,
    pub business_number: String,
    pub waba_id: String,
    pub phone_number_id: String,
    pub created_at: i64,
}

impl ChannelRow {
    pub fn into_model(self) -> StoreResult<Channel> {
        Ok(Channel {
            id: parse::<ChannelId>("channel id", &self.id)?,
            kind: ChannelKind::parse(&self.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("channel kind {:?}", self.kind)))?,
            account_id: account_id(&self.account_id)?,
            sub_account_id: sub_account_id(&self.sub_account_id)?,
            business_number: self.business_number,
            waba_id: self.waba_id,
            phone_number_id: self.phone_number_id,
            created_at: from_millis(self.created_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl ApiKeyRow {
    pub fn into_model(self) -> StoreResult<ApiKey> {
        Ok(ApiKey {
            id: parse::<ApiKeyId>("api key id", &self.id)?,
            account_id: account_id(&self.account_id)?,
            name: self.name,
            prefix: self.prefix,
            created_at: from_millis(self.created_at)?,
            revoked_at: self.revoked_at.map(from_millis).transpose()?,
        })
    }
}

/// Columns of one status, as stored on the message (current) and in its history.
#[derive(Debug, sqlx::FromRow)]
pub struct StatusRow {
    pub state: String,
    pub detail: Option<String>,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
    pub provider_error_code: Option<String>,
    pub status_at: i64,
}

impl StatusRow {
    pub fn into_model(self) -> StoreResult<MessageStatus> {
        Ok(MessageStatus {
            state: MessageState::parse(&self.state)
                .ok_or_else(|| StoreError::Corrupt(format!("state {:?}", self.state)))?,
            detail: self
                .detail
                .as_deref()
                .map(|d| {
                    StatusDetail::parse(d)
                        .ok_or_else(|| StoreError::Corrupt(format!("detail {d:?}")))
                })
                .transpose()?,
            error_code: self.error_code.map(|c| c as u32),
            error_message: self.error_message,
            provider_error_code: self.provider_error_code,
            at: from_millis(self.status_at)?,
        })
    }
}

/// The status columns to bind, in the order `state, detail, error_code, error_message,
/// provider_error_code, status_at, status_rank`.
pub struct StatusColumns {
    pub state: &'static str,
    pub detail: Option<&'static str>,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
    pub provider_error_code: Option<String>,
    pub at: i64,
    pub rank: i32,
}

impl From<&MessageStatus> for StatusColumns {
    fn from(s: &MessageStatus) -> Self {
        Self {
            state: s.state.as_str(),
            detail: s.detail.map(StatusDetail::as_str),
            error_code: s.error_code.map(i64::from),
            error_message: s.error_message.clone(),
            provider_error_code: s.provider_error_code.clone(),
            at: millis(s.at),
            rank: s.rank(),
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct MessageRow {
    pub umid: String,
    pub account_id: String,
    pub sub_account_id: String,
    pub channel_id: String,
    pub direction: String,
    pub msisdn: String,
    pub country: Option<String>,
    pub content_type: String,
    pub content: String,
    pub client_message_id: Option<String>,
    pub reply_to: Option<String>,
    pub provider_message_id: Option<String>,
    pub user_name: Option<String>,
    #[sqlx(flatten)]
    pub status: StatusRow,
    pub created_at: i64,
    pub dlr_callback_url: Option<String>,
    pub channel_user_id: Option<String>,
    pub pricing_category: Option<String>,
    pub pricing_type: Option<String>,
    pub billable: Option<bool>,
    pub cost_micros: Option<i64>,
    pub batch_id: Option<String>,
    pub client_batch_id: Option<String>,
    pub scheduled_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub origin: Option<String>,
    pub origin_ref: Option<String>,
}

/// The columns a message is stored with when accepted or received.
macro_rules! inserted_message_columns {
    () => {
        "umid, account_id, sub_account_id, channel_id, direction, msisdn, country, \
         content_type, content, client_message_id, reply_to, provider_message_id, user_name, \
         state, detail, error_code, error_message, provider_error_code, status_at, created_at, \
         dlr_callback_url, channel_user_id"
    };
}

/// What only an accepted (outbound) message may carry: its batch and its timing.
macro_rules! outbound_message_columns {
    () => {
        "batch_id, client_batch_id, scheduled_at, expires_at, origin, origin_ref"
    };
}

/// The columns an `INSERT` of a received message names (then `status_rank`).
pub const MESSAGE_INSERT_COLUMNS: &str = inserted_message_columns!();

/// The columns an `INSERT` of an accepted message names (then `status_rank`).
pub const OUTBOUND_INSERT_COLUMNS: &str = concat!(
    inserted_message_columns!(),
    ", ",
    outbound_message_columns!()
);

/// The column list matching [`MessageRow`], for `SELECT`s: the inserted columns and
/// what receipts add later (the pricing).
pub const MESSAGE_COLUMNS: &str = concat!(
    inserted_message_columns!(),
    ", pricing_category, pricing_type, billable, cost_micros, ",
    outbound_message_columns!()
);

impl MessageRow {
    pub fn into_model(self) -> StoreResult<Message> {
        Ok(Message {
            umid: parse::<Umid>("umid", &self.umid)?,
            account_id: account_id(&self.account_id)?,
            sub_account_id: sub_account_id(&self.sub_account_id)?,
            channel_id: parse::<ChannelId>("channel id", &self.channel_id)?,
            direction: Direction::parse(&self.direction)
                .ok_or_else(|| StoreError::Corrupt(format!("direction {:?}", self.direction)))?,
            msisdn: self.msisdn,
            country: self.country,
            content_type: self.content_type,
            content: serde_json::from_str(&self.content)
                .map_err(|e| StoreError::Corrupt(format!("content: {e}")))?,
            client_message_id: self.client_message_id,
            reply_to: self
                .reply_to
                .as_deref()
                .map(|r| parse::<Umid>("reply_to", r))
                .transpose()?,
            provider_message_id: self.provider_message_id,
            user_name: self.user_name,
            status: self.status.into_model()?,
            created_at: from_millis(self.created_at)?,
            dlr_callback_url: self.dlr_callback_url,
            channel_user_id: self.channel_user_id,
            pricing: match (self.pricing_category, self.billable) {
                (Some(category), Some(billable)) => Some(MessagePricing {
                    category,
                    kind: self.pricing_type.unwrap_or_default(),
                    billable,
                    cost_micros: self.cost_micros,
                }),
                _ => None,
            },
            batch: self
                .batch_id
                .as_deref()
                .map(|id| {
                    Ok::<_, StoreError>(BatchRef {
                        id: parse::<uuid::Uuid>("batch id", id)?,
                        client_batch_id: self.client_batch_id,
                    })
                })
                .transpose()?,
            scheduled_at: self.scheduled_at.map(from_millis).transpose()?,
            expires_at: self.expires_at.map(from_millis).transpose()?,
            origin: self
                .origin
                .as_deref()
                .and_then(|kind| Origin::from_stored(kind, self.origin_ref.as_deref())),
        })
    }
}

/// After their heads (the umids `heads` selects) left the dispatch queue, the lanes (one
/// channel's messages to one recipient) move on to their next message, if any, with a fresh
/// count of attempts; with nothing left a lane rests without a head. A lane whose head is
/// not among `heads` (completed before) is untouched. `heads` is a condition on
/// `head_umid` in the backend's dialect.
pub fn advance_lanes_sql(heads: &str) -> String {
    format!(
        "UPDATE dispatch_lanes \
         SET lease_until = NULL, handed_off_at = NULL, attempts = 0, hold_reason = NULL, \
             head_umid = (SELECT q.umid FROM dispatch_queue q \
                 WHERE q.channel_id = dispatch_lanes.channel_id \
                   AND q.msisdn = dispatch_lanes.msisdn ORDER BY q.seq LIMIT 1), \
             ready_at = (SELECT q.next_attempt_at FROM dispatch_queue q \
                 WHERE q.channel_id = dispatch_lanes.channel_id \
                   AND q.msisdn = dispatch_lanes.msisdn ORDER BY q.seq LIMIT 1) \
         WHERE head_umid {heads}"
    )
}
