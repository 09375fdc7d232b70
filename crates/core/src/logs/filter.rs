//! The log query: request parameters read into a store filter, pages continued by an
//! opaque cursor.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use parley_store::{Direction, LogCursor, LogFilter, Message, MessageState, SharedStore};
use parley_types::codes::SyncCode;
use parley_types::{AccountId, ChannelId, Msisdn, SubAccountId, Umid};
use serde::Deserialize;

use crate::{Error, Result};

/// Largest page the log query answers.
pub const MAX_PAGE: u32 = 500;
const DEFAULT_PAGE: u32 = 50;

/// The log query's parameters as they come in (`?subAccountId=…&status=…`).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogParams {
    pub sub_account_id: Option<String>,
    /// Only `whatsapp` (any case) today.
    pub channel: Option<String>,
    pub channel_id: Option<String>,
    pub direction: Option<String>,
    pub status: Option<String>,
    /// One or more ISO alpha-2 codes, comma-separated.
    pub country: Option<String>,
    pub umid: Option<String>,
    pub client_message_id: Option<String>,
    /// The user's number.
    pub recipient: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page_size: Option<u32>,
    pub cursor: Option<String>,
}

/// One page: the messages and, when more may follow, the cursor of the next page.
#[derive(Debug, Clone)]
pub struct LogPage {
    pub messages: Vec<Message>,
    pub next_cursor: Option<String>,
}

#[derive(Clone)]
pub struct LogQueryService {
    store: SharedStore,
}

fn invalid(field: &str, why: &str) -> Error {
    Error::invalid(
        SyncCode::InvalidParameter,
        format!("Invalid parameter(s): '{field}' {why}"),
    )
}

/// A time as 8x8's log APIs take it: `yyyy-MM-dd` (midnight UTC), a UTC date-time with
/// or without `Z`, or a date-time with an offset.
pub fn parse_time(field: &str, raw: &str) -> Result<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(at) = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(at.and_utc());
    }
    if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    Err(invalid(
        field,
        "must be yyyy-MM-dd, yyyy-MM-ddTHH:mm:ssZ or a date-time with an offset",
    ))
}

/// ISO alpha-2 country codes, upper-cased.
pub fn parse_countries<'a>(
    field: &str,
    codes: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>> {
    codes
        .into_iter()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            if c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()) {
                Ok(c.to_ascii_uppercase())
            } else {
                Err(invalid(
                    field,
                    "must hold two-letter ISO 3166 country codes",
                ))
            }
        })
        .collect()
}

pub fn parse_msisdn(field: &str, raw: &str) -> Result<String> {
    let trimmed = raw.trim();
    let with_plus = if trimmed.starts_with('+') {
        trimmed.to_owned()
    } else {
        format!("+{trimmed}")
    };
    Msisdn::parse(&with_plus, None)
        .map(|m| m.as_str().to_owned())
        .map_err(|_| invalid(field, "must be a phone number in E.164"))
}

fn encode_cursor(last: &Message) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{}.{}",
        last.created_at.timestamp_millis(),
        last.umid
    ))
}

fn decode_cursor(raw: &str) -> Result<LogCursor> {
    let bad = || invalid("cursor", "is not a cursor this API gave out");
    let text = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    let text = String::from_utf8(text).map_err(|_| bad())?;
    let (millis, umid) = text.split_once('.').ok_or_else(bad)?;
    let created_at = millis
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_millis)
        .ok_or_else(bad)?;
    let umid = umid.parse::<Umid>().map_err(|_| bad())?;
    Ok(LogCursor { created_at, umid })
}

impl LogQueryService {
    pub fn new(store: SharedStore) -> Self {
        Self { store }
    }

    /// A page of the account's messages, newest first.
    pub async fn page(&self, account: &AccountId, params: &LogParams) -> Result<LogPage> {
        let filter = filter_of(account, params)?;
        let after = params.cursor.as_deref().map(decode_cursor).transpose()?;
        let size = params.page_size.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let messages = self.store.query_messages(&filter, after, size).await?;
        let next_cursor = (messages.len() == size as usize)
            .then(|| messages.last().map(encode_cursor))
            .flatten();
        Ok(LogPage {
            messages,
            next_cursor,
        })
    }
}

fn filter_of(account: &AccountId, p: &LogParams) -> Result<LogFilter> {
    if let Some(channel) = &p.channel
        && !channel.eq_ignore_ascii_case("whatsapp")
    {
        return Err(invalid("channel", "must be whatsapp"));
    }
    let parse = |field: &str, raw: &Option<String>| {
        raw.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| (field.to_owned(), s.to_owned()))
    };
    Ok(LogFilter {
        account_id: Some(account.clone()),
        sub_account_id: parse("subAccountId", &p.sub_account_id)
            .map(|(f, s)| {
                SubAccountId::parse(&s).map_err(|_| invalid(&f, "is not a subaccount id"))
            })
            .transpose()?,
        channel_id: parse("channelId", &p.channel_id)
            .map(|(f, s)| {
                s.parse::<ChannelId>()
                    .map_err(|_| invalid(&f, "is not a channel id"))
            })
            .transpose()?,
        direction: parse("direction", &p.direction)
            .map(|(f, s)| {
                Direction::parse(&s.to_ascii_lowercase())
                    .ok_or_else(|| invalid(&f, "must be inbound or outbound"))
            })
            .transpose()?,
        state: parse("status", &p.status)
            .map(|(f, s)| {
                MessageState::parse(&s.to_ascii_lowercase()).ok_or_else(|| {
                    invalid(
                        &f,
                        "must be queued, sent, delivered, read, undelivered or received",
                    )
                })
            })
            .transpose()?,
        countries: match &p.country {
            Some(raw) => parse_countries("country", raw.split(','))?,
            None => Vec::new(),
        },
        umid: parse("umid", &p.umid)
            .map(|(f, s)| s.parse::<Umid>().map_err(|_| invalid(&f, "is not a umid")))
            .transpose()?,
        client_message_id: parse("clientMessageId", &p.client_message_id).map(|(_, s)| s),
        msisdn: parse("recipient", &p.recipient)
            .map(|(f, s)| parse_msisdn(&f, &s))
            .transpose()?,
        from: parse("from", &p.from)
            .map(|(f, s)| parse_time(&f, &s))
            .transpose()?,
        to: parse("to", &p.to)
            .map(|(f, s)| parse_time(&f, &s))
            .transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_are_read_in_each_form_8x8_documents() {
        let utc = |h| Utc.with_ymd_and_hms(2020, 7, 1, h, 0, 0).unwrap();
        assert_eq!(parse_time("from", "2020-07-01").unwrap(), utc(0));
        assert_eq!(parse_time("from", "2020-07-01T13:00:00").unwrap(), utc(13));
        assert_eq!(parse_time("from", "2020-07-01T13:00:00Z").unwrap(), utc(13));
        assert_eq!(
            parse_time("from", "2020-07-01T20:00:00+07:00").unwrap(),
            utc(13)
        );
        assert!(parse_time("from", "yesterday").is_err());
    }

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let umid = Umid::new();
        let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let raw = URL_SAFE_NO_PAD.encode(format!("{}.{umid}", at.timestamp_millis()));
        assert_eq!(
            decode_cursor(&raw).unwrap(),
            LogCursor {
                created_at: at,
                umid
            }
        );
        assert!(decode_cursor("nonsense").is_err());
    }
}
